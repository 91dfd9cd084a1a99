"""``transcribe dictate``: record a dictation from the microphone straight into the inbox.

The recording logic is pure (``Recording``, fed with audio blocks), so it is
tested without a microphone; the edges are the sound card (sounddevice, on
PortAudio) and the terminal keys. A finished recording is written under a
temporary name the watcher ignores, with its sidecar, then renamed into
``inbox/<author>/``: the watcher takes it at once, complete.
"""

from __future__ import annotations

import json
import math
import os
import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import numpy as np

from .atomic import FILE_MODE, ensure_folder, write_atomic
from .audio import SAMPLE_RATE
from .errors import ConfigurationError
from .quarantine import safe_file_name


class MicrophoneUnavailable(ConfigurationError):
    """No sound input can be used here."""


@dataclass
class Recording:
    """A dictation being recorded: start, pause, resume, stop; blocks are kept only while recording."""

    rate: int
    state: str = "ready"  # ready, recording, paused, stopped
    blocks: list[np.ndarray] = field(default_factory=list)
    level_db: float = -120.0

    def start(self) -> None:
        """Start (or restart after a pause) keeping what the microphone hears."""
        if self.state in ("ready", "paused"):
            self.state = "recording"

    def pause(self) -> None:
        """Stop keeping sound until resumed (the doctor thinks, the phone rings)."""
        if self.state == "recording":
            self.state = "paused"

    def toggle(self) -> None:
        """Pause when recording, resume when paused."""
        self.pause() if self.state == "recording" else self.start()

    def stop(self) -> None:
        """End the recording."""
        self.state = "stopped"

    def feed(self, block: np.ndarray) -> None:
        """Take one block of samples from the sound card (mono, float32 in [-1, 1])."""
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        if block.size:
            rms = float(np.sqrt(np.mean(block * block)))
            self.level_db = 20 * math.log10(rms) if rms > 1e-6 else -120.0
        if self.state == "recording":
            self.blocks.append(block.copy())

    @property
    def elapsed_s(self) -> float:
        """Seconds of dictation kept so far (pauses not counted)."""
        return sum(b.size for b in self.blocks) / self.rate

    def samples(self) -> np.ndarray:
        """Everything kept, as one array."""
        return np.concatenate(self.blocks) if self.blocks else np.zeros(0, dtype=np.float32)


def level_meter(level_db: float, width: int = 30) -> str:
    """A text level meter: from -60 dBFS (empty) to 0 dBFS (full)."""
    filled = round(max(0.0, min(1.0, (level_db + 60) / 60)) * width)
    return "#" * filled + "-" * (width - filled)


@dataclass(frozen=True)
class DictationDetails:
    """What the doctor says about the dictation: author, patient, worktype, urgency."""

    author: str
    patient_id: str | None = None
    worktype: str | None = None
    urgent: bool = False
    language: str | None = None


def write_dictation(
    samples: np.ndarray,
    rate: int,
    inbox: Path,
    details: DictationDetails,
    *,
    audio_format: str = "flac",
    now: datetime | None = None,
) -> Path:
    """Write a finished recording into ``inbox/<author>/`` (16 kHz mono), sidecar first, audio last."""
    if samples.size == 0:
        raise ValueError("nothing was recorded")
    now = now or datetime.now()
    folder = ensure_folder(inbox / safe_file_name(details.author))
    stem = f"{now:%Y%m%d-%H%M%S}_dictation"
    target = folder / f"{stem}.{audio_format}"
    sidecar: dict[str, object] = {"author": details.author, "priority": "urgent" if details.urgent else "normal"}
    if details.patient_id:
        sidecar["patient"] = {"id": details.patient_id}
    if details.worktype:
        sidecar["worktype"] = details.worktype
    if details.language:
        sidecar["language"] = details.language
    write_atomic(target.with_suffix(".json"), json.dumps(sidecar, ensure_ascii=False).encode())
    temporary = folder / f".{stem}.{audio_format}.part"  # ignored by the watcher until renamed
    _encode(_to_16k(samples, rate), temporary, audio_format)
    os.chmod(temporary, FILE_MODE)
    os.replace(temporary, target)
    return target


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return samples.astype(np.float32)
    positions = np.arange(0, samples.size, rate / SAMPLE_RATE)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def _encode(samples: np.ndarray, path: Path, audio_format: str) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    codec = {"flac": "flac", "wav": "pcm_s16le"}[audio_format]
    with av.open(str(path), "w", format=audio_format) as container:
        stream: Any = container.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# --- the edges: sound card and terminal ------------------------------------------------------
