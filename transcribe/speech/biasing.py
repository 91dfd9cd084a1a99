"""Telling the engine, before it decodes, which words this dictation is likely to contain.

The text layer cannot recover a term the engine never heard ("la pizza dans" for
apixaban). faster-whisper's ``hotwords`` put a list of words before every 30-second
window the engine decodes, so that it spells them when it hears something close.
The list of one dictation is made, most specific first, of:

1. the drugs and diagnoses of this patient's earlier filed reports (when the patient is
   known at intake: sidecar or file name);
2. the author's own terms (``vocab/site/authors/<author>.tsv``, written by the site);
3. the terms learned from the author's validated reports (counted, most frequent first,
   accepted by an admin: ``vocab/site/authors/learned/<author>.tsv``);
4. the list of the author's specialty (``vocab/<lang>/specialties/<specialty>.tsv``).

Deduplicated (accents and case ignored) and cut to what fits the engine's window.
The transcript records the list; a term of it written where the engine's confidence
is low, or in a run of list terms, is flagged as a possible copy (``text/prompt_copies.py``).

``initial_prompt`` (the author's terms as the text before the dictation) stays a site
choice (``asr.prompt = "author"``): it was measured slower (repetition loops) and copied
terms far more often than hotwords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import LanguageVocabulary

#: faster-whisper keeps at most half its 448-token window for hotwords and cuts the rest mid-word,
#: and every token of the list lengthens every decoding step. Measured on the dev corpus
#: (bench/bench_biasing.py): 30 terms cost 1.5x the unbiased decoding time for the same term
#: recall as 40 terms, which cost 1.7x to 1.9x.
MAX_HOTWORD_CHARACTERS = 400
MAX_HOTWORD_TERMS = 30
#: The initial prompt: Whisper keeps at most half its context for it.
MAX_PROMPT_CHARACTERS = 600
MAX_PROMPT_TERMS = 30

_LEAD = {"fr": "Termes médicaux : ", "en": "Medical terms: "}

#: where a term of the list came from, most specific first
SOURCES = ("patient", "author", "learned", "specialty")
#: how a dictation's specialty was known: said with it (its sidecar), set for its author, set for the site,
#: the most frequent in its author's filed reports, heard in a first pass over it without a list
SPECIALTY_SOURCES = ("sidecar", "author", "site", "author-reports", "first-pass")
#: a specialty is guessed from texts only when at least this many distinct terms of its list are in them,
#: and more than in any other specialty's list
MIN_SPECIALTY_EVIDENCE = 2


@dataclass(frozen=True)
class BiasingList:
    """The words given to the engine for one dictation, and where each came from."""

    terms: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    #: the specialty whose list was used, and how it was known (``SPECIALTY_SOURCES``)
    specialty: str = ""
    specialty_source: str = ""

    @property
    def hotwords(self) -> str | None:
        """The list as faster-whisper's ``hotwords`` string, or None when empty."""
        return ", ".join(self.terms) if self.terms else None

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping, kept in the transcript's options."""
        out: dict[str, object] = {"terms": list(self.terms), "sources": {t: self.sources[t] for t in self.terms}}
        if self.specialty:
            out["specialty"] = {"name": self.specialty, "source": self.specialty_source}
        return out


def build_biasing(
    groups: Iterable[tuple[str, Iterable[str]]],
    *,
    max_terms: int = MAX_HOTWORD_TERMS,
    max_characters: int = MAX_HOTWORD_CHARACTERS,
) -> BiasingList:
    """One list from (source, terms) groups given most specific first: deduplicated, cut to fit."""
    chosen: list[str] = []
    sources: dict[str, str] = {}
    seen: set[str] = set()
    length = 0
    for source, terms in groups:
        for term in terms:
            term = " ".join(term.split())
            key = fold(term)
            if not term or key in seen:
                continue
            if len(chosen) >= max_terms or length + len(term) + 2 > max_characters:
                return BiasingList(tuple(chosen), sources)
            seen.add(key)
            chosen.append(term)
            sources[term] = source
            length += len(term) + 2
    return BiasingList(tuple(chosen), sources)


@dataclass(frozen=True)
class Prompt:
    """The initial prompt given to the engine and the terms it lists, in order."""

    text: str
    terms: tuple[str, ...]


def build_prompt(terms: list[str] | tuple[str, ...], language: str | None) -> Prompt | None:
    """An initial prompt listing the author's terms (most important first), or None when there are none."""
    lead = _LEAD.get(language or "", _LEAD["en"])
    chosen = build_biasing(
        [("author", terms)], max_terms=MAX_PROMPT_TERMS, max_characters=MAX_PROMPT_CHARACTERS - len(lead)
    ).terms
    if not chosen:
        return None
    return Prompt(lead + ", ".join(chosen) + ".", chosen)


#: lexicon kinds worth telling the engine about from a patient's or an author's reports
_WORTH_BIASING = frozenset({"drug", "brand", "inn", "term", "clinical"})


def terms_in(texts: Iterable[str], vocab: LanguageVocabulary, *, longest: int = 3) -> list[tuple[str, int]]:
    """The lexicon's drugs and diagnoses found in texts, with in how many texts each is, most frequent first."""
    counts: dict[str, int] = {}
    spelled: dict[str, str] = {}
    for text in texts:
        words = re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", text)
        found: set[str] = set()
        index = 0
        while index < len(words):
            for size in range(min(longest, len(words) - index), 0, -1):
                phrase = " ".join(words[index : index + size])
                term = vocab.term(phrase)
                if (
                    term is not None
                    and term.kind in _WORTH_BIASING
                    and len(phrase) >= 4
                    and (size > 1 or phrase.lower() not in vocab.ordinary_words)
                ):
                    key = fold(term.text)
                    found.add(key)
                    spelled.setdefault(key, term.text)
                    index += size
                    break
            else:
                index += 1
        for key in found:
            counts[key] = counts.get(key, 0) + 1
    return sorted(((spelled[k], n) for k, n in counts.items()), key=lambda item: (-item[1], item[0]))


def guess_specialty(texts: Iterable[str], vocab: LanguageVocabulary, *, minimum: int = MIN_SPECIALTY_EVIDENCE) -> str:
    """The specialty whose list has the most distinct terms in these texts ("" when none stands out)."""
    folded = " " + " ".join(re.sub(r"[^\w]+", " ", fold(t)) for t in texts) + " "
    counts: dict[str, int] = {}
    for specialty, terms in vocab.specialty_terms.items():
        keys = {re.sub(r"[^\w]+", " ", fold(term)).strip() for term in terms}
        counts[specialty] = sum(1 for key in keys if len(key) >= 4 and f" {key} " in folded)
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < minimum or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return ""
    return ranked[0][0]
