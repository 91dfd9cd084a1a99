"""The records that flow between stages: frozen dataclasses, no behaviour beyond conversion."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.messages import identity_message

if TYPE_CHECKING:
    from transcribe.coding.records import ChosenCode


class JobState(enum.StrEnum):
    """Where a dictation is in the pipeline."""

    RECEIVED = "received"
    QUEUED = "queued"
    TRANSCRIBING = "transcribing"
    DRAFTED = "drafted"
    RETURNED = "returned"
    VALIDATED = "validated"
    FILED = "filed"
    QUARANTINED = "quarantined"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Word:
    """One recognised word with its place in the audio and the engine's confidence."""

    text: str
    start_s: float
    end_s: float
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as the engine cut it."""

    text: str
    start_s: float
    end_s: float
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0


@dataclass(frozen=True)
class Transcript:
    """What the ASR engine heard in one dictation, and how it was made."""

    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration_s: float
    model: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The engine's raw text, segments joined by spaces."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word of every segment, in order."""
        return tuple(w for s in self.segments for w in s.words)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping; ``transcript_from_json`` reads it back."""
        data = asdict(self)
        data["text"] = self.text
        return data


def transcript_from_json(data: dict[str, Any]) -> Transcript:
    """Rebuild a transcript from the mapping written by ``Transcript.to_json``."""
    segments = tuple(
        Segment(
            text=s["text"],
            start_s=float(s["start_s"]),
            end_s=float(s["end_s"]),
            words=tuple(Word(**w) for w in s.get("words", ())),
            avg_logprob=float(s.get("avg_logprob", 0.0)),
            no_speech_prob=float(s.get("no_speech_prob", 0.0)),
            compression_ratio=float(s.get("compression_ratio", 0.0)),
        )
        for s in data["segments"]
    )
    return Transcript(
        segments=segments,
        language=data["language"],
        language_probability=float(data.get("language_probability", 1.0)),
        duration_s=float(data["duration_s"]),
        model=data.get("model", ""),
        options=dict(data.get("options", {})),
    )


@dataclass(frozen=True)
class DictatedIdentity:
    """Who a dictation says it is about, and where that came from."""

    source: str  # "sidecar", "filename" or "dictated"
    patient_id: str | None = None
    family_name: str | None = None
    given_names: str | None = None
    birth_date: date | None = None
    evidence: str = ""
    #: "M" or "F" when the dictation says it ("Monsieur", "Madame"), else ""
    sex: str = ""
    #: the age it gives ("de 68 ans"), in years
    age: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DictatedIdentity | None:
        """Read back what ``to_json`` stored; None for nothing stored."""
        if not data:
            return None
        birth, age, sex = data.get("birth_date"), data.get("age"), data.get("sex")
        return cls(
            data.get("source", "dictated"),
            data.get("patient_id"),
            data.get("family_name"),
            data.get("given_names"),
            date.fromisoformat(birth) if birth else None,
            data.get("evidence", ""),
            sex=sex if sex in ("M", "F") else "",
            age=int(age) if isinstance(age, int) or (isinstance(age, str) and age.isdigit()) else None,
        )

    @property
    def names_someone(self) -> bool:
        """Whether it names a patient (an identifier or a name), not only a sex or an age."""
        return bool(self.patient_id or self.family_name)


@dataclass(frozen=True)
class IdentityNote:
    """A piece of identity evidence or a conflict, as data: a code of ``messages.IDENTITY`` and its parameters.

    Dates are ISO (``1950-03-12``), sexes "M" or "F", sources "sidecar", "filename" or "dictated":
    each door writes them in its reader's language; ``str()`` is the English.
    """

    code: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return identity_message(self.code, "en", **self.params)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, stored with the job."""
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IdentityNote:
        """Read back what ``to_json`` stored."""
        return cls(str(data.get("code", "")), {str(k): str(v) for k, v in (data.get("params") or {}).items()})


