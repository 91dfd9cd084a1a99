"""Reports: worktype, sections from dictated headings, DOCX from the practice's templates.

The pure core finds the worktype and the sections in the clean text; the edges
render a template with docxtpl and convert to PDF with LibreOffice. Headings
that were not dictated are not invented: text before the first heading is the
body of the report.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.resources
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
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
from transcribe.documents.worktypes import DEFAULT_WORKTYPE
from transcribe.errors import StageError
from transcribe.intake.atomic import write_atomic
from transcribe.patient_record.patients import PatientRecord, sex_of
from transcribe.records import CleanText, DraftPaths, Transcript
from transcribe.settings import Settings
from transcribe.vocabulary.folding import fold, fold_with_map
from transcribe.vocabulary.records import LanguageVocabulary
from transcribe.vocabulary.specialties import label_of as specialty_label

_LABELS = {
    "fr": {
        "patient": "Patient",
        "born": "né(e) le",
        "born_M": "né le",
        "born_F": "née le",
        "copies": "Copie à",
        "concerning": "Concerne",
        "rpps": "RPPS",
        "draft": "BROUILLON — à valider",
        "months": [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
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
        "months": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
    },
}


class RenderFailed(StageError):
    """A report document could not be made from its template."""

    kind = "render-failed"
    hint = "check the template in the templates folder (open it in Word), or remove it to use the default"


class DraftsUnwritable(StageError):
    """The draft files of a job could not be written: the drafts disk is full, read-only, or gone."""

    kind = "drafts-unwritable"
    hint = "free space on the drafts disk (paths.drafts), or make it writable again; the dictation is tried again"


@dataclass(frozen=True)
class Section:
    """One section of a report: its heading as written, and its paragraphs."""

    section: str
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ReportContent:
    """What a report says, organised: worktype and title, body, sections, recipient."""

    worktype: str
    worktype_source: str
    title: str
    body: tuple[str, ...]
    sections: tuple[Section, ...] = ()
    recipient: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


def paragraphs_of(text: str) -> tuple[str, ...]:
    """Split text into paragraphs on blank lines, keeping single line breaks inside them."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return tuple(block for block in blocks if block)


# --- worktype --------------------------------------------------------------------------------
def detect_worktype(text: str, vocab: LanguageVocabulary | None) -> str | None:
    """The worktype a dictation announces in its opening words ("compte rendu opératoire"), if any."""
    if vocab is None:
        return None
    opening = fold(" ".join(text.split()[:12]))
    opening = re.sub(r"[^\w' ]+", " ", opening)
    best: tuple[int, str] | None = None
    for entry in vocab.worktypes:
        for phrase in entry.openings:
            key = fold(phrase)
            if re.match(rf"\s*{re.escape(key)}\b", opening) and (best is None or len(key) > best[0]):
                best = (len(key), entry.worktype)
    return best[1] if best else None


def choose_worktype(
    clean_text: str, vocab: LanguageVocabulary | None, *, metadata: str | None, author_default: str | None
) -> tuple[str, str]:
    """The worktype and where it came from: sidecar, dictated opening, author's default, or the default."""
    if metadata:
        return metadata, "sidecar"
    dictated = detect_worktype(clean_text, vocab)
    if dictated:
        return dictated, "dictated"
    if author_default:
        return author_default, "author"
    return DEFAULT_WORKTYPE, "default"


def worktype_title(worktype: str, vocab: LanguageVocabulary | None) -> str:
    """The report title of a worktype in the report's language."""
    for entry in vocab.worktypes if vocab else ():
        if entry.worktype == worktype:
            return entry.title
    return worktype.capitalize()


_RECIPIENT = re.compile(
    r"(?:courrier|lettre)\s+(?:au|pour le|à l'attention du|pour la|à la)\s+"
    r"(?P<who>(?:docteur|dr|professeur|pr)\.?\s+[^\W\d_][\w'-]*(?:\s+[A-ZÀ-Ý][\w'-]*)?)"
    r"|^dear\s+(?P<dear>(?:doctor|dr|professor|prof)\.?\s+[^\W\d_][\w'-]*)",
    re.IGNORECASE,
)


