"""Decoding dictations of every format, and refusing bad files with a reason."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from transcribe.errors import AudioUnreadable, InputError, UnsupportedFormat
from transcribe.speech.audio import SAMPLE_RATE, decode_dictation

from .audio_files import FORMATS, clip_samples, write_audio
from .conftest import dictation


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return clip_samples(dictation("fr-mg-001"))


@pytest.mark.parametrize("extension", sorted(FORMATS.keys() - {".wma"}))
def test_every_recorder_format_decodes_to_16k_mono(tmp_path: Path, speech: np.ndarray, extension: str) -> None:
    path = write_audio(speech, tmp_path / f"dictation{extension}")
    audio = decode_dictation(path)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.duration_s - speech.size / SAMPLE_RATE) < 0.15
    assert np.abs(audio.samples).max() > 0.05  # speech, not silence


def test_stereo_is_mixed_down_and_a_silent_channel_keeps_the_speech(tmp_path: Path, speech: np.ndarray) -> None:
    stereo = np.stack([speech, np.zeros_like(speech)])
    audio = decode_dictation(write_audio(stereo, tmp_path / "stereo.wav", channels=2))
    assert audio.source_channels == 2
    assert abs(audio.duration_s - speech.size / SAMPLE_RATE) < 0.05
    assert np.abs(audio.samples).max() > 0.02


def test_telephone_audio_at_8k_is_resampled(tmp_path: Path, speech: np.ndarray) -> None:
    narrow = speech[::2].copy()
    audio = decode_dictation(write_audio(narrow, tmp_path / "phone.wav", rate=8000))
    assert audio.source_rate == 8000
    assert abs(audio.duration_s - narrow.size / 8000) < 0.05


def _damage(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda d, s: (d / "empty.wav", (d / "empty.wav").write_bytes(b""))[0], AudioUnreadable, "empty"),
        (lambda d, s: (d / "notes.wav", (d / "notes.wav").write_text("Compte rendu de consultation\n" * 50))[0],
         AudioUnreadable, "not an audio file"),
        (lambda d, s: (d / "photo.mp3", (d / "photo.mp3").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40))[0],
         AudioUnreadable, "not an audio file|no audio stream"),
        (lambda d, s: _damage(write_audio(s, d / "cut.m4a"), 0.5), AudioUnreadable, "cut.m4a"),
        (lambda d, s: _damage(write_audio(s, d / "cut.wav"), 0.4), AudioUnreadable, "truncated"),
        (lambda d, s: (d / "olympus.ds2", (d / "olympus.ds2").write_bytes(b"\x03ds2" + bytes(2000)))[0],
         UnsupportedFormat, "DS2"),
    ],
    ids=["zero-byte", "text-named-wav", "image-named-mp3", "truncated-m4a", "truncated-wav", "ds2"],
)
def test_bad_files_raise_an_input_error_with_a_reason(tmp_path: Path, speech: np.ndarray, make, error, message) -> None:
    path = make(tmp_path, speech)
    with pytest.raises(error, match=message) as raised:
        decode_dictation(path)
    assert path.name in str(raised.value)
    assert raised.value.hint  # says what to do


def test_a_file_without_an_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 40, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(InputError, match="no audio stream"):
        decode_dictation(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioUnreadable, match="cannot be read"):
        decode_dictation(tmp_path / "gone.wav")
