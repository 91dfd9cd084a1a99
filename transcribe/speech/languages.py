"""Which language a dictation is transcribed in, and when the engine's guess is not trusted.

The engine detects the language when none is given. A French dictation heard as Spanish
would get no medical text layer and no flag at all, so a detection is accepted only when
it is one of the site's languages with a probability of at least ``asr.min_language_probability``.
Otherwise the dictation is transcribed again in the expected language (the sidecar's, the
author's, or the most likely of the site's languages), and the report carries a flag saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transcribe.messages import message, percent


@dataclass(frozen=True)
class LanguageCheck:
    """What to do with the engine's language: keep it, or transcribe in ``rerun_in``."""

    detected: str
    probability: float
    rerun_in: str | None
    #: the doubt, as a code of ``transcribe.messages.FLAGS`` (None: the detection is trusted)
    code: str | None

    @property
    def params(self) -> dict[str, str]:
        """The parameters of the doubt's message."""
        return {"detected": self.detected, "probability": percent(self.probability), "language": self.rerun_in or ""}

    @property
    def reason(self) -> str | None:
        """The doubt in English, or None."""
        return message(self.code, "en", **self.params) if self.code else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, kept in the transcript's options."""
        return {
            "detected": self.detected,
            "probability": round(self.probability, 3),
            "rerun_in": self.rerun_in,
            "code": self.code,
            "params": self.params,
            "reason": self.reason,
        }


def check_language(
    detected: str,
    probability: float,
    *,
    site_languages: tuple[str, ...],
    expected: str | None,
    probabilities: dict[str, float] | None = None,
    min_probability: float = 0.6,
) -> LanguageCheck:
    """Whether a detected language can be trusted, and if not, which language to transcribe in."""
    if detected in site_languages and probability >= min_probability and (expected in (None, detected)):
        return LanguageCheck(detected, probability, None, None)
    choice = expected
    if choice is None and site_languages:
        ranked = sorted(site_languages, key=lambda code: -(probabilities or {}).get(code, 0.0))
        choice = ranked[0]
    if choice is None or choice == detected:
        return LanguageCheck(detected, probability, None, "language-unsure")
    return LanguageCheck(detected, probability, choice, "language-transcribed-again")