def find_recipient(text: str) -> str | None:
    """The colleague a letter is for ("courrier au docteur Leroy", "Dear Dr Smith")."""
    m = _RECIPIENT.search(" ".join(text.split()[:20]))
    if not m:
        return None
    who = (m.group("who") or m.group("dear")).strip()
    return re.sub(r"^(docteur|dr)\.?\s", "Docteur ", who, flags=re.IGNORECASE) if m.group("who") else who


# --- sections --------------------------------------------------------------------------------
#: how a section's heading is written in the document: as dictated ("Traitement"), or as the section's
#: standard title in vocab/<lang>/sections.tsv ("Conduite à tenir"); ``text.headings`` chooses
HEADINGS = ("dictated", "standard")


@dataclass(frozen=True)
class SectionSpan:
    """Where a dictated heading and its section's text lie in a text (offsets in that text).

    ``heading`` holds the words dictated (first letter in capitals), ``title`` the section's standard title.
    """

    section: str
    heading: str
    heading_start: int
    content_start: int
    content_end: int
    title: str = ""


def find_section_spans(text: str, vocab: LanguageVocabulary | None) -> tuple[int, tuple[SectionSpan, ...]]:
    """Where the body ends and each dictated section lies, as offsets in ``text`` itself.

    Headings are looked for in a folded copy of the text; every offset found there goes back
    through the copy's position map, so that a ligature or a combining accent before a heading
    never shifts a cut.
    """
    if vocab is None or not vocab.sections:
        return len(text), ()
    headings = _heading_keys(vocab)
    folded = fold_with_map(text)
    key_text = folded.text
    # start of heading, its end, start of its text (folded offsets), entry
    found: list[tuple[int, int, int, Any]] = []
    for m in _LINE_OR_SENTENCE_START.finditer(key_text):
        start = m.end()
        for key, entry in headings:
            after = start + len(key)
            if key_text.startswith(key, start) and (after == len(key_text) or not key_text[after].isalnum()):
                rest = _HEADING_END.match(key_text, after)
                if rest:
                    found.append((start, after, rest.end(), entry))
                break
    spans: list[SectionSpan] = []
    for index, (heading_start, heading_end, content_start, entry) in enumerate(found):
        a = folded.original(heading_start, heading_start)[0]
        h = folded.original(heading_end, heading_end)[0]
        b = folded.original(content_start, content_start)[0]
        dictated = capitalise_first(" ".join(text[a:h].split())) or entry.heading
        spans.append(SectionSpan(entry.section, dictated, a, b, len(text), entry.heading))
        if index:
            previous = spans[index - 1]
            spans[index - 1] = SectionSpan(
                previous.section, previous.heading, previous.heading_start, previous.content_start, a, previous.title
            )
    body_end = spans[0].heading_start if spans else len(text)
    return body_end, tuple(spans)


_LINE_OR_SENTENCE_START = re.compile(r"(?:^|(?<=\n)|(?<=[.!?] ))")
_HEADING_END = re.compile(r"\s*(?::|\.|\n)\s*")


def _heading_keys(vocab: LanguageVocabulary) -> list[tuple[str, Any]]:
    return sorted(
        ((fold(spoken), entry) for entry in vocab.sections for spoken in entry.spoken), key=lambda item: -len(item[0])
    )


def split_sections(
    text: str, vocab: LanguageVocabulary | None, *, headings: str = "dictated"
) -> tuple[tuple[str, ...], tuple[Section, ...]]:
    """The body (text before the first dictated heading) and the sections that follow.

    Every character of ``text`` outside the dictated headings is in the body or a section, as it
    was written; only blank lines between paragraphs and spaces around them are layout. Each
    heading is written as dictated, or as its section's standard title (``headings="standard"``).
    """
    body_end, spans = find_section_spans(text, vocab)
    body = paragraphs_of(text[:body_end])
    sections: list[Section] = []
    for span in spans:
        paragraphs = paragraphs_of(text[span.content_start : span.content_end])
        heading = span.title if headings == "standard" and span.title else span.heading
        if sections and sections[-1].section == span.section and fold(sections[-1].heading) == fold(heading):
            previous = sections.pop()
            paragraphs = previous.paragraphs + paragraphs
        sections.append(Section(span.section, heading, paragraphs))
    return body, tuple(sections)


