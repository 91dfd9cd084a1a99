"""The audio's evidence on the medical words: which stretches are asked about, and what is decided.

The questions and the decisions are pure (``transcribe.text.candidates``, ``transcribe.text.evidence``):
these tests give them transcripts and evidence written here. The scoring itself, on real audio, is
tested in tests/test_acoustic.py.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transcribe.records import (
    AudioEvidence,
    CandidateScore,
    Edit,
    Segment,
    Transcript,
    Word,
    apply_edits,
    evidence_from_json,
)
from transcribe.text import TextLayer
from transcribe.text.candidates import OFFERED, PER_QUESTION
from transcribe.text.evidence import RULES, AudioRule, decide, decide_list_term, rule_for_model, rule_from_json
from transcribe.text.tokens import source_of
from transcribe.vocabulary.folding import fold

RULE = RULES["bundled-base"]


def engine_output(pieces: list[tuple[str, float]], language: str = "fr", **options: object) -> Transcript:
    """What the engine wrote: each word with its confidence, 0.4 s apart."""
    words = tuple(Word((" " if i else "") + w, 0.4 * i, 0.4 * i + 0.3, p) for i, (w, p) in enumerate(pieces))
    text = "".join(w.text for w in words)
    return Transcript((Segment(text, 0.0, 0.4 * len(words), words),), language, 0.99, 0.4 * len(words),
                      "bundled-base", dict(options))


def words_of(text: str, probability: float = 0.9) -> list[tuple[str, float]]:
    return [(w, probability) for w in text.split()]


def score(spelling: str, first: int, last: int, margin: float, nearness: float = 90.0, source: str = "lexicon",
          is_drug: bool = True) -> CandidateScore:
    return CandidateScore(spelling, first, last, margin, nearness, source, is_drug)


def with_evidence(transcript: Transcript, evidence: list[AudioEvidence], rule: AudioRule = RULE) -> Transcript:
    return dataclasses.replace(transcript, options={**transcript.options, "audio_rule": rule.to_json(),
                                                    "audio_evidence": [e.to_json() for e in evidence]})


# --- the questions --------------------------------------------------------------------------------
def test_a_misheard_run_of_words_is_asked_about_with_the_term_among_its_candidates(text_layer: TextLayer) -> None:
    transcript = engine_output([("le", 0.9), ("soir", 0.9), ("pour", 0.3), ("accalier", 0.2), ("mis", 0.3),
                                ("à", 0.9), ("4,2.", 0.9)])
    (question,) = [q for q in text_layer.audio_questions(transcript) if "accalier" in q.heard]
    kaliemie = next(c for c in question.candidates if fold(c.spelling) == "kaliemie")
    assert (kaliemie.first, kaliemie.last) in ((3, 4), (2, 4))  # "accalier mis", or with the "pour" before it


def test_commands_numbers_known_terms_and_clear_ordinary_words_are_not_asked_about(text_layer: TextLayer) -> None:
    transcript = engine_output([("patient", 0.95), ("sous", 0.95), ("furosémide", 0.4), ("virgule", 0.3),
                                ("trois", 0.3), ("fois", 0.95), ("par", 0.95), ("jour", 0.95), ("point", 0.2)])
    asked = {fold(w) for q in text_layer.audio_questions(transcript) for w in re.findall(r"\w+", q.heard)}
    assert not asked & {"furosemide", "virgule", "trois", "point", "patient", "jour"}


def test_a_term_of_the_list_written_with_low_confidence_is_asked_about(text_layer: TextLayer) -> None:
    transcript = engine_output([("pêche", 0.4), ("périndopril,", 0.02), ("périndopril", 0.03)],
                               biasing={"terms": ["périndopril", "ramipril"], "sources": {}})
    doubts = [q for q in text_layer.audio_questions(transcript) if q.kind == "list-term"]
    assert [(q.first, q.last) for q in doubts] == [(1, 1), (2, 2)]
    clear = engine_output([("sous", 0.9), ("périndopril", 0.97)], biasing={"terms": ["périndopril"], "sources": {}})
    assert not [q for q in text_layer.audio_questions(clear) if q.kind == "list-term"]



def test_a_term_glued_to_an_ordinary_word_is_offered_as_the_two_words(text_layer: TextLayer) -> None:
    """The engine wrote "angor stable" as one non-word: the split is asked about, as a choice only."""
    transcript = engine_output([("conclusion", 0.7), ("de", 0.9), ("points", 0.9), ("engorstable", 0.48),
                                ("point.", 0.4)])
    (question,) = [q for q in text_layer.audio_questions(transcript) if "engorstable" in q.heard]
    offered = [c for c in question.candidates if c.source == OFFERED]
    assert "angor stable" in [c.spelling for c in offered]


def test_the_next_nearest_terms_are_offered_beside_those_the_rule_may_write(text_layer: TextLayer) -> None:
    """"systique": systémique, systolique, kystique are nearer by spelling; cystite, a little farther, is offered."""
    transcript = engine_output([("une", 0.9), ("systique", 0.4), ("simple", 0.9)])
    (question,) = [q for q in text_layer.audio_questions(transcript) if "systique" in q.heard]
    assert ("cystite", OFFERED) in [(c.spelling, c.source) for c in question.candidates]
    assert len([c for c in question.candidates if c.source != OFFERED]) <= PER_QUESTION

# --- the decision ---------------------------------------------------------------------------------
def _decide(text_layer: TextLayer, heard: list[tuple[str, float]], evidence: AudioEvidence, rule: AudioRule = RULE):
    source = source_of(engine_output(heard))
    words = [source.text[a:b] for a, b in source.word_spans]
    return decide(evidence, words, source.probabilities, text_layer.vocabulary.for_language("fr"), rule)


HEARD = [("et", 0.9), ("hydroxysine", 0.5), ("25", 0.9), ("mg", 0.9)]


def test_the_audio_writes_a_misheard_medicine_when_the_evidence_passes(text_layer: TextLayer) -> None:
    evidence = AudioEvidence(1, 1, "hydroxysine", (score("hydroxyzine", 1, 1, -3.0, 95.9),
                                                   score("hydroxylysine", 1, 1, -16.0, 91.0, is_drug=False)))
    decision = _decide(text_layer, HEARD, evidence)
    assert decision is not None and decision.replace and decision.spelling == "hydroxyzine"
    assert "hydroxyzine -3.0" in decision.evidence["candidates"] and decision.evidence["heard"] == "hydroxysine"


@pytest.mark.parametrize(("margin", "nearness", "why"), [
    (-RULE.max_shortfall - 0.5, 95.0, "too far below the heard words"),
    (-1.0, RULE.min_nearness - 1, "too far from the heard letters"),
])
def test_below_the_rule_the_word_stays_and_is_flagged_with_the_audio_s_choices(
        text_layer: TextLayer, margin: float, nearness: float, why: str) -> None:
    heard = [("et", 0.9), ("hydroksyne", 0.5), ("25", 0.9), ("mg", 0.9)]  # near hydroxyzine, not its sound
    evidence = AudioEvidence(1, 1, "hydroksyne", (score("hydroxyzine", 1, 1, margin, nearness),
                                                  score("hydroxyurée", 1, 1, margin - 9, nearness - 10)))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace, why
    assert decision.choices[0] == "hydroxyzine" and decision.code == "term-audio-choices"



def test_a_spelling_only_offered_is_never_written_however_the_audio_ranks_it(text_layer: TextLayer) -> None:
    heard = [("une", 0.9), ("systique", 0.4), ("simple", 0.9)]
    evidence = AudioEvidence(1, 1, "systique", (score("cystite", 1, 1, 2.0, 80.0, source=OFFERED, is_drug=False),
                                                score("systémique", 1, 1, -6.0, 87.1, is_drug=False)))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace and decision.choices[0] == "cystite"
    # and, behind a spelling the rule may write, it still counts against that one's lead
    evidence = AudioEvidence(1, 1, "hydroxysine", (score("hydroxyzine", 1, 1, -3.0, 95.9),
                                                   score("hydroxychloroquine", 1, 1, -3.2, 70.0, source=OFFERED)))
    decision = _decide(text_layer, HEARD, evidence)
    assert decision is not None and not decision.replace


def test_an_audio_flag_next_to_a_dictated_comma_still_stands_for_the_text_s_own(text_layer: TextLayer) -> None:
    """ "virgule" became ", " right before the doubtful words: the words are as heard, the audio's flag stands."""
    transcript = engine_output([("douleur", 0.9), ("virgule", 0.5), ("qui", 0.88), ("n'esité", 0.48),
                                ("rapide", 0.84), ("et", 0.44), ("repos", 0.9)])
    evidence = [AudioEvidence(2, 4, "qui n'esité rapide", (
        score("kinésithérapie", 2, 4, -15.5, 92.2, source="common", is_drug=False),
        score("cécité", 3, 3, -31.5, 79.9, is_drug=False)))]
    result = text_layer.clean(with_evidence(transcript, evidence))
    (flag,) = [f for f in result.flags if f.kind == "term"]
    assert flag.code == "term-audio-choices" and flag.choices[0] == "kinésithérapie"
    assert "Douleur, qui" in result.text

