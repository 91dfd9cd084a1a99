"""Chaos: dictations dropped while ``transcribe serve`` is killed (SIGKILL) at random moments and restarted.

Afterwards every dictation must be accounted for (drafted, in review, filed, or quarantined with
a reason), none processed twice, none lost, and no half-written file anywhere (outbox, drafts,
archive). A secretary validates drafts as they come, so filing is interrupted too.

Usage: python bench/chaos.py [--dictations 200] [--kills 20] [--seed 1] [--keep FOLDER]
Prints the figures; exit status 1 if a promise was broken.
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transcribe.patient_record.filing import OUTBOX_MARKER
from transcribe.records import JobState
from transcribe.settings_loading import load_settings
from transcribe.speech.audio import decode_dictation
from transcribe.store import open_store

CLIPS = ["fr-mg-001", "en-gp-001", "fr-dose-01", "fr-psy-01", "en-literal-01"]
PATIENTS = "id,family_name,given_names,birth_date\n" + "\n".join(
    f"{900000 + i},Chaos{i},Test,1950-01-{(i % 28) + 1:02d}" for i in range(20))


def make_dictations(folder: Path, count: int, rng: random.Random) -> list[Path]:
    """Short, unique dictations (a piece of a clip with a little noise of its own); one in 15 is not audio."""
    from tests.audio_files import write_audio

    pieces = {c: (decode_dictation(ROOT / "tests" / "dictations" / "audio" / f"{c}.opus").samples * 32767).astype(np.int16)
              for c in CLIPS}
    made = []
    for number in range(count):
        if number % 15 == 7:  # one in 15 is not audio (the light run in CI has one too)
            path = folder / f"broken-{number:03d}.wav"
            path.write_text(f"not a recording, number {number}\n" * 10)  # each its own file, not a duplicate
        else:
            clip = pieces[CLIPS[number % len(CLIPS)]]
            length = min(clip.size, int(16000 * rng.uniform(2.0, 4.0)))
            noise = np.random.default_rng(number).integers(-30, 30, length)
            samples = (clip[:length].astype(np.int32) + noise).clip(-32767, 32767).astype(np.int16)
            path = write_audio(samples, folder / f"d{number:03d}.opus")
        made.append(path)
    return made


class Service:
    def __init__(self, site: Path) -> None:
        self.site = site
        self.process: subprocess.Popen[bytes] | None = None
        self.log = (site / "serve.log").open("ab")

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
        self.process = subprocess.Popen([sys.executable, "-m", "transcribe", "serve"], cwd=self.site, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictations", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--fast", action="store_true", help="greedy decoding (beam 1): the promises, not accuracy")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    site = args.keep or Path(tempfile.mkdtemp(prefix="chaos-"))
    site.mkdir(parents=True, exist_ok=True)
    (site / "transcribe.toml").write_text(
        "[intake]\nsettle_s = 0.3\n[worker]\npoll_s = 0.1\nlease_s = 60.0\nfiling_retry_s = 1.0\n"
        "[review]\nenabled = false\n" + ("[asr]\nbeam_size = 1\nfirst_pass_s = 0.0\naudio_evidence = false\n" if args.fast else ""))
    staging = site / "staging"
    staging.mkdir(exist_ok=True)
    dictations = make_dictations(staging, args.dictations, rng)
    settings = load_settings(cwd=site, environ={}).settings
    store = open_store(settings.store_url)
    from transcribe.patient_record.patient_import import parse_patient_csv

    store.patients.import_patients(parse_patient_csv(PATIENTS)[0])
    store.close()

    service = Service(site)
    service.start()
    started = time.monotonic()
    done_dropping = threading.Event()

    def drop() -> None:
        for number, path in enumerate(dictations):
            author = site / "inbox" / f"dr-{number % 3}"
            author.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".opus" and number % 4 == 0:
                (author / path.with_suffix(".json").name).write_text(json.dumps({"patient": {"id": str(900000 + number % 20)}}))
            temporary = author / f".{path.name}.part"
            shutil.copyfile(path, temporary)
            os.replace(temporary, author / path.name)
            time.sleep(rng.uniform(0.05, 0.4))
        done_dropping.set()

    def secretary() -> None:
        """Validates drafts that have a patient, so that the service files them (and is killed while filing)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
        seen: set[int] = set()
        while not stop_secretary.is_set():
            store = open_store(settings.store_url)
            try:
                ready = [j.id for j in store.jobs.list_jobs(state=JobState.DRAFTED, limit=1000) if j.patient_id and j.id not in seen]
            finally:
                store.close()
            for job_id in ready[:5]:
                seen.add(job_id)
                subprocess.run([sys.executable, "-m", "transcribe", "-q", "validate", str(job_id), "--by", "chaos",
                                "--flags-checked"], cwd=site, env=env, capture_output=True, timeout=120)
            time.sleep(1)

    stop_secretary = threading.Event()
    dropper = threading.Thread(target=drop, daemon=True)
    dropper.start()
    clerk = threading.Thread(target=secretary, daemon=True)
    clerk.start()
    kills = 0
    while kills < args.kills:
        time.sleep(rng.uniform(2.0, 12.0))
        service.kill()
        kills += 1
        service.start()
    done_dropping.wait()

    def settled() -> bool:
        store = open_store(settings.store_url)
        try:
            jobs = store.jobs.list_jobs(limit=100_000)
            waiting = [j for j in jobs if j.state in (JobState.RECEIVED, JobState.QUEUED, JobState.TRANSCRIBING,
                                                       JobState.VALIDATED)]
            return len(jobs) >= len(dictations) and not waiting
        finally:
            store.close()

    deadline = time.monotonic() + args.timeout
    while not settled() and time.monotonic() < deadline:
        time.sleep(2)
    stop_secretary.set()
    clerk.join(timeout=30)
    while not settled() and time.monotonic() < deadline:
        time.sleep(2)
    service.stop()
    wall = time.monotonic() - started
    problems = check(site, settings, dictations)
    store = open_store(settings.store_url)
    counts = store.jobs.count_by_state()
    retaken = sum(1 for j in store.jobs.list_jobs(limit=100_000) if [e[1] for e in store.jobs.events(j.id)].count("claimed") > 1)
    store.close()
    print(f"chaos: {len(dictations)} dictations, {kills} kills survived, {wall / 60:.1f} min")
    print("  states: " + ", ".join(f"{s.value} {n}" for s, n in sorted(counts.items(), key=lambda kv: kv[0].value)))
    print(f"  dictations taken up again after a kill: {retaken}")
    print(f"  files checked: {len(dictations)} dropped, outbox {sum(1 for _ in (site / 'outbox').rglob('*') if _.is_file())} files")
    for problem in problems:
        print(f"  BROKEN: {problem}")
    print("  every promise kept" if not problems else f"  {len(problems)} problems")
    if not args.keep:
        shutil.rmtree(site, ignore_errors=True)
    return 1 if problems else 0


