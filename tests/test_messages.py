"""Every flag the pipeline raises has its words in French and English, from one catalogue."""

from __future__ import annotations

import json

import pytest

from transcribe.messages import FLAGS, message
from transcribe.records import transcript_from_json
from transcribe.text import TextLayer

from .conftest import DICTATIONS

CASES = [
    ("fr", "paracétamol 5,000 grammes et warfarine cinquante milligrammes par jour"),
    ("fr", "quatre millions de grammes, une BPC au stade 2, sous Trulicity"),
    ("en", "aspirin 75 mg QD, a history of ED, then fostair at night"),
    ("en", "Thanks for watching. Thanks for watching. metoprolol one thousand milligrams"),
    ("fr", "le le le le le le le le le le le le le le patient"),
]


def _flags(text_layer: TextLayer):
    for lang, text in CASES:
        yield from text_layer.clean_text(text, lang).flags
    for path in sorted((DICTATIONS / "transcripts").glob("*.json")):
        yield from text_layer.clean(transcript_from_json(json.loads(path.read_text()))).flags


def test_every_flag_code_is_in_the_catalogue_in_both_languages(text_layer: TextLayer) -> None:
    seen = set()
    for flag in _flags(text_layer):
        assert flag.code in FLAGS, flag
        assert flag.reason == message(flag.code, "en", **flag.params)  # one source for the English text
        french = message(flag.code, "fr", **flag.params)
        assert "{" not in french and "}" not in french, (flag.code, french)
        seen.add(flag.code)
    assert len(seen) >= 8  # the cases above raise many kinds


@pytest.mark.parametrize("code", sorted(FLAGS))
def test_each_catalogue_entry_has_the_same_parameters_in_french_and_english(code: str) -> None:
    import string

    fields = {lang: {name for _, name, _, _ in string.Formatter().parse(FLAGS[code][lang]) if name}
              for lang in ("fr", "en")}
    assert fields["fr"] <= fields["en"] | {"detected", "language"}, code


# --- the review app's catalogue (transcribe/review/i18n/) ---------------------------------------------
def test_every_word_of_the_review_app_is_in_both_languages_with_the_same_parameters() -> None:
    import string

    from transcribe.review.i18n import MESSAGES

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, entry in MESSAGES.items():
        assert set(entry) == {"fr", "en"} and entry["fr"].strip() and entry["en"].strip(), key
        assert fields(entry["fr"]) == fields(entry["en"]), key


def test_every_word_a_screen_asks_for_is_in_the_catalogue() -> None:
    import re
    from pathlib import Path

    from transcribe.review.i18n import MESSAGES
    from transcribe.review.routes.review import SCREEN_WORDS

    review = Path(__file__).resolve().parent.parent / "transcribe" / "review"
    asked = set()
    for template in (review / "templates").glob("*.html"):
        asked |= set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']\s*[,)]""", template.read_text(encoding="utf-8")))
    for routes in (review / "routes").glob("*.py"):
        asked |= set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']\s*[,)]""", routes.read_text(encoding="utf-8")))
    missing = sorted(key for key in asked if key not in MESSAGES)
    assert not missing, missing
    assert all(f"review.{key}" in MESSAGES or key in MESSAGES for key in SCREEN_WORDS)


def test_a_length_is_written_in_whole_seconds_as_the_player_writes_it() -> None:
    from transcribe.records import format_duration

    assert [format_duration(s) for s in (None, 0, 4.6, 59.6, 60, 65.99, 3600.4)] == [
        "", "0:00", "0:04", "0:59", "1:00", "1:05", "60:00"]
