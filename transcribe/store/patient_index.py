"""The patient index in the job store: imported from the site's patient list, matched and searched.

Names are compared through ``name_key`` (accents and case folded); the family
name's key is kept beside each patient as ``family_key``, and every name as
``names_key`` (" dupont jean "), so that the database can compare them with
``LIKE``: a search matches each of its words to the start of one of the names,
in any order, or to the start of the identifier.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from transcribe.patient_record.patients import PatientRecord, name_key, names_key
from transcribe.records import DictatedIdentity
from transcribe.store.database import StorePart
from transcribe.store.schema import patients

if TYPE_CHECKING:
    from transcribe.store.database import AuditWriter


class PatientIndex(StorePart):
    """The patients a report can be filed for."""

    def import_patients(self, records: list[PatientRecord], *, audit: AuditWriter | None = None) -> tuple[int, int]:
        """Add or update patients of the index; return (added, updated). ``audit``: the entry, in the same transaction."""
        now = self._db.now()
        added = updated = 0
        with self._db.transaction() as conn:
            existing = set(conn.scalars(sa.select(patients.c.patient_id)))
            for record in records:
                values = {
                    "family_name": record.family_name,
                    "given_names": record.given_names,
                    "birth_date": record.birth_date.isoformat() if record.birth_date else None,
                    "sex": record.sex,
                    "family_key": name_key(record.family_name),
                    "names_key": names_key(record.family_name, record.given_names),
                    "imported_at": now,
                    "gp": record.gp or None,
                    "ins": record.ins or None,
                    "ins_oid": record.ins_oid or None,
                    "birth_name": record.birth_name or None,
                    "birth_place": record.birth_place or None,
                }
                if record.patient_id in existing:
                    conn.execute(patients.update().where(patients.c.patient_id == record.patient_id).values(**values))
                    updated += 1
                else:
                    conn.execute(patients.insert().values(patient_id=record.patient_id, **values))
                    existing.add(record.patient_id)
                    added += 1
            if audit is not None:
                audit.record_in(conn, "patients-imported", None, f"{added} added, {updated} updated")
        return added, updated

    def patient(self, patient_id: str) -> PatientRecord | None:
        """One patient of the index."""
        with self._db.reading() as conn:
            row = conn.execute(sa.select(patients).where(patients.c.patient_id == patient_id)).first()
        return _patient(row) if row else None

    def patients_by_id(self, patient_ids: set[str]) -> dict[str, PatientRecord]:
        """These patients of the index, by identifier (those not in the index are left out)."""
        if not patient_ids:
            return {}
        with self._db.reading() as conn:
            rows = conn.execute(sa.select(patients).where(patients.c.patient_id.in_(sorted(patient_ids))))
            return {row.patient_id: _patient(row) for row in rows}

    def patient_candidates(self, identity: DictatedIdentity) -> list[PatientRecord]:
        """The patients worth comparing with an identity: same id, same birth date, or a close family name."""
        conditions = []
        if identity.patient_id:
            conditions.append(sa.func.lower(patients.c.patient_id) == identity.patient_id.lower())
        if identity.birth_date:
            conditions.append(patients.c.birth_date == identity.birth_date.isoformat())
        for name in (identity.family_name, identity.given_names):
            key = name_key(name or "")
            for part in key.split():
                if len(part) >= 3:
                    conditions.append(patients.c.family_key.like(part[:3] + "%"))
        if not conditions:
            return []
        with self._db.reading() as conn:
            rows = conn.execute(sa.select(patients).where(sa.or_(*conditions)).limit(2000))
            return [_patient(row) for row in rows]

    def search_patients(self, query: str, limit: int = 20) -> list[PatientRecord]:
        """Patients matching a search: each word starts one of their names (any order) or their identifier."""
        return self.browse_patients(query, limit=limit)[0] if query.strip() else []

    def browse_patients(self, query: str = "", *, offset: int = 0, limit: int = 50) -> tuple[list[PatientRecord], int]:
        """A page of the index, by family name, matching a search (the whole index when it is empty); and the total."""
        condition = _search_condition(query)
        with self._db.reading() as conn:
            total = conn.scalar(sa.select(sa.func.count()).select_from(patients).where(condition)) or 0
            rows = conn.execute(
                sa.select(patients)
                .where(condition)
                .order_by(patients.c.family_key, patients.c.given_names, patients.c.patient_id)
                .offset(max(0, offset))
                .limit(limit)
            )
            return [_patient(row) for row in rows], total


def _search_condition(query: str) -> Any:
    """Each word of the query starts the identifier or, accents and case ignored, one of the names."""
    words = query.split()[:8]
    if not words:
        return sa.true()
    conditions = []
    for word in words:
        names = name_key(word).split()
        by_name = [patients.c.names_key.like(f"% {_escaped(n)}%", escape="\\") for n in names]
        by_id = sa.func.lower(patients.c.patient_id).like(_escaped(word.lower()) + "%", escape="\\")
        conditions.append(sa.or_(by_id, sa.and_(*by_name)) if by_name else by_id)
    return sa.and_(*conditions)


def _escaped(text: str) -> str:
    """Text for a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _patient(row: Any) -> PatientRecord:
    return PatientRecord(
        row.patient_id,
        row.family_name,
        row.given_names,
        date.fromisoformat(row.birth_date) if row.birth_date else None,
        row.sex or "",
        row.gp or "",
        row.ins or "",
        row.ins_oid or "",
        row.birth_name or "",
        row.birth_place or "",
    )
