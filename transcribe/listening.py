"""The copy of a dictation the review screen plays: 16 kHz mono WAV, on the timeline of its transcript.

Every format a recorder produces (DSS, AMR, WMA...) plays in the browser this way, and the word
times of the transcript match it exactly. The worker writes it beside the draft, from the samples
it has just decoded (``Worker.finish``), so that opening a dictation plays at once, however long it
is. A job drafted before that, or whose copy is gone, gets one made from the archived original on
first use. The original is never touched.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .atomic import write_atomic_chunks
from .audio import SAMPLE_RATE, decode_dictation
from .records import Job

LISTENING_COPY = "listen.wav"
_CHUNK = 1 << 20  # samples converted at a time: a two-hour dictation is never copied whole


def listening_copy_path(folder: Path) -> Path:
    """Where the listening copy of a job lies, in its drafts folder."""
    return folder / LISTENING_COPY


def write_listening_copy(folder: Path, samples: np.ndarray) -> Path:
    """Write the listening copy of decoded samples (float, -1 to 1) into a job's drafts folder, atomically."""
    return write_atomic_chunks(listening_copy_path(folder), _wav(samples))


def listening_copy(job: Job, folder: Path) -> Path:
    """The WAV to play for a job; made from its archived original if the worker did not leave one."""
    target = listening_copy_path(folder)
    if target.is_file():
        return target
    return write_listening_copy(folder, decode_dictation(job.audio_path).samples)


def _wav(samples: np.ndarray) -> Iterator[bytes]:
    size = samples.size * 2
    yield b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE"
    yield b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    yield b"data" + struct.pack("<I", size)
    for start in range(0, samples.size, _CHUNK):
        chunk = samples[start : start + _CHUNK]
        yield (np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes()
