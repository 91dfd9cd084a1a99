"""The keyed audit trail: tampering of any kind is found, every action at every door writes its entry,
and an entry lives and dies with the transaction of its action.

Real SQLite stores in tmp_path, the real ``transcribe`` command in a child process, the real worker.
"""

from __future__ import annotations

import getpass
import json
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from transcribe.errors import AuditError, StoreError
from transcribe.intake.inbox import Intake
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.validation import validate_report
from transcribe.records import JobState
from transcribe.security.audit import AuditTrail, entry_hash, plain_hash
from transcribe.security.audit_anchor import anchor_path
from transcribe.security.site_key import purpose_key
from transcribe.settings import Settings
from transcribe.store import JobStore, WorkerIdentity, open_store, this_worker
from transcribe.store.schema import audit_log, proposals, schema_migrations
from transcribe.worker import Worker, load_recognizer

from .conftest import make_settings
from .test_cli import transcribe, transcribe_in_process

CLI = f"cli:{getpass.getuser()}"


@pytest.fixture
def trail(settings: Settings, store: JobStore) -> AuditTrail:
    return AuditTrail.of_site(store, settings)


def _rows(store: JobStore) -> list:
    with store.reading() as conn:
        return conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()


def _write(trail: AuditTrail, count: int) -> None:
    for number in range(count):
        trail.record("anne", "changed", number + 1, f"flag {number}")


def _rehash(store: JobStore, digest) -> None:
    """Rewrite every entry's links and hashes with ``digest(seq, previous, row)``: a forger's whole new chain."""
    previous = "0" * 64
    with store.transaction() as conn:
        for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all():
            new = digest(row.seq, previous, row)
            conn.execute(audit_log.update().where(audit_log.c.id == row.id).values(previous_hash=previous, hash=new))
            previous = new


# --- tampering is found ---------------------------------------------------------------------------


def test_an_intact_chain_verifies_and_its_anchor_follows_it(settings: Settings, store: JobStore,
                                                             trail: AuditTrail) -> None:
    _write(trail, 5)
    check = trail.verify()
    assert check.intact and check.entries == 5 and check.anchored == 5
    anchor = json.loads(anchor_path(settings.paths.site_key).read_text())
    assert anchor["count"] == 5 and anchor["head"] == _rows(store)[-1].hash
    assert anchor_path(settings.paths.site_key).parent == settings.paths.site_key.parent  # beside the key


def test_an_edited_entry_is_found(store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 5)
    with store.transaction() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(username="bea"))
    check = trail.verify()
    assert not check.intact and check.first_broken == 3 and "changed" in check.reason


def test_a_deleted_middle_entry_is_found(store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 5)
    with store.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
    check = trail.verify()
    assert not check.intact and check.first_broken == 3 and "deleted" in check.reason


def test_truncated_newest_entries_are_found(store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 5)
    with store.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq >= 4))
    check = trail.verify()
    assert not check.intact and check.first_broken == 4
    assert "entries 4 to 5 were deleted" in check.reason


def test_a_chain_rewritten_with_plain_sha256_is_found(settings: Settings, store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 4)
    _rehash(store, lambda seq, previous, r: plain_hash(previous, r.at, r.username, r.action, r.job_id, r.detail))
    check = trail.verify()
    assert not check.intact and check.first_broken == 4 and "anchor recorded" in check.reason
    anchor_path(settings.paths.site_key).unlink()  # even with no anchor, unkeyed entries are not taken as valid
    check = trail.verify()
    assert not check.intact and check.waiting_acceptance and "before the chain was keyed" in check.reason


def test_a_chain_rewritten_with_another_key_is_found(store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 4)
    other = purpose_key(b"x" * 32, "Audit-Chain/1")
    _rehash(store, lambda seq, previous, r: entry_hash(other, seq, previous, r.at, r.username, r.action, r.job_id,
                                                        r.detail))
    check = trail.verify()
    assert not check.intact and check.first_broken == 1 and "another site key" in check.reason


