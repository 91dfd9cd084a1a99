"""Worker throughput on a shared store: 1, 2 and 4 ``transcribe worker`` processes on the same jobs.

Each configuration gets a fresh store (PostgreSQL when --store is a PostgreSQL URL, else SQLite)
holding the same N dictations (clips of the dev corpus, made unique), and the cores are shared
out between the processes (cores / processes threads each). Prints the wall time until every job
is drafted, dictations per minute and audio-minutes per minute.

Usage: python bench/bench_workers.py [--jobs 24] [--store postgresql+psycopg://user:pw@127.0.0.1/db]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.audio_files import clip_samples, write_audio
from transcribe.intake.inbox import Intake
from transcribe.records import JobState
from transcribe.settings_loading import load_settings
from transcribe.store import open_store

CLIPS = ["fr-mg-001", "en-gp-001", "fr-dose-01", "en-literal-01"]


def store_url(base: str | None, folder: Path) -> tuple[str, object]:
    if not base:
        return f"sqlite:///{folder / 'store.sqlite3'}", None
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    return f"{base}?options=-csearch_path%3D{schema}", (admin, schema)


def run(processes: int, jobs: int, base: str | None) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-workers-{processes}-"))
    url, cleanup = store_url(base, folder)
    (folder / "transcribe.toml").write_text(f'[store]\nurl = "{url}"\n[worker]\npoll_s = 0.1\n[review]\nenabled = false\n')
    settings = load_settings(cwd=folder, environ={}).settings
    store = open_store(settings.store_url)
    intake = Intake(settings, store)
    audio_s = 0.0
    for number in range(jobs):
        speech = clip_samples(ROOT / "tests" / "dictations" / "audio" / f"{CLIPS[number % len(CLIPS)]}.opus")
        varied = (speech.astype(np.int32) + np.random.default_rng(number).integers(-30, 30, speech.size))
        path = write_audio(varied.clip(-32767, 32767).astype(np.int16), folder / f"j{number:02d}.opus")
        intake.take(path)
        audio_s += speech.size / 16000
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
    env["TRANSCRIBE_ASR_CPU_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // processes))
    started = time.perf_counter()
    workers = [subprocess.Popen([sys.executable, "-m", "transcribe", "-q", "worker"], cwd=folder, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(processes)]
    while store.jobs.count_by_state().get(JobState.DRAFTED, 0) < jobs:
        time.sleep(0.2)
    wall = time.perf_counter() - started
    for worker in workers:
        worker.terminate()
        worker.wait()
    store.close()
    if cleanup:
        admin, schema = cleanup
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    return wall, audio_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--store", help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    print(f"{args.jobs} dictations, store {'PostgreSQL' if args.store else 'SQLite'}, {os.cpu_count()} cores "
          "(wall time includes each process loading the model and vocabulary)")
    for processes in [int(p) for p in args.processes.split(",")]:
        wall, audio_s = run(processes, args.jobs, args.store)
        print(f"{processes} worker process(es): {wall:6.1f} s  {args.jobs / wall * 60:5.1f} dictations/min  "
              f"{audio_s / wall:4.1f} audio-min/min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
