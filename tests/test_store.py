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
    job, new = store.jobs.receive(audio_sha256=f"{n:064x}", author="dr-test", original_name=f"d{n}.wav",
                             audio_path=Path(f"/archive/{n}.wav"))
    assert new
    store.jobs.mark_queued(job.id)
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
    job = migrated.jobs.get(1)
    assert job.author == "dr" and job.vocabulary_version is None and job.flag_count == 0 and job.next_try_at is None
    identifier = migrated.store_id()
    migrated.close()
    again = open_store(url)
    assert again.store_id() == identifier and len(identifier) == 32  # the same store, seen from anywhere
    again.close()


def test_identity_evidence_stored_as_sentences_becomes_notes(tmp_path: Path) -> None:
    """Migration 12: the English sentences older versions stored as a candidate's evidence become codes with
    parameters, read in the reader's language; a sentence no version wrote is kept word for word."""
    import json

    import sqlalchemy as sa

    from transcribe.review.wording import identity_words
    from transcribe.store import schema

    store = open_store(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    job_id = _receive(store, 1)
    old = ["identifier 100002 given by the sidecar", "name matches", "name close (87%)",
           "birth date matches (1950-03-13)", "birth date differs: dictated 1950-03-13, index 1951-03-13",
           "the filename names Durand Marie, the patient is DUPOND Jean", "something else entirely"]
    identity = {"identity": None, "dictated": None,
                "candidates": [{"patient_id": "100002", "score": 90.0, "evidence": old}]}
    with store.engine.begin() as conn:
        conn.execute(schema.jobs.update().where(schema.jobs.c.id == job_id)
                     .values(identity_json=json.dumps(identity)))
        conn.execute(schema.schema_migrations.delete().where(schema.schema_migrations.c.version >= 12))
    assert store.migrate() == [version for version, _ in MIGRATIONS if version >= 12]
    proposal = store.jobs.get(job_id).identity
    assert proposal is not None
    evidence = proposal.candidates[0].evidence
    assert [e.code for e in evidence] == [
        "identity-id-given", "identity-name-matches", "identity-name-close", "identity-birth-date-matches",
        "identity-birth-date-unlike", "identity-name-differs", "identity-as-written"]
    assert [identity_words(e, "fr") for e in evidence] == [
        "identifiant 100002 donné par la fiche jointe", "le nom correspond", "nom proche (87 %)",
        "la date de naissance correspond (13/03/1950)",
        "la date de naissance diffère : donnée 13/03/1950, index 13/03/1951",
        "Le nom du fichier nomme Durand Marie, le patient est DUPOND Jean", "something else entirely"]
    assert identity_words(evidence[0], "en") == "identifier 100002 given by the sidecar file"
    with store.engine.connect() as conn:  # nothing else was touched
        assert conn.scalar(sa.select(sa.func.count()).select_from(schema.jobs)) == 1
    store.close()


def test_sqlite_runs_in_wal_mode(store: JobStore) -> None:  # the embedded default
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_same_audio_is_one_job(engine_store: JobStore) -> None:
    store = engine_store
    job, new = store.jobs.receive(audio_sha256="a" * 64, author="dr-a", original_name="x.wav", audio_path=Path("/a/x.wav"))
    again, new_again = store.jobs.receive(audio_sha256="a" * 64, author="dr-b", original_name="y.wav", audio_path=Path("/a/y.wav"))
    assert new and not new_again
    assert again.id == job.id and again.author == "dr-a"
    assert [e[1] for e in store.jobs.events(job.id)] == ["received", "duplicate-received"]


def test_received_job_is_not_claimable_until_queued(engine_store: JobStore) -> None:
    store = engine_store
    job, _ = store.jobs.receive(audio_sha256="b" * 64, author="dr", original_name="x.wav", audio_path=Path("/a/x.wav"))
    assert job.state is JobState.RECEIVED
    assert store.claims.claim_next(this_worker(), 60) is None
    store.jobs.mark_queued(job.id)
    claimed = store.claims.claim_next(this_worker(), 60)
    assert claimed is not None and claimed.id == job.id and claimed.attempts == 1


def test_each_job_is_claimed_by_exactly_one_of_many_threads(engine_store: JobStore) -> None:
    store = engine_store
    ids = {_receive(store, n) for n in range(40)}
    claims: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work() -> None:
        me = this_worker()
        while (job := store.claims.claim_next(me, 60)) is not None:
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
        "while (j := s.claims.claim_next(me, 60)) is not None: print(j.id, flush=True)\n"
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
    assert store.claims.claim_next(remote, lease_s=30) is not None
    assert store.claims.release_abandoned() == []  # lease still running
    now[0] += 20
    assert store.claims.renew_lease(job_id, remote, 30)
    now[0] += 25
    assert store.claims.release_abandoned() == []  # renewed
    now[0] += 10
    assert store.claims.release_abandoned() == [job_id]
    assert store.jobs.get(job_id).state is JobState.QUEUED
    assert not store.claims.renew_lease(job_id, remote, 30)  # no longer its job
    store.close()


def test_a_dead_worker_on_this_host_is_noticed_at_once(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = WorkerIdentity(this_worker().host, child.pid, "dead")
    assert store.claims.claim_next(dead, lease_s=3600) is not None
    assert store.claims.release_abandoned() == [job_id]
    alive = this_worker()
    assert store.claims.claim_next(alive, lease_s=3600) is not None
    assert store.claims.release_abandoned() == []  # our own process is alive


def test_drafted_only_by_the_claim_holder(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    holder, stranger = this_worker(), this_worker()
    store.claims.claim_next(holder, 60)
    outputs = {"text": Path("/d/draft.txt")}
    kwargs = dict(duration_s=3.0, language="fr", model="m", options={"beam_size": 5}, outputs=outputs)
    assert not store.claims.mark_drafted(job_id, stranger, **kwargs)
    assert store.claims.mark_drafted(job_id, holder, **kwargs)
    assert not store.claims.mark_drafted(job_id, holder, **kwargs)  # not twice
    job = store.jobs.get(job_id)
    assert (job.state, job.language, job.model, job.options) == (JobState.DRAFTED, "fr", "m", {"beam_size": 5})
    assert store.jobs.results_of(job_id) == outputs


def test_requeue_only_a_quarantined_job(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    with pytest.raises(StoreError, match="not quarantined"):
        store.jobs.requeue(job_id, audio_path=Path("/a"))
    me = this_worker()
    store.claims.claim_next(me, 60)
    assert store.claims.quarantine(job_id, me, error="bad")
    assert store.jobs.get(job_id).audio_path == Path("/archive/1.wav")  # the audio stays in the archive
    job = store.jobs.requeue(job_id, audio_path=Path("/archive/x.wav"))
    assert (job.state, job.attempts, job.audio_path) == (JobState.QUEUED, 0, Path("/archive/x.wav"))
    with pytest.raises(StoreError, match="is queued: not quarantined"):
        store.jobs.requeue(job_id, audio_path=Path("/archive/x.wav"))


def test_a_worker_whose_lease_ran_out_cannot_change_a_job_another_worker_took(store_url: str) -> None:
    """The fault seen: a stale worker quarantined a job that another worker had already drafted."""
    now = [1000.0]
    store = JobStore(store_url, clock=lambda: now[0])
    store.migrate()
    job_id = _receive(store, 1)
    stale, fresh = WorkerIdentity("host-a", 1, "stale"), WorkerIdentity("host-b", 2, "fresh")
    assert store.claims.claim_next(stale, lease_s=30) is not None
    now[0] += 31
    assert store.claims.release_abandoned() == [job_id]  # host-a stopped renewing: its job goes back
    assert store.claims.claim_next(fresh, lease_s=30) is not None
    kwargs = dict(duration_s=3.0, language="fr", model="m", options={}, outputs={"text": Path("/d/draft.txt")})
    assert store.claims.mark_drafted(job_id, fresh, **kwargs)
    assert not store.claims.quarantine(job_id, stale, error="the engine failed")  # too late: refused, nothing changes
    assert not store.claims.mark_failed(job_id, stale, "the engine failed", retry_in_s=60)
    assert not store.claims.renew_lease(job_id, stale, 30)
    job = store.jobs.get(job_id)
    assert (job.state, job.error, job.next_try_at) == (JobState.DRAFTED, None, None)
    assert [e[1] for e in store.jobs.events(job_id)] == ["received", "claimed", "released", "claimed", "drafted"]
    # a worker's own claim cannot quarantine a job that is no longer being transcribed either
    assert not store.claims.quarantine(job_id, fresh, error="late")
    store.close()


def test_a_failed_job_is_not_claimed_again_before_its_next_try(store_url: str) -> None:
    now = [1000.0]
    store = JobStore(store_url, clock=lambda: now[0])
    store.migrate()
    job_id = _receive(store, 1)
    me = this_worker()
    assert store.claims.claim_next(me, 60) is not None
    assert store.claims.mark_failed(job_id, me, "attempt 1 of 3: CUDA out of memory", retry_in_s=60)
    job = store.jobs.get(job_id)
    assert job.state is JobState.QUEUED and job.next_try_at is not None and job.next_try_at.timestamp() == 1060.0
    assert store.claims.claim_next(me, 60) is None and store.claims.claim(job_id, me, 60) is None  # waiting for its next try
    now[0] += 59
    assert store.claims.claim_next(me, 60) is None
    now[0] += 1
    again = store.claims.claim_next(me, 60)
    assert again is not None and again.id == job_id and again.attempts == 2
    events = store.jobs.events(job_id)
    assert ("failed", "attempt 1 of 3: CUDA out of memory") in [(e[1], e[3]) for e in events]  # the reason is kept
    store.close()


def test_state_changes_say_clearly_when_the_job_is_not_where_they_start(engine_store: JobStore) -> None:
    store = engine_store
    job_id = _receive(store, 1)
    for change, pattern in (
        (lambda: store.jobs.return_to_author(job_id, "?", "anne"), "is queued: only a draft waiting for review"),
        (lambda: store.jobs.resubmit(job_id, "dr"), "is queued: not returned"),
        (lambda: store.jobs.queue_again(job_id, "admin", "new vocabulary"), "is queued: only a draft not yet validated"),
    ):
        with pytest.raises(StoreError, match=pattern):
            change()
    assert store.jobs.get(job_id).state is JobState.QUEUED
    with pytest.raises(JobNotFound):
        store.jobs.requeue(99, audio_path=Path("/a"))


def test_a_filing_recorded_twice_is_taken_as_already_filed(engine_store: JobStore) -> None:
    """Two hosts filing the same report: the second one's record meets the first one's, and does not raise."""
    store = engine_store
    job_id = _receive(store, 1)
    me = this_worker()
    store.claims.claim_next(me, 60)
    kwargs = dict(duration_s=3.0, language="fr", model="m", options={}, outputs={"text": Path("/d/draft.txt")})
    assert store.claims.mark_drafted(job_id, me, **kwargs)
    store.reports.validate(job_id, text="RAS.", patient_id="1", validated_by="anne", worktype="note", language="fr",
                   identity_confirmed_by=None, copies=[])
    where = dict(patient_id="1", docx_path=Path("/o/a.docx"), pdf_path=None, sidecar_path=Path("/o/a.json"))
    assert store.reports.record_filing(job_id, 1, **where)
    assert not store.reports.record_filing(job_id, 1, **where)  # the other host's: no IntegrityError
    assert store.jobs.get(job_id).state is JobState.FILED
    assert [e[1] for e in store.jobs.events(job_id)].count("filed") == 1


def test_unknown_job(engine_store: JobStore) -> None:
    store = engine_store
    with pytest.raises(JobNotFound, match="no job 99"):
        store.jobs.get(99)
