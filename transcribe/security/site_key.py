"""The site's secret key: it keys the audit chain and the hashes kept of mistyped user names.

The key lives in a file beside the store (``paths.site_key``, by default
``data/site.key``), never in the database: someone who can write to the
database but not read that file cannot forge audit entries. The file is
created on first use (32 random bytes, hex, mode 0600). Every host of a site
uses the same file; losing it makes the existing audit chain unverifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from transcribe.errors import ConfigurationError
from transcribe.intake.atomic import write_new

KEY_BYTES = 32


def load_site_key(path: Path) -> bytes:
    """The site key from ``path``, created there if there is none yet."""
    if not path.exists():
        try:
            write_new(path, secrets.token_hex(KEY_BYTES).encode() + b"\n")
        except FileExistsError:
            pass  # another process created it first: use that one
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"the site key {path} cannot be read ({error}); restore it from its backup") from error
    if len(key) < 16:
        raise ConfigurationError(f"the site key {path} is too short; restore it from its backup")
    return key


def keyed_hash(key: bytes, text: str) -> str:
    """A keyed hash of ``text`` (HMAC-SHA-256, hex): equal texts give equal hashes, the text cannot be read back."""
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


#: the use of the site key that hashes failed logins (typed user names, "name\\nclient" counters)
LOGIN_PURPOSE = "Login-Attempts/1"


def purpose_key(key: bytes, purpose: str) -> bytes:
    """A key for one use of the site key (HMAC-SHA-256 of the purpose's name), so that each use has its own.

    Nothing is hashed with the site key itself: logins use ``LOGIN_PURPOSE``'s key, the audit chain
    its own, so that no text a user can type makes the app store a hash that is another use's key.
    The name holds a capital letter and no line break (a check that it is a purpose, not data).
    """
    if purpose == purpose.lower() or "\n" in purpose:
        raise ValueError(f"a purpose name holds a capital letter and no line break, not {purpose!r}")
    return hmac.new(key, purpose.encode("utf-8"), hashlib.sha256).digest()
