"""Medical terminology correction: words the engine misheard, matched to the lexicon.

A word is a candidate when it is not an ordinary word of the language (nor a
known term or abbreviation): "pharctus", "ferrosémie", "metapural". It is
compared with the lexicon on a phonetic key and on its spelling (rapidfuzz).

Guardrails: a word that is itself a valid drug or medical term is never
replaced; an ordinary word is never replaced (a doubtful one is flagged); a
word close to two different drugs (hydroxyzine/hydralazine) is flagged, never
changed; a weak match is flagged with a suggestion, not applied. A word that
looks like a medicine we do not list is never replaced either, only flagged:
one ending like an INN ("vériciguat": -ciguat, "-sartan", "-mab"), a medicine
of another language's lexicon ("Cordarone" in English), or a capitalised word
in drug position ("sous Trulicity", "Trulicity 1,5 mg").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from transcribe.messages import message, percent
from transcribe.text.rewriting import Replacement
from transcribe.text.term_index import TermIndex
from transcribe.text.tokens import Token
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import LanguageVocabulary, Term

RULE = "term"
#: At or above this score a candidate is replaced; between FLAG and CHANGE it is flagged.
CHANGE_SCORE = 82.0
FLAG_SCORE = 70.0
#: Two different drugs closer than this are look-alikes: flag, never choose.
LOOKALIKE_MARGIN = 6.0
#: An ordinary word below this engine confidence, close to a term, is flagged.
DOUBTFUL_PROBABILITY = 0.35
#: A word is rewritten only when the engine itself doubted it (its confidence below this): a word it
#: heard clearly may be a real medicine, or a name, that we do not list. Text with no confidences
#: (typed or pasted) counts as heard clearly: its corrections are flags with a suggestion. On the dev
#: corpus every misheard term the layer corrected came with a confidence between 0.19 and 0.79.
CHANGE_MAX_PROBABILITY = 0.8


@dataclass(frozen=True)
class TermFinding:
    """What the terminology pass proposes for one word (or two joined words)."""

    start: int
    end: int
    word: str
    term: Term
    score: float
    change: bool
    #: what it is: "corrected" or "same-medicine" for a change; for a flag, a code of
    #: ``transcribe.messages.FLAGS`` ("term-heard-clearly", "term-unlisted-drug"...) with its parameters
    code: str
    params: dict[str, str]

    @property
    def reason(self) -> str:
        """What a person is told, in English."""
        return message(self.code, "en", **self.params)


def find_terms(
    tokens: list[Token],
    vocab: LanguageVocabulary,
    index: TermIndex,
    probability: Callable[[int, int], float],
    sentence_starts: set[int],
) -> list[TermFinding]:
    """Propose corrections (or flags) for the misheard medical words of a text."""
    findings: list[TermFinding] = []
    words = [t for t in tokens if not t.is_punct]
    skip_next = False
    doubted = _doubted_by_the_engine(probability)
    for number, token in enumerate(words):
        if skip_next:
            skip_next = False
            continue
        if not _is_candidate_shape(token):
            continue
        if _is_known(token.text, vocab):
            respelled = _accents_of_the_medicine(token.text, vocab)
            if respelled is not None:  # "levothyroxine" in French: lévothyroxine, the same medicine
                findings.append(
                    TermFinding(
                        token.start,
                        token.end,
                        token.text,
                        respelled,
                        100.0,
                        True,
                        "same-medicine",
                        {"word": token.text, "term": respelled.text},
                    )
                )
            continue
        if vocab.is_foreign_drug(token.text):  # a medicine of the other language: at most its own spelling here
            same = _same_medicine_here(token.text, vocab)
            if same is not None:
                findings.append(
                    TermFinding(
                        token.start,
                        token.end,
                        token.text,
                        same,
                        100.0,
                        True,
                        "same-medicine",
                        {"word": token.text, "term": same.text},
                    )
                )
            continue
        if looks_like_unlisted_drug(token, words, number, vocab):
            finding = _unlisted_drug(token, index)
            if finding is not None:
                findings.append(finding)
            continue
        drug_position = in_drug_position(words, number, vocab)
        ordinary = token.lower in vocab.ordinary_words
        if ordinary:
            finding = _doubtful_ordinary(token, index, probability(token.start, token.end))
            if finding:
                findings.append(finding)
            continue
        finding = _best(
            token.start,
            token.end,
            token.text,
            index,
            capitalised=token.start not in sentence_starts and token.text[:1].isupper(),
        )
        if (finding is None or not finding.change) and number + 1 < len(words):
            joined = _joined(token, words[number + 1], vocab, index)
            if joined is not None and joined.change:
                findings.append(_not_a_word_in_drug_place(joined, drug_position))
                skip_next = True
                continue
        if (finding is None or not finding.change) and number > 0:
            # the first piece may be an ordinary word: "mètre formine" (metformine)
            previous = words[number - 1]
            free = not findings or findings[-1].end <= previous.start
            if (
                free
                and len(previous.text) >= 3
                and previous.text.isalpha()
                and not _is_known(previous.text, vocab)
                and not looks_like_unlisted_drug(previous, words, number - 1, vocab)
            ):
                joined = _joined(previous, token, vocab, index)
                if joined is not None and joined.change:
                    findings.append(_not_a_word_in_drug_place(joined, drug_position))
                    continue
        if finding is not None:
            findings.append(_not_a_word_in_drug_place(finding, drug_position))
    return [doubted(f) for f in findings]


def _doubted_by_the_engine(probability: Callable[[int, int], float]) -> Callable[[TermFinding], TermFinding]:
    """A change stays a change only where the engine doubted what it heard; elsewhere it becomes a flag.

    A change into a medicine is never made on the text alone, even where the engine doubted the word
    ("dalazine" heard for mésalazine is one letter from Dalacine): only the audio can confirm it
    (``transcribe.text.evidence``); without its evidence it is a flag with the medicine as its suggestion.
    """

    def check(finding: TermFinding) -> TermFinding:
        if not finding.change or finding.code == "same-medicine":
            return finding  # the same substance in this language's spelling: no audio needed
        heard = probability(finding.start, finding.end)
        if finding.term.is_drug and finding.code != "same-medicine":
            params = {"word": finding.word, "term": finding.term.text}
            return TermFinding(
                finding.start,
                finding.end,
                finding.word,
                finding.term,
                finding.score,
                False,
                "term-drug-unconfirmed",
                params,
            )
        if heard < CHANGE_MAX_PROBABILITY:
            return finding
        if heard < 1.0:
            code, params = (
                "term-heard-clearly",
                {"word": finding.word, "term": finding.term.text, "confidence": percent(heard)},
            )
        else:
            code, params = "term-no-audio", {"word": finding.word, "term": finding.term.text}
        return TermFinding(finding.start, finding.end, finding.word, finding.term, finding.score, False, code, params)

    return check


def _not_a_word_in_drug_place(finding: TermFinding, drug_position: bool) -> TermFinding:
    """Where a medicine's name stands, a word is never changed into something that is not a medicine."""
    if not drug_position or not finding.change or finding.term.is_drug:
        return finding
    return TermFinding(
        finding.start,
        finding.end,
        finding.word,
        finding.term,
        finding.score,
        False,
        "term-drug-place",
        {"word": finding.word, "term": finding.term.text},
    )


