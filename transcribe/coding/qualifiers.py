"""Finding the mentions of codes in a text, each with the field's qualifiers: negated, hypothetical, family.

French: edsnlp's rule-based pipes (``eds.sentences``, ``eds.normalizer``, ``eds.matcher``, then the
qualifiers ``eds.negation``, ``eds.hypothesis``, ``eds.family``), with the lists they ship and the cues
of ``vocab/fr/code-qualifiers.tsv`` added. English: spaCy's sentencizer and phrase matcher, then
negspacy's NegEx three times: for negation with its clinical termset as shipped (plus our cues), for
hypothesis and for family with the lists of ``vocab/en/code-qualifiers.tsv``.

Pure: text in, mentions out. A pipeline takes seconds to build (edsnlp conjugates its verbs): it is
built once per language and lexicon in a process (``mention_finder``) and shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transcribe.coding.lexicon import CodeLexicon
from transcribe.coding.records import ACT, FAMILY, HYPOTHETICAL, NEGATED, kind_of

#: an expression written in capitals (HTA, ECG, COPD) is matched only as written: in lower case it is
#: often another word
_MAX_ABBREVIATION = 6


@dataclass(frozen=True)
class Mention:
    """Words of the text that name a code, and the qualifiers that hold for them."""

    system: str
    code: str
    start: int
    end: int
    text: str
    reasons: tuple[str, ...]


MentionFinder = Callable[[str], list[Mention]]

_built: dict[CodeLexicon, MentionFinder] = {}
_building = threading.Lock()


def mention_finder(lexicon: CodeLexicon) -> MentionFinder:
    """The mention finder of a language's lexicon, built on first use and kept for the process."""
    with _building:
        if lexicon not in _built:
            build = _french if lexicon.language == "fr" else _english
            _built[lexicon] = build(lexicon)
        return _built[lexicon]


def is_abbreviation(expression: str) -> bool:
    """Whether an expression is matched only as written (capitals: HTA, ECG, COPD)."""
    letters = [c for c in expression if c.isalpha()]
    return bool(letters) and len(expression) <= _MAX_ABBREVIATION and all(c.isupper() for c in letters)


