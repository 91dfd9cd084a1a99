"""The vocabulary proposals learned from validated reports, and what the figures read of the audit log.

Rows in ``proposals``: one per change (kind, language, author, target), its wrong forms and count
refreshed while it is open, decided once by an admin (accepted or rejected, by whom, when), with the
effect its replay measured. Proposals are handed out as frozen ``Proposal`` records, their wrong forms
and effect read back from the JSON columns.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from transcribe.records import Proposal, ProposalDraft, ProposalEffect
from transcribe.store.database import StorePart
from transcribe.store.schema import audit_log, patients, proposals

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


class Proposals(StorePart):
    """Vocabulary proposals, and the audit log's actions on a job (review time)."""

    def keep_proposals(self, drafts: Iterable[ProposalDraft]) -> int:
        """Add the new proposals, refresh the open ones (their wrong forms and count), leave decided ones as
        they are. Returns how many are open."""
        now = time.time()
        with self._db.transaction() as conn:
            for draft in drafts:
                existing = conn.execute(
                    sa.select(proposals.c.id, proposals.c.status).where(
                        proposals.c.kind == draft.kind,
                        proposals.c.language == draft.language,
                        proposals.c.author == draft.author,
                        proposals.c.target == draft.target,
                    )
                ).first()
                values = {"wrong_forms_json": json.dumps(draft.wrong_forms, ensure_ascii=False), "count": draft.count}
                if existing is None:
                    conn.execute(
                        proposals.insert().values(
                            kind=draft.kind,
                            language=draft.language,
                            author=draft.author,
                            target=draft.target,
                            status="open",
                            created_at=now,
                            **values,
                        )
                    )
                elif existing.status == "open":
                    conn.execute(proposals.update().where(proposals.c.id == existing.id).values(**values))
            return conn.scalar(sa.select(sa.func.count()).where(proposals.c.status == "open")) or 0

    def proposals(self, status: str | None = "open") -> list[Proposal]:
        """The proposals (with this status; every one for None), most frequent first."""
        query = sa.select(proposals).order_by(proposals.c.count.desc(), proposals.c.id)
        if status:
            query = query.where(proposals.c.status == status)
        with self._db.reading() as conn:
            return [_proposal_of(row) for row in conn.execute(query)]

    def proposal(self, proposal_id: int) -> Proposal | None:
        """One proposal, whatever its state; None when there is none with this number."""
        with self._db.reading() as conn:
            row = conn.execute(sa.select(proposals).where(proposals.c.id == proposal_id)).first()
        return _proposal_of(row) if row is not None else None

    def keep_proposal_effect(self, proposal_id: int, effect: ProposalEffect) -> None:
        """What replaying the proposal on its author's past dictations changed."""
        with self._db.transaction() as conn:
            conn.execute(
                proposals.update()
                .where(proposals.c.id == proposal_id)
                .values(effect_json=json.dumps(dataclasses.asdict(effect)))
            )

    def decide_proposal(
        self, proposal_id: int, *, accept: bool, by: str, audit: AuditWriter | None = None, detail: str = ""
    ) -> None:
        """Record an admin's decision (``audit``: its entry, in the same transaction, with ``detail``)."""
        with self._db.transaction() as conn:
            conn.execute(
                proposals.update()
                .where(proposals.c.id == proposal_id)
                .values(status="accepted" if accept else "rejected", decided_by=by, decided_at=time.time())
            )
            if audit is not None:
                action = "proposal-accepted" if accept else "proposal-rejected"
                audit.record_in(conn, action, None, detail or f"proposal {proposal_id}")

    def patient_names(self) -> list[tuple[str | None, str | None]]:
        """Every (family name, given names) of the patient index."""
        with self._db.reading() as conn:
            return [
                (row.family_name, row.given_names)
                for row in conn.execute(sa.select(patients.c.family_name, patients.c.given_names))
            ]

    def job_actions(self, job_id: int) -> list[tuple[str, float]]:
        """The audit log's actions on one job, in order, with their times."""
        with self._db.reading() as conn:
            rows = conn.execute(
                sa.select(audit_log.c.action, audit_log.c.at)
                .where(audit_log.c.job_id == job_id)
                .order_by(audit_log.c.id)
            ).all()
        return [(row.action, row.at) for row in rows]


def _proposal_of(row: Any) -> Proposal:
    effect = json.loads(row.effect_json) if row.effect_json else None
    return Proposal(
        id=row.id,
        kind=row.kind,
        language=row.language,
        author=row.author,
        target=row.target,
        wrong_forms=tuple((str(form), int(n)) for form, n in json.loads(row.wrong_forms_json)),
        count=row.count,
        status=row.status,
        created_at=row.created_at,
        effect=ProposalEffect(**effect) if effect else None,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )
