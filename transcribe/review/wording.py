"""What the review screen says about a report, in the reader's language: flags, changes, identity.

Flags are message codes with parameters (``transcribe.messages``); the text layer's changes
are rule names (their labels are in ``i18n/review_screen.py``). The identity evidence and
conflicts are codes with parameters too (``records.IdentityNote``, ``messages.IDENTITY``); the
evidence older versions stored as English sentences was turned into codes by the store's migration 12.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transcribe.messages import IDENTITY_SOURCES, identity_message, message
from transcribe.records import IdentityNote
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


def identity_words(note: IdentityNote, language: str) -> str:
    """An identity evidence or conflict in the reader's language, its dates as the screens write them."""
    params = {k: day(v, language) if k.endswith("date") else v for k, v in note.params.items()}
    return identity_message(note.code, language, **params)


def source_label(source: str, language: str) -> str:
    """Where an identity came from (sidecar, file name, dictation), as the screen names it."""
    return IDENTITY_SOURCES.say(source, language)
