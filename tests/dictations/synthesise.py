"""Synthesise the test dictations from their scripts with espeak-ng and Debian's mbrola voices.

Each line of ``scripts.jsonl`` is one dictation: ``id``, ``lang``, ``voice``
(an espeak-ng voice such as ``mb-fr1``, ``mb-fr4`` or ``mb-us1``), ``speed``
(words per minute, optional), ``spoken`` (what the doctor says, dictated
punctuation included) and ``reference`` (the text the secretary should get).
Audio is written as Ogg/Opus at 16 kHz mono to ``audio/<id>.opus``.

Needs: apt-get install espeak-ng mbrola mbrola-fr1 mbrola-fr4 mbrola-us1
(the mbrola voices live in Debian's contrib and non-free components).

Usage: python tests/dictations/synthesise.py [--force] [ID...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts.jsonl"
AUDIO = HERE / "audio"


def load_scripts() -> list[dict]:
    """Every dictation script, in file order."""
    return [json.loads(line) for line in SCRIPTS.read_text().splitlines() if line.strip()]


def speak(text: str, voice: str, speed: int) -> tuple[np.ndarray, int]:
    """The samples espeak-ng produces for ``text`` (int16 mono) and their rate."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", wav.name, text], check=True)
        with av.open(wav.name) as container:
            stream = container.streams.audio[0]
            frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
            return np.concatenate(frames), stream.rate


def write_opus(samples: np.ndarray, rate: int, target: Path, bit_rate: int = 24000) -> None:
    """Encode int16 mono samples as Ogg/Opus, resampled to 16 kHz."""
    with av.open(str(target), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=16000, layout="mono")
        stream.bit_rate = bit_rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="only these dictations")
    parser.add_argument("--force", action="store_true", help="synthesise again even if the audio exists")
    args = parser.parse_args()
    AUDIO.mkdir(exist_ok=True)
    for script in load_scripts():
        if args.ids and script["id"] not in args.ids:
            continue
        target = AUDIO / f"{script['id']}.opus"
        if target.exists() and not args.force:
            continue
        samples, rate = speak(script["spoken"], script["voice"], int(script.get("speed", 140)))
        silence = np.zeros(rate // 2, dtype=np.int16)
        write_opus(np.concatenate([silence, samples, silence]), rate, target)
        print(f"{target.relative_to(HERE)}  {len(samples) / rate:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
