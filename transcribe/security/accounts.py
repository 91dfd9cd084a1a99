"""Local accounts of the review app: users and roles, argon2 passwords, sessions, login throttling.

Roles: ``doctor`` (sees his own dictations), ``secretary`` (reviews, validates,
files, returns), ``admin`` (everything, and the administration pages).
A session token is random, kept in the store only as its hash, and expires
after ``review.session_idle_minutes`` without use or ``review.session_hours``.

Failed logins are counted per user name *and* client address together, so
that nobody can lock another person out from elsewhere and users behind one
reverse proxy do not lock each other out (the client address is read from the
trusted proxy's header, see ``client_address``). After ``FREE_FAILED_LOGINS``
failures the next try must wait, twice as long after each new failure, up to
``MAX_LOGIN_DELAY_S``. The store keeps only a keyed hash of the typed user
name (it may be a password typed in the wrong field), never the name itself.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from transcribe.errors import ReviewError
from transcribe.security.site_key import keyed_hash
from transcribe.store import JobStore
from transcribe.store.accounts import AccountRow

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor

ROLES = ("doctor", "secretary", "admin")
#: failures of one user name from one client allowed before the next try has to wait
FREE_FAILED_LOGINS = 5
#: the wait after the first failure beyond the free ones; it doubles with each further failure
FIRST_LOGIN_DELAY_S = 30.0
MAX_LOGIN_DELAY_S = 15 * 60.0
#: failures older than this are forgotten
THROTTLE_WINDOW_S = 60 * 60
MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()


class LoginRefused(ReviewError):
    """Wrong user name or password, a disabled account, or too many attempts (``code``: login.wrong,
    login.disabled, login.throttled with ``seconds``)."""

    def __init__(self, message: str, code: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def login_delay(failures: int) -> float:
    """How long a user name must wait, from one client, after this many failed logins in a row."""
    if failures < FREE_FAILED_LOGINS:
        return 0.0
    return min(MAX_LOGIN_DELAY_S, FIRST_LOGIN_DELAY_S * 2 ** (failures - FREE_FAILED_LOGINS))


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The address a login comes from: the peer, or when the peer is a trusted proxy, the client it forwards.

    ``forwarded_for`` is the proxy's header (``X-Forwarded-For``: ``client, proxy1, proxy2``); the address
    taken is the last one not itself a trusted proxy, so a client cannot choose its address by sending the
    header itself.
    """
    address = peer or "unknown"
    if address not in trusted_proxies or not forwarded_for:
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if hop not in trusted_proxies:
            return hop[:100]
    return address


