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

from ..vocabulary import AbbreviationSense, LanguageVocabulary, fold
from .rewriting import Replacement
from .tokens import Token, tokenize

POLICIES = ("keep", "expand", "first-use")
CONTEXT_WORDS = 12


@dataclass(frozen=True)
class AbbreviationFlag:
    """An ambiguous abbreviation to check, on the current text."""

    start: int
    end: int
    reason: str


class LetterReader:
    """Reads a word as a sequence of spoken letter names ("achetéa" -> "HTA")."""

    def __init__(self, letters: dict[str, tuple[str, ...]]) -> None:
        self._names = sorted(((fold(name), letter.upper()) for letter, names in letters.items() for name in names),
                             key=lambda item: -len(item[0]))
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


def _letters_of(token: Token, reader: LetterReader, vocab: LanguageVocabulary) -> tuple[str, bool] | None:
    """The letters a token stands for, and whether it is written as letters (capitals)."""
    text = token.text
    if re.fullmatch(r"(?:[A-Z]\.?){1,5}", text):
        return text.replace(".", ""), True
    if text.islower() and len(text) <= 12 and (text not in vocab.ordinary_words or len(text) <= 3):
        letters = reader.read(text)
        if letters:
            return letters, False
    return None


def find_spelled(tokens: list[Token], vocab: LanguageVocabulary, reader: LetterReader) -> list[Replacement]:
    """Join runs of spelled letters into a known abbreviation ("B P C O", "BPC au", "achetéa")."""
    words = [t for t in tokens if not t.is_punct or t.text == "."]
    words = [t for t in words if t.text != "."]
    found: list[Replacement] = []
    i = 0
    while i < len(words):
        best_end, best_abbreviation = -1, ""
        letters = ""
        capitals = False
        for j in range(i, min(len(words), i + 6)):
            read = _letters_of(words[j], reader, vocab)
            if read is None:
                break
            letters += read[0]
            capitals = capitals or read[1]
            single_lower_word = j == i and not read[1]
            if letters in vocab.abbreviations and (j > i or single_lower_word) and (capitals or single_lower_word):
                best_end, best_abbreviation = j, letters
        if best_end >= 0:
            end = words[best_end].end
            if text_after_is_dot(tokens, end) and text_after_is_dot(tokens, words[i].end):
                end += 1  # "H.T.A.": the last dot belongs to the abbreviation
            found.append(Replacement(words[i].start, end, best_abbreviation, "abbreviation-letters", 0.85))
            i = best_end + 1
        else:
            i += 1
    return found


def text_after_is_dot(tokens: list[Token], offset: int) -> bool:
    """Whether a dot stands right after ``offset``, with no space."""
    return any(t.start == offset and t.text == "." for t in tokens)


def choose_sense(senses: tuple[AbbreviationSense, ...], context: set[str]) -> AbbreviationSense | None:
    """The meaning the surrounding words point to; None when they point to none or to several."""
    if len(senses) == 1:
        return senses[0]
    counts = [(len({fold(w) for w in s.context} & context), s) for s in senses]
    counts.sort(key=lambda item: -item[0])
    if counts[0][0] == 0 or counts[0][0] == counts[1][0]:
        return None
    return counts[0][1]


def find_expansions(text: str, vocab: LanguageVocabulary, policy: str) -> tuple[list[Replacement], list[AbbreviationFlag]]:
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
        context = set(folded[max(0, number - CONTEXT_WORDS):number] + folded[number + 1:number + 1 + CONTEXT_WORDS])
        sense = choose_sense(senses, context)
        if sense is None:
            meanings = " or ".join(s.expansion for s in senses)
            flags.append(AbbreviationFlag(token.start, token.end, f"{token.text} may mean {meanings}: check which"))
            continue
        if _already_expanded(text, token, sense):
            seen.add(token.text)
            continue
        if policy == "expand":
            replacements.append(Replacement(token.start, token.end, sense.expansion, "abbreviation", 0.9))
        elif token.text not in seen:
            replacements.append(Replacement(token.start, token.end, f"{sense.expansion} ({token.text})", "abbreviation", 0.9))
        seen.add(token.text)
    return replacements, flags


def _already_expanded(text: str, token: Token, sense: AbbreviationSense) -> bool:
    before = text[:token.start].rstrip()
    if before.endswith("("):
        return fold(before[:-1].rstrip()).endswith(fold(sense.expansion))
    return False
