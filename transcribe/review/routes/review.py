"""The review screen and its API: one report's text linked to the audio, its edits, flags and patient;
saving the work as it goes. Opening a report does not lock it: the first change does (see ``change_report``).

Validation, output and the lock's own routes are in ``review_output.py`` and ``review_lock.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from transcribe.documents.letters import Addressee, clean_copies
from transcribe.documents.report import addressee_of
from transcribe.documents.worktypes import WORKTYPES, label_of
from transcribe.errors import ReviewError
from transcribe.messages import SEXES, state_label
from transcribe.patient_record.patients import PatientRecord
from transcribe.patient_record.validation import identity_problems
from transcribe.records import Job, JobState
from transcribe.review.annotated import annotated_blocks, time_of_span
from transcribe.review.autotext import load_autotext
from transcribe.review.dependencies import ReviewSite, Site, StateChange, signed_in, state_change
from transcribe.review.display import author_label, day, local_datetime, number
from transcribe.review.i18n import MESSAGES, translator
from transcribe.review.wording import flag_kind, flag_reason, identity_words, rule_label, source_label
from transcribe.security.accounts import Session
from transcribe.work.review_state import (
    MAX_REPORT_CHARS,
    AnchorLost,
    Block,
    DraftMaterial,
    LockHeld,
    ReportTooLong,
    WorkState,
    apply_suggestion,
    blocks_of,
    choose_reading,
    current_text,
    final_text,
    load_material,
    replace_text,
    revert_edit,
    still_ambiguous,
    take_back_suggestion,
    take_typed_blocks,
)

router = APIRouter()
Secretary = Annotated[Session, Depends(signed_in("secretary"))]
SecretaryChange = Annotated[StateChange, Depends(state_change("secretary"))]
Apply = Callable[[WorkState, Job], None]
#: said with a refusal because the report is someone else's now: the text sent was kept (``refused_drafts``),
#: and the screen shows the report as saved, her text put aside
TEXT_KEPT = {"X-Text-Kept": "1"}


def held_by(holder: str) -> dict[str, str]:
    """The refusal's headers when another secretary holds the report: her screen says who at once."""
    return {**TEXT_KEPT, "X-Held-By": quote(holder)}


#: the words review.js shows, given to it with the page: the screen's own ("review.<name>"), else shared ones
SCREEN_WORDS = (
    "heard", "revert", "reapply", "resolved", "to_check", "choose", "no_patient", "identity_conflict",
    "dictated_identity", "candidates", "chosen_patient", "body", "saved", "saving", "filed", "low_confidence",
    "apply_suggestion", "locked_by_other", "reopened_note", "not_found", "replaced_count", "autotext_unknown",
    "confirm_file", "confirm_refile", "preview_title", "version", "words_removed", "flags_pending", "filing_failed",
    "open_count", "awaiting_signature", "offline", "server_error", "quote", "not_saved", "login_again",
    "too_long_paste", "kept_before_reload", "restored", "undo_suggestion", "identity_confirm_hint", "identity_from",
    "refused_by", "refused_title", "awaiting_signature_admin", "awaiting_signature_by", "filed_unsigned",
    "audio_ranking", "without_the_list", "audio_removed",
    "codes.diagnosis", "codes.act", "codes.accept", "codes.reject", "codes.undo", "codes.add", "codes.accepted",
    "codes.rejected", "codes.added", "codes.none", "codes.no_result", "codes.set_aside", "codes.reason.negated",
    "codes.reason.hypothetical", "codes.reason.family", "codes.missing_set",
)  # fmt: skip


@router.get("/review/{job_id}", response_class=HTMLResponse)
def review_page(request: Request, job_id: int, site: Site, session: Secretary) -> Response:
    """The review screen; opening a report takes no lock (her first change does)."""
    job = site.job_or_404(job_id)
    site.audit.record(session.user.username, "opened", job_id)
    t = translator(site.language_of(session))
    return site.page(
        request,
        "review.html",
        session,
        job=job,
        author=author_label(site.settings, job.author, site.language_of(session)),
        words={key: t(f"review.{key}") if f"review.{key}" in MESSAGES else t(key) for key in SCREEN_WORDS},
        autotext=load_autotext(site.settings.paths.templates),
        expected=expected_words(site, job_id),
        worktypes=[(w, label_of(w, site.language_of(session))) for w in WORKTYPES],
        max_chars=number(MAX_REPORT_CHARS, site.language_of(session)),
    )


