"""The job store: one row per dictation, state moves as atomic transactions.

SQLite (WAL) is the embedded default; the schema is written with SQLAlchemy
Core so that the same migrations serve other engines. ``JobStore`` is the one
object the rest of the code receives; it is made of parts by what they keep,
all on one engine and one transaction helper (``database.Database``), each reached by its name
(``store.jobs``, ``store.claims``, ...):

    database       the engine, its URL, migrations, ``transaction()`` / ``reading()``
    jobs           intake, quarantine and review outcomes, history, listings, the review queue
    claims         workers' claims and leases, release of abandoned jobs, drafted / failed
    patients       the patient index (patient_index.py): import, candidates, search
    reports        validated report versions and their filing records
    signoffs       the comment thread of a returned report, the author's signature
    keeping        exports of a patient's records (right of access), what retention deleted
    codes          imported code sets, the codes chosen for a report and kept with each version
    accounts       the review app's users, sessions and failed login attempts
    audit_log      the audit log's rows (the chain's rules are transcribe.security.audit)
    proposals      vocabulary proposals learned from validated reports; a job's audit actions (review time)
    reviews        the secretaries' work (review_work.py): locks, saved review state, refused text, what the worklist reads

No other module runs SQL: they ask these parts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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


class JobStore(Database):
    """Jobs and their history in a SQL database: the database, and one of each part on it.

    ``store.jobs.get(job_id)``, ``store.claims.claim_next(...)``, ``store.reports.report(job_id)``:
    a caller names the part it needs, so that what a module touches is visible where it is used.
    """

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(url, clock=clock)
        self.jobs = Jobs(self)
        self.claims = Claims(self)
        self.patients = PatientIndex(self)
        self.reports = ValidatedReports(self)
        self.signoffs = Signoffs(self)
        self.keeping = Keeping(self)
        self.codes = CodeStore(self)
        self.reviews = ReviewWork(self)
        self.proposals = Proposals(self)
        self.audit_log = AuditLog(self)
        self.accounts = AccountTables(self)


def open_store(url: str) -> JobStore:
    """Open the store at this URL and bring its schema up to date."""
    store = JobStore(url)
    store.migrate()
    return store
