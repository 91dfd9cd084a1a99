"""Local accounts of the review app: users and roles, argon2 passwords, sessions, login throttling.

Roles: ``doctor`` (sees his own dictations), ``secretary`` (reviews, validates,
files, returns), ``admin`` (everything, and the administration pages).
A session token is random, kept in the store only as its hash, and expires
after ``review.session_idle_minutes`` without use or ``review.session_hours``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import ReviewError
from .schema import login_attempts, sessions, users
from .store import JobStore

ROLES = ("doctor", "secretary", "admin")
MAX_FAILED_LOGINS = 5
THROTTLE_WINDOW_S = 15 * 60
MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()


class LoginRefused(ReviewError):
    """Wrong user name or password, or too many attempts."""


@dataclass(frozen=True)
class User:
    """An account of the review app."""

    id: int
    username: str
    role: str
    author: str | None
    language: str | None

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._idle_s = idle_s
        self._lifetime_s = lifetime_s
        self._clock = clock

    # --- users ---------------------------------------------------------------------------
    def add_user(
        self, username: str, password: str, role: str, *, author: str | None = None, language: str | None = None
    ) -> User:
        """Create an account; the password is stored as an argon2 hash."""
        username = username.strip()
        if role not in ROLES:
            raise ReviewError(f"role must be one of {', '.join(ROLES)}")
        if (
            not username
            or len(username) > 100
            or not username.replace("-", "").replace(".", "").replace("_", "").isalnum()
        ):
            raise ReviewError("a user name is 1 to 100 letters, digits, '.', '-' or '_'")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ReviewError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        with self._store.transaction() as conn:
            if conn.scalar(sa.select(users.c.id).where(users.c.username == username)) is not None:
                raise ReviewError(f"user {username} already exists")
            user_id = conn.execute(
                users.insert().values(
                    username=username,
                    password_hash=_HASHER.hash(password),
                    role=role,
                    author=author or None,
                    language=language,
                    disabled=False,
                    created_at=self._clock(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return User(user_id, username, role, author or None, language)

    def list_users(self) -> list[User]:
        """Every account."""
        with self._store.reading() as conn:
            return [_user(row) for row in conn.execute(sa.select(users).order_by(users.c.username))]

    def set_language(self, user_id: int, language: str) -> None:
        """The interface language a user chose."""
        with self._store.transaction() as conn:
            conn.execute(users.update().where(users.c.id == user_id).values(language=language))

    # --- logging in ------------------------------------------------------------------------
    def login(self, username: str, password: str, client: str) -> tuple[str, Session]:
        """Check the password and open a new session; return the session token (for the cookie)."""
        now = self._clock()
        keys = (f"user:{username.strip().lower()}", f"client:{client}")
        with self._store.transaction() as conn:
            conn.execute(login_attempts.delete().where(login_attempts.c.at < now - THROTTLE_WINDOW_S))
            for key in keys:
                failures = conn.scalar(sa.select(sa.func.count()).where(login_attempts.c.key == key)) or 0
                if failures >= MAX_FAILED_LOGINS:
                    raise LoginRefused("too many failed attempts; wait 15 minutes and try again")
            row = conn.execute(sa.select(users).where(users.c.username == username.strip())).first()
        if row is None or row.disabled or not _verify(row.password_hash, password):
            with self._store.transaction() as conn:
                for key in keys:
                    conn.execute(login_attempts.insert().values(key=key, at=now))
            raise LoginRefused("wrong user name or password")
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self._store.transaction() as conn:
            conn.execute(login_attempts.delete().where(login_attempts.c.key == keys[0]))
            conn.execute(
                sessions.insert().values(
                    token_hash=_token_hash(token), user_id=row.id, csrf_token=csrf, created_at=now, last_seen_at=now
                )
            )
            if _HASHER.check_needs_rehash(row.password_hash):
                conn.execute(users.update().where(users.c.id == row.id).values(password_hash=_HASHER.hash(password)))
        return token, Session(_user(row), csrf)

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie token, or None (unknown, expired, or its user disabled)."""
        if not token or len(token) > 200:
            return None
        now = self._clock()
        with self._store.transaction() as conn:
            found = conn.execute(
                sa.select(sessions, users)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.token_hash == _token_hash(token))
            ).first()
            if found is None:
                return None
            expired = now - found.last_seen_at > self._idle_s or now - found.created_at > self._lifetime_s
            if expired or found.disabled:
                conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))
                return None
            conn.execute(sessions.update().where(sessions.c.token_hash == _token_hash(token)).values(last_seen_at=now))
            return Session(_user(found), found.csrf_token)

    def logout(self, token: str | None) -> None:
        """End a session."""
        if token:
            with self._store.transaction() as conn:
                conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _user(row: sa.Row) -> User:
    return User(row.id, row.username, row.role, row.author, row.language)
