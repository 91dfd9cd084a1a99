"""``transcribe serve`` as a user runs it: a real process watching a real inbox."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest

from transcribe.records import JobState
from transcribe.settings import Settings
from transcribe.store import open_store

from .audio_files import clip_samples, write_audio
from .conftest import ENGINE_PASS_ONLY, copy_into, dictation, make_settings, wait_for

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def _jobs(settings: Settings):
    store = open_store(settings.store_url)
    try:
        return store.jobs.list_jobs()
    finally:
        store.close()


def test_a_dropped_dictation_becomes_a_draft_and_a_bad_one_is_quarantined(settings: Settings, service, tmp_path: Path) -> None:
    serve = service()
    wait_for(lambda: settings.paths.inbox.is_dir(), timeout_s=30)
    copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-martin", "consultation.opus")
    bad = tmp_path / "scan.mp3"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
    copy_into(bad, settings.paths.inbox / "dr-martin")
    drafted = wait_for(lambda: [j for j in _jobs(settings) if j.state is JobState.DRAFTED], timeout_s=90)
    quarantined = wait_for(lambda: [j for j in _jobs(settings) if j.state is JobState.QUARANTINED], timeout_s=30)
    job = drafted[0]  # type: ignore[index]
    assert job.author == "dr-martin" and job.language == "fr"
    folder = settings.paths.drafts / str(job.id)
    assert {"transcript.json", "draft.txt", "draft.docx"} <= {p.name for p in folder.iterdir()}
    assert "artérielle" in (folder / "draft.txt").read_text()
    assert json.loads((folder / "transcript.json").read_text())["segments"][0]["words"]
    kept = quarantined[0]  # type: ignore[index]
    assert kept.audio_path.is_relative_to(settings.paths.archive) and kept.audio_path.read_bytes() == bad.read_bytes()
    assert (settings.paths.quarantine / f"job{kept.id}_scan.mp3").read_bytes() == bad.read_bytes()  # a copy
    marker = json.loads((settings.paths.outbox / ".transcribe-outbox").read_text())  # the front host's outbox
    assert marker["store"] == str(settings.store_url) and len(marker["store_id"]) == 32
    assert serve.running()  # the bad file did not stop the service
    assert serve.stop() == 0  # SIGTERM: a clean stop
    assert not any(settings.paths.inbox.rglob("*.*")), "everything was taken out of the inbox"


def test_a_worker_killed_mid_job_finishes_it_exactly_once_after_restart(site: Path, service, tmp_path: Path) -> None:
    settings = make_settings(site, ENGINE_PASS_ONLY)  # exactly once, not hearing
    speech = np.concatenate([clip_samples(dictation("fr-mg-001")), clip_samples(dictation("en-gp-001"))] * 3)
    long_dictation = write_audio(speech, tmp_path / "long.flac")
    first = service()
    wait_for(lambda: settings.paths.inbox.is_dir(), timeout_s=30)
    copy_into(long_dictation, settings.paths.inbox / "dr-crash")
    wait_for(lambda: [j for j in _jobs(settings) if j.state is JobState.TRANSCRIBING], timeout_s=60, step_s=0.05)
    first.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    first.process.wait(timeout=10)  # type: ignore[union-attr]
    assert _jobs(settings)[0].state is JobState.TRANSCRIBING  # left mid-job
    second = service()
    job = wait_for(lambda: [j for j in _jobs(settings) if j.state is JobState.DRAFTED], timeout_s=180)[0]  # type: ignore[index]
    second.stop()
    store = open_store(settings.store_url)
    events = [e[1] for e in store.jobs.events(job.id)]
    outputs = store.jobs.results_of(job.id)
    store.close()
    assert job.attempts == 2
    assert events.count("claimed") == 2 and events.count("released") == 1 and events.count("drafted") == 1
    assert all(path.exists() for path in outputs.values())
    assert len(_jobs(settings)) == 1
    leftovers = [p for p in settings.paths.drafts.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, "no half-written file"


def test_a_stop_signal_arriving_inside_the_wait_does_not_hang_the_process() -> None:
    """A signal handler runs in the main thread, maybe while it holds the stop event's own lock.

    Reproduced exactly: the signal is raised while the main thread holds that lock. Setting the
    event from the handler itself would wait for the lock forever (a worker that never stops).
    """
    import subprocess
    import sys

    script = (
        "import os, signal, threading\n"
        "from transcribe.service import stop_on_signals\n"
        "stop = threading.Event()\n"
        "stop_on_signals(stop)\n"
        "with stop._cond:\n"  # what stop.wait() holds at its start and end
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "print('stopped' if stop.wait(10) else 'not stopped')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "stopped", result.stderr
