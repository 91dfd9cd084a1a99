"""Biasing the engine: the list of one dictation (patient, author, learned, specialty), and its specialty.

The lists are pure; the worker tests run the real bundled model on committed clips and check that
the engine was given the list and that the transcript records it and where its specialty came from.
The audio's check of the list's terms is in tests/test_acoustic.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transcribe.intake.inbox import Intake
from transcribe.speech.audio import decode_dictation
from transcribe.speech.biasing import MAX_HOTWORD_CHARACTERS, build_biasing, guess_specialty, terms_in
from transcribe.speech.engine import SpeechRecognizer
from transcribe.store import open_store
from transcribe.text import TextLayer
from transcribe.vocabulary.specialties import SPECIALTIES
from transcribe.worker import Worker

from .conftest import copy_into, dictation, make_settings
from .recorded import draft_recorded


def test_the_list_keeps_the_most_specific_first_once_each_and_fits_the_window() -> None:
    listed = build_biasing([("patient", ["Apixaban", "bisoprolol"]), ("author", ["apixaban", "Ramipril"]),
                            ("specialty", [f"terme{i}" for i in range(200)])])
    assert listed.terms[:3] == ("Apixaban", "bisoprolol", "Ramipril")  # "apixaban" once, from the patient
    assert listed.sources["Apixaban"] == "patient" and listed.sources["Ramipril"] == "author"
    assert len(listed.hotwords or "") <= MAX_HOTWORD_CHARACTERS
    assert build_biasing([]).hotwords is None


def test_every_specialty_has_a_list_in_each_language(text_layer: TextLayer) -> None:
    for language in ("fr", "en"):
        lists = text_layer.vocabulary.for_language(language).specialty_terms
        assert set(lists) == set(SPECIALTIES)
        assert all(25 <= len(terms) <= 40 for terms in lists.values()), {k: len(v) for k, v in lists.items()}


def test_the_drugs_and_diagnoses_of_reports_counted_by_report(text_layer: TextLayer) -> None:
    fr = text_layer.vocabulary.for_language("fr")
    found = terms_in(["Insuffisance cardiaque sous furosémide et bisoprolol.", "Sous furosémide. Va bien."], fr)
    assert found[0] == ("furosémide", 2)
    assert ("insuffisance cardiaque", 1) in found and ("bisoprolol", 1) in found
    assert not [t for t, _ in found if t.lower() in ("sous", "bien")]


def _take(settings, store, clip: str, author: str, sidecar: dict | None = None, name: str | None = None):
    path = copy_into(dictation(clip), settings.paths.inbox / author, name or f"{clip}.opus")
    if sidecar is not None:
        path.with_suffix(".json").write_text(json.dumps(sidecar))
    job = Intake(settings, store).take(path)
    assert job is not None
    return job


def test_the_author_specialty_and_the_patient_history_bias_the_engine(site: Path, recognizer: SpeechRecognizer,
                                                                      text_layer: TextLayer) -> None:
    settings = make_settings(site, {"authors.dr-card.specialty": "cardiology"})
    store = open_store(settings.store_url)
    try:
        # an earlier filed report of the patient (invented) mentions a drug the specialty list lacks
        earlier = _take(settings, store, "fr-mg-001", "dr-card", {"patient": {"id": "900001"}}, name="earlier.opus")
        worker = Worker(settings, store, recognizer, text_layer)
        worker.run_next()
        store.reports.validate(earlier.id, text="Patient sous hydroxyzine le soir.", patient_id="900001", validated_by="s",
                       worktype="consultation", language="fr", identity_confirmed_by=None, copies=[])
        store.reports.record_filing(earlier.id, 1, patient_id="900001", docx_path=site / "a.docx", pdf_path=None,
                            sidecar_path=site / "a.json")
        job = _take(settings, store, "fr-cardio-01", "dr-card", {"patient": {"id": "900001"}})
        worker.run_next()
        options = json.loads(store.jobs.results_of(job.id)["transcript"].read_text())["options"]
        sources = options["biasing"]["sources"]
        assert sources["hydroxyzine"] == "patient"
        assert sum(1 for s in sources.values() if s == "specialty") >= 20
        assert options["hotwords"].startswith("hydroxyzine") and "apixaban" in options["hotwords"]
        assert "hydroxyzine" in options["prompt_terms"]  # the copy finder knows every term given
    finally:
        store.close()


def test_the_sidecar_specialty_wins_and_off_means_off(site: Path, recognizer: SpeechRecognizer,
                                                      text_layer: TextLayer) -> None:
    settings = make_settings(site, {"asr.specialty": "cardiology"})
    store = open_store(settings.store_url)
    try:
        worker = Worker(settings, store, recognizer, text_layer)
        job = _take(settings, store, "fr-mg-001", "dr-x", {"specialty": "dermatology", "language": "fr"})
        options = worker.decode_options(store.jobs.get(job.id), "fr")
        assert options.hotwords and "psoriasis" in options.hotwords and "apixaban" not in options.hotwords
        quiet = Worker(make_settings(site, {"asr.biasing": "off"}), store, recognizer, text_layer)
        assert quiet.decode_options(store.jobs.get(job.id), "fr").hotwords is None
    finally:
        store.close()


def test_a_specialty_is_guessed_from_texts_only_when_one_stands_out(text_layer: TextLayer) -> None:
    fr = text_layer.vocabulary.for_language("fr")
    cardiac = "Fibrillation atriale découverte sur un électrocardiogramme, traitée par apixaban et bisoprolol."
    assert guess_specialty([cardiac], fr) == "cardiology"
    assert guess_specialty(["Va bien, revu dans un an."], fr) == ""
    assert guess_specialty(["Hypertension artérielle sous amlodipine."], fr, minimum=1) == ""  # several lists tie


def test_an_author_with_no_specialty_gets_the_one_of_his_filed_reports_then_a_first_pass(
        site: Path, recognizer: SpeechRecognizer, text_layer: TextLayer) -> None:
    settings = make_settings(site)  # no specialty for anyone
    store = open_store(settings.store_url)
    try:
        worker = Worker(settings, store, recognizer, text_layer)
        earlier = _take(settings, store, "fr-mg-001", "dr-new", {"language": "fr"}, name="earlier.opus")
        # nothing filed yet: a first pass without a list over the start of the dictation
        audio = decode_dictation(dictation("fr-cardio-01"))
        first = worker.biasing_for(store.jobs.get(earlier.id), "fr", audio)
        assert (first.specialty, first.specialty_source) in (("cardiology", "first-pass"), ("", ""))
        assert first.to_json().get("specialty", {"source": "first-pass"})["source"] == "first-pass"
        # two filed cardiology reports of this author: their specialty, before any pass
        for number, text in enumerate(["Fibrillation atriale sous apixaban, échocardiographie normale.",
                                       "Insuffisance cardiaque, furosémide et bisoprolol. Holter prévu."]):
            job = draft_recorded(settings, store, text_layer, ["fr-mg-002", "fr-mg-003"][number], author="dr-new")
            store.reports.validate(job.id, text=text, patient_id="900001", validated_by="s", worktype="consultation",
                           language="fr", identity_confirmed_by=None, copies=[])
            store.reports.record_filing(job.id, 1, patient_id="900001", docx_path=site / f"{number}.docx", pdf_path=None,
                                sidecar_path=site / f"{number}.json")
        known = worker.biasing_for(store.jobs.get(earlier.id), "fr", audio)
        assert (known.specialty, known.specialty_source) == ("cardiology", "author-reports")
        assert "apixaban" in known.terms and known.to_json()["specialty"] == {"name": "cardiology",
                                                                               "source": "author-reports"}
    finally:
        store.close()


@pytest.mark.parametrize("specialty", ["cardiology", "general-surgery"])
def test_a_specialty_setting_is_checked(site: Path, specialty: str) -> None:
    assert make_settings(site, {"authors.dr-a.specialty": specialty}).specialty_for("dr-a") == specialty
    from transcribe.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="not a specialty"):
        make_settings(site, {"authors.dr-a.specialty": "cardio"})


def test_the_review_screen_shows_the_words_the_engine_was_told_to_expect(app_site, browser) -> None:
    from .web_site import _login, _open_review

    job_id = app_site.dictate("fr-cardio-01", {"patient": {"id": "100001"}, "specialty": "cardiology"}, live=True)
    options = json.loads(app_site.store.jobs.results_of(job_id)["transcript"].read_text())["options"]
    terms = options["biasing"]["terms"]
    assert terms and options["hotwords"]
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    page.click("#expected-words summary")
    shown = page.locator("#expected-words li .term").all_inner_texts()
    assert shown == terms  # the very list it decoded with, in its order
    assert "specialty" in page.locator("#expected-words").inner_text()
