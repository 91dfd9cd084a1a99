"""The text layer on the dev corpus: the engine's real transcripts of the synthetic dictations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from transcribe.records import (
    Segment,
    Transcript,
    Word,
    apply_edits,
    transcript_from_json,
)
from transcribe.speech.biasing import build_prompt
from transcribe.text import TextLayer
from transcribe.text.prompt_copies import find_prompt_copies
from transcribe.text.tokens import source_of

from .conftest import DICTATIONS

SCRIPTS = [json.loads(line) for line in (DICTATIONS / "scripts.jsonl").read_text().splitlines() if line.strip()]


def _found(needle: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(needle.lower()) + r"(?!\w)", text.lower()) is not None


def _transcript(script_id: str) -> Transcript:
    return transcript_from_json(json.loads((DICTATIONS / "transcripts" / f"{script_id}.json").read_text()))


def test_the_corpus_is_complete() -> None:
    languages = [s["lang"] for s in SCRIPTS]
    assert languages.count("fr") >= 30 and languages.count("en") >= 15
    for script in SCRIPTS:
        assert (DICTATIONS / "audio" / f"{script['id']}.opus").is_file()
        assert (DICTATIONS / "transcripts" / f"{script['id']}.json").is_file()
        assert script["reference"] and script["spoken"]


def test_the_layer_improves_terms_and_numbers_and_breaks_nothing(text_layer: TextLayer) -> None:
    raw_terms = clean_terms = raw_numbers = clean_numbers = 0
    for script in SCRIPTS:
        transcript = _transcript(script["id"])
        result = text_layer.clean(transcript)
        assert result.source == source_of(transcript).text
        assert apply_edits(result.source, result.edits) == result.text
        for term in script["terms"]:
            raw_terms += _found(term, transcript.text)
            clean_terms += _found(term, result.text)
        for number in script["numbers"]:
            raw_numbers += _found(number, transcript.text)
            clean_numbers += _found(number, result.text)
        # a term the engine got right is never lost
        for term in script["terms"]:
            if _found(term, transcript.text):
                assert _found(term, result.text), (script["id"], term)
    # medicines are written only when the audio confirms them (transcribe/speech/acoustic.py, in the worker): on the text
    # alone the layer corrects the other terms, and flags the medicines with their suggestion
    assert clean_terms > raw_terms * 1.3
    assert clean_numbers > raw_numbers * 1.5


@pytest.mark.parametrize("script_id", ["fr-mg-001", "fr-psy-01", "fr-cardio-01"])
def test_implausible_doses_heard_by_the_engine_are_flagged(text_layer: TextLayer, script_id: str) -> None:
    result = text_layer.clean(_transcript(script_id))
    assert [f for f in result.flags if f.kind == "dose"], result.text


def test_prompt_builder_fits_the_engine_context() -> None:
    terms = [f"médicament{i}" for i in range(100)]
    prompt = build_prompt(terms, "fr")
    assert prompt is not None and prompt.text.startswith("Termes médicaux : ")
    assert len(prompt.terms) == 30 and len(prompt.text) <= 600
    assert build_prompt([], "fr") is None


def _transcript_of(words: list[tuple[str, float]]) -> Transcript:
    built = tuple(Word(w, i * 0.5, i * 0.5 + 0.4, p) for i, (w, p) in enumerate(words))
    text = "".join(w for w, _ in words)
    return Transcript((Segment(text, 0, len(words) * 0.5, built),), "fr", 1.0, len(words) * 0.5, "m",
                      {"prompt_terms": ["furosémide", "amlodipine", "bisoprolol", "ramipril"]})


def test_prompt_terms_in_prompt_order_are_flagged(text_layer: TextLayer) -> None:
    copied = _transcript_of([(" Traitement", 0.9), (" par", 0.9), (" amlodipine,", 0.9), (" bisoprolol,", 0.9),
                             (" ramipril", 0.9)])
    flags = [f for f in text_layer.clean(copied).flags if f.kind == "prompt-copy"]
    assert len(flags) == 3


def test_a_prompt_term_heard_clearly_alone_is_not_flagged(text_layer: TextLayer) -> None:
    heard = _transcript_of([(" Traitement", 0.9), (" par", 0.9), (" furosémide", 0.95), (" le", 0.9), (" matin", 0.9)])
    assert not [f for f in text_layer.clean(heard).flags if f.kind == "prompt-copy"]
    doubtful = _transcript_of([(" Traitement", 0.9), (" par", 0.9), (" furosémide", 0.2), (" le", 0.9), (" matin", 0.9)])
    assert [f for f in text_layer.clean(doubtful).flags if f.kind == "prompt-copy"]


def test_prompt_copies_are_found_on_the_source(text_layer: TextLayer) -> None:
    source = source_of(_transcript_of([(" amlodipine", 0.3)]))
    copies = find_prompt_copies(source, ("amlodipine",))
    assert copies and source.text[copies[0].start:copies[0].end] == "amlodipine"


def test_vocabulary_version_changes_with_the_site_vocabulary(tmp_path: Path) -> None:
    import shutil

    from transcribe.vocabulary.files import load_vocabulary

    from .conftest import ROOT

    vocab = tmp_path / "vocab"
    shutil.copytree(ROOT / "vocab", vocab, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = load_vocabulary(vocab)
    (vocab / "site" / "fr").mkdir(parents=True, exist_ok=True)
    (vocab / "site" / "fr" / "terms.tsv").write_text("zolmitriptan\tdrug\n")
    (vocab / "site" / "authors").mkdir(exist_ok=True)
    (vocab / "site" / "authors" / "dr-martin.tsv").write_text("zolmitriptan\tdrug\nfurosémide\tdrug\n")
    after = load_vocabulary(vocab)
    assert after.version != before.version
    assert after.languages["fr"].term("zolmitriptan") is not None
    assert after.author_terms["dr-martin"] == ("zolmitriptan", "furosémide")
    assert TextLayer(after).clean_text("Zolmitriptan le soir", "fr").text == "Zolmitriptan le soir"
