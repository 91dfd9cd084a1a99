"""The worker on real audio with the real bundled model: drafts, quarantine, retry, requeue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document

from transcribe.asr import SpeechRecognizer
from transcribe.inbox import Intake
from transcribe.records import JobState, transcript_from_json
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.worker import Worker, requeue

from .conftest import copy_into, dictation


def _drop_and_run(settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer, source: Path,
                  author: str = "dr-test", name: str | None = None):
    job = Intake(settings, store).take(copy_into(source, settings.paths.inbox / author, name))
    assert job is not None
    outcome = Worker(settings, store, recognizer, text_layer).run_next()
    assert outcome is not None and outcome.job_id == job.id
    return store.get(job.id), outcome


def test_a_real_english_clip_becomes_a_draft(settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer,
                                             shared_audio: Path) -> None:
    job, outcome = _drop_and_run(settings, store, recognizer, text_layer, shared_audio / "en" / "fw_jfk.flac")
    assert job.state is JobState.DRAFTED and outcome.text
    text = outcome.text.lower()
    assert "fellow americans" in text and "country" in text
    outputs = store.results_of(job.id)
    transcript = transcript_from_json(json.loads(outputs["transcript"].read_text()))
    assert transcript.language == "en" and abs(transcript.duration_s - 11.0) < 0.2
    words = transcript.words
    assert len(words) >= 20
    assert all(0 <= w.start_s <= w.end_s <= transcript.duration_s + 0.5 for w in words)
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:]))  # monotonic
    assert all(0.0 <= w.probability <= 1.0 for w in words)
    assert transcript.model == "bundled-base"
    assert transcript.options["transcription"]["beam_size"] == 5 and transcript.options["vad"] is not None
    assert job.model == "bundled-base" and job.options and job.options["compute_type"] == "int8"
    assert outputs["text"].read_text().strip() == outcome.text.strip()
    document = Document(str(outputs["docx"]))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "fellow Americans" in body and "dr-test" in body


def test_a_real_french_clip_is_detected_as_french(settings: Settings, store: JobStore,
                                                  recognizer: SpeechRecognizer, text_layer, shared_audio: Path) -> None:
    job, outcome = _drop_and_run(settings, store, recognizer, text_layer, shared_audio / "fr" / "sr_french.aiff")
    assert job.language == "fr" and "dictée" in (outcome.text or "").lower()


def test_a_synthetic_french_dictation_goes_through_the_text_layer(settings: Settings, store: JobStore,
                                                                   recognizer: SpeechRecognizer, text_layer) -> None:
    job, outcome = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"))
    text = outcome.text or ""
    assert job.language == "fr"
    assert "65 ans" in text and "artérielle" in text
    assert " virgule" not in text.lower() and not text.rstrip().lower().endswith("point")  # commands applied
    outputs = store.results_of(job.id)
    layer = json.loads(outputs["edits"].read_text())
    transcript = transcript_from_json(json.loads(outputs["transcript"].read_text()))
    assert layer["text"] == outputs["text"].read_text().strip() == text
    assert layer["source"].split() == transcript.text.split()
    assert any(e["rule"] == "command" for e in layer["edits"])
    assert layer["vocabulary_version"] == job.vocabulary_version == text_layer.vocabulary.version
    assert job.flag_count == len(layer["flags"])


def test_the_author_language_setting_is_used(site: Path, recognizer: SpeechRecognizer, text_layer) -> None:
    from transcribe.store import open_store

    from .conftest import make_settings

    settings = make_settings(site, {"authors.dr-fr.language": "fr"})
    store = open_store(settings.store_url)
    job, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"), author="dr-fr")
    assert job.language == "fr" and job.options["language"] == "fr"  # asked for, not detected
    other, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("en-gp-001"), author="dr-other")
    assert other.options["language"] == "detect"
    store.close()


def test_a_language_the_site_does_not_use_is_transcribed_again_and_flagged(
        site: Path, recognizer: SpeechRecognizer, text_layer, shared_audio: Path) -> None:
    """The case seen: a French dictation detected as Spanish got no text layer and no flag.

    Here the site dictates in English only, and the real French clip is detected as French:
    the detection is not trusted, the dictation is transcribed again in English and flagged,
    so that validation asks for it to be checked.
    """
    from transcribe.store import open_store

    from .conftest import make_settings

    settings = make_settings(site, {"asr.languages": "en"})
    store = open_store(settings.store_url)
    job, _ = _drop_and_run(settings, store, recognizer, text_layer, shared_audio / "fr" / "sr_french.aiff")
    assert job.language == "en" and job.flag_count >= 1
    layer = json.loads(store.results_of(job.id)["edits"].read_text())
    (flag,) = [f for f in layer["flags"] if f["kind"] == "language"]
    assert "French" in flag["reason"] and "English" in flag["reason"]
    check = json.loads(store.results_of(job.id)["transcript"].read_text())["options"]["language_check"]
    assert check["detected"] == "fr" and check["rerun_in"] == "en"
    store.close()


def test_an_unsure_language_is_flagged(site: Path, recognizer: SpeechRecognizer, text_layer) -> None:
    from transcribe.store import open_store

    from .conftest import make_settings

    settings = make_settings(site, {"asr.min_language_probability": 1.0})  # no detection is ever sure enough
    store = open_store(settings.store_url)
    job, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"))
    layer = json.loads(store.results_of(job.id)["edits"].read_text())
    assert job.language == "fr" and [f for f in layer["flags"] if f["kind"] == "language"]
    store.close()


def test_the_sidecar_language_is_honoured(settings: Settings, store: JobStore, recognizer: SpeechRecognizer,
                                          text_layer) -> None:
    folder = settings.paths.inbox / "dr-test"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "consult.json").write_text(json.dumps({"language": "fr"}))
    job, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"), name="consult.opus")
    assert job.options["language"] == "fr" and job.language == "fr"


def test_a_bad_file_is_quarantined_with_a_reason_and_the_next_one_still_runs(
    settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("ceci n'est pas un enregistrement\n" * 20)
    bad, outcome = _drop_and_run(settings, store, recognizer, text_layer, notes)
    assert bad.state is JobState.QUARANTINED and outcome.state is JobState.QUARANTINED
    assert "not an audio file" in (bad.error or "") and "What to do" in (bad.error or "")
    kept = settings.paths.quarantine / f"job{bad.id}_notes.wav"
    assert kept.read_bytes() == notes.read_bytes()  # the original is kept, unchanged
    record = json.loads(kept.with_name(kept.name + ".error.json").read_text())
    assert record["kind"] == "audio-unreadable" and record["job_id"] == bad.id and record["what_to_do"]
    good, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"))
    assert good.state is JobState.DRAFTED


def test_requeue_brings_a_quarantined_job_back(settings: Settings, store: JobStore,
                                               recognizer: SpeechRecognizer, text_layer, tmp_path: Path) -> None:
    notes = tmp_path / "bad.wav"
    notes.write_text("not audio")
    bad, _ = _drop_and_run(settings, store, recognizer, text_layer, notes)
    job = requeue(settings, store, bad.id)
    assert job.state is JobState.QUEUED and job.audio_path.exists()
    assert job.audio_path.parent.parent == settings.paths.archive
    assert not list(settings.paths.quarantine.glob(f"job{bad.id}_*"))
    outcome = Worker(settings, store, recognizer, text_layer).run_next()
    assert outcome is not None and outcome.state is JobState.QUARANTINED  # still not audio
    with pytest.raises(Exception, match="not quarantined"):
        requeue(settings, store, Intake(settings, store).take(
            copy_into(dictation("en-gp-001"), settings.paths.inbox)).id)


class _FailingEngine:
    """Stands in for the GPU/driver fault we cannot cause here: the engine raises on transcribe."""

    def __init__(self, real: SpeechRecognizer) -> None:
        self.real = real
        self.calls = 0

    def transcribe(self, audio, options):  # noqa: ANN001
        from transcribe.errors import TranscriptionFailed

        self.calls += 1
        raise TranscriptionFailed("the speech engine failed (CUDA error: out of memory)")


def test_a_failing_stage_is_retried_then_quarantined(settings: Settings, store: JobStore,
                                                     recognizer: SpeechRecognizer, text_layer) -> None:
    engine = _FailingEngine(recognizer)
    worker = Worker(settings, store, engine, text_layer)  # type: ignore[arg-type]
    job = Intake(settings, store).take(copy_into(dictation("fr-mg-001"), settings.paths.inbox))
    assert job is not None
    states = [worker.run_next().state for _ in range(settings.worker.max_attempts)]  # type: ignore[union-attr]
    assert states == [JobState.QUEUED] * (settings.worker.max_attempts - 1) + [JobState.QUARANTINED]
    final = store.get(job.id)
    assert final.attempts == settings.worker.max_attempts and "after 3 attempts" in (final.error or "")
    assert worker.run_next() is None
