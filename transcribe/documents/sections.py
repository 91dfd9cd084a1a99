"""What a report says, organised: its worktype and title, its body and the sections of dictated headings.

Pure: the clean text in, a ``ReportContent`` out. Headings that were not dictated are not invented:
text before the first heading is the body of the report. The document itself is made from it by
``transcribe.documents.report``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from transcribe.documents.worktypes import DEFAULT_WORKTYPE
from transcribe.vocabulary.folding import fold, fold_with_map
from transcribe.vocabulary.records import LanguageVocabulary


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
