"""What leaves the review screen: the document's preview and DOCX, validating and filing, a new version
of a filed report, returning it to its author, and the next dictation to review."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse, Response

from transcribe.documents.report import RenderFailed, compose_document, draft_label, read_document
from transcribe.errors import IdentityMismatch, ReviewError, TranscribeError
from transcribe.patient_record.filing import file_report
from transcribe.patient_record.signatures import NOBODY, SignatureMissing, signer_of
from transcribe.patient_record.validation import validate_report
from transcribe.records import Job, JobState
from transcribe.review.dependencies import ReviewSite, Secretary, SecretaryChange, Site
from transcribe.review.i18n import error_text, translator
from transcribe.review.report_view import (
    addressee_for,
    can_change,
    material_of,
    report_blocks,
    review_data,
    take_blocks,
)
from transcribe.work.review_state import LockHeld, WorkState, blocks_of, final_text, still_ambiguous

log = logging.getLogger(__name__)
router = APIRouter()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/api/review/{job_id}/preview")
def preview(job_id: int, site: Site, session: Secretary) -> Response:
    """The document as it will be filed (or as it was), as paragraphs with their style, for the screen.

    Until it is filed it is marked as a draft, as the DOCX to download is: printed from the
    screen, a draft never looks final.
    """
    job = site.job_or_404(job_id)
    state = site.workspace.load(job_id)
    document, _ = document_of(site, job, state, draft=True)
    marked = is_draft(job, state)
    label = draft_label(material_of(site, job_id).language) if marked else ""
    return JSONResponse({**read_document(document), "draft": marked, "draft_label": label})


@router.get("/review/{job_id}/docx")
def docx(job_id: int, site: Site, session: Secretary) -> Response:
    """The DOCX to download: the filed one, else the report as it stands, marked as a draft."""
    job = site.job_or_404(job_id)
    document, name = document_of(site, job, site.workspace.load(job_id), draft=True)
    return Response(document, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/review/{job_id}/next")
def next_dictation(job_id: int, site: Site, session: Secretary) -> Response:
    """The next report of the queue that nobody else holds (the queue when there is none)."""
    for job in site.store.jobs.review_queue(states=(JobState.DRAFTED,)):
        if job.id != job_id and site.workspace.holder(job.id) in (None, session.user.username):
            return RedirectResponse(f"/review/{job.id}", status_code=303)
    return RedirectResponse("/queue", status_code=303)


@router.post("/api/review/{job_id}/reopen")
def reopen(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Open a validated or filed report again: validating it then files a new version beside the first."""
    session = change.session
    t = translator(site.language_of(session))
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        if job.state not in (JobState.VALIDATED, JobState.FILED):
            raise HTTPException(409, t("review.err.not_reopenable"))
        try:
            site.workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            raise HTTPException(423, t("review.locked_by_other", holder=site.workspace.holder(job_id) or "?")) from e
        state = site.workspace.load(job_id)
        filed = site.store.reports.report(job_id)
        material = material_of(site, job_id)
        if filed is not None and final_text(report_blocks(site, job_id, state), material.language) != filed.text:
            # validated elsewhere (the command line): start from the text that was validated
            state.blocks = blocks_of(filed.text, site.vocabulary.for_language(material.language))
            state.anchors = dict.fromkeys(state.anchors)
        state.reopened = True
        reopened = site.audit.by(session.user.username).entry("reopened", job_id, f"after version {job.report_version}")
        site.workspace.save(job_id, session.user.id, state, audit=reopened)
        data = review_data(site, job, state, session)
    return JSONResponse(data)


