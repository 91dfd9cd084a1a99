"""Choosing the audio rule's thresholds for a model, on transcripts whose right text is known.

The audio's evidence is kept with every draft (``options.audio_evidence``), so the rule can be judged
again, threshold by threshold, without the engine: each stretch the rule would rewrite is right when the
term (or another form of it) is in the validated text, wrong otherwise; a list term the rule would take
back was wrongly taken back when the validated text holds it. The thresholds chosen are those that
make the most right corrections with **no** wrong one and no list term wrongly taken back
(``choose``); ``curve`` prints right against wrong as each threshold moves, the others held.

``bench/bench_terms.py`` calibrated the shipped rule of the bundled model on the dev corpus and the
general-speech clips (``transcribe.text.evidence.RULES``); ``transcribe calibrate`` does it for a
site's own model on its validated reports. Pure: transcripts and texts in, tallies out.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from transcribe.records import Transcript, evidence_from_json
from transcribe.text.evidence import NEVER, AudioRule, decide, decide_list_term
from transcribe.text.tokens import source_of
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import LanguageVocabulary

#: the thresholds tried, and their values (the first of each is the most cautious): those of the terms'
#: corrections, then those of the list terms taken back (chosen apart: the two decisions are apart)
TERM_GRID: dict[str, tuple[float, ...]] = {
    "max_shortfall": (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0),
    "min_nearness": (90.0, 85.0, 80.0, 78.0, 75.0, 72.0),
    "min_lead": (8.0, 4.0, 2.0, 1.0, 0.0),
    "doubted_below": (0.0, 0.3, 0.5),
    "same_sound_shortfall": (0.0, 6.0, 8.0, 12.0, 16.0),
}
LIST_GRID: dict[str, tuple[float, ...]] = {
    "list_term_far": (0.0, 20.0, 30.0, 40.0, 50.0, 60.0),
    "list_term_hold": (12.0, 8.0, 6.0, 4.0, 2.0, 0.0),
    "list_term_sure": (NEVER, 30.0, 24.0, 20.0, 16.0, 14.0, 12.0),
}
GRID = {**TERM_GRID, **LIST_GRID}


@dataclass(frozen=True)
class Case:
    """A transcript with the audio's evidence, and the text that was really dictated (validated)."""

    transcript: Transcript
    reference: str


@dataclass(frozen=True)
class Tally:
    """What a rule does on a set of cases."""

    corrections: int = 0
    wrong: int = 0
    reverted: int = 0
    reverted_wrongly: int = 0
    #: the wrong ones, to look at: (heard, written)
    wrong_ones: tuple[tuple[str, str], ...] = ()

    @property
    def right(self) -> int:
        """Corrections that wrote a term that was dictated."""
        return self.corrections - self.wrong

    @property
    def safe(self) -> bool:
        """No wrong correction, no list term taken back that was said."""
        return self.wrong == 0 and self.reverted_wrongly == 0


def found_inflected(term: str, text: str) -> bool:
    """Whether the term, or another form of it (singular or plural, masculine or feminine), is in the text."""
    stem = re.compile(r"(?:es|s|x|e)$")
    wanted = [stem.sub("", w) for w in re.findall(r"[^\W\d_]+", fold(term))]
    words = [stem.sub("", w) for w in re.findall(r"[^\W\d_]+", fold(text))]
    return bool(wanted) and any(words[i : i + len(wanted)] == wanted for i in range(len(words)))


def tally(
    cases: Iterable[Case],
    rule: AudioRule,
    vocab_of: Callable[[str], LanguageVocabulary | None],
    nearness_of: Callable[[str], Callable[[str, str], float]],
) -> Tally:
    """What ``rule`` does with the evidence of these cases: corrections, wrong ones, list terms taken back."""
    corrections = wrong = reverted = reverted_wrongly = 0
    wrong_ones: list[tuple[str, str]] = []
    for case in cases:
        vocab = vocab_of(case.transcript.language)
        if vocab is None:
            continue
        source = source_of(case.transcript)
        words = [source.text[a:b] for a, b in source.word_spans]
        for item in (evidence_from_json(e) for e in case.transcript.options.get("audio_evidence") or ()):
            if item.last >= len(words) or not item.scores:
                continue
            if item.kind == "list-term":
                decision = decide_list_term(item, words, rule, nearness_of(case.transcript.language))
                if decision is not None and decision.replace:
                    reverted += 1
                    reverted_wrongly += found_inflected(decision.heard, case.reference)
                continue
            decision = decide(item, words, source.probabilities, vocab, rule)
            if decision is not None and decision.replace:
                corrections += 1
                if not found_inflected(decision.spelling, case.reference):
                    wrong += 1
                    wrong_ones.append((decision.heard, decision.spelling))
    return Tally(corrections, wrong, reverted, reverted_wrongly, tuple(wrong_ones))


def with_threshold(rule: AudioRule, name: str, value: float) -> AudioRule:
    """The rule with one threshold of ``GRID`` set."""
    if name not in GRID:
        raise ValueError(f"'{name}' is not a threshold of the audio's rule ({', '.join(GRID)})")
    changed: AudioRule = dataclasses.replace(rule, **{name: value})  # type: ignore[arg-type]
    return changed


def curve(
    cases: list[Case],
    rule: AudioRule,
    vocab_of: Callable[[str], LanguageVocabulary | None],
    nearness_of: Callable[[str], Callable[[str, str], float]],
) -> list[tuple[str, float, Tally]]:
    """Each threshold of ``GRID`` moved alone, the others held at ``rule``'s values: (name, value, tally)."""
    return [
        (name, value, tally(cases, with_threshold(rule, name, value), vocab_of, nearness_of))
        for name, values in GRID.items()
        for value in values
    ]


def choose(
    cases: list[Case],
    model: str,
    vocab_of: Callable[[str], LanguageVocabulary | None],
    nearness_of: Callable[[str], Callable[[str, str], float]],
    *,
    calibrated_on: str = "",
) -> tuple[AudioRule, Tally]:
    """The thresholds with the most right corrections and none wrong, and the most list terms taken back
    with none that was said (ties: the most cautious). No safe setting of the terms: they are only
    flagged (``corrects`` off); no safe setting of the list: its terms are never taken back."""
    rule = AudioRule(model, calibrated_on=calibrated_on)
    best_terms: tuple[AudioRule, Tally] | None = None
    for values in itertools.product(*TERM_GRID.values()):
        tried = rule
        for name, value in zip(TERM_GRID, values):
            tried = with_threshold(tried, name, value)
        result = tally(cases, tried, vocab_of, nearness_of)
        if result.wrong == 0 and (best_terms is None or result.right > best_terms[1].right):
            best_terms = (tried, result)
    rule = best_terms[0] if best_terms is not None else dataclasses.replace(rule, corrects=False)
    best_list: tuple[AudioRule, Tally] | None = None
    for values in itertools.product(*LIST_GRID.values()):
        tried = rule
        for name, value in zip(LIST_GRID, values):
            tried = with_threshold(tried, name, value)
        result = tally(cases, tried, vocab_of, nearness_of)
        if result.reverted_wrongly == 0 and (best_list is None or result.reverted > best_list[1].reverted):
            best_list = (tried, result)
    rule = best_list[0] if best_list is not None else dataclasses.replace(rule, list_term_far=0.0)
    return rule, tally(cases, rule, vocab_of, nearness_of)
