"""The medical vocabulary as the text layer uses it: records loaded from the data under ``vocab/``.

``transcribe.vocabulary.files`` reads the files (once at start-up, with a cache) into these
records; the pure functions of ``transcribe.text`` receive the loaded ``Vocabulary``. The layout
of ``vocab/`` is described in ``vocab/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from transcribe.vocabulary.folding import fold

#: Lexicon kinds that name a medicine: never replaced by another one.
DRUG_KINDS = frozenset({"drug", "inn", "brand"})
#: every kind a lexicon row may give (``term <TAB> kind``, vocab/README.md); a row giving another reads as
#: its file's own kind
TERM_KINDS = ("drug", "inn", "brand", "term", "clinical", "exam", "anatomy", "specialty")
#: the kinds a person gives a term she adds (the admin screen, an author's learned terms)
ADDED_KINDS = ("drug", "brand", "term", "anatomy", "exam", "clinical")
#: kinds that name medical things (the disease classifications' words, of kind "term", include everyday words)
MEDICAL_KINDS = frozenset({"drug", "inn", "brand", "clinical", "exam", "anatomy", "specialty"})


@dataclass(frozen=True)
class CommandPhrase:
    """A dictated command ("virgule", "new paragraph") and when it is taken literally."""

    words: tuple[str, ...]
    mark: str
    literal_after: frozenset[str] = frozenset()
    literal_before: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Unit:
    """A unit as dictated, as written, and the plausible range of a value in it."""

    spoken: tuple[str, ...]
    written: str
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class AbbreviationSense:
    """One meaning of an abbreviation, with the words that point to it."""

    abbreviation: str
    expansion: str
    context: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SectionHeading:
    """A report section and the dictated headings that open it."""

    section: str
    heading: str
    spoken: tuple[str, ...]


@dataclass(frozen=True)
class WorktypeOpening:
    """A worktype, its report title, and the dictated openings that announce it."""

    worktype: str
    title: str
    openings: tuple[str, ...]


@dataclass(frozen=True)
class Term:
    """A lexicon entry: a medical word or phrase and what kind of thing it names."""

    text: str
    kind: str
    source: str

    @property
    def is_drug(self) -> bool:
        """Whether this term names a medicine."""
        return self.kind in DRUG_KINDS


@dataclass(frozen=True)
class DoseRange:
    """The highest usual adult dose of a medicine, per take and per day, in one unit."""

    unit: str
    per_take: float
    per_day: float


@dataclass(frozen=True)
class DoNotUse:
    """An abbreviation that must not be used in a medical record, and what to write instead."""

    abbreviation: str
    write_instead: str
    reason: str
    context: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LanguageVocabulary:
    """Everything the text layer knows about one language."""

    language: str
    commands: tuple[CommandPhrase, ...]
    units: tuple[Unit, ...]
    abbreviations: dict[str, tuple[AbbreviationSense, ...]]
    known_abbreviations: frozenset[str]
    terms: dict[str, Term]
    ordinary_words: frozenset[str]
    letters: dict[str, tuple[str, ...]]
    blood_pressure_words: frozenset[str]
    temperature_words: frozenset[str]
    score_words: frozenset[str]
    counted_words: frozenset[str]
    #: words after which a small number is an index in digits ("type 2", "stade 1")
    numbered_words: frozenset[str]
    ambiguous_numbers: frozenset[str]
    decimal_separator: str
    unit_space: str
    sections: tuple[SectionHeading, ...] = ()
    worktypes: tuple[WorktypeOpening, ...] = ()
    hallucinations: tuple[str, ...] = ()
    #: accepted correction rules: (as the engine writes it, as it must be written)
    corrections: tuple[tuple[str, str], ...] = ()
    #: INN endings ("-sartan", "-mab"): an unknown word with one is a medicine we do not list
    drug_stems: tuple[str, ...] = ()
    #: pairs of medicines known to be confused (folded names, ``lookalike-drugs.tsv``): always flagged together
    lookalike_drugs: frozenset[frozenset[str]] = frozenset()
    #: medicines of the other languages' lexicons (folded): never corrected here either
    foreign_drugs: frozenset[str] = frozenset()
    #: brand (folded) -> its generic names (folded)
    brand_generics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: generic name (folded) -> its plausible adult dose
    dose_ranges: dict[str, DoseRange] = field(default_factory=dict)
    do_not_use: dict[str, DoNotUse] = field(default_factory=dict)
    #: words that announce a medicine ("sous", "on", "started"): the next word is in drug position
    drug_context_words: frozenset[str] = frozenset()
    #: words after which "one ten" is a rate of 110 ("heart rate", "pulse")
    rate_words: frozenset[str] = frozenset()
    #: words after which "19 58" or "1.958" is a year ("en", "in", "since")
    year_words: frozenset[str] = frozenset()
    #: words after which "par jour"-like frequencies are read ("par jour", "daily"): per-day doses
    per_day_words: tuple[str, ...] = ()
    #: frequency words after a dose -> takes a day (0: the number said before them, "3 fois par jour")
    times_per_day: dict[str, int] = field(default_factory=dict)
    #: specialty -> the terms most dictated in it, most important first (``specialties/<specialty>.tsv``)
    specialty_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def command_starts(self) -> frozenset[tuple[str, ...]]:
        """The first two words of each command of two words or more ("deux points")."""
        return frozenset(c.words[:2] for c in self.commands if len(c.words) >= 2)

    def term(self, word: str) -> Term | None:
        """The lexicon entry of this word or phrase, whatever its case and accents."""
        return self.terms.get(fold(word))

    def has_drug_stem(self, word: str) -> bool:
        """Whether a word ends like an INN ("vériciguat": -ciguat), so names a medicine."""
        folded = fold(word).rstrip("s")
        bare = folded[:-1] if folded.endswith("e") else folded
        return len(folded) >= 6 and any(bare.endswith(stem) and len(bare) > len(stem) + 2 for stem in self.drug_stems)

    def is_foreign_drug(self, word: str) -> bool:
        """Whether a word is a medicine of another language's lexicon, spelled either way ("-ine"/"-in")."""
        folded = fold(word)
        return any(form in self.foreign_drugs for form in (folded, folded.removesuffix("e"), folded + "e"))

    def are_lookalikes(self, first: str, second: str) -> bool:
        """Whether two medicines are a pair known to be confused (their brands' generics count too)."""
        names = [{fold(first), *self.generics_of(first)}, {fold(second), *self.generics_of(second)}]
        return any(frozenset((a, b)) in self.lookalike_drugs for a in names[0] for b in names[1] if a != b)

    def generics_of(self, word: str) -> tuple[str, ...]:
        """The generic names (folded) a drug name stands for: itself, or a brand's generics."""
        folded = fold(word)
        return self.brand_generics.get(folded, (folded,))


