"""Statistics (/stats): the backlog, the turnaround and the accuracy of the drafts; and the vocabulary proposals."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from transcribe.documents.worktypes import label_of
from transcribe.errors import ReviewError
from transcribe.learning.accuracy import (
    GROUPS,
    accuracy,
    decide,
    list_proposals,
    refresh_proposals,
    replay,
    validated_cases,
)
from transcribe.messages import language_name, state_label
from transcribe.review.dependencies import (
    Admin,
    AdminChange,
    Doctor,
    ReviewSite,
    Site,
)
from transcribe.review.display import author_label, span
from transcribe.review.i18n import MESSAGES, translator
from transcribe.work.throughput import AGE_BANDS, BACKLOG_STATES, backlog, turnaround

router = APIRouter()
ACTIONS = ("replay", "accept", "reject")
log = logging.getLogger(__name__)


@router.get("/stats", response_class=HTMLResponse)
def stats(request: Request, site: Site, session: Doctor, by: str = "author") -> Response:
    """What waits and for how long, how long reports take, and the accuracy by author, worktype... (a doctor: his own)."""
    by = by if by in GROUPS else "author"
    own = session.user.author if session.user.role == "doctor" else None
    if session.user.role == "doctor" and not own:
        raise HTTPException(403, "error.no-author")
    language = site.language_of(session)
    t = translator(language)
    now = time.time()
    waiting = backlog(site.store, now=now, author=own)
    cases = validated_cases(site.store, author=own)
    weekly = accuracy(cases, site.vocabulary, "week")
    return site.page(
        request,
        "stats.html",
        session,
        by=by,
        groups=[(g, t(f"group.{g}")) for g in GROUPS],
        bands=[(name, t(f"age.{name}")) for name, _ in AGE_BANDS],
        backlog=[
            {
                "state": s.value,
                "label": state_label(s.value, language),
                "bands": waiting.counts[s],
                "total": waiting.total(s),
            }
            for s in BACKLOG_STATES
        ],
        turnaround=[
            {
                "span": f.span,
                "label": t(f"span.{f.span}"),
                "reports": f.reports,
                "median": span(f.median_s, language),
                "ninetieth": span(f.ninetieth_s, language),
            }
            for f in turnaround(site.store, now=now, author=own)
        ],
        figures=[
            (key, _group_label(site, by, key, language, t), f)
            for key, f in accuracy(cases, site.vocabulary, by).items()
        ],
        chart=_chart([(week_label(k, t, short=True), v["word_error_rate"]) for k, v in weekly.items() if k != "all"]),
    )


@router.get("/admin/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, site: Site, session: Admin, message: str = "") -> Response:
    """The vocabulary proposals drawn from the secretaries' corrections, refreshed first."""
    language = site.language_of(session)
    t = translator(language)
    refresh_proposals(site.store, site.vocabulary)
    params = {k: request.query_params.get(k, "")[:20] for k in ("id", "fixed", "introduced")}
    return site.page(
        request,
        "proposals.html",
        session,
        proposals=[
            {
                **dataclasses.asdict(p),
                "language_name": language_name(p.language, language),
                "author_name": author_label(site.settings, p.author, language),
            }
            for p in list_proposals(site.store)
        ],
        message=t(message, **params) if message in MESSAGES else "",
    )


@router.post("/admin/proposals/{proposal_id}/{action}")
def decide_proposal(proposal_id: int, action: str, site: Site, change: AdminChange) -> Response:
    """Replay a proposal on past reports, or accept or reject it (accepted: used from the next dictation)."""
    if action not in ACTIONS:
        raise HTTPException(404, "error.no-such-action")
    username = change.session.user.username
    refused = _refusal(site, proposal_id, action)
    if refused:
        return _back(refused, id=proposal_id)
    try:
        if action == "replay":
            effect = replay(site.store, site.vocabulary, proposal_id)
            return _back(
                "done.proposal-replayed",
                id=proposal_id,
                fixed=effect.errors_fixed,
                introduced=effect.errors_introduced,
            )
        decide(
            site.store,
            site.settings,
            proposal_id,
            accept=action == "accept",
            by=username,
            every_author=change.data.get("every_author") == "1",
            audit=site.audit.by(username),
        )
    except ReviewError as e:
        log.warning("proposal %d: %s", proposal_id, e)
        return _back("error.proposal", id=proposal_id)
    if action == "accept":
        site.live_vocabulary.current(now=True)
    return _back(f"done.proposal-{action}ed", id=proposal_id)


def _refusal(site: ReviewSite, proposal_id: int, action: str) -> str | None:
    """Why this action cannot be taken on this proposal, as a catalogue key; None when it can."""
    found = site.store.proposals.proposal(proposal_id)
    if found is None:
        return "proposal.unknown"
    if action == "replay" and found.kind == "biasing":
        return "proposal.not-replayable"
    if action != "replay" and found.status != "open":
        return "proposal.decided"
    return None


def _back(message: str, **params: Any) -> Response:
    return RedirectResponse("/admin/proposals?" + urlencode({"message": message, **params}), status_code=303)


def _group_label(site: ReviewSite, by: str, key: str, language: str, t: Any) -> str:
    """A group of the accuracy table as the reader knows it: the author's name, the worktype's label..."""
    if key == "all":
        return str(t("group.all"))
    if by == "author":
        return author_label(site.settings, key, language)
    if by == "worktype" and key != "-":
        return label_of(key, language)
    if by == "language" and key != "-":
        return language_name(key, language)
    if by == "week":
        return week_label(key, t)
    return key


def week_label(key: str, t: Any, short: bool = False) -> str:
    """An ISO week ("2026-W49") as the reader writes it: "semaine 49 de 2026", or "S49" / "W49" when short."""
    year, _, week = key.partition("-W")
    if not week.isdigit():
        return key
    return str(t("week_short", week=week) if short else t("week_label", week=int(week), year=year))


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
