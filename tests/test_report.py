"""Reports: worktypes, sections from dictated headings, templates rendered and read back, LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from transcribe.documents.pdf import convert_to_pdf
from transcribe.documents.report import ReportPeople, render_docx, template_path
from transcribe.documents.sections import detect_worktype, find_recipient, organise, split_sections
from transcribe.documents.worktypes import WORKTYPES
from transcribe.text import TextLayer


@pytest.fixture(scope="module")
def fr(text_layer: TextLayer):
    return text_layer.vocabulary.for_language("fr")


@pytest.fixture(scope="module")
def en(text_layer: TextLayer):
    return text_layer.vocabulary.for_language("en")


@pytest.mark.parametrize(
    ("text", "worktype"),
    [
        ("Compte rendu opératoire. Cholécystectomie.", "operative"),
        ("Compte-rendu d'hospitalisation. Motif : chute.", "hospital"),
        ("Cher confrère, je vous adresse...", "letter"),
        ("Courrier au docteur Leroy. Cher ami", "letter"),
        ("Compte rendu de gastroscopie. Œsophagite.", "examination"),
        ("Échographie abdominale : normale.", "examination"),
        ("Compte rendu de consultation. Patient vu", "consultation"),
        ("Patient de 65 ans vu ce jour.", None),
    ],
)
def test_french_worktype_from_the_opening(fr, text: str, worktype: str | None) -> None:
    assert detect_worktype(text, fr) == worktype


@pytest.mark.parametrize(
    ("text", "worktype"),
    [("Operative report. Laparoscopic cholecystectomy.", "operative"), ("Discharge summary. Diagnosis", "hospital"),
     ("Dear Dr Smith, thank you", "letter"), ("Colonoscopy report. A polyp", "examination"),
     ("Seventy year old man seen today", None)],
)
def test_english_worktype_from_the_opening(en, text: str, worktype: str | None) -> None:
    assert detect_worktype(text, en) == worktype


def test_worktype_order_sidecar_then_dictation_then_author(fr) -> None:
    text = "Compte rendu opératoire. Suites simples."
    assert organise(text, fr, metadata_worktype="letter").worktype_source == "sidecar"
    assert organise(text, fr, author_default="consultation").worktype == "operative"
    assert organise("Suites simples.", fr, author_default="note").worktype_source == "author"
    assert organise("Suites simples.", fr).worktype == "consultation"


def test_french_sections_from_dictated_headings(fr) -> None:
    text = ("Patient de 65 ans vu ce jour.\nMotif de consultation : douleur thoracique.\n"
            "Antécédents : HTA, BPCO.\nExamen clinique : auscultation normale.\n"
            "Conclusion : angor stable.\nConduite à tenir : coronarographie.")
    body, sections = split_sections(text, fr)
    assert body == ("Patient de 65 ans vu ce jour.",)
    assert [s.heading for s in sections] == ["Motif de consultation", "Antécédents", "Examen clinique", "Conclusion",
                                             "Conduite à tenir"]
    assert sections[1].paragraphs == ("HTA, BPCO.",)


def test_english_sections_and_headings_not_invented(en) -> None:
    text = "History: hypertension. Examination: chest clear.\nAssessment: stable angina. Plan: aspirin."
    body, sections = split_sections(text, en)
    assert body == () and [s.section for s in sections] == ["history", "examination", "conclusion", "plan"]
    plain = "Seen today for chest pain. Treatment was started with aspirin."
    assert split_sections(plain, en) == ((plain,), ())  # "Treatment was" is no heading


def test_a_heading_word_inside_a_sentence_is_not_a_heading(fr) -> None:
    body, sections = split_sections("Le traitement est bien toléré. Examen clinique : normal.", fr)
    assert body == ("Le traitement est bien toléré.",) and [s.section for s in sections] == ["examination"]


@pytest.mark.parametrize(("text", "who"), [("Courrier au docteur Leroy. Cher ami", "Docteur Leroy"),
                                          ("Dear Dr Smith, thank you", "Dr Smith"), ("Bonjour", None)])
def test_recipient_of_a_letter(text: str, who: str | None) -> None:
    assert find_recipient(text) == who


PEOPLE = ReportPeople({"name": "Cabinet de cardiologie du Parc", "address": "1 rue des Lilas, Lyon", "phone": "",
                       "city": "Lyon"}, "Dr Anne Martin",
                      {"display_name": "DUPONT Jean", "id": "100001", "birth_date": "12/03/1950", "sex": "M"},
                      ("Dr Leroy",))


def _render(fr, text: str, tmp_path: Path, worktype: str | None = None, draft: bool = False) -> Path:
    content = organise(text, fr, metadata_worktype=worktype)
    data = render_docx(template_path(content.worktype, tmp_path / "no-site-templates"), content, PEOPLE,
                       language="fr", day=date(2026, 11, 23), draft=draft)
    path = tmp_path / "report.docx"
    path.write_bytes(data)
    return path


def test_the_report_reads_back_with_every_part(fr, tmp_path: Path) -> None:
    path = _render(fr, "Patient vu ce jour.\nAntécédents : HTA.\nConclusion : angor stable.", tmp_path)
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    header = " ".join(p.text for p in document.sections[0].header.paragraphs)
    assert "Cabinet de cardiologie du Parc" in header
    assert "Compte rendu de consultation" in paragraphs
    assert any("DUPONT Jean" in p and "12/03/1950" in p and "100001" in p for p in paragraphs)
    assert "Lyon, 23 novembre 2026" in paragraphs
    assert paragraphs.index("Antécédents") < paragraphs.index("HTA.") < paragraphs.index("Conclusion")
    assert "Dr Anne Martin" in paragraphs and any("Dr Leroy" in p for p in paragraphs)
    assert not any("{{" in p or "{%" in p for p in paragraphs + [header])
    assert not any("BROUILLON" in p for p in paragraphs)


def test_a_draft_says_so(fr, tmp_path: Path) -> None:
    document = Document(str(_render(fr, "Patient vu ce jour.", tmp_path, draft=True)))
    assert any("BROUILLON" in p.text for p in document.paragraphs)


def test_transcript_text_cannot_inject_template_code(fr, tmp_path: Path) -> None:
    document = Document(str(_render(fr, "Patient {{ practice.name }} {% if 1 %}x{% endif %} <b>&amp;", tmp_path)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "{{ practice.name }}" in text and "<b>&amp;" in text


def test_a_practice_template_overrides_the_default(fr, tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    document = Document()
    document.add_paragraph("EN-TÊTE MAISON {{ title }} pour {{ patient.display_name }}")
    document.add_paragraph("{%p for paragraph in body %}")
    document.add_paragraph("{{ paragraph }}")
    document.add_paragraph("{%p endfor %}")
    document.save(own / "letter.docx")
    assert template_path("letter", own) == own / "letter.docx"
    assert template_path("consultation", own).name == "consultation.docx" and template_path("consultation", own) != own / "consultation.docx"
    content = organise("Cher confrère, merci.", fr)
    data = render_docx(template_path(content.worktype, own), content, PEOPLE, language="fr", day=date(2026, 1, 2),
                       draft=False)
    (tmp_path / "out.docx").write_bytes(data)
    texts = [p.text for p in Document(str(tmp_path / "out.docx")).paragraphs]
    assert "EN-TÊTE MAISON Courrier pour DUPONT Jean" in texts and "Cher confrère, merci." in texts


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (apt-get install libreoffice-writer)")
@pytest.mark.parametrize("worktype", WORKTYPES)
def test_every_default_template_opens_in_libreoffice(fr, tmp_path: Path, worktype: str) -> None:
    path = _render(fr, "Patient vu ce jour.\nConclusion : angor stable.", tmp_path, worktype=worktype)
    pdf = convert_to_pdf(path.read_bytes(), f"report-{worktype}")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    text = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout
    assert "LibreOffice" in text
