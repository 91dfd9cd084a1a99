"""The worker: the only place that knows the order of the stages.

claim a job -> decode audio -> transcribe -> text -> draft files -> mark drafted

An input error quarantines the job at once; a stage error sends it back to the
queue, to be tried again after a wait that doubles each time
(``worker.retry_base_s`` up to ``worker.retry_max_s``), until
``worker.max_attempts`` is reached; then it is quarantined. Quarantine keeps a
copy and the reason in ``quarantine/``; the archived audio never moves. While a
job runs, a heartbeat renews the worker's lease so that a worker that dies is
noticed and its job taken up again; every outcome is recorded only while the
claim is still this worker's.

When idle, the worker files the validated reports still waiting, only where the
outbox carries the marker of this store (``filing.outbox_problem``).
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from transcribe.documents.report import DraftsUnwritable, addressee_of, compose_document, write_draft
from transcribe.documents.sections import organise
from transcribe.errors import InputError, StageError, StoreUnavailable, TranscribeError
from transcribe.intake.quarantine import quarantine_file
from transcribe.patient_record.filing import file_waiting_reports, mark_outbox, outbox_problem
from transcribe.patient_record.patients import identity_from_filename, propose_patient
from transcribe.records import Job, JobState, Transcript
from transcribe.security.audit import AuditTrail
from transcribe.settings import Settings
from transcribe.speech.acoustic import with_audio_evidence
from transcribe.speech.audio import DecodedAudio, decode_dictation
from transcribe.speech.biasing import BiasingList, build_biasing, build_prompt, guess_specialty, terms_in
from transcribe.speech.engine import DecodeOptions, EncodedWindow, EngineOptions, SpeechRecognizer
from transcribe.speech.languages import LanguageCheck, check_language
from transcribe.speech.listening import write_listening_copy
from transcribe.speech.model_location import resolve_model
from transcribe.store import JobStore, WorkerIdentity, this_worker
from transcribe.store.leases import Heartbeat
from transcribe.store.outage import Outage
from transcribe.text import TextLayer, TextOptions
from transcribe.text.evidence import rule_for_model
from transcribe.text.pipeline import with_flag
from transcribe.vocabulary.files import vocabulary_folder
from transcribe.vocabulary.records import LanguageVocabulary, Vocabulary
from transcribe.vocabulary.watch import LiveVocabulary, load_site_vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What happened to one job in one attempt."""

    job_id: int
    state: JobState
    text: str | None = None
    error: str | None = None


class NoSpeech(InputError):
    """The recording holds no speech: nothing to transcribe."""

    kind = "no-speech"
    hint = "check the recorder's microphone and that the right file was sent; the recording is kept"


def load_text_layer(settings: Settings, *, warm: bool = True) -> TextLayer:
    """Load the vocabulary and build the text layer (once per worker process; ``warm``: every language now)."""
    vocabulary = load_site_vocabulary(settings)
    layer = text_layer_of(settings, vocabulary)
    if warm:
        layer.warm_up()
    log.info("vocabulary %s loaded from %s", vocabulary.version, vocabulary_folder(settings.paths.vocab))
    return layer


def text_layer_of(settings: Settings, vocabulary: Vocabulary) -> TextLayer:
    """The text layer on a vocabulary, with the site's text settings."""
    return TextLayer(vocabulary, TextOptions(settings.text.abbreviations, settings.text.correct_terms))


def load_recognizer(settings: Settings) -> SpeechRecognizer:
    """Resolve and load the configured model (once per worker process)."""
    model = resolve_model(settings.asr.model, models_dir=settings.paths.models, cache_dir=settings.asr.model_cache)
    recognizer = SpeechRecognizer(
        model,
        EngineOptions(settings.asr.device, settings.asr.compute_type, settings.asr.cpu_threads),
    )
    if recognizer.device == "cuda":  # the device's start at load, not on the first dictation
        log.info("engine warmed up on %s in %.1f s", recognizer.device, recognizer.warm_up())
    return recognizer


