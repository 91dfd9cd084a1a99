"""Where to ask the audio, and what to ask it: doubtful stretches of a transcript and their candidate terms.

The engine's own words are what it found most likely, so the audio is asked only about stretches it
doubted: one to four words that are not all ordinary words of the language heard clearly, whose
letters, joined, are near a lexicon entry by spelling or by sound ("biseau prolo la": bisoprolol,
"pour accalier mis": kaliémie, "la pizza dans": apixaban). Each stretch becomes a *question*: the
words as heard, and the spellings the audio is to rank (``transcribe.speech.acoustic`` scores them; the
text layer decides with ``transcribe.text.evidence``). Overlapping stretches are one question, so
that "bis au prolole" and "prolole" compete on the same audio.

Pure: the transcript's source text in, questions out.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from functools import lru_cache

from transcribe.records import AudioQuestion, Candidate
from transcribe.text.term_index import TermIndex
from transcribe.text.tokens import SourceText
from transcribe.vocabulary.folding import fold, fold_with_map
from transcribe.vocabulary.records import LanguageVocabulary

#: the longest stretch of words asked about as one term
MAX_WORDS = 4
#: a word below this engine confidence is doubted, even when it is an ordinary word
DOUBTED_PROBABILITY = 0.6
#: candidates kept for one stretch (nearest first), and for one question (all its stretches together)
PER_STRETCH = 4
PER_QUESTION = 6
#: spellings only *offered* on the flag, never written by the audio's rule (``OFFERED``): the next nearest
#: lexicon terms after those kept, and a term the engine glued to an ordinary word ("engorstable": angor
#: stable); per stretch, and per question
OFFERED_PER_STRETCH = 1
OFFERED_PER_QUESTION = 1
OFFERED = "offered"
#: a glued word is split only where both pieces have at least this many letters
GLUED_PIECE = 5
#: a candidate from the lexicon must be at least this near (out of 100, spelling and sound together)
MIN_NEARNESS = 66.0
#: a term of the dictation's biasing list is offered from this nearness: the list says it is expected
MIN_NEARNESS_LISTED = 58.0
#: one of the terms most often dictated (``terms.common_terms``) is offered from this nearness
MIN_NEARNESS_COMMON = 62.0
#: a stretch is asked about only when its nearest candidate is at least this near (with a word that is no
#: word of the language), or this near (words of the language the engine doubted)
MIN_BEST_NEARNESS = 72.0
MIN_BEST_NEARNESS_WORDS = 80.0
#: a term of the biasing list written below this engine confidence is checked on the audio
LIST_TERM_DOUBT = 0.5
#: questions kept for one dictation (each costs the engine one pass of its decoder per candidate)
MAX_QUESTIONS = 24

_LETTERS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def find_questions(
    source: SourceText,
    vocab: LanguageVocabulary,
    index: TermIndex,
    common: TermIndex,
    listed: Iterable[str] = (),
    *,
    max_questions: int = MAX_QUESTIONS,
) -> list[AudioQuestion]:
    """The doubtful stretches of a transcript worth asking the audio about, with their candidates."""
    words = [source.text[a:b] for a, b in source.word_spans]
    if not words:
        return []
    listed_terms = {fold(t): t for t in listed if t.strip()}
    commands = _command_words(vocab)
    stretches: list[tuple[int, int, list[Candidate]]] = []
    for first in range(len(words)):
        for last in range(first, min(first + MAX_WORDS, len(words))):
            pieces = [_letters_of(w) for w in words[first : last + 1]]
            if any(p is None or p.lower() in commands or _is_number_word(p, vocab.language) for p in pieces):
                break  # a number, a lone mark or a dictated command ("virgule", "period") ends the stretch
            doubt = _doubt(words[first : last + 1], source.probabilities[first : last + 1], vocab)
            if doubt is None:
                continue
            joined = "".join(p for p in pieces if p)
            if len(joined) < 5 or len(joined) > 30:
                continue
            found = _candidates(joined, first, last, index, common, listed_terms)
            found = [c for c in found if not _inflection_of_heard(c.spelling, words[first : last + 1])]
            if first == last and doubt == "no word":
                found += _glued(words[first], first, index, vocab)
            if any(c.nearness >= (MIN_BEST_NEARNESS if doubt == "no word" else MIN_BEST_NEARNESS_WORDS) for c in found):
                stretches.append((first, last, found))
    return _as_questions(stretches, source, max_questions)


def _command_words(vocab: LanguageVocabulary) -> frozenset[str]:
    """The dictated commands of one word ("virgule", "point", "period"): never part of a term."""
    return frozenset(fold(c.words[0]) for c in vocab.commands if len(c.words) == 1)


@lru_cache(maxsize=8192)
def _is_number_word(word: str, language: str) -> bool:
    """Whether a word says a number ("trois", "twenty"): numbers are the number pass's, never a term."""
    from text_to_num import alpha2digit

    return any(c.isdigit() for c in alpha2digit(word, language, threshold=0))


