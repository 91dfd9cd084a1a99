"""The audit log's table: entries appended in the transaction of the action they record, read back in order.

The chain itself (keyed hashes, the anchor, verification) is ``transcribe.security.audit``; this part only
keeps the rows. On PostgreSQL, appending takes a transaction-scoped advisory lock so that two writers never
read the same last entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transcribe.store.database import StorePart
from transcribe.store.schema import audit_log

#: PostgreSQL: one writer of the chain at a time (SQLite's BEGIN IMMEDIATE does it there); the number every
#: version has used, so that hosts of different versions still wait for each other
_ADVISORY_LOCK = 7372657


def last_audit_entry(conn: Connection) -> tuple[int, str] | None:
    """The number and hash of the newest entry, once the writers' lock is held (call it last in a transaction);
    None when the log is empty. An entry written before the chain was numbered counts by its position."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})"))
    last = conn.execute(sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).first()
    if last is None:
        return None
    if last.seq is None:  # written by a host still running a version before the keyed chain
        return (conn.scalar(sa.select(sa.func.count()).select_from(audit_log)) or 0), last.hash
    return last.seq, last.hash


def append_audit_entry(
    conn: Connection,
    *,
    seq: int,
    at: float,
    username: str | None,
    action: str,
    job_id: int | None,
    detail: str | None,
    previous_hash: str,
    digest: str,
) -> None:
    """Append one entry of the chain, in the caller's transaction."""
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at,
            username=username,
            action=action,
            job_id=job_id,
            detail=detail,
            previous_hash=previous_hash,
            hash=digest,
        )
    )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit log: who did what, when, to which job, and its place in the keyed chain."""

    id: int
    #: its number in the chain (None: written before the chain was numbered, counted by its place)
    seq: int | None
    at: float
    username: str | None
    action: str
    job_id: int | None
    detail: str | None
    previous_hash: str
    hash: str


def _entry(row: sa.Row[Any]) -> AuditEntry:
    return AuditEntry(
        row.id, row.seq, row.at, row.username, row.action, row.job_id, row.detail, row.previous_hash, row.hash
    )


class AuditLog(StorePart):
    """Reading the audit log."""

    def audit_entries(self, *, job_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        """The newest entries, optionally for one job."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if job_id is not None:
            query = query.where(audit_log.c.job_id == job_id)
        with self._db.reading() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def audit_chain(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first, read in one transaction."""
        with self._db.reading() as conn:
            for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)):
                yield _entry(row)