def test_a_pair_of_medicines_known_to_be_confused_is_always_flagged(text_layer: TextLayer) -> None:
    """bisoprolol and métoprolol are listed look-alikes: however the audio ranks them, she chooses."""
    heard = [("par", 0.9), ("bisoprole", 0.3), ("l'ol", 0.3), ("de", 0.9)]
    evidence = AudioEvidence(1, 2, "bisoprole l'ol", (score("bisoprolol", 1, 2, 6.9, 90.9),
                                                      score("métoprolol", 1, 2, -6.4, 75.0)))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace and decision.code == "term-lookalike-drugs"
    assert "bisoprolol" in decision.params["names"] and "métoprolol" in decision.params["names"]


def test_two_medicines_the_audio_barely_tells_apart_are_flagged(text_layer: TextLayer) -> None:
    heard = [("et", 0.9), ("hydroksyne", 0.5), ("25", 0.9), ("mg", 0.9)]
    evidence = AudioEvidence(1, 1, "hydroksyne", (score("hydroxyzine", 1, 1, -1.0, 95.0),
                                                  score("hydrocortisone", 1, 1, -1.0 - RULE.min_drug_lead / 2, 90)))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace and decision.code == "term-lookalike-drugs"


def test_an_inn_ending_heard_alone_does_not_name_its_family_member(text_layer: TextLayer) -> None:
    heard = [("sous", 0.9), ("colantid", 0.3), ("tropium", 0.4)]
    evidence = AudioEvidence(1, 2, "colantid tropium", (score("tiotropium", 1, 2, 2.0, 80.0),))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace and decision.code == "term-lookalike-drugs"


