"""The database schema of the job store, and its migrations (the same on every engine).

Tables are written with SQLAlchemy Core. Migrations are appended, never edited:
a site's store has run the earlier ones. A migration that adds a column uses
``_add_column``, which does nothing where the column already exists (a store
created after the column was added to the table definition).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.Float, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("audio_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("original_name", sa.Text, nullable=False),
    sa.Column("audio_path", sa.Text, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
    sa.Column("duration_s", sa.Float),
    sa.Column("language", sa.String(10)),
    sa.Column("model", sa.Text),
    sa.Column("options_json", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("lease_until", sa.Float),
    sa.Column("vocabulary_version", sa.String(40)),
    sa.Column("flag_count", sa.Integer),
    sa.Column("worktype", sa.String(20)),
    sa.Column("priority", sa.String(10)),
    sa.Column("due_date", sa.String(10)),
    sa.Column("metadata_json", sa.Text),
    sa.Column("patient_id", sa.String(64)),
    sa.Column("identity_json", sa.Text),
    sa.Column("report_version", sa.Integer),
    sa.Column("filing_error", sa.Text),
    sa.Column("return_comment", sa.Text),
    #: after a failed attempt, not claimed again before this time (retries back off)
    sa.Column("next_try_at", sa.Float),
)

patients = sa.Table(
    "patients",
    metadata,
    sa.Column("patient_id", sa.String(64), primary_key=True),
    sa.Column("family_name", sa.String(200), nullable=False),
    sa.Column("given_names", sa.String(200), nullable=False),
    sa.Column("birth_date", sa.String(10)),
    sa.Column("sex", sa.String(10)),
    sa.Column("family_key", sa.String(200), nullable=False, index=True),
    sa.Column("imported_at", sa.Float, nullable=False),
    #: every name of the patient as compared (" family given "), so that a search matches them in any order
    sa.Column("names_key", sa.String(410)),
    #: the GP (a letter's addressee by default), and the INS with the strict traits it travels with
    sa.Column("gp", sa.String(200)),
    sa.Column("ins", sa.String(15)),
    sa.Column("ins_oid", sa.String(64)),
    sa.Column("birth_name", sa.String(200)),
    sa.Column("birth_place", sa.String(10)),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("worktype", sa.String(20), nullable=False),
    sa.Column("language", sa.String(10)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("validated_by", sa.String(200), nullable=False),
    sa.Column("validated_at", sa.Float, nullable=False),
    sa.Column("identity_confirmed_by", sa.String(200)),
    sa.Column("copies_json", sa.Text),
    #: the letter's addressee as validated ("Docteur Bernard, médecin traitant"); copies are in copies_json
    sa.Column("recipient", sa.String(200)),
    sa.UniqueConstraint("job_id", "version"),
)

filings = sa.Table(
    "filings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("docx_path", sa.Text, nullable=False),
    sa.Column("pdf_path", sa.Text),
    sa.Column("sidecar_path", sa.Text, nullable=False),
    sa.Column("filed_at", sa.Float, nullable=False),
    #: each exchange format asked for: the path filed, or why it was not ({"cda": "...", "fhir": {"refused": "..."}})
    sa.Column("formats_json", sa.Text),
    sa.UniqueConstraint("job_id", "version"),
)

job_events = sa.Table(
    "job_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200)),
    sa.Column("detail", sa.Text),
)

results = sa.Table(
    "results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("model", sa.Text),
    sa.Column("options_json", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
)


def _migration_1(conn: Connection) -> None:
    for table in (jobs, job_events, results):
        table.create(conn, checkfirst=True)  # later columns come with later migrations (_add_column)


def _add_column(conn: Connection, table: sa.Table, column: str) -> None:
    """Add a column of the current table definition, unless the store already has it."""
    present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    if column in present:
        return
    definition = table.c[column]
    kind = definition.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column} {kind}")


def _migration_2(conn: Connection) -> None:
    """The text layer: which vocabulary made the draft, and how many flags it left to check."""
    _add_column(conn, jobs, "vocabulary_version")
    _add_column(conn, jobs, "flag_count")


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("author", sa.String(100)),  # for a doctor: the inbox folder of his dictations
    sa.Column("language", sa.String(5)),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
)

review_locks = sa.Table(
    "review_locks",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

review_drafts = sa.Table(
    "review_drafts",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), primary_key=True),
    sa.Column("state_json", sa.Text, nullable=False),
    sa.Column("saved_by", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("saved_at", sa.Float, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    #: the entry's number in the chain (1, 2, ...), covered by its hash; unique, so that the chain cannot fork
    sa.Column("seq", sa.Integer),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("username", sa.String(100)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("job_id", sa.Integer),
    sa.Column("detail", sa.Text),
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
audit_log_seq = sa.Index("ix_audit_log_seq", audit_log.c.seq, unique=True)


proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("wrong_forms_json", sa.Text, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("effect_json", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_at", sa.Float),
    sa.UniqueConstraint("kind", "language", "author", "target"),
)


def _migration_3(conn: Connection) -> None:
    """Reports and patient records: metadata, identity, the patient index, validated reports, filings."""
    for column in (
        "worktype",
        "priority",
        "due_date",
        "metadata_json",
        "patient_id",
        "identity_json",
        "report_version",
        "filing_error",
    ):
        _add_column(conn, jobs, column)
    for table in (patients, reports, filings):
        table.create(conn, checkfirst=True)


def _migration_4(conn: Connection) -> None:
    """The review app: accounts, sessions, locks, work in progress, the audit trail, returned reports."""
    _add_column(conn, jobs, "return_comment")
    for table in (users, sessions, login_attempts, review_locks, review_drafts, audit_log):
        table.create(conn, checkfirst=True)


def _migration_5(conn: Connection) -> None:
    """Learning from the secretary: vocabulary proposals waiting for an admin."""
    proposals.create(conn, checkfirst=True)


report_comments = sa.Table(
    "report_comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

report_signatures = sa.Table(
    "report_signatures",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("signed_by", sa.String(100), nullable=False),
    sa.Column("signed_at", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("job_id", "version"),
)


def _migration_6(conn: Connection) -> None:
    """The secretary's day: patient search on every name, the comment thread of a returned report, signatures."""
    from transcribe.patient_record.patients import names_key

    _add_column(conn, patients, "names_key")
    for row in conn.execute(sa.select(patients.c.patient_id, patients.c.family_name, patients.c.given_names)):
        conn.execute(
            patients.update()
            .where(patients.c.patient_id == row.patient_id)
            .values(names_key=names_key(row.family_name, row.given_names))
        )
    for table in (report_comments, report_signatures):
        table.create(conn, checkfirst=True)


