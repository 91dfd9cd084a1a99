"""Decode a dictation file into 16 kHz mono samples, through PyAV (FFmpeg).

Anything FFmpeg reads is accepted: WAV, MP3, M4A/AAC, OGG/Opus, FLAC, AIFF,
AMR, WMA and Olympus DSS. Olympus/Philips DS2 is encrypted or proprietary
and FFmpeg cannot decode it; it is recognised and refused with a hint.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from transcribe.errors import AudioUnreadable, InputError, UnsupportedFormat

SAMPLE_RATE = 16000

_DS2_MAGIC = b"\x03ds2"


@dataclass(frozen=True)
class DecodedAudio:
    """A dictation's samples at 16 kHz mono, and what the file held."""

    samples: np.ndarray
    duration_s: float
    source_rate: int
    source_channels: int
    codec: str


#: A dictation longer than this is refused (a recorder left running, or not a dictation).
MAX_DURATION_S = 2 * 3600
#: Speech quieter than this (peak, full scale 1.0) is raised, so that the engine and the VAD hear it.
QUIET_PEAK = 0.1
TARGET_PEAK = 0.5


def decode_dictation(path: Path, name: str | None = None, *, max_duration_s: float = MAX_DURATION_S) -> DecodedAudio:
    """Decode a dictation file, or raise an ``InputError`` that says what is wrong with it.

    ``name`` is how messages call the file (its original name, not the archive's).
    """
    try:
        return _decode_file(path, max_duration_s)
    except InputError as e:
        if name is None or name == path.name:
            raise
        raise type(e)(str(e).replace(path.name, name, 1), hint=e.hint) from e


def _decode_file(path: Path, max_duration_s: float = MAX_DURATION_S) -> DecodedAudio:
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(4)
    except OSError as e:
        raise AudioUnreadable(f"{path.name}: cannot be read ({e.strerror})") from e
    if size == 0:
        raise AudioUnreadable(
            f"{path.name}: the file is empty (0 bytes)", hint="copy the dictation again from the recorder"
        )
    if head == _DS2_MAGIC or path.suffix.lower() == ".ds2":
        raise UnsupportedFormat(
            f"{path.name}: DS2 dictations (Olympus/Philips) cannot be decoded here",
            hint="convert it to DSS, WAV or MP3 with the recorder's software (ODMS or SpeechExec) and drop it again",
        )
    if head == b"RIFF":
        _check_wav_length(path, size)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise AudioUnreadable(f"{path.name}: not an audio file that can be read ({_reason(e)})") from e
    try:
        return _decode(container, path, max_duration_s)
    finally:
        container.close()


def _decode(container: av.container.InputContainer, path: Path, max_duration_s: float) -> DecodedAudio:
    if not container.streams.audio:
        raise AudioUnreadable(f"{path.name}: the file holds no audio stream", hint="check that the right file was sent")
    stream = container.streams.audio[0]
    declared = _declared_duration(container, stream)
    if declared is not None and declared > max_duration_s:
        raise _too_long(path.name, declared, max_duration_s)
    limit = int(max_duration_s * SAMPLE_RATE)
    kept = 0
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    try:
        for frame in container.decode(stream):
            for resampled in resampler.resample(frame):
                chunks.append(resampled.to_ndarray().reshape(-1))
                kept += chunks[-1].size
            if kept > limit:
                raise _too_long(path.name, kept / SAMPLE_RATE, max_duration_s)
        for resampled in resampler.resample(None):
            chunks.append(resampled.to_ndarray().reshape(-1))
    except (av.FFmpegError, ValueError) as e:
        decoded_s = sum(len(c) for c in chunks) / SAMPLE_RATE
        raise AudioUnreadable(
            f"{path.name}: the audio is damaged after {decoded_s:.1f} s ({_reason(e)}); the file may be truncated"
        ) from e
    finally:
        gc.collect()  # PyAV frames hold native buffers; free them before the engine runs
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    if pcm.size == 0:
        raise AudioUnreadable(f"{path.name}: no audio could be decoded from the file")
    samples = _raise_quiet_speech(pcm.astype(np.float32) / 32768.0)
    duration_s = samples.size / SAMPLE_RATE
    declared_s = _declared_duration(container, stream)
    if declared_s is not None and declared_s > 2.0 and duration_s < 0.9 * declared_s - 1.0:
        raise AudioUnreadable(
            f"{path.name}: only {duration_s:.1f} s of the declared {declared_s:.1f} s could be decoded; "
            "the file is truncated"
        )
    codec = stream.codec_context.name if stream.codec_context else "unknown"
    return DecodedAudio(samples, duration_s, stream.rate or 0, stream.channels or 0, codec)


def _raise_quiet_speech(samples: np.ndarray) -> np.ndarray:
    """Very quiet speech (a recorder far from the mouth) is raised to a level the engine hears; silence stays silent."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if 0.002 < peak < QUIET_PEAK:
        return samples * (TARGET_PEAK / peak)
    return samples


class TooLong(AudioUnreadable):
    """A recording too long to be a dictation."""

    kind = "too-long"
    hint = "split the recording into dictations of less than two hours (a recorder left running?)"


def _too_long(name: str, duration_s: float, limit_s: float) -> TooLong:
    return TooLong(
        f"{name}: {duration_s / 3600:.1f} hours of audio is too long for a dictation "
        f"(at most {limit_s / 3600:.0f} hours)"
    )


def _check_wav_length(path: Path, size: int) -> None:
    """Refuse a WAV file whose data chunk is shorter than its header says (a cut copy).

    FFmpeg quietly decodes what is there; a dictation missing its end must not.
    """
    with path.open("rb") as stream:
        header = stream.read(min(size, 1 << 16))
    offset = 12
    while offset + 8 <= len(header):
        chunk, length = header[offset : offset + 4], int.from_bytes(header[offset + 4 : offset + 8], "little")
        if chunk == b"data":
            present = size - offset - 8
            if length not in (0, 0xFFFFFFFF) and present < length - 1:
                raise AudioUnreadable(
                    f"{path.name}: the file is truncated: it holds {present} of the {length} bytes of audio "
                    "its header announces",
                    hint="copy the dictation again from the recorder; the copy was cut short",
                )
            return
        offset += 8 + length + (length & 1)


def _declared_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(":")[0].strip() if text else type(error).__name__
