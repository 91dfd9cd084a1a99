"""The review screen and its API: one report's words linked to the audio, its edits, flags and patient;
saving the work as it goes, then validating and filing it, or returning it to its author."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ...accounts import Session
from ...errors import IdentityMismatch, ReviewError, TranscribeError
from ...filing import file_report
from ...records import Job, JobState
from ...review_state import (
    AnchorLost,
    Block,
    DraftMaterial,
    LockHeld,
    WorkState,
    blocks_of,
    choose_reading,
    current_text,
    final_text,
    load_material,
    revert_edit,
    still_ambiguous,
    take_typed_blocks,
)
from ...validation import identity_problems, validate_report
from ...worktypes import WORKTYPES
from ..annotated import annotated_words
from ..dependencies import ReviewSite, Site, StateChange, signed_in, state_change
from ..i18n import translator

router = APIRouter()
Secretary = Annotated[Session, Depends(signed_in("secretary"))]
SecretaryChange = Annotated[StateChange, Depends(state_change("secretary"))]
Apply = Callable[[WorkState, Job], None]


@router.get("/review/{job_id}", response_class=HTMLResponse)
def review_page(request: Request, job_id: int, site: Site, session: Secretary) -> Response:
    """The review screen; opening a draft takes its lock (read only when someone else holds it)."""
    job = site.job_or_404(job_id)
    holder = None
    if job.state is JobState.DRAFTED:
        try:
            site.workspace.lock(job_id, session.user.id)
        except LockHeld:
            holder = site.workspace.holder(job_id)
    site.audit.record(session.user.username, "opened", job_id)
    return site.page(request, "review.html", session, job=job, holder=holder)


@router.get("/api/review/{job_id}")
def review_json(job_id: int, site: Site, session: Secretary) -> Response:
    """What the review screen shows of a report, as JSON."""
    job = site.job_or_404(job_id)
    if "edits" not in site.store.results_of(job_id):
        raise HTTPException(409, "this dictation has no draft yet")
    return JSONResponse(review_data(site, job, site.workspace.load(job_id), session))


@router.post("/api/review/{job_id}/save")
def save(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Save the typed text, the chosen patient, the identity check and the worktype."""
    data = change.data

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, data)
        if "patient_id" in data:
            chosen = data.get("patient_id")
            if chosen and site.store.patient(str(chosen)) is None:
                raise HTTPException(400, "no such patient in the index")
            state.patient_id = str(chosen) if chosen else None
            state.confirm_identity = False
        if "confirm_identity" in data:
            state.confirm_identity = bool(data["confirm_identity"])
        if data.get("worktype") in WORKTYPES:
            state.worktype = data["worktype"]

    response = change_report(site, job_id, change.session, apply)
    site.audit.record(change.session.user.username, "changed", job_id)
    return response


@router.post("/api/review/{job_id}/revert")
def revert(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Undo one automatic edit in its place (or redo it)."""
    data = change.data
    index, undo = int(data.get("edit", -1)), bool(data.get("undo", False))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, data)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.edits):
            raise HTTPException(400, "no such change")
        if (index in state.reverted) != undo:
            return  # already so
        try:
            revert_edit(material, state, index, undo=undo)
        except AnchorLost as e:
            raise HTTPException(409, str(e)) from e

    response = change_report(site, job_id, change.session, apply)
    site.audit.record(
        change.session.user.username, "edit-restored" if undo else "edit-reverted", job_id, f"edit {index}"
    )
    return response


@router.post("/api/review/{job_id}/resolve")
def resolve(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Tick a point to check (or untick it); a doubtful dose needs one of its readings instead."""
    data = change.data
    index, resolved = int(data.get("flag", -1)), bool(data.get("resolved", True))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, data)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.flags):
            raise HTTPException(400, "no such point to check")
        if resolved and index in still_ambiguous(material, state, site.vocabulary.for_language(material.language)):
            raise HTTPException(
                409,
                "this dose can be read in several ways: choose one of its readings "
                "(or correct it in the text) before ticking it",
            )
        if resolved and index not in state.resolved:
            state.resolved.append(index)
        if not resolved and index in state.resolved:
            state.resolved.remove(index)

    response = change_report(site, job_id, change.session, apply)
    site.audit.record(
        change.session.user.username, "flag-resolved" if resolved else "flag-reopened", job_id, f"flag {index}"
    )
    return response


