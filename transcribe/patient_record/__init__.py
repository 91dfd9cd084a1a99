"""The patient's record: the patient index and identity matching (``patients``, ``patient_import``),
the secretary's validation (``validation``), the author's signature (``signatures``), filing into
``outbox/`` (``filing``), the patient's right of access (``access``) and retention (``retention``).
May import: settings, errors, records, messages, ``store``, ``documents``, ``security.audit``,
``work`` (the review state a validation closes). Never the web layer.
"""