def looks_like_unlisted_drug(token: Token, words: list[Token], number: int, vocab: LanguageVocabulary) -> bool:
    """Whether an unknown word looks like the name of a medicine: an INN ending, or a capital in drug position."""
    if vocab.has_drug_stem(token.text):
        return True
    return token.text[:1].isupper() and in_drug_position(words, number, vocab)


def in_drug_position(words: list[Token], number: int, vocab: LanguageVocabulary) -> bool:
    """Whether a word stands where a medicine's name stands: after "sous", "on", "started", or before a dose."""
    context = _folded(vocab.drug_context_words)
    if any(fold(w.text) in context for w in words[max(0, number - 3) : number]):
        return True  # "sous Kardégic", "il tolère bien le Kardégic"
    following = words[number + 1 : number + 3]
    if following and following[0].is_number:
        unit = following[1].lower if len(following) > 1 else ""
        return unit in _DOSE_UNITS or unit in vocab.counted_words
    return False


_DOSE_UNITS = frozenset({"mg", "g", "µg", "mcg", "ui", "units", "unités", "ml", "mg/kg", "gouttes", "drops"})


@lru_cache(maxsize=8)
def _folded(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


def _accents_of_the_medicine(word: str, vocab: LanguageVocabulary) -> Term | None:
    """The lexicon's spelling of a medicine written with other accents ("paracetamol": paracétamol in French,
    "métronidazole": metronidazole in English); None when it is spelled so already, or not a medicine."""
    term = vocab.term(word)
    if term is None or not term.is_drug or word.lower() == term.text.lower() or " " in term.text:
        return None
    return term


def _same_medicine_here(word: str, vocab: LanguageVocabulary) -> Term | None:
    """This language's spelling of another language's medicine ("metformine" -> "metformin")."""
    folded = fold(word)
    for form in (folded.removesuffix("e"), folded + "e"):
        term = vocab.terms.get(form)
        if term is not None and term.is_drug:
            return term
    return None


def _unlisted_drug(token: Token, index: TermIndex) -> TermFinding | None:
    ranked = index.lookup(token.text)
    if not ranked or ranked[0][1] < FLAG_SCORE:
        return None
    term, score = ranked[0]
    return TermFinding(
        token.start,
        token.end,
        token.text,
        term,
        score,
        False,
        "term-unlisted-drug",
        {"word": token.text, "term": term.text},
    )


def _is_candidate_shape(token: Token) -> bool:
    text = token.text
    return len(text) >= 4 and text.replace("-", "").replace("'", "").isalpha() and not text.isupper()


def _is_known(word: str, vocab: LanguageVocabulary) -> bool:
    return vocab.term(word) is not None or word in vocab.known_abbreviations or word.upper() in vocab.abbreviations


def _doubtful_ordinary(token: Token, index: TermIndex, probability: float) -> TermFinding | None:
    if probability >= DOUBTFUL_PROBABILITY:
        return None
    ranked = index.lookup(token.text)
    if not ranked or ranked[0][1] < 88:
        return None
    term, score = ranked[0]
    return TermFinding(
        token.start,
        token.end,
        token.text,
        term,
        score,
        False,
        "term-doubtful-word",
        {"word": token.text, "term": term.text},
    )


def _best(start: int, end: int, word: str, index: TermIndex, *, capitalised: bool) -> TermFinding | None:
    ranked = index.lookup(word)
    if not ranked:
        return None
    term, score = ranked[0]
    if score < FLAG_SCORE:
        return None
    rivals = [t for t, s in ranked[1:] if s >= score - LOOKALIKE_MARGIN and not _same_word(t.text, term.text)]
    drug_rivals = [t for t in rivals if t.is_drug] if term.is_drug else []
    close_rivals = [t for t, s in ranked[1:] if s >= score - 2 and not _same_word(t.text, term.text)]
    threshold = CHANGE_SCORE + (6 if capitalised else 0) + (8 if len(word) <= 6 else 0)
    if drug_rivals:
        names = ", ".join([term.text] + [t.text for t in drug_rivals])
        return TermFinding(
            start,
            end,
            word,
            term,
            score,
            False,
            "term-lookalike-drugs",
            {"word": word, "names": names},
        )
    if score >= threshold and not close_rivals:
        return TermFinding(
            start,
            end,
            word,
            term,
            score,
            True,
            "corrected",
            {"word": word, "term": term.text},
        )
    return TermFinding(
        start,
        end,
        word,
        term,
        score,
        False,
        "term-unknown-word",
        {"word": word, "term": term.text},
    )


def _same_word(a: str, b: str) -> bool:
    """Whether two terms are inflections of one word (singular and plural, masculine and feminine)."""
    a, b = fold(a), fold(b)
    stem = re.compile(r"(?:es|s|x|e)$")
    return stem.sub("", a) == stem.sub("", b)


def _joined(first: Token, second: Token, vocab: LanguageVocabulary, index: TermIndex) -> TermFinding | None:
    """Two pieces of one word the engine split ("ferro sémide")."""
    if not second.text.isalpha() or second.text.isupper() or _is_known(second.text, vocab):
        return None
    if second.lower in vocab.ordinary_words:
        return None  # "actron well", "vasten at": the second word is a word of its own
    if vocab.has_drug_stem(second.text) or vocab.is_foreign_drug(second.text):
        return None
    word = first.text + second.text
    finding = _best(first.start, second.end, word, index, capitalised=False)
    if finding is None or not finding.change:
        return None
    return TermFinding(
        first.start,
        second.end,
        f"{first.text} {second.text}",
        finding.term,
        finding.score,
        True,
        "corrected",
        {"word": f"{first.text} {second.text}", "term": finding.term.text},
    )


def term_replacements(findings: list[TermFinding]) -> list[Replacement]:
    """The changes among the findings."""
    return [Replacement(f.start, f.end, f.term.text, RULE, round(f.score / 100, 3)) for f in findings if f.change]


def common_terms(vocab: LanguageVocabulary) -> frozenset[str]:
    """The terms most often dictated (folded): every specialty's list, the curated words, the country's most
    prescribed brands and the medicines with a dose range."""
    chosen = {fold(t) for terms in vocab.specialty_terms.values() for t in terms}
    chosen |= {key for key, term in vocab.terms.items() if term.source.endswith(("curated.tsv", "brands.tsv"))}
    chosen |= set(vocab.dose_ranges)
    return frozenset(key for key in chosen if key in vocab.terms)