def sound_devices() -> Any:
    """sounddevice, or a clear error saying how to get PortAudio."""
    try:
        import sounddevice
    except OSError as e:  # the Python package is there, the PortAudio library is not
        raise MicrophoneUnavailable(
            "the PortAudio library is missing: install it (Debian/Ubuntu: apt-get install libportaudio2), "
            "then try again"
        ) from e
    except ImportError as e:
        raise MicrophoneUnavailable("the sounddevice package is missing: pip install sounddevice") from e
    return sounddevice


def input_devices() -> list[tuple[int, str, int]]:
    """The sound inputs: (index, name, default sample rate)."""
    sd = sound_devices()
    return [
        (i, d["name"], int(d["default_samplerate"]))
        for i, d in enumerate(sd.query_devices())
        if d["max_input_channels"] > 0
    ]


def record(
    details: DictationDetails,
    inbox: Path,
    *,
    device: int | None,
    audio_format: str,
    keys: Callable[[], str | None],
    show: Callable[[Recording], None],
) -> Path | None:
    """Record from the microphone until the doctor stops; return where the dictation was put (None: discarded).

    ``show`` is given the recording at every tick (state, elapsed time, level) to display it.
    """
    sd = sound_devices()
    inputs = input_devices()
    if not inputs:
        raise MicrophoneUnavailable(
            "no microphone (sound input) was found on this machine; "
            "plug one in, or drop recorded files into the inbox instead"
        )
    chosen = device if device is not None else sd.default.device[0]
    if chosen is None or chosen < 0:
        chosen = inputs[0][0]
    rate = int(sd.query_devices(chosen)["default_samplerate"])
    recording = Recording(rate)
    blocks: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
    try:
        stream = sd.InputStream(
            device=chosen,
            channels=1,
            samplerate=rate,
            dtype="float32",
            callback=lambda data, _frames, _time, _status: blocks.put(data[:, 0].copy()),
        )
    except Exception as e:
        raise MicrophoneUnavailable(f"the sound input {chosen} cannot be opened ({e})") from e
    recording.start()
    with stream:
        while recording.state != "stopped":
            while not blocks.empty():  # what was heard before the key, kept or dropped as the state was then
                recording.feed(blocks.get())
            key = keys()
            if key in (" ", "p"):
                recording.toggle()
            elif key in ("\n", "\r", "s"):
                recording.stop()
            elif key in ("q", "\x1b"):
                recording.stop()
                show(recording)
                return None
            show(recording)
            time.sleep(0.05)
    return write_dictation(recording.samples(), rate, inbox, details, audio_format=audio_format)


def terminal_keys() -> tuple[Callable[[], str | None], Callable[[], None]]:
    """Read single keys from the terminal (or a pipe) without waiting; and a function that restores the terminal.

    The end of a piped input sends the dictation, as enter does.
    """
    import select

    if not sys.stdin.isatty():

        def piped() -> str | None:
            ready, _, _ = select.select([sys.stdin], [], [], 0)
            return (os.read(sys.stdin.fileno(), 1).decode(errors="replace") or "\n") if ready else None

        return piped, lambda: None
    import termios
    import tty

    descriptor = sys.stdin.fileno()
    saved = termios.tcgetattr(descriptor)
    tty.setcbreak(descriptor)

    def read() -> str | None:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        return os.read(descriptor, 1).decode(errors="replace") if ready else None

    return read, lambda: termios.tcsetattr(descriptor, termios.TCSADRAIN, saved)
