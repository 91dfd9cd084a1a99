"""The nightly batch: cross-file batching on the real model, windows, interruption, the lock, the command."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from transcribe.batch import BatchAlreadyRunning, NightlyBatch, batch_lock
from transcribe.intake.inbox import Intake
from transcribe.records import JobState, Transcript
from transcribe.settings import Settings
from transcribe.speech.audio import SAMPLE_RATE, DecodedAudio, decode_dictation
from transcribe.speech.engine import DecodeOptions, SpeechRecognizer
from transcribe.speech.packed import transcribe_packed
from transcribe.store import JobStore

from .conftest import copy_into, dictation

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_cross_file_batching_puts_each_result_back_in_its_own_transcript(recognizer: SpeechRecognizer) -> None:
    names = ["fr-mg-001", "en-gp-001", "fr-cardio-01", "en-cardio-01"]
    audios = [decode_dictation(dictation(n)) for n in names]
    silence = DecodedAudio(np.zeros(SAMPLE_RATE * 5, dtype=np.float32), 5.0, SAMPLE_RATE, 1, "pcm")
    items = [(a, DecodeOptions(language=n[:2])) for a, n in zip(audios, names)] + [(silence, DecodeOptions(language="fr"))]
    results = transcribe_packed(recognizer, items, batch_size=8)
    assert all(isinstance(r, Transcript) for r in results)
    french, english, cardio, english_cardio, empty = results
    # words the engine writes on every processor tried, batched or not ("65 ans" is "65 en vue" on some)
    assert "65" in french.text and "artérielle" in french.text
    assert "patient" in english.text.lower() and english.language == "en"
    assert "fibrillation" in cardio.text and "monsieur" in cardio.text.lower()
    assert "year" in english_cardio.text.lower()
    assert empty.text == "" and not empty.segments  # silence gives no text
    for transcript, audio in zip(results[:4], audios):
        words = transcript.words
        assert words and all(0 <= w.start_s <= w.end_s <= audio.duration_s + 0.5 for w in words)
        assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:]))
        assert transcript.options["batched"]["shared_with"] >= 1  # short dictations shared the engine's windows


def _queue(settings: Settings, store: JobStore, names: list[str], urgent: str | None = None) -> None:
    for name in names:
        path = copy_into(dictation(name), settings.paths.inbox / "dr-a", f"{name}.opus")
        if name == urgent:
            path.with_suffix(".json").write_text(json.dumps({"priority": "urgent"}))
        Intake(settings, store).take(path)


def test_a_batch_drafts_everything_waiting_and_quarantines_the_bad(settings: Settings, store: JobStore,
                                                                  recognizer, text_layer, tmp_path: Path) -> None:
    _queue(settings, store, ["fr-mg-001", "en-gp-001", "fr-dose-01"], urgent="fr-dose-01")
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    Intake(settings, store).take(copy_into(bad, settings.paths.inbox / "dr-a"))
    seen: list[int] = []
    batch = NightlyBatch(settings, store, recognizer, text_layer, window=2, batch_size=4,
                         on_progress=lambda p: seen.append(p.files_done))
    summary = batch.run(threading.Event())
    assert (summary.files_done, summary.files_failed) == (3, 1)
    assert summary.failures[0]["state"] == "quarantined" and "broken.wav" in str(summary.failures[0]["reason"])
    assert summary.audio_s > 20 and summary.wall_s > 0 and seen[-1] == 4
    states = {j.original_name: j.state for j in store.jobs.list_jobs()}
    assert states == {"fr-mg-001.opus": JobState.DRAFTED, "en-gp-001.opus": JobState.DRAFTED,
                      "fr-dose-01.opus": JobState.DRAFTED, "broken.wav": JobState.QUARANTINED}
    urgent = next(j for j in store.jobs.list_jobs() if j.original_name == "fr-dose-01.opus")
    assert [e[1] for e in store.jobs.events(urgent.id)].index("claimed") >= 0
    first_claimed = min(store.jobs.list_jobs(), key=lambda j: next(e[0] for e in store.jobs.events(j.id) if e[1] == "claimed"))
    assert first_claimed.original_name == "fr-dose-01.opus"  # urgent first
    assert all(store.jobs.results_of(j.id) for j in store.jobs.list_jobs(state=JobState.DRAFTED))
    for job in store.jobs.list_jobs(state=JobState.DRAFTED):  # nobody gave the language: detected, then decided
        assert job.options is not None and job.options["language"] == "detect" and job.language in ("fr", "en")
        listening = settings.paths.drafts / str(job.id) / "listen.wav"  # written with the draft: plays at once
        assert decode_dictation(listening).duration_s == pytest.approx(job.duration_s, abs=0.01)


def test_an_interrupted_batch_loses_nothing(settings: Settings, store: JobStore, recognizer, text_layer) -> None:
    _queue(settings, store, ["fr-mg-001", "en-gp-001", "fr-dose-01"])
    stop = threading.Event()
    batch = NightlyBatch(settings, store, recognizer, text_layer, window=1, batch_size=4,
                         on_progress=lambda p: stop.set() if p.files_done >= 1 else None)
    summary = batch.run(stop)
    assert summary.interrupted and summary.files_done == 1
    counts = store.jobs.count_by_state()
    assert counts.get(JobState.DRAFTED) == 1 and counts.get(JobState.QUEUED) == 2
    resumed = NightlyBatch(settings, store, recognizer, text_layer, window=4, batch_size=4).run(threading.Event())
    assert resumed.files_done == 2 and store.jobs.count_by_state() == {JobState.DRAFTED: 3}


def test_only_one_batch_at_a_time(tmp_path: Path) -> None:
    with batch_lock(tmp_path):
        with pytest.raises(BatchAlreadyRunning, match="another batch is running"):
            with batch_lock(tmp_path):
                pass
    with batch_lock(tmp_path):  # released: a later batch runs
        pass


def test_the_batch_command_takes_the_inbox_and_reports(site: Path) -> None:
    from .conftest import make_settings

    settings = make_settings(site)
    for name in ("fr-mg-001", "en-gp-001"):
        copy_into(dictation(name), settings.paths.inbox / "dr-a", f"{name}.opus")
    import os
    import time

    old = time.time() - 60
    for path in (settings.paths.inbox / "dr-a").iterdir():
        os.utime(path, (old, old))
    result = subprocess.run([sys.executable, "-m", "transcribe", "batch", "--quiet", "--processes", "2"], cwd=site,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "2 dictations transcribed, 0 failed" in result.stdout
    reports = list((settings.paths.data / "batch-reports").glob("*.json"))
    assert len(reports) == 1 and json.loads(reports[0].read_text())["files_done"] == 2


def test_claims_shrink_as_the_queue_empties(settings: Settings, store: JobStore, recognizer, text_layer) -> None:
    """Two processes share one queue: each claims half of what waits (at most a window, at least MIN_WINDOW),
    so that neither goes on alone at the end with a full window."""
    from transcribe.batch import MIN_WINDOW

    _queue(settings, store, ["fr-mg-001", "en-gp-001", "fr-dose-01", "fr-cardio-01", "en-cardio-01",
                             "fr-cardio-02", "fr-cardio-03", "en-cardio-02", "en-cardio-03", "fr-mg-002"])
    batch = NightlyBatch(settings, store, recognizer, text_layer, window=16, batch_size=8, processes=2)
    assert batch._window_size() == 5
    alone = NightlyBatch(settings, store, recognizer, text_layer, window=3, batch_size=8)
    assert alone._window_size() == 3
    held: set[int] = set()
    assert len(batch._claim_window(held)) == 5 and len(held) == 5
    assert batch._window_size() == MIN_WINDOW  # 5 wait: a share of 3 would leave the engine's batches too small
