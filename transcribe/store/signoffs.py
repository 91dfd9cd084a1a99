"""What the author says about a report: the comment thread of a returned report, and his signature.

A secretary returns a draft with a comment (kept on the job); the author answers in the
thread, which the secretaries see in their worklist. Where the site wants it
(``review.doctor_signs``), the author signs each validated version before it is filed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from transcribe.errors import StoreError
from transcribe.records import JobState
from transcribe.store.database import StorePart
from transcribe.store.jobs import add_event, fetch_job
from transcribe.store.schema import report_comments, report_signatures

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter

MAX_COMMENT_CHARS = 2000


@dataclass(frozen=True)
class Comment:
    """One message of a report's thread."""

    job_id: int
    at: datetime
    username: str
    text: str


@dataclass(frozen=True)
class Signature:
    """Who signed a validated version of a report, and when."""

    job_id: int
    version: int
    signed_by: str
    signed_at: datetime


class Signoffs(StorePart):
    """Comment threads and signatures of reports."""

    def add_comment(self, job_id: int, username: str, text: str, *, audit: AuditWriter | None = None) -> Comment:
        """Add a message to a report's thread."""
        text = text.strip()[:MAX_COMMENT_CHARS]
        if not text:
            raise StoreError(f"job {job_id}: an empty message is not added to the thread")
        now = self._db.now()
        with self._db.transaction() as conn:
            fetch_job(conn, job_id)
            conn.execute(report_comments.insert().values(job_id=job_id, at=now, username=username, text=text))
            add_event(conn, job_id, now, "commented", username, None)
            if audit is not None:  # the entry says that he wrote, not what
                audit.record_in(conn, "commented", job_id)
        return Comment(job_id, datetime.fromtimestamp(now, UTC), username, text)

    def comments(self, job_ids: list[int]) -> dict[int, list[Comment]]:
        """The threads of these reports, oldest message first."""
        if not job_ids:
            return {}
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(report_comments)
                .where(report_comments.c.job_id.in_(job_ids))
                .order_by(report_comments.c.at, report_comments.c.id)
            )
            threads: dict[int, list[Comment]] = {}
            for row in rows:
                threads.setdefault(row.job_id, []).append(
                    Comment(row.job_id, datetime.fromtimestamp(row.at, UTC), row.username, row.text)
                )
            return threads

    def sign(self, job_id: int, version: int, signed_by: str, *, audit: AuditWriter | None = None) -> Signature:
        """Record the author's signature of a validated version (signing it twice changes nothing)."""
        now = self._db.now()
        with self._db.transaction() as conn:
            job = fetch_job(conn, job_id)
            if job.state is not JobState.VALIDATED or job.report_version != version:
                raise StoreError(
                    f"job {job_id} is {job.state.value} (version {job.report_version}): "
                    f"only the validated version waiting to be filed is signed"
                )
            found = conn.execute(
                sa.select(report_signatures).where(
                    report_signatures.c.job_id == job_id, report_signatures.c.version == version
                )
            ).first()
            if found is None:
                conn.execute(
                    report_signatures.insert().values(
                        job_id=job_id, version=version, signed_by=signed_by, signed_at=now
                    )
                )
                add_event(conn, job_id, now, "signed", signed_by, f"version {version}")
                if audit is not None:
                    audit.record_in(conn, "signed", job_id, f"version {version}")
                return Signature(job_id, version, signed_by, datetime.fromtimestamp(now, UTC))
        return Signature(job_id, version, found.signed_by, datetime.fromtimestamp(found.signed_at, UTC))

    def signature(self, job_id: int, version: int) -> Signature | None:
        """The signature of a report version, if it was signed."""
        with self._db.reading() as conn:
            row = conn.execute(
                sa.select(report_signatures).where(
                    report_signatures.c.job_id == job_id, report_signatures.c.version == version
                )
            ).first()
        return Signature(job_id, version, row.signed_by, datetime.fromtimestamp(row.signed_at, UTC)) if row else None
