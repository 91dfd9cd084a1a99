"""Reading the patient index the practice software exports: a CSV file (comma or semicolon, a header row,
French or English column names), UTF-8 or Windows-1252. Pure: text in, records and the rows refused out."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass, field

from transcribe.patient_record.patients import PatientRecord, parse_date
from transcribe.vocabulary.folding import fold

_COLUMNS = {
    "patient_id": ("id", "patient_id", "identifier", "identifiant", "ipp", "pid", "mrn"),
    "family_name": ("family_name", "nom", "nom_de_famille", "last_name", "surname", "family"),
    "given_names": ("given_names", "prenom", "prénom", "prenoms", "prénoms", "first_name", "given", "first_names"),
    "birth_date": ("birth_date", "date_de_naissance", "ddn", "dob", "date_of_birth", "naissance", "birthdate"),
    "sex": ("sex", "sexe", "gender"),
    "gp": ("gp", "medecin_traitant", "médecin_traitant", "general_practitioner", "mt"),
    "ins": ("ins", "matricule_ins", "ins_matricule", "nir"),
    "ins_oid": ("ins_oid", "oid_ins", "oid"),
    "birth_name": ("birth_name", "nom_de_naissance", "nom_naissance"),
    "birth_place": ("birth_place", "lieu_de_naissance", "code_lieu_de_naissance", "lieu_naissance", "insee_naissance"),
}


@dataclass(frozen=True)
class ImportProblem:
    """A row of a patient CSV that was not imported, and why."""

    line: int
    reason: str
    #: the reason as a catalogue code with its parameters, for the review app's words
    code: str = ""
    params: dict[str, str] = field(default_factory=dict)
    #: the row was imported all the same, without what the reason names (an INS without its strict traits)
    imported: bool = False


def decode_patient_csv(raw: bytes) -> str:
    """The text of a patient CSV file: UTF-8 (with or without BOM), else Windows-1252, as spreadsheets save it."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_patient_csv(text: str) -> tuple[list[PatientRecord], list[ImportProblem]]:
    """Read a patient index CSV (comma or semicolon, header row required) into records and problems."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as e:
        return [], [ImportProblem(1, f"not a readable CSV file ({e})", "import.unreadable")]
    if not rows:
        return [], [ImportProblem(1, "the file is empty", "import.empty")]
    header, reader = rows[0], rows[1:]
    columns = _map_columns(header)
    missing = [name for name in ("patient_id", "family_name", "given_names") if name not in columns]
    if missing:
        return [], [
            ImportProblem(
                1,
                f"header lacks {', '.join(missing)} (found: {', '.join(header)})",
                "import.header",
                {"missing": ", ".join(missing)},
            )
        ]
    records: list[PatientRecord] = []
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[index].strip() if index < len(row) else "") for name, index in columns.items()}
        if not cells["patient_id"] or not cells["family_name"]:
            problems.append(ImportProblem(line, "an identifier and a family name are required", "import.required"))
            continue
        if len(cells["patient_id"]) > 64 or not re.fullmatch(r"[\w.-]+", cells["patient_id"]):
            problems.append(
                ImportProblem(
                    line,
                    f"identifier '{cells['patient_id'][:64]}' has characters that cannot go in a folder name",
                    "import.identifier-characters",
                    {"identifier": cells["patient_id"][:64]},
                )
            )
            continue
        if cells["patient_id"] in seen:
            problems.append(
                ImportProblem(
                    line,
                    f"identifier {cells['patient_id']} appears twice in the file",
                    "import.identifier-twice",
                    {"identifier": cells["patient_id"]},
                )
            )
            continue
        birth = None
        if cells.get("birth_date"):
            birth = parse_date(cells["birth_date"])
            if birth is None:
                problems.append(
                    ImportProblem(
                        line,
                        f"birth date '{cells['birth_date'][:30]}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
                        "import.birth-date",
                        {"value": cells["birth_date"][:30]},
                    )
                )
                continue
        seen.add(cells["patient_id"])
        record = PatientRecord(
            cells["patient_id"],
            cells["family_name"][:200],
            cells["given_names"][:200],
            birth,
            cells.get("sex", "")[:10],
            gp=cells.get("gp", "")[:200],
            birth_name=cells.get("birth_name", "")[:200],
            birth_place=cells.get("birth_place", "")[:10],
        )
        ins = _ins_of(record, cells.get("ins", ""), cells.get("ins_oid", ""))
        if isinstance(ins, ImportProblem):
            problems.append(dataclasses.replace(ins, line=line))
        else:
            record = dataclasses.replace(record, ins=ins[0], ins_oid=ins[1])
        records.append(record)
    return records, problems


def _ins_of(record: PatientRecord, matricule: str, oid: str) -> tuple[str, str] | ImportProblem:
    """The INS of a row (matricule, OID), ("", "") when it has none, or why it is not kept (the patient is)."""
    from transcribe.documents.exchange.document import INS_OIDS, ins_missing_traits

    matricule = re.sub(r"\s", "", matricule).upper()
    if not matricule:
        return "", ""
    if not valid_ins_matricule(matricule):
        reason = (
            f"INS '{matricule[:20]}' is not a valid matricule (15 characters, its key checked); imported without it"
        )
        return ImportProblem(0, reason, "import.ins-invalid", {"value": matricule[:20]}, imported=True)
    if oid not in INS_OIDS:
        reason = (
            f"INS given without its OID (ins_oid: {', '.join(INS_OIDS[:2])} for a NIR or a NIA); imported without it"
        )
        return ImportProblem(0, reason, "import.ins-oid", {}, imported=True)
    missing = ins_missing_traits(record)
    if missing:
        reason = (
            f"INS given without the strict identity traits it travels with ({', '.join(missing)} missing); "
            "imported without it"
        )
        return ImportProblem(0, reason, "import.ins-traits", {"missing": ", ".join(missing)}, imported=True)
    return matricule, oid


def valid_ins_matricule(matricule: str) -> bool:
    """Whether a text is an INS matricule (NIR or NIA): 13 characters (2A and 2B for Corsica) and their key."""
    if not re.fullmatch(r"[1-478]\d{4}(?:\d{2}|2A|2B)\d{6}\d{2}", matricule):
        return False
    number = int(matricule[:13].replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97 == int(matricule[13:])


def _map_columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = fold(name.strip()).replace(" ", "_").replace("-", "_")
        for column, aliases in _COLUMNS.items():
            if key in {fold(a) for a in aliases} and column not in columns:
                columns[column] = index
    return columns