def test_a_shared_ending_heard_with_another_beginning_does_not_name_the_medicine(text_layer: TextLayer) -> None:
    """Xipamid (a real medicine our lexicons lack) heard "osipamine" on a fresh decode: the audio put dopamine
    0.5 nats short of the heard word, near enough by its letters; "-pamine" says only a family, and "osi" is
    not "do": flagged with dopamine as a choice, never written. Where nothing was heard before the ending
    ("suline"), nothing contradicts the medicine."""
    heard = [("Patient", 0.03), ("son", 0.1), ("osipamine", 0.15), ("depuis", 0.99)]
    evidence = AudioEvidence(2, 2, "osipamine", (score("dopamine", 2, 2, -0.5, 81.1, "lexicon"),
                                                 score("desipramine", 2, 2, -19.8, 78.8, "lexicon")))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace and decision.code == "term-lookalike-drugs"
    assert "dopamine" in decision.choices
    missed_start = AudioEvidence(1, 1, "suline", (score("insuline", 1, 1, -3.0, 83.0, "common"),
                                                  score("Umuline", 1, 1, -12.0, 75.0, "lexicon")))
    written = _decide(text_layer, [("sous", 0.9), ("suline", 0.2), ("rapide", 0.9)], missed_start)
    assert written is not None and written.replace and written.spelling == "insuline"


def test_a_word_that_looks_like_a_medicine_we_do_not_list_is_never_replaced(text_layer: TextLayer) -> None:
    heard = [("sous", 0.9), ("vériciguate", 0.4), ("10", 0.9), ("mg", 0.9)]
    evidence = AudioEvidence(1, 1, "vériciguate", (score("riociguat", 1, 1, 3.0, 82.0),))
    decision = _decide(text_layer, heard, evidence)
    assert decision is not None and not decision.replace and decision.code == "term-unlisted-drug"
    # but a listed medicine cut in two by a hyphen is the same letters: written whole
    cut = AudioEvidence(1, 1, "Rami-pril", (score("ramipril", 1, 1, 1.7, 100.0),))
    joined = _decide(text_layer, [("sous", 0.9), ("Rami-pril", 0.3), ("5", 0.9)], cut)
    assert joined is not None and joined.replace and joined.spelling == "ramipril"


