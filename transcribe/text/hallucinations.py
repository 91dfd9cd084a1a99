"""What the engine wrote without hearing it: subtitle credits, repetition loops, text over silence.

Whisper was trained on subtitles: on silence, noise or music it may write
"Sous-titres réalisés par la communauté d'Amara.org" or "Thanks for watching",
and on poor audio it may loop, writing the same words again and again. Such
text is removed, as an edit the secretary can undo, and flagged.

- a segment the engine itself doubts (no-speech probability above 0.6 with a
  mean log-probability below -1, Whisper's own rule), or whose text compresses
  too well (ratio above 2.4: a loop), is removed;
- a segment whose words the engine could place on no audio (three words or more,
  at least three in four of them timed 0.01 s or less; seen where it wrote on past
  the end of the speech: an earlier passage again, or invented words) is removed,
  and so is a word (never a number) written again right after itself on no audio
  ("périndopril, périndopril");
- a known phrase of ``vocab/<lang>/hallucinations.txt`` is removed;
- words repeated back to back (a run of 3 or more words, 2 more times) keep
  only their first occurrence; so do one or two words written 4 times or more
  (a list term the engine looped on; never a number), on the engine's words and
  again once spoken marks and numbers are written (``find_short_loops``: a
  "virgule" between two repeats is a comma then). The audio's scorer reads the
  engine's words without a loop's tail (``repeated_words``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from transcribe.messages import percent
from transcribe.text.rewriting import Replacement
from transcribe.text.tokens import SourceText
from transcribe.vocabulary.folding import fold, fold_with_map

NO_SPEECH_PROBABILITY = 0.6
LOW_LOG_PROBABILITY = -1.0
LOOP_COMPRESSION_RATIO = 2.4
#: a segment is removed when at least this share of its words, and at least UNPLACED_WORDS of them, were
UNPLACED_SHARE = 0.75
UNPLACED_WORDS = 3


@dataclass(frozen=True)
class Removal:
    """A span of the source to remove, and why."""

    start: int
    end: int
    kind: str
    #: a code of ``transcribe.messages.FLAGS`` and its parameters: why it was removed
    code: str
    params: dict[str, str]


def find_hallucinations(source: SourceText, phrases: tuple[str, ...]) -> list[Removal]:
    """Spans of the engine's text that were not dictated, with the reason (on the source text)."""
    removals = (
        _doubtful_segments(source)
        + _unplaced_segments(source)
        + _unplaced_repeats(source)
        + _known_phrases(source.text, phrases)
        + _repeats(source.text)
    )
    removals.sort(key=lambda r: (r.start, -(r.end - r.start)))
    kept: list[Removal] = []
    for removal in removals:
        if kept and removal.start < kept[-1].end:
            continue
        kept.append(removal)
    return kept


def as_replacements(text: str, removals: list[Removal]) -> list[Replacement]:
    """Replacements that cut the removals out, spaces included."""
    out = []
    for r in removals:
        start, end = r.start, r.end
        while start > 0 and text[start - 1] == " ":
            start -= 1
        out.append(Replacement(start, end, "", "hallucination", 0.8))
    return out


def _doubtful_segments(source: SourceText) -> list[Removal]:
    found = []
    for start, end, no_speech, log_probability, ratio in source.segments:
        words = re.findall(r"\w+", fold(source.text[start:end]))  # folded slice by slice: no offset moves
        if (
            no_speech > 0.5
            and len(words) >= 4
            and " ".join(words) in " ".join(re.findall(r"\w+", fold(source.text[:start])))
        ):
            found.append(
                Removal(
                    start,
                    end,
                    "repetition",
                    "hallucination-repeated-passage",
                    {"no_speech": percent(no_speech)},
                )
            )
        elif no_speech > NO_SPEECH_PROBABILITY and log_probability < LOW_LOG_PROBABILITY:
            found.append(
                Removal(
                    start,
                    end,
                    "hallucination",
                    "hallucination-silence",
                    {"no_speech": percent(no_speech)},
                )
            )
        elif ratio > LOOP_COMPRESSION_RATIO:
            found.append(
                Removal(
                    start,
                    end,
                    "repetition",
                    "hallucination-loop-segment",
                    {"ratio": f"{ratio:.1f}"},
                )
            )
    return found


def _unplaced_segments(source: SourceText) -> list[Removal]:
    """Segments whose words the engine placed on no audio: seen where it wrote on past the end of the speech
    (an earlier passage again, or invented words), on CUDA float16 more often than on the CPU."""
    found = []
    word = 0
    for start, end, *_ in source.segments:  # segments and words both in text order: one walk
        while word < len(source.word_spans) and source.word_spans[word][0] < start:
            word += 1
        inside = []
        while word < len(source.word_spans) and source.word_spans[word][0] < end:
            inside.append(word)
            word += 1
        unplaced = sum(1 for i in inside if source.unplaced(i, i))
        if unplaced >= UNPLACED_WORDS and unplaced >= UNPLACED_SHARE * len(inside):
            found.append(
                Removal(
                    start,
                    end,
                    "hallucination",
                    "hallucination-unplaced",
                    {"unplaced": str(unplaced), "words": str(len(inside))},
                )
            )
    return found


