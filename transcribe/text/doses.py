"""Doses checked against what is plausible for the drug itself, not only for the unit.

"warfarine 50 mg" is a plausible milligram value but ten times the highest usual dose
of warfarin. After a dose of a medicine listed in ``vocab/<lang>/dose-ranges.tsv``
(named by its generic name or one of its brands, a few words before the dose), the value
is compared with the highest usual adult dose per take, and per day when the dictation
says how often ("par jour", "twice daily"). A dose above it is flagged, never changed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from transcribe.text.tokens import tokenize
from transcribe.text.units import ValueFlag, parse_number
from transcribe.vocabulary.records import DoseRange, LanguageVocabulary

#: how far before a dose its drug is looked for (words)
DRUG_WINDOW = 5
_TO_MILLIGRAMS = {"mg": 1.0, "g": 1000.0, "µg": 0.001, "mcg": 0.001}
_DOSE = re.compile(
    r"(?<![\w,.])(?P<number>\d{1,3}(?:[  .]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)\s?"
    r"(?P<unit>mg|g|µg|mcg)(?![\w/])"
)
_STOP = re.compile(r"[.;:!?\n]")


def find_implausible_doses(text: str, vocab: LanguageVocabulary) -> list[ValueFlag]:
    """Doses above the highest usual adult dose of the drug they follow."""
    if not vocab.dose_ranges:
        return []
    flags = []
    for m in _DOSE.finditer(text):
        value = parse_number(m.group("number"), vocab.decimal_separator)
        if value is None:
            continue
        found = _drug_before(text, m.start(), vocab)
        if found is None:
            continue
        name, dose_range = found
        milligrams = value * _TO_MILLIGRAMS[m.group("unit")]
        per_day, takes = _frequency(_until_next_dose(text[m.end() : m.end() + 40]), vocab)
        limit, per = (dose_range.per_day, "day") if per_day else (dose_range.per_take, "take")
        total = milligrams * (takes or 1) if not per_day else milligrams
        problem = None
        if milligrams > limit * 1.001:
            problem = (limit, per)
        elif takes and total > dose_range.per_day * 1.001:
            problem = (dose_range.per_day, "day")
        if problem is None:
            continue
        highest, per = problem
        said = (
            text[m.start() : m.end() + len(_until_next_dose(text[m.end() : m.end() + 40]).rstrip())]
            if takes
            else m.group()
        )
        flags.append(
            ValueFlag(
                m.start(),
                m.end(),
                f"dose-above-drug-maximum-per-{per}",
                {"drug": name, "dose": said.strip(), "highest": _in_unit(highest, m.group("unit"))},
            )
        )
    return flags


def _drug_before(text: str, offset: int, vocab: LanguageVocabulary) -> tuple[str, DoseRange] | None:
    """The nearest listed drug in the words before a dose (not across a sentence)."""
    start = max(0, offset - 80)
    window = text[start:offset]
    stops = list(_STOP.finditer(window))
    if stops:
        window, start = window[stops[-1].end() :], start + stops[-1].end()
    words = [t for t in tokenize(window) if not t.is_punct][-DRUG_WINDOW:]
    for index in range(len(words) - 1, -1, -1):
        for size in (2, 1):  # "acide acétylsalicylique" before "acide"
            if index - size + 1 < 0:
                continue
            name = " ".join(w.text for w in words[index - size + 1 : index + 1])
            for generic in vocab.generics_of(name):
                dose_range = vocab.dose_ranges.get(generic)
                if dose_range is not None:
                    return name, dose_range
    return None


def _until_next_dose(after: str) -> str:
    """The words after a dose that can still be about it: up to a mark or the next dose."""
    cut = re.search(r"[,;.\n]|\d+\s?(?:mg|g|µg|mcg)\b", after)
    return after[: cut.start()] if cut else after


def _frequency(after: str, vocab: LanguageVocabulary) -> tuple[bool, int]:
    """Whether the words after a dose make it a daily dose, and how many takes a day they say."""
    lowered = after.lower()
    for words, times in sorted(vocab.times_per_day.items(), key=lambda item: -len(item[0])):
        m = _phrase(words).search(lowered)
        if m is None:
            continue
        if times == 0:
            count = re.search(r"(\d+)\s*$", lowered[: m.start()])
            return False, int(count.group(1)) if count else 0
        return False, times
    for words in vocab.per_day_words:
        if _phrase(words).match(lowered.lstrip()):
            return True, 0
    return False, 0


@lru_cache(maxsize=256)
def _phrase(words: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(words) + r"(?!\w)")


def _in_unit(milligrams: float, unit: str) -> str:
    value = milligrams / _TO_MILLIGRAMS[unit]
    return f"{value:g} {unit}"
