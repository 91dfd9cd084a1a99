"""Retention, as a written site policy: how long a filed report's dictation audio and drafts are kept.

``[retention] audio_days`` and ``drafts_days`` count from the filing of a report's newest version;
0 (the default) keeps them. Filed reports (``outbox/``) are never deleted by the tool: French law makes
the practice or the hospital keep the record itself (docs/retention.md says how long, and why).
``due`` lists what the policy deletes now (``transcribe retention --dry-run``); ``apply`` deletes it
and keeps in the store, for each job, the sha256 of what was deleted, the dates and who ran it.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.store.keeping import Removal

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor

log = logging.getLogger(__name__)
DAY_S = 86400.0


@dataclass(frozen=True)
class Due:
    """Something the policy deletes: a job's audio or drafts, the files concerned, and the dates."""

    job_id: int
    kind: str  # "audio" or "drafts"
    paths: tuple[Path, ...]
    sha256: str
    filed_at: float
    due_at: float
    policy: str


def due(settings: Settings, store: JobStore, *, now: float | None = None) -> list[Due]:
    """What the retention policy deletes now, of the filed reports (nothing when both periods are 0: kept)."""
    now = time.time() if now is None else now
    policy = settings.retention
    done = {(r.job_id, r.kind) for r in store.keeping.removals()}
    found: list[Due] = []
    for job in store.keeping.filed_jobs():
        drafts = settings.paths.drafts / str(job.job_id)
        if policy.audio_days and (job.job_id, "audio") not in done:
            due_at = job.filed_at + policy.audio_days * DAY_S
            if due_at <= now:
                paths = tuple(p for p in (Path(job.audio_path), drafts / "listen.wav") if p.exists())
                found.append(
                    Due(
                        job.job_id,
                        "audio",
                        paths,
                        job.audio_sha256,
                        job.filed_at,
                        due_at,
                        f"audio_days={policy.audio_days}",
                    )
                )
        if policy.drafts_days and (job.job_id, "drafts") not in done:
            due_at = job.filed_at + policy.drafts_days * DAY_S
            if due_at <= now:
                paths = tuple(sorted(p for p in drafts.rglob("*") if p.is_file() and p.name != "listen.wav"))
                found.append(
                    Due(
                        job.job_id,
                        "drafts",
                        paths,
                        _digest(paths),
                        job.filed_at,
                        due_at,
                        f"drafts_days={policy.drafts_days}",
                    )
                )
    return found


def _digest(paths: tuple[Path, ...]) -> str:
    """One sha256 over draft files, each named and hashed: what was deleted can be recognised later."""
    total = hashlib.sha256()
    for path in paths:
        total.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def apply(
    settings: Settings, store: JobStore, items: list[Due], *, actor: str, audit: Auditor | None = None
) -> list[Removal]:
    """Delete what is due and keep what was deleted (sha256, dates, who) in the store, one job at a time.

    A file that cannot be deleted stops that job's deletion and is reported; the others go on.
    Recorded only once every file of it is gone, so that a run stopped half-way is finished by the next.
    """
    removed: list[Removal] = []
    for item in items:
        try:
            for path in item.paths:
                path.unlink(missing_ok=True)
            if item.kind == "drafts":  # the earlier drafts' folders (previous-N), emptied
                for folder in sorted((settings.paths.drafts / str(item.job_id)).glob("previous-*"), reverse=True):
                    shutil.rmtree(folder, ignore_errors=True)
        except OSError as e:
            log.error("job %d: its %s could not be deleted (%s); it stays due", item.job_id, item.kind, e.strerror)
            continue
        removal = Removal(
            item.job_id, item.kind, item.sha256, item.filed_at, item.due_at, time.time(), actor, item.policy
        )
        store.keeping.record_removal(removal, audit=audit)
        removed.append(removal)
    return removed
