"""The audit trail's anchor: how many entries the chain holds and the hash of the newest, kept outside the store.

The chain alone proves that no entry was changed or removed from its middle;
it cannot show that its newest entries were deleted. The anchor does: a small
file beside the site key (``audit-anchor.json`` in the folder of
``paths.site_key``) holds ``count`` and ``head`` (the hash of entry number
``count``), signed with a key derived from the site key. It is written
whole (``atomic.write_atomic``) after each entry's transaction commits, and
only ever moves forward: under a lock on ``audit-anchor.lock`` beside it
(``fcntl.flock``, which also serialises several processes of one host and,
on Linux, hosts sharing the folder over NFS), it is read again and replaced
only by a higher count. An anchor whose signature does not match is never
replaced: it is evidence, and ``transcribe audit verify`` reports it.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from transcribe.errors import AuditError
from transcribe.intake.atomic import FILE_MODE, ensure_folder, write_atomic

log = logging.getLogger(__name__)

ANCHOR_NAME = "audit-anchor.json"


def anchor_path(site_key: Path) -> Path:
    """Where the anchor of a site lies: beside its key, on every host the same shared folder."""
    return site_key.parent / ANCHOR_NAME


@dataclass(frozen=True)
class Anchor:
    """What the anchor vouches for: the chain holds at least ``count`` entries, and entry ``count`` has hash ``head``."""

    count: int
    head: str


class AnchorInvalid(AuditError):
    """The anchor file cannot be read, or its signature does not match."""


class AuditAnchor:
    """Reads and moves forward the anchor file of one site."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key  # the audit key (``site_key.purpose_key``), not the site key itself
        self._lock_path = path.with_name(path.stem + ".lock")

    def read(self) -> Anchor | None:
        """The anchor, None when there is none yet; ``AnchorInvalid`` when it is damaged or forged."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise AnchorInvalid(f"the audit anchor {self.path} cannot be read ({e.strerror})") from e
        try:
            data = json.loads(raw)
            count, head, signature = int(data["count"]), str(data["head"]), str(data["signature"])
        except (ValueError, KeyError, TypeError) as e:
            raise AnchorInvalid(f"the audit anchor {self.path} is damaged (not the JSON it writes)") from e
        if not hmac.compare_digest(signature, self._signature(count, head)):
            raise AnchorInvalid(
                f"the audit anchor {self.path} is not signed with this site's key: it was forged or edited, "
                "or paths.site_key is not the key the site used"
            )
        return Anchor(count, head)

    def advance(self, count: int, head: str) -> bool:
        """Record that the chain now holds ``count`` entries ending with ``head``; False if it already said more.

        An anchor that is damaged or forged is left as it is (``AnchorInvalid``).
        """
        ensure_folder(self.path.parent)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
            current = self.read()  # read again under the lock: another process may have moved it since
            if current is not None and current.count >= count:
                return False
            content = {"count": count, "head": head, "signature": self._signature(count, head)}
            write_atomic(self.path, json.dumps(content, indent=2).encode() + b"\n")
            return True
        finally:
            os.close(fd)

    def _signature(self, count: int, head: str) -> str:
        message = json.dumps(["anchor", count, head]).encode()
        return hmac.new(self._key, message, "sha256").hexdigest()
