"""How the service keeps up: the backlog (what waits, in which state, for how long) and the turnaround
(received -> validated -> filed), from the job store's states and the events of each job's history."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from transcribe.records import JobState
from transcribe.store import JobStore

#: the states in which a dictation still waits for someone or something
BACKLOG_STATES = (
    JobState.RECEIVED,
    JobState.QUEUED,
    JobState.TRANSCRIBING,
    JobState.DRAFTED,
    JobState.RETURNED,
    JobState.VALIDATED,
    JobState.QUARANTINED,
)
#: how long a dictation has waited since it was received: each band's name and its upper bound in seconds
AGE_BANDS = (
    ("hour", 3600.0),
    ("hours", 4 * 3600.0),
    ("day", 24 * 3600.0),
    ("days", 3 * 24 * 3600.0),
    ("older", math.inf),
)
#: the stretches of a report's way, each from one event of its history to another
SPANS = (
    ("received-validated", "received", "validated"),
    ("validated-filed", "validated", "filed"),
    ("received-filed", "received", "filed"),
)
TURNAROUND_DAYS = 30


@dataclass(frozen=True)
class Backlog:
    """What waits: for each state, how many dictations in each age band."""

    counts: dict[JobState, dict[str, int]]

    def total(self, state: JobState) -> int:
        """How many dictations wait in this state."""
        return sum(self.counts.get(state, {}).values())


@dataclass(frozen=True)
class Turnaround:
    """How long one stretch took over the reports that went through it: how many, median, 9 in 10 within."""

    span: str
    reports: int
    median_s: float | None
    ninetieth_s: float | None


def backlog(store: JobStore, *, now: float, author: str | None = None) -> Backlog:
    """The dictations still waiting (of one author, or all), by state and by how long ago they were received."""
    counts: dict[JobState, dict[str, int]] = {state: {name: 0 for name, _ in AGE_BANDS} for state in BACKLOG_STATES}
    for state, received_at in store.jobs.ages_by_state(BACKLOG_STATES, author=author):
        age = max(0.0, now - received_at)
        band = next(name for name, bound in AGE_BANDS if age < bound)
        counts[state][band] += 1
    return Backlog(counts)


def turnaround(store: JobStore, *, now: float, author: str | None = None) -> list[Turnaround]:
    """How long each stretch took for the dictations received in the last 30 days (of one author, or all)."""
    names = tuple({name for _, start, end in SPANS for name in (start, end)})
    milestones = store.jobs.first_events(names, since=now - TURNAROUND_DAYS * 86400, author=author)
    figures = []
    for span, start, end in SPANS:
        lengths = sorted(
            m[end] - m[start] for m in milestones.values() if start in m and end in m and m[end] >= m[start]
        )
        figures.append(
            Turnaround(
                span,
                len(lengths),
                statistics.median(lengths) if lengths else None,
                lengths[min(len(lengths) - 1, math.ceil(0.9 * len(lengths)) - 1)] if lengths else None,
            )
        )
    return figures
