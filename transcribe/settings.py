"""One typed settings object, built once at start-up and passed down.

The sections and their defaults are here; ``transcribe.settings_loading`` builds the
object from the file, the environment and the flags, and checks it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_FILE_NAME = "transcribe.toml"
ENV_PREFIX = "TRANSCRIBE_"
CONFIG_ENV = "TRANSCRIBE_CONFIG"

DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = (
    "auto",
    "default",
    "int8",
    "int8_float16",
    "int8_bfloat16",
    "int8_float32",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


def _default_model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "transcribe" / "models"


@dataclass(frozen=True)
class PathSettings:
    """Where the pipeline reads and writes; relative paths start at the site folder."""

    inbox: Path = Path("inbox")
    outbox: Path = Path("outbox")
    quarantine: Path = Path("quarantine")
    data: Path = Path("data")
    models: Path = Path("models")
    vocab: Path = Path("vocab")
    site_vocab: Path = Path("vocab/site")
    templates: Path = Path("templates")
    #: every received dictation as received; on several hosts, a shared folder mounted at the same path
    archive: Path = Path("data/archive")
    #: one sub-folder of draft outputs per job; shared like the archive
    drafts: Path = Path("data/drafts")
    #: the site's secret key (keys the audit chain and the hashes of mistyped user names); kept out of the
    #: store, created on first use, the same file on every host of a site, never in a backup of the database
    site_key: Path = Path("data/site.key")
    #: the site's own calibration of the audio's rule, per model (``transcribe calibrate`` writes it)
    audio_rule: Path = Path("data/audio-rule.json")


@dataclass(frozen=True)
class StoreSettings:
    """The job store. An empty URL means SQLite in the data folder."""

    url: str = ""
    #: a store that does not answer (a database restart, a locked SQLite) is waited for this long, then the
    #: process reports it and exits with a failure (for its supervisor)
    outage_limit_s: float = 900.0
    #: the longest wait between two tries while the store does not answer (the waits double up to it)
    retry_max_s: float = 15.0


@dataclass(frozen=True)
class IntakeSettings:
    """How the inbox is watched."""

    settle_s: float = 1.0
    polling: bool = False
    poll_interval_s: float = 1.0
    default_author: str = "unknown"
    #: how long a complete dictation without its sidecar waits for one (recorders that write it after the audio)
    sidecar_wait_s: float = 0.0


@dataclass(frozen=True)
class AsrSettings:
    """The speech recognition engine (faster-whisper)."""

    model: str = "bundled-base"
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    language: str = "auto"
    #: the languages this site dictates in (comma-separated); a detection outside them is not trusted
    languages: str = "fr,en"
    #: below this probability a detected language is not trusted: the dictation is transcribed again
    min_language_probability: float = 0.6
    beam_size: int = 5
    vad_filter: bool = True
    #: "hotwords": tell the engine the dictation's likely words (patient, author, learned, specialty); "off"
    biasing: str = "hotwords"
    #: the specialty of authors who have none of their own ("" : none); ``transcribe run --specialty`` sets it
    specialty: str = ""
    #: with no specialty known (not said, not set, none standing out in the author's filed reports), decode the
    #: first this many seconds once without a list, fast, to hear which specialty it is (0: never)
    first_pass_s: float = 15.0
    #: "author": also give the author's terms as the initial prompt (slower, copies more: measured); "off"
    prompt: str = "off"
    #: score the doubtful medical words and the low-confidence list terms against the audio (transcribe.speech.acoustic)
    audio_evidence: bool = True
    model_cache: Path = field(default_factory=_default_model_cache)


@dataclass(frozen=True)
class TextSettings:
    """The medical text layer: site policies."""

    abbreviations: str = "keep"
    correct_terms: bool = True
    #: a section's heading in the document: "dictated" (the words dictated: "Traitement") or "standard"
    #: (the section's title in vocab/<lang>/sections.tsv: "Conduite à tenir")
    headings: str = "dictated"


@dataclass(frozen=True)
class BatchSettings:
    """The nightly batch (``transcribe batch``)."""

    window_files: int = 16
    batch_size: int = 8
    #: the speech clips of short dictations decoded alike share the engine's 30-second windows (``speech.packing``)
    packing: bool = True
    processes: int = 0  # 0: on a CPU one process per core (at most 8) with one thread each; on a GPU one


@dataclass(frozen=True)
class WorkerSettings:
    """How jobs are run, retried and leased."""

    max_attempts: int = 3
    lease_s: float = 120.0
    poll_s: float = 0.5
    filing_retry_s: float = 30.0
    #: a failed job is tried again after retry_base_s, then twice as long each time, at most retry_max_s
    retry_base_s: float = 60.0
    retry_max_s: float = 3600.0


@dataclass(frozen=True)
class PracticeSettings:
    """The practice or department, as the letterhead shows it."""

    name: str = ""
    address: str = ""
    phone: str = ""
    city: str = ""
    #: the practice's FINESS number (an establishment) or SIRET (a practice): the custodian of its CDA documents
    finess: str = ""
    siret: str = ""
    #: the OID under which the practice numbers its patients (IPP) and documents; "" : one made from the
    #: store's own identifier (``2.25.<number>``), the same on every host of the site
    oid: str = ""


@dataclass(frozen=True)
class FilingSettings:
    """Where and how validated reports are filed into patient records."""

    path: str = "{patient_id}_{FAMILY}/{date}_{worktype}_{job}"
    pdf: bool = False
    #: how long LibreOffice may take to make one PDF copy before the filing is given up (and tried again later)
    pdf_timeout_s: float = 180.0
    #: exchange formats filed beside the DOCX (any of ``exchange.FORMATS``: pdfa, cda, fhir, hprim)
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetentionSettings:
    """How long what was used to make a filed report is kept once it is filed (0: kept; filed reports always are)."""

    #: days after filing before the dictation's audio (archive copy and listening copy) is deleted
    audio_days: int = 0
    #: days after filing before the draft files (transcript, edits, draft text and document) are deleted
    drafts_days: int = 0


@dataclass(frozen=True)
class ReviewSettings:
    """The review web app started by ``transcribe serve``."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8077
    language: str = "fr"
    secure_cookies: bool = False
    session_idle_minutes: int = 30
    #: addresses of the reverse proxies in front of the app (comma-separated); only from them is
    #: ``client_header`` believed to name the real client (login throttling counts per user and client)
    trusted_proxies: str = ""
    client_header: str = "X-Forwarded-For"
    session_hours: int = 12
    key_play_pause: str = "F9"
    key_rewind: str = "F7"
    key_forward: str = "F8"
    rewind_s: float = 3.0
    #: a validated report waits for its author's signature (in the review app) before it is filed
    doctor_signs: bool = False
    #: with doctor_signs, who signs a report whose author has no doctor's account (the inbox root's
    #: "unknown", a folder no account names): "admin" (any administrator), a doctor's user name, or
    #: "nobody" (filed without a signature)
    signer_without_account: str = "admin"


