"""Units written the clinical way after a number, and doses checked against a plausible range.

"80 milligrammes" -> "80 mg", "5000g" -> "5000 g", "trente-huit degrés" -> "38 °C"
(after a temperature word). A value outside the plausible range of its unit
("80 000 grammes") is flagged for a person to check; it is never changed. So is a number
before a unit that is not a number at all ("5,005,2500 gramme", "1.2.5 mg", "12,,5 mg"):
no reading of it can be trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcribe.text.rewriting import Replacement
from transcribe.vocabulary.records import LanguageVocabulary, Unit

RULE = "unit"
_THOUSANDS_LOOK = re.compile(r"\d{1,3}[.,]000")
_NUMBER = r"\d{1,3}(?:[  .]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"


@dataclass(frozen=True)
class ValueFlag:
    """A value to check, on the current text."""

    start: int
    end: int
    #: a code of ``transcribe.messages.FLAGS`` and its parameters
    code: str
    params: dict[str, str]
    choices: tuple[str, ...] = ()


class UnitFinder:
    """Finds "<number> <unit>" in a text, for one language."""

    def __init__(self, vocab: LanguageVocabulary) -> None:
        self._vocab = vocab
        self._by_spoken: dict[str, Unit] = {}
        for unit in vocab.units:
            for spoken in unit.spoken:
                self._by_spoken[spoken.lower()] = unit
        degrees = "degrés?|degré" if vocab.language == "fr" else "degrees?"
        alternatives = sorted(self._by_spoken, key=len, reverse=True)
        words = "|".join(re.escape(a) for a in alternatives)
        self._pattern = re.compile(
            rf"(?<![\w,.])(?P<number>{_NUMBER})(?P<space>\s?)(?P<unit>{words}|{degrees}|°)(?![\w/])",
            re.IGNORECASE,
        )
        # "4000000 de grammes": a quantity said with "de", checked against the range, never rewritten
        self._quantity = re.compile(
            rf"(?<![\w,.])(?P<number>{_NUMBER}) (?:de |d'|of )(?P<unit>{words})(?![\w/])", re.IGNORECASE
        )
        # digits and marks before a unit, to find those that do not make a number ("5,005,2500 gramme")
        self._digits_and_marks = re.compile(
            rf"(?<![\w,.])(?P<number>\d+(?:[.,]+\d+)+)[.,]*(?P<space>\s?)(?P<unit>{words}|{degrees}|°)(?![\w/])",
            re.IGNORECASE,
        )
        # the first word of each unit: "milligrammes" (par kilo), "millimètres" (de mercure)
        self.spoken_words = frozenset(spoken.split()[0] for spoken in self._by_spoken) | {
            "degré",
            "degrés",
            "degree",
            "degrees",
        }

    def find(self, text: str) -> tuple[list[Replacement], list[ValueFlag]]:
        """Replacements that write units the clinical way, and the values outside a plausible range."""
        replacements: list[Replacement] = []
        flags: list[ValueFlag] = []
        for m in self._pattern.finditer(text):
            spoken = m.group("unit").lower()
            unit = self._by_spoken.get(spoken)
            if unit is None:  # degrees
                written = "°C" if self._near_temperature(text, m.start()) else "°"
                space = self._vocab.unit_space if written == "°C" else ""
                minimum, maximum = (30.0, 45.0) if written == "°C" else (None, None)
            else:
                written, space = unit.written, self._vocab.unit_space
                minimum, maximum = unit.minimum, unit.maximum
            wanted = f"{space}{written}"
            current = m.group("space") + m.group("unit")
            tenths = self._tenths(text, m.end()) if written == "°C" else None
            if tenths is not None:  # "38 degrés 5": 38,5 °C
                decimal = f"{self._vocab.decimal_separator}{tenths.group(1)}"
                replacements.append(
                    Replacement(m.end("number"), m.end() + tenths.end(), f"{decimal}{wanted}", RULE, 0.9)
                )
            elif current != wanted:
                replacements.append(Replacement(m.end("number"), m.end(), wanted, RULE, 0.95))
            value = parse_number(m.group("number"), self._vocab.decimal_separator)
            if value is None or minimum is None or maximum is None:
                continue
            number = m.group("number")
            if not minimum <= value <= maximum:
                flags.append(
                    ValueFlag(
                        m.start(),
                        m.end(),
                        "dose-out-of-range",
                        {"value": number, "unit": written, "minimum": _short(minimum), "maximum": _short(maximum)},
                    )
                )
            elif _THOUSANDS_LOOK.fullmatch(number):
                whole = number[:-4]
                flags.append(
                    ValueFlag(
                        m.start(),
                        m.end(),
                        "dose-thousands",
                        {"value": number, "unit": written, "whole": whole},
                        (f"{whole}{space}{written}", f"{whole}000{space}{written}"),
                    )
                )
        flags += self._quantities(text)
        flags += self._malformed(text)
        return replacements, flags

    def _malformed(self, text: str) -> list[ValueFlag]:
        """Numbers before a unit that cannot be read as one number: flagged, never rewritten (nor their unit)."""
        flags = []
        for m in self._digits_and_marks.finditer(text):
            number = m.group("number")
            if parse_number(number, self._vocab.decimal_separator) is not None and m.group(0)[len(number)] not in ".,":
                continue  # "5,005 g", "1.000,5 mg": a number (a doubtful one is flagged by its reading)
            unit = self._by_spoken.get(m.group("unit").lower())
            written = unit.written if unit is not None else m.group("unit")
            flags.append(ValueFlag(m.start(), m.end(), "dose-malformed-number", {"value": number, "unit": written}))
        return flags

    def _tenths(self, text: str, offset: int) -> re.Match[str] | None:
        """ "38 degrés 5": the digit after a temperature is its tenths, unless it counts something
        ("39 degrés 3 jours")."""
        tenths = re.match(r" (\d)\b(?![.,]\d)", text[offset:])
        if tenths is None:
            return None
        following = re.match(r"\s*([^\W\d_]+)", text[offset + tenths.end() :])
        if following and (
            following.group(1).lower() in self._vocab.counted_words or following.group(1).lower() in self.spoken_words
        ):
            return None
        return tenths

    def _quantities(self, text: str) -> list[ValueFlag]:
        flags = []
        for m in self._quantity.finditer(text):
            unit = self._by_spoken.get(m.group("unit").lower())
            value = parse_number(m.group("number"), self._vocab.decimal_separator)
            if unit is None or value is None or unit.minimum is None or unit.maximum is None:
                continue
            if not unit.minimum <= value <= unit.maximum:
                flags.append(
                    ValueFlag(
                        m.start(),
                        m.end(),
                        "dose-out-of-range",
                        {
                            "value": m.group("number"),
                            "unit": unit.written,
                            "minimum": _short(unit.minimum),
                            "maximum": _short(unit.maximum),
                        },
                    )
                )
        return flags

    def _near_temperature(self, text: str, offset: int) -> bool:
        window = re.findall(r"[^\W\d_]+°?", text[max(0, offset - 60) : offset].lower())[-6:]
        return bool(set(window) & self._vocab.temperature_words)


def parse_number(text: str, decimal_separator: str) -> float | None:
    """The value of a number as written ("80 000", "80.000", "8,2", "0.5"), or None."""
    compact = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if decimal_separator == ",":
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", compact):
            compact = compact.replace(".", "")
        compact = compact.replace(",", ".")
    else:
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", compact):
            compact = compact.replace(",", "")
    try:
        return float(compact)
    except ValueError:
        return None


def _short(value: float) -> str:
    return f"{value:g}"
