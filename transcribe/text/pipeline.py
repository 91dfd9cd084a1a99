"""The text layer: transcript in, clean medical text plus every edit and flag out.

Pure: no files, clock or network. The order of the passes matters and lives
only here: numbers (so that "huit virgule deux" is a decimal, not a comma),
dictated commands, units and doses, terminology, abbreviations, then spacing
and capitals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import spacy

from ..folding import fold
from ..messages import message
from ..records import CleanText, Flag, Transcript
from ..vocabulary import LanguageVocabulary, Vocabulary
from . import abbreviations, doses, layout, numbers
from .commands import CommandFinder
from .hallucinations import as_replacements, find_hallucinations
from .prompt_copies import find_prompt_copies
from .rewriting import PendingFlag, Replacement, Rewriting
from .terms import AUDIO_JUDGED, TermIndex, find_terms, term_replacements
from .tokens import SourceText, source_of, tokenize
from .units import UnitFinder


@dataclass(frozen=True)
class AudioDoubt:
    """A word the text layer would have changed into a medicine, for the audio to settle (source span)."""

    start: int
    end: int
    heard: str
    candidate: str


@dataclass(frozen=True)
class TextOptions:
    """Site choices for the text layer."""

    abbreviations: str = "keep"  # keep | expand | first-use
    correct_terms: bool = True

    def __post_init__(self) -> None:
        if self.abbreviations not in abbreviations.POLICIES:
            raise ValueError(f"abbreviation policy must be one of {', '.join(abbreviations.POLICIES)}")


class _LanguageLayer:
    """Everything built once for one language: tokenizer, matchers, indexes."""

    def __init__(self, vocab: LanguageVocabulary) -> None:
        self.vocab = vocab
        self.nlp = spacy.blank(vocab.language)
        self.commands = CommandFinder(self.nlp, vocab.commands, language=vocab.language, score_words=vocab.score_words)
        self.units = UnitFinder(vocab)
        self.terms = TermIndex(vocab)
        self.letters = abbreviations.LetterReader(vocab.letters)


class TextLayer:
    """Turns dictation transcripts into clean medical text, recording every change."""

    def __init__(self, vocabulary: Vocabulary, options: TextOptions = TextOptions()) -> None:
        self.vocabulary = vocabulary
        self.options = options
        self._layers: dict[str, _LanguageLayer] = {}

    def warm_up(self) -> None:
        """Build every language now (a service does it at start, not on its first dictation)."""
        for language in self.vocabulary.languages:
            self._layer(language)

    def _layer(self, language: str) -> _LanguageLayer | None:
        if language not in self._layers:
            vocab = self.vocabulary.for_language(language)
            if vocab is None:
                return None
            self._layers[language] = _LanguageLayer(vocab)
        return self._layers[language]

    def clean(
        self,
        transcript: Transcript,
        confirmed: Mapping[tuple[int, int], str] | None = None,
        *,
        author: str | None = None,
    ) -> CleanText:
        """The clean text of a transcript, with its edits and flags.

        ``confirmed`` holds the corrections the audio confirmed (source span -> term, see
        ``transcribe.audio_judge``): those are applied as edits whose rule says so. ``author``: the
        correction rules learned from that author's reports apply too.
        """
        prompt_terms = tuple(transcript.options.get("prompt_terms") or ())
        own = self.vocabulary.author_corrections.get((author or "", transcript.language), ())
        return self._clean(source_of(transcript), transcript.language, prompt_terms, dict(confirmed or {}), own)

    def audio_doubts(self, clean: CleanText) -> list[AudioDoubt]:
        """The flagged words the audio can settle: a medicine the layer would have written had the engine
        doubted the word (never a word that looks like a medicine we do not list)."""
        vocab = self.vocabulary.for_language(clean.language)
        doubts = []
        for flag in clean.flags:
            if flag.kind != "term" or flag.code not in AUDIO_JUDGED or not flag.suggestion or vocab is None:
                continue
            term = vocab.term(flag.suggestion)
            if term is not None and term.is_drug:
                doubts.append(AudioDoubt(flag.start, flag.end, clean.source[flag.start : flag.end], term.text))
        return doubts

    def clean_text(self, text: str, language: str) -> CleanText:
        """The clean text of plain text (no engine confidences: every word counts as certain)."""
        return self._clean(SourceText(text, (), ()), language, ())

    def _clean(
        self,
        source: SourceText,
        language: str,
        prompt_terms: tuple[str, ...],
        confirmed: dict[tuple[int, int], str] | None = None,
        own_corrections: tuple[tuple[str, str], ...] = (),
    ) -> CleanText:
        rw = Rewriting(source.text)
        for copy in find_prompt_copies(source, prompt_terms):
            rw.flags.append(
                PendingFlag(copy.start, copy.end, "prompt-copy", copy.reason, None, (), copy.code, copy.params)
            )
        layer = self._layer(language)
        if layer is not None and source.text.strip():
            self._run(rw, layer, source, confirmed or {}, own_corrections)
        edits = tuple(rw.edits())
        flags = tuple(
            Flag(
                f.start,
                f.end,
                *rw.text_span(f.start, f.end),
                f.kind,
                f.reason,
                f.suggestion,
                f.choices,
                f.code,
                f.params,
            )
            for f in sorted(rw.flags, key=lambda f: (f.start, f.end))
        )
        return CleanText(source.text, rw.text, edits, flags, language)

    def _run(
        self,
        rw: Rewriting,
        layer: _LanguageLayer,
        source: SourceText,
        confirmed: dict[tuple[int, int], str],
        own_corrections: tuple[tuple[str, str], ...] = (),
    ) -> None:
        vocab = layer.vocab
        removals = find_hallucinations(source, vocab.hallucinations)  # on the source: nothing changed yet
        for removal in removals:
            rw.flag(removal.start, removal.end, removal.kind, removal.code, removal.params)
        rw.apply(as_replacements(rw.text, removals))
        rw.apply(numbers.find_number_words(rw.text, vocab, layer.units.spoken_words))
        rw.apply(numbers.find_spoken_compounds(rw.text, vocab))
        rw.apply(numbers.find_decimals(rw.text, vocab))
        rw.apply(numbers.find_blood_pressures(rw.text, vocab))
        rw.apply(numbers.find_colloquial_rates(rw.text, vocab))
        rw.apply(numbers.find_years(rw.text, vocab))
        rw.apply(layer.commands.find(rw.text))
        unit_replacements, dose_flags = layer.units.find(rw.text)
        for flag in dose_flags:
            rw.flag(flag.start, flag.end, "dose", flag.code, flag.params, choices=flag.choices)
        rw.apply(unit_replacements)
        for flag in doses.find_implausible_doses(rw.text, vocab):
            rw.flag(flag.start, flag.end, "dose", flag.code, flag.params)
        spelled, doubtful = abbreviations.find_spelled(tokenize(rw.text), vocab, layer.letters)
        for doubt in doubtful:
            rw.flag(doubt.start, doubt.end, "abbreviation", doubt.code, doubt.params, doubt.suggestion)
        rw.apply(spelled)
        if self.options.correct_terms:
            self._correct_terms(rw, layer, source, confirmed)
        rw.apply(find_site_corrections(rw.text, vocab.corrections + own_corrections))
        expansions, ambiguous = abbreviations.find_expansions(rw.text, vocab, self.options.abbreviations)
        for doubt in ambiguous:
            rw.flag(doubt.start, doubt.end, "abbreviation", doubt.code, doubt.params)
        rw.apply(expansions)
        for doubt in abbreviations.find_do_not_use(rw.text, vocab):
            rw.flag(doubt.start, doubt.end, "abbreviation", doubt.code, doubt.params, doubt.suggestion)
        for _ in range(3):  # one fix can reveal another (". ." -> ".." -> ".")
            if not rw.apply(layout.find_spacing(rw.text)):
                break
        rw.apply(layout.find_casing(rw.text, vocab, rw.is_changed))

    def _correct_terms(
        self, rw: Rewriting, layer: _LanguageLayer, source: SourceText, confirmed: dict[tuple[int, int], str]
    ) -> None:
        text = rw.text
        tokens = tokenize(text)
        starts = _sentence_starts(text)

        def probability(start: int, end: int) -> float:
            src_start, src_end = rw.source_span(start, end)
            return source.probability_at(src_start, src_end)

        findings = find_terms(tokens, layer.vocab, layer.terms, probability, starts)
        heard: list[Replacement] = []
        for finding in findings:
            judged = confirmed.get(rw.source_span(finding.start, finding.end))
            if (
                judged is not None
                and fold(judged) == fold(finding.term.text)
                and not rw.is_changed(finding.start, finding.end)
            ):
                heard.append(Replacement(finding.start, finding.end, finding.term.text, "term-audio", 0.9))
            elif not finding.change:
                rw.flag(finding.start, finding.end, "term", finding.code, finding.params, finding.term.text)
        rw.apply(term_replacements([f for f in findings if not rw.is_changed(f.start, f.end)]) + heard)


def with_flag(clean: CleanText, kind: str, code: str, params: dict[str, str]) -> CleanText:
    """The same clean text with one more flag over the whole of it (a doubt about the dictation itself)."""
    whole = Flag(0, len(clean.source), 0, len(clean.text), kind, message(code, "en", **params), None, (), code, params)
    return CleanText(clean.source, clean.text, clean.edits, (whole, *clean.flags), clean.language)


def find_site_corrections(text: str, corrections: tuple[tuple[str, str], ...]) -> list[Replacement]:
    """The site's accepted correction rules: a form the engine keeps writing, replaced by the right term."""
    found: list[Replacement] = []
    for wrong, right in corrections:
        pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in wrong.split()) + r"(?!\w)", re.IGNORECASE)
        found += [Replacement(m.start(), m.end(), right, "site-correction", 0.9) for m in pattern.finditer(text)]
    return found


def _sentence_starts(text: str) -> set[int]:
    starts = {0}
    for i, char in enumerate(text):
        if char in ".?!\n":
            j = i + 1
            while j < len(text) and text[j] in " \n":
                j += 1
            starts.add(j)
    return starts
