"""Report documents: the people a report names, the DOCX made from the practice's templates, the drafts.

The content (worktype, title, sections) is found by ``transcribe.documents.sections``; here it is
rendered with docxtpl into the worktype's template (``compose_document``: the draft, the preview and
the filing compose the same way), read back for the screen, and written as a job's draft files.
PDF copies are made by ``transcribe.documents.pdf``.
"""

from __future__ import annotations

import errno
import importlib.resources
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from transcribe.documents.letters import (
    LETTER_WORKTYPES,
    Addressee,
    choose_addressee,
    clean_copies,
    salutation_and_closing,
)
from transcribe.documents.sections import ReportContent, capitalise_first, find_recipient, organise
from transcribe.errors import StageError
from transcribe.intake.atomic import write_atomic
from transcribe.messages import Catalogue
from transcribe.patient_record.patients import PatientRecord, sex_of
from transcribe.records import CleanText, DictationMetadata, DraftPaths, Transcript
from transcribe.settings import Settings
from transcribe.vocabulary.records import LanguageVocabulary
from transcribe.vocabulary.specialties import label_of as specialty_label

#: the words a report writes around what was dictated
_WORDS = Catalogue.by_language(
    {
        "fr": {
            "patient": "Patient",
            "born": "né(e) le",
            "born_M": "né le",
            "born_F": "née le",
            "copies": "Copie à",
            "concerning": "Concerne",
            "rpps": "RPPS",
            "draft": "BROUILLON — à valider",
            "months": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        },
        "en": {
            "patient": "Patient",
            "born": "born",
            "born_M": "born",
            "born_F": "born",
            "copies": "Copies to",
            "concerning": "Re",
            "rpps": "RPPS",
            "draft": "DRAFT — not validated",
            "months": "January February March April May June July August September October November December",
        },
    }
)


class RenderFailed(StageError):
    """A report document could not be made from its template."""

    kind = "render-failed"
    hint = "check the template in the templates folder (open it in Word), or remove it to use the default"


class DraftsUnwritable(StageError):
    """The draft files of a job could not be written: the drafts disk is full, read-only, or gone."""

    kind = "drafts-unwritable"
    hint = "free space on the drafts disk (paths.drafts), or make it writable again; the dictation is tried again"


@dataclass(frozen=True)
class ReportPeople:
    """Who the document names: practice, author (as reports sign: name, specialty, RPPS), patient, addressee, copies."""

    practice: dict[str, str]
    author_name: str
    patient: dict[str, str] = field(default_factory=dict)
    copies: tuple[str, ...] = ()
    author_specialty: str = ""
    author_rpps: str = ""
    #: the addressee chosen (``addressee_of``); None: the one the dictation names, if any
    recipient: str | None = None
    salutation: str = ""
    closing: str = ""


def people_of(
    settings: Settings,
    author: str,
    patient: PatientRecord | None,
    copies: tuple[str, ...] = (),
    *,
    recipient: str | None = None,
    language: str = "fr",
) -> ReportPeople:
    """Who a report names: the practice (letterhead), the author as reports sign, the patient, the addressee, copies.

    An author with no ``name`` set signs with no name (never with the inbox folder's name: "dr-martin").
    """
    known = settings.authors.get(author)
    practice = {
        "name": settings.practice.name,
        "address": settings.practice.address,
        "phone": settings.practice.phone,
        "city": settings.practice.city,
    }
    shown: dict[str, str] = {}
    if patient is not None:
        shown = {
            "display_name": patient.display_name,
            "id": patient.patient_id,
            "birth_date": patient.birth_date.strftime("%d/%m/%Y") if patient.birth_date else "",
            "sex": patient.sex,
        }
    return ReportPeople(
        practice,
        known.name if known else "",
        shown,
        clean_copies(copies),
        author_specialty=specialty_label(known.specialty, language) if known and known.specialty else "",
        author_rpps=known.rpps if known else "",
        recipient=recipient,
        salutation=known.salutation if known else "",
        closing=known.closing if known else "",
    )


def addressee_of(
    *,
    worktype: str,
    text: str,
    language: str,
    metadata: DictationMetadata,
    patient: PatientRecord | None,
    typed_recipient: str | None = None,
    typed_copies: list[str] | None = None,
) -> Addressee:
    """Who a report is for and who gets a copy: the screen's choice, else the sidecar's, the dictation's, the GP.

    Only consultations and letters are addressed (``letters.LETTER_WORKTYPES``); copies come from
    the screen, else the sidecar.
    """
    copies = clean_copies(typed_copies if typed_copies is not None else list(metadata.copies))
    if worktype not in LETTER_WORKTYPES and typed_recipient is None:
        return Addressee("", "", copies)
    recipient, source = choose_addressee(
        typed=typed_recipient,
        sidecar=metadata.recipient,
        dictated=find_recipient(text),
        gp=patient.gp if patient else None,
        language=language,
    )
    return Addressee(recipient[:200], source, copies)


def format_date(day: date, language: str) -> str:
    """A date as a letter writes it ("23 novembre 2026", "23 November 2026")."""
    months = _WORDS.say("months", language).split()
    return f"{day.day} {months[day.month - 1]} {day.year}"


def template_path(worktype: str, site_templates: Path) -> Path:
    """The practice's template for a worktype, or the default one shipped with the project."""
    own = site_templates / f"{worktype}.docx"
    if own.is_file():
        return own
    return Path(str(importlib.resources.files("transcribe") / "templates" / f"{worktype}.docx"))


