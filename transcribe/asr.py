"""Speech recognition with faster-whisper: the model is loaded once per worker process."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import SAMPLE_RATE, DecodedAudio
from .errors import ConfigurationError, ModelUnavailable, TranscriptionFailed
from .models import ResolvedModel
from .records import Segment, Transcript, Word

if TYPE_CHECKING:
    from .asr_packed import Decide

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    """How the engine is loaded: where it runs and with which numeric precision."""

    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0


@dataclass(frozen=True)
class DecodeOptions:
    """How one dictation is transcribed."""

    language: str | None = None
    beam_size: int = 5
    vad_filter: bool = True
    initial_prompt: str | None = None
    #: every term given to the engine (prompt and hotwords): the text layer flags those that look copied
    prompt_terms: tuple[str, ...] = ()
    hotwords: str | None = None
    #: the biasing list as recorded with the transcript (terms and where each came from)
    biasing: dict[str, object] | None = None
    #: whether ``language`` was detected by the engine before decoding (not given by a person)
    detected: bool = False


def choose_device(options: EngineOptions) -> tuple[str, str, int]:
    """Pick device, compute type and CPU threads: CUDA float16 when a GPU is seen, else CPU int8."""
    import ctranslate2

    device = options.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = options.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    threads = options.cpu_threads or _available_cores()
    return device, compute_type, threads


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SpeechRecognizer:
    """A loaded faster-whisper model that turns decoded audio into transcripts."""

    def __init__(self, model: ResolvedModel, options: EngineOptions = EngineOptions()) -> None:
        from faster_whisper import WhisperModel

        self.model = model
        self.device, self.compute_type, self.cpu_threads = choose_device(options)
        try:
            self._whisper = WhisperModel(
                model.load_from,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
            )
        except Exception as e:  # CTranslate2 and the hub client raise many kinds
            raise ModelUnavailable(
                f"model '{model.name}' could not be loaded from {model.load_from} on {self.device} "
                f"({type(e).__name__}: {e}); check the model folder, or use 'bundled-base' when offline"
            ) from e
        log.info("model %s loaded on %s (%s, %d threads)", model.name, self.device, self.compute_type, self.cpu_threads)

    def transcribe(self, audio: DecodedAudio, options: DecodeOptions) -> Transcript:
        """Transcribe one dictation; the transcript records the model and options used."""
        _check_language(options.language)
        try:
            segments_iter, info = self._whisper.transcribe(
                audio.samples,
                language=options.language,
                beam_size=options.beam_size,
                vad_filter=options.vad_filter,
                word_timestamps=True,
                initial_prompt=options.initial_prompt,
                hotwords=options.hotwords,
            )
            segments = tuple(_segment(s) for s in segments_iter)
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        return Transcript(
            segments=segments,
            language=info.language,
            language_probability=float(info.language_probability),
            duration_s=audio.samples.size / SAMPLE_RATE,
            model=self.model.name,
            options=self.describe(info, options),
        )

    def transcribe_clip(
        self, audio: DecodedAudio, start_s: float, end_s: float, options: DecodeOptions
    ) -> list[tuple[str, float]]:
        """The words (and their probabilities) the engine hears in one clip of a dictation."""
        _check_language(options.language)
        clip = audio.samples[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)]
        if clip.size == 0:
            return []
        try:
            segments, _ = self._whisper.transcribe(
                clip,
                language=options.language,
                beam_size=options.beam_size,
                vad_filter=False,
                word_timestamps=True,
                hotwords=options.hotwords,
                condition_on_previous_text=False,
            )
            return [(w.word, float(w.probability)) for s in segments for w in (s.words or ())]
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e

    def detect_language(self, audio: DecodedAudio) -> tuple[str, float, dict[str, float]]:
        """The language the engine hears in the first 30 s: code, probability, and the likeliest others."""
        try:
            language, probability, ranked = self._whisper.detect_language(audio=audio.samples[: 30 * SAMPLE_RATE])
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        return language, float(probability), {code: round(float(p), 4) for code, p in (ranked or ())[:8]}

    def transcribe_batch(
        self,
        items: list[tuple[DecodedAudio, DecodeOptions]],
        batch_size: int,
        *,
        decide: Decide | None = None,
        packing: bool = True,
    ) -> list[Transcript | TranscriptionFailed]:
        """Transcribe several dictations together: their speech clips share the engine's windows and batches.

        Short dictations waste most of each 30-second window the engine computes: here the speech
        clips of dictations decoded alike share windows (``packing``), each word is given back to
        its own dictation by its time, and every dictation keeps its language and biasing list
        (``asr_packed``). A ``DecodeOptions.language`` of None is detected on the dictation's first
        clip, and ``decide`` turns the detection into the options it is decoded with.
        """
        from .asr_packed import transcribe_packed

        return transcribe_packed(self, items, batch_size, decide=decide, packing=packing)

    def describe(self, info: Any, decode: DecodeOptions) -> dict[str, Any]:
        """The options a result was made with, for the job store and the transcript file."""
        options: dict[str, Any] = {
            "language": decode.language if decode.language and not decode.detected else "detect",
            "model": self.model.name,
            "model_source": self.model.source,
            "device": self.device,
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
        }
        if decode.initial_prompt:
            options["initial_prompt"] = decode.initial_prompt
        if decode.prompt_terms:
            options["prompt_terms"] = list(decode.prompt_terms)
        if decode.hotwords:
            options["hotwords"] = decode.hotwords
        if decode.biasing:
            options["biasing"] = decode.biasing
        if info is not None:
            probabilities = getattr(info, "all_language_probs", None) or ()
            options["language_probabilities"] = {code: round(float(p), 4) for code, p in probabilities[:8]}
            options["transcription"] = _jsonable(dataclasses.asdict(info.transcription_options))
            options["vad"] = _jsonable(dataclasses.asdict(info.vad_options)) if info.vad_options else None
        return options


def speech_clips(samples: np.ndarray, *, vad: bool, max_s: float = 30.0) -> list[tuple[int, int]]:
    """Where the speech is, as clips of at most ``max_s`` seconds (sample indexes)."""
    limit = int(max_s * SAMPLE_RATE)
    if not vad:
        return [(start, min(start + limit, samples.size)) for start in range(0, samples.size, limit)]
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    speech = get_speech_timestamps(samples, VadOptions(max_speech_duration_s=max_s, min_silence_duration_ms=160))
    clips: list[tuple[int, int]] = []
    for part in speech:
        if clips and part["end"] - clips[-1][0] <= limit:
            clips[-1] = (clips[-1][0], part["end"])
        else:
            clips.append((part["start"], part["end"]))
    return clips


def _segment(s: Any, shift_s: float = 0.0) -> Segment:
    words = tuple(
        Word(
            text=w.word,
            start_s=round(float(w.start) + shift_s, 3),
            end_s=round(float(w.end) + shift_s, 3),
            probability=round(float(w.probability), 4),
        )
        for w in (s.words or ())
    )
    return Segment(
        text=s.text,
        start_s=round(float(s.start) + shift_s, 3),
        end_s=round(float(s.end) + shift_s, 3),
        words=words,
        avg_logprob=float(s.avg_logprob),
        no_speech_prob=float(s.no_speech_prob),
        compression_ratio=float(s.compression_ratio),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _check_language(language: str | None) -> None:
    if language is None:
        return
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language not in _LANGUAGE_CODES:
        raise ConfigurationError(
            f"'{language}' is not a language the speech engine knows; use a code such as 'fr' or 'en', or 'auto'"
        )
