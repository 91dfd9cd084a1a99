"""Filing: a validated report goes into the patient's record under ``outbox/``, safely.

``outbox/<patient-id>_<FAMILY>/<YYYY-MM-DD>_<worktype>_<job>.docx`` (the pattern is
``filing.path``), with a JSON sidecar and, when ``filing.pdf`` is on, a PDF copy.

- Atomic: each file is written whole under a temporary name in the target
  folder, synced, then linked to its final name; a crash leaves no half file.
- Never overwrites: a corrected report (validated again) is filed as version 2
  beside version 1 (``..._v2.docx``); a name already taken is never replaced.
- Idempotent: filing a version already filed does nothing. A crash after the
  document was placed but before the store knew is recognised and recorded.
- A failure (disk full, read-only folder, LibreOffice timing out, anything
  unexpected) leaves the report validated and waiting, with the reason;
  ``transcribe file ID`` or the service tries again, and the next report goes on.
- Only where the outbox is this store's: ``transcribe serve`` (the front host)
  writes ``outbox/.transcribe-outbox`` naming the store; a worker files the
  waiting reports on its own only where it sees that marker, with the id of its
  own store. A host without the outbox mounted sees no marker and files nothing.
  An outbox whose marker names another store is never filed into (job numbers
  would collide).
- Where ``review.doctor_signs`` is on, a validated report is filed only once its author signed it
  (``signatures.require_signature``); the service passes over the reports still waiting for it.
- Two hosts filing the same report at once: the second finds the files or the
  filing record of the first, and takes the report as filed.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import socket
import traceback
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.documents.exchange.document import ExchangeDocument, site_oid
from transcribe.documents.pdf import convert_to_pdf
from transcribe.documents.report import RenderFailed, addressee_of, compose_document
from transcribe.documents.sections import worktype_title
from transcribe.errors import FilingError, IdentityMismatch, TranscribeError
from transcribe.intake.atomic import ensure_folder, write_atomic, write_new
from transcribe.patient_record.patients import PatientRecord
from transcribe.patient_record.signatures import awaiting_signature, require_signature
from transcribe.patient_record.validation import identity_problems
from transcribe.records import Job, JobState, ValidatedReport
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.vocabulary.records import Vocabulary, fold

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor

log = logging.getLogger(__name__)

#: In the outbox, written by the front host: names the store whose reports are filed there.
OUTBOX_MARKER = ".transcribe-outbox"


@dataclass(frozen=True)
class FiledReport:
    """Where a report version lies in the patient's record."""

    job_id: int
    version: int
    docx: Path
    pdf: Path | None
    sidecar: Path
    already_filed: bool = False
    #: each exchange format asked for (``filing.formats``): {"path": ...} where filed, {"refused": why} where not
    formats: dict[str, dict[str, str]] = field(default_factory=dict)


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