def _patterns(lexicon: CodeLexicon) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The expressions by code key ("cim10:E11.9"): those matched on folded words, those matched as written."""
    words: dict[str, list[str]] = {}
    capitals: dict[str, list[str]] = {}
    for term in lexicon.terms:
        key = f"{term.system}:{term.code}"
        for expression in term.expressions:
            (capitals if is_abbreviation(expression) else words).setdefault(key, []).append(expression)
    return words, capitals


def _mention(span: Any, reasons: tuple[str, ...]) -> Mention:
    system, code = span.label_.split(":", 1)
    return Mention(system, code, span.start_char, span.end_char, span.text, reasons)


def _french(lexicon: CodeLexicon) -> MentionFinder:
    import edsnlp
    import edsnlp.pipes as eds
    from edsnlp.pipes.qualifiers.hypothesis import patterns as hypothesis
    from edsnlp.pipes.qualifiers.negation import patterns as negation
    from edsnlp.pipes.terminations import termination

    def listed(qualifier: str, name: str, shipped: list[str]) -> list[str]:
        return list(shipped) + lexicon.cues_of(qualifier, name)

    words, capitals = _patterns(lexicon)
    nlp = edsnlp.blank("eds")
    nlp.add_pipe(eds.sentences())
    nlp.add_pipe(eds.normalizer())
    nlp.add_pipe(eds.matcher(terms=words, attr="NORM"), name="code-words")
    nlp.add_pipe(eds.matcher(terms=capitals, attr="TEXT"), name="code-abbreviations")
    nlp.add_pipe(
        eds.negation(
            pseudo=listed("negated", "pseudo", negation.pseudo),
            preceding=listed("negated", "preceding", negation.preceding),
            following=listed("negated", "following", negation.following),
            verbs=listed("negated", "verbs", negation.verbs),
            termination=listed("negated", "termination", termination),
            explain=True,  # its cues: a result after an act ("ECG normal", "épreuve d'effort négative") is no negation
        )
    )
    nlp.add_pipe(
        eds.hypothesis(
            pseudo=listed("hypothetical", "pseudo", hypothesis.pseudo),
            preceding=listed("hypothetical", "preceding", hypothesis.preceding),
            following=listed("hypothetical", "following", hypothesis.following),
            verbs_hyp=listed("hypothetical", "verbs_hyp", hypothesis.verbs_hyp),
            termination=listed("hypothetical", "termination", termination),
        )
    )
    nlp.add_pipe(eds.family(use_sections=False))

    def find(text: str) -> list[Mention]:
        doc = nlp(text)
        found = []
        for ent in doc.ents:
            reasons = tuple(
                reason
                for reason, holds in (
                    (NEGATED, ent._.negation and not _result_of_act(ent)),
                    (HYPOTHETICAL, ent._.hypothesis),
                    (FAMILY, ent._.family),
                )
                if holds
            )
            found.append(_mention(ent, reasons))
        return found

    return find


def _result_of_act(ent: Any) -> bool:
    """Whether the only negation of an act is a cue after it: its result ("ECG normal", "épreuve d'effort
    négative"), which says the act was done. An act is negated by a cue before it ("pas d'ECG")."""
    system = ent.label_.split(":", 1)[0]
    cues = ent._.negation_cues or ()
    return kind_of(system) == ACT and bool(cues) and all(cue.start >= ent.end for cue in cues)


def _english(lexicon: CodeLexicon) -> MentionFinder:
    import spacy
    from negspacy.negation import Negex
    from negspacy.termsets import termset
    from spacy.matcher import PhraseMatcher
    from spacy.pipeline import Sentencizer
    from spacy.tokens import Span
    from spacy.util import filter_spans

    words, capitals = _patterns(lexicon)
    # the components are made directly, not through spaCy's registry of factories, which edsnlp's own
    # registry takes over in a process that built the French pipeline first
    nlp = spacy.blank("en")
    sentencizer = Sentencizer()
    by_lower, as_written = PhraseMatcher(nlp.vocab, attr="LOWER"), PhraseMatcher(nlp.vocab, attr="ORTH")
    for matcher, patterns in ((by_lower, words), (as_written, capitals)):
        for key, expressions in patterns.items():
            matcher.add(key, [nlp.make_doc(e) for e in expressions])
    shipped = termset("en_clinical").get_patterns()
    lists = {"pseudo": "pseudo_negations", "preceding": "preceding_negations", "following": "following_negations"}
    lists["termination"] = "termination"

    def terms_of(qualifier: str, base: dict[str, list[str]]) -> dict[str, list[str]]:
        return {negex: list(base.get(negex, [])) + lexicon.cues_of(qualifier, ours) for ours, negex in lists.items()}

    qualifiers = [
        (reason, extension, Negex(nlp, extension, neg_termset=terms, extension_name=extension))
        for reason, extension, terms in (
            (NEGATED, "code_negated", terms_of(NEGATED, shipped)),
            (HYPOTHETICAL, "code_hypothetical", terms_of(HYPOTHETICAL, {})),
            (FAMILY, "code_family", terms_of(FAMILY, {})),
        )
    ]

    def find(text: str) -> list[Mention]:
        doc = sentencizer(nlp.make_doc(text))
        found = [Span(doc, s, e, label=key) for matcher in (by_lower, as_written) for key, s, e in matcher(doc)]
        doc.ents = filter_spans(found)  # the longest expression wins
        for _reason, _extension, qualifier in qualifiers:
            doc = qualifier(doc)
        return [
            _mention(ent, tuple(reason for reason, extension, _q in qualifiers if getattr(ent._, extension)))
            for ent in doc.ents
        ]

    return find
