"""The code suggester: a report's text in, its codes out, each with the words that support it.

Pure: the text, the language's lexicon and the site's code sets in; no files, clock or store.
The mentions of a code are found and qualified by the field's tools (``qualifiers``); a code is
suggested when at least one of its mentions is the patient's, affirmed and certain. A mention that is
negated ("pas de diabète"), hypothetical ("on évoque une embolie") or about the family ("mère
diabétique") is set aside, with its reasons. A general code is not suggested beside a more precise
one the lexicon says it yields to ("diabétique" beside "diabète de type 2"). A code its system's set
lacks (a CCAM code where the site has not imported the CCAM) is not suggested: the system is named
in ``missing_sets``.
"""

from __future__ import annotations

from transcribe.coding.catalogue import Catalogue
from transcribe.coding.lexicon import CodeLexicon
from transcribe.coding.qualifiers import Mention, mention_finder
from transcribe.coding.records import KINDS, CodeSuggestions, Evidence, SetAside, Suggestion, kind_of


class CodeSuggester:
    """Suggests the codes of one language's reports (built once: its pipeline takes seconds)."""

    def __init__(self, lexicon: CodeLexicon, catalogue: Catalogue) -> None:
        self.lexicon = lexicon
        self.catalogue = catalogue
        self._find = mention_finder(lexicon)
        self._yields = lexicon.yields()

    @property
    def language(self) -> str:
        """The language of the reports it codes."""
        return self.lexicon.language

    def suggest(self, text: str) -> CodeSuggestions:
        """The codes of a text, each with the words that support it; mentions set aside; sets missing."""
        mentions = self._find(text)
        affirmed: dict[tuple[str, str], list[Mention]] = {}
        for mention in mentions:
            if not mention.reasons:
                affirmed.setdefault((mention.system, mention.code), []).append(mention)
        redundant = {key for key in affirmed if any((key[0], c) in affirmed for c in self._yields.get(key, ()))}
        suggestions: list[Suggestion] = []
        missing: set[str] = set()
        for (system, code), found in affirmed.items():
            if (system, code) in redundant:
                continue
            label = self.catalogue.label(system, code)
            if label is None:
                missing.add(system)
                continue
            evidence = tuple(Evidence(m.start, m.end, m.text) for m in found)
            suggestions.append(Suggestion(system, code, label, evidence))
        suggestions.sort(key=lambda s: (KINDS.index(kind_of(s.system)), s.evidence[0].start))
        set_aside = tuple(
            SetAside(m.system, m.code, Evidence(m.start, m.end, m.text), m.reasons)
            for m in mentions
            if m.reasons and (m.system, m.code) not in affirmed
        )
        missing_sets = tuple(sorted(s for s in missing if self.catalogue.table(s) is None))
        return CodeSuggestions(self.language, tuple(suggestions), set_aside, missing_sets)
