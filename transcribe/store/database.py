"""The database under the job store: the engine, its URL, the schema version, and transactions.

SQLite (WAL) is the embedded default; PostgreSQL goes through psycopg 3. Every
part of the store, and every module that keeps its own tables in it (review
work, accounts, audit), reads and writes through the one ``transaction()`` and
``reading()`` defined here, so that errors and locking are the same everywhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from transcribe.errors import StoreError, StoreUnavailable
from transcribe.store.schema import MIGRATIONS, schema_migrations, store_info

# The logger the store has always used, whichever of its modules logs.
log = logging.getLogger("transcribe.store")


class AuditWriter(Protocol):
    """What the store needs of the audit trail (``transcribe.security.audit.Auditor`` is one): the entry of a
    state change, written in that change's transaction, last in it; and who acts (None: the system)."""

    @property
    def actor(self) -> str | None:
        """The user name the entries are written under."""

    def record_in(self, conn: Connection, action: str, job_id: int | None = None, detail: str | None = None) -> None:
        """Append the entry in the caller's transaction."""


class Database:
    """The engine of one store, its schema version and its transactions."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.url = normalise_url(url)
        self._clock = clock
        self.engine = _create_engine(self.url)

    def now(self) -> float:
        """The store's clock (seconds since the epoch): every time it writes comes from here."""
        return self._clock()

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- schema -----------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Bring the schema up to date; return the versions applied now."""
        applied: list[int] = []
        with self.transaction() as conn:
            schema_migrations.create(conn, checkfirst=True)
            done = set(conn.scalars(sa.select(schema_migrations.c.version)))
            for version, step in MIGRATIONS:
                if version in done:
                    continue
                step(conn)
                conn.execute(schema_migrations.insert().values(version=version, applied_at=self._clock()))
                applied.append(version)
        if applied:
            log.info("job store migrated to schema version %d", applied[-1])
        return applied

    def store_id(self) -> str:
        """This store's own identifier, the same from every host (made by the migrations, kept in the store)."""
        with self.reading() as conn:
            found = conn.scalar(sa.select(store_info.c.value).where(store_info.c.key == "store_id"))
        if found is None:
            raise StoreError(
                f"the job store at {self.display_url} has no identifier; run 'transcribe jobs' to migrate it"
            )
        return str(found)

    def schema_version(self) -> int:
        """The newest migration applied to this store."""
        with self.reading() as conn:
            return conn.scalar(sa.select(sa.func.max(schema_migrations.c.version))) or 0

    # --- transactions -----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed on leaving (rolled back on an error).

        What ``after_commit`` registered on it runs once the commit succeeded, never after a rollback.
        """
        committed: list[Callable[[], None]] = []
        try:
            with self.engine.begin() as conn:
                conn.info[_AFTER_COMMIT] = committed
                try:
                    yield conn
                finally:
                    if not conn.invalidated:  # cut by the server: it is thrown away, not pooled (nor readable)
                        conn.info.pop(_AFTER_COMMIT, None)  # the DBAPI connection goes back to the pool
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as e:
            raise self._unavailable(e) from e
        except sa.exc.DBAPIError as e:
            if e.connection_invalidated:
                raise self._unavailable(e) from e
            raise
        for action in committed:
            action()

    def ping(self) -> None:
        """Check that the store answers and takes writes (SQLite: its write lock); ``StoreUnavailable`` if not."""
        with self.transaction() as conn:
            conn.exec_driver_sql("SELECT 1")

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reading only (on SQLite it does not take the write lock)."""
        try:
            with self.engine.connect().execution_options(store_read=True) as conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as e:
            error = self._unavailable(e)
            if isinstance(error, StoreUnavailable):
                raise error from e
            raise
        except sa.exc.DBAPIError as e:
            if e.connection_invalidated:
                raise self._unavailable(e) from e
            raise

    def _unavailable(self, e: sa.exc.DBAPIError) -> StoreError:
        """The store error for a database error: ``StoreUnavailable`` when the store does not answer (waited out)."""
        reason = str(e.orig).strip().splitlines()[0] if str(e.orig).strip() else type(e.orig).__name__
        if (
            not self.url.startswith("sqlite")
            or e.connection_invalidated
            or any(sign in reason.lower() for sign in _SQLITE_UNAVAILABLE)
        ):
            return StoreUnavailable(
                f"the job store at {self.display_url} does not answer ({type(e.orig).__name__}: {reason}); "
                "check that the database server runs and can be reached (for SQLite: the disk, and what holds "
                "the file)"
            )
        return StoreError(
            f"the job store at {self.display_url} refused an operation ({type(e.orig).__name__}: {reason}); "
            "check the disk and its permissions, or the database server"
        )

    @property
    def display_url(self) -> str:
        """The store URL without its password, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)


class StorePart:
    """One part of the store (its jobs, its claims, its accounts...): the tables it keeps, on the store's database.

    A part reads and writes only through ``Database.transaction()`` / ``reading()`` and takes its time from
    ``Database.now()``; ``JobStore`` makes one of each on its own database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db


_AFTER_COMMIT = "transcribe.after_commit"
#: SQLite's words for a file that cannot be used now but may be in a moment (a lock, a disk that went away)
#: how long a statement waits for another program's lock on the SQLite file before the store is "not answering"
#: (then the caller's bounded back-off takes over: ``store/outage.py``)
SQLITE_BUSY_S = 30.0

_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o error")


def after_commit(conn: Connection, action: Callable[[], None]) -> None:
    """Run ``action`` once the transaction of ``conn`` (from ``Database.transaction``) has committed.

    It must not raise: the change is committed already, and its caller would take it for failed.
    """
    pending = conn.info.get(_AFTER_COMMIT)
    if pending is None:
        raise RuntimeError("after_commit needs a connection of Database.transaction()")
    pending.append(action)


def normalise_url(url: str) -> str:
    """A PostgreSQL URL uses psycopg 3 ("postgresql://..." is taken as "postgresql+psycopg://...")."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _create_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        try:
            return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        except (ImportError, sa.exc.ArgumentError) as e:
            raise StoreError(
                f"the store URL cannot be used ({e}); for PostgreSQL install the driver: "
                "pip install 'transcribe[postgres]'"
            ) from e
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_S})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN, so that every transaction
        # takes the write lock at once and two workers never deadlock on an upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("store_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
