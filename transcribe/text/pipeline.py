"""The text layer: transcript in, clean medical text plus every edit and flag out.

Pure: no files, clock or network. The order of the passes matters and lives
only here: numbers (so that "huit virgule deux" is a decimal, not a comma),
dictated commands, units and doses, terminology, abbreviations, then spacing
and capitals.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

import spacy

from transcribe.messages import message
from transcribe.records import AudioEvidence, AudioQuestion, CleanText, Flag, Transcript, evidence_from_json
from transcribe.text import abbreviations, doses, layout, numbers
from transcribe.text.candidates import find_list_term_doubts, find_questions
from transcribe.text.commands import CommandFinder
from transcribe.text.evidence import AudioRule, decide, decide_list_term, rule_from_json
from transcribe.text.hallucinations import as_replacements, find_hallucinations, find_short_loops, repeated_words
from transcribe.text.prompt_copies import find_prompt_copies
from transcribe.text.rewriting import PendingFlag, Replacement, Rewriting
from transcribe.text.term_index import TermIndex
from transcribe.text.terms import common_terms, find_terms, term_replacements
from transcribe.text.tokens import SourceText, source_of, tokenize
from transcribe.text.units import UnitFinder
from transcribe.vocabulary.records import LanguageVocabulary, Vocabulary


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
        self.common_terms = TermIndex(vocab, only=common_terms(vocab))
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

    def clean(self, transcript: Transcript, *, author: str | None = None) -> CleanText:
        """The clean text of a transcript, with its edits and flags.

        The audio's evidence on doubtful stretches travels with the transcript
        (``options.audio_evidence``, with the rule it is judged by, ``options.audio_rule``: see
        ``transcribe.speech.acoustic``), so that the same transcript always gives the same text.
        ``author``: the correction rules learned from that author's reports apply too.
        """
        prompt_terms = tuple(transcript.options.get("prompt_terms") or ())
        own = self.vocabulary.author_corrections.get((author or "", transcript.language), ())
        evidence = tuple(evidence_from_json(e) for e in transcript.options.get("audio_evidence") or ())
        recorded = transcript.options.get("audio_rule")
        rule = rule_from_json(recorded) if recorded else AudioRule(transcript.model, corrects=False)
        return self._clean(source_of(transcript), transcript.language, prompt_terms, own, evidence, rule)

    def term_nearness(self, language: str) -> Callable[[str, str], float]:
        """How near a word is to a spelling in a language, out of 100 (spelling and sound, as terms are found)."""
        layer = self._layer(language)
        return layer.terms.nearness if layer is not None else (lambda _word, _spelling: 0.0)

    def audio_questions(self, transcript: Transcript) -> list[AudioQuestion]:
        """The doubtful stretches worth asking the audio about, with their candidate spellings, and the
        terms of the biasing list the engine wrote with low confidence (``transcribe.speech.acoustic`` answers)."""
        layer = self._layer(transcript.language)
        if layer is None or not transcript.words:
            return []
        source = source_of(transcript)
        listed = tuple((transcript.options.get("biasing") or {}).get("terms") or ())
        questions = (
            find_questions(source, layer.vocab, layer.terms, layer.common_terms, listed)
            if self.options.correct_terms
            else []
        )
        repeated = repeated_words(source)
        return [
            dataclasses.replace(q, repeated_words=repeated) if repeated else q
            for q in questions + find_list_term_doubts(source, listed)
        ]

    def clean_text(self, text: str, language: str) -> CleanText:
        """The clean text of plain text (no engine confidences: every word counts as certain)."""
        return self._clean(SourceText(text, (), ()), language, ())

    def _clean(
        self,
        source: SourceText,
        language: str,
        prompt_terms: tuple[str, ...],
        own_corrections: tuple[tuple[str, str], ...] = (),
        evidence: tuple[AudioEvidence, ...] = (),
        rule: AudioRule | None = None,
    ) -> CleanText:
        rw = Rewriting(source.text)
        for copy in find_prompt_copies(source, prompt_terms):
            rw.flags.append(
                PendingFlag(copy.start, copy.end, "prompt-copy", copy.reason, None, (), copy.code, copy.params)
            )
        layer = self._layer(language)
        if layer is not None and source.text.strip():
            self._run(rw, layer, source, own_corrections, evidence, rule or AudioRule("", corrects=False))
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
        own_corrections: tuple[tuple[str, str], ...],
        evidence: tuple[AudioEvidence, ...],
        rule: AudioRule,
    ) -> None:
        vocab = layer.vocab
        removals = find_hallucinations(source, vocab.hallucinations)  # on the source: nothing changed yet
        for removal in removals:
            rw.flag(removal.start, removal.end, removal.kind, removal.code, removal.params)
        rw.apply(as_replacements(rw.text, removals))
        # on the words as heard, before any other pass reads them
        settled, audio_flags = self._weigh_audio(rw, layer, source, evidence, rule)
        rw.apply(numbers.find_number_words(rw.text, vocab, layer.units.spoken_words))
        rw.apply(numbers.find_spoken_compounds(rw.text, vocab))
        rw.apply(numbers.find_decimals(rw.text, vocab))
        rw.apply(numbers.find_blood_pressures(rw.text, vocab))
        rw.apply(numbers.find_colloquial_rates(rw.text, vocab))
        rw.apply(numbers.find_years(rw.text, vocab))
        rw.apply(layer.commands.find(rw.text))
        loops = find_short_loops(rw.text)
        for removal in loops:
            rw.flag(removal.start, removal.end, removal.kind, removal.code, removal.params)
        rw.apply(as_replacements(rw.text, loops))
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
            self._correct_terms(rw, layer, source, settled)
        self._flag_audio_doubts(rw, audio_flags)
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

    def _weigh_audio(
        self,
        rw: Rewriting,
        layer: _LanguageLayer,
        source: SourceText,
        evidence: tuple[AudioEvidence, ...],
        rule: AudioRule,
    ) -> tuple[list[tuple[int, int]], list[PendingFlag]]:
        """Apply the audio's corrections (``transcribe.text.evidence``): the source spans they settled, and
        the flags its other decisions ask for (put after the text's own term pass: ``_flag_audio_doubts``)."""
        words = [source.text[a:b] for a, b in source.word_spans]
        settled: list[tuple[int, int]] = []
        flags: list[PendingFlag] = []
        replacements: list[Replacement] = []
        for item in evidence:
            if item.last >= len(words) or not item.scores:
                continue
            if item.kind == "list-term":
                decision = decide_list_term(item, words, rule, layer.terms.nearness)
            elif self.options.correct_terms:
                decision = decide(item, words, source.probabilities, layer.vocab, rule)
            else:
                decision = None
            if decision is None:
                continue
            src_start, src_end = source.word_spans[decision.first][0], source.word_spans[decision.last][1]
            start, end = rw.text_span(src_start, src_end)
            if rw.source_changed(src_start, src_end) or start >= end:
                continue
            if decision.replace:
                settled.append((src_start, src_end))
                core = _LETTERS_CORE.search(rw.text, start, end)  # the marks around the words stay
                a, b = (core.start(), core.end()) if core else (start, end)
                spelling = decision.spelling
                if rw.text[a : a + 1].isupper() and spelling[:1].islower():
                    spelling = spelling[:1].upper() + spelling[1:]
                replacements.append(Replacement(a, b, spelling, decision.rule, 0.9, decision.evidence))
            if decision.code:
                suggestion = decision.choices[0] if decision.choices and not decision.replace else None
                reason = message(decision.code, "en", **decision.params)
                flags.append(
                    PendingFlag(
                        src_start, src_end, "term", reason, suggestion, decision.choices, decision.code, decision.params
                    )
                )
        rw.apply(replacements)
        return settled, flags

    def _flag_audio_doubts(self, rw: Rewriting, audio_flags: list[PendingFlag]) -> None:
        """The audio's flags, where the text's own pass did not correct the place; they stand for the text's
        own term flags there (their choices are ordered by the audio)."""
        for flag in audio_flags:
            if flag.code not in ("list-term-reverted",) and rw.source_changed(flag.start, flag.end):
                continue
            rw.flags = [f for f in rw.flags if not (f.kind == "term" and f.start < flag.end and flag.start < f.end)]
            rw.flags.append(flag)

    def _correct_terms(
        self, rw: Rewriting, layer: _LanguageLayer, source: SourceText, settled: list[tuple[int, int]]
    ) -> None:
        text = rw.text
        tokens = tokenize(text)
        starts = _sentence_starts(text)

        def probability(start: int, end: int) -> float:
            src_start, src_end = rw.source_span(start, end)
            return source.probability_at(src_start, src_end)

        def audio_settled(start: int, end: int) -> bool:
            src_start, src_end = rw.source_span(start, end)
            return any(a < src_end and src_start < b for a, b in settled)

        findings = [
            f
            for f in find_terms(tokens, layer.vocab, layer.terms, probability, starts)
            if not audio_settled(f.start, f.end)
        ]
        for finding in findings:
            if not finding.change:
                rw.flag(finding.start, finding.end, "term", finding.code, finding.params, finding.term.text)
        rw.apply(term_replacements([f for f in findings if not rw.is_changed(f.start, f.end)]))


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


_LETTERS_CORE = re.compile(r"[^\W_](?:.*[^\W_])?", re.DOTALL)


def _sentence_starts(text: str) -> set[int]:
    starts = {0}
    for i, char in enumerate(text):
        if char in ".?!\n":
            j = i + 1
            while j < len(text) and text[j] in " \n":
                j += 1
            starts.add(j)
    return starts