class AccountRefused(ReviewError):
    """An account change that cannot be made; ``code`` and ``params`` say why, for the interface's catalogue."""

    def __init__(self, message: str, code: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class User:
    """An account of the review app."""

    id: int
    username: str
    role: str
    author: str | None
    language: str | None
    disabled: bool = False

    def can(self, *roles: str) -> bool:
        """Whether this user has one of these roles (admin can do everything)."""
        return self.role == "admin" or self.role in roles


@dataclass(frozen=True)
class Session:
    """A logged-in user, with the session's CSRF token."""

    user: User
    csrf_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users, sessions and login attempts in the job store."""

    def __init__(
        self,
        store: JobStore,
        *,
        idle_s: float = 30 * 60,
        lifetime_s: float = 12 * 3600,
        key: bytes = b"",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._idle_s = idle_s
        self._lifetime_s = lifetime_s
        self._key = key  # the site key: hashes the typed user names of failed logins
        self._clock = clock

    # --- users ---------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        author: str | None = None,
        language: str | None = None,
        audit: Auditor | None = None,
    ) -> User:
        """Create an account; the password is stored as an argon2 hash (``audit``: who, in the same transaction)."""
        username = username.strip()
        _check_role(role)
        if (
            not username
            or len(username) > 100
            or not username.replace("-", "").replace(".", "").replace("_", "").isalnum()
        ):
            raise AccountRefused("a user name is 1 to 100 letters, digits, '.', '-' or '_'", "account.username")
        _check_password(password)
        user_id = self._store.accounts.insert_account(
            username,
            _HASHER.hash(password),
            role,
            author=author or None,
            language=language,
            created_at=self._clock(),
            audit=audit,
        )
        if user_id is None:
            raise AccountRefused(f"user {username} already exists", "account.exists", username=username)
        return User(user_id, username, role, author or None, language)

    def list_users(self) -> list[User]:
        """Every account."""
        return [_user(row) for row in self._store.accounts.account_rows()]

    def user(self, username: str) -> User:
        """One account, by user name."""
        row = self._store.accounts.account_row(username)
        if row is None:
            raise AccountRefused(f"no user {username}; 'transcribe user list' lists them", "error.no-such-user")
        return _user(row)

    def set_disabled(self, username: str, disabled: bool, *, audit: Auditor | None = None) -> User:
        """Disable an account (its sessions end at once: it is refused on its next request), or enable it again."""
        user = self.user(username)
        if disabled and user.role == "admin":
            self._keep_an_admin(user)
        action = "user-disabled" if disabled else "user-enabled"
        self._store.accounts.change_account(
            user.id, {"disabled": disabled}, end_sessions=disabled, audit=audit, action=action, detail=username
        )
        return self.user(username)

    def set_password(self, username: str, password: str, *, audit: Auditor | None = None) -> User:
        """Give an account a new password; its open sessions end."""
        _check_password(password)
        user = self.user(username)
        self._store.accounts.change_account(
            user.id,
            {"password_hash": _HASHER.hash(password)},
            end_sessions=True,
            audit=audit,
            action="password-reset",
            detail=username,
        )
        return user

    def set_role(self, username: str, role: str, *, audit: Auditor | None = None) -> User:
        """Change an account's role; it applies from the user's next request."""
        _check_role(role)
        user = self.user(username)
        if user.role == "admin" and role != "admin":
            self._keep_an_admin(user)
        self._store.accounts.change_account(
            user.id, {"role": role}, audit=audit, action="role-changed", detail=f"{username} ({role})"
        )
        return self.user(username)

    def end_sessions(self, username: str, *, audit: Auditor | None = None) -> int:
        """End every open session of an account (it must log in again); return how many there were."""
        user = self.user(username)
        return self._store.accounts.change_account(
            user.id, {}, end_sessions=True, audit=audit, action="sessions-ended", detail=username
        )

    def open_sessions(self) -> dict[int, int]:
        """How many live sessions each user has (by user id)."""
        now = self._clock()
        return self._store.accounts.live_session_counts(
            seen_after=now - self._idle_s, created_after=now - self._lifetime_s
        )

    def _keep_an_admin(self, leaving: User) -> None:
        """Refuse a change that would leave the site without an active administrator."""
        if not self._store.accounts.other_active_admins(leaving.id):
            raise AccountRefused("at least one active administrator must remain", "error.last-admin")

    def set_language(self, user_id: int, language: str) -> None:
        """The interface language a user chose."""
        self._store.accounts.change_account(user_id, {"language": language})

    # --- logging in ------------------------------------------------------------------------
    def login(self, username: str, password: str, client: str) -> tuple[str, Session]:
        """Check the password and open a new session; return the session token (for the cookie).

        Refused with ``login.throttled`` while this user name must wait from this client (see ``login_delay``).
        """
        now = self._clock()
        key = self.attempt_key(username, client)
        failures, last, row = self._store.accounts.login_attempts_of(
            key, username.strip(), forget_before=now - THROTTLE_WINDOW_S
        )
        wait = (last or now) + login_delay(failures) - now
        if wait > 0:
            seconds = int(wait) + 1
            raise LoginRefused(
                f"too many failed attempts; wait {seconds} seconds and try again",
                "login.throttled",
                seconds=seconds,
            )
        if row is None or not _verify(row.password_hash, password):
            self._store.accounts.record_failed_login(key, now)
            raise LoginRefused("wrong user name or password", "login.wrong")
        if row.disabled:  # said only to whom knows the password: a wrong one tells nothing of the account
            raise LoginRefused(
                f"the account {row.username} is disabled; an administrator can enable it again", "login.disabled"
            )
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        rehashed = _HASHER.hash(password) if _HASHER.check_needs_rehash(row.password_hash) else None
        self._store.accounts.open_session(key, _token_hash(token), row.id, csrf, now, new_password_hash=rehashed)
        return token, Session(_user(row), csrf)

    def typed_name_hash(self, username: str) -> str:
        """What the store and the audit trail keep of a user name typed at a failed login: a keyed hash."""
        return "typed:" + keyed_hash(self._key, username.strip().lower())[:24]

    def attempt_key(self, username: str, client: str) -> str:
        """The counter of failed logins for one user name from one client (a keyed hash of both)."""
        return keyed_hash(self._key, f"{username.strip().lower()}\n{client}")

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie token, or None (unknown, expired, or its user disabled)."""
        if not token or len(token) > 200:
            return None
        live = self._store.accounts.touch_session(
            _token_hash(token), self._clock(), idle_s=self._idle_s, lifetime_s=self._lifetime_s
        )
        return Session(_user(live[0]), live[1]) if live is not None else None

    def logout(self, token: str | None) -> None:
        """End a session."""
        if token:
            self._store.accounts.end_session(_token_hash(token))


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountRefused(f"role must be one of {', '.join(ROLES)}", "account.role", roles=", ".join(ROLES))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            "account.password",
            minimum=MIN_PASSWORD_LENGTH,
        )


def _user(row: AccountRow) -> User:
    return User(row.id, row.username, row.role, row.author, row.language, row.disabled)
