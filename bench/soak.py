"""Soak: N dictations through two ``transcribe serve`` and two ``transcribe worker`` processes on one
PostgreSQL store, while faults are injected; then every promise of docs/reliability.md is checked.

The processes are the real command line, as docs/scale-out.md sets up several hosts, here on one
machine: the two ``serve`` (front hosts: watcher, review app, filing) share the inbox and the
outbox; the two ``worker`` hosts see the archive and drafts but not the outbox (their configured
outbox is a folder that does not exist: they must file nothing there, nor anywhere). Faults:

- SIGKILL of each kind of process at random moments, restarted a moment later (and any process
  that exits by itself is restarted too, as systemd's ``Restart=always`` does; those are counted);
- a database restart: the soak starts a PostgreSQL server of its own (``initdb`` in a temporary
  folder) so that stopping it disturbs no one else's server;
- a full drafts disk: the drafts folder is a small tmpfs, filled to the last byte for a while;
- a read-only outbox: the outbox is bind-mounted on itself and remounted read-only for a while,
  while a secretary validates reports through the review app (and the command line), so that
  filing fails and must be done later.

Without root (no mounts) the disk faults fall back or are skipped, and the report says so.
One dictation in 25 is not audio: quarantine is exercised too.

Usage: python bench/soak.py [--dictations 500] [--duration-s 900] [--kills 4] [--seed 1] [--store URL]
       [--settle-timeout-s 1200] [--keep DIR]
Prints the figures; exit status 1 if an invariant failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review_client import RequestFailed, ReviewClient, validate_through_app
from bench.soak_faults import FaultFolders, PrivatePostgres, free_port
from transcribe.patient_record.filing import OUTBOX_MARKER
from transcribe.records import JobState
from transcribe.settings_loading import load_settings
from transcribe.speech.audio import decode_dictation
from transcribe.store import open_store

SHARED_CLIPS = [ROOT.parent / "shared" / "audio" / "fr" / f"fr_stp_{n}.wav" for n in ("01", "13", "17", "23")]
FALLBACK_CLIPS = [ROOT / "tests" / "dictations" / "audio" / f"{c}.opus" for c in ("fr-mg-001", "fr-dose-01")]
SECRETARY, PASSWORD = "soak-secretary", "correct horse battery staple"
PATIENTS = 20
FINAL = (JobState.DRAFTED, JobState.FILED, JobState.QUARANTINED)


@dataclass
class SoakOptions:
    """What a soak does; the defaults are the full run of issue 17."""

    dictations: int = 500
    duration_s: float = 900.0  # over which the dictations are dropped and the faults injected
    seed: int = 1
    serves: int = 2
    workers: int = 2
    kills_per_kind: int = 4  # SIGKILLs of serve processes, and as many of worker processes
    faults: tuple[str, ...] = ("db-restart", "drafts-full", "outbox-read-only")
    db_down_s: float = 5.0
    drafts_full_s: float = 20.0
    outbox_read_only_s: float = 60.0
    validate_one_in: int = 4  # of the drafts with a patient, one in so many is validated (all of them while read-only)
    store_url: str | None = None  # an existing PostgreSQL (no restart then); None: a server of the soak's own
    settle_timeout_s: float = 1200.0
    beam_size: int = 1  # the promises, not accuracy: the fastest decoding
    keep_drafts: bool = False  # copy the drafts (on a tmpfs during the soak) into data/drafts-after-soak


@dataclass
class SoakResult:
    """What happened and what was found."""

    sent: int = 0
    states: Counter[str] = field(default_factory=Counter)
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)  # processes that ended by themselves (restarted)
    faults: list[str] = field(default_factory=list)
    skipped_faults: list[str] = field(default_factory=list)
    validated_app: int = 0
    validated_cli: int = 0
    validated_read_only: int = 0  # of which while the outbox was read-only
    app_kept_waiting: int = 0  # validations the app answered 202 (validated, not filed: the outbox was read-only)
    filing_failures: int = 0  # filing attempts that failed and were kept (filing-failed events)
    stage_failures: int = 0  # attempts that failed and were retried later (failed events)
    stage_failure_reasons: Counter[str] = field(default_factory=Counter)
    taken_again: int = 0  # jobs claimed more than once (a kill or a restart in the middle)
    missing: int = 0  # dictations with no job
    twice: int = 0  # dictations, hashes, drafts or filings found more than once
    filed_elsewhere: int = 0  # reports filed outside the outbox, or anything the worker hosts filed
    audit: str = ""
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)


def source_clips() -> list[np.ndarray]:
    """Two seconds of a few real speech clips (../shared/audio), or of the committed synthetic ones, as int16."""
    paths = SHARED_CLIPS if all(p.is_file() for p in SHARED_CLIPS) else FALLBACK_CLIPS
    return [(decode_dictation(p).samples[: 2 * 16000] * 32767).astype(np.int16) for p in paths]


def write_wav(samples: np.ndarray, path: Path) -> Path:
    """16 kHz mono 16-bit WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def make_dictations(folder: Path, count: int) -> list[tuple[Path, dict | None]]:
    """The dictations to drop, with their sidecars: the same few clips, each copy with an inaudible noise of
    its own (otherwise every copy has the same sha256 and is rightly set aside as a duplicate); one in 25 is
    not audio."""
    clips = source_clips()
    made: list[tuple[Path, dict | None]] = []
    for number in range(count):
        if number % 25 == 12:
            path = folder / f"broken-{number:04d}.wav"
            path.write_text(f"not a recording, number {number}\n" * 8)
            made.append((path, None))
            continue
        clip = clips[number % len(clips)]
        noise = np.random.default_rng(number).integers(-20, 21, clip.size)
        path = write_wav((clip.astype(np.int32) + noise).clip(-32767, 32767), folder / f"d{number:04d}.wav")
        made.append((path, {"patient": {"id": str(900000 + number % PATIENTS)}, "language": "fr"}))
    return made


