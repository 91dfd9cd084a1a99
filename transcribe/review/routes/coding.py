"""The codes panel of the review screen: the diagnoses and acts suggested for the report as it stands, the
secretary's decisions (accept, reject, add a code found by its words or by the code), and the codes kept
with a validated version. The suggestions come from ``transcribe.coding``; decisions are kept in the store
and copied onto the version when the report is validated (``store.codes.keep_chosen_codes``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, Response

from transcribe.coding.records import ACCEPTED, ADDED, REJECTED, SUGGESTED, SYSTEMS, systems_of
from transcribe.records import Job
from transcribe.review.dependencies import ReviewSite, Secretary, SecretaryChange, Site
from transcribe.review.i18n import translator
from transcribe.review.report_view import can_change, change_report, material_of, report_blocks
from transcribe.work.review_state import WorkState

router = APIRouter()
#: what a decision may be: accepted, rejected, or none (taken back)
UNDECIDED = "undecided"


@router.get("/api/review/{job_id}/codes")
def codes(job_id: int, site: Site, session: Secretary) -> Response:
    """The codes of a report: suggestions with their words and her decisions, or the codes of its validated version."""
    job = site.job_or_404(job_id)
    return JSONResponse(codes_data(site, job, site.workspace.load(job_id)))


@router.post("/api/review/{job_id}/codes")
def decide(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Accept, reject or take back a decision on a code (a suggested one, or one she found and adds)."""
    data = change.data
    t = translator(site.language_of(change.session))
    system, code = str(data.get("system", "")), str(data.get("code", ""))[:20]
    decision = str(data.get("decision", ""))
    if system not in SYSTEMS or decision not in (ACCEPTED, REJECTED, UNDECIDED):
        raise HTTPException(400, "error.invalid-request")
    label = site.coding.current().catalogue.label(system, code)
    if label is None:
        raise HTTPException(400, t("codes.err.no_code"))

    def apply(state: WorkState, job: Job) -> None:
        if decision == UNDECIDED:
            site.store.codes.forget_code(job_id, system=system, code=code)
            return
        suggested = {(s["system"], s["code"]): s for s in codes_data(site, job, state)["suggestions"]}
        found = suggested.get((system, code))
        site.store.codes.decide_code(
            job_id,
            system=system,
            code=code,
            label=label,
            decision=decision,
            origin=SUGGESTED if found else ADDED,
            evidence=tuple(found["evidence"]) if found else (),
            by=change.session.user.username,
        )

    job = site.job_or_404(job_id)
    if not can_change(job, site.workspace.load(job_id)):
        raise HTTPException(409, t("codes.err.not_changeable"))
    change_report(site, job_id, change, apply, f"code-{decision}", lambda: f"{system} {code}")
    return JSONResponse(codes_data(site, site.job_or_404(job_id), site.workspace.load(job_id)))


@router.get("/api/codes")
def find_codes(site: Site, session: Secretary, q: str = "", lang: str = "") -> Response:
    """Codes of a language's systems (every system when none is given) found by their words or by the code."""
    query = q.strip()[:100]
    if len(query) < 2:
        return JSONResponse([])
    systems = [s.name for s in systems_of(lang)] if lang else list(SYSTEMS)
    found = site.coding.current().catalogue.search(query, systems, limit=20)
    return JSONResponse([entry_data(e.system, e.code, e.label) for e in found])


def entry_data(system: str, code: str, label: str) -> dict[str, Any]:
    """A code as the panel shows it: its system, kind and title beside code and label."""
    return {
        "system": system,
        "code": code,
        "label": label,
        "kind": SYSTEMS[system].kind,
        "title": SYSTEMS[system].title,
    }


def codes_data(site: ReviewSite, job: Job, state: WorkState) -> dict[str, Any]:
    """What the codes panel shows.

    A report that takes changes: the codes suggested for its text as it stands (each with its words and her
    decision), the codes she added, the mentions set aside and the code sets the site lacks. A validated
    report not opened again: the codes kept with its version, to read.
    """
    if not can_change(job, state):
        kept = site.store.codes.report_codes(job.id, job.report_version) if job.report_version else []
        return {
            "changeable": False,
            "suggestions": [],
            "chosen": [
                {**entry_data(c.system, c.code, c.label), "origin": c.origin, "evidence": list(c.evidence)}
                for c in kept
            ],
            "set_aside": [],
            "missing_sets": [],
        }
    language = material_of(site, job.id).language
    suggester = site.coding.current().suggester(language)
    blocks = report_blocks(site, job.id, state)
    text = "\n".join((f"{b.heading}\n" if b.heading else "") + b.text for b in blocks)
    found = suggester.suggest(text) if suggester is not None else None
    decisions = {(d.system, d.code): d for d in site.store.codes.code_decisions(job.id)}
    suggestions = []
    for s in found.suggestions if found else ():
        decided = decisions.pop((s.system, s.code), None)
        suggestions.append(
            {
                **entry_data(s.system, s.code, s.label),
                "evidence": [e.text for e in s.evidence],
                "origin": SUGGESTED,
                "decision": decided.decision if decided else None,
            }
        )
    # decisions on codes the text no longer suggests, and the codes she added
    for d in decisions.values():
        suggestions.append(
            {
                **entry_data(d.system, d.code, d.label),
                "evidence": list(d.evidence),
                "origin": d.origin,
                "decision": d.decision,
            }
        )
    return {
        "changeable": True,
        "language": language,
        "suggestions": suggestions,
        "chosen": [s for s in suggestions if s["decision"] == ACCEPTED],
        "set_aside": [
            {"system": a.system, "code": a.code, "words": a.evidence.text, "reasons": list(a.reasons)}
            for a in (found.set_aside if found else ())
        ],
        "missing_sets": [SYSTEMS[m].title for m in (found.missing_sets if found else ())],
    }