def test_heard_letters_that_sound_as_a_medicine_may_fall_further_short_of_the_heard_words(
        text_layer: TextLayer) -> None:
    """"phosphomicine" sounds as fosfomycine: the same word written another way, not another medicine."""
    heard = [("par", 0.9), ("phosphomicine", 0.38), ("3", 0.9), ("g", 0.9)]
    margin = -(RULE.max_shortfall + RULE.same_sound_shortfall) / 2
    assert RULE.same_sound_shortfall > RULE.max_shortfall
    same = AudioEvidence(1, 1, "phosphomicine", (score("fosfomycine", 1, 1, margin, 85.0),
                                                 score("Fosfocine", 1, 1, margin - 9, 77.5)))
    decision = _decide(text_layer, heard, same)
    assert decision is not None and decision.replace and decision.spelling == "fosfomycine"
    # the same shortfall for a candidate that only looks like the heard letters: flagged
    other = AudioEvidence(1, 1, "phosphomicine", (score("Physiomycine", 1, 1, margin, 85.0),))
    flagged = _decide(text_layer, heard, other)
    assert flagged is not None and not flagged.replace
    # and sounding as one member of a known look-alike pair does not settle the pair: she chooses
    pair = [("par", 0.9), ("hydroxizine", 0.4), ("25", 0.9)]
    both = AudioEvidence(1, 1, "hydroxizine", (score("hydroxyzine", 1, 1, -1.0, 95.0),
                                               score("hydralazine", 1, 1, -12.0, 75.0)))
    refused = _decide(text_layer, pair, both)
    assert refused is not None and not refused.replace and refused.code == "term-lookalike-drugs"


def test_ordinary_words_heard_clearly_are_not_rewritten(text_layer: TextLayer) -> None:
    heard = [("la", 0.95), ("pizza", 0.9), ("dans", 0.95), ("le", 0.95), ("four", 0.95)]
    evidence = AudioEvidence(0, 2, "la pizza dans", (score("apixaban", 0, 2, 1.0, 80.0),))
    assert _decide(text_layer, heard, evidence) is None


def test_a_model_nobody_calibrated_flags_but_never_corrects(text_layer: TextLayer, tmp_path) -> None:
    rule = rule_for_model("large-v3")
    assert not rule.corrects and rule.model == "large-v3"
    evidence = AudioEvidence(1, 1, "hydroxysine", (score("hydroxyzine", 1, 1, 2.0, 96.0),))
    decision = _decide(text_layer, HEARD, evidence, rule)
    assert decision is not None and not decision.replace and decision.choices == ("hydroxyzine",)
    # a site's own calibration for its model is used, and a typo in it is refused
    site_file = tmp_path / "audio-rule.json"
    site_file.write_text('{"large-v3": {"model": "large-v3", "max_shortfall": 3.0}}')
    assert rule_for_model("large-v3", site_file).corrects and rule_for_model("large-v3", site_file).max_shortfall == 3
    with pytest.raises(ValueError, match="unknown keys"):
        rule_from_json({"model": "x", "max_shortfal": 3.0})


# --- terms of the biasing list ------------------------------------------------------------------------
def _list_decision(text_layer: TextLayer, written: str, margin: float, rule: AudioRule = RULE):
    heard = [("pause", 0.6), ("périndopril,", 0.02), ("ensuite", 0.9)]
    evidence = AudioEvidence(1, 1, "périndopril,", (score(written, 1, 1, margin, 0.0, "without-list", False),
                                                     score("", 1, 1, margin - 1, 0.0, "left-out", False)), "list-term")
    source = source_of(engine_output(heard))
    words = [source.text[a:b] for a, b in source.word_spans]
    return decide_list_term(evidence, words, rule, text_layer._layer("fr").terms.nearness)


def test_a_list_term_the_audio_does_not_hold_is_taken_back(text_layer: TextLayer) -> None:
    decision = _list_decision(text_layer, "", RULE.list_term_hold + 1)  # without the list: nothing there
    assert decision is not None and decision.replace and decision.spelling == ""
    assert decision.rule == "list-term-reverted" and decision.choices == ("périndopril",)
    other = _list_decision(text_layer, "une minute", RULE.list_term_hold + 1)  # other words there
    assert other is not None and other.replace and other.spelling == "une minute"


def test_a_list_term_stays_where_the_audio_holds_it_or_the_same_sounds_were_heard(text_layer: TextLayer) -> None:
    assert _list_decision(text_layer, "une minute", RULE.list_term_hold - 1) is None  # the audio prefers the term
    assert _list_decision(text_layer, "Périndoprile", 9.0) is None  # the same sounds: the list did its work
    doubted = _list_decision(text_layer, "", 9.0, rule_for_model("large-v3"))
    assert doubted is not None and not doubted.replace and doubted.code == "list-term-doubted"


