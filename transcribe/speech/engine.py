"""Speech recognition with faster-whisper: the model is loaded once per worker process."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from transcribe.errors import ConfigurationError, ModelUnavailable, TranscriptionFailed
from transcribe.records import Segment, Transcript, Word
from transcribe.speech.audio import SAMPLE_RATE, DecodedAudio
from transcribe.speech.model_location import ResolvedModel

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


#: the longest clip the engine reads in one pass of its encoder
CLIP_LIMIT_S = 30


@dataclass(frozen=True)
class EncodedClip:
    """A clip of a dictation after one pass of the engine's encoder, in a language."""

    encoded: Any
    frames: int
    language: str
    tokenizer: Any


@dataclass(frozen=True)
class EncodedWindow:
    """One window the engine decoded, as its encoder made it, and the words it wrote there (``first`` to
    ``last``, indexes of ``Transcript.words``)."""

    first: int
    last: int
    clip: EncodedClip


#: windows whose encoder output is kept while a dictation is transcribed (about 3 MB each): the rest of a
#: very long dictation is encoded again where its words are scored
MAX_KEPT_WINDOWS = 40


class _LastFeatures:
    """The engine's feature extractor, keeping the last features it made (the windows are cut from them)."""

    def __init__(self, extractor: Any) -> None:
        self._extractor = extractor
        self.last: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.last = self._extractor(*args, **kwargs)
        return self.last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._extractor, name)


