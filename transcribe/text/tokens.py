"""The source text of a transcript, and the words of a text with their places."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from transcribe.records import Transcript

_WORD = re.compile(
    r"(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’](?=[^\W\d_])"  # French elision: d'|HTA, l'|examen
    r"|[^\W_]+(?:[-'’][^\W_]+)*'?|\d+(?:[.,/]\d+)*|[^\w\s]",
    re.UNICODE | re.IGNORECASE,
)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
#: a word the engine timed at most this long (seconds: half of its 20-ms step) was placed on no audio
UNPLACED_WORD_S = 0.01


class Token(NamedTuple):
    """A word, number or punctuation mark of the current text, with its span (a tuple: made by the thousand)."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        """The token in lower case."""
        return self.text.lower()

    @property
    def is_punct(self) -> bool:
        """Whether the token is punctuation (no letter, no digit)."""
        return _LETTER_OR_DIGIT.search(self.text) is None

    @property
    def is_number(self) -> bool:
        """Whether the token is a number written in digits (12, 8,2, 0.5)."""
        return bool(_NUMBER.match(self.text))


def tokenize(text: str) -> list[Token]:
    """Words, numbers and punctuation marks of a text, in order."""
    return [Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class SourceText:
    """The engine's text of a transcript, and for each word its span and confidence."""

    text: str
    word_spans: tuple[tuple[int, int], ...]
    probabilities: tuple[float, ...]
    #: each segment of the engine: span in the text, no-speech probability, mean log-probability, compression ratio
    segments: tuple[tuple[int, int, float, float, float], ...] = ()
    #: for each word, the seconds of audio the engine placed it on (its end minus its start)
    durations: tuple[float, ...] = ()

    def unplaced(self, first: int, last: int) -> bool:
        """Whether the engine placed words ``first`` to ``last`` on no audio (False where word times are unknown)."""
        if len(self.durations) != len(self.word_spans) or not 0 <= first <= last < len(self.durations):
            return False
        return all(d <= UNPLACED_WORD_S for d in self.durations[first : last + 1])

    def probability_at(self, start: int, end: int) -> float:
        """The lowest engine confidence of the words that overlap this span (1.0 where unknown)."""
        lowest = 1.0
        for (a, b), p in zip(self.word_spans, self.probabilities):
            if a >= end:
                break
            if b > start:
                lowest = min(lowest, p)
        return lowest


def source_of(transcript: Transcript) -> SourceText:
    """The source text the edits refer to: the engine's words joined as it spaced them."""
    spans: list[tuple[int, int]] = []
    probabilities: list[float] = []
    durations: list[float] = []
    parts: list[str] = []
    position = 0
    if not transcript.words:
        return SourceText(transcript.text, (), ())
    segments: list[tuple[int, int, float, float, float]] = []
    for segment in transcript.segments:
        segment_start = position
        for number, word in enumerate(segment.words):
            piece = re.sub(r"\s+", " ", word.text)
            if not parts:
                piece = piece.lstrip()
            elif number == 0 and not piece[:1].isspace():
                piece = " " + piece  # a new segment starts a new word
            leading = len(piece) - len(piece.lstrip())
            spans.append((position + leading, position + len(piece)))
            probabilities.append(word.probability)
            durations.append(max(0.0, word.end_s - word.start_s))
            parts.append(piece)
            position += len(piece)
        if segment.words:
            text_so_far = "".join(parts)
            start = segment_start + (len(text_so_far[segment_start:]) - len(text_so_far[segment_start:].lstrip()))
            segments.append((start, position, segment.no_speech_prob, segment.avg_logprob, segment.compression_ratio))
    return SourceText("".join(parts), tuple(spans), tuple(probabilities), tuple(segments), tuple(durations))
