"""Jobs: one row per dictation, state moves as atomic transactions.

Every change leaves an event in the job's history, and checks in its own UPDATE
that the job is still in the state the change starts from (two hosts, or a
secretary and a worker, may act on one job at once): when it is not, nothing
changes and a ``StoreError`` says so. Claims by workers, and what they record
(drafted, failed, quarantined), are in ``claims``; this module also holds what
every part of the store shares about a job: reading one (``fetch_job``), its
history (``add_event``), and the order in which waiting jobs are taken
(``urgent_first``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transcribe.errors import JobNotFound, StoreError
from transcribe.patient_record.patients import name_key
from transcribe.records import DictationMetadata, Job, JobState, PatientProposal
from transcribe.store.database import StorePart
from transcribe.store.schema import job_events, jobs, patients, results

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


class Jobs(StorePart):
    """Dictations through their states: intake, quarantine and review outcomes, history and listings."""

    # --- intake -----------------------------------------------------------------
    def receive(
        self,
        *,
        audio_sha256: str,
        author: str,
        original_name: str,
        audio_path: Path,
        metadata: DictationMetadata | None = None,
    ) -> tuple[Job, bool]:
        """Record a received dictation; return its job and whether it is new.

        A new job waits in ``received`` until ``mark_queued`` says its audio is in
        the archive. The same audio (same hash) received again returns the
        existing job.
        """
        now = self._db.now()
        try:
            with self._db.transaction() as conn:
                existing = conn.execute(sa.select(jobs).where(jobs.c.audio_sha256 == audio_sha256)).first()
                if existing is not None:
                    add_event(conn, existing.id, self._db.now(), "duplicate-received", None, None)
                    return job_from_row(existing), False
                job_id: int = conn.execute(
                    jobs.insert().values(
                        audio_sha256=audio_sha256,
                        author=author,
                        original_name=original_name,
                        audio_path=str(audio_path),
                        state=JobState.RECEIVED.value,
                        attempts=0,
                        created_at=now,
                        updated_at=now,
                        metadata_json=json.dumps(metadata.to_json(), ensure_ascii=False) if metadata else None,
                        worktype=metadata.worktype if metadata else None,
                        priority=metadata.priority if metadata else "normal",
                        due_date=metadata.due_date.isoformat() if metadata and metadata.due_date else None,
                        report_version=0,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                add_event(conn, job_id, self._db.now(), "received", None, None)
                return fetch_job(conn, job_id), True
        except sa.exc.IntegrityError:
            # another host took the same recording at the same moment: on PostgreSQL both saw no job with this
            # hash and the second insert failed on the unique hash; the first one's job is the job
            with self._db.transaction() as conn:
                existing = conn.execute(sa.select(jobs).where(jobs.c.audio_sha256 == audio_sha256)).first()
                if existing is None:
                    raise
                add_event(conn, existing.id, self._db.now(), "duplicate-received", None, None)
                return job_from_row(existing), False

    def mark_queued(self, job_id: int) -> Job:
        """Make a received job, whose audio is now archived, available to workers."""
        with self._db.transaction() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == JobState.RECEIVED.value)
                .values(state=JobState.QUEUED.value, updated_at=self._db.now())
            )
            return fetch_job(conn, job_id)

    def attach_metadata(self, job_id: int, metadata: DictationMetadata, *, detail: str) -> bool:
        """Give a queued job the metadata of a sidecar that came after its audio; False if it is not queued any more.

        Either way the job's history says that the sidecar came ("sidecar-attached" or "sidecar-too-late").
        """
        with self._db.transaction() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == JobState.QUEUED.value)
                .values(
                    metadata_json=json.dumps(metadata.to_json(), ensure_ascii=False),
                    worktype=metadata.worktype,
                    priority=metadata.priority,
                    due_date=metadata.due_date.isoformat() if metadata.due_date else None,
                    **({"author": metadata.author} if metadata.author else {}),
                    updated_at=self._db.now(),
                )
            ).rowcount
            add_event(conn, job_id, self._db.now(), "sidecar-attached" if done else "sidecar-too-late", None, detail)
            return done == 1

    # --- outcomes ---------------------------------------------------------------
    def requeue(self, job_id: int, *, audio_path: Path, audit: AuditWriter | None = None) -> Job:
        """Send a quarantined job back to the queue with fresh attempts (``audit``: who, in the same transaction)."""
        now = self._db.now()
        with self._db.transaction() as conn:
            _change_state(
                conn,
                job_id,
                (JobState.QUARANTINED,),
                "not quarantined: only a quarantined job can be requeued",
                state=JobState.QUEUED.value,
                attempts=0,
                next_try_at=None,
                audio_path=str(audio_path),
                updated_at=now,
            )
            add_event(conn, job_id, self._db.now(), "requeued", audit.actor if audit else None, None)
            if audit is not None:
                audit.record_in(conn, "requeued", job_id)
            return fetch_job(conn, job_id)

    # --- review outcomes -------------------------------------------------------
    def queue_again(self, job_id: int, by: str | None, reason: str, *, audit: AuditWriter | None = None) -> Job:
        """Send a drafted (not yet validated) job back to the engine: a re-run after the vocabulary or model changed."""
        with self._db.transaction() as conn:
            _change_state(
                conn,
                job_id,
                (JobState.DRAFTED, JobState.RETURNED),
                "only a draft not yet validated is run again",
                state=JobState.QUEUED.value,
                attempts=0,
                next_try_at=None,
                updated_at=self._db.now(),
            )
            add_event(conn, job_id, self._db.now(), "rerun", by, reason)
            if audit is not None:
                audit.record_in(conn, "rerun", job_id, reason[:200])
            return fetch_job(conn, job_id)

    def return_to_author(self, job_id: int, comment: str, by: str, *, audit: AuditWriter | None = None) -> Job:
        """Send a draft back to its author with a comment; it leaves the review queue."""
        with self._db.transaction() as conn:
            _change_state(
                conn,
                job_id,
                (JobState.DRAFTED,),
                "only a draft waiting for review can be returned",
                state=JobState.RETURNED.value,
                return_comment=comment,
                updated_at=self._db.now(),
            )
            add_event(conn, job_id, self._db.now(), "returned", by, None)
            if audit is not None:  # the comment stays on the job: it may name the patient
                audit.record_in(conn, "returned", job_id)
            return fetch_job(conn, job_id)

    def resubmit(self, job_id: int, by: str, *, audit: AuditWriter | None = None) -> Job:
        """The author sends a returned report back to the review queue."""
        with self._db.transaction() as conn:
            _change_state(
                conn,
                job_id,
                (JobState.RETURNED,),
                "not returned",
                state=JobState.DRAFTED.value,
                updated_at=self._db.now(),
            )
            add_event(conn, job_id, self._db.now(), "resubmitted", by, None)
            if audit is not None:
                audit.record_in(conn, "resubmitted", job_id)
            return fetch_job(conn, job_id)

    # --- reading ----------------------------------------------------------------
    def get(self, job_id: int) -> Job:
        """The job with this id."""
        with self._db.reading() as conn:
            return fetch_job(conn, job_id)

    def list_jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[Job]:
        """The newest jobs first, optionally in one state."""
        query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(jobs.c.state == state.value)
        with self._db.reading() as conn:
            return [job_from_row(row) for row in conn.execute(query)]

    def review_queue(
        self,
        *,
        states: tuple[JobState, ...] = (JobState.DRAFTED,),
        author: str | None = None,
        worktype: str | None = None,
        language: str | None = None,
        patient: str | None = None,
        limit: int = 500,
    ) -> list[Job]:
        """Reports waiting for review: urgent first, then by due date, then oldest; with the secretary's filters."""
        query = (
            sa.select(jobs).where(jobs.c.state.in_([s.value for s in states])).order_by(*urgent_first()).limit(limit)
        )
        if author:
            query = query.where(jobs.c.author == author)
        if worktype:
            query = query.where(jobs.c.worktype == worktype)
        if language:
            query = query.where(jobs.c.language == language)
        if patient:
            key = name_key(patient)
            matching = sa.select(patients.c.patient_id).where(
                sa.or_(patients.c.patient_id == patient.strip(), patients.c.family_key.like(f"%{key}%"))
            )
            query = query.where(jobs.c.patient_id.in_(matching))
        with self._db.reading() as conn:
            return [job_from_row(row) for row in conn.execute(query)]

    def jobs_of_author(self, author: str, limit: int = 200) -> list[Job]:
        """A doctor's own dictations, newest first."""
        with self._db.reading() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.author == author).order_by(jobs.c.id.desc()).limit(limit))
            return [job_from_row(row) for row in rows]

    def count_by_state(self) -> dict[JobState, int]:
        """How many jobs are in each state."""
        with self._db.reading() as conn:
            rows = conn.execute(sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state))
            return {JobState(state): count for state, count in rows}

    def authors(self) -> list[str]:
        """Every author who has dictated, in alphabetical order."""
        with self._db.reading() as conn:
            return list(conn.scalars(sa.select(jobs.c.author).distinct().order_by(jobs.c.author)))

    def ages_by_state(self, states: tuple[JobState, ...], *, author: str | None = None) -> list[tuple[JobState, float]]:
        """The jobs in these states (of one author, or all), each as (state, when it was received): the backlog."""
        query = sa.select(jobs.c.state, jobs.c.created_at).where(jobs.c.state.in_([s.value for s in states]))
        if author is not None:
            query = query.where(jobs.c.author == author)
        with self._db.reading() as conn:
            return [(JobState(state), created_at) for state, created_at in conn.execute(query)]

    def first_events(
        self, names: tuple[str, ...], *, since: float = 0.0, author: str | None = None
    ) -> dict[int, dict[str, float]]:
        """For each job received since then (of one author, or all), when each of these events first happened to it."""
        query = (
            sa.select(job_events.c.job_id, job_events.c.event, sa.func.min(job_events.c.at))
            .join(jobs, jobs.c.id == job_events.c.job_id)
            .where(job_events.c.event.in_(names), jobs.c.created_at >= since)
            .group_by(job_events.c.job_id, job_events.c.event)
        )
        if author is not None:
            query = query.where(jobs.c.author == author)
        found: dict[int, dict[str, float]] = {}
        with self._db.reading() as conn:
            for job_id, event, at in conn.execute(query):
                found.setdefault(job_id, {})[event] = at
        return found

    def events(self, job_id: int) -> list[tuple[float, str, str | None, str | None]]:
        """The history of one job: (time, event, actor, detail), oldest first."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(job_events.c.at, job_events.c.event, job_events.c.actor, job_events.c.detail)
                .where(job_events.c.job_id == job_id)
                .order_by(job_events.c.id)
            )
            return [(row[0], row[1], row[2], row[3]) for row in rows]

    def results_of(self, job_id: int) -> dict[str, Path]:
        """The newest output of each kind for one job."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(results.c.kind, results.c.path).where(results.c.job_id == job_id).order_by(results.c.id)
            )
            return {kind: Path(path) for kind, path in rows}


