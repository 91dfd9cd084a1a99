"""The audio's vote, on real recordings with the real bundled model (transcribe/speech/acoustic.py).

Each case starts from the transcript the engine once wrote for a committed clip (tests/recorded.py:
the words it misheard differ from one processor to another) and scores it on the clip itself. The
margins asserted on are several nats inside the rule's thresholds on every CPU code path tried
(tests/each-cpu-isa.sh); the rule's figures are in bench/bench_terms.py.
"""

from __future__ import annotations

import dataclasses
import json

from transcribe.records import AudioQuestion, Candidate, Segment, Word
from transcribe.settings import Settings
from transcribe.speech.acoustic import weigh, with_audio_evidence
from transcribe.speech.audio import decode_dictation
from transcribe.speech.engine import SpeechRecognizer
from transcribe.store import JobStore
from transcribe.text import TextLayer

from .conftest import dictation
from .recorded import draft_recorded, recorded_transcript


def _layer_of(store: JobStore, job_id: int) -> dict:
    return json.loads(store.jobs.results_of(job_id)["edits"].read_text(encoding="utf-8"))


def test_the_engine_scores_what_was_said_above_what_was_not(recognizer: SpeechRecognizer) -> None:
    audio = decode_dictation(dictation("en-gp-001"))
    clip = recognizer.encode_clip(audio.samples, "en")
    said, other = recognizer.score_texts(clip, ["The patient is a 65-year-old man seen today",
                                                "The weather is fine and the sea is calm today"])
    assert said > other + 20
    written = recognizer.continue_text(clip, "The patient is a", max_tokens=12)
    assert "65" in written and not written.lower().startswith(" the patient")  # only what comes after


def test_a_misheard_medicine_is_corrected_by_the_audio_and_a_misheard_term_offered_first(
        settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer: TextLayer) -> None:
    """fr-dose-01 was heard "… et hydroxysine 25mg le soir pour accalier mis à 4,2" (hydroxyzine, kaliémie)."""
    job = draft_recorded(settings, store, text_layer, "fr-dose-01", recognizer=recognizer)
    layer = _layer_of(store, job.id)
    (edit,) = [e for e in layer["edits"] if "term-audio" in e["rule"]]
    assert (edit["before"], edit["after"]) == ("hydroxysine", "hydroxyzine")
    assert "hydroxyzine" in edit["evidence"]["candidates"] and edit["evidence"]["model"] == "bundled-base"
    kaliemie = [f for f in layer["flags"] if f["code"] == "term-audio-choices" and "accalier" in
                layer["source"][f["start"]:f["end"]]]
    assert kaliemie and kaliemie[0]["choices"][0] == "kaliémie"  # the audio ranks it first: one click
    transcript = json.loads(store.jobs.results_of(job.id)["transcript"].read_text(encoding="utf-8"))
    assert transcript["options"]["audio_evidence"] and transcript["options"]["audio_rule"]["model"] == "bundled-base"
    assert transcript["options"]["audio_evidence_s"] > 0


def test_a_pair_of_medicines_known_to_be_confused_is_left_flagged(
        settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer: TextLayer) -> None:
    """fr-cardio-01 was heard "bisoprole l'ol"; the audio prefers bisoprolol, but métoprolol is its look-alike."""
    job = draft_recorded(settings, store, text_layer, "fr-cardio-01", recognizer=recognizer)
    layer = _layer_of(store, job.id)
    assert "bisoprolol" not in layer["text"].lower() and "métoprolol" not in layer["text"].lower()
    (flag,) = [f for f in layer["flags"] if f["code"] == "term-lookalike-drugs" and "bisoprole" in
               layer["source"][f["start"]:f["end"]]]
    assert flag["choices"][:2] == ["bisoprolol", "métoprolol"]


def test_a_plain_word_near_a_medicine_is_left_as_heard(
        settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer: TextLayer) -> None:
    """en-safety-01 was heard "Continue hydroxies in 25 mg at night and hydrolyzing 25 mg" (hydralazine said)."""
    job = draft_recorded(settings, store, text_layer, "en-safety-01", recognizer=recognizer)
    layer = _layer_of(store, job.id)
    assert layer["text"].startswith("Continue ")  # near clonidine, but an English word the audio prefers
    assert "hydrolyzing" in layer["text"]  # near hydroxyzine and hydralazine, a known pair: never chosen
    (flag,) = [f for f in layer["flags"] if "hydrolyzing" in layer["source"][f["start"]:f["end"]]]
    assert "hydralazine" in flag["choices"] and flag["code"] == "term-lookalike-drugs"