def capitalise_first(paragraph: str) -> str:
    """A paragraph as a report shows it: its first letter in capitals, when that is one letter."""
    first = paragraph[:1]
    upper = first.upper()
    return (upper if len(upper) == 1 else first) + paragraph[1:]


def organise(
    clean_text: str,
    vocab: LanguageVocabulary | None,
    *,
    metadata_worktype: str | None = None,
    author_default: str | None = None,
    headings: str = "dictated",
) -> ReportContent:
    """Organise a clean text into a report: worktype, title, body, sections (``headings``: see ``HEADINGS``), recipient."""
    worktype, source = choose_worktype(clean_text, vocab, metadata=metadata_worktype, author_default=author_default)
    body, sections = split_sections(clean_text, vocab, headings=headings)
    recipient = find_recipient(clean_text) if worktype == "letter" else None
    return ReportContent(worktype, source, worktype_title(worktype, vocab), body, sections, recipient)


# --- documents -------------------------------------------------------------------------------
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
    metadata: dict[str, Any] | None,
    patient: PatientRecord | None,
    typed_recipient: str | None = None,
    typed_copies: list[str] | None = None,
) -> Addressee:
    """Who a report is for and who gets a copy: the screen's choice, else the sidecar's, the dictation's, the GP.

    Only consultations and letters are addressed (``letters.LETTER_WORKTYPES``); copies come from
    the screen, else the sidecar.
    """
    metadata = metadata or {}
    copies = clean_copies(typed_copies if typed_copies is not None else list(metadata.get("copies") or ()))
    if worktype not in LETTER_WORKTYPES and typed_recipient is None:
        return Addressee("", "", copies)
    recipient, source = choose_addressee(
        typed=typed_recipient,
        sidecar=metadata.get("recipient"),
        dictated=find_recipient(text),
        gp=patient.gp if patient else None,
        language=language,
    )
    return Addressee(recipient[:200], source, copies)


def format_date(day: date, language: str) -> str:
    """A date as a letter writes it ("23 novembre 2026", "23 November 2026")."""
    months = _LABELS.get(language, _LABELS["en"])["months"]
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

    labels = _LABELS.get(language, _LABELS["en"])
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
        "rpps_label": labels["rpps"],
        "concerning_label": labels["concerning"],
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
        "draft_label": labels["draft"],
        "patient_label": labels["patient"],
        "born_label": labels.get(f"born_{sex_of((people.patient or {}).get('sex', ''))}", labels["born"]),
        "copies_label": labels["copies"],
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
    return str(_LABELS.get(language, _LABELS["en"])["draft"])


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


#: LibreOffice's PDF export asked for PDF/A-2b (its filter option ``SelectPdfVersion`` 2)
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def convert_to_pdf(docx: bytes, name: str, *, timeout_s: float = 180.0, pdfa: bool = False) -> bytes:
    """A PDF of a DOCX, made by LibreOffice (``soffice --headless --convert-to pdf``) within ``timeout_s``.

    ``pdfa``: a PDF/A-2b (fonts embedded, XMP identification), the archival copy the exchange formats carry.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RenderFailed(
            "LibreOffice (soffice) is not installed: it is needed to make PDF copies "
            "(apt-get install libreoffice-writer), or set filing.pdf = false"
        )
    with tempfile.TemporaryDirectory(prefix="transcribe-pdf-") as folder:
        source = Path(folder) / f"{name}.docx"
        source.write_bytes(docx)
        profile = Path(folder) / "profile"
        command = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            PDFA_FILTER if pdfa else "pdf",
            "--outdir",
            folder,
            str(source),
        ]
        try:  # in a session of its own, so that a LibreOffice that hangs is stopped with all its processes
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise RenderFailed(f"LibreOffice ({soffice}) could not be started ({e.strerror})") from e
        try:
            _, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired as e:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RenderFailed(
                f"LibreOffice did not convert {name}.docx to PDF within {timeout_s:g} s (it hung, or the machine "
                "is overloaded; filing.pdf_timeout_s sets the limit); it is tried again"
            ) from e
        pdf = Path(folder) / f"{name}.pdf"
        if process.returncode != 0 or not pdf.is_file():
            raise RenderFailed(f"LibreOffice could not convert {name}.docx to PDF ({stderr[-200:]!r})")
        return pdf.read_bytes()


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
