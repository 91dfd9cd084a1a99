"""Dictation metadata: the sidecar file beside the audio (``<name>.json``), parsed and checked.

Schema (every key optional)::

    {
      "author": "dr-martin",
      "patient": {"id": "123456"}
              or {"family_name": "Dupont", "given_names": "Jean", "birth_date": "1950-03-12"},
      "worktype": "consultation" | "letter" | "hospital" | "operative" | "examination" | "note",
      "priority": "normal" | "urgent",
      "due_date": "2026-11-25",
      "language": "fr" | "en",
      "specialty": "cardiology" | ... (see transcribe/vocabulary/specialties.py),
      "recipient": "Docteur Bernard, médecin traitant",
      "copies": ["Dr Leroy, cardiologue", "..."]
    }

Keys it does not know are ignored (recorder software adds its own); a known key
with a wrong value makes the whole file refused with a reason.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from transcribe.documents.worktypes import WORKTYPES
from transcribe.errors import InputError
from transcribe.messages import LANGUAGES
from transcribe.patient_record.patients import parse_date
from transcribe.records import DictatedIdentity, DictationMetadata
from transcribe.vocabulary.specialties import SPECIALTIES

MAX_SIDECAR_BYTES = 64 * 1024
PRIORITIES = ("normal", "urgent")


class SidecarInvalid(InputError):
    """The sidecar file beside a dictation cannot be used."""

    kind = "sidecar-invalid"
    hint = "correct the .json file (see the README, 'Sidecar files') and drop it again, or drop the audio alone"


def parse_sidecar(data: bytes, name: str = "sidecar") -> DictationMetadata:
    """Read a sidecar file's bytes, or raise ``SidecarInvalid`` saying what is wrong."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise SidecarInvalid(f"{name}: the sidecar is {len(data)} bytes; at most {MAX_SIDECAR_BYTES} are accepted")
    try:
        content = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SidecarInvalid(f"{name}: not valid JSON ({str(e)[:80]})") from e
    if not isinstance(content, dict):
        raise SidecarInvalid(f"{name}: the sidecar must be a JSON object")
    author = _text(content, "author", name, 100)
    if author is not None and not re.fullmatch(r"[\w.@-]{1,100}", author):
        raise SidecarInvalid(f"{name}: author '{author[:40]}' may only hold letters, digits, '.', '@', '-' and '_'")
    worktype = _choice(content, "worktype", WORKTYPES, name)
    priority = _choice(content, "priority", PRIORITIES, name) or "normal"
    language = _text(content, "language", name, 5)
    if language is not None and language not in LANGUAGES:
        raise SidecarInvalid(f"{name}: language must be 'fr' or 'en'")
    specialty = _choice(content, "specialty", SPECIALTIES, name)
    due = _date(content, "due_date", name)
    copies = content.get("copies", [])
    if (
        not isinstance(copies, list)
        or not all(isinstance(c, str) and len(c) <= 200 for c in copies)
        or len(copies) > 20
    ):
        raise SidecarInvalid(f"{name}: copies must be a list of at most 20 names (200 characters each)")
    recipient = _text(content, "recipient", name, 200)
    return DictationMetadata(
        author,
        _identity(content.get("patient"), name),
        worktype,
        priority,
        due,
        language,
        tuple(c.strip() for c in copies if c.strip()),
        specialty,
        recipient,
    )


def _identity(patient: Any, name: str) -> DictatedIdentity | None:
    if patient is None:
        return None
    if not isinstance(patient, dict):
        raise SidecarInvalid(f"{name}: patient must be an object with an id, or a name and a birth date")
    patient_id = _text(patient, "id", name, 64)
    if patient_id is not None and not re.fullmatch(r"[\w.-]{1,64}", patient_id):
        raise SidecarInvalid(f"{name}: patient id '{patient_id[:40]}' has characters that are not allowed")
    family = _text(patient, "family_name", name, 200)
    given = _text(patient, "given_names", name, 200)
    birth = _date(patient, "birth_date", name)
    if patient_id is None and family is None:
        raise SidecarInvalid(f"{name}: patient needs an id or a family name")
    return DictatedIdentity("sidecar", patient_id, family, given, birth, "sidecar file")


def _text(content: dict[str, Any], key: str, name: str, limit: int) -> str | None:
    value = content.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise SidecarInvalid(f"{name}: {key} must be a text of at most {limit} characters")
    return value.strip()


def _choice(content: dict[str, Any], key: str, choices: tuple[str, ...], name: str) -> str | None:
    value = _text(content, key, name, 40)
    if value is not None and value not in choices:
        raise SidecarInvalid(f"{name}: {key} '{value}' must be one of {', '.join(choices)}")
    return value


def _date(content: dict[str, Any], key: str, name: str) -> date | None:
    value = _text(content, key, name, 40)
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise SidecarInvalid(f"{name}: {key} '{value}' is not a date (YYYY-MM-DD)")
    return parsed