def test_a_term_the_biasing_list_made_the_engine_write_is_taken_back(
        settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer: TextLayer) -> None:
    """The recorded words of en-gp-001 with "metoprolol" written where nothing was said, as a hotword makes the
    engine do: without the list the engine goes straight on, the audio agrees, the term is taken back."""
    recorded = recorded_transcript("en-gp-001")
    first = recorded.segments[0]
    cut = next(i for i, w in enumerate(first.words) if w.text.strip().startswith("seen"))
    inserted = Word(" metoprolol", first.words[cut - 1].end_s, first.words[cut].start_s, 0.02)
    words = (*first.words[:cut], inserted, *first.words[cut:])
    biasing = {"terms": ["metoprolol", "aspirin"], "sources": {"metoprolol": "specialty", "aspirin": "specialty"}}
    transcript = dataclasses.replace(
        recorded, segments=(Segment("".join(w.text for w in words), first.start_s, first.end_s, words),
                            *recorded.segments[1:]),
        options={**recorded.options, "biasing": biasing, "prompt_terms": biasing["terms"]})
    job = draft_recorded(settings, store, text_layer, "en-gp-001", recognizer=recognizer, transcript=transcript)
    layer = _layer_of(store, job.id)
    assert "metoprolol" not in layer["text"].lower()
    (edit,) = [e for e in layer["edits"] if "list-term-reverted" in e["rule"]]
    assert edit["before"].strip() == "metoprolol" and edit["evidence"]["without the list"] == "—"
    (flag,) = [f for f in layer["flags"] if f["code"] == "list-term-reverted"]
    assert flag["choices"] == ["metoprolol"]  # one click puts it back if it was said


def test_a_list_term_the_engine_looped_on_is_taken_back_whole(
        settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer: TextLayer) -> None:
    """As on real general speech with the orthopedics list ("total knee replacement, ibuprofen, ibuprofen, ..."): a
    hotword written five times where nothing was said, the first doubted, the repeats confident. Read with the loop
    after it, the audio preferred the term (each repeat makes the next likelier); read without the loop's tail, which
    the text layer removes anyway, it prefers what the engine writes without the list, and nothing of it stays."""
    recorded = recorded_transcript("en-gp-001")
    first = recorded.segments[0]
    cut = next(i for i, w in enumerate(first.words) if w.text.strip() == "for")
    at = first.words[cut - 1].end_s
    looped = tuple(Word(" metoprolol,", at + 0.03 * i, at + 0.03 * i + 0.025, 0.02 if i == 0 else 0.9)
                   for i in range(5))
    words = (*first.words[:cut], *looped, *first.words[cut:])
    biasing = {"terms": ["metoprolol", "aspirin"], "sources": {"metoprolol": "specialty", "aspirin": "specialty"}}
    transcript = dataclasses.replace(
        recorded, segments=(Segment("".join(w.text for w in words), first.start_s, first.end_s, words),
                            *recorded.segments[1:]),
        options={**recorded.options, "biasing": biasing, "prompt_terms": biasing["terms"]})
    (question,) = [q for q in text_layer.audio_questions(transcript) if q.kind == "list-term"]
    assert question.repeated_words == tuple(range(cut + 1, cut + 5))
    job = draft_recorded(settings, store, text_layer, "en-gp-001", recognizer=recognizer, transcript=transcript)
    layer = _layer_of(store, job.id)
    assert "metoprolol" not in layer["text"].lower()
    assert [e["before"].strip() for e in layer["edits"] if "list-term-reverted" in e["rule"]] == ["metoprolol"]
    assert any("hallucination" in e["rule"] and e["before"].count("metoprolol") == 4 for e in layer["edits"])


def test_questions_that_share_a_clip_share_one_pass_of_the_encoder(recognizer: SpeechRecognizer) -> None:
    transcript = recorded_transcript("fr-dose-01")
    audio = decode_dictation(dictation("fr-dose-01"))
    encoded: list[int] = []

    class Counting:
        def encode_clip(self, samples, language):
            encoded.append(samples.size)
            return recognizer.encode_clip(samples, language)

        def score_texts(self, clip, texts):
            return recognizer.score_texts(clip, texts)

        def continue_text(self, clip, prefix, **kwargs):
            return recognizer.continue_text(clip, prefix, **kwargs)

    words = transcript.words
    questions = [AudioQuestion(i, i, 0, 0, words[i].text, (Candidate(i, i, "kaliémie", 80.0, "lexicon"),))
                 for i in (1, len(words) - 2)]
    evidence = weigh(Counting(), audio, transcript, questions)  # type: ignore[arg-type]
    assert len(encoded) == 1 and len(evidence) == 2
    assert all(e.scores[0].spelling == "kaliémie" for e in evidence)
    nothing = with_audio_evidence(recognizer, audio, transcript, [])
    assert nothing.options["audio_evidence"] == [] and nothing.segments == transcript.segments


def test_the_review_screen_offers_the_audio_s_choices_in_one_click_and_shows_its_ranking(app_site, browser) -> None:
    from .web_site import _login, _open_review, _report_text

    job_id = app_site.dictate_recorded("fr-dose-01")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    flag = page.locator("#flags li.flag", has_text="accalier")
    buttons = flag.locator("button.reading")
    assert buttons.first.inner_text() == "kaliémie"  # the audio's first choice comes first
    buttons.first.click()
    page.wait_for_function("document.querySelector('#flags li.flag.resolved') !== null")
    assert "kaliémie" in _report_text(page) and "accalier" not in _report_text(page)
    # the medicine the audio wrote shows what it rests on
    page.locator("#report .word.edit", has_text="hydroxyzine").click()
    assert "hydroxyzine" in page.locator("#edit-detail .evidence").inner_text()
