"""The secretaries' work on reports, as kept: locks, saved work in progress, text a screen sent that was
refused, and what the worklist reads of them (validators, a user's reports).

The rows hold the review state as JSON; what it means (blocks, reverts, readings) is
``transcribe.work.review_state``, whose ``Workspace`` is the door the review app uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transcribe.records import Job
from transcribe.store.database import StorePart
from transcribe.store.jobs import fetch_job
from transcribe.store.schema import refused_drafts, reports, review_drafts, review_locks, users


@dataclass(frozen=True)
class SavedWork:
    """A secretary's saved work on one report, as stored, and who saved it last."""

    state: dict[str, Any]
    saved_by: str | None


class ReviewWork(StorePart):
    """The secretaries' work on reports, as the worklist needs it."""

    def saved_work(self, job_ids: list[int]) -> dict[int, SavedWork]:
        """The saved work on these reports, and who saved it last."""
        if not job_ids:
            return {}
        with self._db.reading() as conn:
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
        with self._db.reading() as conn:
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
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(reports.c.job_id, reports.c.validated_by)
                .where(reports.c.job_id.in_(job_ids))
                .order_by(reports.c.job_id, reports.c.version)
            )
            return {row.job_id: row.validated_by for row in rows}  # the newest version comes last

    def worked_on(self, user_id: int, limit: int) -> list[Job]:
        """The reports a user holds, last saved or validated, the most recent first."""
        with self._db.reading() as conn:
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

    # --- one report's lock and saved work ---------------------------------------------------------------
    def lock_report(self, job_id: int, user_id: int, *, now: float, lock_s: float, force: bool = False) -> str | None:
        """Take or renew a user's lock on a report; the holder's name, and nothing changed, when another user
        holds a live lock (unless ``force``)."""
        with self._db.transaction() as conn:
            row = conn.execute(
                sa.select(review_locks.c.user_id, review_locks.c.expires_at, users.c.username)
                .join(users, users.c.id == review_locks.c.user_id)
                .where(review_locks.c.job_id == job_id)
            ).first()
            if row is not None and row.user_id != user_id and row.expires_at > now and not force:
                return str(row.username)
            if row is None:
                conn.execute(review_locks.insert().values(job_id=job_id, user_id=user_id, expires_at=now + lock_s))
            else:
                conn.execute(
                    review_locks.update()
                    .where(review_locks.c.job_id == job_id)
                    .values(user_id=user_id, expires_at=now + lock_s)
                )
            return None

    def report_lock(self, job_id: int) -> tuple[str, float] | None:
        """Who holds the lock on a report and until when (live or not); None when there is none."""
        with self._db.reading() as conn:
            row = conn.execute(
                sa.select(users.c.username, review_locks.c.expires_at)
                .join(users, users.c.id == review_locks.c.user_id)
                .where(review_locks.c.job_id == job_id)
            ).first()
        return (row.username, row.expires_at) if row is not None else None

    def release_report(self, job_id: int, user_id: int) -> None:
        """Give a lock back (only its holder's is removed)."""
        with self._db.transaction() as conn:
            conn.execute(
                review_locks.delete().where(review_locks.c.job_id == job_id, review_locks.c.user_id == user_id)
            )

    def keep_refused_draft(self, job_id: int, user_id: int, at: float, blocks: list[dict[str, str]]) -> None:
        """Keep the blocks a screen sent that were not taken, with who typed them."""
        with self._db.transaction() as conn:
            conn.execute(
                refused_drafts.insert().values(
                    job_id=job_id, user_id=user_id, at=at, blocks_json=json.dumps(blocks, ensure_ascii=False)
                )
            )

    def refused_drafts_of(self, job_id: int) -> list[tuple[str, float, list[dict[str, str]]]]:
        """The refused text of a report, oldest first: who typed it, when, its blocks."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(users.c.username, refused_drafts.c.at, refused_drafts.c.blocks_json)
                .join(users, users.c.id == refused_drafts.c.user_id)
                .where(refused_drafts.c.job_id == job_id)
                .order_by(refused_drafts.c.id)
            ).all()
        return [(row.username, row.at, json.loads(row.blocks_json)) for row in rows]

    def saved_review(self, job_id: int) -> dict[str, Any] | None:
        """The saved review state of a report, as stored; None when nothing was saved."""
        with self._db.reading() as conn:
            row = conn.execute(sa.select(review_drafts.c.state_json).where(review_drafts.c.job_id == job_id)).first()
        return json.loads(row.state_json) if row else None

    def last_review_save(self, job_id: int) -> tuple[float, int | None] | None:
        """When the work on a report was last saved, and by which user (None: never)."""
        with self._db.reading() as conn:
            row = conn.execute(
                sa.select(review_drafts.c.saved_at, review_drafts.c.saved_by).where(review_drafts.c.job_id == job_id)
            ).first()
        return (row.saved_at, row.saved_by) if row else None

    def save_review(
        self,
        job_id: int,
        user_id: int,
        state: dict[str, Any],
        *,
        now: float,
        audit: Callable[[Connection], None] | None = None,
    ) -> None:
        """Save a report's review state (``audit``: the change's entry, written in the same transaction)."""
        data = json.dumps(state, ensure_ascii=False)
        with self._db.transaction() as conn:
            exists = conn.scalar(sa.select(review_drafts.c.job_id).where(review_drafts.c.job_id == job_id))
            if exists is None:
                conn.execute(
                    review_drafts.insert().values(job_id=job_id, state_json=data, saved_by=user_id, saved_at=now)
                )
            else:
                conn.execute(
                    review_drafts.update()
                    .where(review_drafts.c.job_id == job_id)
                    .values(state_json=data, saved_by=user_id, saved_at=now)
                )
            if audit is not None:
                audit(conn)
