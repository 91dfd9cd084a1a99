"""Letters that read like letters: who a report is addressed to, and how it opens and closes.

Pure. The addressee comes, in this order, from what the secretary wrote on the review screen, the
sidecar's ``recipient``, the dictation ("courrier au docteur Bernard"), or the patient's GP in the
index ("Docteur Bernard, médecin traitant"). A salutation or closing the author dictated stays in
the text and is not added again; otherwise the author's own (``[authors.X] salutation``,
``closing``), else the language's, is written around the text of a report that has an addressee.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcribe.messages import Catalogue
from transcribe.vocabulary.folding import fold

#: the worktypes whose documents are letters to a colleague (an addressee, a salutation, a closing)
LETTER_WORKTYPES = ("consultation", "letter")

_DEFAULTS = Catalogue.by_language(
    {
        "fr": {"salutation": "Cher confrère,", "closing": "Bien confraternellement.", "gp": "médecin traitant"},
        "en": {"salutation": "Dear colleague,", "closing": "Yours sincerely,", "gp": "general practitioner"},
    }
)

#: a dictated opening of a letter, at its start (folded: accents and case ignored)
_SALUTATION = re.compile(
    r"\b(?:mon\s+|tres\s+)?(?:cher|chere)\s+(?:confrere|consoeur|ami|amie|collegue|docteur|maitre|professeur)\b"
    r"|(?:^|[.\n]\s*)(?:madame|monsieur)\s*,|\bdear\b",
)
#: a dictated closing, in the last sentences
_CLOSING = re.compile(
    r"confraternel|amities|bien\s+a\s+(?:vous|toi)|(?:sentiments|salutations)\s+\w*|je\s+vous\s+prie|"
    r"yours\s+(?:sincerely|faithfully|truly)|kind\s+regards|best\s+(?:wishes|regards)|with\s+thanks",
)


@dataclass(frozen=True)
class Addressee:
    """Who a report is for, and where that came from: "review", "sidecar", "dictated", "index" (its GP), or ""."""

    recipient: str
    source: str
    copies: tuple[str, ...] = ()


def choose_addressee(
    *,
    typed: str | None,
    sidecar: str | None,
    dictated: str | None,
    gp: str | None,
    language: str,
) -> tuple[str, str]:
    """The addressee of a report and its source: the screen's, the sidecar's, the dictation's, else the GP."""
    for text, source in ((typed, "review"), (sidecar, "sidecar"), (dictated, "dictated")):
        if text is not None and (text.strip() or source == "review"):
            return text.strip(), source
    if gp and gp.strip():
        return gp_addressee(gp, language), "index"
    return "", ""


def gp_addressee(gp: str, language: str) -> str:
    """The GP as a letter addresses him ("Dr Bernard" -> "Docteur Bernard, médecin traitant")."""
    name = re.sub(r"^(?:dr|docteur)\.?\s+", "Docteur " if language == "fr" else "Dr ", gp.strip(), flags=re.I)
    if name == gp.strip() and language == "fr" and not name.lower().startswith(("pr ", "professeur")):
        name = f"Docteur {name}"
    return f"{name}, {_DEFAULTS.say('gp', language)}"


def clean_copies(copies: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Copies as a document lists them: trimmed, no empty line, no one twice."""
    seen: list[str] = []
    for copy in copies:
        text = " ".join(str(copy).split())[:200]
        if text and fold(text) not in {fold(s) for s in seen}:
            seen.append(text)
    return tuple(seen[:20])


def has_salutation(text: str) -> bool:
    """Whether the text opens with a salutation the author dictated ("Cher confrère", "Dear Dr Smith") in its first words."""
    return bool(_SALUTATION.search(fold(text[:200])))


def has_closing(text: str) -> bool:
    """Whether the text ends with a closing the author dictated ("Bien confraternellement", "Yours sincerely")."""
    return bool(_CLOSING.search(fold(text[-300:])))


def salutation_and_closing(
    text: str, *, language: str, own_salutation: str = "", own_closing: str = ""
) -> tuple[str, str]:
    """The salutation and closing the document adds around the text: "" for each the dictation already says."""
    salutation = "" if has_salutation(text) else own_salutation or _DEFAULTS.say("salutation", language)
    closing = "" if has_closing(text) else own_closing or _DEFAULTS.say("closing", language)
    return salutation, closing
