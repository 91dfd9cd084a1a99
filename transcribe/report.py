"""Draft outputs of a transcribed dictation: transcript JSON, plain text and DOCX."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .atomic import write_atomic
from .records import CleanText, DraftPaths, Transcript


@dataclass(frozen=True)
class DraftReport:
    """What the draft document shows."""

    title: str
    author: str
    dictated_at: datetime
    paragraphs: tuple[str, ...]


def paragraphs_of(text: str) -> tuple[str, ...]:
    """Split text into paragraphs on blank lines, keeping single line breaks inside them."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return tuple(block for block in blocks if block)


def render_docx(report: DraftReport) -> bytes:
    """A plain DOCX draft: title, author and date, then the paragraphs."""
    from docx import Document

    document = Document()
    document.core_properties.title = report.title
    document.core_properties.author = report.author
    document.add_heading(report.title, level=1)
    document.add_paragraph(f"{report.author} — {report.dictated_at:%Y-%m-%d %H:%M}")
    for text in report.paragraphs:
        paragraph = document.add_paragraph()
        lines = text.split("\n")
        for number, line in enumerate(lines):
            run = paragraph.add_run(line)
            if number < len(lines) - 1:
                run.add_break()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_draft(folder: Path, transcript: Transcript, clean: CleanText, report: DraftReport,
                vocabulary_version: str) -> DraftPaths:
    """Write the draft files of a job into its folder, each atomically.

    ``transcript.json`` is the engine's output; ``edits.json`` the text layer's result (source text,
    clean text, every edit and flag, vocabulary version); ``draft.txt`` and ``draft.docx`` the clean text.
    """
    paths = DraftPaths(
        transcript_json=folder / "transcript.json",
        edits_json=folder / "edits.json",
        text=folder / "draft.txt",
        docx=folder / "draft.docx",
    )
    write_atomic(paths.transcript_json, json.dumps(transcript.to_json(), ensure_ascii=False, indent=2).encode())
    layer = {**clean.to_json(), "vocabulary_version": vocabulary_version}
    write_atomic(paths.edits_json, json.dumps(layer, ensure_ascii=False, indent=2).encode())
    write_atomic(paths.text, (clean.text.rstrip("\n") + "\n").encode())
    write_atomic(paths.docx, render_docx(report))
    return paths