def check(site: Path, settings, dictations: list[Path]) -> list[str]:
    problems = []
    store = open_store(settings.store_url)
    try:
        jobs = store.jobs.list_jobs(limit=100_000)
        by_name: dict[str, list] = {}
        for job in jobs:
            by_name.setdefault(job.original_name, []).append(job)
        for path in dictations:
            found = by_name.get(path.name, [])
            if len(found) != 1:
                problems.append(f"{path.name}: {len(found)} jobs")
                continue
            job = found[0]
            events = [e[1] for e in store.jobs.events(job.id)]
            if job.state is JobState.QUARANTINED:
                if not job.error:
                    problems.append(f"{path.name}: quarantined without a reason")
            elif job.state not in (JobState.DRAFTED, JobState.FILED):
                problems.append(f"{path.name}: left {job.state.value}")
            if events.count("drafted") > 1:
                problems.append(f"{path.name}: drafted {events.count('drafted')} times")
            if job.state is JobState.FILED:
                filed = [p for p in (site / "outbox").rglob(f"*_{job.id}.docx")]
                if len(filed) != 1:
                    problems.append(f"{path.name}: {len(filed)} filed documents")
                if events.count("filed") != 1:
                    problems.append(f"{path.name}: filed {events.count('filed')} times")
        leftovers = [p for p in (site / "inbox").rglob("*") if p.is_file() and not p.name.startswith(".")]
        if leftovers:
            problems.append(f"{len(leftovers)} files left in the inbox")
        for folder in ("outbox", "data/drafts", "data/archive"):
            half = [p for p in (site / folder).rglob("*") if p.is_file() and p.name != OUTBOX_MARKER
                    and (p.name.endswith(".tmp") or p.name.startswith("."))]
            if half:
                problems.append(f"half-written files in {folder}: {[p.name for p in half[:5]]}")
    finally:
        store.close()
    return problems


if __name__ == "__main__":
    sys.exit(main())