store_info = sa.Table(
    "store_info",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def _migration_7(conn: Connection) -> None:
    """Retries back off (a failed job's next try); the store's own id, which the outbox marker names."""
    _add_column(conn, jobs, "next_try_at")
    store_info.create(conn, checkfirst=True)
    if conn.scalar(sa.select(store_info.c.value).where(store_info.c.key == "store_id")) is None:
        conn.execute(store_info.insert().values(key="store_id", value=uuid.uuid4().hex))


def _migration_8(conn: Connection) -> None:
    """The keyed audit trail: each entry's number in the chain (the entries already there numbered in order)."""
    _add_column(conn, audit_log, "seq")
    unnumbered = conn.scalars(sa.select(audit_log.c.id).where(audit_log.c.seq.is_(None)).order_by(audit_log.c.id))
    start = conn.scalar(sa.select(sa.func.max(audit_log.c.seq))) or 0
    for number, entry_id in enumerate(list(unnumbered), start + 1):
        conn.execute(audit_log.update().where(audit_log.c.id == entry_id).values(seq=number))
    audit_log_seq.create(conn, checkfirst=True)


refused_drafts = sa.Table(
    "refused_drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    #: the blocks her screen sent, as the review screen keeps them (JSON list of key, heading, text)
    sa.Column("blocks_json", sa.Text, nullable=False),
)


def _migration_9(conn: Connection) -> None:
    """Text a secretary typed that the server refused (someone else held the report): kept, with its author."""
    refused_drafts.create(conn, checkfirst=True)


retention_actions = sa.Table(
    "retention_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    #: "audio" (the dictation's recording) or "drafts" (the draft files)
    sa.Column("kind", sa.String(20), nullable=False),
    #: what was deleted, so that a copy found later can be recognised: the audio's sha256 (drafts: their files')
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("filed_at", sa.Float, nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("removed_at", sa.Float, nullable=False),
    sa.Column("removed_by", sa.String(200), nullable=False),
    #: the policy applied ("audio_days=30")
    sa.Column("policy", sa.String(100), nullable=False),
    sa.UniqueConstraint("job_id", "kind"),
)

patient_exports = sa.Table(
    "patient_exports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient_id", sa.String(64), nullable=False, index=True),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("with_audio", sa.Boolean, nullable=False),
    #: once written: when, how many report versions and recordings, and the archive's sha256
    sa.Column("exported_at", sa.Float),
    sa.Column("reports", sa.Integer),
    sa.Column("recordings", sa.Integer),
    sa.Column("sha256", sa.String(64)),
)


def _migration_10(conn: Connection) -> None:
    """Letters and exchange formats: the GP and the INS in the index, a report's addressee, the formats filed;
    the patient's right of access (exports) and the retention of audio and drafts after filing."""
    for column in ("gp", "ins", "ins_oid", "birth_name", "birth_place"):
        _add_column(conn, patients, column)
    _add_column(conn, reports, "recipient")
    _add_column(conn, filings, "formats_json")
    for table in (retention_actions, patient_exports):
        table.create(conn, checkfirst=True)


code_sets = sa.Table(
    "code_sets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("system", sa.String(20), nullable=False),
    #: the date the set applies from (YYYY-MM-DD): the newest version of a system is the one used
    sa.Column("version", sa.String(10), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("file_kind", sa.String(40), nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("imported_at", sa.Float, nullable=False),
    sa.Column("imported_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("system", "version"),
)

code_entries = sa.Table(
    "code_entries",
    metadata,
    sa.Column("set_id", sa.Integer, sa.ForeignKey("code_sets.id"), nullable=False, index=True),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("set_id", "code"),
)

#: the secretary's decisions on the codes of a report in review (one row per code: accepted or rejected)
code_choices = sa.Table(
    "code_choices",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("system", sa.String(20), nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("origin", sa.String(10), nullable=False),
    #: the words of the text that support it (JSON list of strings)
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=False),
    sa.Column("decided_at", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("job_id", "system", "code"),
)

#: the codes kept with a validated version: the accepted choices when it was validated
report_codes = sa.Table(
    "report_codes",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("system", sa.String(20), nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("origin", sa.String(10), nullable=False),
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.Column("chosen_by", sa.String(200), nullable=False),
    sa.PrimaryKeyConstraint("job_id", "version", "system", "code"),
)


def _migration_11(conn: Connection) -> None:
    """Coding: imported code sets (CIM-10, CCAM, ICD-10-CM), the secretary's code choices, the codes of each version."""
    for table in (code_sets, code_entries, code_choices, report_codes):
        table.create(conn, checkfirst=True)


#: the English sentences a job's identity evidence was stored as before it was data (``records.IdentityNote``),
#: and the note each one becomes; ``source`` was "sidecar", "filename" or "dictated", written after "the "
_SENTENCE_NOTES = [
    (r"identifier (?P<id>.+) given by the (?P<source>\w+)", "identity-id-given"),
    (r"name matches", "identity-name-matches"),
    (r"name matches with family and given names inverted", "identity-name-inverted"),
    (r"name close \((?P<score>\d+)%\)", "identity-name-close"),
    (r"birth date matches \((?P<date>[\d-]+)\)", "identity-birth-date-matches"),
    (r"birth date differs: dictated (?P<given_date>\S+), index (?P<chosen_date>\S+)", "identity-birth-date-unlike"),
    (r"the (?P<source>\w+) names patient (?P<given_id>.+), not (?P<chosen_id>.+)", "identity-id-differs"),
    (
        r"the (?P<source>\w+) gives the birth date (?P<given_date>\S+), the patient's is (?P<chosen_date>\S+)",
        "identity-birth-date-differs",
    ),
    (r"the (?P<source>\w+) names (?P<names>.+), the patient is (?P<patient>.+)", "identity-name-differs"),
]


def _sentence_note(sentence: str) -> dict[str, object]:
    """The identity note (``{"code", "params"}``) an evidence sentence of an older version stands for;
    a sentence none of them wrote is kept, word for word, as ``identity-as-written``."""
    for pattern, code in _SENTENCE_NOTES:
        found = re.fullmatch(pattern, sentence)
        if found:
            return {"code": code, "params": found.groupdict()}
    return {"code": "identity-as-written", "params": {"text": sentence}}


def _migration_12(conn: Connection) -> None:
    """A job's identity evidence is data: the English sentences older versions stored become codes with parameters,
    so that each reader sees them in her language and no sentence has to be parsed back."""
    stored = conn.execute(sa.select(jobs.c.id, jobs.c.identity_json).where(jobs.c.identity_json.is_not(None)))
    for job_id, text in stored.all():
        identity = json.loads(text)
        candidates = identity.get("candidates") or []
        if not any(isinstance(e, str) for c in candidates for e in c.get("evidence", [])):
            continue
        for candidate in candidates:
            candidate["evidence"] = [
                _sentence_note(e) if isinstance(e, str) else e for e in candidate.get("evidence", [])
            ]
        conn.execute(
            jobs.update().where(jobs.c.id == job_id).values(identity_json=json.dumps(identity, ensure_ascii=False))
        )


#: Ordered schema migrations. Append, never edit: a site's store has run the earlier ones.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _migration_1),
    (2, _migration_2),
    (3, _migration_3),
    (4, _migration_4),
    (5, _migration_5),
    (6, _migration_6),
    (7, _migration_7),
    (8, _migration_8),
    (9, _migration_9),
    (10, _migration_10),
    (11, _migration_11),
    (12, _migration_12),
]
