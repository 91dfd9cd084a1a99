"""Deciding on the audio's evidence: which doubtful stretches become a term, which stay flagged.

The audio (``transcribe.speech.acoustic``) ranks candidate spellings well but rarely prefers one to the
engine's own words: the heard words are what the beam search found most likely. So a stretch
becomes a term only when the evidence *together* passes a rule calibrated on the dev corpus with
no wrong correction of a real word (``bench/bench_terms.py`` prints the curve it was chosen on):

- the heard stretch holds a word that is no word of the language (nor of the lexicon), or every
  word of it was doubted by the engine; it swallows at most one ordinary word heard clearly;
- the best candidate by the audio is a medical word (a medicine, a clinical, anatomical or
  examination term, a specialty, or a term of the dictation's biasing list), near the heard
  letters by spelling and sound;
- it falls short of the heard words by at most ``max_shortfall`` nats, and is ahead of every
  other candidate by at least ``min_lead`` nats;
- it is not a medicine of a family the heard letters cannot tell apart (two candidate medicines
  near each other, or an INN ending several listed medicines share), nor stands where an unlisted
  medicine is named.

Below the rule the stretch stays as heard and is flagged, its candidates ordered by the audio and
offered as choices. The thresholds belong to the model: ``AudioRule`` holds them, ``RULES`` the
calibrated ones, and a site with another model writes its own (``transcribe calibrate``).

Pure: evidence in, decisions out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from transcribe.records import AudioEvidence, CandidateScore
from transcribe.text.candidates import OFFERED
from transcribe.text.phonetic import key_of_language
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import MEDICAL_KINDS, LanguageVocabulary

RULE = "term-audio"
#: the rule of an edit that takes back a term of the biasing list the audio does not hold
LIST_TERM_RULE = "list-term-reverted"
#: choices offered on a flag, best first
CHOICES = 3
#: a medicine's ending this long, shared with the heard letters, says only its family (their beginnings must agree)
FAMILY_ENDING = 4
#: a margin no score reaches: the threshold it stands for never holds (a model nobody calibrated)
NEVER = 1000.0


@dataclass(frozen=True)
class AudioRule:
    """The thresholds of the audio's rule for one model (nats are natural-log probability units)."""

    model: str
    #: the best candidate may fall short of the heard words by at most this much
    max_shortfall: float = 6.0
    #: ...and must be ahead of every other candidate by at least this much
    min_lead: float = 0.0
    #: a medicine is chosen only this far ahead of every other candidate medicine (else both are flagged)
    min_drug_lead: float = 3.0
    #: nearness (out of 100) of the best candidate to the heard letters
    min_nearness: float = 80.0
    #: nearness for a word of kind "term" that the dictation's list does not hold
    min_nearness_general: float = 95.0
    #: a candidate that sounds as the heard letters do (same phonetic key: "phosphomicine", fosfomycine)
    #: may fall this far short of them; the look-alike refusals do not hold, the heard letters being its
    same_sound_shortfall: float = 0.0
    #: a stretch with no non-word must have every word below this engine confidence
    doubted_below: float = 0.3
    #: a stretch of words of the language is flagged only when one was heard below this confidence
    flag_below: float = 0.6
    #: ordinary words heard clearly (confidence 0.6 or more) that the candidate may replace
    max_clear_ordinary: int = 1
    #: a term of the biasing list written with low confidence is taken back when, without the list, the engine
    #: writes words this far from it (nearness below) or none, and the audio prefers that by this many nats
    list_term_far: float = 30.0
    list_term_hold: float = 2.0
    #: ... or words nearer the term's letters, when the audio prefers them by this many nats at least and they
    #: are not the same sounds written another way (nearness below ``list_term_same``)
    list_term_sure: float = NEVER
    list_term_same: float = 85.0
    #: whether any stretch is corrected at all (False: flags with audio-ranked choices only)
    corrects: bool = True
    #: where these thresholds come from
    calibrated_on: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (``transcribe calibrate`` writes it; ``rule_from_json`` reads it)."""
        return asdict(self)


def rule_from_json(data: dict[str, Any]) -> AudioRule:
    """An audio rule from its JSON mapping (unknown keys refused: a typo must not pass silently)."""
    known = {f.name for f in fields(AudioRule)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown keys in the audio rule: {', '.join(sorted(unknown))}")
    return AudioRule(**data)


#: the calibrated rules of the models the project ships or has measured (``bench/bench_terms.py``)
RULES: dict[str, AudioRule] = {
    "bundled-base": AudioRule(
        "bundled-base",
        min_lead=1.0,
        doubted_below=0.0,
        same_sound_shortfall=12.0,
        list_term_hold=0.0,
        list_term_sure=16.0,
        calibrated_on="chosen by bench/bench_terms.py --curve on 933 transcripts (the 52 dev dictations in three "
        "conditions and the 37 real general-speech clips of ../shared/audio, each with the 21 specialty lists): "
        "95 right corrections, 0 wrong, 8 list terms taken back, none that was said. A stretch must hold a "
        "non-word (doubted_below 0: ordinary words heard unsure, 'modif', 'table', were rewritten wrongly on "
        "general speech) and its best candidate lead the next by 1 nat; a candidate that sounds as the heard "
        "letters may fall 12 nats short. list_term_sure 16 (2026-12-05, bench/bench_terms.py): list terms said in "
        "the dev dictations were preferred to the words written without the list by at most 12.0 nats where "
        "those words were not the same sounds; terms never said on the general-speech clips by 16.7 to 30.0",
    ),
}


def rule_for_model(model: str, site_file: Path | None = None) -> AudioRule:
    """The audio rule for a model: the site's own calibration (``site_file``) if it has one for this model,
    else the shipped one; a model nobody calibrated corrects nothing (flags with audio-ranked choices only)."""
    if site_file is not None and site_file.is_file():
        calibrated = json.loads(site_file.read_text(encoding="utf-8"))
        if isinstance(calibrated, dict) and model in calibrated:
            return rule_from_json(calibrated[model])
    if model in RULES:
        return RULES[model]
    return AudioRule(model, corrects=False, calibrated_on="not calibrated for this model")


@dataclass(frozen=True)
class AudioDecision:
    """What becomes of one stretch: words ``first`` to ``last`` replaced by ``spelling``, or flagged."""

    first: int
    last: int
    heard: str
    spelling: str
    replace: bool
    #: the spellings offered on a flag, best first by the audio
    choices: tuple[str, ...]
    #: the flag's message code ("" : no flag) and its parameters
    code: str
    params: dict[str, str]
    #: the evidence, kept with the edit: each candidate and its margin over the heard words
    evidence: dict[str, str]
    #: the edit's rule when it replaces
    rule: str = RULE


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def decide(
    evidence: AudioEvidence,
    words: list[str],
    probabilities: tuple[float, ...],
    vocab: LanguageVocabulary,
    rule: AudioRule,
) -> AudioDecision | None:
    """The decision on one question; None when the audio found nothing worth a flag."""
    scores = [s for s in evidence.scores if _medical(s, vocab, rule)]
    if not scores:
        return None
    best = scores[0]
    others = [s for s in scores[1:] if fold(s.spelling) != fold(best.spelling)]
    lead = best.margin - others[0].margin if others else float("inf")
    stretch = words[best.first : best.last + 1]
    confidences = probabilities[best.first : best.last + 1]
    heard = " ".join(w.strip() for w in stretch)
    if _has_digit(heard):
        return None  # a number is never part of what the audio rewrites: the dose pass owns it
    # the choices are every candidate the audio ranked, medical or not ("otite" is a word of the classification)
    choices = tuple(dict.fromkeys(s.spelling for s in evidence.scores))[:CHOICES]
    kept = {
        "heard": heard,
        "candidates": "; ".join(f"{s.spelling} {s.margin:+.1f}" for s in scores[:CHOICES]),
        "model": rule.model,
    }
    nonwords = sum(1 for w in stretch if _is_nonword(w, vocab))
    clear_ordinary = sum(1 for w, p in zip(stretch, confidences) if _bare(w) in vocab.ordinary_words and p >= 0.6)
    doubted = nonwords > 0 or max(confidences) < rule.doubted_below
    same_sound = (
        nonwords > 0
        and _sounds_as(heard, best.spelling, vocab.language)
        and not any(_sounds_as(heard, s.spelling, vocab.language) for s in others if s.is_drug)
    )
    # heard letters that sound as the candidate tell it from its family and from an unlisted medicine; a known
    # look-alike pair among the candidates is still only flagged
    refusal = _family_refusal(best, others, stretch, vocab, rule, same_sound) or (
        None if same_sound else _unlisted_drug_here(best, stretch, vocab)
    )
    shortfall = max(rule.max_shortfall, rule.same_sound_shortfall) if same_sound else rule.max_shortfall
    passes = (
        rule.corrects
        and best.source != OFFERED  # only offered: the rule was calibrated without it
        and refusal is None
        and doubted
        and clear_ordinary <= rule.max_clear_ordinary
        and (best.nearness >= rule.min_nearness or same_sound)
        and _medical(best, vocab, rule)
        and best.margin >= -shortfall
        and lead >= rule.min_lead
    )
    if passes:
        return AudioDecision(best.first, best.last, heard, best.spelling, True, choices, "", {}, kept)
    asked = nonwords > 0 or min(confidences) < rule.flag_below
    if not asked or not (nonwords or best.margin >= -rule.max_shortfall):
        return None  # words of the language, heard clearly or preferred by the audio: nothing to ask her about
    code, params = refusal or ("term-audio-choices", {"word": heard, "choices": ", ".join(choices)})
    return AudioDecision(best.first, best.last, heard, best.spelling, False, choices, code, params, kept)


def _medical(score: CandidateScore, vocab: LanguageVocabulary, rule: AudioRule) -> bool:
    return (
        score.source in ("list", "common")
        or _kind(score, vocab) in MEDICAL_KINDS
        or score.nearness >= rule.min_nearness_general
    )


def _kind(score: CandidateScore, vocab: LanguageVocabulary) -> str:
    term = vocab.term(score.spelling)
    if term is None and score.source == OFFERED:  # a term glued to an ordinary word: the term's kind
        kinds = [t.kind for t in map(vocab.term, score.spelling.split()) if t is not None]
        return next((k for k in kinds if k in MEDICAL_KINDS), "")
    return term.kind if term is not None else ""


def _bare(word: str) -> str:
    return word.strip().strip('.,;:!?…«»"()[]').lower()


def _is_nonword(word: str, vocab: LanguageVocabulary) -> bool:
    bare = _bare(word)
    return bool(bare) and bare not in vocab.ordinary_words and vocab.term(bare) is None


def _family_refusal(
    best: CandidateScore,
    others: list[CandidateScore],
    stretch: list[str],
    vocab: LanguageVocabulary,
    rule: AudioRule,
    same_sound: bool = False,
) -> tuple[str, dict[str, str]] | None:
    """A medicine the audio cannot tell from another: a pair known to be confused, another candidate medicine
    the audio ranks nearly as high, or an INN ending ("-tropium") heard without what tells its members apart.
    Heard letters that sound as the candidate (``same_sound``) tell it apart, except from a known look-alike."""
    if not best.is_drug:
        return None
    heard = " ".join(w.strip() for w in stretch)
    rivals = [
        s.spelling
        for s in others
        if s.is_drug
        and (
            vocab.are_lookalikes(best.spelling, s.spelling)
            or (
                not same_sound
                and best.margin - s.margin < rule.min_drug_lead
                and (_prescribed(s) or not _prescribed(best))
            )
        )
    ]
    if rivals:
        return "term-lookalike-drugs", {"word": heard, "names": ", ".join(dict.fromkeys([best.spelling, *rivals]))}
    if same_sound:
        return None
    letters = re.sub(r"[^a-z]", "", fold("".join(stretch)))
    target = fold(best.spelling)
    # an ending the two share says only the family; the beginning, heard unlike, tells its members apart: an INN
    # stem ("-tropium"), even heard alone, or any ending of FAMILY_ENDING letters ("osipamine", the unlisted
    # Xipamid misheard, is not dopamine: "-pamine") once something was heard before it ("suline" for insuline:
    # the engine missed the start, which contradicts nothing)
    endings = [(stem, target.rstrip("e"), False) for stem in vocab.drug_stems if target.rstrip("e").endswith(stem)]
    spelled_letters = re.sub(r"[^a-z]", "", target)
    shared = _common_ending(letters, spelled_letters)
    if len(shared) >= FAMILY_ENDING:
        endings.append((shared, spelled_letters, True))
    for ending, name, needs_beginning in endings:
        if not letters.endswith(ending):
            continue
        spelled, prefix = letters[: -len(ending)], name[: -len(ending)]
        if (spelled or not needs_beginning) and fuzz.ratio(spelled, prefix) < 50:
            return "term-lookalike-drugs", {"word": heard, "names": f"{best.spelling}, …{ending}"}
    return None


def _common_ending(first: str, second: str) -> str:
    """The letters both words end with."""
    size = 0
    while size < min(len(first), len(second)) and first[-1 - size] == second[-1 - size]:
        size += 1
    return first[len(first) - size :]


def _prescribed(score: CandidateScore) -> bool:
    """Whether a candidate medicine is one commonly prescribed (the terms most often dictated, the dictation's
    list): a rare chemical name the audio ranks close behind does not stop it; the reverse does."""
    return score.source in ("common", "list")


def _unlisted_drug_here(
    best: CandidateScore, stretch: list[str], vocab: LanguageVocabulary
) -> tuple[str, dict[str, str]] | None:
    """A heard word that looks like a medicine we do not list (an INN ending, another language's medicine),
    unless its letters are the candidate's ("Rami-pril": ramipril)."""
    if _letters(" ".join(stretch)) == _letters(best.spelling):
        return None
    for word in stretch:
        bare = word.strip().strip('.,;:!?…«»"()[]')
        if _is_nonword(bare, vocab) and (vocab.has_drug_stem(bare) or vocab.is_foreign_drug(bare)):
            return "term-unlisted-drug", {"word": bare, "term": best.spelling}
    return None


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", fold(text))


def _sounds_as(heard: str, spelling: str, language: str) -> bool:
    """Whether the heard letters, taken as one word, sound as the spelling does (the same phonetic key of the
    language): the same word written another way ("phosphomicine" / fosfomycine, "rami-pril" / ramipril)."""
    key = key_of_language(language)
    heard_key = key(_letters(heard))
    return bool(heard_key) and len(_letters(heard)) >= 5 and heard_key == key(_letters(spelling))


def decide_list_term(
    evidence: AudioEvidence,
    words: list[str],
    rule: AudioRule,
    nearness: Callable[[str, str], float],
) -> AudioDecision | None:
    """A term of the biasing list written with low confidence: kept unless the audio says it was not there.

    Its candidates are what the engine writes in its place without the list, and the term left out. The
    term was not there when, without the list, the engine writes other words (their letters far from
    the term's, below ``rule.list_term_far``) or none (it goes straight on to the next words), and the
    audio prefers that to the term by at least ``rule.list_term_hold`` nats; or when it writes other words
    nearer the term's letters (below ``rule.list_term_same``) that the audio prefers by at least
    ``rule.list_term_sure`` nats. Then those words take its
    place (rule ``list-term-reverted``) and the place is flagged, the term offered as a choice. Where
    the engine writes the same sounds differently without the list ("Dispner" for dyspnée), the term
    stays: the list did its work.
    """
    heard = " ".join(w.strip() for w in words[evidence.first : evidence.last + 1])
    unbiased = next((s for s in evidence.scores if s.source == "without-list"), None)
    if unbiased is None:
        return None
    written = unbiased.spelling.strip()
    near = nearness(written, heard) if written else 0.0
    kept = {
        "heard": heard,
        "without the list": written or "—",
        "margin": f"{unbiased.margin:+.1f}",
        "nearness": f"{near:.0f}",
        "model": rule.model,
    }
    other_words = near < rule.list_term_far or (
        unbiased.margin >= rule.list_term_sure and near < rule.list_term_same
    )  # "He could rise and" for hemiparesis: letters in common, but 24 nats in favour of the other words
    if not other_words or unbiased.margin < rule.list_term_hold:
        return None  # the same sounds, or the audio does not prefer the words written without the list
    term = heard.strip(".,;:!?")
    params = {"term": term, "heard": written or "—"}
    if not rule.corrects or _has_digit(heard) or _has_digit(written):
        # a model nobody calibrated, or a number on either side: said, not changed
        choices = (written,) if written else ()
        return AudioDecision(
            evidence.first, evidence.last, heard, "", False, choices, "list-term-doubted", params, kept
        )
    return AudioDecision(
        evidence.first, evidence.last, heard, written, True, (term,), "list-term-reverted", params, kept, LIST_TERM_RULE
    )
