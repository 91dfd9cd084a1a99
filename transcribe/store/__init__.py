"""The job store: one row per dictation, state moves as atomic transactions.

SQLite (WAL) is the embedded default; the schema is written with SQLAlchemy
Core so that the same migrations serve other engines. ``JobStore`` is the one
object the rest of the code receives; it is made of parts by what they keep,
all on one engine and one transaction helper (``database.Database``):

    database       the engine, its URL, migrations, ``transaction()`` / ``reading()``
    jobs           intake, quarantine and review outcomes, history, listings, the review queue
    claims         workers' claims and leases, release of abandoned jobs, drafted / failed
    patient_index  the patient index: import, candidates, search
    reports        validated report versions and their filing records
    signoffs       the comment thread of a returned report, the author's signature
    keeping        exports of a patient's records (right of access), what retention deleted
    codes          imported code sets, the codes chosen for a report and kept with each version
    accounts       the review app's users, sessions and failed login attempts
    audit_log      the audit log's rows (the chain's rules are transcribe.security.audit)
    proposals      vocabulary proposals learned from validated reports; a job's audit actions (review time)
    review_work    the secretaries' work: locks, saved review state, refused text, what the worklist reads

No other module runs SQL: they ask these parts.
"""

from __future__ import annotations

from transcribe.store.accounts import AccountTables
from transcribe.store.audit_log import AuditLog
from transcribe.store.claims import Claims, WorkerIdentity, this_worker
from transcribe.store.codes import CodeStore
from transcribe.store.database import Database, normalise_url
from transcribe.store.jobs import Jobs, urgent_first
from transcribe.store.keeping import Keeping
from transcribe.store.patient_index import PatientIndex
from transcribe.store.proposals import Proposals
from transcribe.store.reports import ValidatedReports
from transcribe.store.review_work import ReviewWork
from transcribe.store.schema import MIGRATIONS, schema_migrations
from transcribe.store.signoffs import Signoffs

__all__ = [
    "MIGRATIONS",
    "Database",
    "JobStore",
    "WorkerIdentity",
    "normalise_url",
    "open_store",
    "schema_migrations",
    "this_worker",
    "urgent_first",
]


class JobStore(
    Jobs,
    Claims,
    PatientIndex,
    ValidatedReports,
    Signoffs,
    Keeping,
    CodeStore,
    ReviewWork,
    Proposals,
    AuditLog,
    AccountTables,
):
    """Jobs and their history in a SQL database."""


def open_store(url: str) -> JobStore:
    """Open the store at this URL and bring its schema up to date."""
    store = JobStore(url)
    store.migrate()
    return store
