"""Make audio files of every format a dictaphone produces, from samples, with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from transcribe.speech.audio import decode_dictation

#: extension -> (container format, codec, sample rate or None to keep)
FORMATS: dict[str, tuple[str, str, int | None]] = {
    ".wav": ("wav", "pcm_s16le", None),
    ".mp3": ("mp3", "libmp3lame", None),
    ".m4a": ("ipod", "aac", None),
    ".ogg": ("ogg", "libopus", 16000),
    ".opus": ("ogg", "libopus", 16000),
    ".flac": ("flac", "flac", None),
    ".aiff": ("aiff", "pcm_s16be", None),
    ".amr": ("amr", "libopencore_amrnb", 8000),
    ".wma": ("asf", "wmav2", None),
}


def clip_samples(path: Path) -> np.ndarray:
    """A clip's samples at 16 kHz mono, as int16."""
    return (decode_dictation(path).samples * 32767).astype(np.int16)


def write_audio(samples: np.ndarray, target: Path, *, rate: int = 16000, channels: int = 1) -> Path:
    """Encode int16 samples (shape (n,) or (channels, n)) into the format the extension names."""
    fmt, codec, forced_rate = FORMATS[target.suffix.lower()]
    layout = "mono" if channels == 1 else "stereo"
    planar = samples.reshape(channels, -1)
    interleaved = planar.T.reshape(1, -1).copy()
    out_rate = forced_rate or rate
    with av.open(str(target), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=out_rate, layout=layout if codec != "libopencore_amrnb" else "mono")
        if codec == "libopencore_amrnb":
            stream.bit_rate = 12200
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=stream.layout.name, rate=out_rate)
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = 0
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return target