def _letters_of(word: str) -> str | None:
    """The letters of a word (apostrophes and hyphens dropped); None for a number or a mark alone."""
    stripped = word.strip().strip(".,;:!?…«»\"()[]'’-")
    if not stripped or not _LETTERS.fullmatch(stripped):
        return None
    return re.sub(r"['’-]", "", stripped)


def _inflection_of_heard(spelling: str, words: list[str]) -> bool:
    """Whether a candidate is only another form of a word heard ("caractérisé" / "caractérisée")."""
    target = _stem(spelling)
    return any(_stem(w) == target for w in words)


def _stem(word: str) -> str:
    return re.sub(r"(?:es|s|x|e)$", "", fold(word.strip().strip('.,;:!?…«»"()[]')))


def _doubt(words: list[str], probabilities: tuple[float, ...], vocab: LanguageVocabulary) -> str | None:
    """Why the engine may have misheard this stretch: "no word" (one is no word of the language nor of the
    lexicon), "doubted" (words of the language, one below ``DOUBTED_PROBABILITY``); None: not asked.

    A stretch made only of ordinary words heard clearly, or holding a known medical term, is not asked
    about: the term was heard, and ordinary words heard clearly are what was said.
    """
    why = None
    for word, probability in zip(words, probabilities):
        bare = word.strip().strip(".,;:!?…«»\"()[]'’-")
        if vocab.term(bare) is not None and len(bare) >= 4:
            return None
        if bare.lower() not in vocab.ordinary_words:
            why = "no word"
        elif probability < DOUBTED_PROBABILITY and why is None:
            why = "doubted"
    return why


def _candidates(
    joined: str, first: int, last: int, index: TermIndex, common: TermIndex, listed: dict[str, str]
) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    for kind, lookup, minimum in (("common", common, MIN_NEARNESS_COMMON), ("lexicon", index, MIN_NEARNESS)):
        for term, nearness in lookup.lookup(joined):
            folded = fold(term.text)
            is_listed = folded in listed
            if folded in found or nearness < (MIN_NEARNESS_LISTED if is_listed else minimum):
                continue
            found[folded] = Candidate(first, last, term.text, nearness, "list" if is_listed else kind, term.is_drug)
    for folded, spelling in listed.items():
        if folded in found:
            continue
        nearness = index.nearness(joined, spelling)
        if nearness >= MIN_NEARNESS_LISTED:
            found[folded] = Candidate(first, last, spelling, nearness, "list", index.is_drug(spelling))
    ranked = sorted(found.values(), key=lambda c: -c.nearness)
    kept, farther = ranked[:PER_STRETCH], ranked[PER_STRETCH:]
    stems = {_stem(c.spelling) for c in kept}
    offered = [c for c in farther if c.source != "list" and _stem(c.spelling) not in stems]
    return kept + [dataclasses.replace(c, source=OFFERED) for c in offered[:OFFERED_PER_STRETCH]]


