"""The secretaries' worklist: the reports to review, with what she needs to choose the next one.

Each row names the patient she chose (her saved work), else the one proposed with the
dictation, and what the dictation itself says of its patient (its sidecar, its file name, its
opening) and its file name; who holds the report and who last worked on it; the points still to
check; the thread of a returned report. The filters, the search (patient names in any order,
identifier, the file name and the identity it carries, words of the text) and the sort are
applied here; the review app only shows the rows, in the reader's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from transcribe.documents.worktypes import label_of
from transcribe.errors import ReviewError
from transcribe.patient_record.patients import PatientRecord, name_key
from transcribe.patient_record.validation import draft_text
from transcribe.records import DictatedIdentity, Job, JobState
from transcribe.settings import AuthorSettings, Settings
from transcribe.store import JobStore
from transcribe.store.signoffs import Comment
from transcribe.work.review_state import WorkState

SORTS = ("urgency", "patient", "file", "author", "dictated", "due", "duration", "worktype", "flags", "holder", "state")
#: the states a "mine" view looks in, unless a state is chosen
WORKED_ON = (JobState.DRAFTED, JobState.RETURNED, JobState.VALIDATED, JobState.FILED)


@dataclass(frozen=True)
class WorklistQuery:
    """What the secretary asked to see."""

    states: tuple[JobState, ...] = (JobState.DRAFTED,)
    author: str | None = None
    worktype: str | None = None
    language: str | None = None
    #: words that each match the start of a patient's name, the identifier, or a word of the text
    search: str = ""
    #: a user id: only the reports this user holds or last worked on
    mine: int | None = None
    sort: str = "urgency"
    descending: bool = False


@dataclass(frozen=True)
class WorklistRow:
    """One report of the worklist."""

    job: Job
    patient_id: str | None
    patient: PatientRecord | None
    #: True when the patient is the secretary's choice, False when it is the one proposed
    chosen: bool
    holder: str | None
    last_worked_by: str | None
    overdue: bool
    comments: list[Comment] = field(default_factory=list)
    #: what the dictation itself says of its patient (sidecar, file name, dictated opening), if anything
    carried: DictatedIdentity | None = None
    #: the points to check not ticked yet (none once validated)
    open_flags: int = 0


@dataclass(frozen=True)
class _Work:
    state: WorkState
    saved_by: str | None


def author_name(settings: Settings, author: str) -> str:
    """An author as the site names him (``authors.<name>.name``), else his inbox folder's name."""
    return settings.authors.get(author, AuthorSettings()).name or author


def worklist(
    settings: Settings, store: JobStore, query: WorklistQuery, *, today: date, language: str = "en", limit: int = 500
) -> list[WorklistRow]:
    """The reports matching the query, in the order asked (urgent first, then by due date and age by default)."""
    if query.mine is not None:
        jobs = [
            job
            for job in store.reviews.worked_on(query.mine, limit)
            if job.state in query.states
            and (not query.author or job.author == query.author)
            and (not query.worktype or job.worktype == query.worktype)
            and (not query.language or job.language == query.language)
        ]
    else:
        jobs = store.jobs.review_queue(
            states=query.states, author=query.author, worktype=query.worktype, language=query.language, limit=limit
        )
    ids = [job.id for job in jobs]
    work = _saved_work(store, ids)
    holders = store.reviews.lock_holders(ids)
    validators = store.reviews.validators(ids)
    chosen = {job.id: (work[job.id].state.patient_id if job.id in work else None) for job in jobs}
    patients = store.patients.patients_by_id({pid for job in jobs if (pid := chosen[job.id] or job.patient_id)})
    threads = store.signoffs.comments(ids)
    rows = []
    for job in jobs:
        patient_id = chosen[job.id] or job.patient_id
        saved = work.get(job.id)
        validated = job.state in (JobState.VALIDATED, JobState.FILED)  # the report's patient, not a proposal
        resolved = len(saved.state.resolved) if saved else 0
        rows.append(
            WorklistRow(
                job=job,
                patient_id=patient_id,
                patient=patients.get(patient_id) if patient_id else None,
                chosen=chosen[job.id] is not None or (validated and patient_id is not None),
                holder=holders.get(job.id),
                last_worked_by=validators.get(job.id) or (saved.saved_by if saved else None),
                overdue=bool(job.due_date)
                and job.state is not JobState.FILED
                and str(job.due_date) < today.isoformat(),
                comments=threads.get(job.id, []),
                carried=carried_identity(job),
                open_flags=0 if validated else max(0, (job.flag_count or 0) - resolved),
            )
        )
    if query.search.strip():
        rows = [r for r in rows if _matches(settings, store, r, work.get(r.job.id), query.search)]
    return _sorted(settings, rows, query, language)


