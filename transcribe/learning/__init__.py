"""Learning from the secretary: validated reports as references for what was said (``references``),
the accuracy dashboard and vocabulary proposals (``accuracy``), transcribing again after a change
(``rerun``) and the calibration of the audio's rule (``calibration``). May import: settings, errors,
records, ``store``, ``text``, ``vocabulary``, ``speech`` (rerun only). Never the web layer.
"""
