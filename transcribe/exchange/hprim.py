"""HPRIM Médecins: the plain text practice software still reads (the 12-line identity header, the text, the end).

The header's lines, in order: a title (the report's), family name, given names, two address lines
(empty: the index holds no address), postcode and town (empty), birth date (DD/MM/YYYY), social
security number (the INS matricule when the index holds it, else empty), the document's reference
(job and version), the report's date (DD/MM/YYYY), the sender (author, with his RPPS), the addressee.
The text follows, then ``****FIN****`` and ``****FINFICHIER****``. Lines end with CR LF; the file is
Windows-1252 (what that practice software reads); a character Windows-1252 cannot hold is written
as its nearest letters ("ǆ" -> "dž" -> "dz") or "?" — the check lists each such change, so that a
text that would lose a character is refused rather than filed altered.

No schema exists for HPRIM (the HPRIM association's 1997 recommendation is a text): the check is
of this structure.
"""

from __future__ import annotations

import unicodedata

from .document import ExchangeDocument

HEADER_LINES = 12
END_OF_REPORT = "****FIN****"
END_OF_FILE = "****FINFICHIER****"
ENCODING = "cp1252"


def build_hprim(document: ExchangeDocument) -> bytes:
    """The report as an HPRIM Médecins file (Windows-1252, CR LF)."""
    patient = document.patient
    author = document.author_name + (f" (RPPS {document.author_rpps})" if document.author_rpps else "")
    header = [
        document.title,
        patient.family_name.upper(),
        patient.given_names,
        "",
        "",
        "",
        patient.birth_date.strftime("%d/%m/%Y") if patient.birth_date else "",
        patient.ins,
        f"{document.job_id}-{document.version}",
        document.validated_at.strftime("%d/%m/%Y"),
        author,
        document.recipient,
    ]
    lines = [" ".join(line.split()) for line in header]
    lines += document.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines += [END_OF_REPORT, END_OF_FILE]
    return "\r\n".join(_writable(line) for line in lines).encode(ENCODING) + b"\r\n"


def _writable(line: str) -> str:
    out = []
    for character in line:
        try:
            character.encode(ENCODING)
            out.append(character)
        except UnicodeEncodeError:
            near = unicodedata.normalize("NFKD", character).encode(ENCODING, errors="ignore").decode(ENCODING)
            out.append(near or "?")
    return "".join(out)


def check_hprim(data: bytes, document: ExchangeDocument) -> list[str]:
    """What is wrong with an HPRIM file made for this document (empty: nothing)."""
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError:
        return [f"not {ENCODING} text"]
    lines = text.split("\r\n")
    problems = []
    if len(lines) < HEADER_LINES + 2 or lines[-1] != "" or lines[-3:-1] != [END_OF_REPORT, END_OF_FILE]:
        problems.append(f"does not end with {END_OF_REPORT} then {END_OF_FILE}")
    if "\n" in text.replace("\r\n", ""):
        problems.append("a line ends without CR LF")
    if len(lines) > 2 and (
        lines[1] != document.patient.family_name.upper() or lines[2] != document.patient.given_names
    ):
        problems.append("the header's names are not the patient's (lines 2 and 3)")
    lost = sorted({c for c in document.text if c not in "\r\n" and _writable(c) != c})
    if lost:
        problems.append("characters that HPRIM's Windows-1252 cannot hold would be changed: " + " ".join(lost[:10]))
    return problems
