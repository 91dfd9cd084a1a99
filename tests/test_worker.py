"""The worker on real audio with the real bundled model: drafts, quarantine, retry, requeue."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from docx import Document

from transcribe.intake.files import archive_path
from transcribe.intake.inbox import Intake
from transcribe.intake.requeue import requeue
from transcribe.records import Edit, JobState, apply_edits, transcript_from_json
from transcribe.settings import AsrSettings, Settings
from transcribe.speech.engine import SpeechRecognizer
from transcribe.speech.model_location import BUNDLED, resolve_model
from transcribe.store import JobStore, this_worker
from transcribe.store.schema import jobs
from transcribe.worker import Worker, load_recognizer

from .conftest import copy_into, dictation, make_settings


def _drop_and_run(settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer, source: Path,
                  author: str = "dr-test", name: str | None = None):
    job = Intake(settings, store).take(copy_into(source, settings.paths.inbox / author, name))
    assert job is not None
    outcome = Worker(settings, store, recognizer, text_layer).run_next()
    assert outcome is not None and outcome.job_id == job.id
    return store.jobs.get(job.id), outcome


def test_a_real_english_clip_becomes_a_draft(settings: Settings, store: JobStore, recognizer: SpeechRecognizer, text_layer,
                                             shared_audio: Path) -> None:
    job, outcome = _drop_and_run(settings, store, recognizer, text_layer, shared_audio / "en" / "fw_jfk.flac")
    assert job.state is JobState.DRAFTED and outcome.text
    text = outcome.text.lower()
    assert "fellow americans" in text and "country" in text
    outputs = store.jobs.results_of(job.id)
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
    # the draft carries the author's name only from the settings: a folder's name never signs a report
    assert "fellow Americans" in body and "dr-test" not in body


def test_a_real_french_clip_is_detected_as_french(settings: Settings, store: JobStore,
                                                  recognizer: SpeechRecognizer, text_layer, shared_audio: Path) -> None:
    job, outcome = _drop_and_run(settings, store, recognizer, text_layer, shared_audio / "fr" / "sr_french.aiff")
    assert job.language == "fr" and "dictée" in (outcome.text or "").lower()


def test_a_synthetic_french_dictation_goes_through_the_text_layer(settings: Settings, store: JobStore,
                                                                   recognizer: SpeechRecognizer, text_layer) -> None:
    job, outcome = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"))
    text = outcome.text or ""
    assert job.language == "fr"
    # words the engine writes on every processor tried ("65 ans" came out "65 en vue" on one: issue 20)
    assert "65" in text and "artérielle" in text
    assert " virgule" not in text.lower() and not text.rstrip().lower().endswith("point")  # commands applied
    outputs = store.jobs.results_of(job.id)
    layer = json.loads(outputs["edits"].read_text())
    transcript = transcript_from_json(json.loads(outputs["transcript"].read_text()))
    assert layer["text"] == outputs["text"].read_text().strip() == text
    assert layer["source"].split() == transcript.text.split()
    # whatever the engine wrote: the draft is the text layer's output on it, and its edits re-applied give it
    assert text_layer.clean(transcript, author=job.author).text == text
    assert apply_edits(layer["source"], [Edit(**e) for e in layer["edits"]]) == text
    assert all(0 <= w.start_s <= w.end_s <= transcript.duration_s + 0.5 for w in transcript.words)
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
    layer = json.loads(store.jobs.results_of(job.id)["edits"].read_text())
    (flag,) = [f for f in layer["flags"] if f["kind"] == "language"]
    assert "French" in flag["reason"] and "English" in flag["reason"]
    check = json.loads(store.jobs.results_of(job.id)["transcript"].read_text())["options"]["language_check"]
    assert check["detected"] == "fr" and check["rerun_in"] == "en"
    store.close()


def test_an_unsure_language_is_flagged(site: Path, recognizer: SpeechRecognizer, text_layer) -> None:
    from transcribe.store import open_store

    from .conftest import make_settings

    settings = make_settings(site, {"asr.min_language_probability": 1.0})  # no detection is ever sure enough
    store = open_store(settings.store_url)
    job, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"))
    layer = json.loads(store.jobs.results_of(job.id)["edits"].read_text())
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
    archived = archive_path(settings.paths.archive, bad.audio_sha256, "notes.wav")
    assert bad.audio_path == archived and archived.read_bytes() == notes.read_bytes()  # the archive is never touched
    kept = settings.paths.quarantine / f"job{bad.id}_notes.wav"
    assert kept.read_bytes() == notes.read_bytes()  # a copy, for the person who looks into quarantine/
    record = json.loads(kept.with_name(kept.name + ".error.json").read_text())
    assert record["kind"] == "audio-unreadable" and record["job_id"] == bad.id and record["what_to_do"]
    assert record["archived"] == str(archived)
    good, _ = _drop_and_run(settings, store, recognizer, text_layer, dictation("fr-mg-001"))
    assert good.state is JobState.DRAFTED


def test_requeue_brings_a_quarantined_job_back(settings: Settings, store: JobStore,
                                               recognizer: SpeechRecognizer, text_layer, tmp_path: Path) -> None:
    notes = tmp_path / "bad.wav"
    notes.write_text("not audio")
    bad, _ = _drop_and_run(settings, store, recognizer, text_layer, notes)
    assert list(settings.paths.quarantine.glob(f"job{bad.id}_*"))
    job = requeue(settings, store, bad.id)
    assert job.state is JobState.QUEUED and job.audio_path == bad.audio_path and job.audio_path.exists()
    assert job.audio_path.parent.parent == settings.paths.archive
    assert not list(settings.paths.quarantine.glob(f"job{bad.id}_*"))  # the copy and its record are gone
    outcome = Worker(settings, store, recognizer, text_layer).run_next()
    assert outcome is not None and outcome.state is JobState.QUARANTINED  # still not audio
    with pytest.raises(Exception, match="not quarantined"):
        requeue(settings, store, Intake(settings, store).take(
            copy_into(dictation("en-gp-001"), settings.paths.inbox)).id)


def test_a_job_quarantined_by_an_earlier_version_goes_back_to_the_archive_on_requeue(
        settings: Settings, store: JobStore) -> None:
    """Earlier versions moved the audio out of the archive into quarantine/: requeue puts it back."""
    job = Intake(settings, store).take(copy_into(dictation("en-gp-001"), settings.paths.inbox))
    assert job is not None
    archived = job.audio_path
    me = this_worker()
    assert store.claims.claim_next(me, 60) is not None and store.claims.quarantine(job.id, me, error="old")
    moved = settings.paths.quarantine / f"job{job.id}_en-gp-001.opus"
    moved.parent.mkdir(parents=True, exist_ok=True)
    archived.rename(moved)
    with store.transaction() as conn:  # where an earlier version recorded it
        conn.execute(jobs.update().where(jobs.c.id == job.id).values(audio_path=str(moved)))
    again = requeue(settings, store, job.id)
    assert again.state is JobState.QUEUED and again.audio_path == archived and archived.is_file()
    assert not moved.exists()


@pytest.fixture(scope="module")
def broken_recognizer(tmp_path_factory: pytest.TempPathFactory) -> SpeechRecognizer:
    """The real bundled model, from a folder whose tokenizer lost its start-of-transcript token.

    faster-whisper loads it, detects languages with it, and fails inside every transcription: a real
    engine failure on good audio, as a broken model install or a GPU fault gives.
    """
    good = resolve_model(BUNDLED, models_dir=Path("models"), cache_dir=Settings().asr.model_cache)
    folder = tmp_path_factory.mktemp("broken-model")
    source = Path(good.load_from)
    for name in ("config.json", "vocabulary.txt"):
        shutil.copyfile(source / name, folder / name)
    (folder / "model.bin").symlink_to(source / "model.bin")
    tokenizer = json.loads((source / "tokenizer.json").read_text())
    tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] != "<|startoftranscript|>"]
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    return load_recognizer(Settings(asr=AsrSettings(model=str(folder))))


def test_a_failing_engine_is_retried_after_growing_waits_then_quarantined(
        site: Path, text_layer, broken_recognizer: SpeechRecognizer) -> None:
    """A transient fault must not quarantine a good dictation within seconds: each retry waits longer."""
    now = [1_000_000.0]
    settings = make_settings(site, {"worker.retry_base_s": 30.0, "worker.retry_max_s": 45.0})
    store = JobStore(settings.store_url, clock=lambda: now[0])
    store.migrate()
    worker = Worker(settings, store, broken_recognizer, text_layer)
    job = Intake(settings, store).take(copy_into(dictation("fr-mg-001"), settings.paths.inbox))
    assert job is not None
    received = job.audio_path.read_bytes()

    first = worker.run_next()
    assert first is not None and first.state is JobState.QUEUED
    assert "the speech engine failed" in (first.error or "")  # the engine's own failure, not a bug of ours
    assert worker.run_next() is None  # not claimable before its next try
    now[0] += 29
    assert worker.run_next() is None
    now[0] += 2
    second = worker.run_next()
    assert second is not None and second.state is JobState.QUEUED
    now[0] += 44  # twice 30 s, but at most retry_max_s = 45 s
    assert worker.run_next() is None
    now[0] += 2
    third = worker.run_next()
    assert third is not None and third.state is JobState.QUARANTINED

    final = store.jobs.get(job.id)
    assert final.attempts == 3 and "after 3 attempts" in (final.error or "")
    assert "the speech engine failed" in (final.error or "") and "internal error" not in (final.error or "")
    failures = [detail or "" for _, event, _, detail in store.jobs.events(job.id) if event == "failed"]
    assert len(failures) == 2  # the reason of each attempt is kept in the job's history
    assert failures[0].startswith("attempt 1 of 3: the speech engine failed") and failures[0].endswith("in 30 s")
    assert failures[1].startswith("attempt 2 of 3: the speech engine failed") and failures[1].endswith("in 45 s")
    assert final.audio_path == job.audio_path and final.audio_path.read_bytes() == received  # archive untouched
    kept = settings.paths.quarantine / f"job{job.id}_fr-mg-001.opus"
    record = json.loads(kept.with_name(kept.name + ".error.json").read_text())
    assert record["kind"] == "transcription-failed" and record["attempts"] == 3
    assert record["earlier_errors"] == failures and kept.read_bytes() == received
    assert worker.run_next() is None
    requeued = requeue(settings, store, job.id)
    assert requeued.state is JobState.QUEUED and requeued.audio_path.read_bytes() == received and not kept.exists()
    store.close()