def _glued(word: str, at: int, index: TermIndex, vocab: LanguageVocabulary) -> list[Candidate]:
    """A term the engine wrote glued to an ordinary word before or after it ("engorstable": angor stable,
    "aprèsbisoprolol": après bisoprolol), as the two words; only ever offered on the flag."""
    letters = _letters_of(word)
    if letters is None or len(letters) < 2 * GLUED_PIECE:
        return []
    # per term and side, the split with the longest ordinary word ("engor stable", not "engors table")
    found: dict[tuple[str, bool], tuple[int, Candidate]] = {}
    for cut in range(GLUED_PIECE, len(letters) - GLUED_PIECE + 1):
        head, tail = letters[:cut], letters[cut:]
        for ordinary, rest, before in ((tail, head, False), (head, tail, True)):
            known = vocab.term(ordinary)
            if ordinary.lower() not in vocab.ordinary_words and (known is None or known.is_drug):
                continue  # the other piece is a word of the language, or a term that is no medicine ("stable")
            for term, nearness in index.lookup(rest)[:1]:
                if nearness < MIN_BEST_NEARNESS:
                    continue
                spelling = f"{ordinary} {term.text}" if before else f"{term.text} {ordinary}"
                key = (fold(term.text), before)
                if key not in found or len(ordinary) > found[key][0]:
                    found[key] = (len(ordinary), Candidate(at, at, spelling, nearness, OFFERED, term.is_drug))
    return sorted((c for _, c in found.values()), key=lambda c: -c.nearness)[:OFFERED_PER_STRETCH]


def _as_questions(
    stretches: list[tuple[int, int, list[Candidate]]], source: SourceText, max_questions: int
) -> list[AudioQuestion]:
    """Overlapping stretches become one question; the nearest candidates of each question are kept."""
    stretches.sort(key=lambda s: (s[0], s[1]))
    groups: list[list[tuple[int, int, list[Candidate]]]] = []
    for stretch in stretches:
        if groups and stretch[0] <= max(s[1] for s in groups[-1]):
            groups[-1].append(stretch)
        else:
            groups.append([stretch])
    questions = []
    for group in groups:
        first, last = min(s[0] for s in group), max(s[1] for s in group)
        best: dict[str, Candidate] = {}
        for _, _, candidates in group:
            for c in candidates:
                key = fold(c.spelling)
                if key not in best or (c.source == OFFERED, -c.nearness) < (
                    best[key].source == OFFERED,
                    -best[key].nearness,
                ):
                    best[key] = c  # a spelling kept by one stretch and only offered by another is kept
        ranked = sorted(best.values(), key=lambda c: -c.nearness)
        regular = [c for c in ranked if c.source != OFFERED][:PER_QUESTION]
        kept = tuple(regular + [c for c in ranked if c.source == OFFERED][:OFFERED_PER_QUESTION])
        start, end = source.word_spans[first][0], source.word_spans[last][1]
        questions.append(
            AudioQuestion(
                first,
                last,
                start,
                end,
                source.text[start:end],
                kept,
                min(source.probabilities[first : last + 1]),
            )
        )
    # the nearest first (a question with spellings only to offer last), when there are more than can be asked
    questions.sort(key=lambda q: -max((c.nearness for c in q.candidates if c.source != OFFERED), default=0.0))
    return sorted(questions[:max_questions], key=lambda q: q.first)


def find_list_term_doubts(source: SourceText, listed: Iterable[str]) -> list[AudioQuestion]:
    """The terms of the dictation's biasing list that the engine wrote with low confidence.

    A hotword can make the engine write a term it did not hear ("pause" written "périndopril" with the
    cardiology list): each such place is checked against what the engine writes there without the list.
    """
    if not source.word_spans:
        return []
    folded = fold_with_map(source.text)
    doubts: dict[tuple[int, int], AudioQuestion] = {}
    for term in listed:
        if not term.strip():
            continue
        pattern = re.compile(r"(?<!\w)" + re.escape(fold(term)) + r"(?!\w)")
        for match in pattern.finditer(folded.text):
            start, end = folded.original(match.start(), match.end())
            covered = [i for i, (a, b) in enumerate(source.word_spans) if a < end and b > start]
            if not covered:
                continue
            first, last = covered[0], covered[-1]
            probability = min(source.probabilities[first : last + 1])
            if probability >= LIST_TERM_DOUBT:
                continue
            span = (source.word_spans[first][0], source.word_spans[last][1])
            doubts[(first, last)] = AudioQuestion(
                first, last, span[0], span[1], source.text[span[0] : span[1]], (), probability, "list-term"
            )
    return [doubts[key] for key in sorted(doubts)]
