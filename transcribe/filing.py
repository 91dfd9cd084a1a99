"""Filing: a validated report goes into the patient's record under ``outbox/``, safely.

``outbox/<patient-id>_<FAMILY>/<YYYY-MM-DD>_<worktype>_<job>.docx`` (the pattern is
``filing.path``), with a JSON sidecar and, when ``filing.pdf`` is on, a PDF copy.

- Atomic: each file is written whole under a temporary name in the target
  folder, synced, then linked to its final name; a crash leaves no half file.
- Never overwrites: a corrected report (validated again) is filed as version 2
  beside version 1 (``..._v2.docx``); a name already taken is never replaced.
- Idempotent: filing a version already filed does nothing. A crash after the
  document was placed but before the store knew is recognised and recorded.
- A failure (disk full, read-only folder) leaves the report validated and
  waiting, with the reason; ``transcribe file ID`` or the service tries again.
"""

from __future__ import annotations

import errno
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .atomic import ensure_folder, write_new
from .errors import FilingError, IdentityMismatch
from .patients import PatientRecord
from .records import Job, JobState
from .report import (
    RenderFailed,
    convert_to_pdf,
    organise,
    people_of,
    render_docx,
    template_path,
)
from .settings import Settings
from .store import JobStore
from .validation import identity_problems
from .vocabulary import Vocabulary, fold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiledReport:
    """Where a report version lies in the patient's record."""

    job_id: int
    version: int
    docx: Path
    pdf: Path | None
    sidecar: Path
    already_filed: bool = False


def record_name(pattern: str, *, patient: PatientRecord, day: date, worktype: str, job_id: int, author: str) -> str:
    """The report's path inside the outbox, without extension, from the ``filing.path`` pattern."""
    fields = {
        "patient_id": patient.patient_id,
        "FAMILY": _safe(fold(patient.family_name).upper()),
        "family": _safe(fold(patient.family_name).lower()),
        "given": _safe(fold(patient.given_names).lower()),
        "date": day.isoformat(),
        "worktype": worktype,
        "job": str(job_id),
        "author": _safe(author),
    }
    parts = [_safe(part) for part in pattern.format(**fields).split("/")]
    return "/".join(p for p in parts if p)


def _safe(text: str) -> str:
    text = re.sub(r"[^\w.-]+", "-", text).strip("-.")
    return text[:80] or "x"


def file_report(settings: Settings, store: JobStore, vocabulary: Vocabulary, job_id: int) -> FiledReport:
    """File the newest validated version of a job's report into its patient's record."""
    job = store.get(job_id)
    if job.state not in (JobState.VALIDATED, JobState.FILED) or job.report_version == 0:
        raise FilingError(
            f"job {job_id} is {job.state.value}: only a validated report is filed "
            f"(validate it first: transcribe validate {job_id})"
        )
    version = job.report_version
    done = store.filing(job_id, version)
    if done is not None:
        return FiledReport(
            job_id,
            version,
            Path(done["docx_path"]),
            Path(done["pdf_path"]) if done["pdf_path"] else None,
            Path(done["sidecar_path"]),
            already_filed=True,
        )
    report = store.report(job_id, version)
    if report is None:
        raise FilingError(f"job {job_id}: validated version {version} not found in the store")
    patient = store.patient(report["patient_id"])
    if patient is None:
        raise FilingError(
            f"job {job_id}: patient {report['patient_id']} is no longer in the index; import the index again, then file"
        )
    if identity_problems(job, patient.patient_id, store) and not report["identity_confirmed_by"]:
        raise IdentityMismatch(
            f"job {job_id}: the dictated identity disagrees with patient {patient.patient_id} "
            "and nobody confirmed it: the identity must be confirmed when the report is validated"
        )
    try:
        filed = _place(settings, store, vocabulary, job, report, patient)
    except RenderFailed as e:
        store.record_filing_error(job_id, str(e))
        raise FilingError(f"job {job_id} could not be filed: {e}. The report stays validated") from e
    except OSError as e:
        reason = _disk_reason(e)
        store.record_filing_error(job_id, reason)
        raise FilingError(
            f"job {job_id} could not be filed: {reason}. The report stays validated; "
            f"fix the outbox, then run 'transcribe file {job_id}'"
        ) from e
    store.record_filing(
        job_id,
        version,
        patient_id=patient.patient_id,
        docx_path=filed.docx,
        pdf_path=filed.pdf,
        sidecar_path=filed.sidecar,
    )
    log.info("job %d version %d filed", job_id, version)
    return filed


