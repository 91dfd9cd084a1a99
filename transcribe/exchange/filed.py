"""Making the exchange formats of one report version at filing: each built, checked, and either placed or refused.

``make_formats`` is called by ``filing`` with the report's DOCX; it returns, for each format the site
asked for, the bytes to place or the reason it is refused (its own check failed, LibreOffice could
not make the PDF/A every other format carries). A refusal never stops the filing: the DOCX and the
other formats are filed, and the reason is kept with the filing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from . import SUFFIXES
from .cda import build_cda
from .document import ExchangeDocument
from .fhir import build_fhir, check_fhir
from .hprim import build_hprim, check_hprim
from .pdfa import check_pdfa
from .xdm import check_xdm, package_xdm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormatOutcome:
    """One exchange format of a filed report: the bytes to place (``data``), or why it is not filed (``refused``)."""

    format: str
    suffix: str
    data: bytes | None = None
    refused: str = ""


def make_formats(
    formats: tuple[str, ...], pdfa: bytes | str, document: Callable[[bytes], ExchangeDocument]
) -> list[FormatOutcome]:
    """Each format asked for, built and checked; ``pdfa`` is the PDF/A made (or why it could not be).

    ``document`` gives the facts of the report around a PDF (the formats carry the PDF/A).
    """
    outcomes: list[FormatOutcome] = []
    pdf_problem = pdfa if isinstance(pdfa, str) else "; ".join(check_pdfa(pdfa))
    for name in formats:
        suffix = SUFFIXES[name]
        if pdf_problem:
            reason = f"the PDF/A it carries could not be made: {pdf_problem}"
            outcomes.append(FormatOutcome(name, suffix, refused=pdf_problem if name == "pdfa" else reason))
            continue
        assert isinstance(pdfa, bytes)
        facts = document(pdfa)
        if name == "pdfa":
            outcomes.append(FormatOutcome(name, suffix, pdfa))
            continue
        builders: dict[
            str, tuple[Callable[[ExchangeDocument], bytes], Callable[[bytes, ExchangeDocument], list[str]]]
        ] = {
            "cda": (lambda d: package_xdm(d, build_cda(d)), check_xdm),
            "fhir": (build_fhir, check_fhir),
            "hprim": (build_hprim, check_hprim),
        }
        build, check = builders[name]
        data = build(facts)
        problems = check(data, facts)
        if problems:
            log.warning(
                "report %d version %d: not filed as %s (%d problems)", facts.job_id, facts.version, name, len(problems)
            )
            outcomes.append(FormatOutcome(name, suffix, refused="; ".join(problems)))
        else:
            outcomes.append(FormatOutcome(name, suffix, data))
    return outcomes
