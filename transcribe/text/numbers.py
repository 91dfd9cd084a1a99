"""Numbers in words become digits where clinical writing uses digits; blood pressure, decimals.

Number words are parsed by text2num (``alpha2digit``), never by a hand-written
grammar. Small numbers stay words in prose ("deux enfants" is kept when text2num
keeps it) and become digits before a dose form, a unit or a duration
("un comprimé" -> "1 comprimé"). "tension à douze huit" becomes "12/8" only
after a blood-pressure word, and only when the pair is a plausible pressure.
"""

from __future__ import annotations

import difflib
import re

from text_to_num import alpha2digit

from transcribe.text.rewriting import Replacement
from transcribe.vocabulary.records import LanguageVocabulary

RULE = "number"
_SPACE_TOKEN = re.compile(r"\S+")
_SMALL = {"fr": {"un": "1", "une": "1", "deux": "2", "zéro": "0"}, "en": {"one": "1", "two": "2", "zero": "0"}}
_STRIP = ".,;:!?()«»\"'"


def find_number_words(text: str, vocab: LanguageVocabulary, unit_words: frozenset[str]) -> list[Replacement]:
    """Replacements of number words by digits (text2num), kept only where digits are clinical style."""
    converted = alpha2digit(text, vocab.language, threshold=3)
    replacements = _token_diff(text, converted)
    tokens = list(_SPACE_TOKEN.finditer(text))
    kept: list[Replacement] = []
    for rep in replacements:
        words = text[rep.start : rep.end].split()
        # a unit after a mark does not belong to the number ("un, milligrammes")
        next_word = "" if text[rep.start : rep.end].rstrip()[-1:] in ",;:.!?" else _next_word(tokens, rep.end)
        if words and words[0].lower().strip(_STRIP) == "cent" and _previous_word(text, rep.start) in ("pour", "per"):
            continue  # "pour cent" is a unit (%), not a hundred
        if words and all(w.lower().strip(_STRIP) in vocab.ambiguous_numbers for w in words):
            if next_word not in unit_words and next_word not in vocab.counted_words:
                continue  # "un bilan neuf": an ordinary word, not a number
        kept.append(rep)
    kept += _small_counted_numbers(text, tokens, vocab, unit_words)
    return kept


def _token_diff(before: str, after: str) -> list[Replacement]:
    """The replacements that turn ``before`` into ``after``, token by token."""
    old = [(m.group(), m.start(), m.end()) for m in _SPACE_TOKEN.finditer(before)]
    new = after.split()
    matcher = difflib.SequenceMatcher(a=[t for t, _, _ in old], b=new, autojunk=False)
    replacements = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or i1 == i2:
            continue
        start, end = old[i1][1], old[i2 - 1][2]
        replacements.append(Replacement(start, end, " ".join(new[j1:j2]), RULE, 0.95))
    return replacements


def _next_word(tokens: list[re.Match[str]], offset: int) -> str:
    for token in tokens:
        if token.start() >= offset:
            return token.group().lower().strip(_STRIP)
    return ""


def _previous_word(text: str, offset: int) -> str:
    words = text[:offset].split()
    return words[-1].lower().strip(_STRIP) if words else ""


def _small_counted_numbers(
    text: str, tokens: list[re.Match[str]], vocab: LanguageVocabulary, unit_words: frozenset[str]
) -> list[Replacement]:
    """Small number words text2num leaves alone: digits before a counted word, or after an index word."""
    small = _SMALL.get(vocab.language, {})
    command_starts = vocab.command_starts
    found = []
    for before, token, following in zip([None, *tokens], tokens, [*tokens[1:], None]):
        word = token.group()
        bare = word.rstrip(_STRIP)
        if bare.lower() not in small or bare != bare.lstrip(_STRIP):
            continue
        after = following.group().lower().strip(_STRIP) if following is not None else ""
        if after in ("fois", "time") and _idiom_after(text, following):
            continue  # "une fois que", "une fois qu'il", "one time or another": not a count
        if bare == word and (after in vocab.counted_words or after in unit_words):
            found.append(Replacement(token.start(), token.end(), small[bare.lower()], RULE, 0.9))
        elif (
            before is not None
            and before.group().lower() in vocab.numbered_words
            and (bare != word or (bare.lower(), after) not in command_starts)
        ):  # "deux points" is a colon
            found.append(Replacement(token.start(), token.start() + len(bare), small[bare.lower()], RULE, 0.9))
    return found


_IDIOM_AFTER_ONCE = re.compile(r"\s*(?:que\b|qu['’]|encore\b|pour toutes\b|de plus\b|or another\b)", re.IGNORECASE)


