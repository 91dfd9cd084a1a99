"""The secretaries' worklist: the reports to review, filtered, searched and sorted, with who holds which (page and JSON)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import QueryParams

from transcribe.documents.worktypes import WORKTYPES, label_of
from transcribe.messages import language_name, state_label
from transcribe.patient_record.signatures import ADMIN, AUTHOR, awaiting_signature, signer_of
from transcribe.records import Job, JobState, format_duration
from transcribe.review.dependencies import ReviewSite, Secretary, Site
from transcribe.review.display import author_label, day, local_datetime
from transcribe.review.i18n import translator
from transcribe.review.wording import source_label
from transcribe.security.accounts import Session
from transcribe.work.worklist import SORTS, WORKED_ON, WorklistQuery, WorklistRow, worklist

router = APIRouter()

#: the states the worklist can show, in the order of its filter
STATES = ("drafted", "returned", "validated", "filed")
#: the validated reports that wait for a signature (``review.doctor_signs``): a filter of their own
TO_SIGN = "to-sign"
#: the sortable columns, in the order of the table, with the catalogue key of their heading
COLUMNS = {
    "patient": "patient",
    "file": "file_name",
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
        states=[(s, state_label(s, language)) for s in STATES]
        + ([(TO_SIGN, t("to_sign"))] if site.settings.review.doctor_signs else []),
        authors=known_authors(site, language),
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
    to_sign = status == TO_SIGN
    states = (
        WORKED_ON
        if status == "all"
        else (JobState.VALIDATED,)
        if to_sign
        else (JobState(status),)
        if status in STATES
        else (JobState.DRAFTED,)
    )
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
    if to_sign:
        rows = [r for r in rows if awaiting_signature(site.settings, site.store, r.job)]
    counts = site.store.jobs.count_by_state()
    shown = [{"state": s, "label": state_label(s, language), "count": counts.get(JobState(s), 0)} for s in STATES]
    if site.settings.review.doctor_signs:  # validated reports that wait for a signature, in view
        waiting = [
            j for j in site.store.reports.waiting_to_be_filed() if awaiting_signature(site.settings, site.store, j)
        ]
        shown.append({"state": TO_SIGN, "label": translator(language)("to_sign"), "count": len(waiting)})
    return {"items": [_item(site, row, language) for row in rows], "counts": shown}


def _item(site: ReviewSite, row: WorklistRow, language: str) -> dict[str, Any]:
    """One row of the worklist as the page shows it."""
    job = row.job
    waiting = awaiting_signature(site.settings, site.store, job)
    thread = []
    if job.return_comment:
        returned_by = next(
            (actor for _, event, actor, _ in reversed(site.store.jobs.events(job.id)) if event == "returned"), None
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
        "carried": _carried(row, language),
        "file_name": job.original_name,
        "author": job.author,
        "author_name": author_label(site.settings, job.author, language),
        "dictated": local_datetime(job.created_at, language),
        "due": day(job.due_date, language),
        "overdue": row.overdue,
        "duration": format_duration(job.duration_s),
        "worktype": job.worktype or "",
        "worktype_label": label_of(job.worktype, language) if job.worktype else "",
        "language": job.language or "",
        "flags": row.open_flags,
        "holder": row.holder or "",
        "filing_error": bool(job.filing_error),
        "awaiting_signature": waiting,
        "waits_label": waits_label(site, job, language) if waiting else "",
        "thread": thread,
    }


def waits_label(site: ReviewSite, job: Job, language: str) -> str:
    """Whose signature a validated report waits for, in words: its author's, an administrator's, or a named doctor's."""
    t = translator(language)
    signer = signer_of(site.settings, site.store, job)
    if signer == AUTHOR:
        return t("waits_signature")
    return t("waits_admin") if signer == ADMIN else t("waits_by", name=signer)


def _carried(row: WorklistRow, language: str) -> dict[str, str] | None:
    """What the dictation says of its patient, shown where no patient is chosen or proposed yet."""
    identity = row.carried
    if identity is None:
        return None
    name = " ".join(p for p in ((identity.family_name or "").upper(), identity.given_names or "") if p)
    return {
        "name": name,
        "id": identity.patient_id or "",
        "birth_date": day(identity.birth_date, language) if identity.birth_date else "",
        "source": source_label(identity.source, language),
    }


def known_authors(site: ReviewSite, language: str) -> list[tuple[str, str]]:
    """Every author the site knows (its settings, its dictations, its doctors' accounts), with his name."""
    names = set(site.settings.authors) | set(site.store.jobs.authors())
    names |= {user.author for user in site.accounts.list_users() if user.author}
    return sorted(((a, author_label(site.settings, a, language)) for a in names), key=lambda pair: pair[1].lower())


def _next_order(key: str, sort: str, order: str) -> str:
    """Clicking a column sorts by it, ascending; clicking it again reverses the order."""
    return "desc" if key == sort and order != "desc" else "asc"
