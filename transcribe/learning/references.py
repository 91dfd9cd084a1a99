"""Learning from the secretary: every validated report is a reference for what the doctor said.

Pure core: compare a draft with its validated text (word errors, medical-term
errors, what was substituted), add comparisons up by author, worktype,
language, model, vocabulary version or week, and turn the substitutions seen
again and again into vocabulary proposals. Nothing changes by itself: an admin
accepts or rejects each proposal (``transcribe proposals``, or the review app).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from transcribe.records import ProposalDraft

_WORD = re.compile(r"\d+(?:[.,/]\d+)*|[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The words of a text as they are compared: lower case, punctuation left out."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@dataclass(frozen=True)
class Comparison:
    """A draft against its validated text."""

    words: int  # in the validated text
    errors: int  # substitutions + deletions + insertions
    terms: int  # medical terms in the validated text
    term_errors: int  # of those, the ones the draft did not have right
    substitutions: tuple[tuple[str, str], ...]  # (as drafted, as validated)

    @property
    def word_error_rate(self) -> float:
        """Word errors per word of the validated text."""
        return self.errors / self.words if self.words else 0.0


def compare(draft: str, validated: str, is_term: Callable[[str], bool]) -> Comparison:
    """Word errors of a draft against the validated text, and what was substituted for what."""
    hypothesis, reference = words_of(draft), words_of(validated)
    opcodes = Levenshtein.opcodes(hypothesis, reference)
    errors = 0
    right: set[int] = set()
    substitutions: list[tuple[str, str]] = []
    changed: list[tuple[int, int, int, int]] = []  # the run of differing opcodes being read: one substitution
    for opcode in (*opcodes, ("equal", len(hypothesis), len(hypothesis), len(reference), len(reference))):
        tag, h1, h2, r1, r2 = str(opcode[0]), int(opcode[1]), int(opcode[2]), int(opcode[3]), int(opcode[4])
        if tag != "equal":
            errors += max(h2 - h1, r2 - r1)
            changed.append((h1, h2, r1, r2))
            continue
        right.update(range(r1, r2))
        if changed:  # "pour accalier mis" for "kaliémie" is one substitution, not "pour" for it and two deletions
            start_h, start_r, end_h, end_r = changed[0][0], changed[0][2], changed[-1][1], changed[-1][3]
            if end_h > start_h and end_r > start_r:
                substitutions.append((" ".join(hypothesis[start_h:end_h]), " ".join(reference[start_r:end_r])))
            changed = []
    terms = [i for i, word in enumerate(reference) if is_term(word)]
    return Comparison(len(reference), errors, len(terms), sum(1 for i in terms if i not in right), tuple(substitutions))


@dataclass
class Totals:
    """Comparisons added up for one group (an author, a worktype, a week...)."""

    reports: int = 0
    words: int = 0
    errors: int = 0
    terms: int = 0
    term_errors: int = 0
    edits: int = 0
    reverted: int = 0
    review_s: float = 0.0
    audio_s: float = 0.0
    timed_reports: int = 0

    def add(self, comparison: Comparison, *, edits: int, reverted: int, review_s: float | None, audio_s: float) -> None:
        """Count one more validated report."""
        self.reports += 1
        self.words += comparison.words
        self.errors += comparison.errors
        self.terms += comparison.terms
        self.term_errors += comparison.term_errors
        self.edits += edits
        self.reverted += reverted
        if review_s is not None:
            self.review_s += review_s
            self.audio_s += audio_s
            self.timed_reports += 1

    def figures(self) -> dict[str, float | int | None]:
        """The dashboard's figures for this group."""
        return {
            "reports": self.reports,
            "words": self.words,
            "word_error_rate": round(self.errors / self.words, 4) if self.words else None,
            "term_error_rate": round(self.term_errors / self.terms, 4) if self.terms else None,
            "edits_reverted": round(self.reverted / self.edits, 4) if self.edits else None,
            "review_minutes_per_audio_minute": round(self.review_s / self.audio_s, 2) if self.audio_s else None,
        }


@dataclass
class _Seen:
    count: int = 0
    forms: Counter[str] = field(default_factory=Counter)


def propose(
    substitutions: Iterable[tuple[str, str, str, str]],
    *,
    is_term: Callable[[str, str], bool],
    is_ordinary: Callable[[str, str], bool],
    is_drug: Callable[[str, str], bool],
    minimum: int = 2,
) -> list[ProposalDraft]:
    """Proposals from (language, author, as drafted, as validated) substitutions seen at least ``minimum`` times.

    - a validated word that is not in the lexicon nor an ordinary word: propose it as a site term;
    - a medical term the engine keeps getting wrong the same way: propose a correction rule.
    A misheard form that is itself a drug name is never proposed for correction (look-alike drugs), nor one
    made only of ordinary words ("pour", "la pizza dans"): the rule would rewrite them in every report.
    """
    seen: dict[tuple[str, str, str], _Seen] = {}
    for language, author, wrong, right in substitutions:
        if not right or wrong == right or len(right) < 3 or len(wrong.split()) > 4:
            continue
        entry = seen.setdefault((language, author, right), _Seen())
        entry.count += 1
        entry.forms[wrong] += 1
    proposals = []
    for (language, author, right), entry in seen.items():
        if entry.count < minimum:
            continue
        forms = tuple(entry.forms.most_common())
        if not is_term(language, right) and not all(is_ordinary(language, w) for w in right.split()):
            proposals.append(ProposalDraft("term", language, author, right, forms, entry.count))
        elif is_term(language, right):
            repeated = tuple(
                (form, n)
                for form, n in forms
                if n >= minimum
                and not is_drug(language, form)
                and not all(is_ordinary(language, word) for word in form.split())
            )
            if repeated:
                proposals.append(
                    ProposalDraft("correction", language, author, right, repeated, sum(n for _, n in repeated))
                )
    return sorted(proposals, key=lambda p: (-p.count, p.target))
