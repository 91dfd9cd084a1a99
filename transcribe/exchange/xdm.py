"""The IHE XDM package (ITI TF-1 §16, "Cross-Enterprise Document Media Interchange") a CDA document travels in.

MSSanté mail clients attach a report as such a ZIP: ``IHE_XDM/SUBSET01/`` holds the document
(``DOC0001.XML``) and its metadata (``METADATA.XML``, an ebRIM ``SubmitObjectsRequest``: the
document entry with its patient, type, format, hash and size, and the submission set naming the
author and the recipients), beside ``INDEX.HTM`` and ``README.TXT`` at the root.

No ebRIM schema can be had from a package registry here: ``check_xdm`` reads the package back and
checks its structure (the entries, that the metadata parses, names the document, and states its
size, SHA-1 and patient truly) and the CDA document inside it (``cda.check_cda``).
"""

from __future__ import annotations

import hashlib
import html
import io
import zipfile

from lxml import etree

from .cda import check_cda
from .document import ExchangeDocument

SUBSET = "IHE_XDM/SUBSET01/"
DOCUMENT_NAME = "DOC0001.XML"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
#: the IHE XDS metadata identifiers (ITI TF-3 §4.2.5): object types, classifications, external identifiers
STABLE_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c1-b6c2ae5b9ea8"
ENTRY_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
ENTRY_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
ENTRY_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
ENTRY_FACILITY = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
ENTRY_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
ENTRY_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
ENTRY_PATIENT = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
ENTRY_UNIQUE = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SET_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SET_UNIQUE = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SET_SOURCE = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SET_PATIENT = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
#: a CDA document whose body is a PDF (IHE XDS-SD)
FORMAT_CODE = ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3")


def _patient_id(document: ExchangeDocument) -> str:
    """The patient as XDS metadata names him: identifier^^^&root&ISO (the INS when carried, else the IPP)."""
    patient = document.patient
    from .document import ins_missing_traits

    if patient.ins and not ins_missing_traits(patient):
        return f"{patient.ins}^^^&{patient.ins_oid}&ISO"
    return f"{patient.patient_id}^^^&{document.patient_root}&ISO"


def _slot(parent: etree._Element, name: str, *values: str) -> None:
    slot = etree.SubElement(parent, f"{{{RIM}}}Slot", name=name)
    holder = etree.SubElement(slot, f"{{{RIM}}}ValueList")
    for value in values:
        etree.SubElement(holder, f"{{{RIM}}}Value").text = value


def _named(parent: etree._Element, tag: str, text: str) -> None:
    element = etree.SubElement(parent, f"{{{RIM}}}{tag}")
    etree.SubElement(element, f"{{{RIM}}}LocalizedString", value=text)


def _classification(
    parent: etree._Element, scheme: str, owner: str, code: str, system: str, name: str, number: int
) -> None:
    element = etree.SubElement(
        parent,
        f"{{{RIM}}}Classification",
        id=f"cl{number:02d}",
        classificationScheme=scheme,
        classifiedObject=owner,
        nodeRepresentation=code,
    )
    _slot(element, "codingScheme", system)
    _named(element, "Name", name)


def _identifier(parent: etree._Element, scheme: str, owner: str, value: str, name: str, number: int) -> None:
    element = etree.SubElement(
        parent,
        f"{{{RIM}}}ExternalIdentifier",
        id=f"ei{number:02d}",
        identificationScheme=scheme,
        registryObject=owner,
        value=value,
    )
    _named(element, "Name", name)


