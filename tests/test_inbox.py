"""Intake: which names are taken, when a file is complete, and the real watcher on a folder."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from transcribe.inbox import Intake, SettleTracker, author_of, is_dictation_name
from transcribe.records import JobState
from transcribe.settings import Settings
from transcribe.store import JobStore

from .conftest import copy_into, copy_slowly, dictation, wait_for


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("consultation.m4a", True),
        ("dr-martin/0412.dss", True),
        ("rendez vous été 😀.mp3", True),
        ("consultation.m4a.part", False),
        ("consultation.tmp", False),
        ("consultation.wav~", False),
        (".consultation.wav", False),
        ("dr-martin/.sync/consultation.wav", False),
        ("consultation.json", False),
        ("job1_x.wav.error.json", False),
    ],
)
def test_which_names_are_dictations(name: str, taken: bool) -> None:
    assert is_dictation_name(Path(name)) is taken


@pytest.mark.parametrize(
    ("relative", "author"),
    [("a.wav", "unknown"), ("dr-martin/a.wav", "dr-martin"), ("Dr Martin/sub/a.wav", "Dr-Martin"), ("../a.wav", "unknown")],
)
def test_author_is_the_first_folder(relative: str, author: str) -> None:
    assert author_of(Path(relative), "unknown") == author


def test_settle_tracker_waits_for_a_quiet_file() -> None:
    tracker = SettleTracker(settle_s=1.0)
    path = Path("a.wav")
    tracker.observe(path, 100, 1, now=0.0)
    assert not tracker.is_ready(path, 0.5)
    tracker.observe(path, 200, 2, now=0.8)  # still growing: the clock restarts
    assert not tracker.is_ready(path, 1.5)
    assert tracker.is_ready(path, 1.9)


def test_settle_tracker_trusts_a_close_event_after_a_short_grace() -> None:
    tracker = SettleTracker(settle_s=5.0)
    path = Path("a.wav")
    tracker.observe(path, 100, 1, now=0.0, closed=True)
    assert not tracker.is_ready(path, 0.1)
    assert tracker.is_ready(path, 0.4)
    tracker.observe(path, 150, 2, now=0.5)  # written again after the close: wait again
    assert not tracker.is_ready(path, 1.0)


def test_an_empty_file_waits_longer() -> None:
    tracker = SettleTracker(settle_s=1.0)
    tracker.observe(Path("e.wav"), 0, 1, now=0.0, closed=True)
    assert not tracker.is_ready(Path("e.wav"), 2.0)
    assert tracker.is_ready(Path("e.wav"), 5.1)


def _run_intake(settings: Settings, store: JobStore) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=Intake(settings, store).run, args=(stop,), name="test-intake")
    thread.start()
    return stop, thread


@pytest.mark.usefixtures("no_leaked_threads")
def test_watcher_takes_a_slowly_written_file_once_and_complete(settings: Settings, store: JobStore) -> None:
    source = dictation("fr-mg-001")
    settings.paths.inbox.mkdir(parents=True)
    stop, thread = _run_intake(settings, store)
    try:
        author_folder = settings.paths.inbox / "dr-martin"
        author_folder.mkdir()
        copy_slowly(source, author_folder / "consultation.opus", chunks=6, pause_s=0.25)
        jobs = wait_for(lambda: store.list_jobs(), timeout_s=20)
        # give the watcher time to (wrongly) take it again
        stop.wait(1.5)
    finally:
        stop.set()
        thread.join(timeout=10)
    jobs = store.list_jobs()
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.author, job.original_name, job.state) == ("dr-martin", "consultation.opus", JobState.QUEUED)
    assert job.audio_path.read_bytes() == source.read_bytes()  # complete, unchanged
    assert not (author_folder / "consultation.opus").exists()  # moved out of the inbox
    assert oct(job.audio_path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.usefixtures("no_leaked_threads")
def test_files_present_at_start_are_swept_and_temporaries_ignored(settings: Settings, store: JobStore) -> None:
    inbox = settings.paths.inbox
    copy_into(dictation("fr-mg-001"), inbox, "early.opus")
    copy_into(dictation("en-gp-001"), inbox, "upload.opus.part")
    stop, thread = _run_intake(settings, store)
    try:
        wait_for(lambda: len(store.list_jobs()) == 1, timeout_s=20)
        assert (inbox / "upload.opus.part").exists()
        os.rename(inbox / "upload.opus.part", inbox / "upload.opus")  # the upload finished
        wait_for(lambda: len(store.list_jobs()) == 2, timeout_s=20)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert sorted(j.original_name for j in store.list_jobs()) == ["early.opus", "upload.opus"]


def test_the_same_audio_twice_is_one_job_and_the_copy_is_kept(settings: Settings, store: JobStore) -> None:
    intake = Intake(settings, store)
    first = intake.take(copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "one.opus"))
    second = intake.take(copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "again.opus"))
    assert first is not None and second is None
    assert len(store.list_jobs()) == 1
    kept = list(settings.paths.quarantine.glob("*again.opus"))
    assert len(kept) == 1 and kept[0].read_bytes() == dictation("fr-mg-001").read_bytes()
    record = json.loads(kept[0].with_name(kept[0].name + ".error.json").read_text())
    assert record["kind"] == "duplicate" and f"job {first.id}" in record["error"]


def test_a_crash_between_store_and_archive_is_completed(settings: Settings, store: JobStore) -> None:
    """The job was recorded but the file never left the inbox: taking it again finishes the move."""
    path = copy_into(dictation("fr-mg-001"), settings.paths.inbox, "x.opus")
    from transcribe.inbox import archive_path, hash_file

    sha = hash_file(path)
    job, _ = store.receive(audio_sha256=sha, author="unknown", original_name="x.opus",
                           audio_path=archive_path(settings.paths.archive, sha, "x.opus"))
    taken = Intake(settings, store).take(path)
    assert taken is not None and taken.id == job.id and taken.state is JobState.QUEUED
    assert taken.audio_path.exists() and not path.exists()
    assert not settings.paths.quarantine.exists() or not any(settings.paths.quarantine.iterdir())


def test_take_can_keep_the_original(settings: Settings, store: JobStore, tmp_path: Path) -> None:
    outside = copy_into(dictation("en-gp-001"), tmp_path / "desk")
    job = Intake(settings, store).take(outside, keep_original=True)
    assert job is not None and outside.exists() and job.audio_path.exists()


def test_a_sidecar_travels_with_its_dictation_and_a_bad_one_is_quarantined(settings: Settings, store: JobStore) -> None:
    folder = settings.paths.inbox / "dr-a"
    good = copy_into(dictation("fr-mg-001"), folder, "one.opus")
    good.with_suffix(".json").write_text(json.dumps({"author": "dr-b", "priority": "urgent", "worktype": "letter",
                                                     "patient": {"id": "100001"}}))
    bad = copy_into(dictation("en-gp-001"), folder, "two.opus")
    bad.with_suffix(".json").write_text("{ this is not json")
    intake = Intake(settings, store)
    first, second = intake.take(good), intake.take(bad)
    assert first is not None and second is not None
    assert (first.author, first.priority, first.worktype) == ("dr-b", "urgent", "letter")
    assert first.metadata["identity"]["patient_id"] == "100001"
    assert first.audio_path.with_suffix(".json").is_file() and not good.with_suffix(".json").exists()
    assert second.metadata is None and second.author == "dr-a"
    kept = list(settings.paths.quarantine.glob("*two.json"))
    assert kept and "not valid JSON" in json.loads(kept[0].with_name(kept[0].name + ".error.json").read_text())["error"]


def test_urgent_dictations_are_taken_first(settings: Settings, store: JobStore) -> None:
    from transcribe.store import this_worker

    folder = settings.paths.inbox
    Intake(settings, store).take(copy_into(dictation("fr-mg-001"), folder, "routine.opus"))
    urgent = copy_into(dictation("en-gp-001"), folder, "urgent.opus")
    urgent.with_suffix(".json").write_text(json.dumps({"priority": "urgent"}))
    Intake(settings, store).take(urgent)
    claimed = store.claim_next(this_worker(), 60)
    assert claimed is not None and claimed.original_name == "urgent.opus"
