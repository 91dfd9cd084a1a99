"""The review screen and its API: one report's text linked to the audio, its edits, flags and patient;
saving the work as it goes. Opening a report does not lock it: the first change does (see ``change_report``).

Validation, output and the lock's own routes are in ``review_output.py`` and ``review_lock.py``.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from transcribe.documents.letters import clean_copies
from transcribe.documents.worktypes import WORKTYPES, label_of
from transcribe.errors import ReviewError
from transcribe.records import Job
from transcribe.review.autotext import load_autotext
from transcribe.review.dependencies import (
    ReviewSite,
    Secretary,
    SecretaryChange,
    Site,
    signed_in,
)
from transcribe.review.display import author_label, day, number
from transcribe.review.i18n import MESSAGES, translator
from transcribe.review.report_view import (
    change_report,
    material_of,
    review_data,
    take_blocks,
)
from transcribe.work.review_state import (
    MAX_REPORT_CHARS,
    AnchorLost,
    WorkState,
    apply_suggestion,
    choose_reading,
    replace_text,
    revert_edit,
    still_ambiguous,
    take_back_suggestion,
)

router = APIRouter()
#: the words review.js shows, given to it with the page: the screen's own ("review.<name>"), else shared ones
SCREEN_WORDS = (
    "heard", "revert", "reapply", "resolved", "to_check", "choose", "no_patient", "err.choose_patient", "identity_conflict",
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
