"""The code sets a site codes with, and finding a code in them by its words or by the code itself.

A system's set is the newest one the site imported (``transcribe codes import``), else the one a
package ships under a licence that allows it: CIM-10 from edsnlp (``resources/cim10.csv.gz``, the
ATIH's labels), ICD-10-CM from simple-icd-10-cm (the CMS tabular list, public domain). CCAM is never
shipped: a site imports it from the official file.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from transcribe.coding.records import SYSTEMS, CodeEntry
from transcribe.vocabulary.folding import fold

#: a query that looks like a code: a letter, then letters, digits and dots ("E11", "e11.9", "DEQP003")
_CODE_QUERY = re.compile(r"^[A-Za-z][0-9A-Za-z]{1,6}(\.[0-9A-Za-z]{0,4})?$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class CodeTable:
    """One version of one system's codes and their labels."""

    system: str
    version: str
    source: str
    labels: Mapping[str, str]
    _search: list[tuple[str, str, str]] = field(default_factory=list, repr=False, compare=False)

    def search_rows(self) -> list[tuple[str, str, str]]:
        """(code without dots, folded label, code) of every code, made once."""
        if not self._search:
            self._search.extend((compact(code), f" {fold(label).lower()}", code) for code, label in self.labels.items())
        return self._search


class Catalogue:
    """The code sets of a site, one per system: labels, and search by words or by code."""

    def __init__(self, tables: Iterable[CodeTable]) -> None:
        self.tables = {table.system: table for table in tables}

    def table(self, system: str) -> CodeTable | None:
        """The set of a system, or None when the site has none (CCAM not imported)."""
        return self.tables.get(system)

    def label(self, system: str, code: str) -> str | None:
        """The label of a code in its system's set; None when the set lacks it (or there is no set)."""
        table = self.tables.get(system)
        return table.labels.get(code) if table else None

    def search(self, query: str, systems: Iterable[str], *, limit: int = 20) -> list[CodeEntry]:
        """Codes of these systems whose code starts with the query, or whose label holds every word of it.

        A query that looks like a code ("E11", "deqp") matches codes first; each word of a query in words
        must start a word of the label, accents and case ignored ("diab type 2").
        """
        query = query.strip()
        if not query:
            return []
        found: list[CodeEntry] = []
        looks_like_code = bool(_CODE_QUERY.match(query))
        wanted = compact(query)
        words = [f" {w}" for w in _WORD.findall(fold(query).lower())]
        for system in systems:
            table = self.tables.get(system)
            if table is None:
                continue
            rows = table.search_rows()
            if looks_like_code:
                found.extend(
                    CodeEntry(system, code, table.labels[code]) for key, _l, code in rows if key.startswith(wanted)
                )
            if words and len(found) < limit:
                found.extend(
                    CodeEntry(system, code, table.labels[code])
                    for key, label, code in rows
                    if all(w in label for w in words) and not (looks_like_code and key.startswith(wanted))
                )
        found.sort(key=lambda e: (not compact(e.code).startswith(wanted), len(e.code), e.code))
        return found[:limit]


def compact(code: str) -> str:
    """A code as compared: upper case, without dots or spaces ("e11.9" -> "E119")."""
    return re.sub(r"[\s.]", "", code).upper()


def dotted(code: str) -> str:
    """A CIM-10 code as usually written, with its dot ("E119" -> "E11.9"; "I10" stays)."""
    code = compact(code)
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


@cache
def shipped_table(system: str) -> CodeTable | None:
    """The set a package ships for a system (read once per process); None for CCAM, which is imported."""
    if system == "cim10":
        return _edsnlp_cim10()
    if system == "icd10cm":
        return _simple_icd_10_cm()
    return None


def _edsnlp_cim10() -> CodeTable:
    import edsnlp

    path = edsnlp.BASE_DIR / "resources" / "cim10.csv.gz"
    with gzip.open(path, "rb") as f:
        rows = csv.DictReader(io.TextIOWrapper(f, encoding="utf-8"))
        # type 3: a heading of the classification, never coded (the ATIH's PMSI type)
        labels = {dotted(row["code"]): row["long"] for row in rows if row.get("long") and row.get("type") != "3"}
    return CodeTable("cim10", f"edsnlp {edsnlp.__version__}", "edsnlp: resources/cim10.csv.gz (ATIH labels)", labels)


def _simple_icd_10_cm() -> CodeTable:
    import warnings
    from importlib.metadata import version

    with warnings.catch_warnings():  # it reads its data with importlib.resources' legacy API: not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    labels = {
        code: cm.get_description(code)
        for code in cm.get_all_codes(with_dots=True)
        if cm.is_leaf(code)  # the codes one may bill: the chapters and blocks are never leaves
    }
    return CodeTable("icd10cm", f"simple-icd-10-cm {version('simple-icd-10-cm')}", "simple-icd-10-cm (CMS)", labels)


def catalogue_of(imported: Mapping[str, CodeTable]) -> Catalogue:
    """The site's catalogue: each system's imported set where there is one, else the shipped one."""
    return Catalogue(table for system in SYSTEMS if (table := imported.get(system) or shipped_table(system)))
