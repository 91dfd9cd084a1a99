"""From the inbox to a filed report in the right patient folder: validation, identity checks, safe filing."""

from __future__ import annotations

import errno
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from docx import Document

from transcribe.errors import FilingError, IdentityMismatch, ReviewError
from transcribe.intake.inbox import Intake
from transcribe.patient_record.filing import OUTBOX_MARKER, _place, file_report, mark_outbox, outbox_problem
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.validation import validate_report
from transcribe.records import JobState
from transcribe.settings import Settings
from transcribe.store import JobStore, open_store
from transcribe.worker import Worker

from .conftest import copy_into, dictation, make_settings

# invented patients only
PATIENTS_CSV = """id,family_name,given_names,birth_date,sex
100001,Dupont,Jean,1950-03-12,M
100002,Dupont,Jean,1972-08-01,M
100003,Durand,Marie-Claire,1962-04-03,F
"""


@pytest.fixture
def site_store(site: Path):
    settings = make_settings(site, {"practice.name": "Cabinet du Parc", "practice.city": "Lyon",
                                    "authors.dr-martin.name": "Dr Anne Martin"})
    store = open_store(settings.store_url)
    store.patients.import_patients(parse_patient_csv(PATIENTS_CSV)[0])
    yield settings, store
    store.close()


def _dictate(settings: Settings, store: JobStore, recognizer, text_layer, sidecar: dict | None,
             clip: str = "fr-mg-001", name: str = "consultation.opus"):
    folder = settings.paths.inbox / "dr-martin"
    path = copy_into(dictation(clip), folder, name)
    if sidecar is not None:
        path.with_suffix(".json").write_text(json.dumps(sidecar))
    job = Intake(settings, store).take(path)
    assert job is not None
    Worker(settings, store, recognizer, text_layer).run_next()
    return store.jobs.get(job.id)


def test_a_dictation_becomes_a_filed_report_in_its_patient_folder(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer,
                   {"patient": {"id": "100001"}, "worktype": "consultation", "copies": ["Dr Leroy"]})
    assert job.state is JobState.DRAFTED and job.patient_id == "100001" and job.worktype == "consultation"
    assert (settings.paths.archive / job.audio_sha256[:2] / f"{job.audio_sha256}.json").exists()  # sidecar kept
    with pytest.raises(FilingError, match="only a validated report is filed"):
        file_report(settings, store, text_layer.vocabulary, job.id)
    job = validate_report(settings, store, job.id, validator="secretary-anne", flags_checked=True)
    assert job.state is JobState.VALIDATED
    filed = file_report(settings, store, text_layer.vocabulary, job.id)
    expected = settings.paths.outbox / "100001_DUPONT" / f"{job.created_at.astimezone().date()}_consultation_{job.id}.docx"
    assert filed.docx == expected and expected.is_file()
    document = Document(str(expected))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "DUPONT Jean" in text and "Dr Anne Martin" in text and "Dr Leroy" in text and "BROUILLON" not in text
    draft = store.jobs.results_of(job.id)["text"].read_text(encoding="utf-8")
    assert "65" in draft and all(line in text for line in draft.splitlines() if line)  # the validated words, as heard
    sidecar = json.loads(filed.sidecar.read_text())
    assert sidecar["patient_id"] == "100001" and sidecar["validator"] == "secretary-anne"
    assert sidecar["audio_sha256"] == job.audio_sha256 and sidecar["vocabulary_version"] and sidecar["model"]
    assert store.jobs.get(job.id).state is JobState.FILED
    # idempotent: filing again does nothing
    again = file_report(settings, store, text_layer.vocabulary, job.id)
    assert again.already_filed and again.docx == expected
    assert len(list(expected.parent.iterdir())) == 2
    # a corrected report becomes version 2 beside version 1, which is never overwritten
    first = expected.read_bytes()
    validate_report(settings, store, job.id, validator="secretary-anne", text="Texte corrigé. Conclusion : RAS.")
    second = file_report(settings, store, text_layer.vocabulary, job.id)
    assert second.version == 2 and second.docx.name.endswith("_v2.docx") and expected.read_bytes() == first
    assert "Texte corrigé." in "\n".join(p.text for p in Document(str(second.docx)).paragraphs)