def test_a_forged_or_missing_anchor_is_found(settings: Settings, store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 5)
    anchor = anchor_path(settings.paths.site_key)
    genuine = json.loads(anchor.read_text())
    with store.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 5))
    forged = {"count": 4, "head": _rows(store)[-1].hash, "signature": genuine["signature"]}
    anchor.write_text(json.dumps(forged))
    check = trail.verify()
    assert not check.intact and "not signed with this site's key" in check.reason
    anchor.write_text("{not json")
    assert "damaged" in trail.verify().reason
    anchor.unlink()
    check = trail.verify()
    assert not check.intact and "anchor" in check.reason and "missing" in check.reason


def test_the_anchor_only_moves_forward_and_is_never_replaced_when_forged(settings: Settings, trail: AuditTrail) -> None:
    _write(trail, 3)
    assert not trail.anchor.advance(2, "f" * 64)  # an older commit, written late: the anchor stays
    assert trail.anchor.read().count == 3
    path = anchor_path(settings.paths.site_key)
    path.write_text(json.dumps({"count": 1, "head": "0" * 64, "signature": "0" * 64}))
    trail.record("anne", "changed", 9)  # committed; the forged anchor is kept as evidence, the error logged
    assert json.loads(path.read_text())["signature"] == "0" * 64
    assert not trail.verify().intact


def test_an_entry_written_without_the_key_after_keyed_ones_is_found(store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 3)
    last, at = _rows(store)[-1], time.time()
    forged = plain_hash(last.hash, at, "mallory", "validated", 1, None)
    with store.transaction() as conn:
        conn.execute(audit_log.insert().values(seq=4, at=at, username="mallory", action="validated", job_id=1,
                                               previous_hash=last.hash, hash=forged))
    check = trail.verify()
    assert not check.intact and check.first_broken == 4 and "without the site key" in check.reason


# --- entries written before the chain was keyed ---------------------------------------------------