@dataclass(frozen=True)
class PatientCandidate:
    """A patient of the index the draft found worth offering, as stored with the job."""

    patient_id: str
    name: str
    birth_date: date | None
    score: float
    evidence: tuple[IdentityNote, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "patient_id": self.patient_id,
            "name": self.name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "score": self.score,
            "evidence": [e.to_json() for e in self.evidence],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PatientCandidate:
        """Read back what ``to_json`` stored."""
        birth = data.get("birth_date")
        return cls(
            str(data.get("patient_id", "")),
            str(data.get("name", "")),
            date.fromisoformat(birth) if birth else None,
            float(data.get("score", 0.0)),
            tuple(IdentityNote.from_json(e) for e in data.get("evidence", ()) if isinstance(e, dict)),
        )


@dataclass(frozen=True)
class PatientProposal:
    """Who the draft found a dictation is about: the identity it gives, the dictated one, the candidates.

    ``identity`` is what was matched on (sidecar, file name, else the dictated opening);
    ``dictated`` is the opening's, kept for the mismatch check; ``proposed`` is the candidate
    pre-chosen for the secretary, if one stood out.
    """

    identity: DictatedIdentity | None = None
    dictated: DictatedIdentity | None = None
    candidates: tuple[PatientCandidate, ...] = ()
    proposed: str | None = None

    @property
    def sources(self) -> tuple[DictatedIdentity, ...]:
        """Every identity the dictation gave, matched-on first."""
        return tuple(i for i in (self.identity, self.dictated) if i is not None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, stored with the job for the secretary."""
        return {
            "identity": self.identity.to_json() if self.identity else None,
            "dictated": self.dictated.to_json() if self.dictated else None,
            "candidates": [c.to_json() for c in self.candidates],
            "proposed": self.proposed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> PatientProposal | None:
        """Read back what ``to_json`` stored; None for nothing stored."""
        if not data:
            return None
        return cls(
            DictatedIdentity.from_json(data.get("identity")),
            DictatedIdentity.from_json(data.get("dictated")),
            tuple(PatientCandidate.from_json(c) for c in data.get("candidates", ()) if isinstance(c, dict)),
            data.get("proposed"),
        )


@dataclass(frozen=True)
class DictationMetadata:
    """What a sidecar file says about a dictation (``intake.sidecars`` reads and checks it); empty when none came."""

    author: str | None = None
    identity: DictatedIdentity | None = None
    worktype: str | None = None
    priority: str = "normal"
    due_date: date | None = None
    language: str | None = None
    copies: tuple[str, ...] = field(default_factory=tuple)
    specialty: str | None = None
    #: the addressee of the report (a letter's "Docteur Bernard, médecin traitant")
    recipient: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, as stored with the job."""
        return {
            "author": self.author,
            "identity": self.identity.to_json() if self.identity else None,
            "worktype": self.worktype,
            "priority": self.priority,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "language": self.language,
            "specialty": self.specialty,
            "copies": list(self.copies),
            "recipient": self.recipient,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DictationMetadata:
        """Read back what ``to_json`` stored (an empty record for nothing stored)."""
        if not data:
            return cls()
        due = data.get("due_date")
        return cls(
            author=data.get("author"),
            identity=DictatedIdentity.from_json(data.get("identity")),
            worktype=data.get("worktype"),
            priority=data.get("priority") or "normal",
            due_date=date.fromisoformat(due) if due else None,
            language=data.get("language"),
            copies=tuple(data.get("copies") or ()),
            specialty=data.get("specialty"),
            recipient=data.get("recipient"),
        )


@dataclass(frozen=True)
class Job:
    """One dictation and its progress through the pipeline."""

    id: int
    audio_sha256: str
    author: str
    original_name: str
    audio_path: Path
    state: JobState
    attempts: int
    error: str | None
    duration_s: float | None
    language: str | None
    model: str | None
    options: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    claimed_by: str | None = None
    lease_until: datetime | None = None
    vocabulary_version: str | None = None
    flag_count: int = 0
    worktype: str | None = None
    priority: str = "normal"
    due_date: str | None = None
    #: what the sidecar file said (an empty record when none came)
    metadata: DictationMetadata = field(default_factory=DictationMetadata)
    patient_id: str | None = None
    #: who the draft found the dictation is about (None before a draft)
    identity: PatientProposal | None = None
    report_version: int = 0
    filing_error: str | None = None
    return_comment: str | None = None
    #: after a failed attempt, when the job may be claimed again
    next_try_at: datetime | None = None


@dataclass(frozen=True)
class DraftPaths:
    """The files a drafted job produced."""

    transcript_json: Path
    edits_json: Path
    text: Path
    docx: Path


@dataclass(frozen=True)
class Edit:
    """One change the text layer made: ``source[start:end]`` (``before``) became ``after``.

    Offsets are in the transcript's source text (``CleanText.source``). Edits never
    overlap, so each can be shown, and undone, on its own.
    """

    start: int
    end: int
    before: str
    after: str
    rule: str
    confidence: float = 1.0
    #: what the change rests on, for a person to see (the audio's ranking of a term: ``term-audio``)
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Flag:
    """A span a person must check before the report is validated, and why."""

    start: int
    end: int
    text_start: int
    text_end: int
    kind: str
    reason: str
    suggestion: str | None = None
    #: the readings a person chooses between (a doubtful dose: "5 g" or "5000 g"); the flag cannot be
    #: ticked while the text still holds the doubtful form
    choices: tuple[str, ...] = ()
    #: what kind of doubt it is: a code of ``transcribe.messages.FLAGS``, rendered with ``params`` in the
    #: reader's language (``reason`` is its English text)
    code: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A spelling the audio is asked about: it would replace words ``first`` to ``last`` (inclusive)."""

    first: int
    last: int
    spelling: str
    #: how near the heard letters are to it, out of 100 (spelling and sound together)
    nearness: float
    #: where it came from: "lexicon", or "list" (the dictation's biasing list)
    source: str
    is_drug: bool = False


@dataclass(frozen=True)
class AudioQuestion:
    """A doubtful stretch of a transcript (words ``first`` to ``last``, inclusive) and its candidates.

    ``start`` and ``end`` place it in the transcript's source text (``transcribe.text.tokens.source_of``).
    """

    first: int
    last: int
    start: int
    end: int
    heard: str
    candidates: tuple[Candidate, ...] = ()
    #: the lowest engine confidence of the words of the stretch
    probability: float = 1.0
    #: "term": which spelling the audio prefers; "list-term": whether the audio holds a term of the biasing
    #: list the engine wrote with low confidence (its candidate is what the engine writes without the list)
    kind: str = "term"
    #: the transcript's words a loop repeats (the text layer removes them): the audio is scored without them
    repeated_words: tuple[int, ...] = ()


@dataclass(frozen=True)
class CandidateScore:
    """A candidate as the audio scored it: ``margin`` is its log-probability minus the heard words' (nats)."""

    spelling: str
    first: int
    last: int
    margin: float
    nearness: float
    source: str
    is_drug: bool = False


@dataclass(frozen=True)
class AudioEvidence:
    """What the audio said about one question: its candidates, best first (``transcribe.speech.acoustic``)."""

    first: int
    last: int
    heard: str
    scores: tuple[CandidateScore, ...] = ()
    kind: str = "term"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, kept with the transcript (``options.audio_evidence``)."""
        return asdict(self)


def evidence_from_json(data: dict[str, Any]) -> AudioEvidence:
    """Rebuild audio evidence from the mapping written by ``AudioEvidence.to_json``."""
    scores = tuple(CandidateScore(**s) for s in data.get("scores", ()))
    return AudioEvidence(
        int(data["first"]), int(data["last"]), str(data["heard"]), scores, str(data.get("kind", "term"))
    )


@dataclass(frozen=True)
class CleanText:
    """The text layer's result: clean text, the edits that made it, and what to check."""

    source: str
    text: str
    edits: tuple[Edit, ...]
    flags: tuple[Flag, ...]
    language: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping of the text, edits and flags."""
        return asdict(self)


def format_duration(seconds: float | None) -> str:
    """A recording's length as every screen shows it ("1:05"); "" when unknown.

    Whole seconds, cut as the browser's audio player cuts them: a list saying "1:00" beside a
    player saying "0:59" reads as two lengths.
    """
    if seconds is None:
        return ""
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    return f"{minutes}:{secs:02d}"


def apply_edits(source: str, edits: tuple[Edit, ...] | list[Edit]) -> str:
    """The text obtained by applying these (non-overlapping) edits to ``source``."""
    parts: list[str] = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < position:
            raise ValueError(f"edits overlap at {edit.start}")
        parts.append(source[position : edit.start])
        parts.append(edit.after)
        position = edit.end
    parts.append(source[position:])
    return "".join(parts)


@dataclass(frozen=True)
class ProposalDraft:
    """A vocabulary change the validated reports suggest: a term to add, a correction rule, or a term to
    tell the engine to expect (``biasing``); kept by the store as a proposal an admin decides on."""

    kind: str  # "term", "correction" or "biasing"
    language: str
    author: str
    target: str
    wrong_forms: tuple[tuple[str, int], ...]
    count: int


@dataclass(frozen=True)
class ProposalEffect:
    """What replaying a proposal on its author's past validated dictations changed."""

    dictations: int
    errors_fixed: int
    errors_introduced: int


@dataclass(frozen=True)
class Proposal:
    """A kept proposal, as the store hands it out: the draft, its state and the admin's decision."""

    id: int
    kind: str  # "term", "correction" or "biasing"
    language: str
    author: str
    target: str
    wrong_forms: tuple[tuple[str, int], ...]
    count: int
    status: str  # "open", "accepted" or "rejected"
    created_at: float
    effect: ProposalEffect | None = None
    decided_by: str | None = None
    decided_at: float | None = None


@dataclass(frozen=True)
class ValidatedReport:
    """A version of a report as the secretary validated it (the store's ``reports`` row), with the codes
    chosen for it (diagnoses first) and the letter's addressee and copies."""

    job_id: int
    version: int
    worktype: str
    language: str | None
    text: str
    patient_id: str
    validated_by: str
    validated_at: float
    identity_confirmed_by: str | None = None
    recipient: str | None = None
    copies: tuple[str, ...] = ()
    codes: tuple[ChosenCode, ...] = ()


@dataclass(frozen=True)
class Filing:
    """Where a report version was filed: its documents, and each exchange format's path or why it was refused."""

    job_id: int
    version: int
    patient_id: str
    docx_path: str
    pdf_path: str | None
    sidecar_path: str
    filed_at: float
    formats: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PatientFiling:
    """A filing of a patient's record with what its listing shows of the report and the dictation."""

    filing: Filing
    worktype: str
    validated_at: float
    validated_by: str
    author: str
    audio_sha256: str | None
    audio_path: str | None
    original_name: str | None
