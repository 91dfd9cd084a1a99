"""Intake: which names are taken, when a file is complete, and the real watcher on a folder."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from transcribe.intake.files import SettleTracker, author_of, is_dictation_name
from transcribe.intake.inbox import Intake
from transcribe.records import DictationMetadata, JobState
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


def test_watcher_takes_a_slowly_written_file_once_and_complete(settings: Settings, store: JobStore) -> None:
    source = dictation("fr-mg-001")
    settings.paths.inbox.mkdir(parents=True)
    stop, thread = _run_intake(settings, store)
    try:
        author_folder = settings.paths.inbox / "dr-martin"
        author_folder.mkdir()
        copy_slowly(source, author_folder / "consultation.opus", chunks=6, pause_s=0.25)
        jobs = wait_for(lambda: store.jobs.list_jobs(), timeout_s=20)
        # give the watcher time to (wrongly) take it again
        stop.wait(1.5)
    finally:
        stop.set()
        thread.join(timeout=10)
    jobs = store.jobs.list_jobs()
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.author, job.original_name, job.state) == ("dr-martin", "consultation.opus", JobState.QUEUED)
    assert job.audio_path.read_bytes() == source.read_bytes()  # complete, unchanged
    assert not (author_folder / "consultation.opus").exists()  # moved out of the inbox
    assert oct(job.audio_path.stat().st_mode & 0o777) == "0o600"


def test_files_present_at_start_are_swept_and_temporaries_ignored(settings: Settings, store: JobStore) -> None:
    inbox = settings.paths.inbox
    copy_into(dictation("fr-mg-001"), inbox, "early.opus")
    copy_into(dictation("en-gp-001"), inbox, "upload.opus.part")
    stop, thread = _run_intake(settings, store)
    try:
        wait_for(lambda: len(store.jobs.list_jobs()) == 1, timeout_s=20)
        assert (inbox / "upload.opus.part").exists()
        os.rename(inbox / "upload.opus.part", inbox / "upload.opus")  # the upload finished
        wait_for(lambda: len(store.jobs.list_jobs()) == 2, timeout_s=20)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert sorted(j.original_name for j in store.jobs.list_jobs()) == ["early.opus", "upload.opus"]


def test_the_same_audio_twice_is_one_job_and_the_copy_is_kept(settings: Settings, store: JobStore) -> None:
    intake = Intake(settings, store)
    first = intake.take(copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "one.opus"))
    second = intake.take(copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "again.opus"))
    assert first is not None and second is None
    assert len(store.jobs.list_jobs()) == 1
    kept = list(settings.paths.quarantine.glob("*again.opus"))
    assert len(kept) == 1 and kept[0].read_bytes() == dictation("fr-mg-001").read_bytes()
    record = json.loads(kept[0].with_name(kept[0].name + ".error.json").read_text())
    assert record["kind"] == "duplicate" and f"job {first.id}" in record["error"]


def test_a_crash_between_store_and_archive_is_completed(settings: Settings, store: JobStore) -> None:
    """The job was recorded but the file never left the inbox: taking it again finishes the move."""
    path = copy_into(dictation("fr-mg-001"), settings.paths.inbox, "x.opus")
    from transcribe.intake.files import archive_path, hash_file

    sha = hash_file(path)
    job, _ = store.jobs.receive(audio_sha256=sha, author="unknown", original_name="x.opus",
                           audio_path=archive_path(settings.paths.archive, sha, "x.opus"))
    taken = Intake(settings, store).take(path)
    assert taken is not None and taken.id == job.id and taken.state is JobState.QUEUED
    assert taken.audio_path.exists() and not path.exists()
    assert not settings.paths.quarantine.exists() or not any(settings.paths.quarantine.iterdir())


class _Stopped(BaseException):
    """The process stopped here (a SIGKILL between two steps of taking a file)."""


def _stop_at_archive(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """Make the ``call``-th move into the archive stop the process (1: the audio, 2: its sidecar)."""
    real, calls = Intake._archive, []

    def archive(self: Intake, path: Path, target: Path, *, keep_original: bool) -> None:
        calls.append(path)
        if len(calls) == call:
            raise _Stopped(path.name)
        real(self, path, target, keep_original=keep_original)

    monkeypatch.setattr(Intake, "_archive", archive)


def _with_sidecar(settings: Settings) -> Path:
    path = copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "x.opus")
    path.with_suffix(".json").write_text(json.dumps({"priority": "urgent", "patient": {"id": "100001"}}))
    return path


@pytest.mark.parametrize("stopped_at", [1, 2], ids=["before-the-audio-moved", "before-the-sidecar-moved"])
def test_a_stop_while_a_dictation_is_taken_leaves_its_sidecar_with_it(
    settings: Settings, store: JobStore, monkeypatch: pytest.MonkeyPatch, stopped_at: int
) -> None:
    """Killed after the job was recorded, before its audio (or its sidecar) reached the archive: once started
    again, the sidecar lies beside the audio in the archive, neither left in the inbox nor quarantined."""
    path = _with_sidecar(settings)
    _stop_at_archive(monkeypatch, stopped_at)
    with pytest.raises(_Stopped):
        Intake(settings, store).take(path)
    monkeypatch.undo()
    (job,) = store.jobs.list_jobs()
    assert job.state is JobState.RECEIVED and job.priority == "urgent"
    again = Intake(settings, store)  # the process started again
    again.recover()
    if stopped_at == 1:
        assert again.take(path) is not None
    job = store.jobs.get(job.id)
    assert job.state is JobState.QUEUED and job.audio_path.exists()
    assert json.loads(job.audio_path.with_suffix(".json").read_text())["priority"] == "urgent"
    assert not any(p.is_file() for p in settings.paths.inbox.rglob("*"))
    assert not settings.paths.quarantine.exists() or not any(settings.paths.quarantine.iterdir())


def test_a_sidecar_of_another_dictation_is_not_taken_for_a_stopped_one(
    settings: Settings, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a stop, a sidecar of the same name that says something else is not the job's: it stays for its own
    dictation (then the orphan rule, as for any sidecar)."""
    path = _with_sidecar(settings)
    _stop_at_archive(monkeypatch, 2)
    with pytest.raises(_Stopped):
        Intake(settings, store).take(path)
    monkeypatch.undo()
    other = path.with_suffix(".json")
    other.write_text(json.dumps({"priority": "normal", "patient": {"id": "100002"}}))
    Intake(settings, store).recover()
    (job,) = store.jobs.list_jobs()
    assert job.state is JobState.QUEUED and not job.audio_path.with_suffix(".json").exists()
    assert other.exists()


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
    assert first.metadata.identity and first.metadata.identity.patient_id == "100001"
    assert first.audio_path.with_suffix(".json").is_file() and not good.with_suffix(".json").exists()
    assert second.metadata == DictationMetadata() and second.author == "dr-a"
    kept = list(settings.paths.quarantine.glob("*two.json"))
    assert kept and "not valid JSON" in json.loads(kept[0].with_name(kept[0].name + ".error.json").read_text())["error"]


