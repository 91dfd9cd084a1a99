"""Validated reports and their filing records: each validation is a new version; filing records where it went.

A validated job waits in ``validated`` until a filing records that its version
lies in the patient's record; a filing that failed keeps its error and is tried
again. Each change checks in its UPDATE that the job is still where it was read
(state, report version): a secretary validating while another does, or two hosts
filing the same report, never record over each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transcribe.errors import StoreError
from transcribe.records import Filing, Job, JobState, PatientFiling, ValidatedReport
from transcribe.store.codes import codes_of_version, keep_chosen_codes
from transcribe.store.database import StorePart
from transcribe.store.jobs import add_event, fetch_job, job_from_row
from transcribe.store.schema import filings, jobs, reports

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


class ValidatedReports(StorePart):
    """Report versions as validated, and where each was filed."""

    def validate(
        self,
        job_id: int,
        *,
        text: str,
        patient_id: str,
        validated_by: str,
        worktype: str,
        language: str | None,
        identity_confirmed_by: str | None,
        copies: list[str],
        recipient: str = "",
        audit: AuditWriter | None = None,
    ) -> Job:
        """Record a validated report (a new version if the job was validated before); the job waits to be filed.

        The codes accepted for the report so far are kept with this version (``codes.keep_chosen_codes``)."""
        now = self._db.now()
        with self._db.transaction() as conn:
            job = fetch_job(conn, job_id)
            if job.state not in (JobState.DRAFTED, JobState.VALIDATED, JobState.FILED):
                raise StoreError(f"job {job_id} is {job.state.value}: only a drafted report can be validated")
            version = job.report_version + 1
            changed = conn.execute(
                jobs.update()
                .where(
                    jobs.c.id == job_id,
                    jobs.c.state == job.state.value,
                    sa.func.coalesce(jobs.c.report_version, 0) == job.report_version,
                )
                .values(
                    state=JobState.VALIDATED.value,
                    report_version=version,
                    patient_id=patient_id,
                    worktype=worktype,
                    filing_error=None,
                    updated_at=now,
                )
            ).rowcount
            if changed != 1:
                raise StoreError(f"job {job_id} changed while it was being validated; open it again and validate it")
            conn.execute(
                reports.insert().values(
                    job_id=job_id,
                    version=version,
                    worktype=worktype,
                    language=language,
                    text=text,
                    patient_id=patient_id,
                    validated_by=validated_by,
                    validated_at=now,
                    identity_confirmed_by=identity_confirmed_by,
                    copies_json=json.dumps(copies, ensure_ascii=False),
                    recipient=recipient,
                )
            )
            keep_chosen_codes(conn, job_id, version)  # the codes chosen so far travel with this version
            add_event(conn, job_id, self._db.now(), "validated", validated_by, f"version {version}")
            if audit is not None:
                by = "" if audit.actor == validated_by else f", validator {validated_by}"
                audit.record_in(conn, "validated", job_id, f"version {version}{by}")
            return fetch_job(conn, job_id)

    def report(self, job_id: int, version: int | None = None) -> ValidatedReport | None:
        """A validated report of a job (the newest when no version is given), with the codes kept with that
        version (``ChosenCode``, diagnoses first) for the filed record and its formats."""
        query = sa.select(reports).where(reports.c.job_id == job_id)
        query = query.where(reports.c.version == version) if version else query.order_by(reports.c.version.desc())
        with self._db.reading() as conn:
            row = conn.execute(query.limit(1)).first()
            if row is None:
                return None
            codes = codes_of_version(conn, job_id, row.version)
        return ValidatedReport(
            job_id=row.job_id,
            version=row.version,
            worktype=row.worktype,
            language=row.language,
            text=row.text,
            patient_id=row.patient_id,
            validated_by=row.validated_by,
            validated_at=row.validated_at,
            identity_confirmed_by=row.identity_confirmed_by,
            recipient=row.recipient,
            copies=tuple(str(c) for c in json.loads(row.copies_json or "[]")),
            codes=tuple(codes),
        )

    def filing(self, job_id: int, version: int) -> Filing | None:
        """Where a report version was filed, if it was (``formats``: each exchange format's path, or why refused)."""
        with self._db.reading() as conn:
            row = conn.execute(
                sa.select(filings).where(filings.c.job_id == job_id, filings.c.version == version)
            ).first()
        return _filing(row) if row else None

    def filings_of_patient(self, patient_id: str) -> list[PatientFiling]:
        """Every report version filed for a patient, oldest first, each with its report (author, worktype, dates).

        Only the filings recorded for this very patient: a report filed for another patient and validated
        again for this one contributes only its versions filed here.
        """
        query = (
            sa.select(
                filings,
                reports.c.worktype,
                reports.c.validated_at,
                reports.c.validated_by,
                jobs.c.author,
                jobs.c.audio_sha256,
                jobs.c.audio_path,
                jobs.c.original_name,
            )
            .join(reports, sa.and_(reports.c.job_id == filings.c.job_id, reports.c.version == filings.c.version))
            .join(jobs, jobs.c.id == filings.c.job_id)
            .where(filings.c.patient_id == patient_id, reports.c.patient_id == patient_id)
            .order_by(filings.c.filed_at, filings.c.job_id, filings.c.version)
        )
        with self._db.reading() as conn:
            return [
                PatientFiling(
                    _filing(row),
                    row.worktype,
                    row.validated_at,
                    row.validated_by,
                    row.author,
                    row.audio_sha256,
                    row.audio_path,
                    row.original_name,
                )
                for row in conn.execute(query)
            ]

    def record_filing(
        self,
        job_id: int,
        version: int,
        *,
        patient_id: str,
        docx_path: Path,
        pdf_path: Path | None,
        sidecar_path: Path,
        formats: dict[str, dict[str, str]] | None = None,
        audit: AuditWriter | None = None,
    ) -> bool:
        """Record that a report version lies in the patient's record; the job is filed (unless validated again since).

        False if that version's filing was already recorded: another host filed it at the same time.
        """
        now = self._db.now()
        try:
            with self._db.transaction() as conn:
                self._record_filing(conn, job_id, version, now, patient_id, docx_path, pdf_path, sidecar_path)
                conn.execute(
                    filings.update()
                    .where(filings.c.job_id == job_id, filings.c.version == version)
                    .values(formats_json=json.dumps(formats or {}, ensure_ascii=False))
                )
                refused = sorted(name for name, outcome in (formats or {}).items() if "refused" in outcome)
                if refused:
                    add_event(conn, job_id, now, "formats-refused", None, ", ".join(refused))
                if audit is not None:
                    audit.record_in(conn, "filed", job_id, f"version {version}")
        except sa.exc.IntegrityError:  # the filings table holds one row per (job, version)
            return False
        return True

    def _record_filing(
        self,
        conn: Connection,
        job_id: int,
        version: int,
        now: float,
        patient_id: str,
        docx_path: Path,
        pdf_path: Path | None,
        sidecar_path: Path,
    ) -> None:
        conn.execute(
            filings.insert().values(
                job_id=job_id,
                version=version,
                patient_id=patient_id,
                docx_path=str(docx_path),
                pdf_path=str(pdf_path) if pdf_path else None,
                sidecar_path=str(sidecar_path),
                filed_at=now,
            )
        )
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.state == JobState.VALIDATED.value, jobs.c.report_version == version)
            .values(state=JobState.FILED.value, filing_error=None, updated_at=now)
        )
        add_event(conn, job_id, self._db.now(), "filed", None, f"version {version}")

    def record_filing_error(self, job_id: int, error: str, *, audit: AuditWriter | None = None, code: str = "") -> None:
        """Keep why filing failed; the report stays validated and waits (nothing is kept on a job filed since).

        ``audit`` writes an entry (with ``code``, a short reason) when the error kept is a new one: a
        report the service tries again and again leaves one entry per reason, not one per try.
        """
        with self._db.transaction() as conn:
            before = conn.scalar(sa.select(jobs.c.filing_error).where(jobs.c.id == job_id))
            changed = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == JobState.VALIDATED.value)
                .values(filing_error=error, updated_at=self._db.now())
            ).rowcount
            if changed:
                add_event(conn, job_id, self._db.now(), "filing-failed", None, error)
            if changed and audit is not None and before != error:
                audit.record_in(conn, "filing-failed", job_id, code or None)

    def waiting_to_be_filed(self) -> list[Job]:
        """Validated reports not filed yet (a filing that failed is tried again)."""
        with self._db.reading() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.state == JobState.VALIDATED.value).order_by(jobs.c.id))
            return [job_from_row(row) for row in rows]

    def filed_texts_of_author(self, author: str, language: str, *, limit: int = 20) -> list[str]:
        """The texts of an author's filed reports in a language, newest first (what the author dictates about)."""
        query = (
            sa.select(reports.c.text)
            .join(filings, sa.and_(filings.c.job_id == reports.c.job_id, filings.c.version == reports.c.version))
            .join(jobs, jobs.c.id == reports.c.job_id)
            .where(jobs.c.author == author, jobs.c.language == language)
            .order_by(filings.c.filed_at.desc())
            .limit(limit)
        )
        with self._db.reading() as conn:
            return [row.text for row in conn.execute(query)]

    def filed_texts_of_patient(self, patient_id: str, *, limit: int = 10) -> list[str]:
        """The texts of a patient's filed reports, newest first (what the engine may hear again about them)."""
        query = (
            sa.select(reports.c.text)
            .join(filings, sa.and_(filings.c.job_id == reports.c.job_id, filings.c.version == reports.c.version))
            .where(filings.c.patient_id == patient_id)
            .order_by(filings.c.filed_at.desc())
            .limit(limit)
        )
        with self._db.reading() as conn:
            return [row.text for row in conn.execute(query)]


def _filing(row: Any) -> Filing:
    return Filing(
        job_id=row.job_id,
        version=row.version,
        patient_id=row.patient_id,
        docx_path=row.docx_path,
        pdf_path=row.pdf_path,
        sidecar_path=row.sidecar_path,
        filed_at=row.filed_at,
        formats=json.loads(row.formats_json or "{}"),
    )