def _unplaced_repeats(source: SourceText) -> list[Removal]:
    """A word written again right after itself, the second time on no audio: one was heard, at most."""
    found = []
    previous = ""
    for number, (start, end) in enumerate(source.word_spans):
        word = fold(source.text[start:end]).strip(".,;:!?…«»\"()[]'’- ")
        if any(c.isdigit() for c in word):
            previous = ""  # a number is the number pass's: "12,5" then "125" are two values, never a repeat
            continue
        if len(word) >= 3 and word == previous and source.unplaced(number, number):
            found.append(
                Removal(start, end, "repetition", "hallucination-unplaced-repeat", {"word": source.text[start:end]})
            )
        previous = word
    return found


def _known_phrases(text: str, phrases: tuple[str, ...]) -> list[Removal]:
    pattern = _phrase_pattern(phrases)
    if pattern is None:
        return []
    folded = fold_with_map(text)  # matched on the folded copy, cut on the text through its map
    removals = []
    for m in pattern.finditer(folded.text):
        start, end = folded.original(m.start(), m.end())
        removals.append(
            Removal(
                start,
                end,
                "hallucination",
                "hallucination-phrase",
                {"phrase": text[start:end]},
            )
        )
    return removals


@lru_cache(maxsize=8)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One expression for every known phrase (folded, any punctuation between the words)."""
    alternatives = []
    for phrase in sorted(phrases, key=len, reverse=True):
        words = re.findall(r"\w+", fold(phrase))
        if words:
            alternatives.append(r"[\W_]*".join(re.escape(w) for w in words))
    if not alternatives:
        return None
    return re.compile(
        r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)(?:[ \u00a0\u202f]?[.!…])*"
    )  # its own end marks, French-spaced or not


_WORD = re.compile(r"\S+")
_LETTER = re.compile(r"\w")
_NON_WORD = re.compile(r"[^\w]")


def find_short_loops(text: str) -> list[Removal]:
    """One or two words written 4 times or more back to back ("ibuprofen, ibuprofen, ibuprofen, ibuprofen":
    a list term the engine looped on), never a number; "very, very, very" is speech. Run on the text once
    spoken marks and numbers are written (a "virgule" between two repeats is a comma then), so that the
    clean text has none left to find."""
    return _loops(text, 1, 2)


def repeated_words(source: SourceText) -> tuple[int, ...]:
    """The words of the engine's text that a loop repeats (every occurrence after the first), as the layer
    removes them; the audio's scorer reads the text without them (a loop's tail would vote for its head)."""
    loops = _repeats(source.text)
    repeated = []
    for index, (a, b) in enumerate(source.word_spans):
        letters = _LETTER.search(source.text, a, b)
        if letters is not None and any(r.start <= letters.start() < r.end for r in loops):
            repeated.append(index)
    return tuple(repeated)


def _repeats(text: str) -> list[Removal]:
    """Every loop of the text: runs of 3 words or more, and one or two words written 4 times or more."""
    return _loops(text) + _loops(text, 1, 2)


def _is_loop(unit: list[str], repeats: int) -> bool:
    """Whether words said back to back this many times are a loop: a run of 3 words or more said 3 times (2 from
    5 words); one or two words said 4 times or more, never a number."""
    if len(unit) <= 2:
        return repeats >= 4 and not any(any(c.isdigit() for c in key) for key in unit)
    return repeats >= 3 or (repeats >= 2 and len(unit) >= 5)


def _loops(text: str, min_words: int = 3, max_words: int = 12) -> list[Removal]:
    # marks written apart (" , ") are not words: "patient patient , patient" is the same loop as with the comma
    # joined, so that the clean text has no loop left to find (the layer is idempotent)
    words = [(m.start(), m.end(), key) for m in _WORD.finditer(text) if (key := _NON_WORD.sub("", fold(m.group())))]
    keys = [w[2] for w in words]
    found: list[Removal] = []
    i = 0
    while i < len(words):
        best = None
        for size in range(min_words, max_words + 1):
            if i + 2 * size > len(words):
                break
            if keys[i] != keys[i + size]:
                continue  # no repeat of this size starts here
            unit = keys[i : i + size]
            if not all(unit):
                continue
            repeats = 1
            while keys[i + repeats * size : i + (repeats + 1) * size] == unit:
                repeats += 1
            if _is_loop(unit, repeats) and (best is None or size * repeats > best[0] * best[1]):
                best = (size, repeats)
        if best is None:
            i += 1
            continue
        size, repeats = best
        first_end = words[i + size - 1][1]
        last_start, last_end = words[i + repeats * size - 1][:2]
        trailing = len(text[last_start:last_end]) - len(text[last_start:last_end].rstrip(".,;:!?…"))
        last_end -= trailing  # the mark that ends the last repeat ends the sentence: keep it
        found.append(
            Removal(
                first_end,
                last_end,
                "repetition",
                "hallucination-loop",
                {"size": str(size), "repeats": str(repeats)},
            )
        )
        i += repeats * size
    return found