class Process:
    """One real ``transcribe serve`` or ``transcribe worker`` process, restartable."""

    def __init__(self, kind: str, name: str, site: Path, env: dict[str, str], port: int | None = None) -> None:
        self.kind, self.name, self.site, self.env, self.port = kind, name, site, env, port
        self.popen: subprocess.Popen[bytes] | None = None
        self.log = site / "logs" / f"{name}.log"
        self.wanted = True  # False while the soak keeps it down on purpose

    def start(self) -> None:
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "transcribe", self.kind],
                cwd=self.site,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        if self.running():
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        self.wanted = False
        if self.running():
            assert self.popen is not None
            self.popen.terminate()
            try:
                self.popen.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.kill()


class Fleet:
    """The serve and worker processes, restarted when they end (by a kill or by themselves)."""

    def __init__(self, processes: list[Process], result: SoakResult) -> None:
        self.processes, self.result = processes, result
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="fleet", daemon=True)

    def start(self) -> None:
        for process in self.processes:
            process.start()
        self._thread.start()

    def of_kind(self, kind: str) -> list[Process]:
        return [p for p in self.processes if p.kind == kind]

    def kill(self, process: Process, down_s: float) -> None:
        """SIGKILL, then start it again after ``down_s``."""
        with self._lock:
            process.wanted = False
            process.kill()
            self.result.kills[process.kind] += 1
        time.sleep(down_s)
        with self._lock:
            process.wanted = True
            process.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for process in self.processes:
                    if process.wanted and process.popen is not None and process.popen.poll() is not None:
                        self.result.exits[f"{process.kind} (exit {process.popen.returncode})"] += 1
                        process.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for process in self.processes:
            process.stop()


