"""The site's coding, built at the edge: its code sets (imported over shipped) and one suggester per language.

The suggester of a language is built on first use (its pipeline takes seconds) and kept; a code set
imported while the service runs is taken at the next request that notices it (``SiteCoding.current``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from transcribe.coding.catalogue import Catalogue, CodeTable, catalogue_of
from transcribe.coding.lexicon import load_lexicon
from transcribe.coding.suggester import CodeSuggester
from transcribe.messages import LANGUAGES
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.vocabulary.files import vocabulary_folder


def imported_tables(store: JobStore) -> dict[str, CodeTable]:
    """The newest imported set of each system, read from the store."""
    return {
        system: CodeTable(system, info.version, info.source, store.codes.code_labels(info.id))
        for system, info in store.codes.newest_code_sets().items()
    }


class SiteCoding:
    """A site's catalogue and suggesters."""

    def __init__(self, vocab_folder: Path, imported: dict[str, CodeTable]) -> None:
        self.vocab_folder = vocab_folder
        self.catalogue: Catalogue = catalogue_of(imported)
        self._suggesters: dict[str, CodeSuggester] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_site(cls, settings: Settings, store: JobStore | None) -> SiteCoding:
        """The coding of a site (with no store: the shipped code sets only)."""
        return cls(vocabulary_folder(settings.paths.vocab), imported_tables(store) if store is not None else {})

    def suggester(self, language: str) -> CodeSuggester | None:
        """The suggester of a language (None for a language we do not code)."""
        if language not in LANGUAGES:
            return None
        with self._lock:
            if language not in self._suggesters:
                self._suggesters[language] = CodeSuggester(load_lexicon(self.vocab_folder, language), self.catalogue)
            return self._suggesters[language]


class CurrentCoding:
    """The coding of a running service: made again when the store holds a newer code set than it was made with."""

    def __init__(self, settings: Settings, store: JobStore) -> None:
        self._settings, self._store = settings, store
        self._made: tuple[tuple[str, int], ...] | None = None
        self._coding: SiteCoding | None = None
        self._lock = threading.Lock()

    def current(self) -> SiteCoding:
        """The site's coding as the store's code sets stand now."""
        newest = tuple(sorted((s, info.id) for s, info in self._store.codes.newest_code_sets().items()))
        with self._lock:
            if self._coding is None or newest != self._made:
                self._coding = SiteCoding.of_site(self._settings, self._store)
                self._made = newest
            return self._coding
