"""Folding text for comparison (lower case, no accents), with the map back to the original.

Terms, headings and phrases are compared on a folded copy of the text. Folding
can change the length of a text: "œ" becomes "oe", a combining accent typed
after its letter disappears, "İ" lowers to two characters. An offset found on
the folded copy must therefore be mapped back through ``FoldedText.original``
before it cuts the original text; using it directly shifts every later cut.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: the combining diacritics that NFD separates from Latin, Greek and Cyrillic letters
_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LIGATURES = {"œ": "oe", "æ": "ae"}


def _fold_character(character: str) -> str:
    lowered = "".join(_LIGATURES.get(c, c) for c in character.lower())
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFD", lowered))


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each code point, filled on first sight."""

    def __missing__(self, code: int) -> str:
        folded = _fold_character(chr(code))
        self[code] = folded
        return folded


_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower-case, accents removed, character by character: the key under which terms are compared."""
    if text.isascii():
        return text.lower()
    return text.translate(_TABLE)


@dataclass(frozen=True)
class FoldedText:
    """A folded copy of a text and, for each of its positions, the position in the original."""

    original_text: str
    text: str
    #: ``origin[i]`` is where the character ``text[i]`` came from; ``origin[len(text)]`` is ``len(original_text)``
    origin: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that a span of the folded copy came from."""
        begin = self.origin[start]
        if start >= end:
            return begin, begin
        # rounded outwards: a span that ends inside the expansion of one character ("œ" -> "oe")
        # takes the whole character; combining marks after the last letter go with it
        last = self.origin[end - 1]
        finish = self.origin[end] if self.origin[end] > last else last + 1
        return begin, finish

    def original_slice(self, start: int, end: int) -> str:
        """The original characters behind a span of the folded copy."""
        a, b = self.original(start, end)
        return self.original_text[a:b]


def fold_with_map(text: str) -> FoldedText:
    """Fold a text and keep the map from the folded positions back to the original ones."""
    if text.isascii():
        return FoldedText(text, text.lower(), tuple(range(len(text) + 1)))
    pieces: list[str] = []
    origin: list[int] = []
    for index, character in enumerate(text):
        folded = _TABLE[ord(character)]
        pieces.append(folded)
        origin.extend([index] * len(folded))
    origin.append(len(text))
    return FoldedText(text, "".join(pieces), tuple(origin))
