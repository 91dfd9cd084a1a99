"""Coding (issue 25): codes suggested from a report's text with their words, negated, hypothetical and family
mentions set aside by the field's qualifiers; the official files imported; the codes chosen kept with the
validated version, filed with it and exported for billing; the ``codes`` commands.

Real parts: edsnlp's and negspacy's pipelines (built once for the module), the packages' shipped code sets,
small samples of the official files written by the team (tests/coding_files: real codes and labels), a real
SQLite store, the real intake, text layer, validation and filing. The engine's words are given: no model runs.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from transcribe.coding import catalogue_of, load_lexicon
from transcribe.coding.catalogue import CodeTable
from transcribe.coding.official_files import read_code_set
from transcribe.coding.records import ACCEPTED, ADDED, REJECTED, SUGGESTED
from transcribe.coding.suggester import CodeSuggester
from transcribe.commands import main
from transcribe.documents.exchange.fhir import build_fhir, check_fhir
from transcribe.errors import CodingError
from transcribe.intake.inbox import Intake
from transcribe.patient_record.filing import exchange_document, file_report
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.validation import validate_report
from transcribe.records import JobState, Segment, Transcript, Word
from transcribe.store import open_store
from transcribe.worker import Worker

from .conftest import ROOT, copy_into, dictation, make_settings

FILES = Path(__file__).parent / "coding_files"
VOCAB = ROOT / "vocab"
PATIENTS_CSV = "id,family_name,given_names,birth_date\n100001,Dupont,Jean,1950-03-12\n"  # invented


def ccam_sample() -> CodeTable:
    found = read_code_set("ccam-actes-2025.csv", (FILES / "ccam-actes-2025.csv").read_bytes())
    return CodeTable(found.system, found.version, found.source, found.labels)


@pytest.fixture(scope="module")
def french() -> CodeSuggester:
    """The French suggester with the CCAM sample imported (edsnlp's pipeline, built once)."""
    return CodeSuggester(load_lexicon(VOCAB, "fr"), catalogue_of({"ccam": ccam_sample()}))


@pytest.fixture(scope="module")
def english() -> CodeSuggester:
    return CodeSuggester(load_lexicon(VOCAB, "en"), catalogue_of({}))


def codes_of(found) -> set[str]:
    return {s.code for s in found.suggestions}


# --- 1. suggestions, with their words; negated, hypothetical, family set aside --------------------------------
@pytest.mark.parametrize(
    ("text", "wanted", "not_wanted"),
    [
        ("Patient diabétique de type 2 et hypertendu, HTA traitée.", {"E11.98", "I10"}, {"E14.9"}),
        ("ECG ce jour : rythme sinusal.", {"DEQP003"}, set()),
        ("Échographie cardiaque transthoracique : FEVG conservée.", {"DZQM006"}, set()),
        ("Infiltration du genou droit réalisée sans incident.", {"NZLB001"}, set()),
        ("Pas de diabète. Absence d'hypertension artérielle.", set(), {"E14.9", "I10"}),
        ("On évoque une embolie pulmonaire, à confirmer par angioscanner.", set(), {"I26.9"}),
        ("Mère diabétique. Père décédé d'un infarctus du myocarde.", set(), {"E14.9", "I21.90"}),
        ("Fibrillation auriculaire connue ; pas d'insuffisance cardiaque.", {"I48.9"}, {"I50.9"}),
        ("Une insuffisance cardiaque n'est pas exclue.", set(), {"I50.9"}),
        # an act's result after it says it was done; a negation before it, that it was not; planned, not done
        ("Épreuve d'effort ce jour : négative.", {"DKRP004"}, set()),
        ("Pas d'ECG réalisé. Coloscopie à programmer.", set(), {"DEQP003", "HHQE002"}),
    ],
)
def test_french_suggestions_and_the_mentions_set_aside(french, text, wanted, not_wanted) -> None:
    found = french.suggest(text)
    assert wanted <= codes_of(found), found
    assert not (not_wanted & codes_of(found)), found
    for s in found.suggestions:
        assert s.evidence and all(text[e.start : e.end] == e.text for e in s.evidence)  # the words, in place
        assert s.label  # from the code set


def test_a_set_aside_mention_says_why(french) -> None:
    found = french.suggest("Pas de diabète. On évoque une embolie pulmonaire. Mère diabétique.")
    reasons = {a.evidence.text: a.reasons for a in found.set_aside}
    assert "negated" in reasons["diabète"] and "hypothetical" in reasons["embolie pulmonaire"]
    assert "family" in reasons["diabétique"]


def test_acts_are_not_suggested_where_the_ccam_is_not_imported() -> None:
    bare = CodeSuggester(load_lexicon(VOCAB, "fr"), catalogue_of({}))
    found = bare.suggest("ECG normal. HTA.")
    assert codes_of(found) == {"I10"} and found.missing_sets == ("ccam",)


@pytest.mark.parametrize(
    ("text", "wanted", "not_wanted"),
    [
        ("History of type 2 diabetes and hypertension.", {"E11.9", "I10"}, set()),
        ("No chest pain. Denies shortness of breath.", set(), {"R07.9", "R06.02"}),
        ("Rule out pulmonary embolism.", set(), {"I26.99"}),
        ("Mother has diabetes. Father had a myocardial infarction.", set(), {"E11.9", "I21.9"}),
        ("Atrial fibrillation on anticoagulation; no heart failure.", {"I48.91"}, {"I50.9"}),
    ],
)
def test_english_suggestions_and_the_mentions_set_aside(english, text, wanted, not_wanted) -> None:
    found = english.suggest(text)
    assert wanted <= codes_of(found), found
    assert not (not_wanted & codes_of(found)), found
    assert all(s.kind == "diagnosis" and s.system == "icd10cm" for s in found.suggestions)


# --- 2. the official files ------------------------------------------------------------------------------------
def test_official_files_are_recognised_by_their_content_and_dated() -> None:
    atih = read_code_set("LIBCIM10MULTI.TXT", (FILES / "LIBCIM10MULTI.TXT").read_bytes(), version="2025-01-01")
    assert atih.system == "cim10" and atih.version == "2025-01-01"
    assert atih.labels["E11.98"].startswith("Diabète sucré de type 2") and atih.labels["I10"]
    assert "E11" not in atih.labels and "E11.9" not in atih.labels  # headings (type 3) are never coded
    ccam = read_code_set("ccam-actes-2025.csv", (FILES / "ccam-actes-2025.csv").read_bytes())
    assert ccam.system == "ccam" and ccam.version == "2025-01-01"  # "applicable au 01/01/2025"
    assert ccam.labels["DEQP003"] == "Électrocardiographie sur au moins 12 dérivations"
    cms = read_code_set("icd10cm_order_2026.txt", (FILES / "icd10cm_order_2026.txt").read_bytes())
    assert cms.system == "icd10cm" and cms.version == "2025-10-01" and "E11.9" in cms.labels and "E11" not in cms.labels


def test_a_zip_of_an_official_file_is_read(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("README.txt", "CCAM")
        z.writestr("CCAM_V7700.csv", (FILES / "ccam-actes-2025.csv").read_bytes())
    found = read_code_set("ccam.zip", archive.getvalue())
    assert found.system == "ccam" and found.version == "2025-01-01" and len(found.labels) == 10


def test_a_file_of_the_wrong_kind_or_undated_is_refused_in_words() -> None:
    with pytest.raises(CodingError, match="not a code set we can read; expected the ATIH"):
        read_code_set("not-codes.csv", (FILES / "not-codes.csv").read_bytes())
    with pytest.raises(CodingError, match="--version YYYY-MM-DD"):
        read_code_set("LIBCIM10MULTI.TXT", (FILES / "LIBCIM10MULTI.TXT").read_bytes())


def test_search_by_words_or_by_code(french) -> None:
    catalogue = french.catalogue
    by_code = catalogue.search("deqp", ["ccam"])
    assert by_code[0].code == "DEQP003"
    by_words = catalogue.search("diab type 2 sans complication", ["cim10"])
    assert "E11.98" in [e.code for e in by_words]
    assert catalogue.search("e11.98", ["cim10"])[0].code == "E11.98"


# --- 3 and 5: kept with the version, filed with it, exported for billing ----------------------------------------
def draft_text(settings, store, text_layer, text: str, language: str = "fr", clip: str = "fr-mg-001") -> int:
    """A real dictation whose engine words are given: intake, text layer and store are the real ones."""
    path = copy_into(dictation(clip), settings.paths.inbox / "dr-martin", f"text-{clip}.opus")
    job = Intake(settings, store).take(path)
    assert job is not None

    def no_engine():
        raise AssertionError("no engine runs in these tests")

    worker = Worker(settings, store, no_engine, text_layer)
    claimed = store.claims.claim_next(worker.identity, 60)
    assert claimed is not None and claimed.id == job.id
    words = tuple(Word((" " if i else "") + w, 0.4 * i, 0.4 * i + 0.35, 0.9) for i, w in enumerate(text.split()))
    transcript = Transcript((Segment(text, 0.0, 0.4 * len(words), words),), language, 0.99, 0.4 * len(words),
                            "bundled-base", {"language": language})
    worker.finish(claimed, transcript)
    assert store.jobs.get(job.id).state is JobState.DRAFTED
    return job.id


def test_chosen_codes_are_kept_with_the_version_filed_and_exported(
    site: Path, text_layer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(site)
    store = open_store(settings.store_url)
    try:
        store.patients.import_patients(parse_patient_csv(PATIENTS_CSV)[0])
        job_id = draft_text(settings, store, text_layer, "Patient hypertendu. ECG ce jour normal.")
        store.codes.decide_code(job_id, system="cim10", code="I10", label="Hypertension essentielle (primitive)",
                          decision=ACCEPTED, origin=SUGGESTED, evidence=("hypertendu",), by="anne")
        store.codes.decide_code(job_id, system="ccam", code="DEQP003", label="Électrocardiographie sur au moins 12 dérivations",
                          decision=ACCEPTED, origin=ADDED, evidence=(), by="anne")
        store.codes.decide_code(job_id, system="cim10", code="R07.4", label="Douleur thoracique, sans précision",
                          decision=REJECTED, origin=SUGGESTED, evidence=("douleur",), by="anne")
        validate_report(settings, store, job_id, validator="anne", patient_id="100001", flags_checked=True)
        kept = store.codes.report_codes(job_id, 1)
        assert [(c.system, c.code) for c in kept] == [("cim10", "I10"), ("ccam", "DEQP003")]  # diagnoses first
        # a decision taken after validation does not change the version
        store.codes.forget_code(job_id, system="cim10", code="I10")
        assert len(store.codes.report_codes(job_id, 1)) == 2

        filed = file_report(settings, store, text_layer.vocabulary, job_id)
        sidecar = json.loads(filed.sidecar.read_text(encoding="utf-8"))
        assert [(c["code"], c["kind"], c["chosen_by"]) for c in sidecar["codes"]] == [
            ("I10", "diagnosis", "anne"), ("DEQP003", "act", "anne")]
        # FHIR: the acts are the DocumentReference's context.event (its diagnoses have no element there)
        facts = exchange_document(settings, store, text_layer.vocabulary, store.jobs.get(job_id), store.reports.report(job_id),
                                  store.patients.patient("100001"), b"%PDF-1.7 test")
        data = build_fhir(facts)
        assert check_fhir(data, facts) == []
        assert json.loads(data)["context"]["event"] == [{"coding": [
            {"system": "https://smt.esante.gouv.fr/terminologie-ccam", "code": "DEQP003",
             "display": "Électrocardiographie sur au moins 12 dérivations"}]}]
    finally:
        store.close()

    monkeypatch.chdir(site)
    out = site / "billing.csv"
    assert main(["codes", "export", "--since", "2000-01-01", "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["patient_id"] == "100001" and rows[0]["family_name"] == "Dupont"
    assert rows[0]["act_codes"] == "DEQP003" and rows[0]["author"] == "dr-martin" and rows[0]["filed"] == "yes"
    capsys.readouterr()
    assert main(["codes", "export", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out.strip().count("\n") == 0  # the header only


# --- 4. the command line ------------------------------------------------------------------------------------------
def test_codes_suggest_prints_code_label_kind_and_words(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(site)
    text = tmp_path / "lettre.txt"
    text.write_text("Diabète de type 2. Pas d'HTA. ECG normal.", encoding="utf-8")
    assert main(["codes", "suggest", "--lang", "fr", str(text)]) == 0
    printed = capsys.readouterr()
    assert "E11.98\tDiabète sucré de type 2" in printed.out and "diagnosis\t« Diabète de type 2 »" in printed.out
    assert "# not suggested: I10 « HTA » (negated)" in printed.out
    assert "no CCAM set is imported" in printed.err  # the act is named, but its set is not here

    assert main(["codes", "import", str(FILES / "ccam-actes-2025.csv")]) == 0
    assert "CCAM of 2025-01-01: 10 codes imported" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("History of hypertension."))
    assert main(["codes", "suggest", "--lang", "en", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["suggestions"][0]["code"] == "I10" and found["suggestions"][0]["evidence"][0]["text"] == "hypertension"
    assert main(["codes", "suggest", "--lang", "fr", str(text)]) == 0
    assert "DEQP003\tÉlectrocardiographie sur au moins 12 dérivations\tact\t« ECG »" in capsys.readouterr().out

    assert main(["codes", "import", str(FILES / "not-codes.csv")]) != 0
    assert "not a code set we can read" in capsys.readouterr().err
    assert main(["codes", "find", "électrocardiographie 12"]) == 0
    assert capsys.readouterr().out.startswith("DEQP003\t")
