"""A FHIR R4 ``DocumentReference`` carrying the report's PDF/A, following the French PDSm conventions where they apply.

The resource holds the patient (contained: the IPP and, with its five strict traits, the INS under
``urn:oid:1.2.250.1.213.1.4.8``), the author (contained: name and RPPS under
``urn:oid:1.2.250.1.71.4.2.1``, prefixed "8"), the custodian (the practice), the document's type
(LOINC), date, security label, and the PDF/A itself as the attachment (language, hash, size,
title, creation date; format code ``urn:ihe:iti:xds:2017:mimeTypeSufficient``).

Built as JSON and checked by parsing it into ``fhir.resources``' R4B models: R4B's DocumentReference
is R4's (FHIR 4.3 changed nothing in it), and that package carries no R4 (4.0.1) models any more.
It does not claim the PDSm profile in ``meta.profile``: the IG's own validator is not run here.
The addressee and copies are not carried (DocumentReference has no element for them; PDSm puts them
on the submission's List): the CDA package carries them. The acts chosen for the version (CCAM,
``transcribe.coding``) are its ``context.event``, "the main clinical acts documented"; its diagnoses
have no element of DocumentReference and stay in the filed ``.json``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from transcribe.coding.records import ACT, SYSTEMS
from transcribe.documents.exchange.document import PS_OID, ExchangeDocument, ins_missing_traits

FORMAT_SYSTEM = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
MIME_TYPE_SUFFICIENT = "urn:ihe:iti:xds:2017:mimeTypeSufficient"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


def _oid(value: str) -> str:
    return f"urn:oid:{value}"


def document_reference(document: ExchangeDocument) -> dict[str, Any]:
    """The DocumentReference as a JSON-ready mapping."""
    patient = document.patient
    identifiers: list[dict[str, Any]] = []
    if patient.ins and not ins_missing_traits(patient):
        identifiers.append(
            {
                "use": "official",
                "system": _oid(patient.ins_oid),
                "value": patient.ins,
            }
        )
    identifiers.append({"use": "usual", "system": _oid(document.patient_root), "value": patient.patient_id})
    names: list[dict[str, Any]] = [
        {"use": "usual", "family": patient.family_name.upper(), "given": patient.given_names.split()}
    ]
    if patient.birth_name:
        names.append({"use": "official", "family": patient.birth_name.upper(), "given": patient.given_names.split()})
    contained_patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": identifiers,
        "name": names,
    }
    if document.sex:
        contained_patient["gender"] = "male" if document.sex == "M" else "female"
    if patient.birth_date:
        contained_patient["birthDate"] = patient.birth_date.isoformat()
    author: dict[str, Any] = {"resourceType": "Practitioner", "id": "author"}
    if document.author_rpps:
        author["identifier"] = [{"system": _oid(PS_OID), "value": "8" + document.author_rpps}]
    if document.author_name:
        author["name"] = [{"text": document.author_name}]
    root, extension = document.custodian_id
    custodian = {
        "resourceType": "Organization",
        "id": "custodian",
        "identifier": [{"system": _oid(root), "value": extension}],
        "name": document.practice_name or "—",
    }
    code, name = document.type_code
    created = document.validated_at.isoformat(timespec="seconds")
    language = "fr-FR" if document.language == "fr" else "en-GB"
    context: dict[str, Any] = {"period": {"start": created}}
    acts = [c for c in document.codes if c.kind == ACT]
    if acts:
        context["event"] = [
            {"coding": [{"system": SYSTEMS[c.system].uri, "code": c.code, "display": c.label}]} for c in acts
        ]
    return {
        "resourceType": "DocumentReference",
        "contained": [contained_patient, author, custodian],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": _oid(document.document_oid)},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": _oid(document.set_oid)}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
        "subject": {"reference": "#patient"},
        "date": created,
        "author": [{"reference": "#author"}],
        "custodian": {"reference": "#custodian"},
        "description": document.title,
        "securityLabel": [{"coding": [{"system": CONFIDENTIALITY, "code": "N"}]}],
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": language,
                    "data": base64.b64encode(document.pdf).decode("ascii"),
                    "size": len(document.pdf),
                    "hash": base64.b64encode(bytes.fromhex(document.pdf_sha1)).decode("ascii"),
                    "title": document.title,
                    "creation": created,
                },
                "format": {"system": FORMAT_SYSTEM, "code": MIME_TYPE_SUFFICIENT},
            }
        ],
        "context": context,
    }


def build_fhir(document: ExchangeDocument) -> bytes:
    """The DocumentReference as JSON (UTF-8)."""
    return json.dumps(document_reference(document), ensure_ascii=False, indent=2).encode("utf-8")


def check_fhir(data: bytes, document: ExchangeDocument) -> list[str]:
    """What keeps this JSON from being a valid FHIR DocumentReference of the report (empty: nothing).

    Parsed by fhir.resources (types, cardinalities, required elements, invariants it checks), then
    what the models cannot know: the attachment is the report's PDF, the LOINC code its worktype's.
    """
    from fhir.resources.R4B.documentreference import DocumentReference
    from pydantic import ValidationError

    try:
        resource = DocumentReference.model_validate_json(data)
    except ValidationError as e:
        return [f"not a valid FHIR DocumentReference: {error['loc']}: {error['msg']}" for error in e.errors()[:5]]
    problems = []
    attachment = resource.content[0].attachment if resource.content else None
    if attachment is None or attachment.data != document.pdf:  # the model holds the decoded bytes
        problems.append("the attachment is not the report's PDF")
    codes = [(c.system, c.code) for c in (resource.type.coding or [])] if resource.type else []
    if ("http://loinc.org", document.type_code[0]) not in codes:
        problems.append("the type is not the worktype's LOINC code")
    return problems