def write_site(site: Path, url: str, options: SoakOptions) -> None:
    """The site every process shares; each process's own differences come from its environment."""
    (site / "transcribe.toml").write_text(
        f'[store]\nurl = "{url}"\n'
        "[intake]\nsettle_s = 0.3\n"
        "[asr]\ncpu_threads = 1\nfirst_pass_s = 0.0\naudio_evidence = false\n" + f"beam_size = {options.beam_size}\n"
        "[worker]\npoll_s = 0.2\nlease_s = 30.0\nfiling_retry_s = 2.0\nretry_base_s = 2.0\nretry_max_s = 8.0\n"
        "max_attempts = 6\n"
        '[review]\nenabled = true\nhost = "127.0.0.1"\nlanguage = "fr"\n'
    )


def process_env(**values: str) -> dict[str, str]:
    """The environment of a child process: none of ours ``TRANSCRIBE_*``, and the code of this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(values)
    return env


def open_site_store(site: Path):
    return open_store(load_settings(cwd=site, environ={}).settings.store_url)


def with_store(site: Path, action, default=None):
    """Run ``action(store)``; the database may be down for a moment (the restart fault): then ``default``."""
    try:
        store = open_site_store(site)
    except Exception:
        return default
    try:
        return action(store)
    except Exception:
        return default
    finally:
        store.close()


class Secretary(threading.Thread):
    """Validates drafts that have a patient, through the review app of a live serve or the command line."""

    def __init__(
        self, site: Path, fleet: Fleet, options: SoakOptions, result: SoakResult, read_only: threading.Event
    ) -> None:
        super().__init__(name="secretary", daemon=True)
        self.site, self.fleet, self.options, self.result, self.read_only = site, fleet, options, result, read_only
        self.stop = threading.Event()
        self.seen: set[int] = set()
        self.reserve: list[int] = []  # drafts held back, validated while the outbox is read-only
        self.rng = random.Random(options.seed + 7)
        self.turn = 0

    def run(self) -> None:
        while not self.stop.wait(1.5):
            ready = with_store(
                self.site,
                lambda s: [j.id for j in s.jobs.list_jobs(state=JobState.DRAFTED, limit=100_000) if j.patient_id],
                None,
            )
            if ready is None:
                continue  # the database is being restarted
            chosen = []
            for job_id in ready:
                if job_id not in self.seen:
                    self.seen.add(job_id)
                    held = self.rng.randrange(self.options.validate_one_in) != 0
                    (self.reserve if held else chosen).append(job_id)
            if self.read_only.is_set():
                still = set(ready)
                chosen += [j for j in self.reserve if j in still][:10]
                self.reserve = [j for j in self.reserve if j not in chosen]
            for job_id in chosen:
                if self.stop.is_set():
                    return
                during = self.read_only.is_set()
                if self.validate(job_id) and during:
                    self.result.validated_read_only += 1

    def validate(self, job_id: int) -> bool:
        """Validate one draft, through the app (every other time) or the command line; whether it was."""
        self.turn += 1
        if self.turn % 2:
            live = [p for p in self.fleet.of_kind("serve") if p.running() and p.port]
            if live:
                client = ReviewClient("127.0.0.1", live[self.turn % len(live)].port or 0, timeout_s=60)
                try:
                    client.login(SECRETARY, PASSWORD)
                    status, _ = validate_through_app(client, job_id)
                    self.result.validated_app += 1
                    self.result.app_kept_waiting += status == 202
                    return True
                except RequestFailed:
                    pass  # killed or restarted mid-request, or still starting: the command line does it
                finally:
                    client.close()
        done = subprocess.run(
            [sys.executable, "-m", "transcribe", "-q", "validate", str(job_id), "--by", "soak", "--flags-checked"],
            cwd=self.site,
            env=process_env(),
            capture_output=True,
            timeout=180,
        )
        self.result.validated_cli += done.returncode == 0
        return done.returncode == 0


def run_soak(options: SoakOptions, site: Path) -> SoakResult:
    """Run a soak in ``site`` (an empty folder) and check it; the result says what was found."""
    result = SoakResult()
    rng = random.Random(options.seed)
    site.mkdir(parents=True, exist_ok=True)
    folders = FaultFolders(site)
    postgres = None if options.store_url else PrivatePostgres.start(Path(tempfile.mkdtemp(prefix="soak-pg-")))
    fleet = None
    try:
        url = options.store_url or postgres.url  # type: ignore[union-attr]
        write_site(site, url, options)
        settings = load_settings(cwd=site, environ={}).settings
        folders.prepare(settings.paths.drafts, settings.paths.outbox, drafts_disk="drafts-full" in options.faults)
        prepare_store(site)
        staging = site / "staging"
        staging.mkdir(exist_ok=True)
        dictations = make_dictations(staging, options.dictations)
        result.sent = len(dictations)
        processes = [
            Process("serve", f"serve-{i + 1}", site, process_env(TRANSCRIBE_REVIEW_PORT=str(port)), port)
            for i, port in enumerate(free_port() for _ in range(options.serves))
        ]
        worker_outbox = site / "worker-host-outbox"  # the worker hosts do not mount the records
        processes += [
            Process("worker", f"worker-{i + 1}", site, process_env(TRANSCRIBE_PATHS_OUTBOX=str(worker_outbox)))
            for i in range(options.workers)
        ]
        fleet = Fleet(processes, result)
        started = time.monotonic()
        fleet.start()
        read_only = threading.Event()
        secretary = Secretary(site, fleet, options, result, read_only)
        secretary.start()
        dropper = threading.Thread(
            target=drop_all,
            args=(settings.paths.inbox, dictations, options.duration_s, random.Random(options.seed + 1)),
            daemon=True,
        )
        dropper.start()
        wait_for_first_draft(site, options.settle_timeout_s)  # the faults' clock starts once the fleet works
        inject_faults(options, rng, fleet, folders, postgres, secretary, result, time.monotonic())
        dropper.join()
        wait_until_settled(site, len(dictations), options.settle_timeout_s)
        secretary.stop.set()
        secretary.join(timeout=200)
        wait_until_settled(site, len(dictations), options.settle_timeout_s)
        fleet.stop()
        result.wall_s = time.monotonic() - started
        check(site, settings, dictations, worker_outbox, result)
    finally:
        if fleet is not None:
            fleet.stop()
        folders.restore(site / "data" / "drafts-after-soak" if options.keep_drafts else None)
        if postgres is not None:
            postgres.stop()
    return result


def prepare_store(site: Path) -> None:
    """The migrated store, its patient index and the secretary's account."""
    from transcribe.patient_record.patient_import import parse_patient_csv
    from transcribe.security.accounts import Accounts

    store = open_site_store(site)
    try:
        rows = "\n".join(f"{900000 + i},Soak{i},Test,1950-01-{i % 28 + 1:02d}" for i in range(PATIENTS))
        store.patients.import_patients(parse_patient_csv("id,family_name,given_names,birth_date\n" + rows)[0])
        Accounts(store).add_user(SECRETARY, PASSWORD, "secretary")
    finally:
        store.close()


