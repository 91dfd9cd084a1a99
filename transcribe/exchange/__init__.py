"""The exchange formats a validated report is filed in beside its DOCX, each a site's choice (``filing.formats``).

    pdfa   PDF/A-2b made by LibreOffice: the printable copy, and the body of every format below
    cda    HL7 CDA R2 level 1 ("N1"): a structured header (patient and INS, author, type, date,
           custodian, recipients) around the PDF/A, packaged as an IHE XDM ZIP as MSSanté mail carries it
    fhir   a FHIR R4 DocumentReference with the PDF/A as attachment (French PDSm conventions where they apply)
    hprim  HPRIM Médecins plain text: the 12-line identity header, the text, the end markers

Each module builds its format from one ``ExchangeDocument`` (pure: facts in, bytes out) and checks
what it built (``check_*``: the problems found, none when valid). ``filing`` decides what to do with a
document that fails its own check: not filed in that format, the reason kept, the DOCX filed anyway.
This module only names the formats; it imports nothing heavy, so that settings can check the names.
"""

from __future__ import annotations

FORMATS = ("pdfa", "cda", "fhir", "hprim")

#: what each format's file name ends with, after the report's own name
SUFFIXES = {"pdfa": ".pdf", "cda": ".cda.zip", "fhir": ".fhir.json", "hprim": ".hprim.txt"}
