"""The records of coding: the code systems, a suggestion with the words that support it, a chosen code.

One source for each fact: the systems, their kind (diagnosis or act) and their language are here,
and every other module (catalogue, suggester, store, review screen, export) imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DIAGNOSIS, ACT = "diagnosis", "act"
KINDS = (DIAGNOSIS, ACT)

#: why a mention of a code is not suggested as the patient's: the qualifiers of the field
NEGATED, HYPOTHETICAL, FAMILY = "negated", "hypothetical", "family"
QUALIFIERS = (NEGATED, HYPOTHETICAL, FAMILY)

#: how a chosen code came: suggested from the text, or added by the secretary
SUGGESTED, ADDED = "suggested", "added"
ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass(frozen=True)
class CodeSystem:
    """A classification: its name in the store, its usual title, what it codes, the language of its reports,
    and its canonical URI in FHIR (the ANS's terminology server for the French ones, HL7's for ICD-10-CM)."""

    name: str
    title: str
    kind: str
    language: str
    uri: str


SYSTEMS: dict[str, CodeSystem] = {
    "cim10": CodeSystem("cim10", "CIM-10", DIAGNOSIS, "fr", "https://smt.esante.gouv.fr/terminologie-cim-10"),
    "ccam": CodeSystem("ccam", "CCAM", ACT, "fr", "https://smt.esante.gouv.fr/terminologie-ccam"),
    "icd10cm": CodeSystem("icd10cm", "ICD-10-CM", DIAGNOSIS, "en", "http://hl7.org/fhir/sid/icd-10-cm"),
}


def systems_of(language: str) -> tuple[CodeSystem, ...]:
    """The systems a report in this language is coded in (diagnoses first)."""
    return tuple(sorted((s for s in SYSTEMS.values() if s.language == language), key=lambda s: KINDS.index(s.kind)))


def kind_of(system: str) -> str:
    """Whether a system codes diagnoses or acts."""
    return SYSTEMS[system].kind


@dataclass(frozen=True)
class Evidence:
    """Words of the text that name a code: where they are (characters) and what they say."""

    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Suggestion:
    """A code suggested for a report, with the words that support it."""

    system: str
    code: str
    label: str
    evidence: tuple[Evidence, ...]

    @property
    def kind(self) -> str:
        """Diagnosis or act."""
        return kind_of(self.system)

    def to_json(self) -> dict[str, Any]:
        """As JSON (what ``transcribe codes suggest --json`` prints, what the review screen reads)."""
        return {
            "system": self.system,
            "code": self.code,
            "label": self.label,
            "kind": self.kind,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class SetAside:
    """A mention of a code that is not suggested: negated, hypothetical, or about the family."""

    system: str
    code: str
    evidence: Evidence
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "system": self.system,
            "code": self.code,
            "evidence": self.evidence.to_json(),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class CodeSuggestions:
    """What the suggester found in a text: the suggestions, the mentions set aside, the sets it lacked."""

    language: str
    suggestions: tuple[Suggestion, ...]
    set_aside: tuple[SetAside, ...] = ()
    #: systems named by the text whose code set the site has not imported (their codes cannot be suggested)
    missing_sets: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "language": self.language,
            "suggestions": [s.to_json() for s in self.suggestions],
            "set_aside": [s.to_json() for s in self.set_aside],
            "missing_sets": list(self.missing_sets),
        }


@dataclass(frozen=True)
class CodeEntry:
    """A code of a code set and its label."""

    system: str
    code: str
    label: str

    @property
    def kind(self) -> str:
        """Diagnosis or act."""
        return kind_of(self.system)


@dataclass(frozen=True)
class ChosenCode:
    """A code a secretary accepted (or added) for a report; kept with the validated version."""

    system: str
    code: str
    label: str
    origin: str
    evidence: tuple[str, ...]
    chosen_by: str

    @property
    def kind(self) -> str:
        """Diagnosis or act."""
        return kind_of(self.system)

    def to_json(self) -> dict[str, Any]:
        """As JSON (the filed report's sidecar, the exchange formats)."""
        return {
            "system": self.system,
            "code": self.code,
            "label": self.label,
            "kind": self.kind,
            "origin": self.origin,
            "evidence": list(self.evidence),
            "chosen_by": self.chosen_by,
        }


@dataclass(frozen=True)
class CodeDecision:
    """A secretary's decision on one code of a report still in review: accepted or rejected."""

    system: str
    code: str
    label: str
    decision: str
    origin: str
    evidence: tuple[str, ...]
    decided_by: str
    decided_at: float


@dataclass(frozen=True)
class CodeSetInfo:
    """An imported code set: its system, its version (the date it applies from), where it came from."""

    id: int
    system: str
    version: str
    source: str
    file_kind: str
    entries: int
    imported_at: float
    imported_by: str