def test_urgent_dictations_are_taken_first(settings: Settings, store: JobStore) -> None:
    from transcribe.store import this_worker

    folder = settings.paths.inbox
    Intake(settings, store).take(copy_into(dictation("fr-mg-001"), folder, "routine.opus"))
    urgent = copy_into(dictation("en-gp-001"), folder, "urgent.opus")
    urgent.with_suffix(".json").write_text(json.dumps({"priority": "urgent"}))
    Intake(settings, store).take(urgent)
    claimed = store.claims.claim_next(this_worker(), 60)
    assert claimed is not None and claimed.original_name == "urgent.opus"


class _Clock:
    """The intake's clock, moved by the test (the files are real, the waiting is not)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _sidecar_of(path: Path, content: dict) -> Path:
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps(content))
    return sidecar


def test_a_dictation_waits_for_the_sidecar_its_recorder_writes_after_it(site) -> None:
    """The fault seen: a sidecar written a moment after the audio was never read, and stayed in the inbox."""
    from transcribe.store import open_store

    from .conftest import make_settings

    settings = make_settings(site, {"intake.sidecar_wait_s": 5.0})
    store = open_store(settings.store_url)
    clock = _Clock()
    intake = Intake(settings, store, clock=clock)
    audio = copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "0412.opus")
    assert intake.step() == []
    clock.now += 2  # complete, but its sidecar may still come
    assert intake.step() == [] and audio.exists()
    sidecar = _sidecar_of(audio, {"patient": {"id": "100001"}, "worktype": "letter"})
    clock.now += 0.1
    assert intake.step() == []  # the sidecar has just been written: it must be complete first
    clock.now += 1
    (job,) = intake.step()
    assert job.metadata.identity and job.metadata.identity.patient_id == "100001" and job.worktype == "letter"
    assert not sidecar.exists() and job.audio_path.with_suffix(".json").is_file()
    alone = copy_into(dictation("en-gp-001"), settings.paths.inbox / "dr-a", "0413.opus")  # no sidecar comes
    intake.sweep()  # what the watcher's event does
    clock.now += 4.9
    assert intake.step() == [] and alone.exists()
    clock.now += 0.2
    (other,) = intake.step()
    assert other.metadata == DictationMetadata() and not alone.exists()
    store.close()


def test_a_sidecar_that_comes_after_its_dictation_was_taken_is_attached_while_it_waits(settings: Settings,
                                                                                       store: JobStore) -> None:
    clock = _Clock()
    intake = Intake(settings, store, clock=clock)
    audio = copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "0412.opus")
    intake.step()
    clock.now += 1
    (job,) = intake.step()  # intake.sidecar_wait_s = 0: taken at once
    assert job.metadata == DictationMetadata()
    sidecar = _sidecar_of(audio, {"patient": {"id": "100001"}, "priority": "urgent", "author": "dr-b"})
    intake.sweep()  # what the watcher's event does
    clock.now += 1
    intake.step()
    attached = store.jobs.get(job.id)
    assert attached.metadata.identity and attached.metadata.identity.patient_id == "100001"
    assert (attached.priority, attached.author, attached.state) == ("urgent", "dr-b", JobState.QUEUED)
    assert not sidecar.exists() and job.audio_path.with_suffix(".json").is_file()
    assert "sidecar-attached" in [e[1] for e in store.jobs.events(job.id)]


def test_a_sidecar_that_comes_after_the_transcription_started_is_reported(settings: Settings, store: JobStore) -> None:
    from transcribe.store import this_worker

    clock = _Clock()
    intake = Intake(settings, store, clock=clock)
    audio = copy_into(dictation("fr-mg-001"), settings.paths.inbox / "dr-a", "0412.opus")
    intake.step()
    clock.now += 1
    (job,) = intake.step()
    assert store.claims.claim_next(this_worker(), 60) is not None  # a worker took it at once
    sidecar = _sidecar_of(audio, {"patient": {"id": "100001"}})
    intake.sweep()
    clock.now += 1
    intake.step()
    assert not sidecar.exists() and store.jobs.get(job.id).metadata == DictationMetadata()
    (kept,) = settings.paths.quarantine.glob(f"job{job.id}_0412.json")
    record = json.loads(kept.with_name(kept.name + ".error.json").read_text())
    assert record["kind"] == "late-sidecar" and "transcribing" in record["error"] and record["job_id"] == job.id
    assert "sidecar-too-late" in [e[1] for e in store.jobs.events(job.id)]


def test_an_orphan_sidecar_is_set_aside_with_its_reason(settings: Settings, store: JobStore) -> None:
    from transcribe.intake.inbox import ORPHAN_SIDECAR_S

    clock = _Clock()
    intake = Intake(settings, store, clock=clock)
    folder = settings.paths.inbox / "dr-a"
    folder.mkdir(parents=True)
    orphan = _sidecar_of(folder / "0414.opus", {"worktype": "letter"})
    first = _sidecar_of(folder / "0415.opus", {"worktype": "note"})  # its dictation is still being uploaded
    (folder / "0415.opus.part").write_bytes(b"partial")
    intake.step()
    clock.now += ORPHAN_SIDECAR_S - 1  # the recorder may write the sidecar first: it waits for its audio
    intake.step()
    assert orphan.exists() and first.exists()
    clock.now += 2
    intake.step()
    assert not orphan.exists() and first.exists()
    (kept,) = settings.paths.quarantine.glob("*0414.json")
    record = json.loads(kept.with_name(kept.name + ".error.json").read_text())
    assert record["kind"] == "orphan-sidecar" and "dr-a/0414.json" in record["error"] and record["what_to_do"]
    # the batch, which runs without the watcher, sets old orphans aside too
    late = _sidecar_of(folder / "0416.opus", {})
    old = time.time() - ORPHAN_SIDECAR_S - 5
    os.utime(late, (old, old))
    Intake(settings, store).take_settled()
    assert not late.exists() and list(settings.paths.quarantine.glob("*0416.json"))


def test_a_duplicate_takes_its_sidecar_to_quarantine_too(settings: Settings, store: JobStore) -> None:
    intake = Intake(settings, store)
    assert intake.take(copy_into(dictation("fr-mg-001"), settings.paths.inbox, "one.opus")) is not None
    again = copy_into(dictation("fr-mg-001"), settings.paths.inbox, "again.opus")
    sidecar = _sidecar_of(again, {"priority": "urgent"})
    assert intake.take(again) is None
    assert not sidecar.exists() and list(settings.paths.quarantine.glob("*again.json"))
