"""The audit trail: who validated, filed, returned, requeued, re-ran or decided what, and when; tampering shows.

Each entry holds its number in the chain (``seq``), the hash of the entry before it, and its own
hash: an HMAC-SHA-256 of its number, that link and its content, with a key derived from the site
key (``site_key``, a file kept outside the database). Someone who can write to the database but
cannot read the key file cannot make an entry that verifies: changing any entry, or removing one
from the middle, breaks the chain. The anchor (``audit_anchor``), a signed file beside the key,
holds how many entries there were and the hash of the newest, so that removing the newest entries,
or replacing the whole chain, shows too (``transcribe audit verify``).

An entry is written in the transaction of the action it records (``record_in``; the store's state
changes take an ``Auditor``): the action and its entry are committed together or not at all. The
anchor moves just after the commit.

The limits, honestly:

- entries newer than the anchor's last write can go unseen if they are deleted at once after being
  written: the window is one write (the anchor moves right after each commit; while it cannot be
  written, a logged error, the window grows until it can);
- whoever can read the key file can rewrite the chain and the anchor: keep the key (and the anchor)
  out of the database, out of its backups, and out of reach of the database's other users;
- entries written before the chain was keyed (plain SHA-256, which anyone can recompute) prove
  nothing against someone who could write to the database then: ``verify`` says so until a person
  who checked them against a backup accepts them (``accept_unkeyed``).

Entries name users, actions, job ids and short details (a version, a reason code); never a
patient's name or transcript text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from transcribe.errors import AuditError
from transcribe.security.audit_anchor import Anchor, AnchorInvalid, AuditAnchor, anchor_path
from transcribe.security.site_key import load_site_key, purpose_key
from transcribe.store import JobStore
from transcribe.store.audit_log import AuditEntry, append_audit_entry, last_audit_entry
from transcribe.store.database import after_commit

if TYPE_CHECKING:
    from transcribe.settings import Settings

log = logging.getLogger(__name__)

GENESIS = "0" * 64
#: the name of the audit key derived from the site key (see ``site_key.purpose_key``)
AUDIT_KEY_PURPOSE = "Audit-Chain/1"
#: the action of the entry by which a person accepts the entries written before the chain was keyed
UNKEYED_ACCEPTED = "unkeyed-accepted"


@dataclass(frozen=True)
class AuditCheck:
    """The result of checking the chain: intact, or the first entry (by number) where it breaks, and why."""

    entries: int
    intact: bool
    first_broken: int | None = None
    reason: str = ""
    #: entries written before the chain was keyed, and who accepted them (None: nobody yet)
    unkeyed: int = 0
    unkeyed_accepted_by: str | None = None
    #: nothing is wrong but unkeyed entries nobody accepted yet (``accept_unkeyed``)
    waiting_acceptance: bool = False
    #: how many entries the anchor vouches for
    anchored: int = 0


def plain_hash(
    previous: str, at: float, username: str | None, action: str, job_id: int | None, detail: str | None
) -> str:
    """The unkeyed hash of the entries written before the chain was keyed (anyone can recompute it)."""
    content = json.dumps([previous, round(at, 6), username, action, job_id, detail], ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


def entry_hash(
    key: bytes,
    seq: int,
    previous: str,
    at: float,
    username: str | None,
    action: str,
    job_id: int | None,
    detail: str | None,
) -> str:
    """The keyed hash of one entry: its number, the hash of the one before, its content."""
    content = json.dumps(["entry", seq, previous, round(at, 6), username, action, job_id, detail], ensure_ascii=False)
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


class AuditTrail:
    """Appends to and checks the keyed audit chain of a store, and its anchor."""

    def __init__(self, store: JobStore, *, key: bytes, anchor: Path, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._key = purpose_key(key, AUDIT_KEY_PURPOSE)
        self.anchor = AuditAnchor(anchor, self._key)
        self._clock = clock

    @classmethod
    def of_site(cls, store: JobStore, settings: Settings) -> AuditTrail:
        """The trail of a site: keyed with its key (``paths.site_key``), anchored beside it."""
        site_key = settings.paths.site_key
        return cls(store, key=load_site_key(site_key), anchor=anchor_path(site_key))

    def by(self, actor: str | None) -> Auditor:
        """The trail as this actor (a user name, ``cli:<login>``, ``worker:<identity>``) writes to it."""
        return Auditor(self, actor)

    def record(self, username: str | None, action: str, job_id: int | None = None, detail: str | None = None) -> None:
        """Append an entry in a transaction of its own (for what changes nothing else in the store)."""
        with self._store.transaction() as conn:
            self.record_in(conn, username, action, job_id, detail)

    def record_in(
        self, conn: Connection, username: str | None, action: str, job_id: int | None = None, detail: str | None = None
    ) -> None:
        """Append an entry in the caller's transaction: it commits, or is rolled back, with the action.

        Call it last in the transaction: from here to the commit, other writers of the trail wait.
        """
        last = last_audit_entry(conn)
        seq, previous = (1, GENESIS) if last is None else (last[0] + 1, last[1])
        at = self._clock()
        username = username[:100] if username else None
        action = action[:40]
        digest = entry_hash(self._key, seq, previous, at, username, action, job_id, detail)
        append_audit_entry(
            conn,
            seq=seq,
            at=at,
            username=username,
            action=action,
            job_id=job_id,
            detail=detail,
            previous_hash=previous,
            digest=digest,
        )
        after_commit(conn, lambda: self._move_anchor(seq, digest))

    def _move_anchor(self, seq: int, digest: str) -> None:
        try:
            self.anchor.advance(seq, digest)
        except (OSError, AuditError) as e:  # the entry is committed: the next one moves the anchor
            log.error(
                "the audit anchor %s was not moved to entry %d (%s): until it is, the newest entries of the "
                "audit trail are not protected from deletion",
                self.anchor.path,
                seq,
                e,
            )

    def entries(self, *, job_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        """The newest entries, optionally for one job."""
        return self._store.audit_log.audit_entries(job_id=job_id, limit=limit)

    def verify(self) -> AuditCheck:
        """Walk the whole chain, then hold it against the anchor: intact, or where it breaks and why."""
        try:
            anchor, anchor_problem = self.anchor.read(), ""  # before the entries: the chain only grows meanwhile
        except AnchorInvalid as e:
            anchor, anchor_problem = None, str(e)
        walk = _Walk(self._key, anchor.count if anchor else None)
        for row in self._store.audit_log.audit_chain():
            problem = walk.step(row)
            if problem:
                return walk.broken(walk.count, problem)
        if anchor_problem:
            return walk.broken(None, f"{anchor_problem}; restore it from its backup, or find who wrote it")
        if anchor is None and walk.keyed:
            return walk.broken(
                None,
                f"the audit anchor {self.anchor.path} is missing: the newest entries could have been deleted unseen; "
                "restore it from its backup (every host must share the folder of the site key)",
            )
        if anchor is not None and anchor.count > walk.count:
            return walk.broken(
                walk.count + 1,
                f"the chain ends at entry {walk.count} but the anchor says {anchor.count} entries were written: "
                f"{_entries(walk.count + 1, anchor.count)} deleted (or the database was restored from an older "
                "backup)",
            )
        if anchor is not None and walk.anchor_head != anchor.head:
            return walk.broken(
                anchor.count,
                f"entry {anchor.count} is not the one the anchor recorded: the chain was rewritten from there on, "
                "or replaced by another store's",
            )
        return walk.result(anchor)

    def accept_unkeyed(self, username: str) -> int:
        """Accept the entries written before the chain was keyed, once a person checked them; return how many."""
        check = self.verify()
        if check.unkeyed == 0:
            raise AuditError("no entry of the audit trail was written before it was keyed: there is nothing to accept")
        if check.unkeyed_accepted_by:
            raise AuditError(
                f"the {check.unkeyed} unkeyed entries were accepted already, by {check.unkeyed_accepted_by}"
            )
        if not check.waiting_acceptance:
            raise AuditError(f"the audit trail is broken, nothing is accepted: {check.reason}")
        self.record(username, UNKEYED_ACCEPTED, None, accepted_detail(check.unkeyed))
        return check.unkeyed


@dataclass(frozen=True)
class Auditor:
    """The audit trail as one actor writes to it; given to a state change, it writes in that change's transaction."""

    trail: AuditTrail
    actor: str | None

    def record_in(self, conn: Connection, action: str, job_id: int | None = None, detail: str | None = None) -> None:
        """Append this actor's entry in the caller's transaction (last in it)."""
        self.trail.record_in(conn, self.actor, action, job_id, detail)

    def record(self, action: str, job_id: int | None = None, detail: str | None = None) -> None:
        """Append this actor's entry in a transaction of its own."""
        self.trail.record(self.actor, action, job_id, detail)

    def entry(self, action: str, job_id: int | None = None, detail: str | None = None) -> Callable[[Connection], None]:
        """This entry, for a change that writes whatever entry it is given in its transaction (``Workspace.save``)."""
        return lambda conn: self.record_in(conn, action, job_id, detail)


