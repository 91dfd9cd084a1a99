"""The medical text layer: pure, string in, clean text plus edits and flags out.

``TextLayer(vocabulary).clean(transcript)`` returns a ``CleanText``. The
vocabulary is loaded at the edge by ``transcribe.vocabulary.records.load_vocabulary``.
"""

from transcribe.text.pipeline import TextLayer, TextOptions

__all__ = ["TextLayer", "TextOptions"]