def test_other_words_with_letters_in_common_are_taken_back_when_the_audio_is_sure(text_layer: TextLayer) -> None:
    """'He could rise and' written 'hemiparesis' with the neurology list (real general speech): the words written
    without the list share letters with the term (nearness over ``list_term_far``), but the audio prefers them
    by far more than any said term was ever preferred; the same sounds written another way still stay."""
    near = text_layer._layer("fr").terms.nearness
    assert RULE.list_term_far <= near("pour un rien", "périndopril,") < RULE.list_term_same
    assert _list_decision(text_layer, "pour un rien", RULE.list_term_sure - 1) is None  # not sure enough
    sure = _list_decision(text_layer, "pour un rien", RULE.list_term_sure)
    assert sure is not None and sure.replace and sure.spelling == "pour un rien" and sure.rule == "list-term-reverted"
    assert _list_decision(text_layer, "Périndoprile", RULE.list_term_sure + 10) is None  # the same sounds
    uncalibrated = _list_decision(text_layer, "pour un rien", 500.0, rule_for_model("large-v3"))
    assert uncalibrated is None  # a model nobody calibrated takes back only what it is sure is other words


def test_calibration_takes_back_the_never_said_list_terms_and_none_that_was_said(text_layer: TextLayer) -> None:
    """``transcribe calibrate`` on a site's reports: of the list's thresholds it chooses those that take back the
    terms the validated text does not hold, and none that it holds (here the margins measured on 2026-12-05:
    a said term out-scored by 12 nats, a never-said one by 20, both with words sharing letters with it)."""
    from transcribe.learning.calibration import Case, choose, tally

    def case(term: str, written: str, margin: float, reference: str) -> Case:
        heard = [("Pause", 0.6), (term, 0.02), ("ensuite", 0.9)]
        evidence = AudioEvidence(1, 1, term, (score(written, 1, 1, margin, 0.0, "without-list", False),), "list-term")
        return Case(with_evidence(engine_output(heard), [evidence]), reference)

    said = case("périndopril", "pour un rien", 12.0, "Pause périndopril ensuite")
    never = case("périndopril", "pour un rien", 20.0, "Pause pour un rien ensuite")
    vocab_of, nearness_of = text_layer.vocabulary.for_language, lambda lang: text_layer._layer(lang).terms.nearness
    rule, result = choose([said, never], "bundled-base", vocab_of, nearness_of)
    assert result.reverted == 1 and result.reverted_wrongly == 0
    assert 12.0 < rule.list_term_sure <= 20.0
    assert tally([said], rule, vocab_of, nearness_of).reverted == 0


# --- in the text layer ------------------------------------------------------------------------------
def test_the_text_layer_applies_the_audio_s_decisions_as_edits_that_keep_their_evidence(text_layer: TextLayer) -> None:
    transcript = engine_output([("Poursuite", 0.9), ("hydroxysine,", 0.5), ("25", 0.9), ("mg", 0.9), ("le", 0.9),
                                ("soir", 0.9), ("pour", 0.3), ("accalier", 0.2), ("mis", 0.3), ("à", 0.9),
                                ("4,2.", 0.9)])
    evidence = [AudioEvidence(1, 1, "hydroxysine,", (score("hydroxyzine", 1, 1, -3.0, 95.9),)),
                AudioEvidence(6, 8, "pour accalier mis", (score("kaliémie", 7, 8, -11.9, 76.5, is_drug=False),
                                                          score("Arcalion", 7, 8, -27.0, 70.4)))]
    result = text_layer.clean(with_evidence(transcript, evidence))
    assert "hydroxyzine, 25 mg" in result.text  # the comma stays
    (edit,) = [e for e in result.edits if "term-audio" in e.rule]
    assert edit.before == "hydroxysine" and edit.after == "hydroxyzine" and edit.evidence["model"] == "bundled-base"
    (flag,) = [f for f in result.flags if f.code == "term-audio-choices"]
    assert result.source[flag.start:flag.end] == "accalier mis" and flag.choices[0] == "kaliémie"
    assert apply_edits(result.source, result.edits) == result.text
    # the same transcript without its evidence: no medicine written on the text alone
    alone = text_layer.clean(transcript)
    assert "hydroxyzine" not in alone.text.lower()