def fetch_job(conn: Connection, job_id: int) -> Job:
    """The job with this id, read on an open connection; JobNotFound if there is none."""
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise JobNotFound(f"no job {job_id}; 'transcribe jobs' lists the jobs")
    return job_from_row(row)


def _change_state(conn: Connection, job_id: int, states: tuple[JobState, ...], refusal: str, **values: Any) -> None:
    """Change a job that is in one of ``states``, checked in the UPDATE itself; else raise saying what it is now."""
    changed = conn.execute(
        jobs.update().where(jobs.c.id == job_id, jobs.c.state.in_([s.value for s in states])).values(**values)
    ).rowcount
    if changed != 1:
        now = fetch_job(conn, job_id)  # JobNotFound when there is no such job
        raise StoreError(f"job {job_id} is {now.state.value}: {refusal}")


def add_event(conn: Connection, job_id: int, at: float, event: str, actor: str | None, detail: str | None) -> None:
    """Add an entry to the history of a job."""
    conn.execute(job_events.insert().values(job_id=job_id, at=at, event=event, actor=actor, detail=detail))


def job_from_row(row: Any) -> Job:
    """A row of the jobs table as a ``Job``."""
    return Job(
        id=row.id,
        audio_sha256=row.audio_sha256,
        author=row.author,
        original_name=row.original_name,
        audio_path=Path(row.audio_path),
        state=JobState(row.state),
        attempts=row.attempts,
        error=row.error,
        duration_s=row.duration_s,
        language=row.language,
        model=row.model,
        options=json.loads(row.options_json) if row.options_json else None,
        created_at=datetime.fromtimestamp(row.created_at, UTC),
        updated_at=datetime.fromtimestamp(row.updated_at, UTC),
        claimed_by=row.claimed_by,
        lease_until=datetime.fromtimestamp(row.lease_until, UTC) if row.lease_until else None,
        vocabulary_version=row.vocabulary_version,
        flag_count=row.flag_count or 0,
        worktype=row.worktype,
        priority=row.priority or "normal",
        due_date=row.due_date,
        metadata=DictationMetadata.from_json(json.loads(row.metadata_json) if row.metadata_json else None),
        patient_id=row.patient_id,
        identity=PatientProposal.from_json(json.loads(row.identity_json) if row.identity_json else None),
        report_version=row.report_version or 0,
        filing_error=row.filing_error,
        return_comment=row.return_comment,
        next_try_at=datetime.fromtimestamp(row.next_try_at, UTC) if row.next_try_at else None,
    )


def urgent_first() -> tuple[Any, ...]:
    """The order in which waiting dictations are taken: urgent first, then by due date, then oldest."""
    return (
        sa.case((jobs.c.priority == "urgent", 0), else_=1),
        sa.case((jobs.c.due_date.is_(None), 1), else_=0),
        jobs.c.due_date,
        jobs.c.created_at,
        jobs.c.id,
    )
