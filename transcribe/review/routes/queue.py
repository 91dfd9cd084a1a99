"""The secretaries' queue: the reports to review, filtered, with who is working on which (page and JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import QueryParams

from ...accounts import Session
from ...records import JobState, format_duration
from ...worktypes import WORKTYPES
from ..dependencies import ReviewSite, Site, signed_in

router = APIRouter()
Secretary = Annotated[Session, Depends(signed_in("secretary"))]

STATES = {
    "drafted": (JobState.DRAFTED,),
    "validated": (JobState.VALIDATED,),
    "returned": (JobState.RETURNED,),
    "filed": (JobState.FILED,),
}


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, site: Site, session: Secretary) -> Response:
    """The queue page."""
    return site.page(
        request,
        "queue.html",
        session,
        data=queue_items(site, request.query_params),
        query=dict(request.query_params),
        worktypes=WORKTYPES,
    )


@router.get("/api/queue", dependencies=[Depends(signed_in("secretary"))])
def queue_json(request: Request, site: Site) -> Response:
    """The queue as JSON (the page refreshes itself with it)."""
    return JSONResponse(queue_items(site, request.query_params))


def queue_items(site: ReviewSite, query: QueryParams) -> dict[str, Any]:
    """The jobs in one state matching the filters, urgent first, and the count of jobs in each state."""
    states = STATES.get(query.get("status") or "drafted", (JobState.DRAFTED,))
    jobs = site.store.review_queue(
        states=states,
        author=query.get("author") or None,
        worktype=query.get("worktype") or None,
        language=query.get("language") or None,
        patient=query.get("patient") or None,
    )
    now = datetime.now(UTC)
    return {
        "items": [
            {
                "id": j.id,
                "author": j.author,
                "worktype": j.worktype or "",
                "language": j.language or "",
                "urgent": j.priority == "urgent",
                "due": j.due_date or "",
                "flags": j.flag_count,
                "patient": j.patient_id or "",
                "duration": format_duration(j.duration_s),
                "age_minutes": int((now - j.created_at).total_seconds() // 60),
                "locked_by": site.workspace.holder(j.id),
                "filing_error": bool(j.filing_error),
            }
            for j in jobs
        ],
        "counts": {s.value: n for s, n in site.store.count_by_state().items()},
    }