def drop_all(inbox: Path, dictations: list[tuple[Path, dict | None]], duration_s: float, rng: random.Random) -> None:
    """Drop each dictation (sidecar first, then the audio under a temporary name, renamed) over ``duration_s``."""
    gap_s = duration_s / max(1, len(dictations))
    for number, (path, sidecar) in enumerate(dictations):
        author = inbox / f"dr-{number % 3}"
        author.mkdir(parents=True, exist_ok=True)
        if sidecar is not None:
            temporary = author / f".{path.stem}.json.part"
            temporary.write_text(json.dumps(sidecar))
            os.replace(temporary, author / f"{path.stem}.json")
        temporary = author / f".{path.name}.part"
        shutil.copyfile(path, temporary)
        os.replace(temporary, author / path.name)
        time.sleep(rng.uniform(0.5, 1.5) * gap_s)


def inject_faults(
    options: SoakOptions,
    rng: random.Random,
    fleet: Fleet,
    folders: FaultFolders,
    postgres: PrivatePostgres | None,
    secretary: Secretary,
    result: SoakResult,
    started: float,
) -> None:
    """Kill processes and inject the disk and database faults at their moments (from ``started``), in order."""
    plan: list[tuple[float, str]] = []
    for kind in ("serve", "worker"):
        plan += [(rng.uniform(0.05, 0.95) * options.duration_s, f"kill-{kind}") for _ in range(options.kills_per_kind)]
    moments = {"drafts-full": 0.3, "db-restart": 0.5, "outbox-read-only": 0.7}
    plan += [(moments[f] * options.duration_s, f) for f in options.faults]
    turn: Counter[str] = Counter()
    for at, fault in sorted(plan):
        time.sleep(max(0.0, started + at - time.monotonic()))
        if fault.startswith("kill-"):
            kind = fault[5:]
            victims = fleet.of_kind(kind)
            victim = victims[turn[kind] % len(victims)]
            turn[kind] += 1
            fleet.kill(victim, rng.uniform(1.0, 4.0))
        elif fault == "db-restart":
            if postgres is None:
                result.skipped_faults.append("database restart (the soak did not start the server: --store given)")
                continue
            postgres.restart(options.db_down_s)
            result.faults.append(f"database restart 1 (down {options.db_down_s:.0f} s)")
        elif fault == "drafts-full":
            how = folders.fill_drafts(options.drafts_full_s)
            (result.faults if how else result.skipped_faults).append(
                f"drafts disk full 1 ({options.drafts_full_s:.0f} s, {how})"
                if how
                else "drafts disk full (needs root to mount a tmpfs)"
            )
        elif fault == "outbox-read-only":
            deadline = time.monotonic() + 2 * options.outbox_read_only_s
            while not secretary.reserve and time.monotonic() < deadline:
                time.sleep(1)  # some drafts to validate while it is read-only
            secretary.read_only.set()
            how = folders.outbox_read_only(options.outbox_read_only_s)
            secretary.read_only.clear()
            result.faults.append(f"outbox read-only 1 ({options.outbox_read_only_s:.0f} s, {how})")