class Worker:
    """Runs claimed jobs through the stages, one at a time."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        recognizer: SpeechRecognizer | Callable[[], SpeechRecognizer],
        text_layer: TextLayer,
        *,
        identity: WorkerIdentity | None = None,
        front_host: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self._recognizer = recognizer
        self.text_layer = text_layer
        self.identity = identity or this_worker()
        self.audit = AuditTrail.of_site(store, settings).by(f"worker:{self.identity}")
        #: ``serve``'s worker: it marks the outbox as this store's (``filing.mark_outbox``) before filing
        self.front_host = front_host
        self._outbox_problem: str | None = ""  # "": not looked at yet
        self._vocabulary = LiveVocabulary(settings, text_layer.vocabulary)
        #: jobs this worker holds whose work a store outage cut off
        self._cut_off: set[int] = set()
        #: what the loop did with each job it claimed (by the state it left it in), for the service's summary
        self.tally: Counter[str] = Counter()

    @property
    def recognizer(self) -> SpeechRecognizer:
        """The loaded engine; loaded on first use when given a loader."""
        if not isinstance(self._recognizer, SpeechRecognizer):
            self._recognizer = self._recognizer()
        return self._recognizer

    def run(self, stop: threading.Event) -> None:
        """Process queued jobs until ``stop`` is set; when idle, file the validated reports still waiting.

        A store that does not answer is waited out (``store/outage.py``): the job in hand is given back to
        the queue once it answers again; past ``store.outage_limit_s``, ``StoreDown`` ends the loop.
        """
        outage = Outage("the worker", self.settings.store)
        last_filing = last_release = float("-inf")
        while not stop.is_set():
            try:
                if time.monotonic() - last_release >= min(30.0, self.settings.worker.lease_s / 2):
                    self.store.claims.release_abandoned()  # a worker that died elsewhere: its jobs come back
                    last_release = time.monotonic()
                if outage.ongoing:
                    self.store.ping()
                    outage.answered()
                    self._give_back_cut_off()
                self.reload_vocabulary_if_changed()
                outcome = self.run_next()
                if outcome is not None:
                    self.tally[outcome.state.value] += 1
                else:
                    if time.monotonic() - last_filing >= self.settings.worker.filing_retry_s:
                        last_filing = time.monotonic()
                        self.file_waiting()
                    stop.wait(self.settings.worker.poll_s)
            except StoreUnavailable as e:
                stop.wait(outage.failed(e))

    def _give_back_cut_off(self) -> None:
        """Give back to the queue the jobs whose work the store outage cut off (redone at once, not after a lease)."""
        while self._cut_off:
            job_id = self._cut_off.pop()
            if self.store.claims.give_back(
                job_id, self.identity, "the job store stopped answering while it was in hand"
            ):
                log.info("job %d: given back to the queue after the store outage", job_id)

    def reload_vocabulary_if_changed(self, *, now: bool = False) -> bool:
        """Build the text layer again when the vocabulary files changed (an accepted proposal, a term the
        admin added); a vocabulary that cannot be loaded leaves the one in use (``LiveVocabulary``). The files
        are looked at at most once a second (``now``: at once)."""
        vocabulary = self._vocabulary.current(now=now)
        if vocabulary is self.text_layer.vocabulary:
            return False
        self.text_layer = text_layer_of(self.settings, vocabulary)
        return True

    def file_waiting(self) -> list[int]:
        """File the validated reports still waiting, if this host's outbox is the one of this store; the ids filed."""
        check = mark_outbox if self.front_host else outbox_problem
        problem = check(self.settings, self.store)
        if problem != self._outbox_problem:  # said once, not every round
            if problem:
                log.info("validated reports are not filed from this host: %s", problem)
            elif self._outbox_problem:
                log.info(
                    "the outbox %s is this store's: validated reports are filed from here", self.settings.paths.outbox
                )
            self._outbox_problem = problem
        if problem:
            return []
        return file_waiting_reports(self.settings, self.store, self.text_layer.vocabulary, audit=self.audit)

    def run_next(self) -> Outcome | None:
        """Claim and process the next queued job; None when the queue is empty."""
        job = self.store.claims.claim_next(self.identity, self.settings.worker.lease_s)
        if job is None:
            return None
        return self.process(job)

    def process(self, job: Job) -> Outcome:
        """Run one claimed job through every stage; never raises for a bad dictation."""
        with Heartbeat(self.store, [job.id], self.identity, self.settings.worker.lease_s):
            try:
                return self.guarded(job, lambda: self._draft(job))
            except StoreUnavailable:
                self._cut_off.add(job.id)  # still claimed by this worker: given back when the store answers
                raise

    def guarded(self, job: Job, step: Callable[[], Outcome]) -> Outcome:
        """Run a step of a claimed job: a bad dictation is quarantined, a failing stage retried, never raised."""
        try:
            return step()
        except InputError as e:
            return self._quarantine(job, e.kind, str(e), e.hint)
        except StageError as e:
            return self._fail(job, e.kind, str(e), e.hint)
        except TranscribeError:
            raise  # configuration and store errors stop the worker: they concern every job
        except Exception as e:  # a bug must not stop the service; the job is retried, then kept aside
            log.error("job %d: unexpected %s\n%s", job.id, type(e).__name__, traceback.format_exc(limit=8))
            return self._fail(
                job,
                "internal-error",
                f"internal error ({type(e).__name__})",
                "report it to the person who runs the service; the dictation is kept",
            )

    def _draft(self, job: Job) -> Outcome:
        audio = decode_dictation(job.audio_path, job.original_name)
        options, check = self.plan(job, audio)
        transcript, windows = self.recognizer.transcribe_keeping(audio, options, keep=self.settings.asr.audio_evidence)
        return self.finish(job, with_language_check(transcript, check), audio=audio, options=options, windows=windows)

    def plan(self, job: Job, audio: DecodedAudio) -> tuple[DecodeOptions, LanguageCheck | None]:
        """The language (and its doubt) and the words to tell the engine, decided before it decodes.

        The sidecar's language comes first, then the author's; otherwise the engine's detection, kept
        only when it is one of the site's languages and likely enough (``transcribe.speech.languages``).
        """
        language = self.expected_language(job)
        if language is not None:
            return self.decode_options(job, language, audio=audio), None
        return self.plan_detected(job, *self.recognizer.detect_language(audio), audio=audio)

    def plan_detected(
        self,
        job: Job,
        detected: str,
        probability: float,
        probabilities: dict[str, float],
        audio: DecodedAudio | None = None,
    ) -> tuple[DecodeOptions, LanguageCheck | None]:
        """How to decode a dictation whose language the engine detected: kept when trusted, else the likeliest
        site language (``transcribe.speech.languages``), with the doubt recorded for the text layer's flag."""
        check = check_language(
            detected,
            probability,
            site_languages=self.settings.site_languages,
            expected=None,
            probabilities=probabilities,
            min_probability=self.settings.asr.min_language_probability,
        )
        if check.rerun_in:
            log.info(
                "language %s (%.0f%%) not trusted: transcribing in %s", detected, 100 * probability, check.rerun_in
            )
        options = self.decode_options(job, check.rerun_in or detected, detected=True, audio=audio)
        return options, check if check.code else None

    def weighed(
        self,
        transcript: Transcript,
        audio: DecodedAudio,
        options: DecodeOptions,
        windows: tuple[EncodedWindow, ...] = (),
    ) -> Transcript:
        """The transcript with the audio's evidence on its doubtful medical words and list terms
        (``transcribe.speech.acoustic``), and the rule it is judged by, for the text layer."""
        rule = rule_for_model(transcript.model, self.settings.paths.audio_rule)
        questions = self.text_layer.audio_questions(transcript)
        weighed = with_audio_evidence(
            self.recognizer, audio, transcript, questions, windows=windows, beam_size=options.beam_size
        )
        return dataclasses.replace(weighed, options={**weighed.options, "audio_rule": rule.to_json()})

    def expected_language(self, job: Job) -> str | None:
        """The language a person said this dictation is in: its sidecar's, else its author's setting."""
        return job.metadata.language or self.settings.language_for(job.author)

    def finish(
        self,
        job: Job,
        transcript: Transcript,
        *,
        audio: DecodedAudio | None = None,
        options: DecodeOptions | None = None,
        windows: tuple[EncodedWindow, ...] = (),
    ) -> Outcome:
        """Everything after the engine: text layer, report, patient proposal, draft files, the store.

        With the audio (and ``asr.audio_evidence``), the doubtful medical words and the terms of the
        biasing list written with low confidence are first scored against it (``transcribe.speech.acoustic``);
        with the audio, the listening copy the review screen plays is written beside the draft.
        """
        if not transcript.words:
            raise NoSpeech(
                f"{job.original_name}: no speech was found in the recording "
                f"({transcript.duration_s:.0f} s of silence, noise or music)"
            )
        if audio is not None and options is not None and self.settings.asr.audio_evidence:
            transcript = self.weighed(transcript, audio, options, windows)
        clean = self.text_layer.clean(transcript, author=job.author)
        language_doubt = transcript.options.get("language_check") or {}
        if language_doubt.get("code"):
            clean = with_flag(clean, "language", language_doubt["code"], language_doubt.get("params") or {})
        vocab = self.text_layer.vocabulary.for_language(transcript.language)
        author = self.settings.authors.get(job.author)
        content = organise(
            clean.text,
            vocab,
            metadata_worktype=job.worktype,
            author_default=author.worktype if author and author.worktype else None,
            headings=self.settings.text.headings,
        )
        sidecar_identity = job.metadata.identity
        proposal = propose_patient(
            sidecar_identity, job.original_name, clean.text, self.store.patients.patient_candidates
        )
        patient = self.store.patients.patient(proposal.proposed) if proposal.proposed else None
        addressee = addressee_of(
            worktype=content.worktype,
            text=clean.text,
            language=transcript.language,
            metadata=job.metadata,
            patient=patient,
        )
        document = compose_document(
            self.settings,
            vocab,
            text=clean.text,
            worktype=content.worktype,
            language=transcript.language,
            author=job.author,
            patient=patient,
            copies=addressee.copies,
            recipient=addressee.recipient,
            day=job.created_at.astimezone().date(),
            draft=True,
        )
        version = self.text_layer.vocabulary.version
        folder = self.settings.paths.drafts / str(job.id)
        paths = write_draft(folder, transcript, clean, content, document, version)
        if audio is not None:  # the review screen plays it at once, however long the dictation
            write_listening(folder, audio)
        done = self.store.claims.mark_drafted(
            job.id,
            self.identity,
            duration_s=transcript.duration_s,
            language=transcript.language,
            model=transcript.model,
            options=transcript.options,
            outputs={
                "transcript": paths.transcript_json,
                "edits": paths.edits_json,
                "text": paths.text,
                "docx": paths.docx,
            },
            vocabulary_version=version,
            flag_count=len(clean.flags),
            worktype=content.worktype,
            identity=proposal,
            patient_id=proposal.proposed,
        )
        if not done:
            log.warning("job %d: the claim was lost while transcribing; another worker owns it now", job.id)
            return Outcome(job.id, self.store.jobs.get(job.id).state)
        log.info("job %d drafted (%.1f s of audio, %s)", job.id, transcript.duration_s, transcript.language)
        return Outcome(job.id, JobState.DRAFTED, text=clean.text)

    def decode_options(
        self, job: Job, language: str | None, *, detected: bool = False, audio: DecodedAudio | None = None
    ) -> DecodeOptions:
        """How this job's dictation is transcribed: its language, its biasing list, the site's prompt choice."""
        vocabulary = self.text_layer.vocabulary
        prompt = None
        if self.settings.asr.prompt == "author":
            prompt = build_prompt(vocabulary.author_terms.get(job.author, ()), language)
        biasing = BiasingList()
        if self.settings.asr.biasing == "hotwords":
            biasing = self.biasing_for(job, language, audio)
        given = tuple(dict.fromkeys((prompt.terms if prompt else ()) + biasing.terms))
        return DecodeOptions(
            language=language,
            beam_size=self.settings.asr.beam_size,
            vad_filter=self.settings.asr.vad_filter,
            initial_prompt=prompt.text if prompt else None,
            prompt_terms=given,
            hotwords=biasing.hotwords,
            biasing=biasing.to_json() if biasing.terms else None,
            detected=detected,
        )

    def biasing_for(self, job: Job, language: str | None, audio: DecodedAudio | None = None) -> BiasingList:
        """The words this dictation is likely to contain: its patient's, its author's, its specialty's."""
        vocabulary = self.text_layer.vocabulary
        vocab = vocabulary.for_language(language) if language else None
        groups: list[tuple[str, Iterable[str]]] = []
        patient_id = patient_known_at_intake(job)
        if patient_id and vocab is not None:
            history = self.store.reports.filed_texts_of_patient(patient_id, limit=10)
            groups.append(("patient", [term for term, _ in terms_in(history, vocab)]))
        groups.append(("author", vocabulary.author_terms.get(job.author, ())))
        groups.append(("learned", vocabulary.learned_terms.get(job.author, ())))
        specialty, source = ("", "")
        if vocab is not None and language is not None:
            specialty, source = self.specialty_of(job, vocab, language, audio)
        if specialty and vocab is not None:
            groups.append(("specialty", vocab.specialty_terms.get(specialty, ())))
        return dataclasses.replace(build_biasing(groups), specialty=specialty, specialty_source=source)

    def specialty_of(
        self, job: Job, vocab: LanguageVocabulary, language: str, audio: DecodedAudio | None
    ) -> tuple[str, str]:
        """The specialty of a dictation and how it is known: said with it, set for its author or the site, the
        most frequent in its author's filed reports, or heard in a first pass over its start without a list
        (``asr.first_pass``); ("", "") when none stands out."""
        said = job.metadata.specialty
        if said:
            return said, "sidecar"
        own = self.settings.authors.get(job.author)
        if own is not None and own.specialty:
            return own.specialty, "author"
        if self.settings.asr.specialty:
            return self.settings.asr.specialty, "site"
        guessed = guess_specialty(self.store.reports.filed_texts_of_author(job.author, language), vocab)
        if guessed:
            return guessed, "author-reports"
        if audio is not None and self.settings.asr.first_pass_s > 0:
            guessed = first_pass_specialty(
                self.recognizer, self.text_layer, audio, language, vocab, self.settings.asr.first_pass_s
            )
            if guessed:
                return guessed, "first-pass"
        return "", ""

    def quarantine(self, job: Job, error: InputError) -> Outcome:
        """Keep a bad dictation aside with its reason."""
        return self._quarantine(job, error.kind, str(error), error.hint)

    def _fail(self, job: Job, kind: str, message: str, hint: str) -> Outcome:
        if job.attempts >= self.settings.worker.max_attempts:
            return self._quarantine(job, kind, f"{message} (after {job.attempts} attempts)", hint)
        wait_s = retry_delay_s(job.attempts, self.settings.worker.retry_base_s, self.settings.worker.retry_max_s)
        detail = f"attempt {job.attempts} of {self.settings.worker.max_attempts}: {message}; next try in {wait_s:.0f} s"
        if not self.store.claims.mark_failed(job.id, self.identity, detail, retry_in_s=wait_s):
            return self._claim_lost(job, "recording its failure")
        log.warning(
            "job %d failed (%s), attempt %d of %d; tried again in %.0f s",
            job.id,
            kind,
            job.attempts,
            self.settings.worker.max_attempts,
            wait_s,
        )
        return Outcome(job.id, JobState.QUEUED, error=message)

    def _quarantine(self, job: Job, kind: str, message: str, hint: str) -> Outcome:
        earlier = tuple(detail or "" for _, event, _, detail in self.store.jobs.events(job.id) if event == "failed")
        error = f"{message}. What to do: {hint}"
        if not self.store.claims.quarantine(job.id, self.identity, error=error, audit=self.audit, kind=kind):
            return self._claim_lost(job, "quarantining it")
        try:  # a copy for the person who looks into quarantine/; the archived audio stays as received
            quarantine_file(
                job.audio_path,
                self.settings.paths.quarantine,
                original_name=job.original_name,
                job_id=job.id,
                kind=kind,
                error=message,
                what_to_do=hint,
                attempts=job.attempts,
                copy=True,
                earlier_errors=earlier[-20:],
            )
        except OSError as e:
            log.error(
                "job %d: no copy could be put in quarantine (%s); the reason is in the store ('transcribe jobs') "
                "and the audio in the archive",
                job.id,
                e.strerror,
            )
        log.warning("job %d quarantined (%s)", job.id, kind)
        return Outcome(job.id, JobState.QUARANTINED, error=message)

    def _claim_lost(self, job: Job, doing: str) -> Outcome:
        """Another worker took the job over (this one's lease ran out): its outcome is left to that worker."""
        now = self.store.jobs.get(job.id)
        log.warning(
            "job %d: the claim was lost before %s; it is %s now, and left as it is", job.id, doing, now.state.value
        )
        return Outcome(job.id, now.state, error=now.error)