def _keeping_whisper_model() -> Any:
    """faster-whisper's model, keeping the encoder's output of each window while asked to (``kept``)."""
    from faster_whisper import WhisperModel

    class KeepingWhisperModel(WhisperModel):
        kept: list[tuple[Any, Any]] | None = None

        def encode(self, features: np.ndarray) -> Any:
            encoded = super().encode(features)
            if self.kept is not None and len(self.kept) < MAX_KEPT_WINDOWS:
                self.kept.append((features, encoded))
            return encoded

    return KeepingWhisperModel


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
        self.model = model
        self.device, self.compute_type, self.cpu_threads = choose_device(options)
        try:
            self._whisper = _keeping_whisper_model()(
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
        self._whisper.feature_extractor = _LastFeatures(self._whisper.feature_extractor)
        log.info("model %s loaded on %s (%s, %d threads)", model.name, self.device, self.compute_type, self.cpu_threads)

    def transcribe(self, audio: DecodedAudio, options: DecodeOptions) -> Transcript:
        """Transcribe one dictation; the transcript records the model and options used."""
        return self.transcribe_keeping(audio, options, keep=False)[0]

    def transcribe_keeping(
        self, audio: DecodedAudio, options: DecodeOptions, *, keep: bool = True
    ) -> tuple[Transcript, tuple[EncodedWindow, ...]]:
        """Transcribe one dictation, and keep what the encoder made of each of its windows (``keep``), so that
        its words can be scored on the audio afterwards without a second pass (``transcribe.speech.acoustic``)."""
        _check_language(options.language)
        self._whisper.kept = [] if keep else None
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
            raw = list(segments_iter)
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        finally:
            kept, self._whisper.kept = self._whisper.kept, None
        segments = tuple(_segment(s) for s in raw)
        windows = self._kept_windows(raw, kept or [], info.language) if keep else ()
        return Transcript(
            segments=segments,
            language=info.language,
            language_probability=float(info.language_probability),
            duration_s=audio.samples.size / SAMPLE_RATE,
            model=self.model.name,
            options=self.describe(info, options),
        ), windows

    def _kept_windows(self, raw: list[Any], kept: list[tuple[Any, Any]], language: str) -> tuple[EncodedWindow, ...]:
        """The encoder's output of each window the transcript's segments came from, with their words."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        features = self._whisper.feature_extractor.last
        if features is None or not kept:
            return ()
        tokenizer = Tokenizer(
            self._whisper.hf_tokenizer, self._whisper.model.is_multilingual, task="transcribe", language=language
        )
        content = features.shape[-1] - 1
        windows: list[EncodedWindow] = []
        word = 0
        for seek, group in itertools.groupby(raw, key=lambda s: s.seek):
            count = sum(len(s.words or ()) for s in group)
            size = min(self._whisper.feature_extractor.nb_max_frames, content - seek)
            if count and size > 0:
                expected = pad_or_trim(features[:, seek : seek + size])
                encoded = next((out for given, out in kept if np.array_equal(given, expected)), None)
                if encoded is not None:
                    windows.append(
                        EncodedWindow(word, word + count - 1, EncodedClip(encoded, size, language, tokenizer))
                    )
            word += count
        return tuple(windows)

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

    def encode_clip(self, samples: np.ndarray, language: str) -> EncodedClip:
        """One pass of the encoder over a clip of at most 30 s: what ``score_texts`` and ``continue_text`` read."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        _check_language(language)
        try:
            features = self._whisper.feature_extractor(samples[: CLIP_LIMIT_S * SAMPLE_RATE])
            frames = min(int(features.shape[-1]), self._whisper.feature_extractor.nb_max_frames)
            encoded = self._whisper.encode(pad_or_trim(features))
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        tokenizer = Tokenizer(
            self._whisper.hf_tokenizer, self._whisper.model.is_multilingual, task="transcribe", language=language
        )
        return EncodedClip(encoded, frames, language, tokenizer)

    def score_texts(self, clip: EncodedClip, texts: list[str]) -> list[float]:
        """The log-probability of each text given the clip's audio (teacher forcing: the engine reads the text).

        Texts are compared on the very same audio: the one the audio prefers scores higher. No prompt
        and no hotwords are given: this is the audio's verdict, not the biasing list's.
        """
        start = [*clip.tokenizer.sot_sequence, clip.tokenizer.no_timestamps]
        scores = []
        try:
            for text in texts:
                tokens = clip.tokenizer.encode(" " + text.strip())
                if not tokens:
                    scores.append(0.0)
                    continue
                (result,) = self._whisper.model.align(clip.encoded, start, [tokens], clip.frames)
                probabilities = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-12)
                scores.append(float(np.log(probabilities).sum()))
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        return scores

    def continue_text(self, clip: EncodedClip, prefix: str, *, max_tokens: int, beam_size: int = 5) -> str:
        """What the engine writes after ``prefix`` on this clip, with no prompt and no hotwords."""
        tokenizer = clip.tokenizer
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        given = tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []
        prompt += given
        try:
            (result,) = self._whisper.model.generate(
                clip.encoded,
                [prompt],
                beam_size=beam_size,
                # the engine counts the forced words twice here (measured); at most its longest text
                max_length=min(self._whisper.max_length, 2 * len(prompt) + max_tokens),
                suppress_blank=False,
                # no end of text: without the list the engine may stop early, the words wanted are after
                suppress_tokens=[-1, tokenizer.eot],
            )
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        if tokens[: len(given)] == given:  # the engine gives the forced words back first
            tokens = tokens[len(given) :]
        return str(tokenizer.decode(tokens))

    def warm_up(self) -> float:
        """Decode one second of silence, so that the device's start is not paid by the first dictation: on a
        GPU the first decode of a process took 14-16 s, the next ones under a second (bench/bench_cuda.py).
        Returns the seconds it took."""
        began = time.perf_counter()
        try:
            segments, _ = self._whisper.transcribe(
                np.zeros(SAMPLE_RATE, dtype=np.float32), language="en", beam_size=1, vad_filter=False
            )
            list(segments)
        except Exception as e:  # the engine's own errors are not typed
            raise ModelUnavailable(
                f"model '{self.model.name}' was loaded on {self.device} but could not decode "
                f'({type(e).__name__}: {e}); check the device, or use device = "cpu"'
            ) from e
        return time.perf_counter() - began

    def detect_language(self, audio: DecodedAudio) -> tuple[str, float, dict[str, float]]:
        """The language the engine hears in the first 30 s: code, probability, and the likeliest others."""
        try:
            language, probability, ranked = self._whisper.detect_language(audio=audio.samples[: 30 * SAMPLE_RATE])
        except Exception as e:  # the engine's own errors are not typed
            raise TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})") from e
        return language, float(probability), {code: round(float(p), 4) for code, p in (ranked or ())[:8]}

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
