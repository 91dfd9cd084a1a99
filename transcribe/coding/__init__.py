"""Coding: the diagnoses and acts of a report, suggested with their evidence, confirmed by a person.

    records          the systems (CIM-10, CCAM, ICD-10-CM), suggestions, chosen codes
    lexicon          the expressions of the codes and the qualifier cues, from vocab/<lang>/
    qualifiers       the mentions of codes in a text with the field's qualifiers (edsnlp, negspacy)
    suggester        text in, suggestions with their evidence out (pure)
    catalogue        the site's code sets: shipped ones, imported ones; search by words or code
    official_files   reading the official files (ATIH CIM-10, CCAM, CMS ICD-10-CM) to import them
    billing          the billing export (patient, date, act codes, author)

The store keeps imported code sets and chosen codes (``transcribe.store.codes``); the review screen
and the command line are doors onto this package. See docs/coding.md.
"""

from __future__ import annotations

from transcribe.coding.catalogue import Catalogue, CodeTable, catalogue_of, shipped_table
from transcribe.coding.lexicon import CodeLexicon, load_lexicon
from transcribe.coding.records import SYSTEMS, ChosenCode, CodeSuggestions, Suggestion, systems_of
from transcribe.coding.suggester import CodeSuggester

__all__ = [
    "SYSTEMS",
    "Catalogue",
    "ChosenCode",
    "CodeLexicon",
    "CodeSuggester",
    "CodeSuggestions",
    "CodeTable",
    "Suggestion",
    "catalogue_of",
    "load_lexicon",
    "shipped_table",
    "systems_of",
]