def first_pass_specialty(
    recognizer: SpeechRecognizer,
    text_layer: TextLayer,
    audio: DecodedAudio,
    language: str,
    vocab: LanguageVocabulary,
    seconds: float,
) -> str:
    """The specialty heard in the first ``seconds`` of a dictation, decoded fast (beam 1) and without a list;
    "" when none stands out."""
    heard = recognizer.transcribe_clip(audio, 0.0, min(audio.duration_s, seconds), DecodeOptions(language, beam_size=1))
    text = text_layer.clean_text("".join(word for word, _ in heard), language).text
    return guess_specialty([text], vocab, minimum=1)


def write_listening(folder: Path, audio: DecodedAudio) -> None:
    """Write a job's listening copy beside its draft, from the samples just decoded; a full disk is a stage failure."""
    try:
        write_listening_copy(folder, audio.samples)
    except OSError as e:
        raise DraftsUnwritable(
            f"{folder}: the listening copy could not be written ("
            + ("the drafts disk is full" if e.errno == errno.ENOSPC else e.strerror or type(e).__name__)
            + ")"
        ) from e


def retry_delay_s(attempts: int, base_s: float, max_s: float) -> float:
    """How long a job waits after failing its ``attempts``-th attempt: ``base_s``, doubled each time, at most ``max_s``."""
    return min(max_s, base_s * 2.0 ** min(max(attempts - 1, 0), 60))


def with_language_check(transcript: Transcript, check: LanguageCheck | None) -> Transcript:
    """The transcript with the doubt about its language recorded (the text layer's flag comes from it)."""
    if check is None:
        return transcript
    return dataclasses.replace(transcript, options={**transcript.options, "language_check": check.to_json()})


def patient_known_at_intake(job: Job) -> str | None:
    """The patient identifier given with the audio (sidecar, then file name), before any matching."""
    sidecar = job.metadata.identity
    if sidecar is not None and sidecar.patient_id:
        return sidecar.patient_id
    named = identity_from_filename(job.original_name)
    return named.patient_id if named is not None else None
