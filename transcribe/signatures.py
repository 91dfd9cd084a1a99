"""The author's signature of a validated report, where the site wants one (``review.doctor_signs``).

With the setting on, a validated report waits for its author to read and sign it before it is
filed: filing calls ``require_signature`` before it files, and the service's filing of the
waiting reports passes over those ``awaiting_signature``. A new version (validated again) needs
a new signature. With the setting off (the default), nothing waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import FilingError, ReviewError
from .records import Job, JobState
from .settings import Settings
from .store import JobStore
from .store.signoffs import Signature

if TYPE_CHECKING:
    from .audit import Auditor


class SignatureMissing(FilingError):
    """The report waits for its author's signature before it is filed (nothing is lost: it stays validated)."""

    code = "awaiting_signature"


class SignatureRefused(ReviewError):
    """A signature that cannot be given; ``code`` says why, for the interface's catalogue."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def awaiting_signature(settings: Settings, store: JobStore, job: Job) -> bool:
    """Whether this validated report waits for its author's signature before it can be filed."""
    return (
        settings.review.doctor_signs
        and job.state is JobState.VALIDATED
        and store.signature(job.id, job.report_version) is None
    )


def require_signature(settings: Settings, store: JobStore, job: Job) -> None:
    """Refuse to file a report its author has not signed yet, where the site wants a signature."""
    if awaiting_signature(settings, store, job):
        raise SignatureMissing(
            f"job {job.id} waits for its author's signature ({job.author}) before it is filed; "
            "it stays validated, and is filed as soon as he signs it in the review app"
        )


def sign_report(
    settings: Settings, store: JobStore, job: Job, *, username: str, author: str | None, audit: Auditor | None = None
) -> Signature:
    """The author's signature of the validated version of his report (only he signs it)."""
    if not awaiting_signature(settings, store, job):
        raise SignatureRefused(f"job {job.id} does not wait for a signature", "error.not-signable")
    if not author or author != job.author:
        raise SignatureRefused(f"job {job.id}: only its author ({job.author}) signs it", "error.only-author-signs")
    return store.sign(job.id, job.report_version, username, audit=audit)
