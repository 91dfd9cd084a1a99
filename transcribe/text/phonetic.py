"""Phonetic keys: words that sound alike in a language share one ("miocard", "myocarde").

Used to find lexicon terms near a misheard word (``transcribe.text.term_index``) and to tell a word
written another way from another word (``transcribe.text.evidence``). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jellyfish

from transcribe.vocabulary.folding import fold


def french_key(word: str) -> str:
    """A rough French phonetic key: words that sound alike share it ("miocard", "myocarde")."""
    w = re.sub(r"[^a-z]", "", fold(word))
    for pattern, replacement in _FRENCH_RULES:
        w = pattern.sub(replacement, w)
    w = re.sub(r"(.)\1+", r"\1", w)
    return w


_FRENCH_RULES = [
    (re.compile(p), r)
    for p, r in [
        (r"ph", "f"),
        (r"th", "t"),
        (r"rh", "r"),
        (r"ch(?=[rl])", "k"),
        (r"ch", "S"),
        (r"qu|q|ck", "k"),
        (r"sc(?=[eiy])", "s"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"gu(?=[eiy])", "g"),
        (r"g(?=[eiy])", "j"),
        (r"gn", "n"),
        (r"x", "ks"),
        (r"y", "i"),
        (r"w", "v"),
        (r"h", ""),
        (r"eau|au", "o"),
        (r"ai|ei", "e"),
        (r"ou", "u"),
        (r"(?<=[aeiou])s(?=[aeiou])", "z"),
        (r"(?:an|en|am|em)(?![aeiou])", "A"),
        (r"(?:ain|ein|in|im|un)(?![aeiou])", "I"),
        (r"(?:er|ez|et)$", "e"),
        (r"e$", ""),
        (r"(?<=.)[sxtdz]$", ""),
    ]
]


def english_key(word: str) -> str:
    """An English phonetic key (metaphone)."""
    letters = re.sub(r"[^a-z]", "", fold(word))
    return jellyfish.metaphone(letters) if letters else ""


def key_of_language(language: str) -> Callable[[str], str]:
    """The phonetic key of a language (French rules for "fr", metaphone otherwise)."""
    return french_key if language == "fr" else english_key
