"""Text integrity after the engine: sections, the review editor and filing reproduce every character.

Each stage that cuts a text (sections, hallucination and prompt-copy finders) searches a folded
copy of it. These tests reproduce the cases where an offset found on the folded copy cut the
original text in the wrong place ("œ" folds to two letters), and try to break the invariant
with arbitrary Unicode: ligatures, combining accents, emoji, non-breaking spaces.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transcribe.documents.report import ReportPeople, render_docx, template_path
from transcribe.documents.sections import find_section_spans, organise, split_sections
from transcribe.text import TextLayer
from transcribe.text.hallucinations import find_hallucinations
from transcribe.text.prompt_copies import find_prompt_copies
from transcribe.text.tokens import SourceText
from transcribe.vocabulary.folding import fold, fold_with_map
from transcribe.work.review_state import blocks_of, final_text

PEOPLE = ReportPeople({"name": "Cabinet test", "address": "", "phone": "", "city": ""}, "Dr Test",
                      {"display_name": "PATIENT Fictif", "id": "999", "birth_date": "", "sex": ""})


@pytest.fixture(scope="module")
def fr(text_layer: TextLayer):
    return text_layer.vocabulary.for_language("fr")


@pytest.fixture(scope="module")
def en(text_layer: TextLayer):
    return text_layer.vocabulary.for_language("en")


def visible(text: str) -> str:
    """The characters of a text that are not layout (spaces and line breaks)."""
    return "".join(c for c in text if not c.isspace())


# --- the cases seen ------------------------------------------------------------------------
VALIDATED = ("Motif de consultation : œdème des membres inférieurs et douleur du cœur. "
             "Antécédents : insuffisance cardiaque, cœur sain à l'échographie de 2019.\n"
             "Traitement : furosémide 40 mg par jour")


def test_a_ligature_before_a_heading_does_not_shift_the_sections(fr) -> None:
    body, sections = split_sections(VALIDATED, fr)
    assert body == ()
    assert [(s.heading, s.paragraphs) for s in sections] == [
        ("Motif de consultation", ("œdème des membres inférieurs et douleur du cœur.",)),
        ("Antécédents", ("insuffisance cardiaque, cœur sain à l'échographie de 2019.",)),
        ("Traitement", ("furosémide 40 mg par jour",)),  # a dictated heading keeps its words (issue 22)
    ]
    _, standard = split_sections(VALIDATED, fr, headings="standard")  # a site's choice: the sections' titles
    assert [s.heading for s in standard] == ["Motif de consultation", "Antécédents", "Conduite à tenir"]


def test_the_filed_document_holds_the_drug_name_after_a_ligature(fr, tmp_path: Path) -> None:
    paragraphs = _document_paragraphs(fr, VALIDATED)
    assert "Furosémide 40 mg par jour" in paragraphs
    assert "Insuffisance cardiaque, cœur sain à l'échographie de 2019." in paragraphs


def test_a_subtitle_credit_after_a_ligature_is_still_found(fr) -> None:
    text = "Œdème des chevilles. Sous-titres réalisés par la communauté d'Amara.org"
    removals = find_hallucinations(SourceText(text, (), ()), fr.hallucinations)
    assert [text[r.start:r.end] for r in removals] == ["Sous-titres réalisés par la communauté d'Amara.org"]


def test_a_prompt_copy_after_a_ligature_is_placed_on_the_word(fr) -> None:
    text = "Œdème et cœur : bisoprolol, ramipril, furosémide."
    spans = ((0, 5), (6, 8), (9, 13), (14, 15), (16, 26), (27, 36), (37, 48))
    source = SourceText(text, spans, (0.9, 0.9, 0.9, 0.9, 0.3, 0.9, 0.9))
    copies = find_prompt_copies(source, ("bisoprolol", "ramipril", "furosémide"))
    assert {text[c.start:c.end] for c in copies} >= {"bisoprolol"}
    assert all(fold(text[c.start:c.end]) == fold(c.term) for c in copies)


# --- the fold map --------------------------------------------------------------------------
HOSTILE = st.characters(blacklist_categories=("Cs",))
HOSTILE_PIECES = st.sampled_from(["œ", "Œ", "æ", "Æ", "e\u0301", "\u0301", "İ", "ß", "ﬁ", "\u00a0", "\u202f", "🫀",
                                  "👩‍⚕️", "\u200d", "Ǆ", "ŉ", "\ufeff", "ς", "Σ"])


@st.composite
def hostile_text(draw: st.DrawFn, extra: list[str] | None = None) -> str:
    parts = draw(st.lists(st.one_of(st.text(HOSTILE, max_size=8), HOSTILE_PIECES,
                                    st.sampled_from([". ", "\n", " : ", ", ", " "] + (extra or []))), max_size=30))
    return "".join(parts)


@given(hostile_text())
@settings(max_examples=300, deadline=None)
def test_the_fold_map_points_every_folded_character_to_its_origin(text: str) -> None:
    folded = fold_with_map(text)
    assert folded.text == fold(text)
    assert len(folded.origin) == len(folded.text) + 1 and folded.origin[-1] == len(text)
    assert list(folded.origin) == sorted(folded.origin)
    for i in range(len(folded.text)):
        a, b = folded.original(i, i + 1)
        assert folded.text[i] in fold(text[a:b])


# --- sections: every character outside the headings is kept ------------------------------------
def _heading_phrases(vocab) -> list[str]:
    phrases = []
    for entry in vocab.sections:
        for spoken in entry.spoken:
            phrases += [spoken, spoken.capitalize(), spoken.upper(), unicodedata.normalize("NFD", spoken.capitalize())]
    return phrases


def _check_sections_keep_everything(text: str, vocab) -> None:
    body_end, spans = find_section_spans(text, vocab)
    keys = {fold(spoken) for entry in vocab.sections for spoken in entry.spoken}
    kept = text[:body_end]
    for span in spans:
        heading = fold(text[span.heading_start:span.content_start]).rstrip()
        heading = heading.rstrip(":.\n").rstrip()
        assert heading in keys, f"cut outside a heading: {text[span.heading_start:span.content_start]!r}"
        kept += text[span.content_start:span.content_end]
    body, sections = split_sections(text, vocab)
    out = "".join(body) + "".join(p for s in sections for p in s.paragraphs)
    assert visible(out) == visible(kept)
    removed = sum(span.content_start - span.heading_start for span in spans)
    assert len(kept) + removed == len(text)  # the spans tile the text


@given(st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sectioning_keeps_every_character_of_hostile_text(fr, en, data: st.DataObject) -> None:
    for vocab in (fr, en):
        text = data.draw(hostile_text(_heading_phrases(vocab)))
        _check_sections_keep_everything(text, vocab)


# --- the review editor, validation and filing --------------------------------------------------
XML_SAFE = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"), blacklist_characters="\ufffe\uffff")


@st.composite
def report_text(draw: st.DrawFn, vocab) -> str:
    words = st.one_of(st.text(XML_SAFE, min_size=1, max_size=10),
                      st.sampled_from(["œdème", "cœur", "Œsophage", "e\u0301de\u0300me", "🫀", "5\u00a0mg", "ﬁbrose",
                                       "İ", "ß", "bisoprolol", "40 mg"]))
    parts = draw(st.lists(st.one_of(words, st.sampled_from([". ", "\n", " ", ", "]),
                                    st.sampled_from(_heading_phrases(vocab)).map(lambda h: "\n" + h + " : ")),
                          min_size=1, max_size=25))
    return "".join(parts)


def _document_paragraphs(vocab, text: str) -> list[str]:
    content = organise(text, vocab)
    data = render_docx(template_path(content.worktype, Path("/nonexistent")), content, PEOPLE,
                       language=vocab.language, day=date(2026, 12, 1), draft=False)
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def _written_characters_match(expected: str, actual: str) -> bool:
    """Each character as given, or (the first letter of a paragraph) in capitals."""
    return len(expected) == len(actual) and all(a == b or b == a.upper() for a, b in zip(expected, actual))


@given(st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_editor_blocks_validation_and_the_filed_document_reproduce_every_character(fr, en, data: st.DataObject
                                                                                  ) -> None:
    vocab = data.draw(st.sampled_from([fr, en]))
    text = data.draw(report_text(vocab))
    # what the secretary sees in the editor, and what validation stores from it
    blocks = blocks_of(text, vocab)
    validated = final_text(blocks, vocab.language)
    body_end, spans = find_section_spans(text, vocab)
    expected = visible(text[:body_end] + "".join(text[s.content_start:s.content_end] for s in spans))
    assert visible("".join(b.text for b in blocks)) == expected
    # filing organises the validated text again: the same characters under the same headings
    body, sections = split_sections(validated, vocab)
    assert visible("".join(body) + "".join(p for s in sections for p in s.paragraphs)) == expected
    # and the document holds them, after its own title, patient and place lines
    paragraphs = _document_paragraphs(vocab, validated)
    headings = {s.heading for s in sections}
    start = next(i for i, p in enumerate(paragraphs) if p.startswith("Patient")) + 1
    written = visible("".join(p for p in paragraphs[start:-1] if p not in headings))
    assert _written_characters_match(expected, written), (expected, written)


# --- the finders of the text layer ----------------------------------------------------------------
@given(st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hallucination_and_prompt_copy_finders_cut_only_what_they_name(fr, data: st.DataObject) -> None:
    phrases = list(fr.hallucinations[:5])
    terms = ["bisoprolol", "œstradiol", "Kardégic", "cœur"]
    text = data.draw(hostile_text(phrases + terms + ["\u00a0!", "!"]))
    removals = find_hallucinations(SourceText(text, (), ()), fr.hallucinations)
    for removal in removals:
        cut = fold(text[removal.start:removal.end])
        if removal.kind == "hallucination":
            assert any(_words(fold(p)) and _words(cut)[:len(_words(fold(p)))] == _words(fold(p))
                       for p in fr.hallucinations), text[removal.start:removal.end]
    # every word counts as heard with low confidence, so each prompt term found is flagged
    spans = tuple((m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text))
    source = SourceText(text, spans, tuple(0.1 for _ in spans))
    for copy in find_prompt_copies(source, tuple(terms)):
        assert fold(text[copy.start:copy.end]) == fold(copy.term)
    for term in terms:
        if term in text and all(c in " .,:;!\n" for c in _around(text, term)):
            assert any(text[c.start:c.end] == term for c in find_prompt_copies(source, tuple(terms)))


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"\w+", text)


def _around(text: str, term: str) -> str:
    index = text.index(term)
    return text[index - 1:index] + text[index + len(term):index + len(term) + 1]
