"""Drafts made from a recorded transcript: the engine's own output, committed, in place of a live decode.

The engine's exact words depend on the processor it runs on (CTranslate2 picks AVX-512, AVX2, AVX or
generic code at run time, and a borderline word comes out differently on each). A test that needs one
particular mishearing (learning from the secretary's corrections, a dose the engine got wrong) starts
from the transcript the engine wrote once, kept in ``tests/dictations/transcripts/<name>.json`` (words,
times and probabilities, as ``bench/transcribe_corpus.py`` writes them), and runs everything after the
engine for real: intake, archive, store, the worker's text layer, report and draft files. Tests that
need the engine itself use the ``recognizer`` fixture and assert only what survives a change of
processor.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from transcribe.intake.inbox import Intake
from transcribe.records import Job, Transcript, transcript_from_json
from transcribe.settings import Settings
from transcribe.speech.audio import decode_dictation
from transcribe.speech.engine import DecodeOptions, SpeechRecognizer
from transcribe.store import JobStore
from transcribe.text import TextLayer
from transcribe.worker import Worker

from .conftest import DICTATIONS, dictation


def recorded_transcript(name: str) -> Transcript:
    """The transcript the bundled model wrote for a committed dictation (``tests/dictations/transcripts``)."""
    return transcript_from_json(json.loads((DICTATIONS / "transcripts" / f"{name}.json").read_text(encoding="utf-8")))


def _no_engine() -> object:
    raise AssertionError("this draft starts from a recorded transcript: the engine must not be run")


def draft_recorded(
    settings: Settings,
    store: JobStore,
    text_layer: TextLayer,
    name: str,
    *,
    audio: Path | None = None,
    author: str = "dr-martin",
    file_name: str | None = None,
    recognizer: SpeechRecognizer | None = None,
    transcript: Transcript | None = None,
    sidecar: dict | None = None,
) -> Job:
    """Drop a dictation into the inbox and draft it from its recorded transcript; the job as drafted.

    ``audio``: the file dropped (default: the committed clip ``name``), so that two drafts of one
    recorded transcript can come from two different recordings (the archive refuses a duplicate).
    ``recognizer``: the real engine, to score the transcript's doubtful words on the recording
    (``transcribe.speech.acoustic``) as the worker does after decoding; without it the engine is not used.
    ``transcript``: the engine's words to start from, when not the recorded ones of ``name``.
    ``sidecar``: the JSON written beside the audio, as a recorder does (taken with it by the intake).
    """
    source = audio or dictation(name)
    folder = settings.paths.inbox / author
    folder.mkdir(parents=True, exist_ok=True)
    dropped = Path(shutil.copyfile(source, folder / (file_name or source.name)))
    if sidecar is not None:
        dropped.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    taken = Intake(settings, store).take(dropped)
    assert taken is not None, f"{dropped.name} was refused by the intake"
    worker = Worker(settings, store, recognizer or _no_engine, text_layer)  # type: ignore[arg-type]
    job = store.claims.claim(taken.id, worker.identity, settings.worker.lease_s)
    assert job is not None, f"job {taken.id} could not be claimed"
    words = transcript or recorded_transcript(name)
    if recognizer is None:
        worker.guarded(job, lambda: worker.finish(job, words))
    else:
        sound = decode_dictation(source)
        options = DecodeOptions(language=words.language, biasing=words.options.get("biasing"))
        worker.guarded(job, lambda: worker.finish(job, words, audio=sound, options=options))
    return store.jobs.get(job.id)
