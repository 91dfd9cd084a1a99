"""Logging in and out, the interface language, and the home page (which sends each role to its screen)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from transcribe.messages import LANGUAGES
from transcribe.review.dependencies import (
    SESSION_COOKIE,
    AnyChange,
    AnySession,
    ReviewSite,
    Site,
)
from transcribe.review.i18n import error_text, translator
from transcribe.security.accounts import LoginRefused, client_address

LOGIN_CSRF_COOKIE = "transcribe_login_csrf"

router = APIRouter()


async def login_form(request: Request) -> FormData:
    """The posted login form (read here, so that the login itself runs in the thread pool)."""
    return await request.form()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, site: Site, next: str = "/") -> Response:
    """The login form, with its own CSRF token (in a cookie and in the form)."""
    return _login_form(request, site, next, None)


@router.post("/login")
def login(request: Request, site: Site, form: Annotated[FormData, Depends(login_form)]) -> Response:
    """Check the password; a new session (never one planted before), then back where the user was going."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = str(form.get("login_csrf", ""))
    if not cookie or not secrets.compare_digest(cookie, token):
        raise HTTPException(403, "error.login-csrf")
    review = site.settings.review
    client = client_address(
        request.client.host if request.client else None,
        request.headers.get(review.client_header),
        frozenset(part.strip() for part in review.trusted_proxies.split(",") if part.strip()),
    )
    username = str(form.get("username", ""))[:100]
    try:
        session_token, session = site.accounts.login(username, str(form.get("password", ""))[:1000], client)
    except LoginRefused as e:
        # what was typed as a user name may be a password typed in the wrong field: only its keyed hash is kept
        site.audit.record(site.accounts.typed_name_hash(username), "login-refused", detail=e.code)
        error = error_text(translator(site.language_of(None)), e)
        response = _login_form(request, site, str(form.get("next", "/")), error)
        response.status_code = 401
        return response
    site.audit.record(session.user.username, "login")
    response = RedirectResponse(_local(str(form.get("next", "/"))), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_token,
        httponly=True,
        samesite="strict",
        secure=site.settings.review.secure_cookies,
        max_age=site.settings.review.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, site: Site, change: AnyChange) -> Response:
    """End the session for good."""
    site.accounts.logout(request.cookies.get(SESSION_COOKIE))
    site.audit.record(change.session.user.username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
def choose_language(request: Request, site: Site, change: AnyChange) -> Response:
    """The user's interface language, then back to the page he was on (the form says which: no referrer is sent)."""
    language = change.data.get("language")
    if language in LANGUAGES:
        site.accounts.set_language(change.session.user.id, language)
    back = change.data.get("next") or request.headers.get("referer", "/")
    return RedirectResponse(_local(str(back), same_origin=True), status_code=303)


@router.get("/")
def home(session: AnySession) -> Response:
    """Doctors to their dictations, everyone else to the queue."""
    return RedirectResponse("/mine" if session.user.role == "doctor" else "/queue", status_code=303)


def _login_form(request: Request, site: ReviewSite, target: str, error: str | None) -> Response:
    """The login page with a fresh login CSRF token, set in its cookie too."""
    token = secrets.token_urlsafe(24)
    response = site.page(request, "login.html", None, next=_local(target), login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=site.settings.review.secure_cookies,
        path="/login",
    )
    return response


def _local(target: str, *, same_origin: bool = False) -> str:
    """Only a path of this site: never an open redirect to another one."""
    if same_origin and "://" in target:
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target or "\r" in target:
        return "/"
    return target
