"""PostgreSQL as the shared store: several worker processes, a worker killed mid-job, the rest of the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from transcribe.errors import StoreError
from transcribe.intake.inbox import Intake
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.records import JobState
from transcribe.security.accounts import Accounts
from transcribe.security.audit import AuditTrail
from transcribe.store import open_store
from transcribe.store.schema import audit_log
from transcribe.work.review_state import Workspace, WorkState

from .audio_files import clip_samples, write_audio
from .conftest import ENGINE_PASS_ONLY, dictation, make_settings, wait_for

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_four_workers_do_twenty_four_jobs_exactly_once_even_when_one_is_killed(site: Path, postgres_url: str,
                                                                        tmp_path: Path) -> None:
    settings = make_settings(site, {"store.url": postgres_url, "worker.lease_s": 10.0, "asr.beam_size": 1,
                                        **ENGINE_PASS_ONLY})  # exactly once, not hearing
    store = open_store(settings.store_url)
    speech = clip_samples(dictation("en-gp-001"))[: 16000]
    intake = Intake(settings, store)
    for number in range(24):
        varied = (speech.astype(np.int32) + np.random.default_rng(number).integers(-30, 30, speech.size))
        path = write_audio(varied.clip(-32767, 32767).astype(np.int16), tmp_path / f"j{number:02d}.opus")
        assert intake.take(path) is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
    env["TRANSCRIBE_ASR_CPU_THREADS"] = "1"
    env["TRANSCRIBE_ASR_BEAM_SIZE"] = "1"  # this test is about claims, not accuracy: the fastest decoding
    workers = [subprocess.Popen([sys.executable, "-m", "transcribe", "-q", "worker"], cwd=site, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(4)]
    try:
        victim = workers[0]

        def victim_busy() -> bool:
            return any(j.claimed_by and f":{victim.pid}:" in j.claimed_by
                       for j in store.jobs.list_jobs(state=JobState.TRANSCRIBING, limit=100))

        wait_for(victim_busy, timeout_s=180, step_s=0.05)
        victim.send_signal(signal.SIGKILL)  # killed mid-job
        victim.wait()

        def all_done() -> bool:
            return store.jobs.count_by_state() == {JobState.DRAFTED: 24}

        wait_for(all_done, timeout_s=600, step_s=0.5)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=60)
    released = 0
    for job in store.jobs.list_jobs(limit=100):
        events = [e[1] for e in store.jobs.events(job.id)]
        assert events.count("drafted") == 1, events  # done exactly once
        released += events.count("released")
    assert released >= 1  # the killed worker's job came back and was done by another
    store.close()


def test_the_audit_chain_holds_with_concurrent_writers(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url)
    trail = AuditTrail(store, key=b"k" * 32, anchor=tmp_path / "audit-anchor.json")

    def write(who: str) -> None:
        for number in range(40):
            trail.record(who, "changed", number)

    threads = [threading.Thread(target=write, args=(f"user{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = trail.verify()
    assert check.intact and check.entries == 120 and check.anchored == 120
    store.close()


def test_the_keyed_chain_on_postgresql_rolls_back_with_its_action_and_shows_truncation(
        postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url)
    trail = AuditTrail(store, key=b"k" * 32, anchor=tmp_path / "audit-anchor.json")
    job, _ = store.jobs.receive(audio_sha256="d" * 64, author="dr", original_name="d.wav", audio_path=Path("/d"))
    for number in range(3):
        trail.record("anne", "changed", job.id, f"flag {number}")
    try:
        store.jobs.requeue(job.id, audio_path=Path("/d"), audit=trail.by("cli:root"))  # not quarantined: refused
    except StoreError:
        pass
    assert len(trail.entries()) == 3 and trail.verify().intact
    with store.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
    check = trail.verify()
    assert not check.intact and check.first_broken == 3
    store.close()


def test_accounts_patients_and_work_in_progress_on_postgresql(postgres_url: str) -> None:
    store = open_store(postgres_url)
    accounts = Accounts(store)
    user = accounts.add_user("anne", "correct horse battery", "secretary")
    token, session = accounts.login("anne", "correct horse battery", "127.0.0.1")
    assert accounts.session(token).user.username == "anne" and session.csrf_token
    added, _ = store.patients.import_patients(parse_patient_csv("id,nom,prénom,ddn\n1,Dupont,Jean,1950-03-12\n")[0])
    assert added == 1 and store.patients.search_patients("dupont")[0].patient_id == "1"
    job, _ = store.jobs.receive(audio_sha256="c" * 64, author="dr", original_name="a.wav", audio_path=Path("/a"))
    workspace = Workspace(store)
    workspace.save(job.id, user.id, WorkState(resolved=[1, 2], patient_id="1"))
    assert workspace.load(job.id).resolved == [1, 2] and workspace.holder(job.id) == "anne"
    store.close()


def test_without_a_server_the_postgresql_tests_skip_here_and_fail_in_ci(tmp_path: Path) -> None:
    """CI must not lose the PostgreSQL suite silently when its server did not start."""
    unreachable = "postgresql+psycopg://nobody:nothing@127.0.0.1:9/none"  # the discard port: nothing listens
    test = "tests/test_postgres.py::test_the_audit_chain_holds_with_concurrent_writers"
    base = {k: v for k, v in os.environ.items() if k != "CI"}
    base["TRANSCRIBE_TEST_POSTGRES_URL"] = unreachable

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test, "-rs", "-n", "0"],
                              cwd=Path(__file__).resolve().parent.parent, env={**base, **extra},
                              capture_output=True, text=True, timeout=300)

    here = run()
    assert here.returncode == 0 and "1 skipped" in here.stdout, here.stdout
    in_ci = run(CI="true")
    assert in_ci.returncode == 1 and "CI is set" in in_ci.stdout, in_ci.stdout
