"""The review app's words, in French and English (a setting, and each user's choice).

One catalogue, kept by screen: ``common`` (the top bar, login, roles, errors of the app),
``worklist``, ``review_screen``, ``coding``, ``doctor``, ``admin``, ``stats``. A key lives in one of them
only (checked when the package loads); screens look words up in ``MESSAGES``, all of them merged.
The flags' reasons and the job states are in ``transcribe.messages``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transcribe.messages import LANGUAGES, Catalogue
from transcribe.review.i18n import admin, coding, common, doctor, review_screen, stats, worklist


def _merged(*parts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for part in parts:
        for key, entry in part.items():
            if key in merged:
                raise ValueError(f"message {key!r} is in two parts of the catalogue: keep it in one")
            merged[key] = entry
    return merged


MESSAGES = Catalogue(
    _merged(common.WORDS, worklist.WORDS, review_screen.WORDS, coding.WORDS, doctor.WORDS, admin.WORDS, stats.WORDS)
)


def translator(language: str) -> Callable[..., str]:
    """A function giving the text of a message key in a language, its ``{parameters}`` filled in.

    English where a key has no text in the language; the key itself where it is not in the
    catalogue (a message that is not a code yet is shown as it is).
    """
    language = language if language in LANGUAGES else "en"

    def t(key: str, **params: Any) -> str:
        return MESSAGES.say(key, language, key, **params)

    return t


def notice(t: Callable[..., str], key: str) -> str:
    """The outcome a page was sent back with (``?message=done.user-added``): only a key of the catalogue is shown."""
    return t(key) if key in MESSAGES else ""


def error_text(t: Callable[..., str], error: Exception) -> str:
    """An error in the reader's language: its catalogue code with its parameters, else its own message."""
    code = getattr(error, "code", None)
    if isinstance(code, str) and code in MESSAGES:
        return t(code, **dict(getattr(error, "params", None) or {}))
    return str(error)
