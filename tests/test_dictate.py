"""Live dictation: the recording logic without a microphone, the file it sends, and a real stream where one exists."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from transcribe.intake.dictation import DictationDetails, Recording, level_meter, write_dictation
from transcribe.intake.files import is_dictation_name
from transcribe.intake.inbox import Intake
from transcribe.records import JobState
from transcribe.settings import Settings
from transcribe.speech.audio import SAMPLE_RATE, decode_dictation
from transcribe.store import JobStore

from .conftest import dictation, wait_for

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
    assert store.jobs.get(job.id).state is JobState.DRAFTED


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


# --- a real audio stream: a PulseAudio null sink, its monitor as the microphone ----------------------------------
PULSE_TOOLS = ("pulseaudio", "pactl", "paplay")


@pytest.fixture
def virtual_microphone() -> Iterator[dict[str, str]]:
    """A private user-mode PulseAudio daemon with a null sink ``dictation``: what is played into the sink is heard
    on its monitor, the source ``transcribe dictate`` records from (through PortAudio's ALSA ``pulse`` device).

    Yields the environment that points clients at it. Skipped, saying why, where it cannot be made: the tools
    missing (``tests/install-system-packages.sh`` installs them), or the daemon refusing to start.
    """
    missing = [tool for tool in PULSE_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found: no virtual audio device can be made here "
                    "(apt-get install pulseaudio pulseaudio-utils libasound2-plugins)")
    folder = Path(tempfile.mkdtemp(prefix="pulse-"))  # short: a unix socket path is at most 107 bytes
    env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder), "PULSE_RUNTIME_PATH": str(folder / "run"),
           "PULSE_SERVER": f"unix:{folder / 'native'}", "PULSE_SOURCE": "dictation.monitor", "PULSE_SINK": "dictation"}
    log = (folder / "pulseaudio.log").open("wb")
    daemon = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "-n", "--log-target=stderr",
         f"--load=module-native-protocol-unix socket={folder / 'native'} auth-anonymous=1",
         "--load=module-null-sink sink_name=dictation rate=48000 channels=1"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                reason = (folder / "pulseaudio.log").read_text(errors="replace").strip().splitlines()[-1:]
                pytest.skip(f"the PulseAudio daemon did not start here ({'; '.join(reason) or 'no reason given'})")
            time.sleep(0.2)
        yield env
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _pulse_input(site: Path, env: dict[str, str]) -> int | None:
    listed = subprocess.run([sys.executable, "-m", "transcribe", "dictate", "--list-devices"], cwd=site, env=env,
                            capture_output=True, text=True, timeout=60)
    for line in listed.stdout.splitlines():
        number, _, name = line.strip().partition("  ")
        if name.startswith("pulse"):
            return int(number)
    return None


def test_dictate_records_a_real_stream_with_pause_resume_and_send(site: Path, settings: Settings, store: JobStore,
                                                                   recognizer, text_layer, shared_audio: Path,
                                                                   virtual_microphone: dict[str, str],
                                                                   tmp_path: Path) -> None:
    """A real recording is played into the virtual device while ``transcribe dictate`` records it: paused while a
    tone plays (not kept), resumed for the recording again, sent; the dictation arrives in the inbox with its
    sidecar and is transcribed with its key words."""
    env = virtual_microphone
    device = _pulse_input(site, env)
    if device is None:
        pytest.skip("PortAudio lists no 'pulse' input: ALSA's PulseAudio plugin is missing "
                    "(apt-get install libasound2-plugins)")
    speech = tmp_path / "jfk.wav"
    _to_wav(decode_dictation(shared_audio / "en" / "fw_jfk.flac").samples, speech)
    spoken_s = decode_dictation(speech).duration_s
    # resumed, another recording: one sentence said twice reads as the engine looping (the text layer removes it)
    second = tmp_path / "second.wav"
    _to_wav(decode_dictation(dictation("en-gp-001")).samples, second)
    second_s = decode_dictation(second).duration_s
    tone = tmp_path / "tone.wav"
    _to_wav(0.5 * np.sin(2 * np.pi * 1000 * np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32), tone)
    dictate = subprocess.Popen(
        [sys.executable, "-m", "transcribe", "dictate", "--author", "dr-live", "--patient", "100001",
         "--device", str(device)], cwd=site, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    assert dictate.stdin is not None

    def recording_stream_open() -> bool:
        outputs = subprocess.run(["pactl", "list", "short", "source-outputs"], env=env, capture_output=True, text=True)
        return bool(outputs.stdout.strip()) or dictate.poll() is not None

    def play(path: Path) -> None:
        subprocess.run(["paplay", "--device=dictation", str(path)], env=env, check=True, timeout=120)
        time.sleep(0.5)  # the tail reaches the recorder

    def press(key: str) -> None:
        assert dictate.stdin is not None
        dictate.stdin.write(key.encode())
        dictate.stdin.flush()
        time.sleep(0.3)

    try:
        wait_for(recording_stream_open, timeout_s=60)
        assert dictate.poll() is None, dictate.communicate()[0].decode(errors="replace")
        play(speech)
        press(" ")  # pause: the phone rings
        play(tone)
        press(" ")  # resume
        play(second)
        press("\n")  # send
        output = dictate.communicate(timeout=60)[0].decode(errors="replace")
    finally:
        if dictate.poll() is None:
            dictate.kill()
            dictate.wait(timeout=10)
    assert dictate.returncode == 0, output
    sent = list((settings.paths.inbox / "dr-live").glob("*.flac"))
    assert len(sent) == 1 and "dictation sent" in output, output
    assert json.loads(sent[0].with_suffix(".json").read_text())["patient"] == {"id": "100001"}
    recorded = decode_dictation(sent[0])
    # both plays kept, the tone played while paused dropped (it would add 4 s): nothing else is asserted on timing
    heard_s = spoken_s + second_s
    assert heard_s - 0.5 < recorded.duration_s < heard_s + 3.5, (recorded.duration_s, heard_s)
    job = Intake(settings, store).take(sent[0])
    assert job is not None
    from transcribe.worker import Worker

    outcome = Worker(settings, store, recognizer, text_layer).run_next()
    assert outcome is not None and outcome.state is JobState.DRAFTED
    assert "fellow americans" in (outcome.text or "").lower()


def _to_wav(samples: np.ndarray, path: Path) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
