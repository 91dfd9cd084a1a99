"""Spacing and capitals: the last pass, so that what the others did reads as clean text."""

from __future__ import annotations

import re
from collections.abc import Callable

from transcribe.text.rewriting import Replacement
from transcribe.vocabulary.records import LanguageVocabulary

_SPACING = [
    (re.compile(r"[ \t]{2,}"), " "),
    (re.compile(r" +(?=[,.)…])"), ""),
    (re.compile(r"(?<=\() +"), ""),
    (re.compile(r" *\n *"), None),  # spaces around a line break
    (re.compile(r"\n{3,}"), "\n\n"),
    (re.compile(r"([,;:])(?:\s*\1)+"), None),  # doubled mark
    (re.compile(r"[,;:] *(?=[.?!])"), ""),  # a weaker mark just before a stronger one
    (re.compile(r"(?<![.])\.\.(?!\.)"), "."),
    # the engine glues sentences: "cardiaque.intention" (not "amara.org", "e.g.", "3.5")
    (re.compile(r"(?<=[^\W\d_]{3})([.?!])(?=(?!(?:com|org|net|fr|html|pdf|docx)\b)[^\W\d_]{2,}\b)"), None),
]
_SENTENCE_START = re.compile(r"(?:^|[.?!…]\s+|\n\s*|^- |\n- )([^\W\d_])", re.UNICODE)
_AFTER_WEAK_MARK = re.compile(r"[,;:] (\w[\w'-]*)", re.UNICODE)


def find_spacing(text: str) -> list[Replacement]:
    """Spacing fixes: doubled spaces, spaces before a mark or around a line break, doubled marks."""
    found: list[Replacement] = []
    for pattern, replacement in _SPACING:
        for m in pattern.finditer(text):
            if replacement is None and m.group() in ".?!":
                after = m.group() + " "
            elif replacement is None:
                after = m.group().strip(" ") if "\n" in m.group() else m.group(1)
            else:
                after = replacement
            if after != m.group():
                found.append(Replacement(m.start(), m.end(), after, "spacing", 1.0))
    edge = len(text) - len(text.lstrip())
    if edge:
        found.append(Replacement(0, edge, "", "spacing", 1.0))
    tail = len(text) - len(text.rstrip())
    if tail and tail != len(text):
        found.append(Replacement(len(text) - tail, len(text), "", "spacing", 1.0))
    return found


def find_casing(text: str, vocab: LanguageVocabulary, dictated_mark: Callable[[int, int], bool]) -> list[Replacement]:
    """Capitals at sentence starts; stray capitals lowered after a dictated comma, colon or semicolon.

    ``dictated_mark(start, end)`` tells whether a mark of the text was written for a dictated command:
    only there is the engine's capital known to be a mistake (it took the command for a sentence end).
    """
    found: list[Replacement] = []
    for m in _SENTENCE_START.finditer(text):
        letter = m.group(1)
        if letter.islower():
            found.append(Replacement(m.start(1), m.end(1), letter.upper(), "casing", 1.0))
    for m in _AFTER_WEAK_MARK.finditer(text):
        word = m.group(1)
        if not (word[:1].isupper() and word[1:].islower()) or not dictated_mark(m.start(), m.start() + 1):
            continue
        lower = word.lower()
        term = vocab.term(word)
        ordinary = lower in vocab.ordinary_words and word not in vocab.abbreviations
        if (term is not None and term.kind != "brand" and term.text[:1].islower()) or (term is None and ordinary):
            if not _starts_line(text, m.start()):
                found.append(Replacement(m.start(1), m.start(1) + 1, word[0].lower(), "casing", 0.9))
    return found


def _starts_line(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    return text[line_start:offset].strip() == ""
