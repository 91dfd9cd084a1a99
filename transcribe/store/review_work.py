"""What the worklist reads of the secretaries' work: saved drafts, live locks, validators, a user's reports.

Read-only queries over the review tables (``review_drafts``, ``review_locks``, ``reports``, ``users``);
the review state itself is written by ``transcribe.work.review_state``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from transcribe.records import Job
from transcribe.store.database import Database
from transcribe.store.jobs import fetch_job
from transcribe.store.schema import reports, review_drafts, review_locks, users


@dataclass(frozen=True)
class SavedWork:
    """A secretary's saved work on one report, as stored, and who saved it last."""

    state: dict[str, Any]
    saved_by: str | None


class ReviewWork(Database):
    """The secretaries' work on reports, as the worklist needs it."""

    def saved_work(self, job_ids: list[int]) -> dict[int, SavedWork]:
        """The saved work on these reports, and who saved it last."""
        if not job_ids:
            return {}
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(review_drafts.c.job_id, review_drafts.c.state_json, users.c.username)
                .outerjoin(users, users.c.id == review_drafts.c.saved_by)
                .where(review_drafts.c.job_id.in_(job_ids))
            )
            return {row.job_id: SavedWork(json.loads(row.state_json), row.username) for row in rows}

    def lock_holders(self, job_ids: list[int]) -> dict[int, str]:
        """Who holds a live lock on each of these reports."""
        if not job_ids:
            return {}
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(review_locks.c.job_id, users.c.username)
                .join(users, users.c.id == review_locks.c.user_id)
                .where(review_locks.c.job_id.in_(job_ids), review_locks.c.expires_at > time.time())
            )
            return {row.job_id: row.username for row in rows}

    def validators(self, job_ids: list[int]) -> dict[int, str]:
        """Who validated the newest version of each of these reports."""
        if not job_ids:
            return {}
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(reports.c.job_id, reports.c.validated_by)
                .where(reports.c.job_id.in_(job_ids))
                .order_by(reports.c.job_id, reports.c.version)
            )
            return {row.job_id: row.validated_by for row in rows}  # the newest version comes last

    def worked_on(self, user_id: int, limit: int) -> list[Job]:
        """The reports a user holds, last saved or validated, the most recent first."""
        with self.reading() as conn:
            username = conn.scalar(sa.select(users.c.username).where(users.c.id == user_id))
            moments: dict[int, float] = {}
            for job_id, at in conn.execute(
                sa.select(review_drafts.c.job_id, review_drafts.c.saved_at).where(review_drafts.c.saved_by == user_id)
            ):
                moments[job_id] = max(moments.get(job_id, 0.0), at)
            for job_id, at in conn.execute(
                sa.select(review_locks.c.job_id, review_locks.c.expires_at).where(
                    review_locks.c.user_id == user_id, review_locks.c.expires_at > time.time()
                )
            ):
                moments[job_id] = max(moments.get(job_id, 0.0), at)
            for job_id, at in conn.execute(
                sa.select(reports.c.job_id, reports.c.validated_at).where(reports.c.validated_by == username)
            ):
                moments[job_id] = max(moments.get(job_id, 0.0), at)
            newest = sorted(moments, key=lambda job_id: -moments[job_id])[:limit]
            return [fetch_job(conn, job_id) for job_id in newest]
