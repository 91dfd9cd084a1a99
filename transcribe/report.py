"""Draft outputs of a transcribed dictation: transcript JSON, plain text and DOCX."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .atomic import write_atomic
from .records import DraftPaths, Transcript


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


def write_draft(folder: Path, transcript: Transcript, text: str, report: DraftReport) -> DraftPaths:
    """Write the three draft files of a job into its folder, each atomically."""
    paths = DraftPaths(
        transcript_json=folder / "transcript.json",
        text=folder / "draft.txt",
        docx=folder / "draft.docx",
    )
    write_atomic(paths.transcript_json, json.dumps(transcript.to_json(), ensure_ascii=False, indent=2).encode())
    write_atomic(paths.text, (text.rstrip("\n") + "\n").encode())
    write_atomic(paths.docx, render_docx(report))
    return paths
