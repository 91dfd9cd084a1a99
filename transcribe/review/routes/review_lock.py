"""Who works on a report: the lock's state, taking it over (with a reason, in the audit trail), giving it back.

A lock is a short lease (``review_state.LOCK_S``) that each change renews; the screen gives it
back when she leaves, saving what she typed last in the same request.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, Response

from transcribe.review.dependencies import Secretary, SecretaryChange, Site
from transcribe.review.i18n import translator
from transcribe.review.report_view import change_report, review_data, take_blocks

router = APIRouter()


@router.get("/api/review/{job_id}/lock")
def lock_state(job_id: int, site: Site, session: Secretary) -> Response:
    """Who holds a report now, and when it was last saved (the screen asks now and then)."""
    site.job_or_404(job_id)
    holder = site.workspace.holder(job_id)
    last = site.workspace.last_save(job_id)
    return JSONResponse(
        {
            "locked_by": holder,
            "mine": holder == session.user.username,
            "base": last[0] if last else None,
            "saved_by_me": last is not None and last[1] == session.user.id,
        }
    )


@router.post("/api/review/{job_id}/takeover")
def take_over(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Take a report over from the secretary who holds it; the reason goes into the audit trail."""
    session = change.session
    t = translator(site.language_of(session))
    reason = " ".join(str(change.data.get("reason", "")).split())[:300]
    if not reason:
        raise HTTPException(400, t("review.err.takeover_reason"))
    with site.report_locks.of(job_id):
        job = site.job_or_404(job_id)
        previous = site.workspace.take_over(job_id, session.user.id)
        data = review_data(site, job, site.workspace.load(job_id), session)
    site.audit.record(session.user.username, "lock-taken-over", job_id, f"from {previous or 'nobody'}: {reason}")
    return JSONResponse(data)


@router.post("/api/review/{job_id}/release")
def release(job_id: int, site: Site, change: SecretaryChange) -> Response:
    """Give the lock on a report back; blocks sent with it (typed just before leaving) are saved first.

    The screen sends it as it is left (a keep-alive request, its CSRF token in the body).
    """
    session = change.session
    saved = False
    try:
        if isinstance(change.data.get("blocks"), list):
            change_report(site, job_id, change, lambda state, job: take_blocks(site, job_id, state, change), "changed")
            saved = True
    finally:
        site.workspace.release(job_id, session.user.id)
    return JSONResponse({"released": True, "saved": saved})
