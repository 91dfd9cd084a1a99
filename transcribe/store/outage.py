"""Waiting out a job store that does not answer: a database restart, an unreachable server, a locked SQLite.

The loops that keep a service up (``serve``'s inbox watcher and worker, ``transcribe worker``, the
batch's claims) do not stop on the first failed connection: each keeps an ``Outage`` and waits,
longer each time up to ``store.retry_max_s``, saying so in the log, then tries again. Dictations
that arrive meanwhile wait in the inbox. When the store answers again the log says after how long.
A store still silent after ``store.outage_limit_s`` is reported at CRITICAL level and ``StoreDown``
is raised: the process exits with a failure, for a person (and its supervisor) to see.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from transcribe.errors import StoreDown, StoreUnavailable
from transcribe.settings import StoreSettings

log = logging.getLogger("transcribe.store")

#: the first wait after a failure; each next one is twice as long, at most ``store.retry_max_s``
FIRST_WAIT_S = 0.5


class Outage:
    """One loop's view of the store being down: since when, how many tries, how long to wait before the next."""

    def __init__(self, who: str, settings: StoreSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.who = who
        self.limit_s = settings.outage_limit_s
        self.retry_max_s = settings.retry_max_s
        self._clock = clock
        self.since: float | None = None
        self.tries = 0

    @property
    def ongoing(self) -> bool:
        """Whether the store failed and has not answered since."""
        return self.since is not None

    def failed(self, error: StoreUnavailable) -> float:
        """Note a failed try; return how long to wait before the next, or raise ``StoreDown`` past the limit."""
        now = self._clock()
        if self.since is None:
            self.since = now
        self.tries += 1
        down_s = now - self.since
        if down_s >= self.limit_s:
            message = (
                f"the job store has not answered for {down_s:.0f} s (store.outage_limit_s = {self.limit_s:.0f} s): "
                f"{self.who} stops. {error} Start the database server again (or free the SQLite file), then "
                "start the service again; no dictation is lost, those that arrived wait in the inbox"
            )
            log.critical(message)
            raise StoreDown(message) from error
        wait_s = min(self.retry_max_s, FIRST_WAIT_S * 2 ** min(self.tries - 1, 30), self.limit_s - down_s)
        if self.tries == 1:
            log.warning(
                "%s: the job store does not answer (%s); waiting for it, at most %.0f s (store.outage_limit_s); "
                "dictations that arrive meanwhile wait in the inbox",
                self.who,
                error,
                self.limit_s,
            )
        else:
            log.warning(
                "%s: the job store still does not answer after %.0f s (try %d); next try in %.1f s",
                self.who,
                down_s,
                self.tries,
                wait_s,
            )
        return wait_s

    def answered(self) -> bool:
        """Note that the store answered (``Database.ping``); True, and said in the log, when this ends an outage."""
        if self.since is None:
            return False
        log.warning(
            "%s: the job store answers again after %.0f s (%d tries); going on",
            self.who,
            self._clock() - self.since,
            self.tries,
        )
        self.since, self.tries = None, 0
        return True