def render_docx(
    template: Path, content: ReportContent, people: ReportPeople, *, language: str, day: date, draft: bool
) -> bytes:
    """The report as DOCX bytes, from a docxtpl template."""
    from docxtpl import DocxTemplate

    def labels(key: str) -> str:
        return _WORDS.say(key, language)

    city = people.practice.get("city", "")
    recipient = people.recipient if people.recipient is not None else content.recipient or ""
    text = "\n".join([*content.body, *(p for s in content.sections for p in s.paragraphs)])
    salutation, closing = (
        salutation_and_closing(text, language=language, own_salutation=people.salutation, own_closing=people.closing)
        if recipient
        else ("", "")
    )
    context = {
        "practice": people.practice,
        "author": {"name": people.author_name, "specialty": people.author_specialty, "rpps": people.author_rpps},
        "rpps_label": labels("rpps"),
        "concerning_label": labels("concerning"),
        "salutation": salutation,
        "closing": closing,
        "patient": people.patient or {"display_name": "", "id": "", "birth_date": "", "sex": ""},
        "title": content.title,
        "worktype": content.worktype,
        "date": format_date(day, language),
        "place_and_date": f"{city}, {format_date(day, language)}" if city else format_date(day, language),
        "body": list(content.body),
        "sections": [
            {"heading": s.heading, "paragraphs": [capitalise_first(p) for p in s.paragraphs]} for s in content.sections
        ],
        "copies": list(people.copies),
        "recipient": recipient,
        "draft": draft,
        "draft_label": labels("draft"),
        "patient_label": labels("patient"),
        "born_label": _WORDS.say(f"born_{sex_of((people.patient or {}).get('sex', ''))}", language, labels("born")),
        "copies_label": labels("copies"),
    }
    try:
        document = DocxTemplate(str(template))
        document.render(context, autoescape=True)
        buffer = io.BytesIO()
        document.save(buffer)
    except Exception as e:  # docxtpl and jinja raise many kinds on a broken template
        raise RenderFailed(f"the template {template.name} could not be filled ({type(e).__name__}: {e})") from e
    return buffer.getvalue()


def draft_label(language: str) -> str:
    """The mark of a draft document ("BROUILLON — à valider"), in the report's language."""
    return _WORDS.say("draft", language)


def compose_document(
    settings: Settings,
    vocab: LanguageVocabulary | None,
    *,
    text: str,
    worktype: str,
    language: str,
    author: str,
    patient: PatientRecord | None,
    copies: tuple[str, ...],
    day: date,
    draft: bool,
    recipient: str | None = None,
) -> bytes:
    """The report's DOCX: the one composition that the draft, filing, the preview and the doctor's signing page use.

    The same text, worktype, patient, addressee and day give the same document: what the doctor
    reads and signs is what is filed.
    """
    content = organise(text, vocab, metadata_worktype=worktype, headings=settings.text.headings)
    people = people_of(settings, author, patient, copies, recipient=recipient, language=language)
    template = template_path(worktype, settings.paths.templates)
    return render_docx(template, content, people, language=language, day=day, draft=draft)


def read_document(document: bytes) -> dict[str, Any]:
    """A DOCX as the screens show it: its header's lines, then each paragraph with its kind (title, heading, text)."""
    from docx import Document

    parsed = Document(io.BytesIO(document))
    header = [p.text for section in parsed.sections for p in section.header.paragraphs if p.text.strip()]
    paragraphs = []
    for p in parsed.paragraphs:
        style = (p.style.name if p.style is not None else "") or ""
        kind = "title" if style in ("Title", "Heading 1") else "heading" if style.startswith("Heading") else "text"
        paragraphs.append({"kind": kind, "text": p.text})
    for table in parsed.tables:
        for row in table.rows:
            paragraphs.append({"kind": "text", "text": " — ".join(c.text for c in row.cells if c.text.strip())})
    return {"header": header, "paragraphs": paragraphs}


# --- drafts ----------------------------------------------------------------------------------
def write_draft(
    folder: Path,
    transcript: Transcript,
    clean: CleanText,
    content: ReportContent,
    document: bytes,
    vocabulary_version: str,
) -> DraftPaths:
    """Write the draft files of a job into its folder, each atomically.

    ``transcript.json`` is the engine's output; ``edits.json`` the text layer's result (source text,
    clean text, every edit and flag, vocabulary version) and the report's organisation;
    ``draft.txt`` and ``draft.docx`` the clean text and the draft document.
    """
    paths = DraftPaths(
        transcript_json=folder / "transcript.json",
        edits_json=folder / "edits.json",
        text=folder / "draft.txt",
        docx=folder / "draft.docx",
    )
    layer = {**clean.to_json(), "vocabulary_version": vocabulary_version, "report": content.to_json()}
    try:
        write_atomic(paths.transcript_json, json.dumps(transcript.to_json(), ensure_ascii=False, indent=2).encode())
        write_atomic(paths.edits_json, json.dumps(layer, ensure_ascii=False, indent=2).encode())
        write_atomic(paths.text, (clean.text.rstrip("\n") + "\n").encode())
        write_atomic(paths.docx, document)
    except OSError as e:  # a stage failure on a good dictation: retried later, not an internal error
        full = e.errno == errno.ENOSPC
        raise DraftsUnwritable(
            f"{folder}: the draft could not be written ("
            + ("the drafts disk is full" if full else e.strerror or type(e).__name__)
            + ")"
        ) from e
    return paths
