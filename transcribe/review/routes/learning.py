"""Learning from the secretary: accuracy figures from validated reports (/stats) and vocabulary proposals."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...accounts import Session
from ...accuracy import (
    GROUPS,
    accuracy,
    decide,
    list_proposals,
    refresh_proposals,
    replay,
    validated_cases,
)
from ...errors import ReviewError
from ..dependencies import Site, StateChange, signed_in, state_change

router = APIRouter()
Doctor = Annotated[Session, Depends(signed_in("doctor"))]
Admin = Annotated[Session, Depends(signed_in("admin"))]
AdminChange = Annotated[StateChange, Depends(state_change("admin"))]


@router.get("/stats", response_class=HTMLResponse)
def stats(request: Request, site: Site, session: Doctor, by: str = "author") -> Response:
    """Accuracy figures by author, worktype... and the word error rate by week (a doctor sees only his own)."""
    by = by if by in GROUPS else "author"
    own = session.user.author if session.user.role == "doctor" else None
    if session.user.role == "doctor" and not own:
        raise HTTPException(403, "no dictations are linked to your account")
    cases = validated_cases(site.store, author=own)
    weekly = accuracy(cases, site.vocabulary, "week")
    return site.page(
        request,
        "stats.html",
        session,
        by=by,
        groups=GROUPS,
        figures=accuracy(cases, site.vocabulary, by),
        chart=_chart([(k, v["word_error_rate"]) for k, v in weekly.items() if k != "all"]),
    )


@router.get("/admin/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, site: Site, session: Admin, message: str = "") -> Response:
    """The vocabulary proposals drawn from the secretaries' corrections, refreshed first."""
    refresh_proposals(site.store, site.vocabulary)
    return site.page(request, "proposals.html", session, proposals=list_proposals(site.store), message=message[:300])


@router.post("/admin/proposals/{proposal_id}/{action}")
def decide_proposal(proposal_id: int, action: str, site: Site, change: AdminChange) -> Response:
    """Replay a proposal on past reports, or accept or reject it."""
    username = change.session.user.username
    try:
        if action == "replay":
            effect = replay(site.store, site.vocabulary, proposal_id)
            message = f"#{proposal_id}: {effect['errors_fixed']} errors fixed, {effect['errors_introduced']} introduced"
        elif action in ("accept", "reject"):
            decide(site.store, site.settings, proposal_id, accept=action == "accept", by=username)
            site.audit.record(username, f"proposal-{action}ed", None, f"proposal {proposal_id}")
            message = f"#{proposal_id}: {action}ed" + (" (used from the next start)" if action == "accept" else "")
        else:
            raise HTTPException(404, "no such action")
    except ReviewError as e:
        message = str(e)
    return RedirectResponse(f"/admin/proposals?message={quote(message)}", status_code=303)


def _chart(points: list[tuple[str, float | None]]) -> dict[str, Any]:
    """Bars of the word error rate per week, as SVG geometry (drawn by the template, no script)."""
    width, height = 40, 120
    bars = []
    for index, (week, rate) in enumerate(points[-26:]):
        value = rate or 0.0
        bar = max(1, int(value * height))
        bars.append(
            {
                "x": index * width + 10,
                "y": height - bar + 10,
                "height": bar,
                "week": week,
                "label": f"{value:.0%}" if rate is not None else "-",
            }
        )
    return {"bars": bars, "width": max(1, len(bars)) * width + 20, "height": height + 40}