def test_a_disagreeing_identity_blocks_validation_until_confirmed(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer,
                   {"patient": {"family_name": "Dupont", "given_names": "Jean", "birth_date": "1950-03-12"}})
    # name and birth date rank the right Jean Dupont first; another Dupont exists, so a person chooses
    assert job.patient_id is None
    assert job.identity is not None
    candidates = job.identity.candidates
    assert candidates[0].patient_id == "100001" and candidates[0].name == "DUPONT Jean"
    assert any(e.code == "identity-birth-date-matches" for e in candidates[0].evidence)
    with pytest.raises(IdentityMismatch, match="1950-03-12") as refused:
        validate_report(settings, store, job.id, validator="s", patient_id="100002", flags_checked=True)
    assert "--confirm-identity" not in str(refused.value)  # each door says how to confirm
    with pytest.raises(IdentityMismatch):
        validate_report(settings, store, job.id, validator="s", patient_id="100003", flags_checked=True)
    assert store.jobs.get(job.id).state is JobState.DRAFTED
    confirmed = validate_report(settings, store, job.id, validator="s", patient_id="100002", flags_checked=True,
                                confirm_identity=True)
    assert store.reports.report(confirmed.id).identity_confirmed_by == "s"
    filed = file_report(settings, store, text_layer.vocabulary, job.id)
    assert filed.docx.parent.name == "100002_DUPONT"


def test_a_file_name_naming_another_patient_blocks_validation_despite_the_sidecar(site_store, recognizer,
                                                                                   text_layer) -> None:
    settings, store = site_store
    # the practice software's sidecar says Jean DUPONT; the recorder's file name says Marie-Claire DURAND
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100001"}},
                   name="DURAND_Marie-Claire_1962-04-03.opus")
    with pytest.raises(IdentityMismatch, match="1962-04-03"):
        validate_report(settings, store, job.id, validator="s", patient_id="100001", flags_checked=True)
    assert store.jobs.get(job.id).state is JobState.DRAFTED
    confirmed = validate_report(settings, store, job.id, validator="s", patient_id="100001", flags_checked=True,
                                confirm_identity=True)
    assert store.reports.report(confirmed.id).identity_confirmed_by == "s"


def test_no_patient_no_validation_and_flags_must_be_checked(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer, None)
    assert job.patient_id is None
    with pytest.raises(ReviewError, match="choose the patient"):
        validate_report(settings, store, job.id, validator="s")
    if job.flag_count:
        with pytest.raises(ReviewError, match="flagged"):
            validate_report(settings, store, job.id, validator="s", patient_id="100003")


