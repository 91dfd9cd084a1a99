"""The secretaries' worklist: the reports to review, filtered, searched and sorted, with who holds which (page and JSON)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import QueryParams

from ...accounts import Session
from ...messages import language_name, state_label
from ...records import JobState, format_duration
from ...signatures import awaiting_signature
from ...worklist import SORTS, WORKED_ON, WorklistQuery, WorklistRow, author_name, worklist
from ...worktypes import WORKTYPES, label_of
from ..dependencies import ReviewSite, Site, signed_in
from ..display import day, local_datetime
from ..i18n import translator

router = APIRouter()
Secretary = Annotated[Session, Depends(signed_in("secretary"))]

#: the states the worklist can show, in the order of its filter
STATES = ("drafted", "returned", "validated", "filed")
#: the sortable columns, in the order of the table, with the catalogue key of their heading
COLUMNS = {
    "patient": "patient",
    "author": "author",
    "dictated": "dictated",
    "due": "due",
    "duration": "duration",
    "worktype": "worktype",
    "flags": "flags",
    "state": "status",
    "holder": "holder",
}


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, site: Site, session: Secretary) -> Response:
    """The worklist page."""
    language = site.language_of(session)
    t = translator(language)
    query = dict(request.query_params)
    sort, order = query.get("sort", "urgency"), query.get("order", "asc")
    return site.page(
        request,
        "queue.html",
        session,
        data=queue_items(site, session, request.query_params),
        query=query,
        states=[(s, state_label(s, language)) for s in STATES],
        authors=known_authors(site),
        worktypes=[(w, label_of(w, language)) for w in WORKTYPES],
        languages=[(code, language_name(code, language)) for code in site.settings.site_languages],
        columns=[
            {
                "key": key,
                "label": t(heading),
                "href": "/queue?" + urlencode({**query, "sort": key, "order": _next_order(key, sort, order)}),
                "sorted": order if key == sort else "",
            }
            for key, heading in COLUMNS.items()
        ],
    )


@router.get("/api/queue")
def queue_json(request: Request, site: Site, session: Secretary) -> Response:
    """The worklist as JSON (the page refreshes itself with it)."""
    return JSONResponse(queue_items(site, session, request.query_params))


def queue_items(site: ReviewSite, session: Session, params: QueryParams) -> dict[str, Any]:
    """The reports matching the filters, ready to show in the user's language, and how many are in each state."""
    language = site.language_of(session)
    mine = params.get("mine") == "1"
    status = params.get("status") or ("all" if mine else "drafted")
    states = WORKED_ON if status == "all" else (JobState(status),) if status in STATES else (JobState.DRAFTED,)
    sort = params.get("sort") or "urgency"
    query = WorklistQuery(
        states=states,
        author=params.get("author") or None,
        worktype=params.get("worktype") or None,
        language=params.get("language") or None,
        search=(params.get("q") or params.get("patient") or "")[:200],
        mine=session.user.id if mine else None,
        sort=sort if sort in SORTS else "urgency",
        descending=params.get("order") == "desc",
    )
    rows = worklist(site.settings, site.store, query, today=date.today(), language=language)
    counts = site.store.count_by_state()
    return {
        "items": [_item(site, row, language) for row in rows],
        "counts": [
            {"state": s, "label": state_label(s, language), "count": counts.get(JobState(s), 0)} for s in STATES
        ],
    }


def _item(site: ReviewSite, row: WorklistRow, language: str) -> dict[str, Any]:
    """One row of the worklist as the page shows it."""
    job = row.job
    thread = []
    if job.return_comment:
        returned_by = next(
            (actor for _, event, actor, _ in reversed(site.store.events(job.id)) if event == "returned"), None
        )
        thread.append({"by": returned_by or "", "text": job.return_comment})
    thread += [{"by": c.username, "text": c.text, "at": local_datetime(c.at, language)} for c in row.comments]
    return {
        "id": job.id,
        "urgent": job.priority == "urgent",
        "state": job.state.value,
        "state_label": state_label(job.state.value, language),
        "patient_id": row.patient_id or "",
        "patient_name": row.patient.display_name if row.patient else "",
        "patient_chosen": row.chosen,
        "author": job.author,
        "author_name": author_name(site.settings, job.author),
        "dictated": local_datetime(job.created_at, language),
        "due": day(job.due_date, language),
        "overdue": row.overdue,
        "duration": format_duration(job.duration_s),
        "worktype": job.worktype or "",
        "worktype_label": label_of(job.worktype, language) if job.worktype else "",
        "language": job.language or "",
        "flags": job.flag_count,
        "holder": row.holder or "",
        "filing_error": bool(job.filing_error),
        "awaiting_signature": awaiting_signature(site.settings, site.store, job),
        "thread": thread,
    }


def known_authors(site: ReviewSite) -> list[tuple[str, str]]:
    """Every author the site knows (its settings, its dictations, its doctors' accounts), with his name."""
    names = set(site.settings.authors) | set(site.store.authors())
    names |= {user.author for user in site.accounts.list_users() if user.author}
    return sorted(((a, author_name(site.settings, a)) for a in names), key=lambda pair: pair[1].lower())


def _next_order(key: str, sort: str, order: str) -> str:
    """Clicking a column sorts by it, ascending; clicking it again reverses the order."""
    return "desc" if key == sort and order != "desc" else "asc"
