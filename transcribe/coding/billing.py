"""The billing export: the act codes of validated reports, one row per report, as CSV.

Columns: patient identifier, family name, given names, the day the report was dictated (the day of the
consultation or of the act), the act codes (separated by a space), the author, the job and its version,
and whether that version is filed. Only reports with at least one act code have a row. Pure: records in,
text out; the command writes it where it is told.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transcribe.patient_record.patients import PatientRecord
    from transcribe.store.codes import BilledReport

COLUMNS = ("patient_id", "family_name", "given_names", "date", "act_codes", "author", "job", "version", "filed")


def billing_csv(rows: Sequence[BilledReport], patients: Mapping[str, PatientRecord | None]) -> tuple[str, int]:
    """The CSV text of the billing export, and how many reports it holds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        if not row.acts:
            continue
        patient = patients.get(row.patient_id)
        writer.writerow(
            (
                row.patient_id,
                patient.family_name if patient else "",
                patient.given_names if patient else "",
                row.day.isoformat(),
                " ".join(row.acts),
                row.author,
                row.job_id,
                row.version,
                "yes" if row.filed else "no",
            )
        )
        count += 1
    return out.getvalue(), count
