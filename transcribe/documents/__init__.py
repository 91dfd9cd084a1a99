"""Documents: the report composed from the cleaned text (sections, worktype, DOCX from the practice's
templates, PDF through LibreOffice: ``report``), letters (addressee, salutation, closing: ``letters``),
the kinds of report (``worktypes``) and the exchange formats filed beside the DOCX (``exchange``).
May import: settings, errors, records, messages, ``vocabulary``. Never ``store`` or the web layer.
"""
