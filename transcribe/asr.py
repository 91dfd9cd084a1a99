"""Speech recognition with faster-whisper: the model is loaded once per worker process."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from typing import Any

from .audio import SAMPLE_RATE, DecodedAudio
from .errors import ConfigurationError, ModelUnavailable, TranscriptionFailed
from .models import ResolvedModel
from .records import Segment, Transcript, Word

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
    prompt_terms: tuple[str, ...] = ()
    hotwords: str | None = None


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

    def describe(self, info: Any, decode: DecodeOptions) -> dict[str, Any]:
        """The options a result was made with, for the job store and the transcript file."""
        options: dict[str, Any] = {
            "language": decode.language or "detect",
            "model": self.model.name,
            "model_source": self.model.source,
            "device": self.device,
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
        }
        if decode.initial_prompt:
            options["initial_prompt"] = decode.initial_prompt
            options["prompt_terms"] = list(decode.prompt_terms)
        if info is not None:
            options["transcription"] = _jsonable(dataclasses.asdict(info.transcription_options))
            options["vad"] = _jsonable(dataclasses.asdict(info.vad_options)) if info.vad_options else None
        return options


def _segment(s: Any) -> Segment:
    words = tuple(
        Word(text=w.word, start_s=round(float(w.start), 3), end_s=round(float(w.end), 3),
             probability=round(float(w.probability), 4))
        for w in (s.words or ())
    )
    return Segment(
        text=s.text,
        start_s=round(float(s.start), 3),
        end_s=round(float(s.end), 3),
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
