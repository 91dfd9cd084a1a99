"""The kinds of report a dictation can be: one list, used by every stage and door.

A worktype chooses the report's template (``templates/<worktype>.docx``), its title and
how the queue sorts and filters it. Labels are the words the review screen shows.
"""

from __future__ import annotations

from transcribe.messages import Catalogue

WORKTYPES = ("consultation", "letter", "hospital", "operative", "examination", "note")
DEFAULT_WORKTYPE = "consultation"

LABELS = Catalogue.by_language(
    {
        "fr": {
            "consultation": "Consultation",
            "letter": "Courrier",
            "hospital": "Hospitalisation",
            "operative": "Compte rendu opératoire",
            "examination": "Examen",
            "note": "Note",
        },
        "en": {
            "consultation": "Consultation",
            "letter": "Letter",
            "hospital": "Hospital stay",
            "operative": "Operative report",
            "examination": "Examination",
            "note": "Note",
        },
    }
)


def label_of(worktype: str, language: str) -> str:
    """The worktype as the interface shows it, in its language."""
    return LABELS.say(worktype, language)