@dataclass(frozen=True)
class Vocabulary:
    """The vocabularies of every language, and a version that changes with any file."""

    languages: dict[str, LanguageVocabulary]
    version: str
    author_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: author -> terms learned from the author's validated reports (accepted by an admin), most frequent first
    learned_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: (author, language) -> correction rules learned from that author's reports only: (as written, as meant)
    author_corrections: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def for_language(self, language: str) -> LanguageVocabulary | None:
        """The vocabulary of a language, or None where there is none."""
        return self.languages.get(language)


def with_addition(
    vocabulary: Vocabulary, language: str, kind: str, target: str, wrong_forms: tuple[str, ...] = ()
) -> Vocabulary:
    """The vocabulary with one more site term or correction rule (to replay a proposal before accepting it)."""
    import dataclasses

    current = vocabulary.languages[language]
    if kind == "term":
        terms = dict(current.terms)
        terms[fold(target)] = Term(target, "term", "proposal")
        changed = dataclasses.replace(current, terms=terms, ordinary_words=current.ordinary_words - {target.lower()})
    else:
        changed = dataclasses.replace(
            current, corrections=current.corrections + tuple((w, target) for w in wrong_forms)
        )
    return dataclasses.replace(
        vocabulary, languages={**vocabulary.languages, language: changed}, version=vocabulary.version + "+proposal"
    )