@dataclass(frozen=True)
class AuthorSettings:
    """What is known of one author (a doctor who dictates)."""

    language: str = "auto"
    name: str = ""
    worktype: str = ""
    #: the specialty the author dictates in (see transcribe/vocabulary/specialties.py): chooses the engine's word list
    specialty: str = ""
    #: the author's RPPS number (11 digits), on the letterhead, the signature and the exchange formats
    rpps: str = ""
    #: how the author's letters open and close when the dictation does not say it ("" : the language's default)
    salutation: str = ""
    closing: str = ""


@dataclass(frozen=True)
class Settings:
    """Every setting of the pipeline."""

    site: Path = Path(".")
    log_level: str = "INFO"
    paths: PathSettings = field(default_factory=PathSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    text: TextSettings = field(default_factory=TextSettings)
    practice: PracticeSettings = field(default_factory=PracticeSettings)
    filing: FilingSettings = field(default_factory=FilingSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    batch: BatchSettings = field(default_factory=BatchSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    authors: dict[str, AuthorSettings] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        """The store URL, with the embedded SQLite default filled in."""
        return self.store.url or f"sqlite:///{self.paths.data / 'store.sqlite3'}"

    @property
    def site_languages(self) -> tuple[str, ...]:
        """The languages this site dictates in, in order of preference."""
        return tuple(code.strip() for code in self.asr.languages.split(",") if code.strip())

    def specialty_for(self, author: str) -> str | None:
        """The specialty this author dictates in: their own setting, else the site's; None when neither."""
        return self.authors.get(author, AuthorSettings()).specialty or self.asr.specialty or None

    def language_for(self, author: str) -> str | None:
        """The language to transcribe this author in, or None to detect it."""
        chosen = self.authors.get(author, AuthorSettings()).language
        if chosen == "auto":
            chosen = self.asr.language
        return None if chosen == "auto" else chosen
