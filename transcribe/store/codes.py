"""Coding in the store: the code sets a site imported, the secretary's code choices, the codes of each version.

A code set is kept whole with its version (the date it applies from); importing the same system and
version again replaces it. The choices on a report in review are one row per code (accepted or
rejected); when the report is validated, the accepted ones are copied onto the version
(``keep_chosen_codes``, in the validation's own transaction), and stay with it whatever is chosen later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from transcribe.coding.records import ACCEPTED, ACT, SYSTEMS, ChosenCode, CodeDecision, CodeSetInfo
from transcribe.errors import StoreError
from transcribe.store.database import StorePart
from transcribe.store.schema import code_choices, code_entries, code_sets, filings, jobs, report_codes, reports

#: the systems whose codes are billed acts
ACT_SYSTEMS = tuple(s.name for s in SYSTEMS.values() if s.kind == ACT)


@dataclass(frozen=True)
class BilledReport:
    """A validated report's newest version with its act codes: a row of the billing export."""

    job_id: int
    version: int
    patient_id: str
    day: date
    author: str
    acts: tuple[str, ...]
    filed: bool


class CodeStore(StorePart):
    """Imported code sets and the codes chosen for reports."""

    # --- code sets ----------------------------------------------------------------
    def import_code_set(
        self, system: str, version: str, *, source: str, file_kind: str, labels: dict[str, str], by: str
    ) -> CodeSetInfo:
        """Keep a code set (the same system and version imported again is replaced)."""
        now = self._db.now()
        with self._db.transaction() as conn:
            old = conn.scalar(
                sa.select(code_sets.c.id).where(code_sets.c.system == system, code_sets.c.version == version)
            )
            if old is not None:
                conn.execute(code_entries.delete().where(code_entries.c.set_id == old))
                conn.execute(code_sets.delete().where(code_sets.c.id == old))
            set_id = conn.execute(
                code_sets.insert().values(
                    system=system,
                    version=version,
                    source=source,
                    file_kind=file_kind,
                    entries=len(labels),
                    imported_at=now,
                    imported_by=by,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            rows = [{"set_id": set_id, "code": code, "label": label} for code, label in labels.items()]
            for start in range(0, len(rows), 5000):
                conn.execute(code_entries.insert(), rows[start : start + 5000])
        return CodeSetInfo(int(set_id), system, version, source, file_kind, len(labels), now, by)

    def code_sets(self) -> list[CodeSetInfo]:
        """Every imported code set, newest version of each system first."""
        with self._db.reading() as conn:
            rows = conn.execute(sa.select(code_sets).order_by(code_sets.c.system, code_sets.c.version.desc()))
            return [
                CodeSetInfo(r.id, r.system, r.version, r.source, r.file_kind, r.entries, r.imported_at, r.imported_by)
                for r in rows
            ]

    def newest_code_sets(self) -> dict[str, CodeSetInfo]:
        """The newest imported version of each system."""
        newest: dict[str, CodeSetInfo] = {}
        for info in self.code_sets():
            newest.setdefault(info.system, info)
        return newest

    def code_labels(self, set_id: int) -> dict[str, str]:
        """The codes of an imported set and their labels."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(code_entries.c.code, code_entries.c.label).where(code_entries.c.set_id == set_id)
            )
            return {r.code: r.label for r in rows}

    # --- choices on a report in review --------------------------------------------
    def decide_code(
        self,
        job_id: int,
        *,
        system: str,
        code: str,
        label: str,
        decision: str,
        origin: str,
        evidence: tuple[str, ...],
        by: str,
    ) -> None:
        """Accept or reject a code for a report (a second decision on the same code replaces the first)."""
        now = self._db.now()
        with self._db.transaction() as conn:
            if conn.scalar(sa.select(jobs.c.id).where(jobs.c.id == job_id)) is None:
                raise StoreError(f"no job {job_id}")
            key = (code_choices.c.job_id == job_id, code_choices.c.system == system, code_choices.c.code == code)
            conn.execute(code_choices.delete().where(*key))
            conn.execute(
                code_choices.insert().values(
                    job_id=job_id,
                    system=system,
                    code=code,
                    label=label,
                    decision=decision,
                    origin=origin,
                    evidence_json=json.dumps(list(evidence), ensure_ascii=False),
                    decided_by=by,
                    decided_at=now,
                )
            )

    def forget_code(self, job_id: int, *, system: str, code: str) -> None:
        """Take back a decision on a code: it is a suggestion again (or, added by hand, gone)."""
        with self._db.transaction() as conn:
            conn.execute(
                code_choices.delete().where(
                    code_choices.c.job_id == job_id, code_choices.c.system == system, code_choices.c.code == code
                )
            )

    def code_decisions(self, job_id: int) -> list[CodeDecision]:
        """The decisions taken on a report's codes, in the order they were taken."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(code_choices).where(code_choices.c.job_id == job_id).order_by(code_choices.c.decided_at)
            )
            return [
                CodeDecision(
                    r.system,
                    r.code,
                    r.label,
                    r.decision,
                    r.origin,
                    tuple(json.loads(r.evidence_json)),
                    r.decided_by,
                    r.decided_at,
                )
                for r in rows
            ]

    # --- codes of validated versions ----------------------------------------------
    def report_codes(self, job_id: int, version: int) -> list[ChosenCode]:
        """The codes kept with a validated version (diagnoses first)."""
        with self._db.reading() as conn:
            return codes_of_version(conn, job_id, version)

    def billed_reports(self, since: date) -> list[BilledReport]:
        """The newest validated version of each report dictated on or after a day, with its act codes."""
        start = datetime.combine(since, datetime.min.time()).astimezone().timestamp()
        newest = (
            sa.select(reports.c.job_id, sa.func.max(reports.c.version).label("version"))
            .group_by(reports.c.job_id)
            .subquery()
        )
        query = (
            sa.select(reports.c.job_id, reports.c.version, reports.c.patient_id, jobs.c.created_at, jobs.c.author)
            .join(newest, sa.and_(newest.c.job_id == reports.c.job_id, newest.c.version == reports.c.version))
            .join(jobs, jobs.c.id == reports.c.job_id)
            .where(jobs.c.created_at >= start)
            .order_by(jobs.c.created_at, reports.c.job_id)
        )
        with self._db.reading() as conn:
            found = []
            for r in conn.execute(query).all():
                acts = conn.scalars(
                    sa.select(report_codes.c.code)
                    .where(report_codes.c.job_id == r.job_id, report_codes.c.version == r.version)
                    .order_by(report_codes.c.code)
                    .where(report_codes.c.system.in_(ACT_SYSTEMS))
                ).all()
                filed = conn.scalar(
                    sa.select(filings.c.id).where(filings.c.job_id == r.job_id, filings.c.version == r.version)
                )
                day = datetime.fromtimestamp(r.created_at, UTC).astimezone().date()
                found.append(
                    BilledReport(r.job_id, r.version, r.patient_id, day, r.author, tuple(acts), filed is not None)
                )
        return found


def codes_of_version(conn: Connection, job_id: int, version: int) -> list[ChosenCode]:
    """The codes kept with a validated version, diagnoses first."""
    rows = conn.execute(
        sa.select(report_codes).where(report_codes.c.job_id == job_id, report_codes.c.version == version)
    )
    found = [
        ChosenCode(r.system, r.code, r.label, r.origin, tuple(json.loads(r.evidence_json)), r.chosen_by) for r in rows
    ]
    return sorted(found, key=lambda c: (c.kind == ACT, c.system, c.code))


def keep_chosen_codes(conn: Connection, job_id: int, version: int) -> int:
    """Copy a report's accepted codes onto a validated version, in the validation's transaction; how many."""
    rows = conn.execute(
        sa.select(code_choices).where(code_choices.c.job_id == job_id, code_choices.c.decision == ACCEPTED)
    ).all()
    for r in rows:
        conn.execute(
            report_codes.insert().values(
                job_id=job_id,
                version=version,
                system=r.system,
                code=r.code,
                label=r.label,
                origin=r.origin,
                evidence_json=r.evidence_json,
                chosen_by=r.decided_by,
            )
        )
    return len(rows)
