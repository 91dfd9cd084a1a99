"""The review web app: the secretary's queue and review screen, the doctor's view, administration.

Server-rendered pages (FastAPI, Jinja2) with a little plain JavaScript. Every
route except the login page and static files needs a session; roles are
checked on the server; every state change needs the session's CSRF token.
Each screen is its own router in ``routes/``; what they share is injected
(``dependencies.py``). This module only assembles them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from transcribe.errors import StoreUnavailable
from transcribe.review.dependencies import SESSION_COOKIE, NeedLogin, ReviewSite, site_of
from transcribe.review.i18n import translator
from transcribe.review.routes import (
    admin,
    audio,
    coding,
    doctor,
    learning,
    login,
    queue,
    review,
    review_lock,
    review_output,
)
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.vocabulary.records import Vocabulary

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, store: JobStore, vocabulary: Vocabulary) -> FastAPI:
    """The review app for a site."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.site = ReviewSite.open(settings, store, vocabulary)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.middleware("http")(add_security_headers)
    app.exception_handler(NeedLogin)(answer_need_login)
    app.exception_handler(StarletteHTTPException)(answer_http_error)  # FastAPI's, and the router's own 404 and 405
    app.exception_handler(RequestValidationError)(answer_invalid_request)
    app.exception_handler(StoreUnavailable)(answer_store_unavailable)
    for screen in (login, queue, review, review_lock, review_output, coding, audio, doctor, admin, learning):
        include_screen(app, screen.router)
    return app


def include_screen(app: FastAPI, router: APIRouter) -> None:
    """Add a screen's routes to the app one by one, as ``include_router`` did before FastAPI 0.137.

    Since 0.137 ``include_router`` keeps the included router as one node of ``app.routes``;
    adding each route keeps the route table flat on every FastAPI version, so that each
    route can be listed (tests/test_security.py checks every one against its access table).
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: a screen holds only path operations")
        app.router.add_api_route(
            route.path,
            route.endpoint,
            methods=route.methods,
            name=route.name,
            response_class=route.response_class,
            dependencies=route.dependencies,
            status_code=route.status_code,
            include_in_schema=route.include_in_schema,
        )


async def add_security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Every answer forbids framing, sniffing, referrers, caching and any script or style from elsewhere."""
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


async def answer_need_login(request: Request, _exc: NeedLogin) -> Response:
    """No session: pages and forms go to the login page (and come back after it); the API answers 401."""
    if wants_json(request):
        language = site_of(request).language_of(None)  # no session: the site's language
        return JSONResponse({"error": translator(language)("error.login-required")}, status_code=401)
    back = request.url.path if request.method == "GET" else "/"  # a form sent after the session ended
    return RedirectResponse(f"/login?next={quote(back)}", status_code=303)


def answer_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """An error as the error page for pages and forms, as JSON for the API and the screens' scripts, in the user's
    language.

    A detail that is a code of the catalogue (``error.role``) is written in the user's language;
    any other detail is shown as it is. Runs in the thread pool.
    """
    site = site_of(request)
    session = site.accounts.session(request.cookies.get(SESSION_COOKIE))
    detail = translator(site.language_of(session))(exc.detail) if isinstance(exc.detail, str) else exc.detail
    if wants_json(request):
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)
    response = site.page(request, "error.html", session, status=exc.status_code, detail=detail)
    response.status_code = exc.status_code
    return response


def wants_json(request: Request) -> bool:
    """Whether an answer goes to a script (the API, a JSON request) rather than to a person (a page, a form)."""
    return request.url.path.startswith(("/api/", "/audio/")) or request.headers.get("content-type", "").startswith(
        "application/json"
    )


def answer_store_unavailable(request: Request, _exc: StoreUnavailable) -> Response:
    """The job store does not answer (a database restart): 503, try again in a moment, in the site's language.

    No page is drawn: drawing one needs the store (the session, the user's language).
    """
    text = translator(site_of(request).settings.review.language)("error.store-unavailable")
    headers = {"Retry-After": "5"}
    if request.url.path.startswith("/api/") or request.method != "GET":
        return JSONResponse({"error": text}, status_code=503, headers=headers)
    return PlainTextResponse(text, status_code=503, headers=headers)


def answer_invalid_request(request: Request, _exc: RequestValidationError) -> Response:
    """A request whose path or fields are not what the route takes (``/mine/abc``): 422, in the user's words."""
    return answer_http_error(request, HTTPException(422, "error.invalid-request"))