def expected_words(site: ReviewSite, job_id: int) -> list[tuple[str, str]]:
    """The words the engine was told to expect for this dictation (its biasing list), each with its source."""
    transcript = site.store.jobs.results_of(job_id).get("transcript")
    if transcript is None:
        return []
    try:
        biasing = json.loads(transcript.read_text(encoding="utf-8")).get("options", {}).get("biasing") or {}
    except (OSError, ValueError):
        return []
    sources = biasing.get("sources") or {}
    return [(str(term), str(sources.get(term, ""))) for term in biasing.get("terms") or ()]


@router.get("/api/review/{job_id}")
def review_json(job_id: int, site: Site, session: Secretary) -> Response:
    """What the review screen shows of a report, as JSON (after any change being saved)."""
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        edits = site.store.jobs.results_of(job_id).get("edits")
        if edits is None or not edits.is_file():  # never drafted, or its drafts deleted by the retention policy
            raise HTTPException(409, "review.err.no_draft")
        return JSONResponse(review_data(site, job, site.workspace.load(job_id), session))


@router.post("/api/review/{job_id}/save")
def save(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Save the typed text, the chosen patient, the identity check, the worktype, the addressee and copies."""
    data = change.data
    t = translator(site.language_of(change.session))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, change)
        if "patient_id" in data:
            chosen = data.get("patient_id")
            if chosen and site.store.patients.patient(str(chosen)) is None:
                raise HTTPException(400, t("review.err.no_patient"))
            state.patient_id = str(chosen) if chosen else None
            state.confirm_identity = False
        if "confirm_identity" in data:
            state.confirm_identity = bool(data["confirm_identity"])
        if data.get("worktype") in WORKTYPES:
            state.worktype = data["worktype"]
        if isinstance(data.get("recipient"), str):
            state.recipient = " ".join(data["recipient"].split())[:200]
        if isinstance(data.get("copies"), list):
            state.copies = list(clean_copies([str(c) for c in data["copies"]]))

    return JSONResponse(change_report(site, job_id, change, apply, "changed"))


@router.post("/api/review/{job_id}/revert")
def revert(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Undo one automatic edit in its place (or redo it)."""
    data = change.data
    index, undo = int(data.get("edit", -1)), bool(data.get("undo", False))
    t = translator(site.language_of(change.session))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, change)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.edits):
            raise HTTPException(400, t("review.err.no_edit"))
        if (index in state.reverted) != undo:
            return  # already so
        try:
            revert_edit(material, state, index, undo=undo)
        except AnchorLost as e:
            raise HTTPException(409, t("review.err.anchor_lost")) from e

    action = "edit-restored" if undo else "edit-reverted"
    return JSONResponse(change_report(site, job_id, change, apply, action, lambda: f"edit {index}"))


@router.post("/api/review/{job_id}/resolve")
def resolve(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Tick a point to check (or untick it); a doubtful dose needs one of its readings instead."""
    data = change.data
    index, resolved = int(data.get("flag", -1)), bool(data.get("resolved", True))
    t = translator(site.language_of(change.session))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, change)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.flags):
            raise HTTPException(400, t("review.err.no_flag"))
        if resolved and index in still_ambiguous(material, state, site.vocabulary.for_language(material.language)):
            raise HTTPException(409, t("review.err.choose_reading"))
        if resolved and index not in state.resolved:
            state.resolved.append(index)
        if not resolved and index in state.resolved:
            state.resolved.remove(index)

    action = "flag-resolved" if resolved else "flag-reopened"
    return JSONResponse(change_report(site, job_id, change, apply, action, lambda: f"flag {index}"))


@router.post("/api/review/{job_id}/reading")
def reading(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Write one reading of a doubtful dose in its place, which resolves its flag."""
    data = change.data
    index, chosen = int(data.get("flag", -1)), str(data.get("reading", ""))
    t = translator(site.language_of(change.session))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, change)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.flags):
            raise HTTPException(400, t("review.err.no_flag"))
        try:
            choose_reading(material, state, site.vocabulary.for_language(material.language), index, chosen)
        except AnchorLost as e:
            raise HTTPException(409, t("review.err.anchor_lost")) from e
        except ReviewError as e:
            raise HTTPException(409, t("review.err.not_a_reading")) from e

    return JSONResponse(change_report(site, job_id, change, apply, "reading-chosen", lambda: f"flag {index}"))


