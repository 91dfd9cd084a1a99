"""The job store on a real SQLite database: migrations, intake, claims, leases, outcomes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from transcribe.errors import JobNotFound, StoreError
from transcribe.records import JobState
from transcribe.store import (
    MIGRATIONS,
    JobStore,
    WorkerIdentity,
    open_store,
    this_worker,
)


def _receive(store: JobStore, n: int) -> int:
    job, new = store.receive(audio_sha256=f"{n:064x}", author="dr-test", original_name=f"d{n}.wav",
                             audio_path=Path(f"/archive/{n}.wav"))
    assert new
    store.mark_queued(job.id)
    return job.id


def test_migrations_run_once(store_url: str) -> None:
    url = store_url
    latest = MIGRATIONS[-1][0]
    first = JobStore(url)
    assert first.migrate() == [version for version, _ in MIGRATIONS]
    assert first.migrate() == []
    assert first.schema_version() == latest
    first.close()
    second = open_store(url)
    assert second.schema_version() == latest
    second.close()


def test_a_store_made_by_an_older_version_is_migrated(tmp_path: Path) -> None:
    """A site's store at schema 1 gains the later columns and keeps its jobs."""
    from transcribe import store as store_module

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = JobStore(url)
    with old.engine.begin() as conn:
        store_module.schema_migrations.create(conn)
        conn.exec_driver_sql(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, audio_sha256 VARCHAR(64) NOT NULL UNIQUE, author VARCHAR(200) NOT NULL,"
            " original_name TEXT NOT NULL, audio_path TEXT NOT NULL, state VARCHAR(20) NOT NULL, attempts INTEGER NOT NULL,"
            " error TEXT, duration_s FLOAT, language VARCHAR(10), model TEXT, options_json TEXT, created_at FLOAT NOT NULL,"
            " updated_at FLOAT NOT NULL, claimed_by VARCHAR(200), lease_until FLOAT)")
        conn.exec_driver_sql("INSERT INTO jobs VALUES (1, 'ab', 'dr', 'a.wav', '/a', 'queued', 0, NULL, NULL, NULL,"
                             " NULL, NULL, 1.0, 1.0, NULL, NULL)")
        conn.exec_driver_sql("INSERT INTO schema_migrations VALUES (1, 1.0)")
    old.close()
    migrated = open_store(url)
    assert migrated.schema_version() == MIGRATIONS[-1][0]
    job = migrated.get(1)
    assert job.author == "dr" and job.vocabulary_version is None and job.flag_count == 0
    migrated.close()


def test_sqlite_runs_in_wal_mode(store: JobStore) -> None:  # the embedded default
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_same_audio_is_one_job(engine_store: JobStore) -> None:
    store = engine_store
    job, new = store.receive(audio_sha256="a" * 64, author="dr-a", original_name="x.wav", audio_path=Path("/a/x.wav"))
    again, new_again = store.receive(audio_sha256="a" * 64, author="dr-b", original_name="y.wav", audio_path=Path("/a/y.wav"))
    assert new and not new_again
    assert again.id == job.id and again.author == "dr-a"
    assert [e[1] for e in store.events(job.id)] == ["received", "duplicate-received"]


def test_received_job_is_not_claimable_until_queued(engine_store: JobStore) -> None:
    store = engine_store
    job, _ = store.receive(audio_sha256="b" * 64, author="dr", original_name="x.wav", audio_path=Path("/a/x.wav"))
    assert job.state is JobState.RECEIVED
    assert store.claim_next(this_worker(), 60) is None
    store.mark_queued(job.id)
    claimed = store.claim_next(this_worker(), 60)
    assert claimed is not None and claimed.id == job.id and claimed.attempts == 1


def test_each_job_is_claimed_by_exactly_one_of_many_threads(engine_store: JobStore) -> None:
    store = engine_store
    ids = {_receive(store, n) for n in range(40)}
    claims: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work() -> None:
        me = this_worker()
        while (job := store.claim_next(me, 60)) is not None:
            with lock:
                claims.append((str(me), job.id))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed_ids = [job_id for _, job_id in claims]
    assert sorted(claimed_ids) == sorted(ids)  # every job once, none twice


def test_each_job_is_claimed_once_across_processes(engine_store: JobStore) -> None:
    store = engine_store
    ids = {_receive(store, n) for n in range(30)}
    script = (
        "import sys; from transcribe.store import JobStore, this_worker\n"
        "s = JobStore(sys.argv[1]); me = this_worker()\n"
        "while (j := s.claim_next(me, 60)) is not None: print(j.id, flush=True)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, store.url], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    claimed = [int(line) for p in procs for line in p.communicate(timeout=60)[0].split()]
    assert sorted(claimed) == sorted(ids)


def test_lease_expiry_returns_the_job_to_the_queue(store_url: str) -> None:
    now = [1000.0]
    store = JobStore(store_url, clock=lambda: now[0])
    store.migrate()
    job_id = _receive(store, 1)
    remote = WorkerIdentity("another-host", 4242, "abcd")
    assert store.claim_next(remote, lease_s=30) is not None
    assert store.release_abandoned() == []  # lease still running
    now[0] += 20
    assert store.renew_lease(job_id, remote, 30)
    now[0] += 25
    assert store.release_abandoned() == []  # renewed
    now[0] += 10
    assert store.release_abandoned() == [job_id]
    assert store.get(job_id).state is JobState.QUEUED
    assert not store.renew_lease(job_id, remote, 30)  # no longer its job
    store.close()


def test_a_dead_worker_on_this_host_is_noticed_at_once(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = WorkerIdentity(this_worker().host, child.pid, "dead")
    assert store.claim_next(dead, lease_s=3600) is not None
    assert store.release_abandoned() == [job_id]
    alive = this_worker()
    assert store.claim_next(alive, lease_s=3600) is not None
    assert store.release_abandoned() == []  # our own process is alive


def test_drafted_only_by_the_claim_holder(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    holder, stranger = this_worker(), this_worker()
    store.claim_next(holder, 60)
    outputs = {"text": Path("/d/draft.txt")}
    kwargs = dict(duration_s=3.0, language="fr", model="m", options={"beam_size": 5}, outputs=outputs)
    assert not store.mark_drafted(job_id, stranger, **kwargs)
    assert store.mark_drafted(job_id, holder, **kwargs)
    assert not store.mark_drafted(job_id, holder, **kwargs)  # not twice
    job = store.get(job_id)
    assert (job.state, job.language, job.model, job.options) == (JobState.DRAFTED, "fr", "m", {"beam_size": 5})
    assert store.results_of(job_id) == outputs


def test_requeue_only_a_quarantined_job(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    with pytest.raises(StoreError, match="not quarantined"):
        store.requeue(job_id, audio_path=Path("/a"))
    me = this_worker()
    store.claim_next(me, 60)
    store.quarantine(job_id, error="bad", audio_path=Path("/q/x.wav"))
    job = store.requeue(job_id, audio_path=Path("/archive/x.wav"))
    assert (job.state, job.attempts, job.audio_path) == (JobState.QUEUED, 0, Path("/archive/x.wav"))


def test_unknown_job(engine_store: JobStore) -> None:
    store = engine_store
    with pytest.raises(JobNotFound, match="no job 99"):
        store.get(99)
