"""A light run of bench/soak.py on PostgreSQL, and the faults the full soak found, reproduced."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.soak import SoakOptions, report, run_soak
from transcribe.intake.inbox import Intake
from transcribe.records import JobState
from transcribe.store import open_store
from transcribe.store.schema import jobs
from transcribe.worker import Worker

from .conftest import Service, copy_into, dictation, make_settings

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_light_soak_keeps_every_promise(tmp_path: Path, postgres_url: str) -> None:
    """Two serve and two worker processes, one SIGKILL of each kind, a read-only outbox while reports are validated."""
    options = SoakOptions(
        dictations=8,
        duration_s=24.0,
        kills_per_kind=1,
        faults=("outbox-read-only",),
        outbox_read_only_s=12.0,
        validate_one_in=2,  # the other half waits for the read-only outbox
        store_url=postgres_url,
        settle_timeout_s=240.0,
    )
    result = run_soak(options, tmp_path / "soak")
    text = report(result, options, "PostgreSQL (test server)")
    assert not result.problems, text
    assert result.kills["serve"] == 1 and result.kills["worker"] == 1, text
    assert result.sent == 8 and result.missing == 0 and result.twice == 0 and result.filed_elsewhere == 0, text
    assert sum(result.states.values()) == 8 and result.states["filed"] >= 1, text
    assert any(f.startswith("outbox read-only") for f in result.faults) and result.validated_read_only >= 1, text
    assert "intact" in result.audit, text


def test_two_hosts_taking_the_same_recording_at_once_get_one_job(postgres_url: str) -> None:
    """Found by the soak: two serve processes on one inbox hashed the same file; on PostgreSQL both saw no job
    for it, the second insert failed on the unique hash, and the IntegrityError stopped that service's intake."""
    store = open_store(postgres_url)
    engine = sa.create_engine(postgres_url)
    digest = "e" * 64
    outcome: dict[str, object] = {}
    try:
        with engine.connect() as other_host:
            taking = other_host.begin()  # the other host's receive, inserted but not committed yet
            first = other_host.execute(
                jobs.insert().values(audio_sha256=digest, author="dr", original_name="a.wav", audio_path="/a",
                                     state="received", attempts=0, created_at=0.0, updated_at=0.0, priority="normal",
                                     report_version=0)
            ).inserted_primary_key[0]

            def receive() -> None:
                try:
                    outcome["job"] = store.jobs.receive(audio_sha256=digest, author="dr", original_name="a.wav",
                                                   audio_path=Path("/a"))
                except Exception as e:  # the fault: this reached the intake loop
                    outcome["error"] = e

            thread = threading.Thread(target=receive)
            thread.start()
            with engine.connect() as watch:  # this host's insert now waits on the other's row
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not watch.exec_driver_sql(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted").scalar():
                    time.sleep(0.05)
            taking.commit()
            thread.join(timeout=30)
        assert "error" not in outcome, outcome.get("error")
        job, new = outcome["job"]  # type: ignore[misc]
        assert not new and job.id == first
    finally:
        engine.dispose()
        store.close()


def test_a_full_drafts_disk_is_a_stage_failure_tried_again(site: Path, tmp_path: Path, recognizer, text_layer) -> None:
    """Found by the soak: a full drafts disk was an 'internal error (OSError)' with a traceback and the hint to
    report a bug; it is a stage failure on a good dictation, which says so and is tried again."""
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(drafts)],
                                                   capture_output=True).returncode == 0
    try:
        if mounted:  # a real full disk
            (drafts / "filler").write_bytes(b"\0" * (64 << 10))
        else:  # without root: a drafts path that cannot be created fails at the same place
            drafts.rmdir()
            drafts.write_text("a file where the drafts folder should be")
        settings = make_settings(site, {"paths.drafts": str(drafts / "jobs"), "worker.retry_base_s": 60.0})
        store = open_store(settings.store_url)
        job = Intake(settings, store).take(copy_into(dictation("en-gp-001"), settings.paths.inbox))
        assert job is not None
        outcome = Worker(settings, store, recognizer, text_layer).run_next()
        assert outcome is not None and outcome.state is JobState.QUEUED  # tried again later, not quarantined
        failed = [detail for _, event, _, detail in store.jobs.events(job.id) if event == "failed"]
        assert len(failed) == 1 and "internal error" not in failed[0], failed
        assert "the draft could not be written" in failed[0], failed
        if mounted:
            assert "the drafts disk is full" in failed[0], failed
        store.close()
    finally:
        if mounted:
            subprocess.run(["umount", str(drafts)], capture_output=True)


def test_a_service_whose_inbox_watcher_stopped_exits_with_a_failure(site: Path, postgres_url: str) -> None:
    """Found by the soak: when the database went away, serve's inbox watcher stopped on the error and stopped the
    service "so that it is restarted", but serve exited 0, which a supervisor restarting on failure takes as a
    stop that was asked for. The watcher is made to fail here without the worker: its insert is refused."""
    settings = make_settings(site, {"store.url": postgres_url})
    open_store(settings.store_url).close()  # migrated
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("REVOKE INSERT ON jobs FROM CURRENT_USER")  # claims and reads still work
    engine.dispose()
    copy_into(dictation("en-gp-001"), settings.paths.inbox)
    service = Service(site)
    service.start()
    try:
        assert service.process is not None
        status = service.process.wait(timeout=240)
    finally:
        service.kill()
    log = service.log.read_text()
    assert "the inbox watcher stopped on an error" in log, log[-2000:]
    assert status == 1, log[-2000:]
