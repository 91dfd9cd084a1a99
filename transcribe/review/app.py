"""The review web app: the secretary's queue and review screen, the doctor's view, administration.

Server-rendered pages (FastAPI, Jinja2) with a little plain JavaScript. Every
route except the login page and static files needs a session; roles are
checked on the server; every state change needs the session's CSRF token.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..audit import AuditTrail
from ..errors import IdentityMismatch, ReviewError, TranscribeError
from ..filing import file_report
from ..patients import decode_patient_csv, parse_patient_csv
from ..records import Job, JobState, format_duration
from ..settings import Settings
from ..store import JobStore
from ..validation import identity_problems, validate_report
from ..vocabulary import Vocabulary, append_site_rows
from ..worktypes import WORKTYPES
from ..accounts import ROLES, Accounts, LoginRefused, Session
from .i18n import translator
from ..review_state import (
    AnchorLost,
    Block,
    LockHeld,
    Workspace,
    WorkState,
    blocks_of,
    choose_reading,
    current_text,
    final_text,
    load_material,
    revert_edit,
    still_ambiguous,
    take_typed_blocks,
)
from .annotated import annotated_words
from .listening import listening_copy

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "transcribe_session"
LOGIN_CSRF_COOKIE = "transcribe_login_csrf"
PUBLIC_PATHS = ("/login", "/static/")


class NeedLogin(Exception):
    """No live session: pages redirect to the login page, the API answers 401."""


def create_app(settings: Settings, store: JobStore, vocabulary: Vocabulary) -> FastAPI:
    """The review app for a site."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    accounts = Accounts(store, idle_s=settings.review.session_idle_minutes * 60,
                        lifetime_s=settings.review.session_hours * 3600)
    audit = AuditTrail(store)
    workspace = Workspace(store)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # --- plumbing --------------------------------------------------------------------------
    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, _exc: NeedLogin) -> Response:
        if request.url.path.startswith(("/api/", "/audio/")) or request.method != "GET":
            return JSONResponse({"error": "login required"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    def session_of(request: Request, *roles: str) -> Session:
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise NeedLogin()
        if roles and not session.user.can(*roles):
            raise HTTPException(403, "access refused for your role")
        return session

    async def checked(request: Request, *roles: str) -> tuple[Session, dict[str, Any]]:
        """A state change: a live session with the role, and the session's CSRF token (header or form)."""
        session = session_of(request, *roles)
        data: dict[str, Any] = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = await request.json()
            except ValueError as e:
                raise HTTPException(400, "the request is not valid JSON") from e
            if not isinstance(data, dict):
                raise HTTPException(400, "the request must be a JSON object")
        else:
            form = await request.form()
            data = {k: v for k, v in form.items()}
        token = request.headers.get("x-csrf-token") or data.get("csrf_token")
        if not isinstance(token, str) or not secrets.compare_digest(token, session.csrf_token):
            raise HTTPException(403, "the form has expired (CSRF check failed); reload the page")
        return session, data

    def page(request: Request, name: str, session: Session | None, **context: Any) -> HTMLResponse:
        language = (session.user.language if session and session.user.language else None) or settings.review.language
        return templates.TemplateResponse(request, name, {
            "t": translator(language), "lang": language, "session": session, "settings": settings, **context})

    def job_or_404(job_id: int) -> Job:
        try:
            return store.get(job_id)
        except TranscribeError as e:
            raise HTTPException(404, "no such dictation") from e

    # --- logging in and out ----------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/") -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", None, next=_local(next), login_csrf=token, error=None)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=settings.review.secure_cookies, path="/login")
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        token = str(form.get("login_csrf", ""))
        if not cookie or not secrets.compare_digest(cookie, token):
            raise HTTPException(403, "the login form has expired (CSRF check failed); reload the page")
        client = request.client.host if request.client else "unknown"
        username = str(form.get("username", ""))[:100]
        try:
            session_token, session = accounts.login(username, str(form.get("password", ""))[:1000], client)
        except LoginRefused as e:
            audit.record(username or None, "login-refused")
            fresh = secrets.token_urlsafe(24)
            response = page(request, "login.html", None, next=_local(str(form.get("next", "/"))), login_csrf=fresh,
                            error=str(e))
            response.status_code = 401
            response.set_cookie(LOGIN_CSRF_COOKIE, fresh, httponly=True, samesite="strict",
                                secure=settings.review.secure_cookies, path="/login")
            return response
        audit.record(session.user.username, "login")
        response = RedirectResponse(_local(str(form.get("next", "/"))), status_code=303)
        response.set_cookie(SESSION_COOKIE, session_token, httponly=True, samesite="strict",
                            secure=settings.review.secure_cookies, max_age=settings.review.session_hours * 3600)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = await checked(request)
        accounts.logout(request.cookies.get(SESSION_COOKIE))
        audit.record(session.user.username, "logout")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.post("/language")
    async def choose_language(request: Request) -> Response:
        session, data = await checked(request)
        language = data.get("language")
        if language in ("fr", "en"):
            accounts.set_language(session.user.id, language)
        return RedirectResponse(_local(str(request.headers.get("referer", "/")), same_origin=True), status_code=303)

    @app.get("/")
    async def home(request: Request) -> Response:
        session = session_of(request)
        return RedirectResponse("/mine" if session.user.role == "doctor" else "/queue", status_code=303)

    # --- the queue ---------------------------------------------------------------------------
    def queue_items(request: Request) -> dict[str, Any]:
        q = request.query_params
        state = q.get("status") or "drafted"
        states = {"drafted": (JobState.DRAFTED,), "validated": (JobState.VALIDATED,), "returned": (JobState.RETURNED,),
                  "filed": (JobState.FILED,)}.get(state, (JobState.DRAFTED,))
        jobs = store.review_queue(states=states, author=q.get("author") or None, worktype=q.get("worktype") or None,
                                  language=q.get("language") or None, patient=q.get("patient") or None)
        now = datetime.now(timezone.utc)
        return {
            "items": [{
                "id": j.id, "author": j.author, "worktype": j.worktype or "", "language": j.language or "",
                "urgent": j.priority == "urgent", "due": j.due_date or "", "flags": j.flag_count,
                "patient": j.patient_id or "", "duration": format_duration(j.duration_s),
                "age_minutes": int((now - j.created_at).total_seconds() // 60), "locked_by": workspace.holder(j.id),
                "filing_error": bool(j.filing_error),
            } for j in jobs],
            "counts": {s.value: n for s, n in store.count_by_state().items()},
        }

    @app.get("/queue", response_class=HTMLResponse)
    async def queue(request: Request) -> Response:
        session = session_of(request, "secretary")
        return page(request, "queue.html", session, data=queue_items(request), query=dict(request.query_params),
                    worktypes=WORKTYPES)

    @app.get("/api/queue")
    async def queue_json(request: Request) -> Response:
        session_of(request, "secretary")
        return JSONResponse(queue_items(request))

    # --- reviewing one report -----------------------------------------------------------------
    def review_data(job: Job, state: WorkState, session: Session) -> dict[str, Any]:
        outputs = store.results_of(job.id)
        material = load_material(outputs["edits"], outputs["transcript"])
        vocab = vocabulary.for_language(material.language)
        blocks = state.blocks if state.blocks is not None else blocks_of(current_text(material, state), vocab)
        patient_id = state.patient_id or job.patient_id
        patient = store.patient(patient_id) if patient_id else None
        problems = identity_problems(job, patient_id, store) if patient else []
        identity = job.identity or {}
        return {
            "job": {"id": job.id, "author": job.author, "state": job.state.value, "worktype": state.worktype or job.worktype,
                    "language": material.language, "urgent": job.priority == "urgent"},
            "words": annotated_words(material, state),
            "blocks": [asdict(b) for b in blocks],
            "flags": [{"index": i, "kind": f["kind"], "reason": f["reason"], "suggestion": f.get("suggestion"),
                       "choices": list(f.get("choices") or ()), "resolved": i in state.resolved}
                      for i, f in enumerate(material.flags)],
            "edits": len(material.edits),
            "identity": {"given": identity.get("identity"), "dictated": identity.get("dictated"),
                         "candidates": identity.get("candidates", [])},
            "patient": {"id": patient.patient_id, "name": patient.display_name,
                        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None} if patient else None,
            "problems": problems,
            "confirm_identity": state.confirm_identity,
            "locked_by": workspace.holder(job.id),
            "mine": workspace.holder(job.id) == session.user.username,
            "editable": job.state is JobState.DRAFTED,
        }

    @app.get("/review/{job_id}", response_class=HTMLResponse)
    async def review_page(request: Request, job_id: int) -> Response:
        session = session_of(request, "secretary")
        job = job_or_404(job_id)
        holder = None
        if job.state is JobState.DRAFTED:
            try:
                workspace.lock(job_id, session.user.id)
            except LockHeld:
                holder = workspace.holder(job_id)
        audit.record(session.user.username, "opened", job_id)
        return page(request, "review.html", session, job=job, holder=holder)

    @app.get("/api/review/{job_id}")
    async def review_json(request: Request, job_id: int) -> Response:
        session = session_of(request, "secretary")
        job = job_or_404(job_id)
        if "edits" not in store.results_of(job_id):
            raise HTTPException(409, "this dictation has no draft yet")
        return JSONResponse(review_data(job, workspace.load(job_id), session))

    def material_of(job_id: int) -> Any:
        outputs = store.results_of(job_id)
        return load_material(outputs["edits"], outputs["transcript"])

    def take_blocks(job_id: int, state: WorkState, data: dict[str, Any]) -> None:
        """The blocks as typed on the screen (sent with every change), anchors moved along."""
        blocks = data.get("blocks")
        if not isinstance(blocks, list):
            return
        typed = [Block(str(b.get("key", "body"))[:40], str(b.get("heading", ""))[:200],
                       str(b.get("text", ""))[:100_000]) for b in blocks if isinstance(b, dict)]
        material = material_of(job_id)
        take_typed_blocks(material, state, vocabulary.for_language(material.language), typed)

    def change(job_id: int, session: Session, apply: Any) -> JSONResponse:
        job = job_or_404(job_id)
        if job.state is not JobState.DRAFTED:
            raise HTTPException(409, f"this report is {job.state.value}: it can no longer be changed")
        state = workspace.load(job_id)
        try:
            workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            raise HTTPException(423, str(e)) from e
        apply(state, job)
        saved_at = workspace.save(job_id, session.user.id, state)
        data = review_data(job, state, session)
        data["saved_at"] = saved_at
        return JSONResponse(data)

    @app.post("/api/review/{job_id}/save")
    async def save(request: Request, job_id: int) -> Response:
        session, data = await checked(request, "secretary")

        def apply(state: WorkState, job: Job) -> None:
            take_blocks(job_id, state, data)
            if "patient_id" in data:
                chosen = data.get("patient_id")
                if chosen and store.patient(str(chosen)) is None:
                    raise HTTPException(400, "no such patient in the index")
                state.patient_id = str(chosen) if chosen else None
                state.confirm_identity = False
            if "confirm_identity" in data:
                state.confirm_identity = bool(data["confirm_identity"])
            if data.get("worktype") in WORKTYPES:
                state.worktype = data["worktype"]

        response = change(job_id, session, apply)
        audit.record(session.user.username, "changed", job_id)
        return response

    @app.post("/api/review/{job_id}/revert")
    async def revert(request: Request, job_id: int) -> Response:
        session, data = await checked(request, "secretary")
        index, undo = int(data.get("edit", -1)), bool(data.get("undo", False))

        def apply(state: WorkState, job: Job) -> None:
            take_blocks(job_id, state, data)
            material = material_of(job_id)
            if not 0 <= index < len(material.edits):
                raise HTTPException(400, "no such change")
            if (index in state.reverted) != undo:
                return  # already so
            try:
                revert_edit(material, state, index, undo=undo)
            except AnchorLost as e:
                raise HTTPException(409, str(e)) from e

        response = change(job_id, session, apply)
        audit.record(session.user.username, "edit-restored" if undo else "edit-reverted", job_id, f"edit {index}")
        return response

    @app.post("/api/review/{job_id}/resolve")
    async def resolve(request: Request, job_id: int) -> Response:
        session, data = await checked(request, "secretary")
        index, resolved = int(data.get("flag", -1)), bool(data.get("resolved", True))

        def apply(state: WorkState, job: Job) -> None:
            take_blocks(job_id, state, data)
            material = material_of(job_id)
            if not 0 <= index < len(material.flags):
                raise HTTPException(400, "no such point to check")
            if resolved and index in still_ambiguous(material, state, vocabulary.for_language(material.language)):
                raise HTTPException(409, "this dose can be read in several ways: choose one of its readings "
                                         "(or correct it in the text) before ticking it")
            if resolved and index not in state.resolved:
                state.resolved.append(index)
            if not resolved and index in state.resolved:
                state.resolved.remove(index)

        response = change(job_id, session, apply)
        audit.record(session.user.username, "flag-resolved" if resolved else "flag-reopened", job_id, f"flag {index}")
        return response

    @app.post("/api/review/{job_id}/reading")
    async def reading(request: Request, job_id: int) -> Response:
        session, data = await checked(request, "secretary")
        index, chosen = int(data.get("flag", -1)), str(data.get("reading", ""))

        def apply(state: WorkState, job: Job) -> None:
            take_blocks(job_id, state, data)
            material = material_of(job_id)
            if not 0 <= index < len(material.flags):
                raise HTTPException(400, "no such point to check")
            try:
                choose_reading(material, state, vocabulary.for_language(material.language), index, chosen)
            except ReviewError as e:
                raise HTTPException(409, str(e)) from e

        response = change(job_id, session, apply)
        audit.record(session.user.username, "reading-chosen", job_id, f"flag {index}")
        return response

    @app.post("/api/review/{job_id}/validate")
    async def validate(request: Request, job_id: int) -> Response:
        session, _ = await checked(request, "secretary")
        job = job_or_404(job_id)
        try:
            workspace.lock(job_id, session.user.id)
        except LockHeld as e:
            raise HTTPException(423, str(e)) from e
        state = workspace.load(job_id)
        data = review_data(job, state, session)
        material = material_of(job_id)
        pending = [f for f in data["flags"] if not f["resolved"]]
        ambiguous = still_ambiguous(material, state, vocabulary.for_language(material.language))
        if ambiguous:
            raise HTTPException(409, f"{len(ambiguous)} dose(s) can still be read in several ways: choose a reading")
        if pending:
            raise HTTPException(409, f"{len(pending)} point(s) to check remain: resolve every flag before validating")
        patient_id = state.patient_id or job.patient_id
        if not patient_id:
            raise HTTPException(409, "choose the patient before validating")
        blocks = [Block(**b) for b in data["blocks"]]
        try:
            validate_report(settings, store, job_id, validator=session.user.username, patient_id=patient_id,
                            text=final_text(blocks, data["job"]["language"]), worktype=data["job"]["worktype"],
                            confirm_identity=state.confirm_identity, flags_checked=True)
        except IdentityMismatch as e:
            t = translator(session.user.language or settings.review.language)
            raise HTTPException(409, f"{e}. {t('identity_confirm_hint')}") from e
        except ReviewError as e:
            raise HTTPException(409, str(e)) from e
        audit.record(session.user.username, "validated", job_id)
        workspace.release(job_id, session.user.id)
        try:
            filed = file_report(settings, store, vocabulary, job_id)
        except TranscribeError as e:
            audit.record(session.user.username, "filing-failed", job_id, type(e).__name__)
            return JSONResponse({"validated": True, "filed": False, "error": str(e)}, status_code=202)
        audit.record(session.user.username, "filed", job_id, f"version {filed.version}")
        return JSONResponse({"validated": True, "filed": True,
                             "path": str(filed.docx.relative_to(settings.paths.outbox))})

    @app.post("/api/review/{job_id}/return")
    async def return_to_author(request: Request, job_id: int) -> Response:
        session, data = await checked(request, "secretary")
        comment = str(data.get("comment", "")).strip()[:2000]
        if not comment:
            raise HTTPException(400, "say in a comment why the report goes back to its author")
        try:
            workspace.lock(job_id, session.user.id)
            store.return_to_author(job_id, comment, session.user.username)
        except LockHeld as e:
            raise HTTPException(423, str(e)) from e
        except TranscribeError as e:
            raise HTTPException(409, str(e)) from e
        workspace.release(job_id, session.user.id)
        audit.record(session.user.username, "returned", job_id)
        return JSONResponse({"returned": True})

    @app.post("/api/review/{job_id}/release")
    async def release(request: Request, job_id: int) -> Response:
        session, _ = await checked(request, "secretary")
        workspace.release(job_id, session.user.id)
        return JSONResponse({"released": True})

    @app.get("/api/patients")
    async def patients(request: Request, q: str = "") -> Response:
        session_of(request, "secretary")
        return JSONResponse([{"id": p.patient_id, "name": p.display_name,
                              "birth_date": p.birth_date.isoformat() if p.birth_date else None}
                             for p in store.search_patients(q[:100])])

    @app.get("/audio/{job_id}")
    async def audio(request: Request, job_id: int) -> Response:
        session = session_of(request, "secretary", "doctor")
        job = job_or_404(job_id)
        if session.user.role == "doctor" and job.author != session.user.author:
            raise HTTPException(403, "access refused for your role")
        try:
            path = listening_copy(job, settings.paths.drafts / str(job.id))
        except TranscribeError as e:
            raise HTTPException(404, "the audio of this dictation cannot be played") from e
        return FileResponse(path, media_type="audio/wav")

    # --- the doctor's view ----------------------------------------------------------------------
    @app.get("/mine", response_class=HTMLResponse)
    async def mine(request: Request) -> Response:
        session = session_of(request, "doctor")
        jobs = store.jobs_of_author(session.user.author or "") if session.user.author else []
        return page(request, "mine.html", session, jobs=jobs)

    @app.post("/mine/{job_id}/resubmit")
    async def resubmit(request: Request, job_id: int) -> Response:
        session, _ = await checked(request, "doctor")
        job = job_or_404(job_id)
        if job.author != session.user.author and session.user.role != "admin":
            raise HTTPException(403, "access refused: not your dictation")
        try:
            store.resubmit(job_id, session.user.username)
        except TranscribeError as e:
            raise HTTPException(409, str(e)) from e
        audit.record(session.user.username, "resubmitted", job_id)
        return RedirectResponse("/mine", status_code=303)

    # --- administration ---------------------------------------------------------------------------
    @app.get("/admin", response_class=HTMLResponse)
    async def admin(request: Request, message: str = "") -> Response:
        session = session_of(request, "admin")
        return page(request, "admin.html", session, users=accounts.list_users(), roles=ROLES, message=message[:300])

    @app.post("/admin/users")
    async def add_user(request: Request) -> Response:
        session, data = await checked(request, "admin")
        try:
            user = accounts.add_user(str(data.get("username", "")), str(data.get("password", "")),
                                     str(data.get("role", "")), author=str(data.get("author", "")).strip() or None)
        except ReviewError as e:
            return RedirectResponse(f"/admin?message={quote(str(e))}", status_code=303)
        audit.record(session.user.username, "user-added", None, f"{user.username} ({user.role})")
        return RedirectResponse(f"/admin?message={quote('ok: ' + user.username)}", status_code=303)

    @app.post("/admin/patients")
    async def import_patients(request: Request) -> Response:
        session, data = await checked(request, "admin")
        upload = data.get("csv")
        raw = b""
        if hasattr(upload, "read"):
            raw = await upload.read(10 * 1024 * 1024)
            await upload.close()
        records, problems = parse_patient_csv(decode_patient_csv(raw))
        added, updated = store.import_patients(records)
        audit.record(session.user.username, "patients-imported", None, f"{added} added, {updated} updated")
        summary = f"{added} added, {updated} updated, {len(problems)} refused" + (
            "; " + "; ".join(f"line {p.line}: {p.reason}" for p in problems[:5]) if problems else "")
        return RedirectResponse(f"/admin?message={quote(summary)}", status_code=303)

    @app.post("/admin/vocabulary")
    async def add_term(request: Request) -> Response:
        session, data = await checked(request, "admin")
        term, kind, language = str(data.get("term", "")).strip(), str(data.get("kind", "term")), str(data.get("language", ""))
        if not term or len(term) > 100 or "\t" in term or "\n" in term or language not in ("fr", "en") \
                or kind not in ("drug", "brand", "term", "anatomy", "exam", "clinical"):
            return RedirectResponse(f"/admin?message={quote('term refused')}", status_code=303)
        append_site_rows(settings.paths.site_vocab / language / "terms.tsv", [(term, kind)])
        audit.record(session.user.username, "vocabulary-added", None, f"{language} {kind}")
        return RedirectResponse(f"/admin?message={quote('ok')}", status_code=303)

    # --- learning from the secretary ---------------------------------------------------------------
    @app.get("/stats", response_class=HTMLResponse)
    async def stats(request: Request, by: str = "author") -> Response:
        session = session_of(request, "doctor")
        from ..accuracy import GROUPS, accuracy, validated_cases

        by = by if by in GROUPS else "author"
        own = session.user.author if session.user.role == "doctor" else None
        if session.user.role == "doctor" and not own:
            raise HTTPException(403, "no dictations are linked to your account")
        cases = validated_cases(store, author=own)
        weekly = accuracy(cases, vocabulary, "week")
        return page(request, "stats.html", session, by=by, groups=GROUPS, figures=accuracy(cases, vocabulary, by),
                    chart=_chart([(k, v["word_error_rate"]) for k, v in weekly.items() if k != "all"]))

    @app.get("/admin/proposals", response_class=HTMLResponse)
    async def proposals_page(request: Request, message: str = "") -> Response:
        session = session_of(request, "admin")
        from ..accuracy import list_proposals, refresh_proposals

        refresh_proposals(store, vocabulary)
        return page(request, "proposals.html", session, proposals=list_proposals(store), message=message[:300])

    @app.post("/admin/proposals/{proposal_id}/{action}")
    async def decide_proposal(request: Request, proposal_id: int, action: str) -> Response:
        session, _ = await checked(request, "admin")
        from ..accuracy import decide, replay

        try:
            if action == "replay":
                effect = replay(store, vocabulary, proposal_id)
                message = f"#{proposal_id}: {effect['errors_fixed']} errors fixed, {effect['errors_introduced']} introduced"
            elif action in ("accept", "reject"):
                decide(store, settings, proposal_id, accept=action == "accept", by=session.user.username)
                audit.record(session.user.username, f"proposal-{action}ed", None, f"proposal {proposal_id}")
                message = f"#{proposal_id}: {action}ed" + (" (used from the next start)" if action == "accept" else "")
            else:
                raise HTTPException(404, "no such action")
        except ReviewError as e:
            message = str(e)
        return RedirectResponse(f"/admin/proposals?message={quote(message)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.method != "GET":
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        session = accounts.session(request.cookies.get(SESSION_COOKIE))
        response = page(request, "error.html", session, status=exc.status_code, detail=exc.detail)
        response.status_code = exc.status_code
        return response

    return app


def _local(target: str, *, same_origin: bool = False) -> str:
    """Only a path of this site: never an open redirect to another one."""
    if same_origin and "://" in target:
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target or "\r" in target:
        return "/"
    return target


def _chart(points: list[tuple[str, float | None]]) -> dict[str, Any]:
    """Bars of the word error rate per week, as SVG geometry (drawn by the template, no script)."""
    width, height = 40, 120
    bars = []
    for index, (week, rate) in enumerate(points[-26:]):
        value = rate or 0.0
        bar = max(1, int(value * height))
        bars.append({"x": index * width + 10, "y": height - bar + 10, "height": bar, "week": week,
                     "label": f"{value:.0%}" if rate is not None else "-"})
    return {"bars": bars, "width": max(1, len(bars)) * width + 20, "height": height + 40}
