"""The secretary's work: one report's review state (blocks, reverts, readings: ``review_state``), where
a change stands in the text she types (``anchors``), the worklist (``worklist``) and how the service
keeps up (``throughput``). May import: settings, errors, records, messages, ``store``, ``text``.
Never the web layer.
"""
