"""Intake: what arrives in ``inbox/`` and what is refused.

Owns the inbox (``inbox``: settled files taken into the archive and the job store; ``files``: which names
are dictations and sidecars, whose they are), the sidecar beside a recording (``sidecars``), quarantine
with its reason (``quarantine``), sending a quarantined job back (``requeue``), live dictation into the
inbox (``dictation``) and crash-safe file writes (``atomic``). May import: settings, errors, records,
messages, ``store``, ``speech.audio`` (to check a recording). Never the web layer.
"""
