"""Reading the official files of the code sets a site imports, recognised by their content.

- ATIH, CIM-10 FR à usage PMSI: ``LIBCIM10MULTI.TXT``, one code a line, fields separated by ``|``:
  code (padded), PMSI type, SSR profile, psychiatry type, short label, long label (ISO-8859-1); the
  headings of the classification (type 3) are not kept: they are never coded.
- CCAM, the list of acts (Assurance Maladie's table of acts, or the ATIH's descriptive CCAM for the
  PMSI) saved as CSV: a header naming a code column and a label column ("Code", "Libellé" or "Texte"),
  one act a row (an act's further rows, for its activities and phases, add nothing here).
- CMS, ICD-10-CM: ``icd10cm_order_<year>.txt`` (order number, code, billable flag, short and long
  descriptions, in fixed columns) or ``icd10cm_codes_<year>.txt`` (code, description).

A zip archive as published is read too: its first member that is one of these. Each set is versioned
with the date it applies from: the date the file states, else one in its name (a year alone: the 1st
of January, or for ICD-10-CM the 1st of October before the fiscal year it names), else the one
``transcribe codes import --version`` gives. Pure: bytes and a name in, a ``CodeSet`` out.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date

from transcribe.coding.catalogue import compact, dotted
from transcribe.errors import CodingError
from transcribe.vocabulary.folding import fold

_CIM10 = re.compile(r"^[A-Z][0-9]{2}[0-9A-Z+]{0,3}$")
_CCAM = re.compile(r"^[A-Z]{4}[0-9]{3}$")
_ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
#: the order file's fixed columns: order number 1-5, code 7-13, billable flag 15, short description 17-76, long 78-
_ORDER_LINE = re.compile(r"^(\d{5}) ([A-Z][0-9A-Z]{2,6}) *([01]) ")
_CODES_LINE = re.compile(r"^([A-Z][0-9][0-9A-Z]{1,5})\s+(\S.*)$")
_DAY = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")

#: what the message on a file of the wrong kind lists
EXPECTED = (
    "the ATIH's CIM-10 FR file (LIBCIM10MULTI.TXT), the CCAM list of acts saved as CSV (columns Code and "
    "Libellé), or the CMS's ICD-10-CM file (icd10cm_order_YEAR.txt or icd10cm_codes_YEAR.txt), or a zip "
    "holding one of them"
)


#: what a reader found: system, kind of file, labels by code, the date the file states (if it does)
Found = tuple[str, str, dict[str, str], "str | None"]


@dataclass(frozen=True)
class CodeSet:
    """The codes and labels of one version of one system, read from an official file."""

    system: str
    version: str
    source: str
    file_kind: str
    labels: dict[str, str]


def read_code_set(name: str, content: bytes, *, version: str | None = None) -> CodeSet:
    """Recognise an official file by its content and read its codes; ``version``: the date it applies from."""
    if content[:4] == b"PK\x03\x04":
        return _from_zip(name, content, version)
    found = _recognise(_text(content))
    if found is None:
        raise CodingError(f"{name}: not a code set we can read; expected {EXPECTED}")
    system, kind, labels, stated = found
    return CodeSet(system, _version(version, stated, name, system), name, kind, labels)


def _recognise(text: str) -> Found | None:
    for reader in (_atih_cim10, _cms_order, _cms_codes, _ccam_csv):
        found = reader(text)
        if found is not None:
            return found
    return None


def _from_zip(name: str, content: bytes, version: str | None) -> CodeSet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = sorted((m for m in archive.infolist() if not m.is_dir()), key=lambda m: m.file_size, reverse=True)
        for member in members:
            found = _recognise(_text(archive.read(member)))
            if found is None:
                continue
            system, kind, labels, stated = found
            day = _version(version, stated, member.filename, system, required=False) or _version(
                version, stated, name, system
            )
            return CodeSet(system, day, f"{name}:{member.filename}", kind, labels)
    except zipfile.BadZipFile as e:
        raise CodingError(f"{name}: the zip archive is damaged ({e}); download it again") from e
    raise CodingError(f"{name}: the archive holds no code set we can read; expected {EXPECTED}")


def _text(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1", errors="replace")  # latin-1 decodes anything; kept for the type checker


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _most(lines: list[str], matches: int) -> bool:
    """Whether most lines (all but a header or a few) are of the kind."""
    return bool(lines) and matches >= max(1, int(len(lines) * 0.9))


def _atih_cim10(text: str) -> Found | None:
    lines = _lines(text)
    labels: dict[str, str] = {}
    matched = 0
    for line in lines:
        fields = [f.strip() for f in line.split("|")]
        if len(fields) >= 6 and _CIM10.match(fields[0]) and fields[5]:
            matched += 1
            if fields[1] != "3":  # type 3: a heading of the classification, never coded
                labels.setdefault(dotted(fields[0]), fields[5])
    return ("cim10", "atih-libcim10multi", labels, None) if _most(lines, matched) and labels else None


def _cms_order(text: str) -> Found | None:
    lines = _lines(text)
    labels: dict[str, str] = {}
    matched = 0
    for line in lines:
        m = _ORDER_LINE.match(line.rstrip())
        if m:
            matched += 1
            if m.group(3) == "1" and line[77:].strip():  # a code one may bill; the others are headings
                labels[dotted(m.group(2))] = line[77:].strip()
    return ("icd10cm", "cms-icd10cm-order", labels, None) if _most(lines, matched) and labels else None


def _cms_codes(text: str) -> Found | None:
    lines = _lines(text)
    labels: dict[str, str] = {}
    for line in lines:
        m = _CODES_LINE.match(line.rstrip())
        if m and "|" not in line and ";" not in line:
            labels[dotted(m.group(1))] = m.group(2).strip()
    return ("icd10cm", "cms-icd10cm-codes", labels, None) if _most(lines, len(labels)) else None


def _ccam_csv(text: str) -> Found | None:
    lines = text.splitlines()
    for start, line in enumerate(lines[:30]):  # a title or a date may come before the header
        delimiter = max(";,\t|", key=line.count)
        header = [fold(cell).lower().strip() for cell in next(csv.reader([line], delimiter=delimiter))]
        code_column = next(
            (i for i, h in enumerate(header) if h in ("code", "code ccam", "code acte", "cod_acte")), None
        )
        label_column = next(
            (i for i, h in enumerate(header) if any(w in h for w in ("libelle", "texte", "nom long", "designation"))),
            None,
        )
        if code_column is None or label_column is None:
            continue
        labels: dict[str, str] = {}
        rows = [r for r in csv.reader(lines[start + 1 :], delimiter=delimiter) if any(c.strip() for c in r)]
        for row in rows:
            if len(row) > max(code_column, label_column):
                code = compact(row[code_column])
                if _CCAM.match(code) and row[label_column].strip():
                    labels.setdefault(code, row[label_column].strip())
        if labels:
            return "ccam", "ccam-csv", labels, _stated_day("\n".join(lines[:start]))
    return None


def _stated_day(text: str) -> str | None:
    """A date written in a file's title lines ("applicable au 01/01/2025")."""
    m = _DAY.search(text)
    if not m:
        return None
    try:
        if m.group(1):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        return date(int(m.group(4)), int(m.group(5)), int(m.group(6))).isoformat()
    except ValueError:
        return None


def _version(given: str | None, stated: str | None, name: str, system: str, *, required: bool = True) -> str:
    if given:
        try:
            return date.fromisoformat(given).isoformat()
        except ValueError as e:
            raise CodingError(f"version '{given}' is not a date; give the date the set applies from: YYYY-MM-DD") from e
    if stated:
        return stated
    day = _stated_day(name)
    if day:
        return day
    year = _YEAR.search(name)
    if year:  # ICD-10-CM's fiscal year starts on the 1st of October before it
        y = int(year.group(1))
        return (date(y - 1, 10, 1) if system == "icd10cm" else date(y, 1, 1)).isoformat()
    if not required:
        return ""
    raise CodingError(
        f"{name}: the file does not say which version it is; give the date it applies from: "
        "transcribe codes import FILE --version YYYY-MM-DD"
    )
