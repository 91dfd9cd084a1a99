"""Abbreviations: spelled letters joined ("H T A", "achetéa" -> HTA), then the site's policy.

Policy ``keep`` leaves abbreviations as dictated; ``expand`` writes the
expansion; ``first-use`` writes "expansion (ABBR)" the first time, then ABBR.
An ambiguous abbreviation (IR, PA, IC; MS, PE) is expanded only when the words
around it point to one meaning; otherwise it is flagged and left as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from transcribe.text.rewriting import Replacement
from transcribe.text.tokens import Token, tokenize
from transcribe.vocabulary.records import AbbreviationSense, LanguageVocabulary, fold

POLICIES = ("keep", "expand", "first-use")
CONTEXT_WORDS = 12


@dataclass(frozen=True)
class AbbreviationFlag:
    """An abbreviation to check (ambiguous, spelled doubtfully, or not to be used), on the current text."""

    start: int
    end: int
    #: a code of ``transcribe.messages.FLAGS`` and its parameters
    code: str
    params: dict[str, str]
    suggestion: str | None = None


class LetterReader:
    """Reads a word as a sequence of spoken letter names ("achetéa" -> "HTA")."""

    def __init__(self, letters: dict[str, tuple[str, ...]]) -> None:
        self._names = sorted(
            ((fold(name), letter.upper()) for letter, names in letters.items() for name in names),
            key=lambda item: -len(item[0]),
        )
        self.read = lru_cache(maxsize=20_000)(self._read)

    def _read(self, word: str) -> str | None:
        text = re.sub(r"[^a-z]", "", fold(word))
        if not text:
            return None
        best: list[str | None] = [None] * (len(text) + 1)
        best[0] = ""
        for i in range(len(text)):
            if best[i] is None:
                continue
            for name, letter in self._names:
                if text.startswith(name, i):
                    candidate = best[i] + letter  # type: ignore[operator]
                    j = i + len(name)
                    if best[j] is None or len(candidate) < len(best[j] or ""):
                        best[j] = candidate
        return best[len(text)]


@dataclass(frozen=True)
class SpelledPiece:
    """What one token contributes to a spelled abbreviation."""

    letters: str
    capitals: bool  # written as capital letters ("H", "HT")
    single: bool  # one spelled letter: "H", or a letter's name that is not an ordinary word ("hache")


def _letters_of(token: Token, reader: LetterReader, vocab: LanguageVocabulary) -> SpelledPiece | None:
    """The letters a token stands for, if it can stand for letters at all."""
    text = token.text
    if re.fullmatch(r"(?:[A-Z]\.?){1,5}", text):
        letters = text.replace(".", "")
        return SpelledPiece(letters, True, len(letters) == 1)
    if text.islower() and len(text) <= 12 and (text not in vocab.ordinary_words or len(text) <= 3):
        read = reader.read(text)
        if read:
            return SpelledPiece(read, False, len(read) == 1 and text not in vocab.ordinary_words)
    return None


def find_spelled(
    tokens: list[Token], vocab: LanguageVocabulary, reader: LetterReader
) -> tuple[list[Replacement], list[AbbreviationFlag]]:
    """Join runs of spelled letters into a known abbreviation ("H T A", "B P C O", "achetéa").

    Several tokens are joined only when every one is a single spelled letter; a run that reads
    as an abbreviation only with an ordinary word or a written abbreviation in it ("a CS", "BPC
    au") is flagged with the abbreviation as a suggestion, never joined.
    """
    words = [t for t in tokens if not t.is_punct]
    found: list[Replacement] = []
    flags: list[AbbreviationFlag] = []
    i = 0
    while i < len(words):
        best_end, best_abbreviation = -1, ""
        doubtful: tuple[int, str] | None = None
        letters = ""
        all_single = True
        for j in range(i, min(len(words), i + 6)):
            piece = _letters_of(words[j], reader, vocab)
            if piece is None:
                break
            letters += piece.letters
            all_single = all_single and piece.single
            if letters not in vocab.abbreviations or letters in vocab.do_not_use:
                continue
            if j == i:
                if not piece.capitals and not piece.single:  # one word said as letters: "achetéa"
                    best_end, best_abbreviation = j, letters
            elif all_single:
                best_end, best_abbreviation = j, letters
            else:
                doubtful = (j, letters)
        if best_end >= 0:
            end = words[best_end].end
            if text_after_is_dot(tokens, end) and text_after_is_dot(tokens, words[i].end):
                end += 1  # "H.T.A.": the last dot belongs to the abbreviation
            found.append(Replacement(words[i].start, end, best_abbreviation, "abbreviation-letters", 0.85))
            i = best_end + 1
            continue
        if doubtful is not None and not _is_plain_abbreviation_run(words, i, doubtful[0], vocab):
            last, abbreviation = doubtful
            spoken = " ".join(w.text for w in words[i : last + 1])
            flags.append(
                AbbreviationFlag(
                    words[i].start,
                    words[last].end,
                    "abbreviation-spelled",
                    {"spoken": spoken, "abbreviation": abbreviation},
                    abbreviation,
                )
            )
        i += 1
    return found, flags


def _is_plain_abbreviation_run(words: list[Token], first: int, last: int, vocab: LanguageVocabulary) -> bool:
    """Whether the run is only written abbreviations and words ("a CS", "il a un AVC"): nothing to check."""
    pieces = words[first : last + 1]
    abbreviations = [w for w in pieces if w.text in vocab.abbreviations or w.text in vocab.known_abbreviations]
    spelled = [w for w in pieces if len(w.text) == 1 and w.text.isupper()]
    return bool(abbreviations) and not spelled


def text_after_is_dot(tokens: list[Token], offset: int) -> bool:
    """Whether a dot stands right after ``offset``, with no space."""
    return any(t.start == offset and t.text == "." for t in tokens)


def choose_sense(senses: tuple[AbbreviationSense, ...], context: set[str]) -> AbbreviationSense | None:
    """The meaning the surrounding words point to; None when they point to none or to several.

    One meaning with no context words is unambiguous (the data says so): it is chosen. A meaning
    that lists context words is chosen only when one of them stands near the abbreviation.
    """
    counts = [(len({fold(w) for w in s.context} & context), s) for s in senses]
    counts.sort(key=lambda item: -item[0])
    if len(senses) == 1:
        return senses[0] if not senses[0].context or counts[0][0] else None
    if counts[0][0] == 0 or counts[0][0] == counts[1][0]:
        return None
    return counts[0][1]


def find_do_not_use(text: str, vocab: LanguageVocabulary) -> list[AbbreviationFlag]:
    """Abbreviations that must not be used in a record (QD, U, SC): flagged with what to write instead."""
    if not vocab.do_not_use:
        return []
    words = [t for t in tokenize(text) if not t.is_punct]
    folded = [fold(t.text) for t in words]
    flags = []
    for m in _do_not_use_pattern(tuple(vocab.do_not_use)).finditer(text):
        entry = vocab.do_not_use[m.group()]
        if entry.context:
            number = next((n for n, t in enumerate(words) if t.start >= m.start()), len(words))
            near = set(
                folded[max(0, number - CONTEXT_WORDS) : number] + folded[number + 1 : number + 1 + CONTEXT_WORDS]
            )
            if not {fold(w) for w in entry.context} & near:
                continue
        flags.append(
            AbbreviationFlag(
                m.start(),
                m.end(),
                "abbreviation-do-not-use",
                {"abbreviation": entry.abbreviation, "why": entry.reason, "instead": entry.write_instead},
                entry.write_instead,
            )
        )
    return flags


@lru_cache(maxsize=8)
def _do_not_use_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?:{alternatives})(?!\w|\.\w)")


def find_expansions(
    text: str, vocab: LanguageVocabulary, policy: str
) -> tuple[list[Replacement], list[AbbreviationFlag]]:
    """Replacements that apply the abbreviation policy, and the ambiguous ones to check."""
    if policy == "keep":
        return [], []
    tokens = tokenize(text)
    words = [t for t in tokens if not t.is_punct]
    folded = [fold(t.text) for t in words]
    replacements: list[Replacement] = []
    flags: list[AbbreviationFlag] = []
    seen: set[str] = set()
    for number, token in enumerate(words):
        senses = vocab.abbreviations.get(token.text)
        if not senses:
            continue
        context = set(folded[max(0, number - CONTEXT_WORDS) : number] + folded[number + 1 : number + 1 + CONTEXT_WORDS])
        unsafe = vocab.do_not_use.get(token.text)
        if unsafe is not None and (not unsafe.context or {fold(w) for w in unsafe.context} & context):
            continue  # flagged with what to write instead; never expanded
        sense = choose_sense(senses, context)
        if sense is None:
            meanings = " / ".join(s.expansion for s in senses)
            flags.append(
                AbbreviationFlag(
                    token.start, token.end, "abbreviation-ambiguous", {"abbreviation": token.text, "meanings": meanings}
                )
            )
            continue
        if _already_expanded(text, token, sense):
            seen.add(token.text)
            continue
        if policy == "expand":
            replacements.append(Replacement(token.start, token.end, sense.expansion, "abbreviation", 0.9))
        elif token.text not in seen:
            replacements.append(
                Replacement(token.start, token.end, f"{sense.expansion} ({token.text})", "abbreviation", 0.9)
            )
        seen.add(token.text)
    return replacements, flags


def _already_expanded(text: str, token: Token, sense: AbbreviationSense) -> bool:
    before = text[: token.start].rstrip()
    if before.endswith("("):
        return fold(before[:-1].rstrip()).endswith(fold(sense.expansion))
    return False
