"""How the screens write dates, times and lengths of time, in the reader's language (local time)."""

from __future__ import annotations

from datetime import date, datetime

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
