"""What every screen of the review app is given: the site, the current session with its role, a checked state change.

These are FastAPI dependencies. The ones that touch the store are plain functions,
so FastAPI runs them in its thread pool; reading a request body is async.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from transcribe.coding.site import CurrentCoding
from transcribe.errors import TranscribeError
from transcribe.records import Job, format_duration
from transcribe.review.i18n import translator
from transcribe.security.accounts import Accounts, Session
from transcribe.security.audit import AuditTrail
from transcribe.security.site_key import LOGIN_PURPOSE, load_site_key, purpose_key
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.vocabulary.records import Vocabulary
from transcribe.vocabulary.watch import LiveVocabulary
from transcribe.work.review_state import Workspace

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "transcribe_session"


class NeedLogin(Exception):
    """No live session: pages redirect to the login page, the API answers 401."""


class ReportLocks:
    """One change at a time to each report, so that two requests never interleave a read and a write of its work."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[int, threading.Lock] = weakref.WeakValueDictionary()

    def of(self, job_id: int) -> threading.Lock:
        """The lock of one report (held with ``with``)."""
        with self._guard:
            lock = self._locks.get(job_id)
            if lock is None:
                lock = threading.Lock()
                self._locks[job_id] = lock
            return lock


@dataclass(frozen=True)
class ReviewSite:
    """The site the app serves: settings, store, vocabulary, accounts, audit trail, workspace, templates, coding."""

    settings: Settings
    store: JobStore
    live_vocabulary: LiveVocabulary
    accounts: Accounts
    audit: AuditTrail
    workspace: Workspace
    templates: Jinja2Templates
    report_locks: ReportLocks
    coding: CurrentCoding

    @classmethod
    def open(cls, settings: Settings, store: JobStore, vocabulary: Vocabulary) -> ReviewSite:
        """The site's accounts, audit trail, workspace and page templates, on its store."""
        accounts = Accounts(
            store,
            idle_s=settings.review.session_idle_minutes * 60,
            lifetime_s=settings.review.session_hours * 3600,
            key=purpose_key(load_site_key(settings.paths.site_key), LOGIN_PURPOSE),
        )
        templates = Jinja2Templates(directory=str(TEMPLATES))
        templates.env.filters["duration"] = format_duration
        live = LiveVocabulary(settings, vocabulary)
        audit = AuditTrail.of_site(store, settings)
        coding = CurrentCoding(settings, store)
        return cls(settings, store, live, accounts, audit, Workspace(store), templates, ReportLocks(), coding)

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary as its files hold it now: a term added while the app runs is used at once."""
        return self.live_vocabulary.current()

    def language_of(self, session: Session | None) -> str:
        """The user's interface language (the site's when he has not chosen one)."""
        return (session.user.language if session and session.user.language else None) or self.settings.review.language

    def page(self, request: Request, name: str, session: Session | None, **context: Any) -> HTMLResponse:
        """A page in the user's language (the site's when he has not chosen one)."""
        language = self.language_of(session)
        return self.templates.TemplateResponse(
            request,
            name,
            {"t": translator(language), "lang": language, "session": session, "settings": self.settings, **context},
        )

    def job_or_404(self, job_id: int) -> Job:
        """A job of the store, or 404."""
        try:
            return self.store.jobs.get(job_id)
        except TranscribeError as e:
            raise HTTPException(404, "error.no-such-dictation") from e


@dataclass(frozen=True)
class StateChange:
    """A request that changes something: its live session, CSRF-checked, and the fields it sent."""

    session: Session
    data: dict[str, Any]


def site_of(request: Request) -> ReviewSite:
    """The site this app serves (kept on ``app.state`` by ``create_app``)."""
    site: ReviewSite = request.app.state.site
    return site


Site = Annotated[ReviewSite, Depends(site_of)]


def session_of(request: Request, site: ReviewSite, *roles: str) -> Session:
    """The live session of a request with one of these roles (any role when none is given)."""
    session = site.accounts.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NeedLogin()
    if roles and not session.user.can(*roles):
        raise HTTPException(403, "error.role")
    return session


def signed_in(*roles: str) -> Callable[[Request, ReviewSite], Session]:
    """A dependency: the live session, with one of these roles (any role when none is given)."""

    def session_with_role(request: Request, site: ReviewSite = Depends(site_of)) -> Session:
        return session_of(request, site, *roles)

    return session_with_role


def state_change(*roles: str) -> Callable[[Request, Session], Awaitable[StateChange]]:
    """A dependency: a live session with the role, the fields sent, and the session's CSRF token (header or form)."""

    async def checked(request: Request, session: Session = Depends(signed_in(*roles))) -> StateChange:
        data = await posted_fields(request)
        token = request.headers.get("x-csrf-token") or data.get("csrf_token")
        if not isinstance(token, str) or not secrets.compare_digest(token, session.csrf_token):
            raise HTTPException(403, "error.csrf")
        return StateChange(session, data)

    return checked


async def posted_fields(request: Request) -> dict[str, Any]:
    """The fields of a request body: a JSON object, or a form (uploads included)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError as e:
            raise HTTPException(400, "error.json") from e
        if not isinstance(data, dict):
            raise HTTPException(400, "error.json-object")
        return data
    form = await request.form()
    return dict(form.items())


# The sessions routes ask for, by role: one definition for every router.
AnySession = Annotated[Session, Depends(signed_in())]
AnyChange = Annotated[StateChange, Depends(state_change())]
Secretary = Annotated[Session, Depends(signed_in("secretary"))]
SecretaryChange = Annotated[StateChange, Depends(state_change("secretary"))]
Doctor = Annotated[Session, Depends(signed_in("doctor"))]
DoctorChange = Annotated[StateChange, Depends(state_change("doctor"))]
Admin = Annotated[Session, Depends(signed_in("admin"))]
AdminChange = Annotated[StateChange, Depends(state_change("admin"))]
#: who may listen to a dictation: a secretary, or a doctor (his own: the route checks it)
Listener = Annotated[Session, Depends(signed_in("secretary", "doctor"))]
