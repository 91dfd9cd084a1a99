"""A worker's claim on a job: take it for a lease, keep it, finish it, or lose it when the worker dies.

A worker that dies leaves a lease that runs out, and a worker that died on this
very host is recognised at once by its process id. Only the holder of a claim
records its outcome (drafted, failed or quarantined): each of these changes
checks, in its own UPDATE, that the job is still in the state the claim holder
left it in and still claimed by it; it returns False when it is not.

A failed job waits before it can be claimed again (``next_try_at``): the
worker decides how long.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transcribe.records import Job, JobState, PatientProposal
from transcribe.store.database import StorePart, log
from transcribe.store.jobs import add_event, fetch_job, urgent_first
from transcribe.store.schema import jobs, results

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


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


class Claims(StorePart):
    """Claims of workers on queued jobs, their leases, and what the holder of a claim records."""

    # --- claiming ---------------------------------------------------------------
    def claim_next(self, worker: WorkerIdentity, lease_s: float) -> Job | None:
        """Take the oldest queued job that is due for this worker, or None when there is none."""
        candidate = (
            sa.select(jobs.c.id)
            .where(jobs.c.state == JobState.QUEUED.value, _due(self._db.now()))
            .order_by(*urgent_first())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self._db.transaction() as conn:
            job_id = conn.scalar(candidate)
            return None if job_id is None else self._claim(conn, job_id, worker, lease_s)

    def claim(self, job_id: int, worker: WorkerIdentity, lease_s: float) -> Job | None:
        """Take this queued job for this worker; None if it is not queued any more, or not due yet."""
        with self._db.transaction() as conn:
            return self._claim(conn, job_id, worker, lease_s)

    def _claim(self, conn: Connection, job_id: int, worker: WorkerIdentity, lease_s: float) -> Job | None:
        now = self._db.now()
        claimed = conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.state == JobState.QUEUED.value, _due(now))
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
        add_event(conn, job_id, self._db.now(), "claimed", str(worker), None)
        return fetch_job(conn, job_id)

    def renew_lease(self, job_id: int, worker: WorkerIdentity, lease_s: float) -> bool:
        """Extend this worker's claim; False if the job is no longer ours."""
        with self._db.transaction() as conn:
            return (
                conn.execute(
                    jobs.update()
                    .where(
                        jobs.c.id == job_id,
                        jobs.c.claimed_by == str(worker),
                        jobs.c.state == JobState.TRANSCRIBING.value,
                    )
                    .values(lease_until=self._db.now() + lease_s)
                ).rowcount
                == 1
            )

    def release_abandoned(self) -> list[int]:
        """Send back to the queue the jobs whose worker died; return their ids.

        A claim is abandoned when its lease ran out, or when it was made on this
        host by a process that no longer runs.
        """
        now = self._db.now()
        host = socket.gethostname()
        released: list[int] = []
        with self._db.transaction() as conn:
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
                still_abandoned = [jobs.c.id == row.id, jobs.c.state == JobState.TRANSCRIBING.value]
                still_abandoned.append(
                    jobs.c.claimed_by.is_(None) if row.claimed_by is None else jobs.c.claimed_by == row.claimed_by
                )
                if not dead_here:  # the holder may have renewed its lease since it was read
                    still_abandoned.append(sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now))
                if (
                    conn.execute(
                        jobs.update()
                        .where(*still_abandoned)
                        .values(state=JobState.QUEUED.value, claimed_by=None, lease_until=None, updated_at=now)
                    ).rowcount
                    != 1
                ):
                    continue
                add_event(
                    conn,
                    row.id,
                    self._db.now(),
                    "released",
                    row.claimed_by,
                    "worker died" if dead_here else "lease expired",
                )
                released.append(row.id)
        for job_id in released:
            log.warning("job %d was left mid-transcription by a stopped worker; queued again", job_id)
        return released

    # --- outcomes of a claim ----------------------------------------------------
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
        identity: PatientProposal | None = None,
        patient_id: str | None = None,
    ) -> bool:
        """Record a finished transcription and its outputs; False if the claim was lost."""
        now = self._db.now()
        options_json = json.dumps(options, sort_keys=True, default=str)
        with self._db.transaction() as conn:
            done = conn.execute(
                jobs.update()
                .where(*_held_by(job_id, worker))
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
                    identity_json=json.dumps(identity.to_json(), ensure_ascii=False) if identity else None,
                    patient_id=patient_id,
                    claimed_by=None,
                    lease_until=None,
                    next_try_at=None,
                    updated_at=now,
                )
            ).rowcount
            if done != 1:
                return False
            for kind, path in outputs.items():
                conn.execute(
                    results.insert().values(
                        job_id=job_id,
                        kind=kind,
                        path=str(path),
                        model=model,
                        options_json=options_json,
                        created_at=now,
                    )
                )
            add_event(conn, job_id, self._db.now(), "drafted", str(worker), None)
            return True

    def mark_failed(self, job_id: int, worker: WorkerIdentity, error: str, *, retry_in_s: float = 0.0) -> bool:
        """Send a job that failed a stage back to the queue, claimable again in ``retry_in_s``; the error is kept.

        The error is also kept in the job's history ("failed"), so that every attempt's reason stays.
        False if the claim was lost (the job is no longer this worker's).
        """
        now = self._db.now()
        with self._db.transaction() as conn:
            done = conn.execute(
                jobs.update()
                .where(*_held_by(job_id, worker))
                .values(
                    state=JobState.QUEUED.value,
                    error=error,
                    claimed_by=None,
                    lease_until=None,
                    next_try_at=now + retry_in_s,
                    updated_at=now,
                )
            ).rowcount
            if done != 1:
                return False
            add_event(conn, job_id, self._db.now(), "failed", str(worker), error)
            return True

    def give_back(self, job_id: int, worker: WorkerIdentity, reason: str) -> bool:
        """Put a job this worker holds back in the queue, claimable at once; the attempt does not count.

        For a job whose work was cut off by something that is not the dictation's fault (the store
        stopped answering while it was in hand). False if the claim was lost, or the outcome recorded.
        """
        now = self._db.now()
        with self._db.transaction() as conn:
            done = conn.execute(
                jobs.update()
                .where(*_held_by(job_id, worker))
                .values(
                    state=JobState.QUEUED.value,
                    attempts=jobs.c.attempts - 1,  # claiming counted it
                    claimed_by=None,
                    lease_until=None,
                    next_try_at=None,
                    updated_at=now,
                )
            ).rowcount
            if done != 1:
                return False
            add_event(conn, job_id, self._db.now(), "released", str(worker), reason)
            return True

    def quarantine(
        self, job_id: int, worker: WorkerIdentity, *, error: str, audit: AuditWriter | None = None, kind: str = ""
    ) -> bool:
        """Mark a claimed job quarantined, with the reason; its audio stays where it is (the archive).

        False if the claim was lost: another worker may have drafted it since, and it is left alone.
        ``audit`` writes the entry in the same transaction, with ``kind`` (the error's short kind), never
        the message (it may hold a file name, which may name the patient).
        """
        now = self._db.now()
        with self._db.transaction() as conn:
            done = conn.execute(
                jobs.update()
                .where(*_held_by(job_id, worker))
                .values(
                    state=JobState.QUARANTINED.value,
                    error=error,
                    claimed_by=None,
                    lease_until=None,
                    next_try_at=None,
                    updated_at=now,
                )
            ).rowcount
            if done != 1:
                return False
            add_event(conn, job_id, self._db.now(), "quarantined", str(worker), error)
            if audit is not None:
                audit.record_in(conn, "quarantined", job_id, kind or None)
            return True


def _held_by(job_id: int, worker: WorkerIdentity) -> tuple[Any, ...]:
    """The condition that this job is still being transcribed under this worker's claim."""
    return (jobs.c.id == job_id, jobs.c.claimed_by == str(worker), jobs.c.state == JobState.TRANSCRIBING.value)


def _due(now: float) -> Any:
    """The condition that a queued job may be claimed now (it is not waiting to be retried)."""
    return sa.or_(jobs.c.next_try_at.is_(None), jobs.c.next_try_at <= now)
