"""PDF/A-2b: the archival copy of a report, made by LibreOffice's PDF/A export, and its check.

No PDF/A validator (veraPDF) can be installed from a package registry here: the check reads what a
PDF/A must carry and a reader can see without one — the PDF header, the XMP identification
(``pdfaid:part`` 2, ``pdfaid:conformance`` B), no encryption, embedded fonts, the end of file.
"""

from __future__ import annotations

import re

from transcribe.documents.pdf import convert_to_pdf


def make_pdfa(docx: bytes, name: str, *, timeout_s: float) -> bytes:
    """The report's PDF/A-2b, converted from its DOCX by LibreOffice (``report.convert_to_pdf``)."""
    return convert_to_pdf(docx, name, timeout_s=timeout_s, pdfa=True)


def check_pdfa(pdf: bytes) -> list[str]:
    """What keeps these bytes from being a PDF/A-2b (empty: nothing found)."""
    problems = []
    if not pdf.startswith(b"%PDF-"):
        problems.append("not a PDF (no %PDF- header)")
        return problems
    if b"%%EOF" not in pdf[-1024:]:
        problems.append("the PDF is cut short (no %%EOF at its end)")
    part = re.search(rb"pdfaid:part(?:=\"|>)\s*(\d)", pdf)
    conformance = re.search(rb"pdfaid:conformance(?:=\"|>)\s*([ABUabu])", pdf)
    if part is None or conformance is None:
        problems.append("no PDF/A identification in its XMP metadata (pdfaid:part, pdfaid:conformance)")
    elif part.group(1) != b"2" or conformance.group(1).upper() != b"B":
        problems.append(
            f"identified as PDF/A-{part.group(1).decode()}{conformance.group(1).decode().lower()}, not PDF/A-2b"
        )
    if b"/Encrypt" in pdf:
        problems.append("the PDF is encrypted (PDF/A forbids it)")
    if b"/FontFile" not in pdf:
        problems.append("no embedded font (PDF/A embeds every font it uses)")
    return problems
