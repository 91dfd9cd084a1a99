"""``transcribe rerun``: transcribe again the dictations not yet validated, after the vocabulary or the model changed.

The earlier draft is kept for comparison in ``drafts/<job>/previous-<n>/``; a
secretary's work in progress on it is kept too, but a job she already started
is left alone unless asked (her changes refer to the old draft).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from transcribe.intake.atomic import ensure_folder
from transcribe.records import Job, JobState
from transcribe.settings import Settings
from transcribe.speech.listening import LISTENING_COPY
from transcribe.store import JobStore
from transcribe.work.review_state import Workspace

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor


@dataclass(frozen=True)
class RerunChoice:
    """What a re-run would do: the jobs it takes again and those it leaves, with why."""

    again: list[Job]
    left: list[tuple[Job, str]]


def choose_jobs(
    store: JobStore, since: datetime, *, author: str | None = None, include_started: bool = False
) -> RerunChoice:
    """The dictations received since ``since`` and not yet validated, that can be run again."""
    workspace = Workspace(store)
    again, left = [], []
    for state in (JobState.DRAFTED, JobState.RETURNED):
        for job in store.jobs.list_jobs(state=state, limit=100_000):
            if job.created_at < since or (author and job.author != author):
                continue
            started = workspace.load(job.id)
            if (started.blocks is not None or started.reverted or started.resolved) and not include_started:
                left.append((job, "a secretary has started reviewing it"))
                continue
            again.append(job)
    return RerunChoice(sorted(again, key=lambda j: j.id), left)


def rerun(
    settings: Settings, store: JobStore, jobs: list[Job], by: str | None, reason: str, audit: Auditor | None = None
) -> list[Job]:
    """Keep each job's current draft aside and queue it again (``audit``: each one's entry, in its transaction)."""
    queued = []
    for job in jobs:
        folder = settings.paths.drafts / str(job.id)
        if folder.is_dir():
            number = 1 + sum(1 for p in folder.iterdir() if p.name.startswith("previous-"))
            keep = ensure_folder(folder / f"previous-{number}")
            for path in folder.iterdir():
                if path.is_file() and path.name != LISTENING_COPY:  # the same audio: it stays to be played
                    os.replace(path, keep / path.name)
        queued.append(store.jobs.queue_again(job.id, by, reason, audit=audit))
    return queued
