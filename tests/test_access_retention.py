"""The patient's right of access (``transcribe patients export``) and retention (``transcribe retention``), typed as
the README says on a fresh site: two DUPONT of one family, each export holds only its own patient's reports."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import sqlalchemy as sa

from transcribe.patient_record.filing import file_report
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.validation import validate_report
from transcribe.security.audit import AuditTrail
from transcribe.store import open_store
from transcribe.store.schema import filings

from .conftest import dictation, make_settings
from .recorded import draft_recorded

# a family pair: father and son, same names, same address (invented)
FAMILY_CSV = "id,family_name,given_names,birth_date,sex\n100001,Dupont,Jean,1950-03-12,M\n100002,Dupont,Jean,1979-08-01,M\n"


def transcribe(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
    return subprocess.run([sys.executable, "-m", "transcribe", *args], cwd=site, env=clean, capture_output=True,
                          text=True, timeout=300)


def _family_site(site: Path, text_layer, values: dict | None = None):
    settings = make_settings(site, {"authors.dr-martin.name": "Dr Anne Martin", **(values or {})})
    store = open_store(settings.store_url)
    store.patients.import_patients(parse_patient_csv(FAMILY_CSV)[0])
    jobs = {}
    for clip, patient in (("fr-mg-001", "100001"), ("fr-cardio-01", "100002")):
        job = draft_recorded(settings, store, text_layer, clip, audio=dictation(clip))
        validate_report(settings, store, job.id, validator="s", patient_id=patient, flags_checked=True,
                        confirm_identity=True, text=f"Examen du patient {patient} normal.")
        file_report(settings, store, text_layer.vocabulary, job.id)
        jobs[patient] = store.jobs.get(job.id)
    # the father's report corrected once: version 2, beside version 1
    validate_report(settings, store, jobs["100001"].id, validator="s", text="Examen normal, version corrigée.")
    file_report(settings, store, text_layer.vocabulary, jobs["100001"].id)
    return settings, store, jobs


def test_an_export_holds_every_version_of_its_patient_only_and_is_audited(site: Path, text_layer) -> None:
    settings, store, jobs = _family_site(site, text_layer)
    store.close()
    result = transcribe(site, "patients", "export", "100001", "--audio", "--output", "father.zip")
    assert result.returncode == 0, result.stderr
    assert "4 report file(s), 1 recording(s)" in result.stdout  # two versions, each DOCX and JSON; his audio
    with zipfile.ZipFile(site / "father.zip") as archive:
        names = archive.namelist()
        index = list(csv.reader(io.StringIO(archive.read("index.csv").decode())))
        sidecars = [archive.read(n).decode() for n in names if n.endswith(".json")]
    father, son = jobs["100001"], jobs["100002"]
    assert index[0] == ["date", "author", "worktype", "version", "job", "file"]
    assert {row[3] for row in index[1:] if row[3]} == {"1", "2"} and {row[4] for row in index[1:]} == {str(father.id)}
    assert all(f"_{son.id}." not in n and f"_{son.id}_" not in n for n in names)
    assert f"audio/{father.id}_fr-mg-001.opus" in names and not any("fr-cardio-01" in n for n in names)
    assert sidecars and all('"patient_id": "100001"' in s and "100002" not in s for s in sidecars)
    assert (site / "father.zip").read_bytes()[:2] == b"PK"
    store = open_store(settings.store_url)
    trail = AuditTrail.of_site(store, settings)
    actions = [e.action for e in trail.entries()]
    assert "export-requested" in actions and "patient-exported" in actions
    (export,) = store.keeping.exports_of("100001")
    assert export.with_audio and export.sha256 and export.reports and export.exported_at
    store.close()
    # an unknown patient: a clear message, nothing written; an existing file is never replaced
    unknown = transcribe(site, "patients", "export", "999999")
    assert unknown.returncode == 1 and "no patient 999999" in unknown.stderr
    again = transcribe(site, "patients", "export", "100001", "--output", "father.zip")
    assert again.returncode == 2 and "exists already" in again.stderr


def test_retention_deletes_what_is_due_and_keeps_what_it_deleted(site: Path, text_layer) -> None:
    settings, store, jobs = _family_site(site, text_layer, {"retention.audio_days": 30})
    father = jobs["100001"]
    assert Path(father.audio_path).is_file()
    assert "nothing is due" in transcribe(site, "retention", "--dry-run").stdout  # filed today: due in 30 days
    with store.transaction() as conn:  # 31 days pass for the father's report
        conn.execute(filings.update().where(filings.c.job_id == father.id).values(filed_at=sa.text("filed_at - 31*86400")))
    store.close()
    listed = transcribe(site, "retention", "--dry-run")
    assert listed.returncode == 0 and f"job {father.id}: audio due" in listed.stdout, listed.stdout
    assert Path(father.audio_path).is_file()  # a dry run deletes nothing
    applied = transcribe(site, "retention")
    assert applied.returncode == 0 and "1 deletion(s) applied" in applied.stdout, applied.stderr
    assert not Path(father.audio_path).exists() and Path(jobs["100002"].audio_path).is_file()
    store = open_store(settings.store_url)
    (removal,) = store.keeping.removals(father.id)
    assert removal.sha256 == father.audio_sha256 and removal.kind == "audio" and removal.removed_by.startswith("cli:")
    assert removal.filed_at < removal.due_at <= removal.removed_at
    filed = store.reports.filing(father.id, 2)
    assert Path(filed.docx_path).is_file()  # filed reports are never deleted
    assert "retention-audio" in [e.action for e in AuditTrail.of_site(store, settings).entries()]
    store.close()
    assert "nothing is due" in transcribe(site, "retention").stdout  # done once
    export = transcribe(site, "patients", "export", "100001", "--audio", "--output", "after.zip")
    with zipfile.ZipFile(site / "after.zip") as archive:
        assert "audio deleted on" in archive.read("index.csv").decode()
