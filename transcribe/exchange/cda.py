"""HL7 CDA R2 level 1 ("N1"): the report's structured header around its PDF/A, as the French CI-SIS asks.

The header carries what a receiving record needs to file the document without opening it: the
patient (the site's IPP and, when the index holds it with the five strict traits, the INS),
the author (name, RPPS), the document's type (LOINC), date, version, custodian (the practice,
by FINESS or SIRET), and the recipients (the addressee, then each copy). The body is the PDF/A,
base64, as a ``nonXMLBody``.

No CDA schema (HL7's ``CDA.xsd``) can be had from a package registry here: ``check_cda`` reads the
document back with lxml and checks the structure CDA R2 and the CI-SIS header require (namespace,
``typeId``, template ids, each mandatory header element and its attributes, the INS and its
traits, the body's media type and that it decodes to the PDF it should be).
"""

from __future__ import annotations

import base64

from lxml import etree

from .document import INS_OIDS, LOINC, PS_OID, ExchangeDocument, ins_missing_traits

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: the CDA R2 type, HL7 France's and the CI-SIS's template ids (the header of every French CDA document)
CDA_TYPE = ("2.16.840.1.113883.1.3", "POCD_HD000040")
TEMPLATES = ("2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1")
CONFIDENTIALITY = ("N", "2.16.840.1.113883.5.25")
GENDER_SYSTEM = "2.16.840.1.113883.5.1"


def _e(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}", {k.rstrip("_"): v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def _time(document: ExchangeDocument) -> str:
    return document.validated_at.strftime("%Y%m%d%H%M%S%z")


def build_cda(document: ExchangeDocument) -> bytes:
    """The report as a CDA R2 level 1 document (UTF-8 XML), its PDF/A as the body."""
    root = etree.Element(f"{{{NS}}}ClinicalDocument", nsmap={None: NS, "xsi": XSI})
    _e(root, "realmCode", code="FR")
    _e(root, "typeId", root=CDA_TYPE[0], extension=CDA_TYPE[1])
    for template in TEMPLATES:
        _e(root, "templateId", root=template)
    _e(root, "id", root=document.document_oid)
    code, name = document.type_code
    _e(root, "code", code=code, codeSystem=LOINC, codeSystemName="LOINC", displayName=name)
    _e(root, "title", document.title)
    _e(root, "effectiveTime", value=_time(document))
    _e(root, "confidentialityCode", code=CONFIDENTIALITY[0], codeSystem=CONFIDENTIALITY[1])
    _e(root, "languageCode", code="fr-FR" if document.language == "fr" else "en-GB")
    _e(root, "setId", root=document.set_oid)
    _e(root, "versionNumber", value=str(document.version))
    _record_target(root, document)
    _author(root, document)
    _custodian(root, document)
    for recipient, kind in [(document.recipient, "PRCP")] + [(c, "TRC") for c in document.copies]:
        if recipient:
            holder = _e(_e(root, "informationRecipient", typeCode=kind), "intendedRecipient")
            _e(_e(holder, "informationRecipient"), "name", recipient)
    body = _e(_e(root, "component"), "nonXMLBody")
    _e(body, "text", base64.b64encode(document.pdf).decode("ascii"), mediaType="application/pdf", representation="B64")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _record_target(root: etree._Element, document: ExchangeDocument) -> None:
    patient = document.patient
    role = _e(_e(root, "recordTarget"), "patientRole")
    if patient.ins and not ins_missing_traits(patient):  # never sent without its strict traits
        _e(role, "id", root=patient.ins_oid, extension=patient.ins)
    _e(role, "id", root=document.patient_root, extension=patient.patient_id)
    person = _e(role, "patient")
    name = _e(person, "name")
    for given in patient.given_names.split():
        _e(name, "given", given)
    if patient.birth_name and patient.birth_name.upper() != patient.family_name.upper():
        _e(name, "family", patient.birth_name.upper(), qualifier="BR")
        _e(name, "family", patient.family_name.upper(), qualifier="SP")
    else:
        _e(name, "family", patient.family_name.upper(), qualifier="BR" if patient.birth_name else "SP")
    if document.sex:
        _e(person, "administrativeGenderCode", code=document.sex, codeSystem=GENDER_SYSTEM)
    else:
        _e(person, "administrativeGenderCode", nullFlavor="UNK")
    if patient.birth_date:
        _e(person, "birthTime", value=patient.birth_date.strftime("%Y%m%d"))
    else:
        _e(person, "birthTime", nullFlavor="UNK")
    if patient.birth_place:
        _e(_e(_e(_e(person, "birthplace"), "place"), "addr"), "county", patient.birth_place)


