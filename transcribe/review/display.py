"""How the screens write dates, times and lengths of time, in the reader's language (local time)."""

from __future__ import annotations

from datetime import date, datetime

from transcribe.review.i18n import translator
from transcribe.settings import Settings
from transcribe.work.worklist import author_name

DATE_FORMATS = {"fr": "%d/%m/%Y", "en": "%Y-%m-%d"}


def local_datetime(moment: datetime | float, language: str) -> str:
    """A moment as the screens write it, in the server's local time: "03/05/2024 14:05" or "2024-05-03 14:05"."""
    local = datetime.fromtimestamp(moment) if isinstance(moment, (int, float)) else moment.astimezone()
    return local.strftime(f"{DATE_FORMATS.get(language, DATE_FORMATS['en'])} %H:%M")


def day(value: str | date | None, language: str) -> str:
    """A date ("YYYY-MM-DD" or a date) as the screens write it; "" when there is none, as given when unreadable."""
    if not value:
        return ""
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        return str(value)
    return parsed.strftime(DATE_FORMATS.get(language, DATE_FORMATS["en"]))


def span(seconds: float | None, language: str) -> str:
    """A length of time between two steps: "8 min", "2 h 05", "3 j 4 h" / "3 d 4 h"; "-" when unknown."""
    if seconds is None:
        return "-"
    minutes = max(0, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} {'j' if language == 'fr' else 'd'} {hours} h"


def number(value: int, language: str) -> str:
    """A whole number as the screens write it: "100 000" in French, "100,000" in English."""
    grouped = f"{value:,}"
    return grouped.replace(",", " ") if language == "fr" else grouped


def author_label(settings: Settings, author: str, language: str) -> str:
    """An author as the screens name him: his name on the site, else his folder; the default author
    (``intake.default_author``, the inbox root's) is "Auteur inconnu", not the folder name "unknown"."""
    named = author_name(settings, author)
    if named == author and author == settings.intake.default_author:
        return translator(language)("author_unknown")
    return named