def wait_for_first_draft(site: Path, timeout_s: float) -> None:
    """Until one dictation is drafted: the processes have loaded their model and work."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if with_store(
            site, lambda s: s.jobs.count_by_state().get(JobState.DRAFTED, 0) + s.jobs.count_by_state().get(JobState.FILED, 0), 0
        ):
            return
        time.sleep(1)


def wait_until_settled(site: Path, expected: int, timeout_s: float) -> bool:
    """Until every dictation has a job in a final state and no validated report waits to be filed."""

    def settled(store) -> bool:
        jobs = store.jobs.list_jobs(limit=100_000)
        return len(jobs) >= expected and all(j.state in FINAL for j in jobs)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if with_store(site, settled, False):
            return True
        time.sleep(2)
    return False


def check(
    site: Path, settings, dictations: list[tuple[Path, dict | None]], worker_outbox: Path, result: SoakResult
) -> None:
    """Every promise: none missing, none twice, none filed elsewhere, quarantine with reasons, the audit chain."""
    problems = result.problems
    store = open_store(settings.store_url)
    try:
        jobs = store.jobs.list_jobs(limit=100_000)
        by_name: dict[str, list] = {}
        for job in jobs:
            by_name.setdefault(job.original_name, []).append(job)
            result.states[job.state.value] += 1
        for path, _ in dictations:
            found = by_name.get(path.name, [])
            if len(found) != 1:
                result.missing += not found
                result.twice += len(found) > 1
                problems.append(f"{path.name}: {len(found)} jobs")
        if len(jobs) != len(dictations):
            problems.append(f"{len(jobs)} jobs for {len(dictations)} dictations")
        hashes = Counter(j.audio_sha256 for j in jobs)
        doubled = [f"archived hash {h[:12]}: {n} jobs" for h, n in hashes.items() if n > 1]
        result.twice += len(doubled)
        problems += doubled
        archived = [p for p in settings.paths.archive.rglob("*") if p.is_file() and p.suffix != ".json"]
        if len(archived) != len(jobs):
            problems.append(f"{len(archived)} archived recordings for {len(jobs)} jobs")
        records = quarantine_records(settings.paths.quarantine)
        outbox_docx = list(settings.paths.outbox.rglob("*.docx"))
        for job in jobs:
            events = [e[1] for e in store.jobs.events(job.id)]
            result.taken_again += events.count("claimed") > 1
            result.stage_failures += events.count("failed")
            for _, event, _, detail in store.jobs.events(job.id):
                if event == "failed":
                    result.stage_failure_reasons[failure_reason(detail or "")] += 1
            result.filing_failures += events.count("filing-failed")
            if not job.audio_path.is_file():
                problems.append(f"job {job.id}: its archived audio is gone")
            if job.state not in FINAL:
                problems.append(f"job {job.id} ({job.original_name}): left {job.state.value}")
            if job.state is JobState.QUARANTINED:
                reason = records.get(job.id)
                if not job.error or reason is None:
                    problems.append(f"job {job.id}: quarantined without a reason or a record")
                result.quarantine_reasons[reason or "no record"] += 1
            drafted = events.count("drafted")
            if drafted > 1 or (job.state in (JobState.DRAFTED, JobState.FILED) and drafted != 1):
                result.twice += drafted > 1
                problems.append(f"job {job.id}: drafted {drafted} times")
            if job.state in (JobState.DRAFTED, JobState.FILED) and not (settings.paths.drafts / str(job.id)).is_dir():
                problems.append(f"job {job.id}: no draft folder")
            if job.state is JobState.FILED:
                filing = store.reports.filing(job.id, job.report_version)
                mine = [p for p in outbox_docx if p.stem.endswith(f"_{job.id}")]
                if filing is None or len(mine) != 1 or events.count("filed") != 1:
                    result.twice += len(mine) > 1 or events.count("filed") > 1
                    problems.append(f"job {job.id}: filed {events.count('filed')} times, {len(mine)} documents")
                elif settings.paths.outbox.resolve() not in Path(filing.docx_path).resolve().parents:
                    result.filed_elsewhere += 1
                    problems.append(f"job {job.id}: filed outside the outbox, at {filing['docx_path']}")
        known = {str(j.id) for j in jobs}
        strays = [p.name for p in settings.paths.drafts.iterdir() if p.is_dir() and p.name not in known]
        if strays:
            problems.append(f"draft folders of no job: {strays[:5]}")
        filed = sum(1 for j in jobs if j.state is JobState.FILED)
        if len(outbox_docx) != filed:
            problems.append(f"{len(outbox_docx)} documents in the outbox for {filed} filed reports")
    finally:
        store.close()
    if worker_outbox.exists():
        result.filed_elsewhere += sum(1 for p in worker_outbox.rglob("*") if p.is_file()) or 1
        problems.append(f"the worker hosts created or filed into their own outbox: {worker_outbox}")
    leftovers = [p for p in settings.paths.inbox.rglob("*") if p.is_file()]
    if leftovers:
        problems.append(f"{len(leftovers)} files left in the inbox: {[p.name for p in leftovers[:5]]}")
    for folder in (settings.paths.outbox, settings.paths.drafts, settings.paths.archive):
        half = [
            p.name
            for p in folder.rglob("*")
            if p.is_file() and p.name != OUTBOX_MARKER and (p.name.endswith(".tmp") or p.name.startswith("."))
        ]
        if half:
            problems.append(f"half-written files in {folder.name}: {half[:5]}")
    audit = subprocess.run(
        [sys.executable, "-m", "transcribe", "audit", "verify"],
        cwd=site,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    result.audit = (
        (audit.stdout + audit.stderr).strip().splitlines()[-1] if (audit.stdout + audit.stderr).strip() else ""
    )
    if audit.returncode != 0:
        problems.append(f"transcribe audit verify: exit {audit.returncode}: {result.audit}")


def failure_reason(detail: str) -> str:
    """A failed attempt's reason, short ("attempt 2 of 6: <folder>: the draft could not be written (...); next try")."""
    reason = detail.split(": ", 1)[-1].rsplit("; next try", 1)[0]
    return reason.split(": ", 1)[-1] if reason.startswith("/") else reason


