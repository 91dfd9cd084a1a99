"""Medical dictation and transcription pipeline: inbox -> ASR -> text -> report -> review -> filing."""

__version__ = "0.1.0"