@router.post("/api/review/{job_id}/reading")
def reading(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Write one reading of a doubtful dose in its place, which resolves its flag."""
    data = change.data
    index, chosen = int(data.get("flag", -1)), str(data.get("reading", ""))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, data)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.flags):
            raise HTTPException(400, "no such point to check")
        try:
            choose_reading(material, state, site.vocabulary.for_language(material.language), index, chosen)
        except ReviewError as e:
            raise HTTPException(409, str(e)) from e

    response = change_report(site, job_id, change.session, apply)
    site.audit.record(change.session.user.username, "reading-chosen", job_id, f"flag {index}")
    return response


@router.post("/api/review/{job_id}/validate")
def validate(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Validate the report once every point is checked and the patient chosen, then file it (202 if filing fails)."""
    session = change.session
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        try:
            site.workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            raise HTTPException(423, str(e)) from e
        state = site.workspace.load(job_id)
        data = review_data(site, job, state, session)
        material = material_of(site, job_id)
        pending = [f for f in data["flags"] if not f["resolved"]]
        ambiguous = still_ambiguous(material, state, site.vocabulary.for_language(material.language))
        if ambiguous:
            raise HTTPException(409, f"{len(ambiguous)} dose(s) can still be read in several ways: choose a reading")
        if pending:
            raise HTTPException(409, f"{len(pending)} point(s) to check remain: resolve every flag before validating")
        patient_id = state.patient_id or job.patient_id
        if not patient_id:
            raise HTTPException(409, "choose the patient before validating")
        blocks = [Block(**b) for b in data["blocks"]]
        try:
            validate_report(
                site.settings,
                site.store,
                job_id,
                validator=session.user.username,
                patient_id=patient_id,
                text=final_text(blocks, data["job"]["language"]),
                worktype=data["job"]["worktype"],
                confirm_identity=state.confirm_identity,
                flags_checked=True,
            )
        except IdentityMismatch as e:
            t = translator(session.user.language or site.settings.review.language)
            raise HTTPException(409, f"{e}. {t('identity_confirm_hint')}") from e
        except ReviewError as e:
            raise HTTPException(409, str(e)) from e
        site.audit.record(session.user.username, "validated", job_id)
        site.workspace.release(job_id, session.user.id)
        try:
            filed = file_report(site.settings, site.store, site.vocabulary, job_id)
        except TranscribeError as e:
            site.audit.record(session.user.username, "filing-failed", job_id, type(e).__name__)
            return JSONResponse({"validated": True, "filed": False, "error": str(e)}, status_code=202)
        site.audit.record(session.user.username, "filed", job_id, f"version {filed.version}")
    return JSONResponse(
        {"validated": True, "filed": True, "path": str(filed.docx.relative_to(site.settings.paths.outbox))}
    )


@router.post("/api/review/{job_id}/return")
def return_to_author(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Send the report back to its author, with a comment saying why."""
    session = change.session
    comment = str(change.data.get("comment", "")).strip()[:2000]
    if not comment:
        raise HTTPException(400, "say in a comment why the report goes back to its author")
    with site.report_locks.of(job_id):
        try:
            site.workspace.lock(job_id, session.user.id)
            site.store.return_to_author(job_id, comment, session.user.username)
        except LockHeld as e:
            raise HTTPException(423, str(e)) from e
        except TranscribeError as e:
            raise HTTPException(409, str(e)) from e
        site.workspace.release(job_id, session.user.id)
    site.audit.record(session.user.username, "returned", job_id)
    return JSONResponse({"returned": True})


@router.post("/api/review/{job_id}/release")
def release(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Give the lock on a report back."""
    site.workspace.release(job_id, change.session.user.id)
    return JSONResponse({"released": True})


@router.get("/api/patients", dependencies=[Depends(signed_in("secretary"))])
def patients(site: Site, q: str = "") -> Response:
    """Patients of the index matching a search."""
    return JSONResponse(
        [
            {
                "id": p.patient_id,
                "name": p.display_name,
                "birth_date": p.birth_date.isoformat() if p.birth_date else None,
            }
            for p in site.store.search_patients(q[:100])
        ]
    )


def change_report(site: ReviewSite, job_id: int, session: Session, apply: Apply) -> JSONResponse:
    """Apply one change to a draft's work in progress, save it, and answer what the screen shows now."""
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        if job.state is not JobState.DRAFTED:
            raise HTTPException(409, f"this report is {job.state.value}: it can no longer be changed")
        state = site.workspace.load(job_id)
        try:
            site.workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            raise HTTPException(423, str(e)) from e
        apply(state, job)
        saved_at = site.workspace.save(job_id, session.user.id, state)
        data = review_data(site, job, state, session)
    data["saved_at"] = saved_at
    return JSONResponse(data)


def material_of(site: ReviewSite, job_id: int) -> DraftMaterial:
    """The draft of a job as the text layer left it: transcript, edits and flags."""
    outputs = site.store.results_of(job_id)
    return load_material(outputs["edits"], outputs["transcript"])


def take_blocks(site: ReviewSite, job_id: int, state: WorkState, data: dict[str, Any]) -> None:
    """The blocks as typed on the screen (sent with every change), anchors moved along."""
    blocks = data.get("blocks")
    if not isinstance(blocks, list):
        return
    typed = [
        Block(str(b.get("key", "body"))[:40], str(b.get("heading", ""))[:200], str(b.get("text", ""))[:100_000])
        for b in blocks
        if isinstance(b, dict)
    ]
    material = material_of(site, job_id)
    take_typed_blocks(material, state, site.vocabulary.for_language(material.language), typed)


def review_data(site: ReviewSite, job: Job, state: WorkState, session: Session) -> dict[str, Any]:
    """What the review screen shows of a report: words, blocks, flags, identity, patient, lock."""
    material = material_of(site, job.id)
    vocab = site.vocabulary.for_language(material.language)
    blocks = state.blocks if state.blocks is not None else blocks_of(current_text(material, state), vocab)
    patient_id = state.patient_id or job.patient_id
    patient = site.store.patient(patient_id) if patient_id else None
    problems = identity_problems(job, patient_id, site.store) if patient and patient_id else []
    identity = job.identity or {}
    holder = site.workspace.holder(job.id)
    return {
        "job": {
            "id": job.id,
            "author": job.author,
            "state": job.state.value,
            "worktype": state.worktype or job.worktype,
            "language": material.language,
            "urgent": job.priority == "urgent",
        },
        "words": annotated_words(material, state),
        "blocks": [asdict(b) for b in blocks],
        "flags": [
            {
                "index": i,
                "kind": f["kind"],
                "reason": f["reason"],
                "suggestion": f.get("suggestion"),
                "choices": list(f.get("choices") or ()),
                "resolved": i in state.resolved,
            }
            for i, f in enumerate(material.flags)
        ],
        "edits": len(material.edits),
        "identity": {
            "given": identity.get("identity"),
            "dictated": identity.get("dictated"),
            "candidates": identity.get("candidates", []),
        },
        "patient": {
            "id": patient.patient_id,
            "name": patient.display_name,
            "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        }
        if patient
        else None,
        "problems": problems,
        "confirm_identity": state.confirm_identity,
        "locked_by": holder,
        "mine": holder == session.user.username,
        "editable": job.state is JobState.DRAFTED,
    }