def test_evidence_travels_with_the_transcript_and_reads_back(text_layer: TextLayer) -> None:
    evidence = AudioEvidence(1, 1, "hydroxysine", (score("hydroxyzine", 1, 1, -3.0, 95.9),))
    assert evidence_from_json(evidence.to_json()) == evidence
    assert Edit(**{**dataclasses.asdict(Edit(0, 1, "a", "b", "term-audio", 0.9, {"heard": "a"}))}).evidence


# --- the guarantees, whatever the evidence ----------------------------------------------------------
WORDS = ["patient", "sous", "hydroxysine", "hydroxyzine", "furosémide", "ferozémite", "accalier", "mis", "pour",
         "la", "pizza", "dans", "80", "mg", "4,2", "vériciguat", "Cordarone", "Zéphirine", "virgule", "point",
         "trois", "5,000", "g", "ﬁèvre", "œdème", "e\u0301 ", "😀", "\u00a0", "Trulicity", "bis", "au", "prolole"]
SPELLINGS = ["hydroxyzine", "hydralazine", "furosémide", "kaliémie", "apixaban", "bisoprolol", "métoprolol",
             "paracétamol", "fièvre", "", "Trulicity", "5 mg"]
PROPERTY = settings(max_examples=int(__import__("os").environ.get("TEXT_PROPERTY_EXAMPLES", "200")), deadline=None,
                    derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_a_lone_number_the_audio_prefers_a_drug_to_stays_a_number(text_layer: TextLayer) -> None:
    # found by the property below on CI: "0" heard at the start, a drug ranked first on it
    transcript = engine_output([("0", 0.0)])
    evidence = [AudioEvidence(0, 0, "", (score("hydroxyzine", 0, 0, 0.0, 80.0, "lexicon", False),), "term")]
    result = text_layer.clean(with_evidence(transcript, evidence))
    assert "0" in result.text and not any("term-audio" in e.rule for e in result.edits)
    listed = engine_output([("12", 0.01)], biasing={"terms": ["B12"], "sources": {}})
    reverted = [AudioEvidence(0, 0, "", (score("", 0, 0, 9.0, 0.0, "without-list", False),), "list-term")]
    result = text_layer.clean(with_evidence(listed, reverted))
    assert "12" in result.text


@PROPERTY
@given(data=st.data())
def test_whatever_the_audio_says_numbers_stay_and_only_its_best_candidate_is_written(
        text_layer: TextLayer, data: st.DataObject) -> None:
    pieces = data.draw(st.lists(st.tuples(st.sampled_from(WORDS) | st.text(min_size=1, max_size=6).filter(
        lambda w: w.strip() == w and w), st.floats(0.0, 1.0)), min_size=1, max_size=14))
    transcript = engine_output(pieces)
    evidence = []
    for _ in range(data.draw(st.integers(0, 4))):
        first = data.draw(st.integers(0, len(pieces) - 1))
        last = data.draw(st.integers(first, min(first + 3, len(pieces) - 1)))
        scores = tuple(sorted((score(data.draw(st.sampled_from(SPELLINGS)), first, last,
                                     data.draw(st.floats(-30, 30)), data.draw(st.floats(0, 100)),
                                     data.draw(st.sampled_from(["lexicon", "list", "common", "without-list"])),
                                     data.draw(st.booleans()))
                               for _ in range(data.draw(st.integers(1, 3)))), key=lambda s: -s.margin))
        evidence.append(AudioEvidence(first, last, "", scores, data.draw(st.sampled_from(["term", "list-term"]))))
    result = text_layer.clean(with_evidence(transcript, evidence))
    assert apply_edits(result.source, result.edits) == result.text
    source = source_of(transcript)
    for edit in result.edits:
        if "term-audio" not in edit.rule:
            continue
        # the audio wrote a spelling of its own evidence on those very words, and the best one it allowed
        covering = [e for e in evidence if e.kind == "term" and source.word_spans[e.first][0] <= edit.start
                    and edit.end <= source.word_spans[e.last][1]]
        assert any(fold(s.spelling) == fold(edit.after) and s.margin >= -RULE.max_shortfall
                   for e in covering for s in e.scores), (edit, evidence)
        assert not re.search(r"\d", edit.before)  # a number is never part of what the audio rewrites
    for number in re.findall(r"\d+(?:[.,]\d+)*", result.source):
        assert number in result.text or any(number in e.before for e in result.edits if "term-audio" not in e.rule)
