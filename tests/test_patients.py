"""Patient identification: the index import, identities from sidecar, file name and dictation, matching."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcribe.intake.sidecars import SidecarInvalid, parse_sidecar
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.patients import (
    DictatedIdentity,
    PatientRecord,
    identity_conflicts,
    identity_from_filename,
    identity_from_text,
    parse_date,
    propose_patient,
    rank_candidates,
)

# invented patients only
INDEX = [
    PatientRecord("100001", "Dupont", "Jean", date(1950, 3, 12), "M"),
    PatientRecord("100002", "Dupont", "Jean", date(1972, 8, 1), "M"),  # a homonym
    PatientRecord("100003", "Durand", "Marie-Claire", date(1962, 4, 3), "F"),
    PatientRecord("100004", "Lefèvre", "Éloïse", date(1988, 11, 30), "F"),
    PatientRecord("100005", "de la Tour", "Anne-Sophie", date(1948, 4, 1), "F"),
    PatientRecord("100006", "Martin-Gallois", "Paul", date(1939, 1, 5), "M"),
]


def test_csv_import_accepts_french_headers_semicolons_and_reports_bad_rows() -> None:
    csv = ("\ufeffIPP;Nom;Prénom;Date de naissance;Sexe\n"
           "100001;Dupont;Jean;12/03/1950;M\n"
           "100003;Durand;Marie-Claire;1962-04-03;F\n"
           ";Sans;Identifiant;1950-01-01;F\n"
           "100009;Bad;Date;31/02/1950;F\n"
           "100001;Dupont;Jean;12/03/1950;M\n"
           "../x;Evil;Path;1950-01-01;F\n")
    records, problems = parse_patient_csv(csv)
    assert [r.patient_id for r in records] == ["100001", "100003"]
    assert records[0].birth_date == date(1950, 3, 12)
    assert [p.line for p in problems] == [4, 5, 6, 7]
    assert "not a date" in problems[1].reason and "twice" in problems[2].reason and "folder name" in problems[3].reason


def test_csv_without_the_needed_columns_is_refused() -> None:
    records, problems = parse_patient_csv("a,b\n1,2\n")
    assert not records and "header lacks" in problems[0].reason


@pytest.mark.parametrize(
    ("text", "family", "given_names", "born"),
    [
        ("Patient Jean Dupont né le 12 mars 1950. Motif", "Dupont", "Jean", date(1950, 3, 12)),
        ("Madame Marie-Claire DURAND, née le 03/04/1962.", "DURAND", "Marie-Claire", date(1962, 4, 3)),
        ("Patiente Anne-Sophie de la Tour née le 1er avril 1948", "de la Tour", "Anne-Sophie", date(1948, 4, 1)),
        ("Patient John Carter, date of birth March 12, 1950.", "Carter", "John", date(1950, 3, 12)),
        ("Courrier concernant Monsieur Paul Martin. Bilan", "Martin", "Paul", None),
    ],
)
def test_identity_from_the_dictated_opening(text: str, family: str, given_names: str, born: date | None) -> None:
    identity = identity_from_text(text)
    assert identity is not None and identity.source == "dictated"
    assert (identity.family_name, identity.given_names, identity.birth_date) == (family, given_names, born)


@pytest.mark.parametrize("text", ["Le patient a mal au dos.", "Douleur thoracique depuis 3 jours.", ""])
def test_no_identity_where_none_is_dictated(text: str) -> None:
    assert identity_from_text(text) is None


@pytest.mark.parametrize(
    ("name", "patient_id", "family", "born"),
    [
        ("consultation_IPP100001.wav", "100001", None, None),
        ("PID-4242_suivi.m4a", "4242", None, None),
        ("DUPONT_Jean_1950-03-12_consult.mp3", None, "Dupont", date(1950, 3, 12)),
        ("MARTIN-GALLOIS_Paul_19390105.dss", None, "Martin-Gallois", date(1939, 1, 5)),
        ("consultation.m4a", None, None, None),
    ],
)
def test_identity_from_the_file_name(name: str, patient_id: str | None, family: str | None, born: date | None) -> None:
    identity = identity_from_filename(name)
    if patient_id is None and family is None:
        assert identity is None
        return
    assert identity is not None
    assert (identity.patient_id, identity.family_name, identity.birth_date) == (patient_id, family, born)


def _rank(**identity: object) -> list[str]:
    return [c.patient.patient_id for c in rank_candidates(DictatedIdentity("dictated", **identity), INDEX)]  # type: ignore[arg-type]


def test_homonyms_are_told_apart_by_birth_date() -> None:
    assert _rank(family_name="Dupont", given_names="Jean", birth_date=date(1972, 8, 1))[0] == "100002"
    assert _rank(family_name="Dupont", given_names="Jean", birth_date=date(1950, 3, 12))[0] == "100001"
    proposal = propose_patient(None, "x.wav", "Patient Jean Dupont. Douleur.", lambda i: INDEX)
    assert proposal.proposed is None  # two Jean Dupont and no birth date: nobody is proposed
    assert {c.patient_id for c in proposal.candidates[:2]} == {"100001", "100002"}


def test_accents_case_hyphens_and_inverted_names_match() -> None:
    assert _rank(family_name="LEFEVRE", given_names="eloise", birth_date=date(1988, 11, 30))[0] == "100004"
    assert _rank(family_name="Marie Claire", given_names="Durand", birth_date=date(1962, 4, 3))[0] == "100003"
    assert _rank(family_name="Martin Gallois", given_names="Paul")[0] == "100006"
    candidate = rank_candidates(DictatedIdentity("dictated", None, "Claire", "Durand Marie", date(1962, 4, 3)), INDEX)[0]
    assert any(e.code == "identity-birth-date-matches" for e in candidate.evidence)


def test_a_misheard_name_with_the_right_birth_date_is_proposed_with_evidence() -> None:
    proposal = propose_patient(None, "x.wav", "Patiente Éloïse Lefebvre née le 30 novembre 1988.", lambda i: INDEX)
    assert proposal.proposed == "100004"
    assert proposal.candidates[0].evidence


def test_a_family_shared_by_several_patients_always_needs_a_choice() -> None:
    # the right birth date ranks Jean Dupont 1950 first, but another Dupont exists: a person chooses
    proposal = propose_patient(None, "x.wav", "Patient Jean Dupont né le 12 mars 1950.", lambda i: INDEX)
    assert proposal.proposed is None and proposal.candidates[0].patient_id == "100001"


def test_a_family_name_alone_is_never_pre_chosen() -> None:
    alone = [PatientRecord("200001", "Garnier", "Luc", date(1960, 1, 1), "M")]
    assert propose_patient(None, "x.wav", "Monsieur Garnier vu ce jour.", lambda i: alone).proposed is None
    assert propose_patient(None, "GARNIER_Luc_0412.wav", "Vu ce jour.", lambda i: alone).proposed == "200001"


def test_the_given_name_counts_in_the_conflict_check() -> None:
    # the case seen: the file name says Marie DUPONT, the secretary picked Jean DUPONT
    from_file = identity_from_filename("DUPONT_Marie_0412.m4a")
    assert from_file is not None and from_file.given_names == "Marie"
    conflicts = identity_conflicts(from_file, INDEX[0])
    assert conflicts and "Marie" in str(conflicts[0]) and conflicts[0].params["names"] == "Marie Dupont"
    assert identity_conflicts(identity_from_filename("DUPONT_Jean_0412.m4a"), INDEX[0]) == []
    assert identity_conflicts(DictatedIdentity("dictated", None, "Jean", "Dupont"), INDEX[0]) == []  # inverted


def test_sidecar_id_wins_over_file_name_and_dictation() -> None:
    sidecar = DictatedIdentity("sidecar", "100003")
    proposal = propose_patient(sidecar, "IPP100001.wav", "Patient Jean Dupont né le 12 mars 1950.", lambda i: INDEX)
    assert proposal.proposed == "100003" and proposal.identity == sidecar
    assert proposal.dictated is not None and proposal.dictated.family_name == "Dupont"


def test_conflicts_between_dictation_and_chosen_patient() -> None:
    dictated = DictatedIdentity("dictated", None, "Dupont", "Jean", date(1950, 3, 12))
    assert identity_conflicts(dictated, INDEX[0]) == []
    other_birth = identity_conflicts(dictated, INDEX[1])
    assert other_birth and "1950-03-12" in str(other_birth[0])
    assert other_birth[0].code == "identity-birth-date-differs" and other_birth[0].params["given_date"] == "1950-03-12"
    assert identity_conflicts(dictated, INDEX[2])  # another name
    assert identity_conflicts(None, INDEX[0]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1950-03-12", date(1950, 3, 12)), ("12/03/1950", date(1950, 3, 12)), ("12 mars 1950", date(1950, 3, 12)),
     ("1er avril 1948", date(1948, 4, 1)), ("March 12, 1950", date(1950, 3, 12)), ("31/02/1950", None),
     ("hier", None), ("12/03/50", None)],
)
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


# --- sidecars ----------------------------------------------------------------------------
def test_a_full_sidecar() -> None:
    meta = parse_sidecar(b'{"author": "dr-martin", "patient": {"id": "100001"}, "worktype": "letter", '
                         b'"priority": "urgent", "due_date": "2026-11-25", "copies": ["Dr Leroy"], "x-recorder": 3}')
    assert (meta.author, meta.worktype, meta.priority, meta.due_date) == ("dr-martin", "letter", "urgent", date(2026, 11, 25))
    assert meta.identity is not None and meta.identity.patient_id == "100001" and meta.copies == ("Dr Leroy",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"worktype": "autopsy"}', "worktype 'autopsy'"),
        (b'{"patient": {"id": "../../etc"}}', "not allowed"),
        (b'{"patient": {"given_names": "Jean"}}', "id or a family name"),
        (b'{"due_date": "tomorrow"}', "not a date"),
        (b'{"author": "../../root"}', "author"),
        (b'{"copies": "Dr X"}', "copies"),
        (b'{"x": "' + b"a" * 70000 + b'"}', "at most"),
    ],
)
def test_bad_sidecars_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(SidecarInvalid, match=message):
        parse_sidecar(data, "rec.json")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(
        ["author", "patient", "id", "family_name", "birth_date", "worktype", "priority", "due_date", "copies", "x"]),
        children, max_size=5), max_leaves=12).map(lambda v: __import__("json").dumps(v).encode())))
def test_sidecar_parser_never_fails_otherwise(data: bytes) -> None:
    try:
        parse_sidecar(data)
    except SidecarInvalid:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_patient_csv_parser_never_raises(text: str) -> None:
    records, problems = parse_patient_csv(text)
    assert all(r.patient_id and r.family_name for r in records)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_file_name_and_dictation_parsers_never_raise(text: str) -> None:
    identity_from_filename(text)
    identity_from_text(text)


@settings(max_examples=60, deadline=None)
@given(family=st.text(min_size=1, max_size=20), given_names=st.text(max_size=20),
       patient_id=st.one_of(st.none(), st.sampled_from(["100001", "100003", "999999"])))
def test_the_stored_proposal_reads_back_as_it_was_made(family: str, given_names: str, patient_id: str | None) -> None:
    """What the draft stores about the patient (any name, hostile Unicode included) is read back unchanged."""
    from transcribe.records import PatientProposal

    sidecar = DictatedIdentity("sidecar", patient_id, family, given_names or None, date(1950, 3, 12), sex="M", age=76)
    proposal = propose_patient(sidecar, "dictee.wav", "Patient Jean Dupont, 76 ans.", lambda _: INDEX)
    assert PatientProposal.from_json(proposal.to_json()) == proposal
    assert proposal.sources[0] == sidecar
