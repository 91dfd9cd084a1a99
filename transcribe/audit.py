"""The audit trail: who opened, changed, validated, filed or returned what, and when.

Entries are chained: each carries the hash of the one before it, and its own
hash covers its content and that link, so that changing or deleting an entry
breaks the chain (``transcribe audit verify``). Entries name users, actions and
job ids; never a patient's name or transcript text.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from .schema import audit_log
from .store import JobStore

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditCheck:
    """The result of checking the chain."""

    entries: int
    intact: bool
    first_broken: int | None = None
    reason: str = ""


def entry_hash(
    previous: str, at: float, username: str | None, action: str, job_id: int | None, detail: str | None
) -> str:
    """The hash of one entry, chained to the one before."""
    content = json.dumps([previous, round(at, 6), username, action, job_id, detail], ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


class AuditTrail:
    """Appends to and checks the audit chain in the job store."""

    def __init__(self, store: JobStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def record(self, username: str | None, action: str, job_id: int | None = None, detail: str | None = None) -> None:
        """Append an entry (in the same transaction as reading the last hash, so two writers cannot fork the chain)."""
        at = self._clock()
        with self._store.transaction() as conn:
            if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises writers
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7372657)"))
            previous = conn.scalar(sa.select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)) or GENESIS
            conn.execute(
                audit_log.insert().values(
                    at=at,
                    username=username,
                    action=action,
                    job_id=job_id,
                    detail=detail,
                    previous_hash=previous,
                    hash=entry_hash(previous, at, username, action, job_id, detail),
                )
            )

    def entries(self, *, job_id: int | None = None, limit: int = 200) -> list[dict[str, object]]:
        """The newest entries, optionally for one job."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if job_id is not None:
            query = query.where(audit_log.c.job_id == job_id)
        with self._store.reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def verify(self) -> AuditCheck:
        """Walk the whole chain and say whether it is intact, and where it breaks."""
        previous = GENESIS
        count = 0
        with self._store.reading() as conn:
            for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)):
                count += 1
                if row.previous_hash != previous:
                    return AuditCheck(count, False, row.id, "an entry before it was removed or changed")
                expected = entry_hash(previous, row.at, row.username, row.action, row.job_id, row.detail)
                if row.hash != expected:
                    return AuditCheck(count, False, row.id, "its content was changed")
                previous = row.hash
        return AuditCheck(count, True)
