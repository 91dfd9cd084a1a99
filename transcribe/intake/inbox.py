"""Intake: take complete dictations out of ``inbox/`` into the archive and the job store.

A file is taken only when it is complete: its writer closed it (inotify's
close-write) and it stayed unchanged for a moment, or, where no close event
comes (polling, network shares), its size and mtime stayed the same for
``intake.settle_s``. Temporary names (``.part``, ``.tmp``, ``~``, dotfiles)
and sidecar ``.json`` files are never taken as dictations.

A sidecar (``<name>.json`` beside the audio) travels with its dictation. Where
recorders write it after the audio, ``intake.sidecar_wait_s`` makes a complete
dictation without one wait that long for it. A sidecar that comes after its
dictation was taken is attached to the job while it is still queued; later, it
is moved to quarantine (``late-sidecar``) with the job it belonged to. A sidecar
with no dictation beside it for ``max(intake.sidecar_wait_s, ORPHAN_SIDECAR_S)``
is moved to quarantine (``orphan-sidecar``). None stays in the inbox unreported.

The watchdog handler only enqueues; every decision is made by ``Intake.step``
in the intake thread. Files already in the inbox at start-up are swept.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from transcribe.errors import StoreError, StoreUnavailable
from transcribe.intake.atomic import FILE_MODE, copy_file, ensure_folder, free_name, move_file, write_atomic
from transcribe.intake.files import (
    InboxEvents,
    SettleTracker,
    archive_path,
    author_of,
    hash_file,
    is_dictation_name,
    is_regular,
    is_sidecar_name,
    is_sidecar_of,
    relative_or_name,
)
from transcribe.intake.quarantine import QuarantineRecord, error_record_path, quarantine_file, safe_file_name
from transcribe.intake.sidecars import MAX_SIDECAR_BYTES, SidecarInvalid, parse_sidecar
from transcribe.records import DictationMetadata, Job, JobState
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.store.outage import Outage

log = logging.getLogger(__name__)

RESWEEP_S = 30.0
#: A sidecar with no dictation beside it waits at least this long for one (it is often written first).
ORPHAN_SIDECAR_S = 60.0
#: How long a dictation taken without its sidecar is remembered, for a sidecar that comes late.
LATE_SIDECAR_MEMORY_S = 3600.0


class Intake:
    """Takes dictations from the inbox into the archive and the job store."""

    def __init__(self, settings: Settings, store: JobStore, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.store = store
        self.inbox = settings.paths.inbox
        self._clock = clock
        self._tracker = SettleTracker(settings.intake.settle_s)
        self._sidecars = SettleTracker(settings.intake.settle_s)
        #: dictations taken without a sidecar: inbox path without extension -> (job id, when)
        self._taken_alone: dict[Path, tuple[int, float]] = {}
        self._events: queue.SimpleQueue[tuple[str, bool]] = queue.SimpleQueue()
        self._last_sweep = float("-inf")

    # --- the intake loop --------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Watch the inbox and take complete files until ``stop`` is set.

        While the store does not answer, dictations wait in the inbox (``store/outage.py``); when it
        answers again, what an interrupted take left is finished and the inbox swept again.
        """
        ensure_folder(self.inbox)
        observer = self._observer()
        observer.start()
        outage = Outage("the inbox watcher", self.settings.store)
        recovered = False
        try:
            while not stop.is_set():
                try:
                    if outage.ongoing:
                        self.store.ping()
                        outage.answered()
                        recovered = False
                    if not recovered:  # at start, and after an outage: finish what a take left half done
                        self.recover()
                        recovered = True
                    self.step()
                except StoreUnavailable as e:
                    self._last_sweep = float("-inf")  # the file being taken stayed in the inbox: seen again
                    stop.wait(outage.failed(e))
                    continue
                stop.wait(0.1)
        finally:
            observer.stop()
            observer.join(timeout=5)

    def _observer(self) -> BaseObserver:
        observer: BaseObserver
        if self.settings.intake.polling:
            observer = PollingObserver(timeout=self.settings.intake.poll_interval_s)
        else:
            observer = Observer()
        observer.schedule(InboxEvents(self._events), str(self.inbox), recursive=True)
        return observer

    def recover(self) -> None:
        """Finish what a crash interrupted: received jobs whose audio already lies in the archive (their
        sidecar, still in the inbox, joins the audio in the archive)."""
        for job in self.store.jobs.list_jobs(state=JobState.RECEIVED, limit=10_000):
            if job.audio_path.exists():
                self._archive_left_sidecar(job)
                self.store.jobs.mark_queued(job.id)
                log.info("job %d: archived before a stop; queued now", job.id)

    def _archive_left_sidecar(self, job: Job) -> None:
        """The sidecar of a job whose audio was archived just before a stop, found in the inbox by its name
        with no dictation beside it and recognised by what it says (the metadata the job was received with)."""
        target = job.audio_path.with_suffix(".json")
        if job.metadata == DictationMetadata() or target.exists() or not self.inbox.is_dir():
            return
        name = Path(job.original_name).with_suffix(".json").name
        for root, folders, files in os.walk(self.inbox):
            folders[:] = [f for f in folders if not f.startswith(".")]
            if name not in files:
                continue
            sidecar = Path(root) / name
            if any(is_sidecar_of(sidecar, other) for other in files if other != name):
                continue  # another dictation of that name waits beside it: the sidecar is its
            try:
                if parse_sidecar(sidecar.read_bytes(), name) != job.metadata:
                    continue
                self._archive(sidecar, target, keep_original=False)
            except (OSError, SidecarInvalid):
                continue
            log.info("job %d: its sidecar, left in the inbox by a stop, joined its audio in the archive", job.id)
            return

    def step(self) -> list[Job]:
        """Look at what changed, and take every file that is complete; return the new jobs."""
        now = self._clock()
        if now - self._last_sweep >= RESWEEP_S:
            self.sweep()
        while True:
            try:
                path, closed = self._events.get_nowait()
            except queue.Empty:
                break
            if path == "":
                self.sweep()
            else:
                self._look_at(Path(path), now, closed=closed)
        taken: list[Job] = []
        for waiting in self._tracker.paths():
            self._look_at(waiting, now)
            if waiting in self._tracker and self._tracker.is_ready(waiting, now) and self._sidecar_ready(waiting, now):
                self._tracker.forget(waiting)
                job = self._take_safely(waiting)
                if job is not None:
                    taken.append(job)
        self._taken_alone = {k: v for k, v in self._taken_alone.items() if now - v[1] < LATE_SIDECAR_MEMORY_S}
        for sidecar in self._sidecars.paths():
            self._look_at(sidecar, now)
            if sidecar in self._sidecars and self._sidecars.is_ready(sidecar, now):
                self._settle_sidecar(sidecar, now)
        return taken

    def _sidecar_ready(self, path: Path, now: float) -> bool:
        """Whether a complete dictation may be taken as far as its sidecar goes.

        Its sidecar, when there is one, must be complete too; when there is none, the dictation waits
        ``intake.sidecar_wait_s`` for it.
        """
        sidecar = path.with_suffix(".json")
        if sidecar in self._sidecars:
            return self._sidecars.is_ready(sidecar, now)
        if os.path.lexists(sidecar):
            self._look_at(sidecar, now)  # not seen yet: watched from now on
            return sidecar not in self._sidecars
        return self._tracker.quiet_s(path, now) >= self.settings.intake.sidecar_wait_s

    def _settle_sidecar(self, sidecar: Path, now: float) -> None:
        """A complete sidecar with no dictation being taken with it: late, orphan, or still waiting for its audio."""
        try:
            beside = [entry.name for entry in os.scandir(sidecar.parent) if entry.name != sidecar.name]
        except OSError:
            return
        if any(is_sidecar_of(sidecar, name) for name in beside):
            return  # its dictation is there: the sidecar is taken with it
        taken = self._taken_alone.pop(sidecar.with_suffix(""), None)
        if taken is not None:
            self._sidecars.forget(sidecar)
            self._attach_late(sidecar, taken[0], now - taken[1])
        elif self._sidecars.quiet_s(sidecar, now) >= max(self.settings.intake.sidecar_wait_s, ORPHAN_SIDECAR_S):
            self._sidecars.forget(sidecar)
            self._quarantine_orphan(sidecar)

    def sweep(self) -> None:
        """Watch every dictation already in the inbox (events only cover what happens later)."""
        self._last_sweep = self._clock()
        if not self.inbox.is_dir():
            return
        for root, folders, files in os.walk(self.inbox):
            folders[:] = [f for f in folders if not f.startswith(".")]
            for name in files:
                self._look_at(Path(root) / name, self._last_sweep)

    def take_settled(self) -> list[Job]:
        """Take every complete file in the inbox now (for the batch, which runs without the watcher).

        A file modified less than ``intake.settle_s`` ago may still be being written: it is left
        for the watcher or the next batch.
        """
        taken: list[Job] = []
        if not self.inbox.is_dir():
            return taken
        settle_s = max(self.settings.intake.settle_s, 1.0)
        sidecars: list[Path] = []
        for root, folders, files in os.walk(self.inbox):
            folders[:] = [f for f in folders if not f.startswith(".")]
            for name in sorted(files):
                path = Path(root) / name
                relative = path.relative_to(self.inbox)
                if is_sidecar_name(relative):
                    sidecars.append(path)
                if not is_dictation_name(relative):
                    continue
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                wait_s = settle_s
                if not os.path.lexists(path.with_suffix(".json")):
                    wait_s = max(settle_s, self.settings.intake.sidecar_wait_s)
                if not is_regular(stat.st_mode) or time.time() - stat.st_mtime < wait_s:
                    continue
                job = self._take_safely(path)
                if job is not None:
                    taken.append(job)
        orphan_s = max(self.settings.intake.sidecar_wait_s, ORPHAN_SIDECAR_S)
        for sidecar in sidecars:
            try:
                beside = [entry.name for entry in os.scandir(sidecar.parent) if entry.name != sidecar.name]
                stat = sidecar.lstat()
            except OSError:
                continue  # taken with its dictation
            if is_regular(stat.st_mode) and time.time() - stat.st_mtime >= orphan_s:
                if not any(is_sidecar_of(sidecar, name) for name in beside):
                    self._quarantine_orphan(sidecar)
        return taken

    def _look_at(self, path: Path, now: float, *, closed: bool = False) -> None:
        try:
            relative = path.relative_to(self.inbox)
        except ValueError:
            return
        sidecar = is_sidecar_name(relative)
        if not sidecar and not is_dictation_name(relative):
            return
        tracker = self._sidecars if sidecar else self._tracker
        try:
            stat = path.lstat()
        except OSError:
            tracker.forget(path)  # gone or renamed: its new name brings its own event
            return
        if os.path.islink(path):
            self._quarantine_link(path)
            return
        if not is_regular(stat.st_mode):
            return
        tracker.observe(path, stat.st_size, stat.st_mtime_ns, now, closed=closed)

    def _quarantine_link(self, path: Path) -> None:
        """A link is never followed (it may point anywhere on the machine): the link itself is set aside."""
        self._tracker.forget(path)
        self._sidecars.forget(path)
        folder = ensure_folder(self.settings.paths.quarantine)
        target = free_name(folder / (time.strftime("%Y%m%d-%H%M%S_") + safe_file_name(path.name)))
        try:
            os.rename(path, target)  # moves the link, never what it points to
        except OSError as e:
            log.error("a link in the inbox could not be set aside (%s); it is left there and never read", e.strerror)
            return
        record = QuarantineRecord(
            file=target.name,
            original_name=path.name,
            job_id=None,
            kind="link",
            error=f"{path.name} is a link to another place, not a dictation file; it was not read",
            what_to_do="copy the dictation file itself into the inbox",
            quarantined_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        write_atomic(error_record_path(target), json.dumps(asdict(record), ensure_ascii=False, indent=2).encode())
        log.warning("a link was dropped in the inbox; set aside in quarantine without reading it")

    def _take_safely(self, path: Path) -> Job | None:
        try:
            return self.take(path)
        except FileNotFoundError:
            return None  # renamed or removed while being taken: seen again under its new name
        except OSError as e:
            log.error("could not take a file from the inbox (%s); it stays there and will be tried again", e.strerror)
            self._last_sweep = float("-inf")
            return None

    # --- taking one file --------------------------------------------------------------
    def take(self, path: Path, *, keep_original: bool = False) -> Job | None:
        """Archive one complete dictation and record its job; None if it is a duplicate.

        With ``keep_original`` the file is copied, not moved (``transcribe run``).
        """
        before = path.stat()
        audio_sha256 = hash_file(path)
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            self._look_at(path, self._clock())  # still being written: wait again
            return None
        relative = relative_or_name(path, self.inbox)
        metadata, sidecar = self._sidecar(path, keep_original=keep_original)
        author = (metadata.author if metadata and metadata.author else None) or author_of(
            relative, self.settings.intake.default_author
        )
        target = archive_path(self.settings.paths.archive, audio_sha256, path.name)
        job, new = self.store.jobs.receive(
            audio_sha256=audio_sha256,
            author=author,
            original_name=path.name,
            audio_path=target,
            metadata=metadata,
        )
        if not new and not (job.state is JobState.RECEIVED and not job.audio_path.exists()):
            if not keep_original:
                self._quarantine_duplicate(path, job)
                if sidecar is not None:
                    self._quarantine_duplicate(sidecar, job)
            return job if keep_original else None
        self._archive(path, job.audio_path, keep_original=keep_original)
        if sidecar is not None:  # a new job, or one whose taking a stop cut off: its sidecar goes with it
            self._archive(sidecar, job.audio_path.with_suffix(".json"), keep_original=keep_original)
        job = self.store.jobs.mark_queued(job.id)
        if sidecar is None and not keep_original:
            self._taken_alone[path.with_suffix("")] = (job.id, self._clock())
        log.info("job %d received (author %s, %d bytes)", job.id, author, after.st_size)
        return job

    def _sidecar(self, path: Path, *, keep_original: bool) -> tuple[DictationMetadata | None, Path | None]:
        """The metadata in ``<name>.json`` beside the audio; a bad sidecar is quarantined, the audio goes on."""
        sidecar = path.with_suffix(".json")
        try:
            if not sidecar.is_file() or sidecar.is_symlink():
                return None, None
            with sidecar.open("rb") as stream:
                data = stream.read(MAX_SIDECAR_BYTES + 1)
            return parse_sidecar(data, sidecar.name), sidecar
        except OSError:
            return None, None
        except SidecarInvalid as e:
            if not keep_original:
                quarantine_file(
                    sidecar,
                    self.settings.paths.quarantine,
                    original_name=sidecar.name,
                    job_id=None,
                    kind=e.kind,
                    error=str(e),
                    what_to_do=e.hint,
                )
            log.warning("a sidecar file could not be used (%s); the dictation goes on without it", e.kind)
            return None, None

    def _attach_late(self, sidecar: Path, job_id: int, late_s: float) -> None:
        """A sidecar that came after its dictation was taken: attached while the job waits, else set aside."""
        try:
            with sidecar.open("rb") as stream:
                metadata = parse_sidecar(stream.read(MAX_SIDECAR_BYTES + 1), sidecar.name)
            detail = f"{sidecar.name} came {late_s:.0f} s after the audio"
            if self.store.jobs.attach_metadata(job_id, metadata, detail=detail):
                job = self.store.jobs.get(job_id)
                placed = move_file(sidecar, job.audio_path.with_suffix(".json"))  # kept beside the audio
                os.chmod(placed, FILE_MODE)
                log.info("job %d: its sidecar came %.0f s after the audio and was attached", job_id, late_s)
                return
            job = self.store.jobs.get(job_id)
        except SidecarInvalid as e:
            self._quarantine_sidecar(sidecar, job_id, e.kind, str(e), e.hint)
            return
        except (OSError, StoreError) as e:
            log.error("job %d: a sidecar that came late could not be attached (%s); it is tried again", job_id, e)
            self._taken_alone[sidecar.with_suffix("")] = (job_id, self._clock())
            return
        self._quarantine_sidecar(
            sidecar,
            job_id,
            "late-sidecar",
            f"{sidecar.name} came {late_s:.0f} s after its dictation {job.original_name} (job {job_id}), which was "
            f"already {job.state.value}: what it says (patient, worktype, priority, language) was not used",
            "check the patient and the worktype on the review screen; if the recorder writes its sidecars after the "
            "audio, set intake.sidecar_wait_s",
        )

    def _quarantine_orphan(self, sidecar: Path) -> None:
        wait_s = max(self.settings.intake.sidecar_wait_s, ORPHAN_SIDECAR_S)
        relative = relative_or_name(sidecar, self.inbox)
        self._quarantine_sidecar(
            sidecar,
            None,
            "orphan-sidecar",
            f"{relative}: a sidecar with no dictation beside it for {wait_s:.0f} s (no {sidecar.stem}.* in the same "
            "folder); what it says was not used. If its dictation was taken before, it came too late",
            f"drop the dictation with it again (the same name: {sidecar.stem}.m4a beside {sidecar.name}), or "
            "remove this file if its dictation is already transcribed",
        )

    def _quarantine_sidecar(self, sidecar: Path, job_id: int | None, kind: str, error: str, hint: str) -> None:
        try:
            quarantine_file(
                sidecar,
                self.settings.paths.quarantine,
                original_name=sidecar.name,
                job_id=job_id,
                kind=kind,
                error=error,
                what_to_do=hint,
            )
        except OSError as e:
            log.error("a sidecar could not be moved to quarantine (%s); it stays in the inbox", e.strerror)
            return
        log.warning("a sidecar was set aside in quarantine (%s)", kind)

    def _archive(self, path: Path, target: Path, *, keep_original: bool) -> None:
        if target.exists():
            return  # the same audio, already archived before a crash
        placed = copy_file(path, target) if keep_original else move_file(path, target)
        os.chmod(placed, FILE_MODE)

    def _quarantine_duplicate(self, path: Path, job: Job) -> None:
        quarantine_file(
            path,
            self.settings.paths.quarantine,
            original_name=path.name,
            job_id=None,
            kind="duplicate",
            error=(
                f"{path.name}: the same recording was already received as job {job.id} "
                f"on {job.created_at:%Y-%m-%d %H:%M} UTC (now {job.state.value}); it is not transcribed twice"
            ),
            what_to_do="nothing, unless this is another dictation: then check that the right file was exported",
        )
        log.warning("a duplicate of job %d was dropped in the inbox; moved to quarantine", job.id)
