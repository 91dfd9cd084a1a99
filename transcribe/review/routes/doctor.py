"""The doctor's view: his own dictations and filed reports, read and listened to; answering a returned
report's comment and sending it back for review; signing a validated report where the site wants it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from transcribe.documents.report import read_document
from transcribe.documents.worktypes import label_of
from transcribe.errors import ReviewError, TranscribeError
from transcribe.messages import state_label
from transcribe.patient_record.filing import file_report, validated_document
from transcribe.patient_record.signatures import SignatureRefused, awaiting_signature, may_sign, sign_report
from transcribe.patient_record.validation import draft_text
from transcribe.records import Job, JobState, ValidatedReport, format_duration
from transcribe.review.dependencies import Doctor, DoctorChange, ReviewSite, Site
from transcribe.review.display import author_label, local_datetime
from transcribe.review.i18n import MESSAGES, notice, translator
from transcribe.security.accounts import Session
from transcribe.store.signoffs import MAX_COMMENT_CHARS

router = APIRouter()

#: states in which a dictation has a text to read
WITH_TEXT = (JobState.DRAFTED, JobState.RETURNED, JobState.VALIDATED, JobState.FILED)


@router.get("/mine", response_class=HTMLResponse)
def mine(request: Request, site: Site, session: Doctor, message: str = "") -> Response:
    """The doctor's dictations: those to sign and those returned first, then all, newest first.

    Those to sign include the reports the site's rule gives him to sign (``review.signer_without_account``:
    an administrator, or a doctor it names, signs for authors without an account).
    """
    jobs = site.store.jobs.jobs_of_author(session.user.author) if session.user.author else []
    language = site.language_of(session)
    rows = _rows(site, jobs, language)
    own = {job.id for job in jobs}
    others = [
        job
        for job in site.store.jobs.list_jobs(state=JobState.VALIDATED, limit=500)
        if job.id not in own
        and awaiting_signature(site.settings, site.store, job)
        and may_sign(site.settings, site.store, job, session.user)
    ]
    return site.page(
        request,
        "mine.html",
        session,
        to_sign=[r for r in rows if r["awaiting_signature"]] + _rows(site, others, language),
        returned=[r for r in rows if r["state"] == "returned"],
        rows=rows,
        message=notice(translator(language), message),
    )


@router.get("/mine/{job_id}", response_class=HTMLResponse)
def dictation(request: Request, job_id: int, site: Site, session: Doctor, message: str = "") -> Response:
    """One of his dictations, read only: its text, its audio, its messages, and what he can do with it."""
    job = _own_job(site, session, job_id)
    language = site.language_of(session)
    row = _rows(site, [job], language)[0]
    report = site.store.reports.report(job_id) if job.report_version else None
    filing = site.store.reports.filing(job_id, job.report_version) if job.state is JobState.FILED else None
    signature = site.store.signoffs.signature(job_id, job.report_version) if job.report_version else None
    # a validated report is shown as the document filing makes of it: what he signs is what is filed
    document = None
    if report is not None and job.state in (JobState.VALIDATED, JobState.FILED):
        made = validated_document(site.settings, site.store, site.vocabulary, job)
        document = read_document(made) if made is not None else None
    return site.page(
        request,
        "dictation.html",
        session,
        job=job,
        row=row,
        text=_text_of(site, job, report),
        validated=report is not None and job.state in (JobState.VALIDATED, JobState.FILED),
        document=document,
        filed_in=str(filing.docx_path).removeprefix(str(site.settings.paths.outbox) + "/") if filing else "",
        signed=translator(language)(
            "signed_by", name=signature.signed_by, at=local_datetime(signature.signed_at, language)
        )
        if signature
        else "",
        can_sign=row["awaiting_signature"] and may_sign(site.settings, site.store, job, session.user),
        max_comment=MAX_COMMENT_CHARS,
        codes=list(report.codes) if report is not None else [],  # the codes kept with the version (transcribe.coding)
        message=notice(translator(language), message),
    )


@router.post("/mine/{job_id}/reply")
def reply(job_id: int, site: Site, change: DoctorChange) -> Response:
    """Answer the comment of a returned report: the message joins its thread, which the secretaries see."""
    session = change.session
    job = _own_job(site, session, job_id)
    text = str(change.data.get("text", "")).strip()
    if not text:
        raise HTTPException(400, "error.empty-reply")
    site.store.signoffs.add_comment(job.id, session.user.username, text, audit=site.audit.by(session.user.username))
    return RedirectResponse(f"/mine/{job.id}", status_code=303)


@router.post("/mine/{job_id}/resubmit")
def resubmit(job_id: int, site: Site, change: DoctorChange) -> Response:
    """Send a returned report back to the queue (only its author, or an admin)."""
    session = change.session
    _own_job(site, session, job_id)
    try:
        site.store.jobs.resubmit(job_id, session.user.username, audit=site.audit.by(session.user.username))
    except TranscribeError as e:
        raise HTTPException(409, "error.not-returned") from e
    return RedirectResponse("/mine", status_code=303)


@router.post("/mine/{job_id}/sign")
def sign(job_id: int, site: Site, change: DoctorChange) -> Response:
    """Sign the validated report (only its author); it is filed at once."""
    session = change.session
    job = site.job_or_404(job_id)
    audit = site.audit.by(session.user.username)
    try:
        sign_report(site.settings, site.store, job, user=session.user, audit=audit)
    except SignatureRefused as e:
        raise HTTPException(409 if e.code == "error.not-signable" else 403, e.code) from e
    try:
        file_report(site.settings, site.store, site.vocabulary, job_id, audit=audit)
    except TranscribeError as e:
        code = getattr(e, "code", None)
        code = code if isinstance(code, str) and code in MESSAGES else "error.filing-failed"
        return RedirectResponse(f"/mine/{job_id}?message={quote(code)}", status_code=303)
    return RedirectResponse("/mine?message=done.signed", status_code=303)


def _own_job(site: ReviewSite, session: Session, job_id: int) -> Job:
    """A dictation of this doctor (an admin sees every one)."""
    job = site.job_or_404(job_id)
    if session.user.role == "admin" or (session.user.author and job.author == session.user.author):
        return job
    if awaiting_signature(site.settings, site.store, job) and may_sign(site.settings, site.store, job, session.user):
        return job  # the site's rule gives him this report to sign
    raise HTTPException(403, "error.not-yours")


def _rows(site: ReviewSite, jobs: list[Job], language: str) -> list[dict[str, Any]]:
    """The dictations as the doctor's lists show them."""
    patients = site.store.patients.patients_by_id({j.patient_id for j in jobs if j.patient_id})
    threads = site.store.signoffs.comments([j.id for j in jobs if j.return_comment])
    rows = []
    for job in jobs:
        patient = patients.get(job.patient_id or "")
        rows.append(
            {
                "id": job.id,
                "state": job.state.value,
                "state_label": state_label(job.state.value, language),
                "author_name": author_label(site.settings, job.author, language),
                "dictated": local_datetime(job.created_at, language),
                "patient": f"{patient.display_name} ({patient.patient_id})" if patient else job.patient_id or "",
                "worktype": label_of(job.worktype, language) if job.worktype else "",
                "duration": format_duration(job.duration_s),
                "file_name": job.original_name,
                "return_comment": job.return_comment or "",
                "thread": [
                    {"by": c.username, "at": local_datetime(c.at, language), "text": c.text}
                    for c in threads.get(job.id, [])
                ],
                "awaiting_signature": awaiting_signature(site.settings, site.store, job),
            }
        )
    return rows


def _text_of(site: ReviewSite, job: Job, report: ValidatedReport | None) -> str:
    """The report's text as it stands: validated, as the secretary typed it, or the draft; "" when there is none."""
    if job.state not in WITH_TEXT:
        return ""
    if report is not None and job.state in (JobState.VALIDATED, JobState.FILED):
        return str(report.text)
    saved = site.workspace.load(job.id)
    if saved.blocks is not None:
        return "\n\n".join(f"{b.heading}\n{b.text}".strip() for b in saved.blocks)
    try:
        return draft_text(site.settings, site.store, job)
    except ReviewError:
        return ""
