"""The secretary's step: validate a draft as a report for a patient.

A report is validated for one patient of the index. When the identity given
with the dictation (sidecar, file name, dictated opening) disagrees with that
patient, validation is refused until a person confirms it. Doubts the text
layer flagged (doses, terms, abbreviations) must have been checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe.documents.report import addressee_of
from transcribe.errors import IdentityMismatch, PatientUnknown, ReviewError
from transcribe.patient_record.patients import identity_conflicts, identity_from_filename
from transcribe.records import IdentityNote, Job, JobState
from transcribe.settings import Settings
from transcribe.store import JobStore

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor


def draft_text(settings: Settings, store: JobStore, job: Job) -> str:
    """The clean text of a job's draft."""
    path = store.jobs.results_of(job.id).get("text") or settings.paths.drafts / str(job.id) / "draft.txt"
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ReviewError(f"job {job.id}: its draft text cannot be read ({e.strerror})") from e


_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _unwritable_characters(text: str) -> tuple[int, str] | None:
    """The first character a DOCX (XML 1.0) cannot hold, and where; None when there is none."""
    m = _UNWRITABLE.search(text)
    return (m.start(), m.group()) if m else None


def doubtful_forms(store: JobStore, job: Job) -> list[str]:
    """What the flags of doubtful doses marked in the clean text ("5,000 g"): it must not be validated as is.

    A term's audio-ranked choices are offered, not required: its words may stay as heard."""
    path = store.jobs.results_of(job.id).get("edits")
    if not path:
        return []
    try:
        layer = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    text = layer.get("text", "")
    return [
        text[f["text_start"] : f["text_end"]]
        for f in layer.get("flags", ())
        if f.get("choices") and f.get("kind") == "dose" and "text_start" in f
    ]


def identity_problems(job: Job, patient_id: str, store: JobStore) -> list[IdentityNote]:
    """How what came with the dictation disagrees with the chosen patient (its sex and age on the day it was dictated too)."""
    patient = store.patients.patient(patient_id)
    if patient is None:
        raise PatientUnknown(
            f"no patient {patient_id} in the index; import the index ('transcribe patients import') "
            "or search it ('transcribe patients find NAME')"
        )
    problems: list[IdentityNote] = []
    dictated_on = job.created_at.astimezone().date()
    # every source counts, not only the one matched on: a sidecar's identifier does not silence a file
    # name or an opening that names someone else
    sources = [*(job.identity.sources if job.identity else ()), identity_from_filename(job.original_name)]
    for identity in sources:
        for problem in identity_conflicts(identity, patient, on=dictated_on):
            if problem not in problems:
                problems.append(problem)
    return problems


def validate_report(
    settings: Settings,
    store: JobStore,
    job_id: int,
    *,
    validator: str,
    patient_id: str | None = None,
    text: str | None = None,
    worktype: str | None = None,
    confirm_identity: bool = False,
    flags_checked: bool = False,
    recipient: str | None = None,
    copies: list[str] | None = None,
    audit: Auditor | None = None,
) -> Job:
    """Validate a job's report for a patient; it then waits to be filed (``audit``: its entry, in the same transaction).

    ``recipient`` and ``copies``: the addressee and copies as the secretary set them (None: the
    sidecar's, the dictation's, the patient's GP; see ``report.addressee_of``).
    """
    job = store.jobs.get(job_id)
    if job.state not in (JobState.DRAFTED, JobState.VALIDATED, JobState.FILED):
        raise ReviewError(f"job {job_id} is {job.state.value}: only a transcribed report can be validated")
    chosen = patient_id or job.patient_id
    if not chosen:
        offered = job.identity.candidates[:3] if job.identity else ()
        candidates = ", ".join(f"{c.patient_id} {c.name}" for c in offered)
        raise ReviewError(
            f"job {job_id}: choose the patient with --patient ID"
            + (f" (candidates: {candidates})" if candidates else " (no candidate found in the index)")
        )
    problems = identity_problems(job, chosen, store)
    if problems and not confirm_identity:
        raise IdentityMismatch(
            f"job {job_id} cannot be validated for patient {chosen}: " + "; ".join(map(str, problems)),
            problems=[str(p) for p in problems],
        )
    if job.flag_count and not flags_checked and job.report_version == 0:
        raise ReviewError(
            f"job {job_id} has {job.flag_count} flagged passage(s) to check (doses, terms, "
            "abbreviations: see edits.json or the review screen); once checked, validate with --flags-checked"
        )
    report_text = text if text is not None else draft_text(settings, store, job)
    unwritable = _unwritable_characters(report_text)
    if unwritable:
        position, character = unwritable
        raise ReviewError(
            f"job {job_id}: the text holds an invisible control character (U+{ord(character):04X}) at "
            f"character {position + 1}, which a document cannot hold; delete it (it often comes "
            "from a paste) and validate again"
        )
    doubtful = [form for form in doubtful_forms(store, job) if form in report_text]
    if doubtful:  # on every version: a reopened report cannot bring an ambiguous dose back
        raise ReviewError(
            f"job {job_id}: the text still holds "
            + ", ".join(f"'{f}'" for f in doubtful)
            + ", which can be read in several ways; write the dictated reading in the text first"
        )
    chosen_worktype = worktype or job.worktype or "consultation"
    addressee = addressee_of(
        worktype=chosen_worktype,
        text=report_text,
        language=job.language or "fr",
        metadata=job.metadata,
        patient=store.patients.patient(chosen),
        typed_recipient=recipient,
        typed_copies=copies,
    )
    return store.reports.validate(
        job_id,
        text=report_text,
        patient_id=chosen,
        validated_by=validator,
        worktype=chosen_worktype,
        language=job.language,
        identity_confirmed_by=validator if problems else None,
        copies=list(addressee.copies),
        recipient=addressee.recipient,
        audit=audit,
    )
