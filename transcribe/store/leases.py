"""Keeping the jobs a worker holds: their leases renewed in the background while it works on them.

A worker that stops renewing (killed, frozen, cut off from the store) loses its jobs after
``worker.lease_s``; ``store.claims.release_abandoned`` gives them back to the queue.
"""

from __future__ import annotations

import logging
import threading

from transcribe.errors import TranscribeError
from transcribe.store import JobStore, WorkerIdentity

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews the leases of claimed jobs in the background while a worker holds them."""

    def __init__(self, store: JobStore, job_ids: list[int], worker: WorkerIdentity, lease_s: float) -> None:
        self._store, self._job_ids, self._worker, self._lease_s = store, tuple(job_ids), worker, lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        lost: set[int] = set()
        while not self._stop.wait(self._lease_s / 3):
            for job_id in self._job_ids:
                if job_id in lost:
                    continue
                try:
                    if not self._store.claims.renew_lease(job_id, self._worker, self._lease_s):
                        lost.add(job_id)
                        log.warning(
                            "job %d: its lease ran out and another worker may have it; this outcome is not kept", job_id
                        )
                except TranscribeError as e:
                    log.warning("job %d: lease not renewed (%s)", job_id, type(e).__name__)
