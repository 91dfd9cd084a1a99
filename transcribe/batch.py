"""``transcribe batch``: the nightly batch. Transcribe every waiting dictation as fast as the machine allows, then exit.

Dictations are claimed from the store like any worker does (urgent first, then
by due date), a window at a time (a fair share of what waits, when several
processes share the queue); their speech clips share the engine's windows and
batches (``speech.packed.transcribe_packed``, ``speech.packing``), a language
nobody gave is decided by the worker's rule on the engine's detection, and each
result is finished by the same code as ``serve`` (text layer, report, drafts,
listening copy). A store that stops answering is waited out. Only one batch runs
at a time (a lock file); a batch and ``serve`` never take the same job (the
store's claims). Interrupted, it finishes the window in hand, gives back what it
did not start, and the next run resumes; killed, its claims are released at the
next start.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from transcribe.errors import (
    AlreadyRunning,
    ConfigurationError,
    InputError,
    StoreUnavailable,
    TranscribeError,
    TranscriptionFailed,
)
from transcribe.intake.atomic import ensure_folder, write_atomic
from transcribe.records import Job, JobState, Transcript
from transcribe.settings import Settings
from transcribe.settings_loading import LoadedSettings
from transcribe.speech.audio import DecodedAudio, decode_dictation
from transcribe.speech.engine import DecodeOptions, EngineOptions, SpeechRecognizer, choose_device
from transcribe.speech.languages import LanguageCheck
from transcribe.speech.packed import transcribe_packed
from transcribe.store import JobStore, open_store
from transcribe.store.leases import Heartbeat
from transcribe.store.outage import Outage
from transcribe.text import TextLayer
from transcribe.worker import Outcome, Worker, with_language_check

log = logging.getLogger(__name__)


#: the fewest dictations a process of the batch claims at once, while that many wait (fewer leave the engine's
#: batches too small to be fast)
MIN_WINDOW = 4


class BatchAlreadyRunning(AlreadyRunning):
    """Another batch holds the lock (not a configuration error: exit status 1, the message says to wait)."""


@dataclass
class BatchSummary:
    """What a batch did: files, audio, time, speed, failures with their reasons."""

    started_at: str
    files_done: int = 0
    files_failed: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    failures: list[dict[str, object]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def real_time_factor(self) -> float:
        """Wall time per second of audio (lower is faster)."""
        return self.wall_s / self.audio_s if self.audio_s else 0.0

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping, with the derived figures."""
        data = asdict(self)
        data["real_time_factor"] = round(self.real_time_factor, 4)
        data["audio_hours_per_hour"] = round(self.audio_s / self.wall_s, 2) if self.wall_s else 0.0
        return data


@dataclass
class Progress:
    """What the progress display shows."""

    total_files: int
    files_done: int = 0  # drafted or failed
    files_failed: int = 0
    audio_done_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def speed(self) -> float:
        """Audio minutes transcribed per wall minute."""
        elapsed = time.monotonic() - self.started
        return self.audio_done_s / elapsed if elapsed > 0 else 0.0


@contextmanager
def batch_lock(folder: Path) -> Iterator[None]:
    """Hold the site's batch lock, or refuse: only one batch runs at a time."""
    ensure_folder(folder)
    path = folder / "batch.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole batch
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise BatchAlreadyRunning(f"another batch is running (lock {path}); wait for it to finish") from e
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


