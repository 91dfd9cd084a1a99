"""Documents: the report composed from the cleaned text (worktype and sections: ``sections``; DOCX from
the practice's templates and the drafts: ``report``; PDF through LibreOffice: ``pdf``), letters (addressee, salutation, closing: ``letters``),
the kinds of report (``worktypes``) and the exchange formats filed beside the DOCX (``exchange``).
May import: settings, errors, records, messages, ``vocabulary``. Never ``store`` or the web layer.
"""
