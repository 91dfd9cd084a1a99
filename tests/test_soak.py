"""A light run of bench/soak.py on PostgreSQL, and the faults the full soak found, reproduced."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bench.soak import SoakOptions, report, run_soak
from transcribe.schema import jobs
from transcribe.store import open_store


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
                    outcome["job"] = store.receive(audio_sha256=digest, author="dr", original_name="a.wav",
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
