"""Live dictation: the recording logic without a microphone, the file it sends, and a real stream where one exists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from transcribe.audio import SAMPLE_RATE, decode_dictation
from transcribe.dictate import DictationDetails, Recording, level_meter, write_dictation
from transcribe.inbox import Intake
from transcribe.inbox_files import is_dictation_name
from transcribe.records import JobState
from transcribe.settings import Settings
from transcribe.store import JobStore

from .conftest import dictation

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def _blocks(samples: np.ndarray, size: int = 1600):
    for start in range(0, samples.size, size):
        yield samples[start:start + size]


def test_pause_drops_sound_and_resume_keeps_it() -> None:
    recording = Recording(rate=16000)
    tone = np.full(1600, 0.1, dtype=np.float32)
    recording.feed(tone)  # before start: not kept
    recording.start()
    for _ in range(10):
        recording.feed(tone)
    recording.pause()
    for _ in range(20):
        recording.feed(tone)  # the phone rings: not kept
    recording.toggle()
    for _ in range(5):
        recording.feed(tone)
    recording.stop()
    recording.feed(tone)
    assert recording.elapsed_s == pytest.approx(1.5)
    assert recording.state == "stopped" and recording.samples().size == 15 * 1600
    assert -21 < recording.level_db < -19  # 0.1 full scale = -20 dBFS
    assert level_meter(-60) == "-" * 30 and level_meter(0) == "#" * 30


def test_a_recording_fed_with_speech_becomes_a_dictation_the_pipeline_takes(settings: Settings, store: JobStore,
                                                                           recognizer, text_layer) -> None:
    """The microphone is the one thing this machine lacks: speech blocks stand in for it (48 kHz, as a sound card)."""
    speech = decode_dictation(dictation("fr-mg-001")).samples
    at_48k = np.interp(np.arange(0, speech.size, 1 / 3), np.arange(speech.size), speech).astype(np.float32)
    recording = Recording(rate=48000)
    recording.start()
    for block in _blocks(at_48k, 4800):
        recording.feed(block)
    recording.stop()
    path = write_dictation(recording.samples(), 48000, settings.paths.inbox,
                           DictationDetails("dr-martin", patient_id="100001", worktype="letter", urgent=True))
    assert path.parent == settings.paths.inbox / "dr-martin" and path.suffix == ".flac"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]
    assert json.loads(path.with_suffix(".json").read_text()) == {
        "author": "dr-martin", "priority": "urgent", "patient": {"id": "100001"}, "worktype": "letter"}
    decoded = decode_dictation(path)
    assert decoded.source_rate == SAMPLE_RATE and abs(decoded.duration_s - speech.size / SAMPLE_RATE) < 0.1
    job = Intake(settings, store).take(path)
    assert job is not None and job.priority == "urgent" and job.worktype == "letter"
    from transcribe.worker import Worker

    Worker(settings, store, recognizer, text_layer).run_next()
    assert store.get(job.id).state is JobState.DRAFTED


def test_the_temporary_name_is_ignored_by_the_watcher() -> None:
    assert not is_dictation_name(Path("dr-martin/.20261123-101500_dictation.flac.part"))
    assert is_dictation_name(Path("dr-martin/20261123-101500_dictation.flac"))


def test_nothing_recorded_is_not_sent(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing was recorded"):
        write_dictation(np.zeros(0, dtype=np.float32), 16000, tmp_path, DictationDetails("dr-x"))


def _has_input() -> str | None:
    try:
        import sounddevice
    except OSError:
        return "the PortAudio library is not installed (apt-get install libportaudio2)"
    devices = [d for d in sounddevice.query_devices() if d["max_input_channels"] > 0]
    return None if devices else "no sound input device on this machine"


def test_dictate_explains_what_is_missing(site: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "transcribe", "dictate", "--author", "dr-x"], cwd=site,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    reason = _has_input()
    if reason is None:
        pytest.skip("this machine has a microphone: the missing-device message cannot be checked")
    assert result.returncode == 2 and ("libportaudio2" in result.stderr or "no microphone" in result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(_has_input() is not None, reason=f"{_has_input()}: the real PortAudio stream is not tested here")
def test_a_real_portaudio_stream_records(tmp_path: Path) -> None:
    import sounddevice

    recording = Recording(rate=16000)
    recording.start()
    with sounddevice.InputStream(channels=1, samplerate=16000, dtype="float32",
                                 callback=lambda data, *_: recording.feed(data[:, 0])):
        sounddevice.sleep(500)
    recording.stop()
    assert recording.elapsed_s > 0.2
