"""The audio as the judge of a drug correction.

When the text layer would write a medicine in place of a word but has no evidence for
it (the engine heard the word clearly, or the word is unknown), the words around it
are decoded again, this clip alone, with the medicine given to the engine as a hotword.
Only when the engine then writes the medicine itself, with a word probability of at
least ``MIN_PROBABILITY``, is the correction made: an edit whose rule is ``term-audio``.
Otherwise the word stays as heard and flagged. A hotword can make the engine write a
word it did not hear, which is why the threshold is high and measured
(``bench/bench_biasing.py`` prints the confirmations against the references).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .asr import DecodeOptions, SpeechRecognizer
from .audio import DecodedAudio
from .folding import fold
from .records import Transcript
from .text.pipeline import AudioDoubt
from .text.tokens import source_of

log = logging.getLogger(__name__)

#: the engine must write the candidate with at least this word probability (measured on the dev corpus)
MIN_PROBABILITY = 0.8
#: at least this many seconds of audio on each side of the doubtful word (the engine needs the words
#: around it: a clip cut close to the word is misheard more, measured on the dev corpus)
PADDING_S = 3.0
#: at most this many words re-decoded per dictation (each costs one pass of the encoder)
MAX_DOUBTS = 8


@dataclass(frozen=True)
class Verdict:
    """What the audio said about one doubt."""

    doubt: AudioDoubt
    confirmed: bool
    written: str
    probability: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, kept in the transcript's options."""
        return {
            "heard": self.doubt.heard,
            "candidate": self.doubt.candidate,
            "confirmed": self.confirmed,
            "written": self.written,
            "probability": round(self.probability, 3),
        }


def judge(
    recognizer: SpeechRecognizer,
    audio: DecodedAudio,
    transcript: Transcript,
    doubts: list[AudioDoubt],
    options: DecodeOptions,
    *,
    min_probability: float = MIN_PROBABILITY,
) -> list[Verdict]:
    """Decode the clip of each doubtful word again with its candidate as a hotword, and judge."""
    source = source_of(transcript)
    words = transcript.words
    verdicts = []
    for doubt in doubts[:MAX_DOUBTS]:
        times = [
            (w.start_s, w.end_s) for (a, b), w in zip(source.word_spans, words) if a < doubt.end and b > doubt.start
        ]
        if not times:
            continue
        start_s, end_s = max(0.0, times[0][0] - PADDING_S), min(transcript.duration_s, times[-1][1] + PADDING_S)
        heard = recognizer.transcribe_clip(
            audio,
            start_s,
            end_s,
            DecodeOptions(
                language=transcript.language, beam_size=options.beam_size, vad_filter=False, hotwords=doubt.candidate
            ),
        )
        written, probability = best_match(heard, doubt.candidate)
        verdicts.append(Verdict(doubt, bool(written) and probability >= min_probability, written, probability))
    return verdicts


def best_match(words: list[tuple[str, float]], candidate: str) -> tuple[str, float]:
    """The run of words that spells the candidate (accents and case aside), and its lowest probability."""
    target = _letters(candidate)
    size = len(candidate.split())
    best = ("", 0.0)
    for start in range(len(words)):
        for length in range(1, size + 3):
            run = words[start : start + length]
            if len(run) < length:
                break
            joined = "".join(_letters(w) for w, _ in run)
            if joined == target:
                probability = min(p for _, p in run)
                if probability > best[1]:
                    best = (" ".join(w.strip() for w, _ in run), probability)
            if len(joined) >= len(target):
                break
    return best


def _letters(text: str) -> str:
    return "".join(c for c in fold(text) if c.isalnum())
