"""Two workers on one store (two ``serve`` processes, or ``serve`` and ``batch``) never take the same job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from transcribe.records import JobState
from transcribe.store import open_store

from .audio_files import clip_samples, write_audio
from .conftest import ENGINE_PASS_ONLY, Service, dictation, make_settings, wait_for

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_two_services_and_a_batch_share_one_store(site: Path, tmp_path: Path) -> None:
    settings = make_settings(site, {"asr.beam_size": 1, **ENGINE_PASS_ONLY})  # about claims, not accuracy: the fastest decoding
    speech = clip_samples(dictation("fr-mg-001"))[: 16000 * 3]
    first, second = Service(site), Service(site)
    first.start()
    second.start()
    try:
        wait_for(lambda: settings.paths.inbox.is_dir(), timeout_s=60)
        for number in range(10):
            varied = (speech.astype(np.int32) + np.random.default_rng(number).integers(-30, 30, speech.size))
            write_audio(varied.clip(-32767, 32767).astype(np.int16), tmp_path / f"d{number}.opus")
            (tmp_path / f"d{number}.opus").rename(settings.paths.inbox / f"d{number}.opus")
        batch = subprocess.run([sys.executable, "-m", "transcribe", "batch", "--quiet", "--processes", "1"], cwd=site,
                               capture_output=True, text=True, timeout=600)
        assert batch.returncode == 0, batch.stderr

        def done() -> bool:
            store = open_store(settings.store_url)
            try:
                jobs = store.jobs.list_jobs()
                return len(jobs) == 10 and all(j.state is JobState.DRAFTED for j in jobs)
            finally:
                store.close()

        wait_for(done, timeout_s=300, step_s=0.5)
    finally:
        first.stop()
        second.stop()
    store = open_store(settings.store_url)
    try:
        workers = set()
        for job in store.jobs.list_jobs():
            events = store.jobs.events(job.id)
            assert [e[1] for e in events].count("claimed") == 1, events  # taken once, by one worker
            assert [e[1] for e in events].count("drafted") == 1
            workers.add(next(e[2] for e in events if e[1] == "claimed").rsplit(":", 1)[0])
    finally:
        store.close()
    assert len(workers) >= 2, "the work was shared"
