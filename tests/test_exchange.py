"""Letters and exchange formats: a dictation addressed in its sidecar is validated and filed as DOCX, PDF/A,
CDA in an IHE XDM ZIP, FHIR DocumentReference and HPRIM, each checked; a format that fails its own check is
refused with its reason and the DOCX is filed all the same. Patients are invented."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from transcribe.documents.exchange.cda import NS, check_cda
from transcribe.documents.exchange.fhir import check_fhir
from transcribe.documents.exchange.hprim import END_OF_FILE, END_OF_REPORT, check_hprim
from transcribe.documents.exchange.pdfa import check_pdfa
from transcribe.documents.exchange.xdm import SUBSET, check_xdm
from transcribe.patient_record.filing import exchange_document, file_report
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.validation import validate_report
from transcribe.store import open_store

from .conftest import ROOT, make_settings
from .recorded import draft_recorded

ARTIFACTS = ROOT / "test-artifacts"
needs_libreoffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")

# invented patients; the INS matricules are made up, with a right key (97 - number mod 97)
PATIENTS_CSV = """id;nom;prenom;date de naissance;sexe;medecin traitant;ins;ins_oid;nom de naissance;lieu de naissance
100003;Durand;Marie-Claire;1962-04-03;F;Dr Bernard;262046912345635;1.2.250.1.213.1.4.8;Lefort;69123
100001;Dupont;Jean;1950-03-12;M;;150037505678938;1.2.250.1.213.1.4.8;;
"""
ALL = ["pdfa", "cda", "fhir", "hprim"]


@pytest.fixture
def exchange_site(site: Path):
    settings = make_settings(site, {
        "practice.name": "Cabinet de cardiologie du Parc", "practice.city": "Lyon",
        "practice.address": "1 rue des Lilas, 69003 Lyon", "practice.finess": "690000001",
        "authors.dr-martin.name": "Dr Anne Martin", "authors.dr-martin.specialty": "cardiology",
        "authors.dr-martin.rpps": "10001234567", "filing.formats": "pdfa,cda,fhir,hprim",
    })
    store = open_store(settings.store_url)
    records, problems = parse_patient_csv(PATIENTS_CSV)
    store.patients.import_patients(records)
    yield settings, store, problems
    store.close()


def test_an_ins_without_its_strict_traits_is_not_kept_and_the_patient_is(exchange_site) -> None:
    settings, store, problems = exchange_site
    assert [(p.line, p.code, p.imported) for p in problems] == [(3, "import.ins-traits", True)]
    assert "birth name" in problems[0].reason and "birth place" in problems[0].reason
    jean = store.patients.patient("100001")
    assert jean is not None and jean.ins == "" and jean.family_name == "Dupont"  # the patient is there, no INS
    marie = store.patients.patient("100003")
    assert marie.ins == "262046912345635" and marie.gp == "Dr Bernard" and marie.birth_place == "69123"
    _, refused = parse_patient_csv("id,nom,prenom,ins,ins_oid\n9,A,B,262046912345600,1.2.250.1.213.1.4.8\n")
    assert refused[0].code == "import.ins-invalid" and refused[0].imported


def _file_addressed(settings, store, text_layer, text: str | None = None):
    sidecar = {"patient": {"id": "100003"}, "worktype": "letter", "recipient": "Docteur Bernard, médecin traitant",
               "copies": ["Dr Leroy, cardiologue", "Pr Petit, CHU de Lyon"]}
    folder = settings.paths.inbox / "dr-martin"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fr-mg-001.json").write_text(json.dumps(sidecar))
    job = draft_recorded(settings, store, text_layer, "fr-mg-001")
    validate_report(settings, store, job.id, validator="s", flags_checked=True, confirm_identity=True,
                    text=text or "Je vois ce jour Madame Durand pour une douleur thoracique.\n"
                                 "Conclusion : angor stable.")
    return job, file_report(settings, store, text_layer.vocabulary, job.id)


@needs_libreoffice
def test_an_addressed_letter_is_filed_in_every_format_each_checked(exchange_site, text_layer) -> None:
    settings, store, _ = exchange_site
    job, filed = _file_addressed(settings, store, text_layer)
    assert set(filed.formats) == set(ALL) and all("path" in f for f in filed.formats.values()), str(filed.formats)[-600:]
    report = store.reports.report(job.id)
    patient = store.patients.patient("100003")
    paths = {name: Path(f["path"]) for name, f in filed.formats.items()}
    assert paths["pdfa"] == filed.pdf and filed.pdf.parent == filed.docx.parent
    facts = exchange_document(settings, store, text_layer.vocabulary, store.jobs.get(job.id), report, patient,
                              paths["pdfa"].read_bytes())
    # each file passes its own check again, read back from the outbox
    assert check_pdfa(paths["pdfa"].read_bytes()) == []
    assert check_xdm(paths["cda"].read_bytes(), facts) == []
    assert check_fhir(paths["fhir"].read_bytes(), facts) == []
    assert check_hprim(paths["hprim"].read_bytes(), facts) == []
    # the letter reads like a letter
    paragraphs = [p.text for p in Document(str(filed.docx)).paragraphs if p.text.strip()]
    header = " ".join(p.text for p in Document(str(filed.docx)).sections[0].header.paragraphs)
    assert "Dr Anne Martin — Cardiologie — RPPS 10001234567" in header
    assert "Docteur Bernard, médecin traitant" in paragraphs and "Lyon" in " ".join(paragraphs)
    assert any(p.startswith("Concerne : DURAND Marie-Claire, née le 03/04/1962") for p in paragraphs), paragraphs
    assert "Cher confrère," in paragraphs and "Bien confraternellement." in paragraphs
    assert "Copie à : Dr Leroy, cardiologue" in paragraphs and "Copie à : Pr Petit, CHU de Lyon" in paragraphs
    # the CDA header: patient with the INS and its traits, author's RPPS, custodian's FINESS, the recipients
    with zipfile.ZipFile(paths["cda"]) as package:
        assert {"INDEX.HTM", "README.TXT", SUBSET + "METADATA.XML", SUBSET + "DOC0001.XML"} <= set(package.namelist())
        cda = etree.fromstring(package.read(SUBSET + "DOC0001.XML"))
    ns = {"h": NS}
    ids = {(i.get("root"), i.get("extension")) for i in cda.xpath("//h:patientRole/h:id", namespaces=ns)}
    assert ("1.2.250.1.213.1.4.8", "262046912345635") in ids
    assert cda.xpath("string(//h:patient/h:name/h:family[@qualifier='BR'])", namespaces=ns) == "LEFORT"
    assert cda.xpath("string(//h:assignedAuthor/h:id/@extension)", namespaces=ns) == "810001234567"
    assert cda.xpath("string(//h:custodian//h:id/@extension)", namespaces=ns) == "1690000001"
    assert [n.text for n in cda.xpath("//h:informationRecipient//h:name", namespaces=ns)] == [
        "Docteur Bernard, médecin traitant", "Dr Leroy, cardiologue", "Pr Petit, CHU de Lyon"]
    assert cda.xpath("string(//h:code/@code)", namespaces=ns) == "51852-2"
    # FHIR: the INS as the patient's official identifier, the PDF/A as attachment
    resource = json.loads(paths["fhir"].read_text())
    patient_json = resource["contained"][0]
    assert patient_json["identifier"][0] == {"use": "official", "system": "urn:oid:1.2.250.1.213.1.4.8",
                                             "value": "262046912345635"}
    assert base64.b64decode(resource["content"][0]["attachment"]["data"]) == paths["pdfa"].read_bytes()
    # HPRIM: the header's identity, the text, the end markers, CR LF
    hprim = paths["hprim"].read_bytes().decode("cp1252").split("\r\n")
    assert hprim[1:3] == ["DURAND", "Marie-Claire"] and hprim[6] == "03/04/1962" and hprim[7] == "262046912345635"
    assert hprim[11] == "Docteur Bernard, médecin traitant" and hprim[-3:] == [END_OF_REPORT, END_OF_FILE, ""]
    # the filing record and its sidecar say which formats were filed
    assert store.reports.filing(job.id, 1).formats == filed.formats
    assert json.loads(filed.sidecar.read_text())["formats"] == filed.formats
    _look_at(filed.pdf, "letter-filed")


def _look_at(pdf: Path, name: str) -> None:
    """The filed document as a person sees it: its first page as a PNG kept in test-artifacts/."""
    if shutil.which("pdftoppm") is None:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ARTIFACTS / name)], check=True, timeout=60)
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000


@needs_libreoffice
def test_a_format_that_fails_its_own_check_is_refused_with_its_reason_and_the_rest_is_filed(exchange_site,
                                                                                          text_layer) -> None:
    settings, store, _ = exchange_site
    # a character Windows-1252 cannot hold: HPRIM would change it, so HPRIM is refused; nothing else is
    job, filed = _file_addressed(settings, store, text_layer, text="Cœur normal 🫀. Conclusion : RAS.")
    assert filed.docx.is_file() and "🫀" in "".join(p.text for p in Document(str(filed.docx)).paragraphs)
    assert "refused" in filed.formats["hprim"] and "🫀" in filed.formats["hprim"]["refused"]
    assert not list(filed.docx.parent.glob("*.hprim.txt"))
    assert all("path" in filed.formats[name] for name in ("pdfa", "cda", "fhir"))
    assert any(e[1] == "formats-refused" for e in store.jobs.events(job.id))


def test_the_checks_find_what_is_wrong(exchange_site, text_layer) -> None:
    settings, store, _ = exchange_site
    patient = store.patients.patient("100003")
    job = draft_recorded(settings, store, text_layer, "fr-mg-001")
    validate_report(settings, store, job.id, validator="s", patient_id="100003", flags_checked=True,
                    confirm_identity=True, text="Examen normal.")
    pdf = b"%PDF-1.7\n<x:xmpmeta><pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>/FontFile2\n%%EOF\n"
    facts = exchange_document(settings, store, text_layer.vocabulary, store.jobs.get(job.id), store.reports.report(job.id),
                              patient, pdf)
    assert check_pdfa(pdf) == []
    assert "not PDF/A-2b" in check_pdfa(pdf.replace(b">2<", b">1<"))[0]
    assert check_pdfa(b"%PDF-1.7\n%%EOF")  # no identification
    from transcribe.documents.exchange.cda import build_cda
    cda = build_cda(facts)
    assert check_cda(cda, facts) == []
    broken = cda.replace(b'extension="POCD_HD000040"', b'extension="POCD_HD000041"')
    assert any("typeId" in p for p in check_cda(broken, facts))
    no_trait = etree.fromstring(cda)
    for county in no_trait.xpath("//h:county", namespaces={"h": NS}):
        county.getparent().remove(county)
    assert any("trait" in p for p in check_cda(etree.tostring(no_trait), facts))
    from transcribe.documents.exchange.fhir import build_fhir
    resource = json.loads(build_fhir(facts))
    del resource["content"]  # 1..1 in FHIR: the document itself
    assert check_fhir(json.dumps(resource).encode(), facts)
    resource = json.loads(build_fhir(facts))
    resource["date"] = "the third of December"  # not an instant
    assert check_fhir(json.dumps(resource).encode(), facts)
    assert check_xdm(b"not a zip", facts) == ["not a ZIP file"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as empty:
        empty.writestr("README.TXT", "")
    assert "missing" in check_xdm(buffer.getvalue(), facts)[0]


def test_the_secretary_changes_the_addressee_and_copies_before_validating(app_site, browser) -> None:
    from transcribe.store.keeping import Removal

    from .web_site import _login, _open_review, _validate

    job_id = app_site.dictate_text(
        "Je vous adresse ce patient pour avis. Conclusion : examen normal.",
        sidecar={"patient": {"id": "100001"}, "worktype": "letter", "recipient": "Docteur Bernard, médecin traitant",
                 "copies": ["Dr Leroy"]})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    assert page.input_value("#recipient") == "Docteur Bernard, médecin traitant"  # from the sidecar
    assert page.input_value("#copies") == "Dr Leroy"
    page.fill("#recipient", "Docteur Roux, cardiologue")
    page.press("#recipient", "Tab")
    page.fill("#copies", "Dr Leroy\nDr Petit, CHU")
    page.press("#copies", "Tab")
    page.wait_for_function("document.getElementById('saved').textContent.length > 0", timeout=20000)
    page.wait_for_timeout(500)
    flags = page.locator("#flags input[type=checkbox]")
    for index in range(flags.count()):
        flags.nth(index).check()
        page.wait_for_timeout(300)
    _validate(page)
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    report = app_site.store.reports.report(job_id)
    assert report.recipient == "Docteur Roux, cardiologue" and report.copies == ("Dr Leroy", "Dr Petit, CHU")
    filed = app_site.store.reports.filing(job_id, 1)
    paragraphs = [p.text for p in Document(filed.docx_path).paragraphs]
    assert "Docteur Roux, cardiologue" in paragraphs and "Copies to : Dr Petit, CHU" not in paragraphs
    assert any(p.endswith("Dr Petit, CHU") for p in paragraphs)
    # the recording deleted by the retention policy: the screen says so
    app_site.store.keeping.record_removal(Removal(job_id, "audio", "0" * 64, 1.0, 2.0, 3.0, "cli:test", "audio_days=1"))
    _open_review(page, app_site, job_id)
    page.wait_for_selector("#audio-removed:not([hidden])", timeout=10000)
    assert "deleted on" in page.text_content("#audio-removed")
    page.context.close()