def quarantine_records(folder: Path) -> dict[int, str]:
    """The kind of each quarantined job's record in ``quarantine/`` (its ``.error.json``)."""
    kinds: dict[int, str] = {}
    for path in folder.glob("*.error.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record.get("job_id"), int):
            kinds[record["job_id"]] = str(record.get("kind"))
    return kinds


def report(result: SoakResult, options: SoakOptions, store: str) -> str:
    """The figures, plainly, to paste into a note."""
    states = ", ".join(f"{s} {n}" for s, n in sorted(result.states.items()))
    reasons = ", ".join(f"{k} {n}" for k, n in sorted(result.quarantine_reasons.items())) or "none"
    exits = ", ".join(f"{k}: {n}" for k, n in sorted(result.exits.items())) or "none"
    lines = [
        f"soak: {result.sent} dictations sent to {options.serves} serve + {options.workers} worker processes, "
        f"{store}, wall time {result.wall_s / 60:.1f} min",
        f"  final states: {states}",
        f"  quarantined with reason: {reasons}",
        f"  kills (SIGKILL, restarted): serve {result.kills['serve']}, worker {result.kills['worker']}; "
        f"jobs taken up again after a kill or restart: {result.taken_again}",
        f"  processes that ended by themselves (restarted): {exits}",
        "  faults injected: " + ("; ".join(result.faults) or "none"),
    ]
    if result.skipped_faults:
        lines.append("  faults NOT injected: " + "; ".join(result.skipped_faults))
    lines += [
        f"  stage attempts failed and retried later: {result.stage_failures} "
        f"({', '.join(f'{k}: {n}' for k, n in sorted(result.stage_failure_reasons.items())) or 'none'}); "
        f"filing attempts failed (the report stayed validated and was tried again): {result.filing_failures}",
        f"  validated: {result.validated_app} through the review app ({result.app_kept_waiting} answered 202, "
        f"validated but not filed yet), {result.validated_cli} with the command line; "
        f"{result.validated_read_only} of them while the outbox was read-only",
        f"  lost: {result.missing}, processed twice: {result.twice}, filed outside the outbox: "
        f"{result.filed_elsewhere}",
        f"  audit chain: {result.audit}",
    ]
    lines += [f"  BROKEN: {p}" for p in result.problems]
    lines.append("  every invariant held" if not result.problems else f"  {len(result.problems)} invariants broken")
    return "\n".join(lines)


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = SoakOptions()
    parser.add_argument("--dictations", type=int, default=defaults.dictations)
    parser.add_argument(
        "--duration-s",
        type=float,
        default=defaults.duration_s,
        help="over how long the dictations are dropped and the faults injected",
    )
    parser.add_argument("--kills", type=int, default=defaults.kills_per_kind, help="SIGKILLs of each kind of process")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--settle-timeout-s",
        type=float,
        default=defaults.settle_timeout_s,
        help="how long to wait, after the last dictation, for every one to be done",
    )
    parser.add_argument("--store", help="an existing PostgreSQL URL (no database restart then)")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = parser.parse_args()
    options = SoakOptions(
        dictations=args.dictations,
        duration_s=args.duration_s,
        kills_per_kind=args.kills,
        seed=args.seed,
        settle_timeout_s=args.settle_timeout_s,
        store_url=args.store,
        keep_drafts=args.keep is not None,
    )
    site = args.keep or Path(tempfile.mkdtemp(prefix="soak-"))
    signal.signal(signal.SIGTERM, _interrupted)  # the processes, mounts and server are cleaned up on the way out
    result = run_soak(options, site)
    print(report(result, options, "PostgreSQL (given)" if args.store else "PostgreSQL (a server of its own)"))
    if not args.keep:
        shutil.rmtree(site, ignore_errors=True)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
