"""The patient index in the job store: imported from the site's patient list, matched and searched.

Names are compared through ``name_key`` (accents and case folded); the family
name's key is kept beside each patient as ``family_key`` so that the database
can compare it with ``LIKE``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ..patients import DictatedIdentity, PatientRecord, name_key
from ..schema import patients
from .database import Database


class PatientIndex(Database):
    """The patients a report can be filed for."""

    def import_patients(self, records: list[PatientRecord]) -> tuple[int, int]:
        """Add or update patients of the index; return (added, updated)."""
        now = self._clock()
        added = updated = 0
        with self.transaction() as conn:
            existing = set(conn.scalars(sa.select(patients.c.patient_id)))
            for record in records:
                values = {
                    "family_name": record.family_name,
                    "given_names": record.given_names,
                    "birth_date": record.birth_date.isoformat() if record.birth_date else None,
                    "sex": record.sex,
                    "family_key": name_key(record.family_name),
                    "imported_at": now,
                }
                if record.patient_id in existing:
                    conn.execute(patients.update().where(patients.c.patient_id == record.patient_id).values(**values))
                    updated += 1
                else:
                    conn.execute(patients.insert().values(patient_id=record.patient_id, **values))
                    existing.add(record.patient_id)
                    added += 1
        return added, updated

    def patient(self, patient_id: str) -> PatientRecord | None:
        """One patient of the index."""
        with self.reading() as conn:
            row = conn.execute(sa.select(patients).where(patients.c.patient_id == patient_id)).first()
        return _patient(row) if row else None

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
        with self.reading() as conn:
            rows = conn.execute(sa.select(patients).where(sa.or_(*conditions)).limit(2000))
            return [_patient(row) for row in rows]

    def search_patients(self, query: str, limit: int = 20) -> list[PatientRecord]:
        """Patients whose id, family name or given names contain the query (accents and case ignored)."""
        key = name_key(query)
        if not key:
            return []
        pattern = f"%{key.split()[0]}%"
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(patients)
                .where(
                    sa.or_(
                        patients.c.family_key.like(pattern),
                        patients.c.patient_id == query.strip(),
                        sa.func.lower(patients.c.given_names).like(f"%{query.strip().lower()}%"),
                    )
                )
                .order_by(patients.c.family_key)
                .limit(limit)
            )
            return [_patient(row) for row in rows]


def _patient(row: Any) -> PatientRecord:
    return PatientRecord(
        row.patient_id,
        row.family_name,
        row.given_names,
        date.fromisoformat(row.birth_date) if row.birth_date else None,
        row.sex or "",
    )
