"""Write the default report templates (one DOCX per worktype) that ship with the project.

A practice edits its copy in Word (letterhead, logo, fonts, signature) and puts it in its
templates folder (``paths.templates``); the placeholders below are filled by docxtpl:

  {{ practice.name }} {{ practice.address }} {{ practice.phone }}
  {{ title }} {{ worktype }} {{ date }} {{ place_and_date }}
  {{ author.name }} {{ author.specialty }} {{ author.rpps }}    empty when not set ([authors.X])
  {{ patient.display_name }} {{ patient.id }} {{ patient.birth_date }} {{ patient.sex }}
  {% for p in body %}...{% endfor %}            the text dictated before the first heading
  {% for s in sections %}{{ s.heading }}{% for p in s.paragraphs %}...{% endfor %}{% endfor %}
  {{ recipient }} {{ salutation }} {{ closing }}    a letter's addressee, opening and closing (empty: none)
  {% for c in copies %}{{ c }}{% endfor %}     "copie à" recipients, one "Copie à" line each
  {% if draft %}...{% endif %}                  only on drafts

Usage: python transcribe/templates/make_default_templates.py
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from transcribe.letters import LETTER_WORKTYPES
from transcribe.worktypes import WORKTYPES

HERE = Path(__file__).resolve().parent


def make(worktype: str) -> None:
    letter = worktype in LETTER_WORKTYPES
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    header = document.sections[0].header.paragraphs[0]
    header.text = "{{ practice.name }}"
    header.runs[0].bold = True
    who = document.sections[0].header.add_paragraph(
        "{{ author.name }}{% if author.specialty %} — {{ author.specialty }}{% endif %}"
        "{% if author.rpps %} — {{ rpps_label }} {{ author.rpps }}{% endif %}"
    )
    who.runs[0].font.size = Pt(9)
    line = document.sections[0].header.add_paragraph(
        "{{ practice.address }}{% if practice.phone %} — {{ practice.phone }}{% endif %}"
    )
    line.runs[0].font.size = Pt(9)
    document.add_paragraph("{%p if draft %}")
    draft_text = document.add_paragraph("{{ draft_label }}")
    draft_text.runs[0].bold = True
    draft_text.runs[0].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    document.add_paragraph("{%p endif %}")
    if letter:  # the addressee, above the place and date, on the right as French letters have it
        document.add_paragraph("{%p if recipient %}")
        addressee = document.add_paragraph("{{ recipient }}")
        addressee.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        document.add_paragraph("{%p endif %}")
    place = document.add_paragraph("{{ place_and_date }}")
    place.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.add_heading("{{ title }}", level=1)
    patient = document.add_paragraph()
    patient.add_run(
        "{% if recipient %}{{ concerning_label }}{% else %}{{ patient_label }}{% endif %} : "
        if letter
        else "{{ patient_label }} : "
    ).bold = True
    patient.add_run(
        "{{ patient.display_name }}{% if patient.birth_date %}, {{ born_label }} {{ patient.birth_date }}{% endif %}{% if patient.id %} ({{ patient.id }}){% endif %}"
    )
    if letter:
        document.add_paragraph("{%p if salutation %}")
        document.add_paragraph("{{ salutation }}")
        document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for paragraph in body %}")
    document.add_paragraph("{{ paragraph }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p for section in sections %}")
    document.add_heading("{{ section.heading }}", level=2)
    document.add_paragraph("{%p for paragraph in section.paragraphs %}")
    document.add_paragraph("{{ paragraph }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endfor %}")
    if letter:
        document.add_paragraph("{%p if closing %}")
        document.add_paragraph("{{ closing }}")
        document.add_paragraph("{%p endif %}")
    # the signature block: name, specialty, RPPS (each only when known)
    document.add_paragraph("{%p if author.name %}")
    signature = document.add_paragraph()
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    signature.add_run("{{ author.name }}").bold = True
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p if author.specialty or author.rpps %}")
    detail = document.add_paragraph(
        "{{ author.specialty }}{% if author.specialty and author.rpps %} — {% endif %}"
        "{% if author.rpps %}{{ rpps_label }} {{ author.rpps }}{% endif %}"
    )
    detail.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    detail.runs[0].font.size = Pt(9)
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for copy in copies %}")
    copies = document.add_paragraph()
    copies.add_run("{{ copies_label }} : ").bold = True
    copies.add_run("{{ copy }}")
    document.add_paragraph("{%p endfor %}")
    document.core_properties.title = f"{worktype} report template"
    document.save(str(HERE / f"{worktype}.docx"))


if __name__ == "__main__":
    for name in WORKTYPES:
        make(name)
        print(HERE / f"{name}.docx")