@router.post("/api/review/{job_id}/validate")
def validate(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Validate the report once every point is checked and the patient chosen, then file it (202 if filing fails)."""
    session = change.session
    t = translator(site.language_of(session))
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        state = site.workspace.load(job_id)
        if not can_change(job, state):
            raise HTTPException(409, t("review.err.not_validatable"))
        holder = site.workspace.holder(job_id)
        try:
            site.workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            raise HTTPException(423, t("review.locked_by_other", holder=holder or "?")) from e
        take_blocks(site, job_id, state, change)
        material = material_of(site, job_id)
        pending = [i for i in range(len(material.flags)) if i not in state.resolved]
        if still_ambiguous(material, state, site.vocabulary.for_language(material.language)):
            raise HTTPException(409, t("review.err.choose_reading"))
        if pending:
            raise HTTPException(409, t("review.flags_pending", count=len(pending)))
        patient_id = state.patient_id or job.patient_id
        if not patient_id:
            raise HTTPException(409, t("review.err.choose_patient"))
        audit = site.audit.by(session.user.username)
        try:
            validate_report(
                site.settings,
                site.store,
                job_id,
                validator=session.user.username,
                patient_id=patient_id,
                text=final_text(report_blocks(site, job_id, state), material.language),
                worktype=state.worktype or job.worktype,
                confirm_identity=state.confirm_identity,
                flags_checked=True,
                recipient=state.recipient,
                copies=state.copies,
                audit=audit,
            )
        except IdentityMismatch as e:
            raise HTTPException(409, f"{t('identity_conflict')}. {t('identity_confirm_hint')}") from e
        except ReviewError as e:
            raise HTTPException(409, error_text(t, e)) from e
        state.reopened = False
        site.workspace.save(job_id, session.user.id, state)
        site.workspace.release(job_id, session.user.id)
        try:
            filed = file_report(site.settings, site.store, site.vocabulary, job_id, audit=audit)
        except SignatureMissing:  # review.doctor_signs: filed once signed (by whom: said now)
            signer = signer_of(site.settings, site.store, site.store.jobs.get(job_id))
            return JSONResponse({"validated": True, "filed": False, "awaiting_signature": True, "signer": signer})
        except TranscribeError as e:
            return JSONResponse({"validated": True, "filed": False, "error": error_text(t, e)}, status_code=202)
    return JSONResponse(
        {
            "validated": True,
            "filed": True,
            "version": filed.version,
            "path": str(filed.docx.relative_to(site.settings.paths.outbox)),
            "unsigned": site.settings.review.doctor_signs and signer_of(site.settings, site.store, job) == NOBODY,
        }
    )


@router.post("/api/review/{job_id}/return")
def return_to_author(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Send the report back to its author, with a comment saying why."""
    session = change.session
    t = translator(site.language_of(session))
    comment = str(change.data.get("comment", "")).strip()[:2000]
    if not comment:
        raise HTTPException(400, t("review.err.return_comment"))
    with site.report_locks.of(job_id):
        try:
            site.workspace.lock(job_id, session.user.id)
            site.store.jobs.return_to_author(
                job_id, comment, session.user.username, audit=site.audit.by(session.user.username)
            )
        except LockHeld as e:
            raise HTTPException(423, t("review.locked_by_other", holder=site.workspace.holder(job_id) or "?")) from e
        except TranscribeError as e:
            raise HTTPException(409, error_text(t, e)) from e
        site.workspace.release(job_id, session.user.id)
    return JSONResponse({"returned": True})


def document_of(site: ReviewSite, job: Job, state: WorkState, *, draft: bool) -> tuple[bytes, str]:
    """The report's DOCX and its file name: the filed one while the report is filed, else made as filing makes it.

    Made from the blocks as they stand, with the same sections (``organise``), template and
    people as filing; ``draft`` marks a report not filed yet as a draft.
    """
    if job.state is JobState.FILED and not state.reopened:
        done = site.store.reports.filing(job.id, job.report_version)
        if done is not None and Path(done.docx_path).is_file():
            path = Path(done.docx_path)
            return path.read_bytes(), path.name
    material = material_of(site, job.id)
    language = material.language
    worktype = state.worktype or job.worktype or "consultation"
    patient_id = state.patient_id or job.patient_id
    patient = site.store.patients.patient(patient_id) if patient_id else None
    marked = draft and is_draft(job, state)
    addressee = addressee_for(site, job, state, patient)
    try:
        document = compose_document(
            site.settings,
            site.vocabulary.for_language(language),
            text=final_text(report_blocks(site, job.id, state), language),
            worktype=worktype,
            language=language,
            author=job.author,
            patient=patient,
            copies=addressee.copies,
            recipient=addressee.recipient,
            day=date.today(),
            draft=marked,
        )
    except RenderFailed as e:
        log.error("job %d: the document could not be made: %s", job.id, e)
        raise HTTPException(500, "error.render-failed") from e
    return document, f"{job.id}_{worktype}{'_draft' if marked else ''}.docx"


def is_draft(job: Job, state: WorkState) -> bool:
    """Whether the report as it stands is a draft: not validated yet, or opened again for a new version."""
    return job.state is JobState.DRAFTED or state.reopened