def test_a_pasted_control_character_is_refused_with_its_place(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100003"}})
    with pytest.raises(ReviewError, match="U\\+000B.*character 9"):
        validate_report(settings, store, job.id, validator="s", text="Patiente\x0b vue ce jour.", flags_checked=True)
    assert store.jobs.get(job.id).state is JobState.DRAFTED


def test_the_filed_document_keeps_every_character_of_the_validated_text(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100003"}})
    text = ("Motif de consultation : œdème, cœur 🫀, e\u0301de\u0300me, 5\u00a0mg, ﬁbrose, İzmir, Straße.\n"
            "Traitement : furosémide 40 mg par jour")
    validate_report(settings, store, job.id, validator="s", text=text, flags_checked=True)
    filed = file_report(settings, store, text_layer.vocabulary, job.id)
    body = "".join(p.text for p in Document(str(filed.docx)).paragraphs)
    for piece in ("œdème, cœur 🫀, e\u0301de\u0300me, 5\u00a0mg, ﬁbrose, İzmir, Straße.", "furosémide 40 mg par jour"):
        assert piece[1:] in body, piece


def test_a_failed_filing_keeps_the_report_validated_and_nothing_half_written(site_store, recognizer, text_layer,
                                                                            monkeypatch) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100003"}})
    validate_report(settings, store, job.id, validator="s", flags_checked=True)

    def disk_full(*_args, **_kwargs):  # the disk fills up just as the finished file is given its name
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("transcribe.intake.atomic.os.link", disk_full)
    with pytest.raises(FilingError, match="disk of the outbox is full"):
        file_report(settings, store, text_layer.vocabulary, job.id)
    monkeypatch.undo()
    waiting = store.jobs.get(job.id)
    assert waiting.state is JobState.VALIDATED and "full" in (waiting.filing_error or "")
    assert [j.id for j in store.reports.waiting_to_be_filed()] == [job.id]
    folder = settings.paths.outbox / "100003_DURAND"
    assert not list(folder.iterdir())  # no half file, no temporary left
    filed = file_report(settings, store, text_layer.vocabulary, job.id)
    assert filed.docx.is_file() and store.jobs.get(job.id).filing_error is None


def test_a_crash_after_placing_the_file_is_recognised_not_duplicated(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100003"}})
    job = validate_report(settings, store, job.id, validator="s", flags_checked=True)
    placed = _place(settings, store, text_layer.vocabulary, job, store.reports.report(job.id), store.patients.patient("100003"))
    before = placed.docx.read_bytes()
    # the process died here: the files are in place, the store does not know
    filed = file_report(settings, store, text_layer.vocabulary, job.id)
    assert filed.docx == placed.docx and placed.docx.read_bytes() == before
    assert sorted(p.name for p in placed.docx.parent.iterdir()) == sorted([placed.docx.name, placed.sidecar.name])


def test_an_outbox_that_cannot_be_written_is_a_clear_error(site_store, recognizer, text_layer) -> None:
    settings, store = site_store
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100001"}})
    validate_report(settings, store, job.id, validator="s", flags_checked=True)
    shutil.rmtree(settings.paths.outbox, ignore_errors=True)
    settings.paths.outbox.write_text("not a folder")
    with pytest.raises(FilingError, match="stays validated"):
        file_report(settings, store, text_layer.vocabulary, job.id)
    settings.paths.outbox.unlink()
    assert file_report(settings, store, text_layer.vocabulary, job.id).docx.is_file()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (apt-get install libreoffice-writer)")
def test_a_pdf_copy_when_enabled(site: Path, recognizer, text_layer) -> None:
    settings = make_settings(site, {"filing.pdf": True})
    store = open_store(settings.store_url)
    store.patients.import_patients(parse_patient_csv(PATIENTS_CSV)[0])
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": "100001"}})
    validate_report(settings, store, job.id, validator="s", flags_checked=True)
    filed = file_report(settings, store, text_layer.vocabulary, job.id)
    assert filed.pdf is not None and filed.pdf.read_bytes().startswith(b"%PDF")
    store.close()


def _run_worker_loop(settings: Settings, store: JobStore, recognizer, text_layer, until, timeout_s: float = 60.0):
    """Run the worker's real loop in a thread until ``until()`` is true or ``timeout_s`` passed; what it raised."""
    stop = threading.Event()
    raised: list[BaseException] = []

    def run() -> None:
        try:
            Worker(settings, store, recognizer, text_layer).run(stop)
        except BaseException as e:
            raised.append(e)

    thread = threading.Thread(target=run, name="test-worker")
    thread.start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and thread.is_alive() and not until():
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=60)
    return raised


def _validated(settings: Settings, store: JobStore, recognizer, text_layer, clip: str, patient: str):
    """A report validated for a patient; the identity confirmed: the clips' dictated sex and age ("Monsieur de
    68 ans") are not those of the invented patients, and these tests are about what follows validation."""
    job = _dictate(settings, store, recognizer, text_layer, {"patient": {"id": patient}}, clip=clip, name=f"{clip}.opus")
    return validate_report(settings, store, job.id, validator="s", flags_checked=True, text="Examen normal ce jour.",
                           confirm_identity=True)


def test_a_worker_files_only_into_an_outbox_marked_as_its_store(site: Path, recognizer, text_layer) -> None:
    """The fault seen: a worker host without the outbox mounted made one locally and marked the report filed."""
    settings = make_settings(site, {"worker.filing_retry_s": 0.0})
    store = open_store(settings.store_url)
    store.patients.import_patients(parse_patient_csv(PATIENTS_CSV)[0])
    job = _validated(settings, store, recognizer, text_layer, "fr-mg-001", "100001")
    problem = outbox_problem(settings, store)
    assert problem is not None and "not found" in problem
    raised = _run_worker_loop(settings, store, recognizer, text_layer, until=lambda: False, timeout_s=2.0)
    assert not raised
    assert not settings.paths.outbox.exists()  # nothing made on a disk nobody reads
    assert store.jobs.get(job.id).state is JobState.VALIDATED
    assert mark_outbox(settings, store) is None  # what `transcribe serve` does on the front host
    assert outbox_problem(settings, store) is None
    raised = _run_worker_loop(settings, store, recognizer, text_layer,
                              until=lambda: store.jobs.get(job.id).state is JobState.FILED)
    assert not raised and store.jobs.get(job.id).state is JobState.FILED
    assert list((settings.paths.outbox / "100001_DUPONT").glob(f"*_{job.id}.docx"))
    # serve's worker marks the outbox again when the marker is gone (it could not write it at start)
    marker = settings.paths.outbox / OUTBOX_MARKER
    marker.unlink()
    validate_report(settings, store, job.id, validator="s", text="Texte corrigé une fois.")
    assert Worker(settings, store, recognizer, text_layer).file_waiting() == []
    assert Worker(settings, store, recognizer, text_layer, front_host=True).file_waiting() == [job.id]
    assert marker.is_file() and store.jobs.get(job.id).state is JobState.FILED
    # an outbox marked by another store is never filed into, by the loop or by hand
    marker.write_text(json.dumps({"store_id": "0" * 32, "store": "postgresql://elsewhere/records"}))
    validate_report(settings, store, job.id, validator="s", text="Texte corrigé.")
    assert mark_outbox(settings, store) is not None and "elsewhere" in marker.read_text()  # left as it is
    raised = _run_worker_loop(settings, store, recognizer, text_layer, until=lambda: False, timeout_s=2.0)
    assert not raised and store.jobs.get(job.id).state is JobState.VALIDATED
    with pytest.raises(FilingError, match="names another job store"):
        file_report(settings, store, text_layer.vocabulary, job.id)
    store.close()


def test_two_hosts_filing_the_same_report_at_once(site_store, recognizer, text_layer) -> None:
    """The fault seen: the second host met the unique constraint on its filing record, and its loop died."""
    settings, store = site_store
    job = _validated(settings, store, recognizer, text_layer, "fr-mg-001", "100003")
    other_host = open_store(settings.store_url)
    # this host found the report not filed yet and placed its files...
    placed = _place(settings, store, text_layer.vocabulary, job, store.reports.report(job.id), store.patients.patient("100003"))
    # ...while the other host filed it whole
    theirs = file_report(settings, other_host, text_layer.vocabulary, job.id)
    assert theirs.docx == placed.docx and not theirs.already_filed
    # this host records its filing now: the report is already filed, and nothing is raised
    assert not store.reports.record_filing(job.id, 1, patient_id="100003", docx_path=placed.docx, pdf_path=None,
                                   sidecar_path=placed.sidecar)
    assert store.jobs.get(job.id).state is JobState.FILED
    assert [e[1] for e in store.jobs.events(job.id)].count("filed") == 1
    assert file_report(settings, store, text_layer.vocabulary, job.id).already_filed
    other_host.close()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (apt-get install libreoffice-writer)")
def test_a_libreoffice_timeout_keeps_the_error_and_the_filing_loop_goes_on(site: Path, recognizer, text_layer) -> None:
    """The fault seen: a LibreOffice that did not answer in time raised out of the filing loop and stopped it."""
    settings = make_settings(site, {"filing.pdf": True, "filing.pdf_timeout_s": 0.001, "worker.filing_retry_s": 0.0})
    store = open_store(settings.store_url)
    store.patients.import_patients(parse_patient_csv(PATIENTS_CSV)[0])
    first = _validated(settings, store, recognizer, text_layer, "fr-mg-001", "100001")
    second = _validated(settings, store, recognizer, text_layer, "fr-cardio-01", "100003")
    mark_outbox(settings, store)

    def both_kept_their_error() -> bool:
        return all(store.jobs.get(j.id).filing_error for j in (first, second))

    raised = _run_worker_loop(settings, store, recognizer, text_layer, until=both_kept_their_error)
    assert not raised, raised  # the loop went on: both reports were tried
    for job in (first, second):
        waiting = store.jobs.get(job.id)
        assert waiting.state is JobState.VALIDATED and "LibreOffice did not convert" in (waiting.filing_error or "")
    # a failed attempt takes back what it placed: validated again for another patient, the first patient's
    # folder holds no stale report
    assert not [p for p in settings.paths.outbox.rglob("*") if p.is_file() and p.name != OUTBOX_MARKER]
    validate_report(settings, store, first.id, validator="s", patient_id="100003", flags_checked=True,
                    confirm_identity=True)
    assert not list(settings.paths.outbox.glob("100001_*/*"))
    store.close()


def test_a_new_version_cannot_bring_back_an_ambiguous_dose(app_site) -> None:
    settings, store = app_site.settings, app_site.store
    job_id = app_site.dictate_text("Paracétamol 5,000 grammes si douleur.", sidecar={"patient": {"id": "100001"}})
    draft = store.jobs.results_of(job_id)["text"].read_text(encoding="utf-8")
    assert "5,000 g" in draft
    with pytest.raises(ReviewError, match="5,000 g"):
        validate_report(settings, store, job_id, validator="s", flags_checked=True)
    validate_report(settings, store, job_id, validator="s", flags_checked=True, text=draft.replace("5,000 g", "5 g"))
    file_report(settings, store, app_site.text_layer.vocabulary, job_id)
    assert store.jobs.get(job_id).state is JobState.FILED
    with pytest.raises(ReviewError, match="5,000 g"):  # the second version is checked like the first
        validate_report(settings, store, job_id, validator="s", flags_checked=True, text=draft)
    assert store.jobs.get(job_id).state is JobState.FILED
