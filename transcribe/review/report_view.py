"""A report under review as the screens and their routes share it: whether it may change, one change applied
and saved under the lock (``change_report``), its draft material and blocks, and what the review screen
shows of it (``review_data``). The routers (``routes/review.py``, ``review_output.py``, ``review_lock.py``,
``coding.py``) only read requests and answer with these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException

from transcribe.documents.letters import Addressee
from transcribe.documents.report import addressee_of
from transcribe.messages import SEXES, state_label
from transcribe.patient_record.patients import PatientRecord
from transcribe.patient_record.validation import identity_problems
from transcribe.records import DictatedIdentity, Job, JobState, PatientProposal
from transcribe.review.annotated import annotated_blocks, time_of_span
from transcribe.review.dependencies import (
    ReviewSite,
    StateChange,
)
from transcribe.review.display import day, local_datetime, number
from transcribe.review.i18n import translator
from transcribe.review.wording import flag_kind, flag_reason, identity_words, rule_label, source_label
from transcribe.security.accounts import Session
from transcribe.work.review_state import (
    MAX_REPORT_CHARS,
    Block,
    DraftMaterial,
    LockHeld,
    ReportTooLong,
    WorkState,
    blocks_of,
    current_text,
    final_text,
    load_material,
    take_typed_blocks,
)

Apply = Callable[[WorkState, Job], None]
#: said with a refusal because the report is someone else's now: the text sent was kept (``refused_drafts``),
#: and the screen shows the report as saved, her text put aside
TEXT_KEPT = {"X-Text-Kept": "1"}


def held_by(holder: str) -> dict[str, str]:
    """The refusal's headers when another secretary holds the report: her screen says who at once."""
    return {**TEXT_KEPT, "X-Held-By": quote(holder)}


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
            "patient_id": patient_id,  # the one validation will file under (None: she must choose one)
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
    proposal = job.identity or PatientProposal()
    t = translator(language)

    def born(birth: date | None) -> str | None:
        return day(birth, language) if birth else None

    def who(identity: DictatedIdentity | None) -> dict[str, Any] | None:
        if identity is None:
            return None
        return {
            **identity.to_json(),
            "birth_date": born(identity.birth_date),
            "source_label": source_label(identity.source, language),
            "sex_label": SEXES.say(identity.sex, language, "") if identity.sex else "",
            "age_label": t("review.age", age=identity.age) if identity.age is not None else "",
        }

    return {
        "given": who(proposal.identity),
        "dictated": who(proposal.dictated),
        "candidates": [
            {
                **c.to_json(),
                "birth_date": born(c.birth_date),
                "evidence": [identity_words(e, language) for e in c.evidence],
            }
            for c in proposal.candidates
        ],
    }
