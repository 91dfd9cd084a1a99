"""The author's signature of a validated report, where the site wants one (``review.doctor_signs``).

With the setting on, a validated report waits for its author to read and sign it before it is
filed: filing calls ``require_signature`` before it files, and the service's filing of the
waiting reports passes over those ``awaiting_signature``. A new version (validated again) needs
a new signature. With the setting off (the default), nothing waits.

A report whose author has no doctor's account (the inbox root's author, a folder no account
names) would wait forever: ``review.signer_without_account`` says who signs it instead, an
administrator (``admin``, the default), a named doctor, or nobody (``nobody``: it is filed
without a signature). ``signer_of`` says which applies to a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transcribe.errors import FilingError, ReviewError
from transcribe.records import Job, JobState
from transcribe.security.accounts import Accounts, User
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.store.signoffs import Signature

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor


class SignatureMissing(FilingError):
    """The report waits for its author's signature before it is filed (nothing is lost: it stays validated)."""

    code = "awaiting_signature"


class SignatureRefused(ReviewError):
    """A signature that cannot be given; ``code`` says why, for the interface's catalogue."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


#: who signs a report (``signer_of``): its author; any administrator; nobody (filed unsigned); else a user name
AUTHOR, ADMIN, NOBODY = "author", "admin", "nobody"


def has_account(store: JobStore, author: str) -> bool:
    """Whether an active doctor's account signs as this author (``transcribe user add NAME --author FOLDER``)."""
    return any(u.author == author and u.role == "doctor" and not u.disabled for u in Accounts(store).list_users())


def signer_of(settings: Settings, store: JobStore, job: Job) -> str:
    """Who signs this report: ``AUTHOR``; else, its author having no account, the site's rule (``ADMIN``,
    ``NOBODY`` or a doctor's user name)."""
    if has_account(store, job.author):
        return AUTHOR
    return settings.review.signer_without_account


def awaiting_signature(settings: Settings, store: JobStore, job: Job) -> bool:
    """Whether this validated report waits for a signature before it can be filed."""
    return (
        settings.review.doctor_signs
        and job.state is JobState.VALIDATED
        and store.signoffs.signature(job.id, job.report_version) is None
        and signer_of(settings, store, job) != NOBODY
    )


def may_sign(settings: Settings, store: JobStore, job: Job, user: User) -> bool:
    """Whether this user signs this report: its author, or the one the site's rule names for it."""
    signer = signer_of(settings, store, job)
    if signer == AUTHOR:
        return bool(user.author) and user.author == job.author
    if signer == ADMIN:
        return user.role == "admin"
    return signer != NOBODY and user.username == signer


def require_signature(settings: Settings, store: JobStore, job: Job) -> None:
    """Refuse to file a report not signed yet, where the site wants a signature."""
    if awaiting_signature(settings, store, job):
        signer = signer_of(settings, store, job)
        who = {AUTHOR: f"its author's ({job.author})", ADMIN: "an administrator's"}.get(signer, f"{signer}'s")
        raise SignatureMissing(
            f"job {job.id} waits for {who} signature before it is filed; "
            "it stays validated, and is filed as soon as it is signed in the review app (My dictations)"
        )


def sign_report(
    settings: Settings, store: JobStore, job: Job, *, user: User, audit: Auditor | None = None
) -> Signature:
    """The signature of the validated version of a report, by its author (or whom the site's rule names)."""
    if not awaiting_signature(settings, store, job):
        raise SignatureRefused(f"job {job.id} does not wait for a signature", "error.not-signable")
    if not may_sign(settings, store, job, user):
        raise SignatureRefused(f"job {job.id}: only its author ({job.author}) signs it", "error.only-author-signs")
    return store.signoffs.sign(job.id, job.report_version, user.username, audit=audit)