@router.post("/api/review/{job_id}/suggestion")
def suggestion(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Write a flag's suggestion in its place (on its anchor), which resolves it; ``undo``: take it back."""
    index, undo = int(change.data.get("flag", -1)), bool(change.data.get("undo", False))
    t = translator(site.language_of(change.session))

    def apply(state: WorkState, job: Job) -> None:
        take_blocks(site, job_id, state, change)
        material = material_of(site, job_id)
        if not 0 <= index < len(material.flags):
            raise HTTPException(400, t("review.err.no_flag"))
        vocab = site.vocabulary.for_language(material.language)
        if undo != (index in state.suggested):
            return  # already so (a second click, a late key)
        try:
            if undo:
                take_back_suggestion(material, state, vocab, index)
            else:
                apply_suggestion(material, state, vocab, index)
        except AnchorLost as e:
            raise HTTPException(409, t("review.err.suggestion_rewritten" if undo else "review.err.anchor_lost")) from e
        except ReviewError as e:
            raise HTTPException(409, t("review.err.no_suggestion")) from e

    action = "suggestion-taken-back" if undo else "suggestion-applied"
    return JSONResponse(change_report(site, job_id, change, apply, action, lambda: f"flag {index}"))


@router.post("/api/review/{job_id}/replace")
def replace(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Replace a word or phrase in the text: one occurrence (``at``: [block, start]) or all of them."""
    data = change.data
    find, new = str(data.get("find", ""))[:500], str(data.get("replace", ""))[:2000]
    at = data.get("at")
    t = translator(site.language_of(change.session))
    try:
        place = (int(at[0]), int(at[1])) if isinstance(at, list) and len(at) == 2 else None
    except (TypeError, ValueError) as e:
        raise HTTPException(400, t("review.err.search_again")) from e
    count = 0

    def apply(state: WorkState, job: Job) -> None:
        nonlocal count
        take_blocks(site, job_id, state, change)
        material = material_of(site, job_id)
        try:
            count = replace_text(material, state, site.vocabulary.for_language(material.language), find, new, at=place)
        except ReviewError as e:
            raise HTTPException(409, t("review.err.search_again")) from e

    answer = change_report(site, job_id, change, apply, "replaced", lambda: f"{count} occurrence(s)")
    return JSONResponse({**answer, "replaced": count})


@router.get("/api/autotext", dependencies=[Depends(signed_in("secretary"))])
def autotext(site: Site) -> Response:
    """The site's text blocks, inserted by their short code (templates/autotext.tsv)."""
    return JSONResponse([{"code": a.code, "text": a.text} for a in load_autotext(site.settings.paths.templates)])


@router.get("/api/patients")
def patients(site: Site, session: Secretary, q: str = "") -> Response:
    """Patients of the index matching a search (birth dates written as the reader's screens write dates)."""
    language = site.language_of(session)
    return JSONResponse(
        [
            {
                "id": p.patient_id,
                "name": p.display_name,
                "birth_date": day(p.birth_date, language) or None,
            }
            for p in site.store.patients.search_patients(q[:100])
        ]
    )


def can_change(job: Job, state: WorkState) -> bool:
    """Whether a report takes changes: a draft, or a validated or filed report opened again."""
    return job.state is JobState.DRAFTED or (state.reopened and job.state in (JobState.VALIDATED, JobState.FILED))


def change_report(
    site: ReviewSite,
    job_id: int,
    change: StateChange,
    apply: Apply,
    action: str,
    detail: Callable[[], str | None] = lambda: None,
) -> dict[str, Any]:
    """Apply one change to a report's work in progress, save it with its audit entry (``action``, ``detail``
    read once the change is applied) in one transaction, and answer what the screen shows now.

    The change takes the lock (a short lease it renews). Taking it anew is refused when someone
    else saved the report since the screen read it (``base``): her screen would overwrite that work.
    """
    session = change.session
    t = translator(site.language_of(session))
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        state = site.workspace.load(job_id)
        if not can_change(job, state):
            keep_refused(site, job_id, state, change)
            label = state_label(job.state.value, site.language_of(session))
            raise HTTPException(409, t("review.err.not_changeable", state=label), headers=TEXT_KEPT)
        holder = site.workspace.holder(job_id)
        if holder is not None and holder != session.user.username:
            keep_refused(site, job_id, state, change)
            raise HTTPException(423, t("review.taken_by_other", holder=holder), headers=held_by(holder))
        base, last = change.data.get("base"), site.workspace.last_save(job_id)
        if holder is None and isinstance(base, (int, float)) and last is not None:
            saved_at, saved_by = last
            if saved_by != session.user.id and saved_at > base + 1e-6:
                keep_refused(site, job_id, state, change)
                raise HTTPException(409, t("review.stale_reload"), headers=TEXT_KEPT)
        try:
            site.workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            keep_refused(site, job_id, state, change)
            holder = site.workspace.holder(job_id) or "?"
            raise HTTPException(423, t("review.taken_by_other", holder=holder), headers=held_by(holder)) from e
        apply(state, job)
        entry = site.audit.by(session.user.username).entry(action, job_id, detail())
        saved_at = site.workspace.save(job_id, session.user.id, state, audit=entry)
        data = review_data(site, job, state, session)
    data["saved_at"] = saved_at
    return data


def material_of(site: ReviewSite, job_id: int) -> DraftMaterial:
    """The draft of a job as the text layer left it: transcript, edits and flags."""
    outputs = site.store.jobs.results_of(job_id)
    return load_material(outputs["edits"], outputs["transcript"])


def report_blocks(site: ReviewSite, job_id: int, state: WorkState) -> list[Block]:
    """The report's blocks as they stand: as she typed them, else as the text layer made them."""
    if state.blocks is not None:
        return state.blocks
    material = material_of(site, job_id)
    return blocks_of(current_text(material, state), site.vocabulary.for_language(material.language))


def typed_blocks(change: StateChange) -> list[Block] | None:
    """The blocks a screen sent with a change (None: it sent none), as typed: never cut."""
    blocks = change.data.get("blocks")
    if not isinstance(blocks, list):
        return None
    return [
        Block(str(b.get("key", "body"))[:40], str(b.get("heading", ""))[:200], str(b.get("text", "")))
        for b in blocks
        if isinstance(b, dict)
    ]


def take_blocks(site: ReviewSite, job_id: int, state: WorkState, change: StateChange) -> None:
    """The blocks as typed on the screen (sent with every change), anchors moved along.

    Blocks her screen read before the ones kept (a late request) are not taken. Blocks longer than
    a report can be are refused whole (413), in words: nothing is cut.
    """
    typed, stamp = typed_blocks(change), change.data.get("typed_at")
    if typed is None:
        return
    user = change.session.user.id
    if isinstance(stamp, (int, float)):
        if state.typed_by == user and stamp < state.typed_at:
            return
        state.typed_by, state.typed_at = user, float(stamp)
    material = material_of(site, job_id)
    try:
        take_typed_blocks(material, state, site.vocabulary.for_language(material.language), typed)
    except ReportTooLong as e:
        language = site.language_of(change.session)
        t = translator(language)
        raise HTTPException(
            413, t(e.code, length=number(e.params["length"], language), limit=number(e.params["limit"], language))
        ) from e


def keep_refused(site: ReviewSite, job_id: int, state: WorkState, change: StateChange) -> None:
    """Keep, with its author, text a screen sent that is not taken because the report is someone else's now.

    Only text that differs from the report as it stands: a tick sent with unchanged blocks keeps nothing.
    """
    typed = typed_blocks(change)
    if (
        not typed
        or sum(len(b.text) for b in typed) > MAX_REPORT_CHARS
        or [(b.heading, b.text) for b in typed] == [(b.heading, b.text) for b in report_blocks(site, job_id, state)]
    ):
        return
    site.workspace.refuse(job_id, change.session.user.id, typed)


def review_data(site: ReviewSite, job: Job, state: WorkState, session: Session) -> dict[str, Any]:
    """What the review screen shows of a report: blocks with their pieces, flags, identity, patient, lock."""
    language = site.language_of(session)
    t = translator(language)
    material = material_of(site, job.id)
    vocab = site.vocabulary.for_language(material.language)
    blocks, anchors = annotated_blocks(material, state, vocab)
    for block in blocks:
        for piece in block["pieces"]:
            if "rule" in piece:
                piece["rule"] = rule_label(piece["rule"], t)
    patient_id = state.patient_id or job.patient_id
    patient = site.store.patients.patient(patient_id) if patient_id else None
    problems = identity_problems(job, patient_id, site.store) if patient and patient_id else []
    holder = site.workspace.holder(job.id)
    last = site.workspace.last_save(job.id)
    changeable = can_change(job, state)
    return {
        "job": {
            "id": job.id,
            "author": job.author,
            "state": job.state.value,
            "state_label": state_label(job.state.value, language),
            "worktype": state.worktype or job.worktype,
            "language": material.language,
            "urgent": job.priority == "urgent",
            "version": job.report_version,
            "reopened": state.reopened,
        },
        "blocks": blocks,
        "flags": [
            flag_data(material, state, i, anchors.get(f"flag:{i}"), language) for i in range(len(material.flags))
        ],
        "edits": len(material.edits),
        "identity": identity_data(job, language),
        "patient": {
            "id": patient.patient_id,
            "name": patient.display_name,
            "birth_date": day(patient.birth_date, language) or None,
        }
        if patient
        else None,
        "problems": [identity_words(p, language) for p in problems],
        "confirm_identity": state.confirm_identity,
        "refused": [
            {"by": r.username, "at": local_datetime(r.at, language), "text": r.text}
            for r in site.workspace.refused(job.id)
        ],
        "max_chars": MAX_REPORT_CHARS,
        "letter": letter_data(site, job, state, patient),
        "audio_removed": next(
            (local_datetime(r.removed_at, language) for r in site.store.keeping.removals(job.id) if r.kind == "audio"),
            None,
        ),
        "locked_by": holder,
        "mine": holder == session.user.username,
        "changeable": changeable,
        "editable": changeable and holder in (None, session.user.username),
        "reopenable": job.state in (JobState.VALIDATED, JobState.FILED) and not state.reopened,
        "base": last[0] if last else None,
    }


def addressee_for(site: ReviewSite, job: Job, state: WorkState, patient: PatientRecord | None) -> Addressee:
    """Who the report is for as it stands: her choice on the screen, else the sidecar's, the dictation's, the GP."""
    material = material_of(site, job.id)
    return addressee_of(
        worktype=state.worktype or job.worktype or "consultation",
        text=final_text(report_blocks(site, job.id, state), material.language),
        language=material.language,
        metadata=job.metadata,
        patient=patient,
        typed_recipient=state.recipient,
        typed_copies=state.copies,
    )


def letter_data(site: ReviewSite, job: Job, state: WorkState, patient: PatientRecord | None) -> dict[str, Any]:
    """The addressee and copies the screen shows, and where the addressee came from."""
    addressee = addressee_for(site, job, state, patient)
    return {"recipient": addressee.recipient, "source": addressee.source, "copies": list(addressee.copies)}


def flag_data(material: DraftMaterial, state: WorkState, index: int, anchor: Any, language: str) -> dict[str, Any]:
    """One point to check as the screen shows it, in the reader's language, with its place and time."""
    flag = material.flags[index]
    t = translator(language)
    return {
        "index": index,
        "kind": flag["kind"],
        "kind_label": flag_kind(flag["kind"], t),
        "reason": flag_reason(flag, language),
        "suggestion": flag.get("suggestion"),
        "choices": list(flag.get("choices") or ()),
        "resolved": index in state.resolved,
        "suggested": index in state.suggested,
        "anchor": list(anchor) if anchor is not None else None,
        "time": time_of_span(material, int(flag["start"]), int(flag["end"])),
    }


def identity_data(job: Job, language: str) -> dict[str, Any]:
    """What came with the dictation about the patient, and the candidates, in the reader's language."""
    identity = job.identity or {}

    t = translator(language)

    def who(data: dict[str, Any] | None) -> dict[str, Any] | None:
        if not data:
            return None
        sex, age = data.get("sex") or "", data.get("age")
        return {
            **data,
            "source_label": source_label(str(data.get("source", "")), language),
            "sex_label": SEXES.say(sex, language, "") if sex else "",
            "age_label": t("review.age", age=age) if age is not None else "",
            **born(data),
        }

    def born(data: dict[str, Any]) -> dict[str, Any]:
        return {"birth_date": day(data["birth_date"], language)} if data.get("birth_date") else {}

    return {
        "given": who(identity.get("identity")),
        "dictated": who(identity.get("dictated")),
        "candidates": [
            {**c, "evidence": [identity_words(e, language) for e in c.get("evidence", [])], **born(c)}
            for c in identity.get("candidates", [])
        ],
    }
