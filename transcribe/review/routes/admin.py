"""Administration: user accounts, the patient index import, and the site's vocabulary."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from ...accounts import ROLES, Session
from ...errors import ReviewError
from ...patients import decode_patient_csv, parse_patient_csv
from ...vocabulary_files import append_site_rows
from ..dependencies import Site, StateChange, signed_in, state_change

MAX_PATIENT_CSV_BYTES = 10 * 1024 * 1024
TERM_KINDS = ("drug", "brand", "term", "anatomy", "exam", "clinical")

router = APIRouter()
Admin = Annotated[Session, Depends(signed_in("admin"))]
AdminChange = Annotated[StateChange, Depends(state_change("admin"))]


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, site: Site, session: Admin, message: str = "") -> Response:
    """The administration page, with the outcome of the last action."""
    return site.page(
        request, "admin.html", session, users=site.accounts.list_users(), roles=ROLES, message=message[:300]
    )


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
        )
    except ReviewError as e:
        return _back(str(e))
    site.audit.record(change.session.user.username, "user-added", None, f"{user.username} ({user.role})")
    return _back("ok: " + user.username)


@router.post("/admin/patients")
def import_patients(site: Site, change: AdminChange) -> Response:
    """Add or update patients from an uploaded CSV; the lines refused are named."""
    upload = change.data.get("csv")
    raw = b""
    if isinstance(upload, UploadFile):
        raw = upload.file.read(MAX_PATIENT_CSV_BYTES)
        upload.file.close()
    records, problems = parse_patient_csv(decode_patient_csv(raw))
    added, updated = site.store.import_patients(records)
    site.audit.record(change.session.user.username, "patients-imported", None, f"{added} added, {updated} updated")
    summary = f"{added} added, {updated} updated, {len(problems)} refused" + (
        "; " + "; ".join(f"line {p.line}: {p.reason}" for p in problems[:5]) if problems else ""
    )
    return _back(summary)


@router.post("/admin/vocabulary")
def add_term(site: Site, change: AdminChange) -> Response:
    """Add a term to the site's vocabulary (used from the next start)."""
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
        or language not in ("fr", "en")
        or kind not in TERM_KINDS
    ):
        return _back("term refused")
    append_site_rows(site.settings.paths.site_vocab / language / "terms.tsv", [(term, kind)])
    site.audit.record(change.session.user.username, "vocabulary-added", None, f"{language} {kind}")
    return _back("ok")


def _back(message: str) -> Response:
    """Back to the administration page, saying how the action went."""
    return RedirectResponse(f"/admin?message={quote(message)}", status_code=303)