def _author(root: etree._Element, document: ExchangeDocument) -> None:
    author = _e(root, "author")
    _e(author, "time", value=_time(document))
    assigned = _e(author, "assignedAuthor")
    if document.author_rpps:
        _e(assigned, "id", root=PS_OID, extension="8" + document.author_rpps)
    else:
        _e(assigned, "id", nullFlavor="UNK")
    person = _e(assigned, "assignedPerson")
    _e(person, "name", document.author_name or None)
    organisation = _e(assigned, "representedOrganization")
    identifier = document.custodian_id
    _e(organisation, "id", root=identifier[0], extension=identifier[1])
    _e(organisation, "name", document.practice_name or None)


def _custodian(root: etree._Element, document: ExchangeDocument) -> None:
    holder = _e(_e(_e(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization")
    identifier = document.custodian_id
    _e(holder, "id", root=identifier[0], extension=identifier[1])
    _e(holder, "name", document.practice_name or None)


#: header elements CDA R2 requires, in the order the schema has them (XPath under ClinicalDocument)
REQUIRED = (
    "typeId",
    "id",
    "code",
    "effectiveTime",
    "confidentialityCode",
    "recordTarget/patientRole/id",
    "recordTarget/patientRole/patient",
    "author/time",
    "author/assignedAuthor/id",
    "custodian/assignedCustodian/representedCustodianOrganization/id",
    "component/nonXMLBody/text",
)


def check_cda(data: bytes, document: ExchangeDocument) -> list[str]:
    """What keeps a CDA document made for this report from being a CDA R2 N1 document of it (empty: nothing)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML ({e})"]
    ns = {"h": NS}
    problems = []
    if root.tag != f"{{{NS}}}ClinicalDocument":
        return [f"the root is {root.tag}, not ClinicalDocument in {NS}"]

    def one(path: str) -> etree._Element | None:
        found = root.xpath("h:" + path.replace("/", "/h:"), namespaces=ns)
        return found[0] if found else None

    for path in REQUIRED:
        if one(path) is None:
            problems.append(f"missing {path}")
    type_id = one("typeId")
    if type_id is not None and (type_id.get("root"), type_id.get("extension")) != CDA_TYPE:
        problems.append("typeId is not CDA R2's (2.16.840.1.113883.1.3 / POCD_HD000040)")
    templates = {t.get("root") for t in root.xpath("h:templateId", namespaces=ns)}
    problems += [f"missing templateId {t}" for t in TEMPLATES if t not in templates]
    code = one("code")
    if code is not None and (code.get("codeSystem") != LOINC or code.get("code") != document.type_code[0]):
        problems.append("the document's code is not its worktype's LOINC code")
    for path in (
        "id",
        "setId",
        "recordTarget/patientRole/id",
        "custodian/assignedCustodian/representedCustodianOrganization/id",
    ):
        element = one(path)
        if element is not None and not (element.get("root") or element.get("nullFlavor")):
            problems.append(f"{path} has no root")
    ids = root.xpath("h:recordTarget/h:patientRole/h:id", namespaces=ns)
    ins = [i for i in ids if i.get("root") in INS_OIDS]
    if ins:
        missing = ins_missing_traits(document.patient)
        if missing or ins[0].get("extension") != document.patient.ins:
            problems.append("an INS is carried without its five strict traits: " + ", ".join(missing or ["matricule"]))
        person = one("recordTarget/patientRole/patient")
        for trait in (
            "name/family[@qualifier='BR']",
            "administrativeGenderCode[@code]",
            "birthTime[@value]",
            "birthplace/place/addr/county",
        ):
            if person is None or not person.xpath("h:" + trait.replace("/", "/h:"), namespaces=ns):
                problems.append(f"an INS is carried without the trait {trait}")
    elif document.patient.ins and not ins_missing_traits(document.patient):
        problems.append("the patient's INS is not carried")
    body = one("component/nonXMLBody/text")
    if body is not None:
        if body.get("mediaType") != "application/pdf" or body.get("representation") != "B64":
            problems.append("the body is not a base64 PDF (mediaType application/pdf, representation B64)")
        try:
            if base64.b64decode(body.text or "", validate=True) != document.pdf:
                problems.append("the body is not the report's PDF")
        except ValueError:
            problems.append("the body is not valid base64")
    recipients = [n.text for n in root.xpath("h:informationRecipient//h:name", namespaces=ns)]
    expected = [r for r in (document.recipient, *document.copies) if r]
    if recipients != expected:
        problems.append("the recipients are not the report's addressee and copies")
    return problems
