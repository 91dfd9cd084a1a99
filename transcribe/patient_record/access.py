"""The patient's right of access: one archive with every filed report of a patient, and on request the audio.

The archive holds each version of each report filed for the patient, in each format filed (DOCX,
PDF, the exchange formats, the filing's JSON sidecar), under ``reports/``; an index of them
(``index.csv``: date, author, worktype, version, job, file) and, with ``with_audio``, the
recordings the reports were dictated from, under ``audio/``. Only what was filed for this very
patient goes in: a dictation whose newest version was validated for someone else contributes
neither its audio nor any version that was not filed for this patient. The request and the
export are each kept in the store and the audit trail, with who and when.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe.errors import PatientUnknown
from transcribe.intake.atomic import write_new
from transcribe.records import PatientFiling
from transcribe.settings import Settings
from transcribe.store import JobStore

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor


@dataclass(frozen=True)
class PatientExport:
    """An archive written for a patient: where, what it holds, its sha256."""

    path: Path
    reports: int
    recordings: int
    sha256: str
    missing: tuple[str, ...] = ()


def export_patient(
    settings: Settings,
    store: JobStore,
    patient_id: str,
    *,
    requested_by: str,
    with_audio: bool = False,
    output: Path | None = None,
    audit: Auditor | None = None,
) -> PatientExport:
    """Write the archive of a patient's filed reports (and recordings); the request and the export audited.

    ``output``: where (default ``data/exports/patient-<id>-<UTC time>.zip``); an existing file is never
    replaced. A filed file that is missing from the outbox is named in the index and in ``missing``.
    """
    patient = store.patients.patient(patient_id)
    if patient is None:
        raise PatientUnknown(
            f"no patient {patient_id} in the index: nothing was exported; check the identifier "
            "('transcribe patients find NAME')"
        )
    export_id = store.keeping.record_export_request(patient_id, requested_by, with_audio=with_audio, audit=audit)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = output or settings.paths.data / "exports" / f"patient-{patient_id}-{stamp}.zip"
    removed_audio = {r.job_id: r.removed_at for r in store.keeping.removals() if r.kind == "audio"}
    rows: list[list[str]] = []
    missing: list[str] = []
    files = recordings = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        audio_jobs: dict[int, PatientFiling] = {}
        for filing in store.reports.filings_of_patient(patient_id):
            day = datetime.fromtimestamp(filing.validated_at, UTC).astimezone().date().isoformat()
            paths = [filing.filing.docx_path, filing.filing.pdf_path, filing.filing.sidecar_path]
            paths += [f["path"] for f in filing.filing.formats.values() if "path" in f]
            for name in dict.fromkeys(p for p in paths if p):
                path = Path(name)
                entry = f"reports/{path.name}"
                row = [
                    day,
                    filing.author,
                    filing.worktype,
                    str(filing.filing.version),
                    str(filing.filing.job_id),
                    entry,
                ]
                if path.is_file():
                    archive.writestr(entry, path.read_bytes())
                    files += 1
                else:
                    row[-1] = f"{entry} (missing from the outbox)"
                    missing.append(path.name)
                rows.append(row)
            audio_jobs[filing.filing.job_id] = filing
        if with_audio:
            for job_id, filing in audio_jobs.items():
                job = store.jobs.get(job_id)
                if job.patient_id != patient_id:  # validated since for another patient: his, not this one's
                    continue
                audio = Path(str(filing.audio_path))
                entry = f"audio/{job_id}_{Path(str(filing.original_name)).name}"
                if audio.is_file():
                    archive.writestr(entry, audio.read_bytes())
                    recordings += 1
                    rows.append(["", job.author, job.worktype or "", "", str(job_id), entry])
                elif job_id in removed_audio:
                    when = datetime.fromtimestamp(removed_audio[job_id], UTC).astimezone().date().isoformat()
                    rows.append(
                        ["", job.author, job.worktype or "", "", str(job_id), f"audio deleted on {when} (retention)"]
                    )
        index = io.StringIO()
        writer = csv.writer(index)
        writer.writerow(["date", "author", "worktype", "version", "job", "file"])
        writer.writerows(rows)
        archive.writestr("index.csv", index.getvalue())
        archive.writestr(
            "README.txt",
            f"Filed reports of patient {patient_id}, every version and every format filed (reports/), "
            f"{'with' if with_audio else 'without'} the dictations' recordings (audio/); index.csv lists them.\r\n"
            f"Export {export_id}, written {datetime.now(UTC).isoformat(timespec='seconds')} for {requested_by}.\r\n",
        )
    data = buffer.getvalue()
    write_new(target, data)
    digest = hashlib.sha256(data).hexdigest()
    store.keeping.record_export_done(export_id, reports=files, recordings=recordings, sha256=digest, audit=audit)
    return PatientExport(target, files, recordings, digest, tuple(missing))
