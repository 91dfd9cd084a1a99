"""The lexicon's single-word terms indexed for fuzzy and phonetic lookup, and the nearness of a word to a term.

Nearness (out of 100) weighs the spelling (rapidfuzz ratio) and the sound (``transcribe.text.phonetic``)
of the folded letters; the term corrections (``transcribe.text.terms``) and the audio's candidates
(``transcribe.text.candidates``) read the same index. Pure once built.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process

from transcribe.text.phonetic import key_of_language
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import LanguageVocabulary, Term


class TermIndex:
    """The single-word terms of a language, indexed for fuzzy and phonetic lookup.

    ``only``: index these terms alone (folded), phrases included, their letters joined ("colite
    ulcéreuse" is found for "collicule séreuse"): the short index of the terms most often dictated.
    """

    def __init__(self, vocab: LanguageVocabulary, only: frozenset[str] | None = None) -> None:
        self._vocab = vocab
        self._key = key_of_language(vocab.language)
        self._terms: list[Term] = []
        self._spellings: list[str] = []
        self._keys: list[str] = []
        for folded, term in vocab.terms.items():
            if only is not None:
                if folded not in only:
                    continue
                folded = re.sub(r"[\s'’-]", "", folded)
            elif " " in folded:
                continue
            if len(folded) < 4:
                continue
            self._terms.append(term)
            self._spellings.append(folded)
            self._keys.append(self._key(folded))
        self.lookup = lru_cache(maxsize=50_000)(self._lookup)

    def _lookup(self, word: str) -> tuple[tuple[Term, float], ...]:
        """The best lexicon terms for a word, with a score out of 100, best first."""
        folded = fold(word)
        key = self._key(folded)
        if len(key) < 3:
            return ()
        by_spelling = process.extract(folded, self._spellings, scorer=fuzz.ratio, limit=5, score_cutoff=55)
        by_sound = process.extract(key, self._keys, scorer=fuzz.ratio, limit=5, score_cutoff=70)
        scores: dict[int, float] = {}
        for _, _, index in by_spelling + by_sound:
            spelling = fuzz.ratio(folded, self._spellings[index])
            sound = fuzz.ratio(key, self._keys[index])
            scores[index] = max(scores.get(index, 0.0), 0.45 * spelling + 0.55 * sound)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        return tuple((self._terms[i], round(s, 1)) for i, s in ranked[:5])

    def nearness(self, word: str, spelling: str) -> float:
        """How near a word is to one spelling, out of 100, as ``lookup`` scores it (spelling and sound)."""
        folded, target = fold(word), re.sub(r"[\s'’-]", "", fold(spelling))
        spelled = fuzz.ratio(folded, target)
        sound = fuzz.ratio(self._key(folded), self._key(target))
        return round(0.45 * spelled + 0.55 * sound, 1)

    def is_drug(self, spelling: str) -> bool:
        """Whether a spelling is a medicine of the lexicon."""
        term = self._vocab.term(spelling)
        return term is not None and term.is_drug