def _entries(first: int, last: int) -> str:
    return f"entry {first} was" if first == last else f"entries {first} to {last} were"


def accepted_detail(unkeyed: int) -> str:
    """The detail of the entry that accepts the first ``unkeyed`` entries."""
    return f"entries 1 to {unkeyed}"


class _Walk:
    """The state of ``verify`` along the chain, one entry after the other."""

    def __init__(self, key: bytes, anchor_count: int | None) -> None:
        self._key = key
        self._anchor_count = anchor_count
        self.anchor_head: str | None = None
        self.count = 0
        self.previous = GENESIS
        self.keyed = False
        self.unkeyed = 0
        self.accepted_by: str | None = None

    def step(self, row: AuditEntry) -> str:
        """Check the next entry; what is wrong with it ("" when nothing)."""
        self.count += 1
        n = self.count
        if row.seq != n:
            return f"entry {n} is numbered {row.seq}: entries before it were deleted or inserted"
        if row.previous_hash != self.previous:
            return f"entry {n} does not follow entry {n - 1}: entry {n - 1} was changed or replaced"
        content = (row.at, row.username, row.action, row.job_id, row.detail)
        if hmac.compare_digest(row.hash, entry_hash(self._key, n, row.previous_hash, *content)):
            self.keyed = True
            if row.action == UNKEYED_ACCEPTED and row.detail == accepted_detail(self.unkeyed) and self.unkeyed:
                self.accepted_by = row.username
        elif row.hash == plain_hash(row.previous_hash, *content):
            if self.keyed:
                return (
                    f"entry {n} is hashed without the site key although the chain was keyed before it: it was "
                    "written or rewritten by someone without the key (or by a host still running an older version)"
                )
            self.unkeyed += 1
        else:
            return (
                f"entry {n} (id {row.id}) does not match its keyed hash: its content was changed, or the chain "
                "was written with another site key (is paths.site_key the site's key file?)"
            )
        if n == self._anchor_count:
            self.anchor_head = row.hash
        self.previous = row.hash
        return ""

    def broken(self, at: int | None, reason: str) -> AuditCheck:
        """The chain is broken at entry ``at`` (None: not at one entry), for this reason."""
        return AuditCheck(self.count, False, at, reason, self.unkeyed, self.accepted_by)

    def result(self, anchor: Anchor | None) -> AuditCheck:
        """Nothing is broken: intact, unless unkeyed entries wait to be accepted."""
        anchored = anchor.count if anchor else 0
        if self.unkeyed and not self.accepted_by:
            reason = (
                f"entries 1 to {self.unkeyed} were written before the chain was keyed (plain SHA-256: anyone who "
                "could write to the database could have rewritten them); compare them with a backup of the "
                "database ('transcribe audit show'), then accept them with 'transcribe audit accept-unkeyed'"
            )
            return AuditCheck(self.count, False, None, reason, self.unkeyed, None, True, anchored)
        return AuditCheck(self.count, True, None, "", self.unkeyed, self.accepted_by, False, anchored)