class NightlyBatch:
    """Runs windows of waiting dictations through the engine together."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        recognizer: SpeechRecognizer,
        text_layer: TextLayer,
        *,
        window: int,
        batch_size: int,
        processes: int = 1,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = Worker(settings, store, recognizer, text_layer)
        self.recognizer = recognizer
        self.window = window
        self.batch_size = batch_size
        self.processes = processes
        self.on_progress = on_progress or (lambda _p: None)

    def run(self, stop: threading.Event) -> BatchSummary:
        """Transcribe until nothing waits (or ``stop`` is set); return the summary."""
        summary = BatchSummary(started_at=datetime.now().astimezone().isoformat(timespec="seconds"))
        self.store.claims.release_abandoned()
        counts = self.store.jobs.count_by_state()
        progress = Progress(total_files=counts.get(JobState.QUEUED, 0))
        started = time.monotonic()
        self.on_progress(progress)
        outage = Outage("the batch", self.settings.store)
        held: set[int] = set()  # claimed and not finished: given back if a store outage cuts them off
        while not stop.is_set():
            try:
                if outage.ongoing:
                    self.store.ping()
                    outage.answered()
                    for job_id in sorted(held):
                        self.store.claims.give_back(job_id, self.worker.identity, "the job store stopped answering")
                    held.clear()
                claimed = self._claim_window(held)
                if not claimed:
                    break
                progress.total_files = max(progress.total_files, progress.files_done + len(claimed))
                with Heartbeat(self.store, [j.id for j in claimed], self.worker.identity, self.settings.worker.lease_s):
                    for job, outcome in self._run_window(claimed):
                        held.discard(job.id)
                        self._count(job, outcome, summary, progress)
            except StoreUnavailable as e:
                stop.wait(outage.failed(e))
        summary.interrupted = stop.is_set()
        summary.wall_s = round(time.monotonic() - started, 3)
        summary.audio_s = round(summary.audio_s, 3)
        return summary

    def _count(self, job: Job, outcome: Outcome, summary: BatchSummary, progress: Progress) -> None:
        progress.files_done += 1
        if outcome.state is JobState.DRAFTED:
            summary.files_done += 1
            duration = self.store.jobs.get(job.id).duration_s or 0.0
            summary.audio_s += duration
            progress.audio_done_s += duration
        else:
            summary.files_failed += 1
            progress.files_failed += 1
            summary.failures.append({"job": job.id, "state": outcome.state.value, "reason": outcome.error})
        self.on_progress(progress)

    def _claim_window(self, held: set[int]) -> list[Job]:
        claimed = []
        for _ in range(self._window_size()):
            job = self.store.claims.claim_next(self.worker.identity, self.settings.worker.lease_s)
            if job is None:
                break
            claimed.append(job)
            held.add(job.id)
        return claimed

    def _window_size(self) -> int:
        """How many dictations to claim now: a fair share of what waits, between ``MIN_WINDOW`` and ``window``.

        The batch's processes claim from one queue: a process that took a full window near the end
        would go on alone while the others wait. Claims shrink as the queue empties, so that they
        all finish together (guided scheduling).
        """
        if self.processes <= 1:
            return self.window
        waiting = self.store.jobs.count_by_state().get(JobState.QUEUED, 0)
        return max(1, min(self.window, max(MIN_WINDOW, math.ceil(waiting / self.processes))))

    def _run_window(self, jobs: list[Job]) -> Iterator[tuple[Job, Outcome]]:
        ready = []
        for job in jobs:
            try:
                ready.append((job, decode_dictation(job.audio_path, job.original_name)))
            except InputError as e:
                yield job, self.worker.quarantine(job, e)
        if not ready:
            return
        options = [
            self.worker.decode_options(job, self.worker.expected_language(job), audio=audio) for job, audio in ready
        ]
        checks: dict[int, LanguageCheck | None] = {}

        def decide(index: int, detection: tuple[str, float, dict[str, float]]) -> DecodeOptions:
            # nobody gave this dictation's language: the engine heard it on the first clip, the worker decides
            job, audio = ready[index]
            options[index], checks[index] = self.worker.plan_detected(job, *detection, audio=audio)
            return options[index]

        try:
            transcripts = transcribe_packed(
                self.recognizer,
                [(audio, decode) for (_, audio), decode in zip(ready, options)],
                self.batch_size,
                decide=decide,
                packing=self.settings.batch.packing,
            )
        except Exception as e:
            transcripts = [TranscriptionFailed(f"the speech engine failed ({type(e).__name__})")] * len(ready)
        for index, ((job, audio), transcript) in enumerate(zip(ready, transcripts)):
            finish = partial(self._finish, job, audio, options[index], checks.get(index), transcript)
            yield job, self.worker.guarded(job, finish)

    def _finish(
        self,
        job: Job,
        audio: DecodedAudio,
        decode: DecodeOptions,
        check: LanguageCheck | None,
        transcript: Transcript | TranscribeError,
    ) -> Outcome:
        if isinstance(transcript, TranscribeError):
            raise transcript
        return self.worker.finish(job, with_language_check(transcript, check), audio=audio, options=decode)


def write_summary(summary: BatchSummary, folder: Path) -> Path:
    """Keep the summary as JSON beside the store (``data/batch-reports/<time>.json``)."""
    name = summary.started_at.replace(":", "").replace("+", "_")
    return write_atomic(folder / f"{name}.json", json.dumps(summary.to_json(), indent=2).encode())


@dataclass(frozen=True)
class BatchOptions:
    """What the batch was asked for beyond the settings (None: the settings' value)."""

    batch_size: int | None = None
    window: int | None = None
    model: str | None = None
    device: str | None = None
    language: str | None = None
    specialty: str | None = None

    def setting_values(self) -> dict[str, Any]:
        """The requests that are settings, as the dotted keys ``load_settings`` takes as flags."""
        return {
            "asr.model": self.model,
            "asr.device": self.device,
            "asr.language": self.language,
            "asr.specialty": self.specialty,
        }


@dataclass(frozen=True)
class HelperOrder:
    """What one engine process of a batch is to do, handed to it as a file (``python -m transcribe.batch ORDER``).

    The settings it runs with are the batch's own: the same settings file, the same environment
    (inherited), and the batch's requests as values, not rebuilt as command-line flags.
    """

    config_file: str | None
    settings: dict[str, Any]
    options: BatchOptions
    processes: int
    #: where it leaves its summary (and, beside it, ``.progress``)
    summary_path: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {**asdict(self), "options": asdict(self.options)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HelperOrder:
        """Read back what ``to_json`` wrote."""
        return cls(**{**data, "options": BatchOptions(**data["options"])})


def batch_processes(settings: Settings, asked: int | None) -> int:
    """How many engine processes the batch runs: measured best on a CPU is one per core, one thread each."""
    wanted = asked if asked is not None else settings.batch.processes
    if wanted > 0:
        return wanted
    device, _, _ = choose_device(
        EngineOptions(settings.asr.device, settings.asr.compute_type, settings.asr.cpu_threads)
    )
    return 1 if device == "cuda" else max(1, min(8, len(os.sched_getaffinity(0))))


def run_helpers(
    loaded: LoadedSettings,
    options: BatchOptions,
    processes: int,
    stop: threading.Event,
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> BatchSummary:
    """Start the batch's engine processes, report their joint progress, and add up their summaries."""
    with open_store(loaded.settings.store_url) as store:
        start_queued = store.jobs.count_by_state().get(JobState.QUEUED, 0)
    folder = Path(tempfile.mkdtemp(prefix="transcribe-batch-"))
    try:
        helpers = _start_helpers(loaded, options, processes, folder)
        began = time.monotonic()
        while any(process.poll() is None for _, process in helpers):
            if stop.is_set():
                for _, process in helpers:
                    if process.poll() is None:
                        process.terminate()
            if on_progress:
                on_progress(_joint_progress([part for part, _ in helpers], start_queued, began))
            time.sleep(1)
        total = _add_up(helpers)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    total.wall_s = round(time.monotonic() - began, 3)
    return total


def write_helper_progress(progress: Progress, path: Path) -> None:
    """Leave a helper process's progress where the batch that started it reads it (``<summary file>.progress``)."""
    done = {"files_done": progress.files_done, "files_failed": progress.files_failed, "audio_s": progress.audio_done_s}
    write_atomic(path.with_suffix(".progress"), json.dumps(done).encode())


def _joint_progress(parts: list[Path], total_files: int, started: float) -> Progress:
    joint = Progress(total_files=total_files, started=started)
    for part in parts:
        try:
            done = json.loads(part.with_suffix(".progress").read_text())
        except (OSError, ValueError):
            continue  # not started yet
        joint.files_done += int(done["files_done"])
        joint.files_failed += int(done["files_failed"])
        joint.audio_done_s += float(done["audio_s"])
    joint.total_files = max(joint.total_files, joint.files_done)
    return joint


def _start_helpers(
    loaded: LoadedSettings, options: BatchOptions, processes: int, folder: Path
) -> list[tuple[Path, subprocess.Popen[bytes]]]:
    # each helper runs a NightlyBatch (``run_helper``) and leaves its summary where its order says
    values = options.setting_values()
    if loaded.sources.get("asr.cpu_threads") == "default":
        values["asr.cpu_threads"] = 1  # one thread per process: the processes share the cores
    helpers = []
    for number in range(processes):
        part = folder / f"{number}.json"
        order = HelperOrder(
            config_file=str(loaded.config_file) if loaded.config_file else None,
            settings=values,
            options=options,
            processes=processes,  # each helper claims its share of the queue
            summary_path=str(part),
        )
        order_path = folder / f"{number}.order.json"
        order_path.write_text(json.dumps(order.to_json()))
        process = subprocess.Popen([sys.executable, "-m", "transcribe.batch", str(order_path)])
        helpers.append((part, process))
    return helpers


def run_helper(order_path: Path) -> int:
    """One engine process of a batch: claim its share of the queue, transcribe it, leave the summary; 0 when done.

    It shows nothing: the batch that started it reads its progress and summary files.
    """
    from transcribe.service import prepare_folders, stop_on_signals
    from transcribe.settings_loading import load_settings

    order = HelperOrder.from_json(json.loads(order_path.read_text()))
    settings = load_settings(Path(order.config_file) if order.config_file else None, flags=order.settings).settings
    prepare_folders(settings)
    stop = threading.Event()
    stop_on_signals(stop)  # the batch that started it terminates it when told to stop: finish what is in hand
    summary_path = Path(order.summary_path)
    on_progress = partial(write_helper_progress, path=summary_path)
    summary = run_here(settings, order.options, stop, processes=order.processes, on_progress=on_progress)
    write_helper_summary(summary, summary_path)
    return 0


def run_here(
    settings: Settings,
    options: BatchOptions,
    stop: threading.Event,
    *,
    processes: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
) -> BatchSummary:
    """Run the batch in this process (alone, or as one of ``processes`` sharing the queue): load the engine
    and the text layer, claim and transcribe until nothing waits or ``stop`` is set."""
    from transcribe.worker import load_recognizer, load_text_layer

    recognizer = load_recognizer(settings)
    text_layer = load_text_layer(settings)
    with open_store(settings.store_url) as store:
        batch = NightlyBatch(
            settings,
            store,
            recognizer,
            text_layer,
            window=options.window or settings.batch.window_files,
            batch_size=options.batch_size or settings.batch.batch_size,
            processes=processes,
            on_progress=on_progress,
        )
        return batch.run(stop)


def write_helper_summary(summary: BatchSummary, path: Path) -> None:
    """Leave a helper process's summary where the batch that started it adds it up."""
    path.write_text(json.dumps(summary.to_json()))


def _add_up(helpers: list[tuple[Path, subprocess.Popen[bytes]]]) -> BatchSummary:
    total = BatchSummary(started_at=datetime.now().astimezone().isoformat(timespec="seconds"))
    for path, process in helpers:
        try:
            part: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            total.failures.append(
                {"job": None, "state": "helper-failed", "reason": f"an engine process ended with {process.returncode}"}
            )
            continue
        total.files_done += part["files_done"]
        total.files_failed += part["files_failed"]
        total.audio_s += part["audio_s"]
        total.failures += part["failures"]
        total.interrupted = total.interrupted or part["interrupted"]
    return total


def helper_main(order_path: Path) -> int:
    """``python -m transcribe.batch ORDER``: a helper's exit status, its errors said as the command says them."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    try:
        return run_helper(order_path)
    except ConfigurationError as e:
        print(f"transcribe: configuration error: {e}", file=sys.stderr)
        return 2
    except TranscribeError as e:
        print(f"transcribe: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # one of the engine processes a batch starts (``_start_helpers``)
    sys.exit(helper_main(Path(sys.argv[1])))