def _idiom_after(text: str, following: re.Match[str] | None) -> bool:
    return following is not None and bool(_IDIOM_AFTER_ONCE.match(text, following.end()))


_HUNDREDS_AND = re.compile(r"\b([1-9])00 and ([1-9]?\d)\b(?![.,]\d)")


def find_spoken_compounds(text: str, vocab: LanguageVocabulary) -> list[Replacement]:
    """English "100 and 40" (the engine's digits for "one hundred and forty") -> "140"."""
    if vocab.language != "en":
        return []
    return [
        Replacement(m.start(), m.end(), str(int(m.group(1)) * 100 + int(m.group(2))), RULE, 0.8)
        for m in _HUNDREDS_AND.finditer(text)
    ]


def find_decimals(text: str, vocab: LanguageVocabulary) -> list[Replacement]:
    """ "8 virgule 2" -> "8,2" (French), "8 point 2" -> "8.2" (English), when digits stand on both sides."""
    word = "virgules?|virule" if vocab.language == "fr" else "point"
    pattern = re.compile(rf"\b(\d+) (?:{word}) (\d+)\b", re.IGNORECASE)
    return [
        Replacement(m.start(), m.end(), f"{m.group(1)}{vocab.decimal_separator}{m.group(2)}", RULE, 0.9)
        for m in pattern.finditer(text)
    ]


_PAIR = {
    "fr": re.compile(r"\b(\d{1,3}) (?:sur |/ ?)?(\d{1,3})\b(?![,.]\d)"),
    # "1 30 over 80": the colloquial "one thirty over eighty" read as 1 hundred and 30
    "en": re.compile(r"\b(?:([12]) (?=\d\d over ))?(\d{1,3}) (?:over |/ ?)?(\d{1,3})\b(?![,.]\d)"),
}


def find_blood_pressures(text: str, vocab: LanguageVocabulary) -> list[Replacement]:
    """ "tension à 12 8" -> "12/8", "130 over 80" -> "130/80", after a blood-pressure word only."""
    pattern = _PAIR.get(vocab.language)
    if pattern is None:
        return []
    found = []
    for m in pattern.finditer(text):
        *hundreds, high_text, low_text = m.groups()
        high = int(high_text) + (100 * int(hundreds[0]) if hundreds and hundreds[0] else 0)
        low = int(low_text)
        if not _plausible_pressure(high, low):
            continue
        window = re.findall(r"[^\W\d_]+", text[max(0, m.start() - 40) : m.start()].lower())[-4:]
        if not set(window) & vocab.blood_pressure_words:
            continue
        found.append(Replacement(m.start(), m.end(), f"{high}/{low}", "blood-pressure", 0.9))
    return found


def _plausible_pressure(high: int, low: int) -> bool:
    if high <= low:
        return False
    return (5 <= high <= 30 and 3 <= low <= 20) or (50 <= high <= 300 and 20 <= low <= 200)


_COLLOQUIAL_HUNDREDS = re.compile(r"\b([12]) ([1-9]\d)\b(?![.,]\d| ?/| over)")


def find_colloquial_rates(text: str, vocab: LanguageVocabulary) -> list[Replacement]:
    """ "heart rate one ten" (the engine writes "1 10") -> "110", after a rate word only."""
    found = []
    for m in _COLLOQUIAL_HUNDREDS.finditer(text):
        window = re.findall(r"[^\W\d_]+", text[max(0, m.start() - 30) : m.start()].lower())[-3:]
        if not set(window) & vocab.rate_words:
            continue
        value = int(m.group(1)) * 100 + int(m.group(2))
        found.append(Replacement(m.start(), m.end(), str(value), RULE, 0.85))
    return found


_SPLIT_YEAR = re.compile(r"\b(1[89]|20) (\d\d)\b(?![.,]\d| ?/)")
_GROUPED_YEAR = re.compile(r"\b([12])[.,\u00a0\u202f ](\d{3})\b(?![.,]\d)")


def find_years(text: str, vocab: LanguageVocabulary) -> list[Replacement]:
    """Years after a year word: "in 19 58" ("nineteen fifty-eight") and "en 1.958" -> 1958."""
    found = []
    for pattern in (_SPLIT_YEAR, _GROUPED_YEAR):
        for m in pattern.finditer(text):
            year = int(m.group(1) + m.group(2))
            if not 1900 <= year <= 2099:
                continue
            before = re.findall(r"[^\W\d_]+", text[max(0, m.start() - 25) : m.start()].lower())[-2:]
            if not set(before) & vocab.year_words:
                continue
            found.append(Replacement(m.start(), m.end(), str(year), "year", 0.85))
    return found
