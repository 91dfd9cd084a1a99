"""Administration: user accounts (add, disable, password, role, sessions), the patient index (import, browse),
and the site's vocabulary (used from the next dictation, without a restart)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from transcribe.messages import LANGUAGES, language_name
from transcribe.patient_record.patient_import import decode_patient_csv, parse_patient_csv
from transcribe.review.dependencies import Admin, AdminChange, ReviewSite, Site, StateChange
from transcribe.review.display import day
from transcribe.review.i18n import MESSAGES, translator
from transcribe.security.accounts import ROLES, AccountRefused, Session, User
from transcribe.settings import AuthorSettings
from transcribe.vocabulary.files import append_site_rows
from transcribe.vocabulary.records import ADDED_KINDS
from transcribe.vocabulary.specialties import label_of as specialty_label

MAX_PATIENT_CSV_BYTES = 10 * 1024 * 1024
PATIENTS_PER_PAGE = 50
#: the parameters an outcome message may carry back to the page (shown as text)
MESSAGE_PARAMETERS = ("username", "role", "count", "term", "language", "roles", "minimum")

router = APIRouter()


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, site: Site, session: Admin, message: str = "") -> Response:
    """The administration page, with the outcome of the last action."""
    t = translator(site.language_of(session))
    params = {k: request.query_params.get(k, "")[:100] for k in MESSAGE_PARAMETERS}
    if params["role"] in ROLES:
        params["role"] = t(f"role.{params['role']}")
    return _page(request, site, session, t(message, **params) if message in MESSAGES else "")


@router.post("/admin/users")
def add_user(site: Site, change: AdminChange) -> Response:
    """Create an account."""
    data = change.data
    try:
        user = site.accounts.add_user(
            str(data.get("username", "")),
            str(data.get("password", "")),
            str(data.get("role", "")),
            author=str(data.get("author", "")).strip() or None,
            audit=site.audit.by(change.session.user.username),
        )
    except AccountRefused as e:
        return _back(e.code, **{k: str(v) for k, v in e.params.items() if k in MESSAGE_PARAMETERS})
    return _back("done.user-added", username=user.username, role=user.role)


@router.post("/admin/users/{username}/disable")
def disable_user(username: str, site: Site, change: AdminChange) -> Response:
    """Disable an account: its sessions end, and it is refused from its next request."""
    return _account_change(
        site, change, username, "user-disabled", lambda audit: site.accounts.set_disabled(username, True, audit=audit)
    )


@router.post("/admin/users/{username}/enable")
def enable_user(username: str, site: Site, change: AdminChange) -> Response:
    """Enable a disabled account again."""
    return _account_change(
        site, change, username, "user-enabled", lambda audit: site.accounts.set_disabled(username, False, audit=audit)
    )


@router.post("/admin/users/{username}/password")
def reset_password(username: str, site: Site, change: AdminChange) -> Response:
    """Give an account a new password (its sessions end)."""
    password = str(change.data.get("password", ""))
    return _account_change(
        site,
        change,
        username,
        "password-reset",
        lambda audit: site.accounts.set_password(username, password, audit=audit),
    )


@router.post("/admin/users/{username}/role")
def change_role(username: str, site: Site, change: AdminChange) -> Response:
    """Change an account's role (from the user's next request)."""
    role = str(change.data.get("role", ""))
    return _account_change(
        site, change, username, "role-changed", lambda audit: site.accounts.set_role(username, role, audit=audit)
    )


@router.post("/admin/users/{username}/sessions")
def end_sessions(username: str, site: Site, change: AdminChange) -> Response:
    """End every open session of an account."""
    try:
        count = site.accounts.end_sessions(username, audit=site.audit.by(change.session.user.username))
    except AccountRefused as e:
        return _back(e.code)
    return _back("done.sessions-ended", username=username, count=str(count))


@router.post("/admin/patients")
def import_patients(request: Request, site: Site, change: AdminChange) -> Response:
    """Add or update patients from an uploaded CSV; the lines refused are named."""
    upload = change.data.get("csv")
    raw = b""
    if isinstance(upload, UploadFile):
        raw = upload.file.read(MAX_PATIENT_CSV_BYTES)
        upload.file.close()
    records, problems = parse_patient_csv(decode_patient_csv(raw))
    added, updated = site.store.patients.import_patients(records, audit=site.audit.by(change.session.user.username))
    t = translator(site.language_of(change.session))
    refused = len([p for p in problems if not p.imported])
    summary = t("done.patients-imported", added=added, updated=updated, refused=refused)
    lines = [
        t("import.line", line=p.line, reason=t(p.code, **p.params) if p.code in MESSAGES else p.reason)
        for p in problems[:10]
    ]
    return _page(request, site, change.session, summary, problems=lines)


@router.get("/admin/patients", response_class=HTMLResponse)
def browse_patients(request: Request, site: Site, session: Admin, q: str = "", page: int = 1) -> Response:
    """The patient index, page by page, searched by names (any order) or identifier."""
    language = site.language_of(session)
    page = max(1, page)
    found, total = site.store.patients.browse_patients(
        q[:200], offset=(page - 1) * PATIENTS_PER_PAGE, limit=PATIENTS_PER_PAGE
    )
    first = (page - 1) * PATIENTS_PER_PAGE + 1 if found else 0
    return site.page(
        request,
        "patients.html",
        session,
        q=q[:200],
        patients=[
            {
                "id": p.patient_id,
                "family": p.family_name,
                "given": p.given_names,
                "born": day(p.birth_date, language),
                "sex": p.sex,
            }
            for p in found
        ],
        first=first,
        last=first + len(found) - 1 if found else 0,
        total=total,
        previous=_page_link(q, page - 1) if page > 1 else "",
        next=_page_link(q, page + 1) if first + len(found) - 1 < total else "",
    )


@router.post("/admin/patients/{patient_id}/export")
def export_records(patient_id: str, site: Site, change: AdminChange) -> Response:
    """The patient's right of access: the archive of every report filed for him (with the recordings if asked),
    written in the data folder and downloaded; the request and the export audited."""
    from transcribe.errors import PatientUnknown
    from transcribe.patient_record.access import export_patient

    username = change.session.user.username
    try:
        export = export_patient(
            site.settings,
            site.store,
            patient_id,
            requested_by=username,
            with_audio=bool(change.data.get("audio")),
            audit=site.audit.by(username),
        )
    except PatientUnknown as e:
        raise HTTPException(404, "error.no-such-patient") from e
    return FileResponse(export.path, media_type="application/zip", filename=export.path.name)


@router.post("/admin/vocabulary")
def add_term(site: Site, change: AdminChange) -> Response:
    """Add a term to the site's vocabulary: the next dictation and the next review use it, without a restart."""
    data = change.data
    term, kind, language = (
        str(data.get("term", "")).strip(),
        str(data.get("kind", "term")),
        str(data.get("language", "")),
    )
    if (
        not term
        or len(term) > 100
        or "\t" in term
        or "\n" in term
        or language not in LANGUAGES
        or kind not in ADDED_KINDS
    ):
        return _back("done.term-refused")
    append_site_rows(site.settings.paths.site_vocab / language / "terms.tsv", [(term, kind)])
    site.live_vocabulary.current(now=True)
    site.audit.record(change.session.user.username, "vocabulary-added", None, f"{language} {kind}")
    return _back("done.term-added", term=term, language=language)


