"""The copy of a dictation the review screen plays: 16 kHz mono WAV, the timeline of the transcript.

Every format a recorder produces (DSS, AMR, WMA...) plays in the browser this
way, and the word times of the transcript match it exactly. Made once per job,
next to its draft, from the archived original (which is never touched).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..audio import SAMPLE_RATE, decode_dictation
from ..records import Job


def listening_copy(job: Job, folder: Path) -> Path:
    """The WAV to play for a job, made if it is not there yet."""
    target = folder / "listen.wav"
    if target.is_file():
        return target
    audio = decode_dictation(job.audio_path)
    pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    write_atomic(target, buffer.getvalue())
    return target
