"""What the store keeps of a patient's right of access and of the site's retention policy.

``patient_exports``: each request for a patient's records (who, when, with the audio or not) and,
once the archive is written, how many report versions and recordings it holds and its sha256.
``retention_actions``: each recording or set of drafts the retention policy deleted, with the
sha256 of what was deleted, the dates (filed, due, deleted), who ran it and the policy applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from transcribe.records import JobState
from transcribe.store.database import StorePart
from transcribe.store.jobs import add_event
from transcribe.store.schema import filings, jobs, patient_exports, retention_actions

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


@dataclass(frozen=True)
class FiledJob:
    """A filed report's job as the retention policy sees it: when its newest version was filed, what it kept."""

    job_id: int
    audio_sha256: str
    audio_path: str
    filed_at: float


@dataclass(frozen=True)
class Removal:
    """What the retention policy deleted of one job, and when, by whom, under which policy."""

    job_id: int
    kind: str
    sha256: str
    filed_at: float
    due_at: float
    removed_at: float
    removed_by: str
    policy: str


@dataclass(frozen=True)
class PatientExport:
    """A request for a patient's records and, once its archive was written, what the archive holds."""

    id: int
    patient_id: str
    requested_by: str
    requested_at: float
    with_audio: bool
    exported_at: float | None
    reports: int | None
    recordings: int | None
    sha256: str | None


class Keeping(StorePart):
    """Exports of a patient's records, and what retention deleted."""

    def record_export_request(
        self, patient_id: str, requested_by: str, *, with_audio: bool, audit: AuditWriter | None = None
    ) -> int:
        """Keep that someone asked for a patient's records (audited in the same transaction); the request's id."""
        with self._db.transaction() as conn:
            inserted = conn.execute(
                patient_exports.insert().values(
                    patient_id=patient_id, requested_by=requested_by, requested_at=self._db.now(), with_audio=with_audio
                )
            ).inserted_primary_key
            export_id = int(inserted[0]) if inserted else 0
            if audit is not None:
                audit.record_in(conn, "export-requested", None, f"export {export_id}, patient {patient_id}")
        return int(export_id)

    def record_export_done(
        self, export_id: int, *, reports: int, recordings: int, sha256: str, audit: AuditWriter | None = None
    ) -> None:
        """Keep that a requested export was written: what it holds and its sha256 (audited)."""
        with self._db.transaction() as conn:
            conn.execute(
                patient_exports.update()
                .where(patient_exports.c.id == export_id)
                .values(exported_at=self._db.now(), reports=reports, recordings=recordings, sha256=sha256)
            )
            if audit is not None:
                detail = f"export {export_id}: {reports} report file(s), {recordings} recording(s)"
                audit.record_in(conn, "patient-exported", None, detail)

    def exports_of(self, patient_id: str) -> list[PatientExport]:
        """The exports asked for a patient, oldest first."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(patient_exports)
                .where(patient_exports.c.patient_id == patient_id)
                .order_by(patient_exports.c.id)
            )
            return [PatientExport(**row._mapping) for row in rows]

    def filed_jobs(self) -> list[FiledJob]:
        """Every filed job, with when its newest version was filed."""
        newest = (
            sa.select(filings.c.job_id, sa.func.max(filings.c.filed_at).label("filed_at"))
            .group_by(filings.c.job_id)
            .subquery()
        )
        query = (
            sa.select(jobs.c.id, jobs.c.audio_sha256, jobs.c.audio_path, newest.c.filed_at)
            .join(newest, newest.c.job_id == jobs.c.id)
            .where(jobs.c.state == JobState.FILED.value)
            .order_by(jobs.c.id)
        )
        with self._db.reading() as conn:
            return [FiledJob(row.id, row.audio_sha256, row.audio_path, row.filed_at) for row in conn.execute(query)]

    def removals(self, job_id: int | None = None) -> list[Removal]:
        """What retention deleted (of one job, or of all)."""
        query = sa.select(retention_actions).order_by(retention_actions.c.id)
        if job_id is not None:
            query = query.where(retention_actions.c.job_id == job_id)
        with self._db.reading() as conn:
            return [
                Removal(r.job_id, r.kind, r.sha256, r.filed_at, r.due_at, r.removed_at, r.removed_by, r.policy)
                for r in conn.execute(query)
            ]

    def record_removal(self, removal: Removal, *, audit: AuditWriter | None = None) -> None:
        """Keep what retention deleted of a job (a job event and, with ``audit``, an audit entry, in one transaction)."""
        with self._db.transaction() as conn:
            conn.execute(
                retention_actions.insert().values(
                    job_id=removal.job_id,
                    kind=removal.kind,
                    sha256=removal.sha256,
                    filed_at=removal.filed_at,
                    due_at=removal.due_at,
                    removed_at=removal.removed_at,
                    removed_by=removal.removed_by,
                    policy=removal.policy,
                )
            )
            add_event(
                conn, removal.job_id, removal.removed_at, f"{removal.kind}-removed", removal.removed_by, removal.policy
            )
            if audit is not None:
                audit.record_in(conn, f"retention-{removal.kind}", removal.job_id, removal.policy)
