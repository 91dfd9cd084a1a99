"""The job store: one row per dictation, state moves as atomic transactions.

SQLite (WAL) is the embedded default; the schema is written with SQLAlchemy
Core so that the same migrations serve other engines. A job is claimed by a
worker for a lease; a worker that dies leaves a lease that runs out, and a
worker that died on this very host is recognised at once by its process id.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .errors import JobNotFound, StoreError
from .schema import MIGRATIONS, filings, job_events, jobs, patients, reports, results, schema_migrations
from .patients import DictatedIdentity, PatientRecord, name_key
from .records import Job, JobState

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class WorkerIdentity:
    """Who holds a claim: host, process id and a token unique to this process start."""

    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text: str) -> WorkerIdentity | None:
        """Read back an identity written by ``str``; None if it is not one."""
        parts = text.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2])


def this_worker() -> WorkerIdentity:
    """A fresh identity for a worker in this process."""
    return WorkerIdentity(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    """Jobs and their history in a SQL database."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self.url = normalise_url(url)
        self._clock = clock
        self.engine = _create_engine(self.url)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

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

    def schema_version(self) -> int:
        """The newest migration applied to this store."""
        with self.reading() as conn:
            return conn.scalar(sa.select(sa.func.max(schema_migrations.c.version))) or 0

    # --- intake -----------------------------------------------------------------
    def receive(self, *, audio_sha256: str, author: str, original_name: str, audio_path: Path,
                metadata: dict[str, Any] | None = None) -> tuple[Job, bool]:
        """Record a received dictation; return its job and whether it is new.

        A new job waits in ``received`` until ``mark_queued`` says its audio is in
        the archive. The same audio (same hash) received again returns the
        existing job.
        """
        now = self._clock()
        with self.transaction() as conn:
            existing = conn.execute(sa.select(jobs).where(jobs.c.audio_sha256 == audio_sha256)).first()
            if existing is not None:
                self._event(conn, existing.id, "duplicate-received", None, None)
                return _job(existing), False
            job_id = conn.execute(
                jobs.insert().values(
                    audio_sha256=audio_sha256,
                    author=author,
                    original_name=original_name,
                    audio_path=str(audio_path),
                    state=JobState.RECEIVED.value,
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                    metadata_json=json.dumps(metadata, ensure_ascii=False) if metadata else None,
                    worktype=(metadata or {}).get("worktype"),
                    priority=(metadata or {}).get("priority") or "normal",
                    due_date=(metadata or {}).get("due_date"),
                    report_version=0,
                )
            ).inserted_primary_key[0]
            self._event(conn, job_id, "received", None, None)
            return self._get(conn, job_id), True

    def mark_queued(self, job_id: int) -> Job:
        """Make a received job, whose audio is now archived, available to workers."""
        with self.transaction() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == JobState.RECEIVED.value)
                .values(state=JobState.QUEUED.value, updated_at=self._clock())
            )
            return self._get(conn, job_id)

    # --- claiming ---------------------------------------------------------------
    def claim_next(self, worker: WorkerIdentity, lease_s: float) -> Job | None:
        """Take the oldest queued job for this worker, or None when there is none."""
        candidate = (
            sa.select(jobs.c.id)
            .where(jobs.c.state == JobState.QUEUED.value)
            .order_by(*urgent_first())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self.transaction() as conn:
            job_id = conn.scalar(candidate)
            return None if job_id is None else self._claim(conn, job_id, worker, lease_s)

    def claim(self, job_id: int, worker: WorkerIdentity, lease_s: float) -> Job | None:
        """Take this queued job for this worker; None if it is not queued any more."""
        with self.transaction() as conn:
            return self._claim(conn, job_id, worker, lease_s)

    def _claim(self, conn: Connection, job_id: int, worker: WorkerIdentity, lease_s: float) -> Job | None:
        now = self._clock()
        claimed = conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.state == JobState.QUEUED.value)
            .values(
                state=JobState.TRANSCRIBING.value,
                claimed_by=str(worker),
                lease_until=now + lease_s,
                attempts=jobs.c.attempts + 1,
                updated_at=now,
            )
        ).rowcount
        if claimed != 1:
            return None
        self._event(conn, job_id, "claimed", str(worker), None)
        return self._get(conn, job_id)

    def renew_lease(self, job_id: int, worker: WorkerIdentity, lease_s: float) -> bool:
        """Extend this worker's claim; False if the job is no longer ours."""
        with self.transaction() as conn:
            return (
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.claimed_by == str(worker),
                           jobs.c.state == JobState.TRANSCRIBING.value)
                    .values(lease_until=self._clock() + lease_s)
                ).rowcount
                == 1
            )

    def release_abandoned(self) -> list[int]:
        """Send back to the queue the jobs whose worker died; return their ids.

        A claim is abandoned when its lease ran out, or when it was made on this
        host by a process that no longer runs.
        """
        now = self._clock()
        host = socket.gethostname()
        released: list[int] = []
        with self.transaction() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id, jobs.c.claimed_by, jobs.c.lease_until).where(
                    jobs.c.state == JobState.TRANSCRIBING.value
                )
            ).all()
            for row in rows:
                holder = WorkerIdentity.parse(row.claimed_by or "")
                dead_here = holder is not None and holder.host == host and not _process_alive(holder.pid)
                expired = row.lease_until is None or row.lease_until < now
                if not (dead_here or expired):
                    continue
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id == row.id, jobs.c.state == JobState.TRANSCRIBING.value)
                    .values(state=JobState.QUEUED.value, claimed_by=None, lease_until=None, updated_at=now)
                )
                self._event(conn, row.id, "released", row.claimed_by,
                            "worker died" if dead_here else "lease expired")
                released.append(row.id)
        for job_id in released:
            log.warning("job %d was left mid-transcription by a stopped worker; queued again", job_id)
        return released

    # --- outcomes ---------------------------------------------------------------
    def mark_drafted(
        self,
        job_id: int,
        worker: WorkerIdentity,
        *,
        duration_s: float,
        language: str,
        model: str,
        options: dict[str, Any],
        outputs: dict[str, Path],
        vocabulary_version: str | None = None,
        flag_count: int = 0,
        worktype: str | None = None,
        identity: dict[str, Any] | None = None,
        patient_id: str | None = None,
    ) -> bool:
        """Record a finished transcription and its outputs; False if the claim was lost."""
        now = self._clock()
        options_json = json.dumps(options, sort_keys=True, default=str)
        with self.transaction() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.claimed_by == str(worker),
                       jobs.c.state == JobState.TRANSCRIBING.value)
                .values(
                    state=JobState.DRAFTED.value,
                    error=None,
                    duration_s=duration_s,
                    language=language,
                    model=model,
                    options_json=options_json,
                    vocabulary_version=vocabulary_version,
                    flag_count=flag_count,
                    worktype=worktype,
                    identity_json=json.dumps(identity, ensure_ascii=False) if identity else None,
                    patient_id=patient_id,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=now,
                )
            ).rowcount
            if done != 1:
                return False
            for kind, path in outputs.items():
                conn.execute(results.insert().values(
                    job_id=job_id, kind=kind, path=str(path), model=model,
                    options_json=options_json, created_at=now,
                ))
            self._event(conn, job_id, "drafted", str(worker), None)
            return True

    def mark_failed(self, job_id: int, worker: WorkerIdentity, error: str) -> Job:
        """Send a job that failed a stage back to the queue, keeping the error."""
        now = self._clock()
        with self.transaction() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.claimed_by == str(worker))
                .values(state=JobState.QUEUED.value, error=error, claimed_by=None,
                        lease_until=None, updated_at=now)
            )
            self._event(conn, job_id, "failed", str(worker), error)
            return self._get(conn, job_id)

    def quarantine(self, job_id: int, *, error: str, audio_path: Path, actor: str | None = None) -> Job:
        """Mark a job quarantined, with the reason and where its audio now lies."""
        now = self._clock()
        with self.transaction() as conn:
            conn.execute(
                jobs.update().where(jobs.c.id == job_id).values(
                    state=JobState.QUARANTINED.value, error=error, audio_path=str(audio_path),
                    claimed_by=None, lease_until=None, updated_at=now,
                )
            )
            self._event(conn, job_id, "quarantined", actor, error)
            return self._get(conn, job_id)

    def requeue(self, job_id: int, *, audio_path: Path) -> Job:
        """Send a quarantined job back to the queue with fresh attempts."""
        now = self._clock()
        with self.transaction() as conn:
            job = self._get(conn, job_id)
            if job.state is not JobState.QUARANTINED:
                raise StoreError(
                    f"job {job_id} is {job.state.value}, not quarantined: only a quarantined job can be requeued"
                )
            conn.execute(
                jobs.update().where(jobs.c.id == job_id).values(
                    state=JobState.QUEUED.value, attempts=0, audio_path=str(audio_path), updated_at=now,
                )
            )
            self._event(conn, job_id, "requeued", None, None)
            return self._get(conn, job_id)

    # --- reports and filing ----------------------------------------------------
    def queue_again(self, job_id: int, by: str | None, reason: str) -> Job:
        """Send a drafted (not yet validated) job back to the engine: a re-run after the vocabulary or model changed."""
        with self.transaction() as conn:
            job = self._get(conn, job_id)
            if job.state not in (JobState.DRAFTED, JobState.RETURNED):
                raise StoreError(f"job {job_id} is {job.state.value}: only a draft not yet validated is run again")
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                state=JobState.QUEUED.value, attempts=0, updated_at=self._clock()))
            self._event(conn, job_id, "rerun", by, reason)
            return self._get(conn, job_id)

    def return_to_author(self, job_id: int, comment: str, by: str) -> Job:
        """Send a draft back to its author with a comment; it leaves the review queue."""
        with self.transaction() as conn:
            job = self._get(conn, job_id)
            if job.state is not JobState.DRAFTED:
                raise StoreError(f"job {job_id} is {job.state.value}: only a draft waiting for review can be returned")
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                state=JobState.RETURNED.value, return_comment=comment, updated_at=self._clock()))
            self._event(conn, job_id, "returned", by, None)
            return self._get(conn, job_id)

    def resubmit(self, job_id: int, by: str) -> Job:
        """The author sends a returned report back to the review queue."""
        with self.transaction() as conn:
            job = self._get(conn, job_id)
            if job.state is not JobState.RETURNED:
                raise StoreError(f"job {job_id} is {job.state.value}, not returned")
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                state=JobState.DRAFTED.value, updated_at=self._clock()))
            self._event(conn, job_id, "resubmitted", by, None)
            return self._get(conn, job_id)

    def validate(self, job_id: int, *, text: str, patient_id: str, validated_by: str, worktype: str,
                 language: str | None, identity_confirmed_by: str | None, copies: list[str]) -> Job:
        """Record a validated report (a new version if the job was validated before); the job waits to be filed."""
        now = self._clock()
        with self.transaction() as conn:
            job = self._get(conn, job_id)
            if job.state not in (JobState.DRAFTED, JobState.VALIDATED, JobState.FILED):
                raise StoreError(f"job {job_id} is {job.state.value}: only a drafted report can be validated")
            version = job.report_version + 1
            conn.execute(reports.insert().values(
                job_id=job_id, version=version, worktype=worktype, language=language, text=text,
                patient_id=patient_id, validated_by=validated_by, validated_at=now,
                identity_confirmed_by=identity_confirmed_by, copies_json=json.dumps(copies, ensure_ascii=False),
            ))
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                state=JobState.VALIDATED.value, report_version=version, patient_id=patient_id, worktype=worktype,
                filing_error=None, updated_at=now,
            ))
            self._event(conn, job_id, "validated", validated_by, f"version {version}")
            return self._get(conn, job_id)

    def report(self, job_id: int, version: int | None = None) -> dict[str, Any] | None:
        """A validated report of a job (the newest when no version is given)."""
        query = sa.select(reports).where(reports.c.job_id == job_id)
        query = query.where(reports.c.version == version) if version else query.order_by(reports.c.version.desc())
        with self.reading() as conn:
            row = conn.execute(query.limit(1)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        data["copies"] = json.loads(data.pop("copies_json") or "[]")
        return data

    def filing(self, job_id: int, version: int) -> dict[str, Any] | None:
        """Where a report version was filed, if it was."""
        with self.reading() as conn:
            row = conn.execute(sa.select(filings).where(filings.c.job_id == job_id, filings.c.version == version)).first()
        return dict(row._mapping) if row else None

    def record_filing(self, job_id: int, version: int, *, patient_id: str, docx_path: Path, pdf_path: Path | None,
                      sidecar_path: Path) -> Job:
        """Record that a report version lies in the patient's record; the job is filed."""
        now = self._clock()
        with self.transaction() as conn:
            conn.execute(filings.insert().values(
                job_id=job_id, version=version, patient_id=patient_id, docx_path=str(docx_path),
                pdf_path=str(pdf_path) if pdf_path else None, sidecar_path=str(sidecar_path), filed_at=now,
            ))
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.report_version == version).values(
                state=JobState.FILED.value, filing_error=None, updated_at=now))
            self._event(conn, job_id, "filed", None, f"version {version}")
            return self._get(conn, job_id)

    def record_filing_error(self, job_id: int, error: str) -> None:
        """Keep why filing failed; the report stays validated and waits."""
        with self.transaction() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(filing_error=error, updated_at=self._clock()))
            self._event(conn, job_id, "filing-failed", None, error)

    def waiting_to_be_filed(self) -> list[Job]:
        """Validated reports not filed yet (a filing that failed is tried again)."""
        with self.reading() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.state == JobState.VALIDATED.value).order_by(jobs.c.id))
            return [_job(row) for row in rows]

    # --- the patient index -------------------------------------------------------
    def import_patients(self, records: list[PatientRecord]) -> tuple[int, int]:
        """Add or update patients of the index; return (added, updated)."""
        now = self._clock()
        added = updated = 0
        with self.transaction() as conn:
            existing = set(conn.scalars(sa.select(patients.c.patient_id)))
            for record in records:
                values = dict(
                    family_name=record.family_name, given_names=record.given_names,
                    birth_date=record.birth_date.isoformat() if record.birth_date else None, sex=record.sex,
                    family_key=name_key(record.family_name), imported_at=now,
                )
                if record.patient_id in existing:
                    conn.execute(patients.update().where(patients.c.patient_id == record.patient_id).values(**values))
                    updated += 1
                else:
                    conn.execute(patients.insert().values(patient_id=record.patient_id, **values))
                    existing.add(record.patient_id)
                    added += 1
        return added, updated

    def patient(self, patient_id: str) -> PatientRecord | None:
        """One patient of the index."""
        with self.reading() as conn:
            row = conn.execute(sa.select(patients).where(patients.c.patient_id == patient_id)).first()
        return _patient(row) if row else None

    def patient_candidates(self, identity: DictatedIdentity) -> list[PatientRecord]:
        """The patients worth comparing with an identity: same id, same birth date, or a close family name."""
        conditions = []
        if identity.patient_id:
            conditions.append(sa.func.lower(patients.c.patient_id) == identity.patient_id.lower())
        if identity.birth_date:
            conditions.append(patients.c.birth_date == identity.birth_date.isoformat())
        for name in (identity.family_name, identity.given_names):
            key = name_key(name or "")
            for part in key.split():
                if len(part) >= 3:
                    conditions.append(patients.c.family_key.like(part[:3] + "%"))
        if not conditions:
            return []
        with self.reading() as conn:
            rows = conn.execute(sa.select(patients).where(sa.or_(*conditions)).limit(2000))
            return [_patient(row) for row in rows]

    def search_patients(self, query: str, limit: int = 20) -> list[PatientRecord]:
        """Patients whose id, family name or given names contain the query (accents and case ignored)."""
        key = name_key(query)
        if not key:
            return []
        pattern = f"%{key.split()[0]}%"
        with self.reading() as conn:
            rows = conn.execute(sa.select(patients).where(sa.or_(
                patients.c.family_key.like(pattern), patients.c.patient_id == query.strip(),
                sa.func.lower(patients.c.given_names).like(f"%{query.strip().lower()}%"),
            )).order_by(patients.c.family_key).limit(limit))
            return [_patient(row) for row in rows]

    # --- reading ----------------------------------------------------------------
    def get(self, job_id: int) -> Job:
        """The job with this id."""
        with self.reading() as conn:
            return self._get(conn, job_id)

    def list_jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[Job]:
        """The newest jobs first, optionally in one state."""
        query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if state is not None:
            query = query.where(jobs.c.state == state.value)
        with self.reading() as conn:
            return [_job(row) for row in conn.execute(query)]

    def review_queue(self, *, states: tuple[JobState, ...] = (JobState.DRAFTED,), author: str | None = None,
                     worktype: str | None = None, language: str | None = None, patient: str | None = None,
                     limit: int = 500) -> list[Job]:
        """Reports waiting for review: urgent first, then by due date, then oldest; with the secretary's filters."""
        query = sa.select(jobs).where(jobs.c.state.in_([s.value for s in states])).order_by(*urgent_first()).limit(limit)
        if author:
            query = query.where(jobs.c.author == author)
        if worktype:
            query = query.where(jobs.c.worktype == worktype)
        if language:
            query = query.where(jobs.c.language == language)
        if patient:
            key = name_key(patient)
            matching = sa.select(patients.c.patient_id).where(sa.or_(
                patients.c.patient_id == patient.strip(), patients.c.family_key.like(f"%{key}%")))
            query = query.where(jobs.c.patient_id.in_(matching))
        with self.reading() as conn:
            return [_job(row) for row in conn.execute(query)]

    def jobs_of_author(self, author: str, limit: int = 200) -> list[Job]:
        """A doctor's own dictations, newest first."""
        with self.reading() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.author == author).order_by(jobs.c.id.desc()).limit(limit))
            return [_job(row) for row in rows]

    def count_by_state(self) -> dict[JobState, int]:
        """How many jobs are in each state."""
        with self.reading() as conn:
            rows = conn.execute(sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state))
            return {JobState(state): count for state, count in rows}

    def events(self, job_id: int) -> list[tuple[float, str, str | None, str | None]]:
        """The history of one job: (time, event, actor, detail), oldest first."""
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(job_events.c.at, job_events.c.event, job_events.c.actor, job_events.c.detail)
                .where(job_events.c.job_id == job_id)
                .order_by(job_events.c.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def results_of(self, job_id: int) -> dict[str, Path]:
        """The newest output of each kind for one job."""
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(results.c.kind, results.c.path).where(results.c.job_id == job_id).order_by(results.c.id)
            )
            return {kind: Path(path) for kind, path in rows}

    # --- internals --------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as e:
            raise StoreError(f"the job store at {self.display_url} is unavailable ({type(e.orig).__name__}); "
                             "check the disk and its permissions, or the database server") from e

    @property
    def display_url(self) -> str:
        """The store URL without its password, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(store_read=True) as conn:
            yield conn

    def _get(self, conn: Connection, job_id: int) -> Job:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise JobNotFound(f"no job {job_id}; 'transcribe jobs' lists the jobs")
        return _job(row)

    def _event(self, conn: Connection, job_id: int, event: str, actor: str | None, detail: str | None) -> None:
        conn.execute(job_events.insert().values(job_id=job_id, at=self._clock(), event=event, actor=actor, detail=detail))


def open_store(url: str) -> JobStore:
    """Open the store at this URL and bring its schema up to date."""
    store = JobStore(url)
    store.migrate()
    return store


def normalise_url(url: str) -> str:
    """A PostgreSQL URL uses psycopg 3 ("postgresql://..." is taken as "postgresql+psycopg://...")."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _create_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        try:
            return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        except (ImportError, sa.exc.ArgumentError) as e:
            raise StoreError(f"the store URL cannot be used ({e}); for PostgreSQL install the driver: "
                             "pip install 'transcribe[postgres]'") from e
    database = sa.engine.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN, so that every transaction
        # takes the write lock at once and two workers never deadlock on an upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("store_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        audio_sha256=row.audio_sha256,
        author=row.author,
        original_name=row.original_name,
        audio_path=Path(row.audio_path),
        state=JobState(row.state),
        attempts=row.attempts,
        error=row.error,
        duration_s=row.duration_s,
        language=row.language,
        model=row.model,
        options=json.loads(row.options_json) if row.options_json else None,
        created_at=datetime.fromtimestamp(row.created_at, timezone.utc),
        updated_at=datetime.fromtimestamp(row.updated_at, timezone.utc),
        claimed_by=row.claimed_by,
        lease_until=datetime.fromtimestamp(row.lease_until, timezone.utc) if row.lease_until else None,
        vocabulary_version=row.vocabulary_version,
        flag_count=row.flag_count or 0,
        worktype=row.worktype,
        priority=row.priority or "normal",
        due_date=row.due_date,
        metadata=json.loads(row.metadata_json) if row.metadata_json else None,
        patient_id=row.patient_id,
        identity=json.loads(row.identity_json) if row.identity_json else None,
        report_version=row.report_version or 0,
        filing_error=row.filing_error,
        return_comment=row.return_comment,
    )


def _patient(row: Any) -> PatientRecord:
    return PatientRecord(row.patient_id, row.family_name, row.given_names,
                         date.fromisoformat(row.birth_date) if row.birth_date else None, row.sex or "")


def urgent_first() -> tuple[Any, ...]:
    """The order in which waiting dictations are taken: urgent first, then by due date, then oldest."""
    return (
        sa.case((jobs.c.priority == "urgent", 0), else_=1),
        sa.case((jobs.c.due_date.is_(None), 1), else_=0),
        jobs.c.due_date,
        jobs.c.created_at,
        jobs.c.id,
    )
