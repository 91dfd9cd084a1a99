"""The exception tree of the pipeline.

Every error the pipeline raises on purpose derives from ``TranscribeError``::

    TranscribeError
    ├── ConfigurationError        refuse to start: a setting or a model is wrong
    │   └── ModelUnavailable      the model cannot be found, assembled or loaded
    ├── InputError                the dictation itself is bad: quarantine at once
    │   ├── AudioUnreadable       empty, truncated, not audio, no audio stream
    │   └── UnsupportedFormat     a format FFmpeg cannot decode (DS2)
    ├── StageError                a stage failed on good input: retry, then quarantine
    │   └── TranscriptionFailed   the ASR engine failed
    ├── StoreError                the job store refused an operation
    │   ├── JobNotFound           no job has that id
    │   ├── StoreUnavailable      the store does not answer (a database restart, a locked SQLite): waited out
    │   └── StoreDown             it has not answered for ``store.outage_limit_s``: the process stops, loudly
    ├── ReviewError               a report cannot be validated as asked
    │   ├── IdentityMismatch      the dictated identity disagrees with the chosen patient
    │   └── PatientUnknown        no such patient in the index
    ├── FilingError               a validated report could not be filed (it waits, nothing is lost)
    ├── CodingError               a code set cannot be imported or read, a code is not in its set
    └── AuditError                the audit trail cannot be checked or changed as asked
        └── AnchorInvalid         its anchor file is damaged or forged (audit_anchor)

Messages say what failed, on which file, and what to do about it; they are
written for the secretary or the person who runs the service.
"""

from __future__ import annotations


class TranscribeError(Exception):
    """Base of every error raised on purpose by the pipeline."""


class ConfigurationError(TranscribeError):
    """A setting, a file the settings name, or the model is wrong: do not start."""


class ModelUnavailable(ConfigurationError):
    """The ASR model cannot be resolved, assembled, verified or loaded."""


class AlreadyRunning(TranscribeError):
    """The same work is being done by another process now (a second nightly batch): nothing is wrong, wait."""


class InputError(TranscribeError):
    """The dictation file itself is unusable: quarantine it without retrying."""

    #: A short machine-readable kind, written into the quarantine record.
    kind = "input"
    #: What a person should do about it.
    hint = "check the file and send it again"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class AudioUnreadable(InputError):
    """The file is empty, truncated, not audio, or holds no audio stream."""

    kind = "audio-unreadable"
    hint = "re-export the dictation from the recorder and drop it in the inbox again"


class UnsupportedFormat(InputError):
    """The file is audio in a format that cannot be decoded here."""

    kind = "unsupported-format"
    hint = "convert it to WAV, MP3 or M4A with the recorder's software and drop it again"


class StageError(TranscribeError):
    """A stage failed on input that looked good: the worker retries, then quarantines."""

    kind = "stage"
    hint = "requeue it with 'transcribe requeue ID'; if it fails again, report it"


class TranscriptionFailed(StageError):
    """The ASR engine failed on this dictation."""

    kind = "transcription-failed"


class StoreError(TranscribeError):
    """The job store refused an operation."""


class JobNotFound(StoreError):
    """No job has the id that was asked for."""


class StoreUnavailable(StoreError):
    """The job store does not answer now (server restarting or unreachable, SQLite locked): try again later."""


class StoreDown(StoreError):
    """The job store has not answered for longer than ``store.outage_limit_s``: the process stops, for a person to look."""


class ReviewError(TranscribeError):
    """A report cannot be validated as asked; the message says what to do."""


class IdentityMismatch(ReviewError):
    """The identity dictated or given with the audio disagrees with the chosen patient.

    ``problems`` says how; each door says how to confirm (a box on the screen, a flag on the
    command line) once a person has checked the audio.
    """

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class PatientUnknown(ReviewError):
    """The patient asked for is not in the patient index."""


class FilingError(TranscribeError):
    """A validated report could not be filed; it stays validated and waits."""


class CodingError(TranscribeError):
    """A file is not an official code set we read, or a code asked for is not in the site's code sets."""


class AuditError(TranscribeError):
    """The audit trail cannot be checked or changed as asked; the message says what to do."""