def carried_identity(job: Job) -> DictatedIdentity | None:
    """What a dictation says of its patient: its sidecar's or file name's identity, else its dictated opening's."""
    for identity in job.identity.sources if job.identity else ():
        if identity.family_name or identity.given_names or identity.patient_id:
            return identity
    return None


def _saved_work(store: JobStore, ids: list[int]) -> dict[int, _Work]:
    """The secretaries' saved work on these reports, and who saved it last."""
    return {
        job_id: _Work(WorkState.from_json(saved.state), saved.saved_by)
        for job_id, saved in store.reviews.saved_work(ids).items()
    }


def _matches(settings: Settings, store: JobStore, row: WorklistRow, work: _Work | None, search: str) -> bool:
    """Whether every word of the search starts a name of the patient, his identifier, a word of the file name
    or of the identity the dictation carries, or a word of the text."""
    names = name_key(f"{row.patient.family_name} {row.patient.given_names}").split() if row.patient else []
    carried = row.carried
    if carried is not None:
        names += name_key(f"{carried.family_name or ''} {carried.given_names or ''}").split()
    names += name_key(re.sub(r"[_.]+", " ", row.job.original_name)).split()
    whole_name = name_key(row.job.original_name)
    identifier = (row.patient_id or (carried.patient_id if carried else None) or "").lower()
    text_words: list[str] | None = None
    for word in search.split()[:8]:
        if identifier and identifier.startswith(word.lower()):
            continue
        if len(word) > 3 and name_key(word) in whole_name:  # a piece of the file name as typed
            continue
        keys = name_key(word).split()
        if keys and all(any(n.startswith(k) for n in names) for k in keys):
            continue
        if text_words is None:
            text_words = name_key(_text_of(settings, store, row.job, work)).split()
        if keys and all(any(w.startswith(k) for w in text_words) for k in keys):
            continue
        return False
    return True


def _text_of(settings: Settings, store: JobStore, job: Job, work: _Work | None) -> str:
    """The report's text as it stands: validated, as typed by the secretary, or the draft."""
    if job.state in (JobState.VALIDATED, JobState.FILED):
        report = store.reports.report(job.id)
        if report:
            return str(report.text)
    if work and work.state.blocks is not None:
        return "\n".join(f"{b.heading} {b.text}" for b in work.state.blocks)
    try:
        return draft_text(settings, store, job)
    except ReviewError:
        return ""


def _sorted(settings: Settings, rows: list[WorklistRow], query: WorklistQuery, language: str) -> list[WorklistRow]:
    """The rows in the order asked; rows without a value for the column come last."""
    if query.sort not in SORTS or query.sort == "urgency":
        return list(reversed(rows)) if query.descending else rows

    def value(row: WorklistRow) -> str | float | int | None:
        job = row.job
        return {
            "patient": name_key(row.patient.display_name) if row.patient else None,
            "file": job.original_name.lower(),
            "author": name_key(author_name(settings, job.author)),
            "dictated": job.created_at.timestamp(),
            "due": job.due_date or None,
            "duration": job.duration_s,
            "worktype": name_key(label_of(job.worktype, language)) if job.worktype else None,
            "flags": row.open_flags,
            "holder": row.holder,
            "state": job.state.value,
        }[query.sort]

    keyed = [(value(r), r) for r in rows]
    present = [(v, r) for v, r in keyed if v is not None]
    present.sort(key=lambda pair: pair[0], reverse=query.descending)
    return [r for _, r in present] + [r for v, r in keyed if v is None]
