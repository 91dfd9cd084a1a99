"""The review app's accounts as kept: users, sessions and failed login attempts.

The rules (passwords, roles, throttling, what a session may do) are ``transcribe.security.accounts``;
this part only reads and writes the rows, each change in one transaction with its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from transcribe.store.database import StorePart
from transcribe.store.schema import login_attempts, sessions, users

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


@dataclass(frozen=True)
class AccountRow:
    """One account as stored (its password as an argon2 hash)."""

    id: int
    username: str
    password_hash: str
    role: str
    author: str | None
    language: str | None
    disabled: bool


def _account(row: Any) -> AccountRow:
    return AccountRow(row.id, row.username, row.password_hash, row.role, row.author, row.language, bool(row.disabled))


class AccountTables(StorePart):
    """Users, sessions and login attempts."""

    def insert_account(
        self,
        username: str,
        password_hash: str,
        role: str,
        *,
        author: str | None,
        language: str | None,
        created_at: float,
        audit: AuditWriter | None = None,
    ) -> int | None:
        """Add an account; its id, or None when the user name is taken (nothing written then)."""
        with self._db.transaction() as conn:
            if conn.scalar(sa.select(users.c.id).where(users.c.username == username)) is not None:
                return None
            user_id = conn.execute(
                users.insert().values(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    author=author,
                    language=language,
                    disabled=False,
                    created_at=created_at,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            if audit is not None:
                audit.record_in(conn, "user-added", None, f"{username} ({role})")
            return int(user_id)

    def account_rows(self) -> list[AccountRow]:
        """Every account, by user name."""
        with self._db.reading() as conn:
            return [_account(row) for row in conn.execute(sa.select(users).order_by(users.c.username))]

    def account_row(self, username: str) -> AccountRow | None:
        """One account by its user name."""
        with self._db.reading() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return _account(row) if row is not None else None

    def change_account(
        self,
        user_id: int,
        values: dict[str, Any],
        *,
        end_sessions: bool = False,
        audit: AuditWriter | None = None,
        action: str = "",
        detail: str | None = None,
    ) -> int:
        """Change an account's columns (``values``: disabled, password_hash, role, language), end its sessions
        if asked, and write the audit entry, in one transaction; returns how many sessions ended."""
        with self._db.transaction() as conn:
            if values:
                conn.execute(users.update().where(users.c.id == user_id).values(**values))
            ended = 0
            if end_sessions:
                ended = conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount or 0
            if audit is not None and action:
                audit.record_in(conn, action, None, detail)
            return ended

    def live_session_counts(self, *, seen_after: float, created_after: float) -> dict[int, int]:
        """How many sessions each user has that were seen and opened after these times (by user id)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(sessions.c.user_id, sa.func.count())
                .where(sessions.c.last_seen_at > seen_after, sessions.c.created_at > created_after)
                .group_by(sessions.c.user_id)
            )
            return {row[0]: row[1] for row in rows}

    def other_active_admins(self, user_id: int) -> int:
        """How many enabled administrators there are besides this user."""
        with self._db.reading() as conn:
            return (
                conn.scalar(
                    sa.select(sa.func.count()).where(
                        users.c.role == "admin", users.c.id != user_id, users.c.disabled.is_(False)
                    )
                )
                or 0
            )

    # --- logging in ---------------------------------------------------------------------------------
    def login_attempts_of(
        self, key: str, username: str, *, forget_before: float
    ) -> tuple[int, float | None, AccountRow | None]:
        """In one transaction: forget attempts older than ``forget_before``, then the failed attempts of this
        key (how many, the last one's time) and the account of this user name."""
        with self._db.transaction() as conn:
            conn.execute(login_attempts.delete().where(login_attempts.c.at < forget_before))
            failures, last = conn.execute(
                sa.select(sa.func.count(), sa.func.max(login_attempts.c.at)).where(login_attempts.c.key == key)
            ).one()
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return failures or 0, last, _account(row) if row is not None else None

    def record_failed_login(self, key: str, at: float) -> None:
        """Count one failed attempt of this key."""
        with self._db.transaction() as conn:
            conn.execute(login_attempts.insert().values(key=key, at=at))

    def open_session(
        self, key: str, token_hash: str, user_id: int, csrf_token: str, now: float, *, new_password_hash: str | None
    ) -> None:
        """A successful login: forget the key's failed attempts, open the session, store a rehashed password."""
        with self._db.transaction() as conn:
            conn.execute(login_attempts.delete().where(login_attempts.c.key == key))
            conn.execute(
                sessions.insert().values(
                    token_hash=token_hash, user_id=user_id, csrf_token=csrf_token, created_at=now, last_seen_at=now
                )
            )
            if new_password_hash is not None:
                conn.execute(users.update().where(users.c.id == user_id).values(password_hash=new_password_hash))

    def touch_session(
        self, token_hash: str, now: float, *, idle_s: float, lifetime_s: float
    ) -> tuple[AccountRow, str] | None:
        """The account and CSRF token of a live session, its last use moved to ``now``; a session idle longer
        than ``idle_s``, older than ``lifetime_s`` or of a disabled account is ended instead (None)."""
        with self._db.transaction() as conn:
            found = conn.execute(
                sa.select(sessions, users)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.token_hash == token_hash)
            ).first()
            if found is None:
                return None
            expired = now - found.last_seen_at > idle_s or now - found.created_at > lifetime_s
            if expired or found.disabled:
                conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))
                return None
            conn.execute(sessions.update().where(sessions.c.token_hash == token_hash).values(last_seen_at=now))
            return _account(found), found.csrf_token

    def end_session(self, token_hash: str) -> None:
        """End one session."""
        with self._db.transaction() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))