def test_unkeyed_entries_of_an_older_version_are_numbered_then_wait_for_a_person(
        settings: Settings, store: JobStore, trail: AuditTrail) -> None:
    previous = "0" * 64
    with store.transaction() as conn:  # what the version before the keyed chain wrote: no number, plain SHA-256
        for number in range(3):
            at = 1_700_000_000.0 + number
            digest = plain_hash(previous, at, "anne", "opened", number, None)
            conn.execute(audit_log.insert().values(at=at, username="anne", action="opened", job_id=number,
                                                   previous_hash=previous, hash=digest))
            previous = digest
        conn.execute(schema_migrations.delete().where(schema_migrations.c.version == 8))
    assert store.migrate() == [8]
    assert [row.seq for row in _rows(store)] == [1, 2, 3]
    check = trail.verify()
    assert not check.intact and check.waiting_acceptance and check.unkeyed == 3 and check.first_broken is None
    waiting = transcribe(settings.site, "audit", "verify")
    assert waiting.returncode == 1 and "NOT VERIFIED" in waiting.stderr and "accept-unkeyed" in waiting.stderr
    trail.record("anne", "changed", 7)  # keyed entries follow them meanwhile
    accepted = transcribe(settings.site, "audit", "accept-unkeyed")
    assert accepted.returncode == 0, accepted.stderr
    verified = transcribe(settings.site, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "intact: 5 entries" in verified.stdout and f"accepted by {CLI}" in verified.stdout
    with pytest.raises(AuditError, match="accepted already"):
        trail.accept_unkeyed("anne")
    with store.transaction() as conn:  # accepted, they still cannot be changed: the keyed entry 4 holds their head
        conn.execute(audit_log.update().where(audit_log.c.seq == 2).values(username="bea"))
    assert not trail.verify().intact


# --- an entry commits and rolls back with its action ----------------------------------------------


def test_an_entry_is_rolled_back_with_its_action(store: JobStore, trail: AuditTrail) -> None:
    _write(trail, 2)
    job, _ = store.jobs.receive(audio_sha256="a" * 64, author="dr-martin", original_name="a.opus", audio_path=Path("/a"))
    with pytest.raises(RuntimeError), store.transaction() as conn:
        trail.by("anne").record_in(conn, "requeued", job.id)
        raise RuntimeError("the action failed after its entry was written")
    with pytest.raises(StoreError, match="only a quarantined job"):  # a refused action writes nothing
        store.jobs.requeue(job.id, audio_path=Path("/a"), audit=trail.by("anne"))
    assert len(_rows(store)) == 2 and trail.anchor.read().count == 2
    assert trail.verify().intact


# --- every door writes its entries ----------------------------------------------------------------


def _claimed(settings: Settings, store: JobStore, number: int) -> tuple[int, WorkerIdentity]:
    """A job received, queued and claimed by a worker, through the real store (its audio a few bytes)."""
    audio = settings.paths.archive / f"{number}.opus"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(b"audio %d" % number)
    job, _ = store.jobs.receive(audio_sha256=f"{number:064d}", author="dr-martin", original_name=f"{number}.opus",
                           audio_path=audio)
    store.jobs.mark_queued(job.id)
    worker = this_worker()
    assert store.claims.claim(job.id, worker, 60) is not None
    return job.id, worker


def _drafted(settings: Settings, store: JobStore, number: int, text: str = "Patient vu ce jour. Examen normal.") -> int:
    """A drafted job without the engine (this file is about what follows the draft)."""
    job_id, worker = _claimed(settings, store, number)
    draft = settings.paths.drafts / str(job_id) / "draft.txt"
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(text, encoding="utf-8")
    assert store.claims.mark_drafted(job_id, worker, duration_s=3.0, language="fr", model="bundled-base", options={},
                              outputs={"text": draft}, worktype="consultation")
    return job_id


def _quarantined(settings: Settings, store: JobStore, number: int) -> int:
    job_id, worker = _claimed(settings, store, number)
    assert store.claims.quarantine(job_id, worker, error="cannot decode")
    return job_id


def _proposal(store: JobStore, target: str) -> int:
    with store.transaction() as conn:
        return conn.execute(proposals.insert().values(
            kind="term", language="fr", author="dr-martin", target=target, wrong_forms_json=json.dumps([["x", 2]]),
            count=2, status="open", created_at=time.time())).inserted_primary_key[0]


def _cli(site: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # in this process, except what transcribes (``rerun`` loads the engine: the command as typed)
    if args[0] == "rerun":
        result = transcribe(site, *args)
    else:
        result = transcribe_in_process(site, *args, stdin=stdin or "")
    assert result.returncode == 0, (args, result.stderr)
    return result


def test_every_action_of_the_command_line_writes_an_entry_as_its_user(
        site: Path, settings: Settings, store: JobStore, trail: AuditTrail) -> None:
    index = site / "patients.csv"
    index.write_text("id,family_name,given_names\n100001,Dupont,Jean\n")
    _cli(site, "patients", "import", str(index))
    _cli(site, "user", "add", "bea", "--password-stdin", stdin="correct horse battery\n")
    validated = _drafted(settings, store, 1)
    _cli(site, "validate", str(validated), "--patient", "100001", "--by", "anne")
    _cli(site, "file", str(validated))
    requeued = _quarantined(settings, store, 2)
    _cli(site, "requeue", str(requeued))
    rerun = _drafted(settings, store, 3)
    _cli(site, "rerun", "--since", "2000-01-01")
    accepted, rejected = _proposal(store, "kaliémie"), _proposal(store, "natrémie")
    _cli(site, "proposals", "accept", str(accepted))
    _cli(site, "proposals", "reject", str(rejected))
    entries = {(e.username, e.action, e.job_id, e.detail) for e in trail.entries()}
    assert {
        (CLI, "patients-imported", None, "1 added, 0 updated"),
        (CLI, "user-added", None, "bea (secretary)"),
        (CLI, "validated", validated, "version 1, validator anne"),
        (CLI, "filed", validated, "version 1"),
        (CLI, "requeued", requeued, None),
        (CLI, "rerun", rerun, "rerun since 2000-01-01"),
        (CLI, "proposal-accepted", None, f"proposal {accepted}"),
        (CLI, "proposal-rejected", None, f"proposal {rejected}"),
    } <= entries
    assert not any("Dupont" in str(e) or "Examen" in str(e) for e in entries)  # no patient, no transcript text
    verified = _cli(site, "audit", "verify")
    assert "audit trail intact: 8 entries" in verified.stdout
    assert str(anchor_path(settings.paths.site_key)) in verified.stdout
    shown = _cli(site, "audit", "show", "--job", str(validated)).stdout
    assert "validated" in shown and "filed" in shown and "#" in shown


def test_a_failed_command_writes_no_entry_and_a_broken_chain_exits_1(
        site: Path, settings: Settings, store: JobStore, trail: AuditTrail) -> None:
    job_id = _drafted(settings, store, 1)
    assert transcribe(site, "requeue", str(job_id)).returncode == 1  # not quarantined: refused
    assert transcribe(site, "validate", str(job_id), "--patient", "404").returncode == 1  # no such patient
    assert transcribe(site, "file", str(job_id)).returncode == 1  # not validated
    assert trail.entries() == []
    _write(trail, 3)
    with store.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
    broken = transcribe(site, "audit", "verify")
    assert broken.returncode == 1 and "BROKEN at entry 3" in broken.stderr and "deleted" in broken.stderr


def test_the_worker_writes_what_it_quarantines_and_files(settings: Settings, store: JobStore, trail: AuditTrail,
                                                        text_layer) -> None:
    store.patients.import_patients(parse_patient_csv("id,family_name,given_names\n100001,Dupont,Jean\n")[0])
    broken = settings.paths.inbox / "dr-martin" / "broken.m4a"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(b"\x00" * 1000)
    bad = Intake(settings, store).take(broken)
    worker = Worker(settings, store, lambda: load_recognizer(settings), text_layer, front_host=True)
    worker.run_next()  # the file cannot be decoded: quarantined, and the engine never loaded
    assert store.jobs.get(bad.id).state is JobState.QUARANTINED
    good = _drafted(settings, store, 1)
    validate_report(settings, store, good, validator="anne", patient_id="100001", audit=trail.by("anne"))
    assert worker.file_waiting() == [good]
    who = f"worker:{worker.identity}"
    entries = [(e.username, e.action, e.job_id, e.detail) for e in reversed(trail.entries())]
    assert entries == [
        (who, "quarantined", bad.id, "audio-unreadable"),
        ("anne", "validated", good, "version 1"),
        (who, "filed", good, "version 1"),
    ]
    assert trail.verify().intact


# --- property: any one tampering of any chain is found --------------------------------------------


def _tamper(store: JobStore, kind: str, position: int, count: int) -> None:
    with store.transaction() as conn:
        target = audit_log.c.seq == position
        if kind == "delete":
            conn.execute(audit_log.delete().where(target))
        elif kind == "truncate":
            conn.execute(audit_log.delete().where(audit_log.c.seq >= position))
        elif kind == "swap" and count > 1:
            other = position % count + 1
            a, b = (conn.execute(sa.select(audit_log).where(audit_log.c.seq == n)).one() for n in (position, other))
            for row, into in ((a, b), (b, a)):
                conn.execute(audit_log.update().where(audit_log.c.id == into.id).values(
                    username=row.username, action=row.action, job_id=row.job_id, detail=row.detail, at=row.at))
            if a.username == b.username and a.action == b.action and a.job_id == b.job_id and a.detail == b.detail:
                conn.execute(audit_log.update().where(target).values(detail="changed"))
        elif kind == "time":
            conn.execute(audit_log.update().where(target).values(at=audit_log.c.at + 3600))
        elif kind == "seq":
            conn.execute(audit_log.update().where(target).values(seq=audit_log.c.seq + 1000))
        else:
            conn.execute(audit_log.update().where(target).values(detail=sa.func.coalesce(audit_log.c.detail, "") + "!"))


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    writes=st.lists(st.tuples(st.sampled_from(["anne", "bea", "cli:root"]),
                              st.sampled_from(["opened", "changed", "validated", "filed"]),
                              st.one_of(st.none(), st.integers(1, 50)),
                              st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs", "Cc")),
                                                           max_size=12))), min_size=1, max_size=8),
    kind=st.sampled_from(["edit", "delete", "truncate", "swap", "time", "seq"]),
    where=st.floats(0, 1, exclude_max=True),
)
def test_any_one_tampering_of_any_chain_is_found(writes, kind: str, where: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = make_settings(Path(folder))
        store = open_store(settings.store_url)
        try:
            trail = AuditTrail.of_site(store, settings)
            for username, action, job_id, detail in writes:
                trail.record(username, action, job_id, detail)
            assert trail.verify().intact
            _tamper(store, kind, int(where * len(writes)) + 1, len(writes))
            assert not trail.verify().intact
        finally:
            store.close()
