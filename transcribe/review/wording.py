"""What the review screen says about a report, in the reader's language: flags, changes, identity.

Flags are message codes with parameters (``transcribe.messages``); the text layer's changes
are rule names (their labels are in ``i18n/review_screen.py``). The identity evidence and
conflicts are codes with parameters too (``patients.IdentityNote``, ``messages.IDENTITY``).
Jobs drafted before they were (their evidence stored as English sentences) are read back by
the sentences' patterns below, kept only for those.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from transcribe.messages import IDENTITY_SOURCES, identity_message, message
from transcribe.patient_record.patients import IdentityNote
from transcribe.review.display import day

Translate = Callable[..., str]


def flag_reason(flag: dict[str, Any], language: str) -> str:
    """A flag's reason in the reader's language (its stored English text when its code is unknown)."""
    return message(str(flag.get("code") or ""), language, str(flag.get("reason", "")), **(flag.get("params") or {}))


def flag_kind(kind: str, t: Translate) -> str:
    """The kind of a point to check ("dose", "term"...) as the screen names it."""
    label = t(f"review.flag.{kind}")
    return kind if label == f"review.flag.{kind}" else label


def rule_label(rule: str, t: Translate) -> str:
    """The rule(s) of a change ("number+unit") as the screen names them."""
    labels = []
    for name in rule.split("+"):
        label = t(f"review.rule.{name}")
        labels.append(name if label == f"review.rule.{name}" else label)
    return " + ".join(labels)


#: the English sentences transcribe.patient_record.patients stored before its evidence was data, and their French
_IDENTITY = [
    (r"identifier (?P<id>.+) given by the (?P<source>\w+)", "identifiant {id} donné par {source}"),
    (r"name matches", "le nom correspond"),
    (r"name matches with family and given names inverted", "le nom correspond, nom et prénom inversés"),
    (r"name close \((?P<score>\d+)%\)", "nom proche ({score} %)"),
    (r"birth date matches \((?P<date>[\d-]+)\)", "la date de naissance correspond ({date})"),
    (
        r"birth date differs: dictated (?P<dictated>\S+), index (?P<index>\S+)",
        "la date de naissance diffère : dictée {dictated}, index {index}",
    ),
    (
        r"the (?P<source>\w+) names patient (?P<given>.+), not (?P<chosen>.+)",
        "{Source} désigne le patient {given}, pas {chosen}",
    ),
    (
        r"the (?P<source>\w+) gives the birth date (?P<given>\S+), the patient's is (?P<chosen>\S+)",
        "{Source} donne la date de naissance {given}, celle du patient est {chosen}",
    ),
    (
        r"the (?P<source>\w+) names (?P<names>.+), the patient is (?P<patient>.+)",
        "{Source} nomme {names}, le patient est {patient}",
    ),
]
_IDENTITY_PATTERNS = [(re.compile(pattern + r"\Z"), french) for pattern, french in _IDENTITY]


def identity_words(note: IdentityNote | dict[str, Any] | str, language: str) -> str:
    """An identity evidence or conflict in the reader's language, its dates as the screens write them."""
    if isinstance(note, dict) and "code" in note:
        note = IdentityNote(str(note["code"]), {str(k): str(v) for k, v in (note.get("params") or {}).items()})
    if isinstance(note, IdentityNote):
        params = {k: day(v, language) if k.endswith("date") else v for k, v in note.params.items()}
        return identity_message(note.code, language, **params)
    sentence = str(note)
    if language != "fr":
        return sentence
    for pattern, french in _IDENTITY_PATTERNS:
        m = pattern.match(sentence)
        if m:
            # a date as the French screens write it (anything else is kept as it is)
            fields = {name: day(value, "fr") for name, value in m.groupdict().items()}
            if "source" in fields:
                source = IDENTITY_SOURCES.say(fields["source"], "fr")
                fields["source"], fields["Source"] = source, source[:1].upper() + source[1:]
            return french.format(**fields)
    return sentence


def source_label(source: str, language: str) -> str:
    """Where an identity came from (sidecar, file name, dictation), as the screen names it."""
    return IDENTITY_SOURCES.say(source, language)
