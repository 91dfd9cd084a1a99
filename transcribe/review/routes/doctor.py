"""The doctor's view: his own dictations, and the reports returned to him, which he sends back for review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...accounts import Session
from ...errors import TranscribeError
from ..dependencies import Site, StateChange, signed_in, state_change

router = APIRouter()
Doctor = Annotated[Session, Depends(signed_in("doctor"))]
DoctorChange = Annotated[StateChange, Depends(state_change("doctor"))]


@router.get("/mine", response_class=HTMLResponse)
def mine(request: Request, site: Site, session: Doctor) -> Response:
    """The doctor's dictations, the returned ones first."""
    jobs = site.store.jobs_of_author(session.user.author or "") if session.user.author else []
    return site.page(request, "mine.html", session, jobs=jobs)


@router.post("/mine/{job_id}/resubmit")
def resubmit(job_id: int, site: Site, change: DoctorChange) -> Response:
    """Send a returned report back to the queue (only its author, or an admin)."""
    session = change.session
    job = site.job_or_404(job_id)
    if job.author != session.user.author and session.user.role != "admin":
        raise HTTPException(403, "access refused: not your dictation")
    try:
        site.store.resubmit(job_id, session.user.username)
    except TranscribeError as e:
        raise HTTPException(409, str(e)) from e
    site.audit.record(session.user.username, "resubmitted", job_id)
    return RedirectResponse("/mine", status_code=303)
