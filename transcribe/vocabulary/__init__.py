"""The medical vocabulary: the records the text layer uses (``records``), read from ``vocab/`` and the
site's additions (``files``), watched for changes while the service runs (``watch``), and the
specialties with their labels (``specialties``). May import: settings, errors, ``text.folding``.
"""