def mark_outbox(settings: Settings, store: JobStore) -> str | None:
    """Say in the outbox that it is this store's (the front host); None, or why it is not.

    A marker naming another store is left alone: filing into that outbox stays off until a person
    removes it. An outbox that cannot be written now is marked on a later call.
    """
    marker = settings.paths.outbox / OUTBOX_MARKER
    problem = outbox_problem(settings, store)
    if problem is None or marker.exists():
        return problem
    content = {
        "store_id": store.store_id(),
        "store": store.display_url,
        "written_by": socket.gethostname(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "written by 'transcribe serve': reports of this store are filed in this folder",
    }
    try:
        write_atomic(marker, json.dumps(content, indent=2).encode())
    except OSError as e:
        return f"{marker} could not be written ({e.strerror}); reports are not filed until the outbox is writable"
    log.info("outbox %s marked as the outbox of this store", settings.paths.outbox)
    return None


def outbox_problem(settings: Settings, store: JobStore) -> str | None:
    """Why validated reports must not be filed into the configured outbox from here; None when they may.

    They may when the outbox holds the marker of this very store (``mark_outbox``). Nothing is created.
    """
    marker = settings.paths.outbox / OUTBOX_MARKER
    try:
        content = json.loads(marker.read_bytes())
    except FileNotFoundError:
        return (
            f"{marker} not found: the outbox is not mounted on this host, or 'transcribe serve' (the front host) "
            "has not started on it yet"
        )
    except (OSError, ValueError) as e:
        return f"{marker} cannot be read ({getattr(e, 'strerror', None) or type(e).__name__}); check the outbox"
    if not isinstance(content, dict) or content.get("store_id") != store.store_id():
        named = content.get("store") if isinstance(content, dict) else None
        return (
            f"{marker} names another job store ({named or 'unknown'}): this outbox belongs to it; if it is really "
            "this store's outbox now, remove that file and restart 'transcribe serve'"
        )
    return None


def file_report(
    settings: Settings, store: JobStore, vocabulary: Vocabulary, job_id: int, *, audit: Auditor | None = None
) -> FiledReport:
    """File the newest validated version of a job's report into its patient's record.

    Refused when the outbox's marker names another store. ``audit`` writes "filed" (or a new
    "filing-failed", with a short reason) in the transaction that records it.
    """
    problem = outbox_problem(settings, store)
    if problem and (settings.paths.outbox / OUTBOX_MARKER).exists():
        raise FilingError(f"job {job_id} is not filed: {problem}")
    job = store.jobs.get(job_id)
    if job.state not in (JobState.VALIDATED, JobState.FILED) or job.report_version == 0:
        raise FilingError(
            f"job {job_id} is {job.state.value}: only a validated report is filed "
            f"(validate it first: transcribe validate {job_id})"
        )
    version = job.report_version
    done = _filed_already(store, job_id, version)
    if done is not None:
        return done
    require_signature(settings, store, job)
    report = store.reports.report(job_id, version)
    if report is None:
        raise FilingError(f"job {job_id}: validated version {version} not found in the store")
    patient = store.patients.patient(report.patient_id)
    if patient is None:
        raise FilingError(
            f"job {job_id}: patient {report.patient_id} is no longer in the index; import the index again, then file"
        )
    if identity_problems(job, patient.patient_id, store) and not report.identity_confirmed_by:
        raise IdentityMismatch(
            f"job {job_id}: the dictated identity disagrees with patient {patient.patient_id} "
            "and nobody confirmed it: the identity must be confirmed when the report is validated"
        )
    try:
        filed = _place(settings, store, vocabulary, job, report, patient)
    except RenderFailed as e:
        store.reports.record_filing_error(job_id, str(e), audit=audit, code="render-failed")
        raise FilingError(f"job {job_id} could not be filed: {e}. The report stays validated") from e
    except OSError as e:
        reason = _disk_reason(e)
        code = f"disk {errno.errorcode.get(e.errno or 0, 'error')}"
        store.reports.record_filing_error(job_id, reason, audit=audit, code=code)
        raise FilingError(
            f"job {job_id} could not be filed: {reason}. The report stays validated; "
            f"fix the outbox, then run 'transcribe file {job_id}'"
        ) from e
    recorded = store.reports.record_filing(
        job_id,
        version,
        patient_id=patient.patient_id,
        docx_path=filed.docx,
        pdf_path=filed.pdf,
        sidecar_path=filed.sidecar,
        formats=filed.formats,
        audit=audit,
    )
    if not recorded:
        log.info("job %d version %d was filed at the same time by another host", job_id, version)
        return _filed_already(store, job_id, version) or filed
    log.info("job %d version %d filed", job_id, version)
    return filed


def _filed_already(store: JobStore, job_id: int, version: int) -> FiledReport | None:
    done = store.reports.filing(job_id, version)
    if done is None:
        return None
    return FiledReport(
        job_id,
        version,
        Path(done.docx_path),
        Path(done.pdf_path) if done.pdf_path else None,
        Path(done.sidecar_path),
        already_filed=True,
        formats=done.formats,
    )


def _place(
    settings: Settings,
    store: JobStore,
    vocabulary: Vocabulary,
    job: Job,
    report: ValidatedReport,
    patient: PatientRecord,
) -> FiledReport:
    validated_at = datetime.fromtimestamp(report.validated_at, UTC).astimezone()
    name = record_name(
        settings.filing.path,
        patient=patient,
        day=job.created_at.astimezone().date(),
        worktype=report.worktype,
        job_id=job.id,
        author=job.author,
    )
    if report.version > 1:
        name += f"_v{report.version}"
    base = settings.paths.outbox / name
    docx_path = base.with_name(base.name + ".docx")
    pdf_path = base.with_name(base.name + ".pdf") if settings.filing.pdf or "pdfa" in settings.filing.formats else None
    sidecar_path = base.with_name(base.name + ".json")
    ensure_folder(base.parent)
    document = None
    formats: dict[str, dict[str, str]] = {}
    placed: list[Path] = []  # what this attempt wrote: taken back if it fails, so that no partial report stays
    try:
        if not docx_path.exists():  # present: placed by an attempt that stopped before the store knew
            document = _compose(settings, vocabulary, job, report, patient)
            _write_unless_placed(docx_path, document, placed)
        if sidecar_path.exists():  # an attempt placed everything, the store did not hear of it
            formats = json.loads(sidecar_path.read_bytes()).get("formats") or {}
        else:
            formats = _place_formats(
                settings, store, vocabulary, job, report, patient, base, document or docx_path.read_bytes(), placed
            )
        if pdf_path is not None and not pdf_path.exists():
            if "pdfa" in settings.filing.formats:
                pdf_path = None  # the PDF/A was refused (its reason is in formats): no other PDF stands for it
            else:
                docx = document or docx_path.read_bytes()
                pdf = convert_to_pdf(docx, base.name, timeout_s=settings.filing.pdf_timeout_s)
                _write_unless_placed(pdf_path, pdf, placed)
        if not sidecar_path.exists():
            content = {**_sidecar(job, report, patient, validated_at), "formats": formats}
            _write_unless_placed(sidecar_path, json.dumps(content, ensure_ascii=False, indent=2).encode(), placed)
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise
    return FiledReport(job.id, report.version, docx_path, pdf_path, sidecar_path, formats=formats)


def _place_formats(
    settings: Settings,
    store: JobStore,
    vocabulary: Vocabulary,
    job: Job,
    report: ValidatedReport,
    patient: PatientRecord,
    base: Path,
    docx: bytes,
    placed: list[Path],
) -> dict[str, dict[str, str]]:
    """Make, check and place each exchange format the site asked for; what was filed, and why the others were not.

    A format whose own check fails, or whose PDF/A LibreOffice could not make, is refused with its
    reason; the DOCX and the other formats are filed all the same. LibreOffice not answering in time is
    no refusal: the whole filing is tried again (``RenderFailed``).
    """
    wanted = settings.filing.formats
    if not wanted:
        return {}
    from transcribe.documents.exchange.filed import make_formats

    pdfa: bytes | str
    try:
        pdfa = convert_to_pdf(docx, base.name, timeout_s=settings.filing.pdf_timeout_s, pdfa=True)
    except RenderFailed as e:
        if "within" in str(e):  # it hung or the machine is overloaded: the filing is tried again later
            raise
        pdfa = str(e)
    outcomes = make_formats(
        wanted, pdfa, lambda pdf: exchange_document(settings, store, vocabulary, job, report, patient, pdf)
    )
    formats: dict[str, dict[str, str]] = {}
    for outcome in outcomes:
        if outcome.data is None:
            formats[outcome.format] = {"refused": outcome.refused}
            continue
        path = base.with_name(base.name + outcome.suffix)
        if not path.exists():
            _write_unless_placed(path, outcome.data, placed)
        formats[outcome.format] = {"path": str(path)}
    return formats


def exchange_document(
    settings: Settings,
    store: JobStore,
    vocabulary: Vocabulary,
    job: Job,
    report: ValidatedReport,
    patient: PatientRecord,
    pdf: bytes,
) -> ExchangeDocument:
    """The facts the exchange formats carry of one validated version: patient, author, practice, addressee, PDF."""
    language = report.language or job.language or "fr"
    author = settings.authors.get(job.author)
    recipient, copies = _addressee(report, job, patient)
    return ExchangeDocument(
        job_id=job.id,
        version=report.version,
        worktype=report.worktype,
        title=worktype_title(report.worktype, vocabulary.for_language(language)),
        language=language,
        validated_at=datetime.fromtimestamp(report.validated_at, UTC).astimezone(),
        patient=patient,
        author_name=author.name if author else "",
        author_rpps=author.rpps if author else "",
        practice_name=settings.practice.name,
        practice_address=settings.practice.address,
        practice_finess=settings.practice.finess,
        practice_siret=settings.practice.siret,
        site_oid=site_oid(settings.practice.oid, store.store_id()),
        text=report.text,
        pdf=pdf,
        recipient=recipient,
        copies=copies,
        codes=tuple(report.codes),
    )


def _addressee(report: ValidatedReport, job: Job, patient: PatientRecord) -> tuple[str, tuple[str, ...]]:
    """The addressee and copies of a validated version (chosen again for a version validated before they were kept)."""
    if report.recipient is not None:
        return report.recipient, tuple(report.copies)
    chosen = addressee_of(
        worktype=report.worktype,
        text=report.text,
        language=report.language or job.language or "fr",
        metadata=job.metadata,
        patient=patient,
        typed_copies=list(report.copies),
    )
    return chosen.recipient, chosen.copies


def _compose(
    settings: Settings, vocabulary: Vocabulary, job: Job, report: ValidatedReport, patient: PatientRecord
) -> bytes:
    """A validated version's document, as it is filed (dated the day it was validated)."""
    language = report.language or job.language or "fr"
    validated_at = datetime.fromtimestamp(report.validated_at, UTC).astimezone()
    recipient, copies = _addressee(report, job, patient)
    return compose_document(
        settings,
        vocabulary.for_language(language),
        text=report.text,
        worktype=report.worktype,
        language=language,
        author=job.author,
        patient=patient,
        copies=copies,
        recipient=recipient,
        day=validated_at.date(),
        draft=False,
    )


def validated_document(settings: Settings, store: JobStore, vocabulary: Vocabulary, job: Job) -> bytes | None:
    """The document of a job's newest validated version, exactly as filing makes it (or the file, once filed).

    What the doctor reads before he signs: the same composition, text, patient and day as the filing.
    None when the job has no validated version (or its patient left the index).
    """
    done = store.reports.filing(job.id, job.report_version) if job.report_version else None
    if done is not None and Path(done.docx_path).is_file():
        return Path(done.docx_path).read_bytes()
    report = store.reports.report(job.id, job.report_version) if job.report_version else None
    patient = store.patients.patient(report.patient_id) if report else None
    if report is None or patient is None:
        return None
    return _compose(settings, vocabulary, job, report, patient)


def _write_unless_placed(path: Path, data: bytes, placed: list[Path]) -> None:
    try:
        write_new(path, data)
    except FileExistsError:  # another host filing the same version placed it a moment ago
        log.info("%s was placed by another host at the same time", path.name)
    else:
        placed.append(path)


def _sidecar(job: Job, report: ValidatedReport, patient: PatientRecord, validated_at: datetime) -> dict[str, Any]:
    return {
        "job": job.id,
        "version": report.version,
        "patient_id": patient.patient_id,
        "worktype": report.worktype,
        "language": report.language,
        "author": job.author,
        "validator": report.validated_by,
        "identity_confirmed_by": report.identity_confirmed_by,
        "received_at": job.created_at.isoformat(),
        "validated_at": validated_at.isoformat(),
        "filed_at": datetime.now(UTC).isoformat(),
        "model": job.model,
        "model_options": {k: (job.options or {}).get(k) for k in ("device", "compute_type", "language")},
        "vocabulary_version": job.vocabulary_version,
        "audio_sha256": job.audio_sha256,
        "original_name": job.original_name,
        "duration_s": job.duration_s,
        # the diagnoses and acts the secretary confirmed for this version (transcribe.coding)
        "codes": [code.to_json() for code in report.codes],
    }


def _disk_reason(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk of the outbox is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the outbox folder is read-only or not writable by the service"
    return f"{error.strerror or error}"


def file_waiting_reports(
    settings: Settings, store: JobStore, vocabulary: Vocabulary, *, audit: Auditor | None = None
) -> list[int]:
    """File every validated report still waiting; return the ids filed (``audit``: the worker's entries).

    Called by an idle worker where ``outbox_problem`` found nothing. One report that cannot be filed,
    for whatever reason, keeps its error (``filing_error``) and the next one goes on.
    """
    filed = []
    for job in store.reports.waiting_to_be_filed():
        if awaiting_signature(settings, store, job):
            continue  # filed when its author signs it
        try:
            file_report(settings, store, vocabulary, job.id, audit=audit)
            filed.append(job.id)
        except FilingError as e:
            log.warning("job %d still waits to be filed (%s)", job.id, type(e).__name__)
        except IdentityMismatch:
            log.warning("job %d waits for its identity to be confirmed", job.id)
        except Exception as e:  # a bug or a store hiccup on one report must not stop the filing of the others
            log.error("job %d: filing failed (%s)\n%s", job.id, type(e).__name__, traceback.format_exc(limit=8))
            _keep_filing_error(
                store,
                job.id,
                f"filing failed unexpectedly ({type(e).__name__}); it is tried again. If it persists, report it",
                audit,
            )
    return filed


def _keep_filing_error(store: JobStore, job_id: int, error: str, audit: Auditor | None) -> None:
    try:
        store.reports.record_filing_error(job_id, error, audit=audit, code="unexpected")
    except TranscribeError as e:
        log.error("job %d: the filing error could not be kept either (%s)", job_id, type(e).__name__)
