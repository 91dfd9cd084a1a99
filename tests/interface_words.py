"""English left in a French screen: the English texts of the interface's catalogues, looked for in a page.

The catalogues are the review app's (``review/i18n/``), the flags', states', languages', identity
evidence's, its sources' and sexes' (``messages.py``), the worktypes' and the specialties'. Each English text
that differs from its French is cut at its ``{parameters}``; every piece with a word of three
letters or more is looked for, as whole words, in what the page shows and in the words it keeps
for its script (titles, placeholders, labels, the review screen's words).
"""

from __future__ import annotations

import re
from functools import cache

from transcribe import messages
from transcribe.documents import worktypes
from transcribe.review.i18n import MESSAGES
from transcribe.vocabulary import specialties

#: words the screens wrote in English before, that are not (or not only) in a catalogue
ENGLISH = ["Search", "Status", "Author", "Patient ID", "Due", "Duration", "Open", "Held by", "overdue", "Filter",
           "All", "drafted", "returned", "validated", "filed", "quarantined", "Letter", "Doctor", "Secretary",
           "Administrator", "Disable", "Enable", "Reset", "Role", "Add", "Import", "Medicine", "Backlog",
           "Turnaround", "Median", "Reports", "Word error rate", "Received", "Validated", "Filed", "To review",
           "To sign", "Reply", "View", "Dictated", "My reports", "Log out", "Statistics", "Accuracy", "access refused",
           "Not Found", "not found", "wrong user name", "Next", "Previous", "English", "French", "Messages",
           "Sign", "Waiting", "Being", "proposed", "Users", "Patient index", "Site vocabulary", "Vocabulary",
           "Term", "Kind", "Proposal", "Seen", "Replay", "Accept", "Reject", "No proposal", "Back", "active",
           "disabled", "End", "Birth date", "Sex", "of", "to", "the", "and", "by", "Used from", "Saved", "Saving",
           "Checked", "To check", "Heard", "Undo", "Redo", "Take over", "Reason", "Reopen", "Preview", "Print",
           "Close", "Find", "Replace", "Speed", "Rewind", "Forward", "Play", "Keys", "Identity", "Choose",
           "term", "abbreviation", "number", "unit", "spacing", "read only", "is working on", "sidecar",
           "file name", "dictation", "name matches", "birth date", "identifier", "given by", "--confirm-identity"]

_PARAMETER = re.compile(r"\{[^}]*\}")


def _pairs() -> list[tuple[str, str]]:
    pairs = []
    for catalogue in (MESSAGES, messages.FLAGS, messages.IDENTITY, messages.STATES, messages.LANGUAGE_NAMES,
                      worktypes.LABELS, specialties.LABELS, messages.IDENTITY_SOURCES, messages.SEXES):
        pairs += [(entry["en"], entry.get("fr", "")) for entry in catalogue.values()]
    return pairs


@cache
def english_fragments() -> tuple[str, ...]:
    """Every piece of English text of the catalogues that a French screen must not show."""
    found = set(ENGLISH)
    for english, french in _pairs():
        if english == french:
            continue
        for piece in _PARAMETER.split(english):
            piece = " ".join(piece.split()).strip(" :;,.()'\"«»-—–/?!%")
            if re.search(r"[A-Za-z]{3,}", piece) and not re.search(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", french):
                found.add(piece)
    return tuple(sorted(found, key=lambda p: (-len(p), p)))


def english_in(text: str) -> list[str]:
    """The English pieces of the catalogues found, as whole words, in a text."""
    text = " ".join(text.split())
    return [p for p in english_fragments() if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)]


SCREEN_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  document.querySelectorAll('[title], [placeholder], [aria-label], script[id=screen-words], script[src]').forEach(e => {
    for (const name of ['title', 'placeholder', 'aria-label']) if (e.getAttribute(name)) parts.push(e.getAttribute(name));
    if (e.id === 'screen-words') parts.push(Object.values(JSON.parse(e.textContent)).join(' | '));
    if (e.tagName === 'SCRIPT' && e.src) parts.push(Object.values(e.dataset).join(' | '));
  });
  return parts.join(' | ');
}"""


def english_words_in(page) -> list[str]:
    """English of the catalogues in what a page shows, and in the words it keeps for its script."""
    return english_in(page.evaluate(SCREEN_TEXT))