def _place(
    settings: Settings,
    store: JobStore,
    vocabulary: Vocabulary,
    job: Job,
    report: dict[str, Any],
    patient: PatientRecord,
) -> FiledReport:
    language = report["language"] or job.language or "fr"
    validated_at = datetime.fromtimestamp(report["validated_at"], UTC).astimezone()
    name = record_name(
        settings.filing.path,
        patient=patient,
        day=job.created_at.astimezone().date(),
        worktype=report["worktype"],
        job_id=job.id,
        author=job.author,
    )
    if report["version"] > 1:
        name += f"_v{report['version']}"
    base = settings.paths.outbox / name
    content = organise(report["text"], vocabulary.for_language(language), metadata_worktype=report["worktype"])
    people = people_of(settings, job.author, patient, tuple(report["copies"]))
    docx_path = base.with_name(base.name + ".docx")
    pdf_path = base.with_name(base.name + ".pdf") if settings.filing.pdf else None
    sidecar_path = base.with_name(base.name + ".json")
    ensure_folder(base.parent)
    document = None
    if not docx_path.exists():  # present: placed by an attempt that stopped before the store knew
        document = render_docx(
            template_path(report["worktype"], settings.paths.templates),
            content,
            people,
            language=language,
            day=validated_at.date(),
            draft=False,
        )
        write_new(docx_path, document)
    if pdf_path is not None and not pdf_path.exists():
        write_new(pdf_path, convert_to_pdf(document or docx_path.read_bytes(), base.name))
    if not sidecar_path.exists():
        write_new(
            sidecar_path,
            json.dumps(_sidecar(job, report, patient, validated_at), ensure_ascii=False, indent=2).encode(),
        )
    return FiledReport(job.id, report["version"], docx_path, pdf_path, sidecar_path)


def _sidecar(job: Job, report: dict[str, Any], patient: PatientRecord, validated_at: datetime) -> dict[str, Any]:
    return {
        "job": job.id,
        "version": report["version"],
        "patient_id": patient.patient_id,
        "worktype": report["worktype"],
        "language": report["language"],
        "author": job.author,
        "validator": report["validated_by"],
        "identity_confirmed_by": report["identity_confirmed_by"],
        "received_at": job.created_at.isoformat(),
        "validated_at": validated_at.isoformat(),
        "filed_at": datetime.now(UTC).isoformat(),
        "model": job.model,
        "model_options": {k: (job.options or {}).get(k) for k in ("device", "compute_type", "language")},
        "vocabulary_version": job.vocabulary_version,
        "audio_sha256": job.audio_sha256,
        "original_name": job.original_name,
        "duration_s": job.duration_s,
    }


def _disk_reason(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk of the outbox is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the outbox folder is read-only or not writable by the service"
    return f"{error.strerror or error}"


def file_waiting_reports(settings: Settings, store: JobStore, vocabulary: Vocabulary) -> list[int]:
    """File every validated report still waiting (the service does it on its own); return the ids filed."""
    filed = []
    for job in store.waiting_to_be_filed():
        try:
            file_report(settings, store, vocabulary, job.id)
            filed.append(job.id)
        except FilingError as e:
            log.warning("job %d still waits to be filed (%s)", job.id, type(e).__name__)
        except IdentityMismatch:
            log.warning("job %d waits for its identity to be confirmed", job.id)
    return filed
