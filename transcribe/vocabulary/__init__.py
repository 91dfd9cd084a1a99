"""The medical vocabulary: the records the text layer uses (``records``), read from ``vocab/`` and the
site's additions (``files``), watched for changes while the service runs (``watch``), and the
specialties with their labels (``specialties``), and folding text for comparison with the map back
(``folding``). May import: settings, errors, messages.
"""