def metadata(document: ExchangeDocument, cda: bytes) -> bytes:
    """The ``METADATA.XML`` of the package: one document entry, its submission set, and their association."""
    when = document.validated_at.astimezone().strftime("%Y%m%d%H%M%S")
    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = etree.SubElement(request, f"{{{RIM}}}RegistryObjectList")
    entry = etree.SubElement(
        objects, f"{{{RIM}}}ExtrinsicObject", id="Document01", mimeType="text/xml", objectType=STABLE_ENTRY
    )
    patient = _patient_id(document)
    _slot(entry, "creationTime", when)
    _slot(entry, "languageCode", "fr-FR" if document.language == "fr" else "en-GB")
    _slot(entry, "sourcePatientId", f"{document.patient.patient_id}^^^&{document.patient_root}&ISO")
    _slot(entry, "hash", hashlib.sha1(cda, usedforsecurity=False).hexdigest())
    _slot(entry, "size", str(len(cda)))
    _slot(entry, "URI", DOCUMENT_NAME)
    _named(entry, "Name", document.title)
    code, name = document.type_code
    classifications = [
        (ENTRY_CLASS, "10", "1.2.250.1.213.1.1.4.1", "Compte rendu"),
        (ENTRY_CONFIDENTIALITY, "N", "2.16.840.1.113883.5.25", "Normal"),
        (ENTRY_FORMAT, FORMAT_CODE[0], FORMAT_CODE[1], "PDF in CDA (XDS-SD)"),
        (ENTRY_FACILITY, "SA07", "1.2.250.1.71.4.2.4", "Cabinet"),
        (ENTRY_PRACTICE, "AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire"),
        (ENTRY_TYPE, code, "2.16.840.1.113883.6.1", name),
    ]
    for number, (scheme, value, system, label) in enumerate(classifications, 1):
        _classification(entry, scheme, "Document01", value, system, label, number)
    _identifier(entry, ENTRY_PATIENT, "Document01", patient, "XDSDocumentEntry.patientId", 1)
    _identifier(entry, ENTRY_UNIQUE, "Document01", document.document_oid, "XDSDocumentEntry.uniqueId", 2)
    package = etree.SubElement(objects, f"{{{RIM}}}RegistryPackage", id="SubmissionSet01")
    _slot(package, "submissionTime", when)
    recipients = [r for r in (document.recipient, *document.copies) if r]
    if recipients:
        _slot(package, "intendedRecipient", *(f"^{r.replace('^', ' ')}" for r in recipients))
    _named(package, "Name", document.title)
    _classification(package, SET_CONTENT_TYPE, "SubmissionSet01", code, "2.16.840.1.113883.6.1", name, 7)
    etree.SubElement(
        objects,
        f"{{{RIM}}}Classification",
        id="cl08",
        classifiedObject="SubmissionSet01",
        classificationNode=SUBMISSION_SET,
    )
    _identifier(package, SET_UNIQUE, "SubmissionSet01", f"{document.document_oid}.9", "XDSSubmissionSet.uniqueId", 3)
    _identifier(package, SET_SOURCE, "SubmissionSet01", document.site_oid, "XDSSubmissionSet.sourceId", 4)
    _identifier(package, SET_PATIENT, "SubmissionSet01", patient, "XDSSubmissionSet.patientId", 5)
    association = etree.SubElement(
        objects,
        f"{{{RIM}}}Association",
        id="as01",
        associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
        sourceObject="SubmissionSet01",
        targetObject="Document01",
    )
    _slot(association, "SubmissionSetStatus", "Original")
    return etree.tostring(request, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def package_xdm(document: ExchangeDocument, cda: bytes) -> bytes:
    """The XDM ZIP holding the CDA document and its metadata, as an MSSanté message carries it."""
    title = html.escape(document.title)
    index = (
        "<html><head><meta charset='utf-8'><title>IHE XDM</title></head><body>"
        f"<p>{title}</p><p><a href='{SUBSET}{DOCUMENT_NAME}'>{DOCUMENT_NAME}</a></p></body></html>"
    )
    readme = (
        f"IHE XDM package written by transcribe (on-premises medical dictation).\r\n"
        f"Document: {SUBSET}{DOCUMENT_NAME} (HL7 CDA R2, PDF body); metadata: {SUBSET}METADATA.XML.\r\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", index)
        archive.writestr("README.TXT", readme)
        archive.writestr(SUBSET + "METADATA.XML", metadata(document, cda))
        archive.writestr(SUBSET + DOCUMENT_NAME, cda)
    return buffer.getvalue()


def check_xdm(data: bytes, document: ExchangeDocument) -> list[str]:
    """What is wrong with an XDM package made for this report (empty: nothing), its CDA document checked too."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["not a ZIP file"]
    with archive:
        names = set(archive.namelist())
        missing = [
            n for n in ("INDEX.HTM", "README.TXT", SUBSET + "METADATA.XML", SUBSET + DOCUMENT_NAME) if n not in names
        ]
        if missing:
            return [f"missing {', '.join(missing)}"]
        cda = archive.read(SUBSET + DOCUMENT_NAME)
        try:
            meta = etree.fromstring(archive.read(SUBSET + "METADATA.XML"), etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as e:
            return [f"METADATA.XML is not well-formed XML ({e})"]
    ns = {"rim": RIM}
    problems = []

    def slot(name: str) -> list[str]:
        return [
            str(v)
            for v in meta.xpath(
                f"//rim:ExtrinsicObject/rim:Slot[@name='{name}']/rim:ValueList/rim:Value/text()", namespaces=ns
            )
        ]

    if slot("URI") != [DOCUMENT_NAME]:
        problems.append("METADATA.XML does not name the document")
    if slot("size") != [str(len(cda))] or slot("hash") != [hashlib.sha1(cda, usedforsecurity=False).hexdigest()]:
        problems.append("METADATA.XML's size or hash is not the document's")
    patients = meta.xpath(f"//rim:ExternalIdentifier[@identificationScheme='{ENTRY_PATIENT}']/@value", namespaces=ns)
    if list(patients) != [_patient_id(document)]:
        problems.append("METADATA.XML's patient is not the report's")
    for scheme in (ENTRY_CLASS, ENTRY_FORMAT, ENTRY_TYPE, ENTRY_CONFIDENTIALITY):
        if not meta.xpath(f"//rim:Classification[@classificationScheme='{scheme}']", namespaces=ns):
            problems.append(f"METADATA.XML lacks the classification {scheme}")
    if not meta.xpath(f"//rim:Classification[@classificationNode='{SUBMISSION_SET}']", namespaces=ns):
        problems.append("METADATA.XML has no submission set")
    return problems + [f"{DOCUMENT_NAME}: {p}" for p in check_cda(cda, document)]
