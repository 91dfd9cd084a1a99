"""The facts every exchange format is made from: one validated report version, its patient, author and site."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from transcribe.coding.records import ChosenCode
from transcribe.patient_record.patients import PatientRecord, sex_of

#: OIDs of the French health identifiers (ANS, "Identifiants des acteurs de santé" and INS)
INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_NIA_OID = "1.2.250.1.213.1.4.9"
#: the test INS of the qualification platforms (INS-NIR and INS-NIA of test): accepted, never invented
INS_TEST_OIDS = ("1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
INS_OIDS = (INS_NIR_OID, INS_NIA_OID, *INS_TEST_OIDS)
#: national identifier of health professionals (RPPS, prefixed with "8") and of structures (FINESS "1", SIRET "3")
PS_OID = "1.2.250.1.71.4.2.1"
STRUCTURE_OID = "1.2.250.1.71.4.2.2"
LOINC = "2.16.840.1.113883.6.1"

#: the LOINC document type of each worktype, with its French and English names (one source for CDA, XDM, FHIR)
DOCUMENT_TYPES: dict[str, tuple[str, str, str]] = {
    "consultation": ("11488-4", "Compte rendu de consultation", "Consult note"),
    "letter": ("51852-2", "Courrier", "Letter"),
    "hospital": ("18842-5", "Compte rendu d'hospitalisation", "Discharge summary"),
    "operative": ("11504-8", "Compte rendu opératoire", "Surgical operation note"),
    "examination": ("47045-0", "Compte rendu d'examen", "Study report"),
    "note": ("11506-3", "Note d'évolution", "Progress note"),
}


@dataclass(frozen=True)
class ExchangeDocument:
    """One validated report version as the exchange formats carry it: who, what, when, for whom, and its PDF."""

    job_id: int
    version: int
    worktype: str
    title: str
    language: str
    validated_at: datetime
    patient: PatientRecord
    author_name: str
    author_rpps: str
    practice_name: str
    practice_address: str
    practice_finess: str
    practice_siret: str
    #: the site's OID: root of its patient numbers (IPP) and of its document identifiers
    site_oid: str
    text: str
    pdf: bytes
    recipient: str = ""
    copies: tuple[str, ...] = field(default_factory=tuple)
    #: the codes kept with this version (transcribe.coding), diagnoses first
    codes: tuple[ChosenCode, ...] = field(default_factory=tuple)

    @property
    def document_oid(self) -> str:
        """This version's unique identifier, as an OID under the site's (one per job and version)."""
        return f"{self.site_oid}.1.{self.job_id}.{self.version}"

    @property
    def set_oid(self) -> str:
        """What every version of the report shares (CDA ``setId``)."""
        return f"{self.site_oid}.1.{self.job_id}"

    @property
    def patient_root(self) -> str:
        """The OID under which the site numbers its patients (the IPP's assigning authority)."""
        return f"{self.site_oid}.2"

    @property
    def type_code(self) -> tuple[str, str]:
        """The LOINC code of the document's type and its name in the report's language."""
        code, french, english = DOCUMENT_TYPES.get(self.worktype, DOCUMENT_TYPES["note"])
        return code, french if self.language == "fr" else english

    @property
    def pdf_sha1(self) -> str:
        """The PDF's SHA-1 in hex, as IHE metadata states a document's hash."""
        return hashlib.sha1(self.pdf, usedforsecurity=False).hexdigest()

    @property
    def sex(self) -> str:
        """The patient's sex as "M", "F", or "" when the index does not say."""
        return sex_of(self.patient.sex)

    @property
    def custodian_id(self) -> tuple[str, str]:
        """The custodian's identifier (root, extension): FINESS, else SIRET, else the site's own."""
        if self.practice_finess:
            return STRUCTURE_OID, "1" + self.practice_finess
        if self.practice_siret:
            return STRUCTURE_OID, "3" + self.practice_siret
        return self.site_oid, "site"


def site_oid(configured: str, store_id: str) -> str:
    """The site's OID: the one configured (``practice.oid``), else ``2.25.<the store's identifier as a number>``.

    A ``2.25`` OID is made from a UUID (ITU-T X.667): unique without registering anything, and the
    same from every host since the store's identifier is kept in the store.
    """
    if configured:
        return configured
    hexadecimal = re.sub(r"[^0-9a-f]", "", store_id.lower())[:32] or uuid.uuid4().hex
    return f"2.25.{int(hexadecimal, 16)}"


def ins_missing_traits(patient: PatientRecord) -> list[str]:
    """Which of the five strict identity traits an INS must travel with the index lacks (none: the INS may be sent).

    Birth name, first given names, birth date, sex, birth place (INSEE code): an INS is never sent
    without them, nor are they guessed.
    """
    missing = []
    if not patient.birth_name:
        missing.append("birth name")
    if not patient.given_names:
        missing.append("given names")
    if patient.birth_date is None:
        missing.append("birth date")
    if not sex_of(patient.sex):
        missing.append("sex")
    if not patient.birth_place:
        missing.append("birth place (INSEE code)")
    return missing