def _page(
    request: Request, site: ReviewSite, session: Session, message: str, *, problems: list[str] | None = None
) -> Response:
    """The administration page."""
    language = site.language_of(session)
    t = translator(language)
    sessions = site.accounts.open_sessions()
    return site.page(
        request,
        "admin.html",
        session,
        users=[_user_row(site, user, sessions.get(user.id, 0), language) for user in site.accounts.list_users()],
        roles=[(role, t(f"role.{role}")) for role in ROLES],
        kinds=[(kind, t(f"kind.{kind}")) for kind in ADDED_KINDS],
        term_languages=[(code, language_name(code, language)) for code in LANGUAGES],
        vocabulary_version=site.vocabulary.version,
        message=message,
        problems=problems or [],
    )


def _user_row(site: ReviewSite, user: User, sessions: int, language: str) -> dict[str, Any]:
    """An account as the users' table shows it."""
    author = site.settings.authors.get(user.author or "", AuthorSettings())
    return {
        "username": user.username,
        "role": user.role,
        "author": user.author or "",
        "author_name": author.name,
        "specialty": specialty_label(author.specialty, language) if author.specialty else "",
        "disabled": user.disabled,
        "sessions": sessions,
    }


def _account_change(site: ReviewSite, change: StateChange, username: str, done: str, act: Any) -> Response:
    """Make one change to an account (never to one's own role or account status), then say how it went.

    ``act`` makes the change, given the admin's ``Auditor``: its entry is written in the change's transaction.
    """
    if username == change.session.user.username and done in ("user-disabled", "role-changed"):
        return _back("error.own-account")
    try:
        user: User = act(site.audit.by(change.session.user.username))
    except AccountRefused as e:
        return _back(e.code, **{k: str(v) for k, v in e.params.items() if k in MESSAGE_PARAMETERS})
    return _back(f"done.{done}", username=user.username, role=user.role)


def _back(message: str, **params: str) -> Response:
    """Back to the administration page, saying how the action went (a catalogue key and its parameters)."""
    return RedirectResponse("/admin?" + urlencode({"message": message, **params}), status_code=303)


def _page_link(query: str, page: int) -> str:
    return "/admin/patients?" + urlencode({"q": query, "page": page})
