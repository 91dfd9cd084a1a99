"""Speech: the recording and the engine that hears it.

Owns decoding any recording to 16 kHz mono (``audio``), the listening copy the review screen plays
(``listening``), where the model comes from (``model_location``), the engine (faster-whisper through
CTranslate2: ``engine``; the batch's packed windows: ``packing``, the pure layout, and ``packed``),
the language a dictation is decoded in (``languages``), the words the engine is told before it decodes
(``biasing``) and the audio's scores for candidate spellings (``acoustic``). May import: settings,
errors, records, ``vocabulary``, ``text`` (the questions the text layer asks). Never ``store`` or the
web layer.
"""
