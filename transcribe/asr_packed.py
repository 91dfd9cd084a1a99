"""The batch's decoding: short dictations packed into shared windows, decoded together, each word given back.

What a window of short dictations wastes on the engine, and what is done about it:

- every 30 s window is encoded in full, however little it holds: the speech clips of dictations
  decoded alike (language, biasing list, prompt, beam) share windows (``packing.pack``), a
  silence of ``GAP_S`` between two clips so that the engine hears separate utterances;
- a dictation whose language nobody gave is encoded once, not twice: the window of its first
  clip is encoded alone, the language is read from that encoding, and the same encoding is then
  decoded (its other clips are packed with the rest);
- the decoder is fastest in large batches: windows of any dictations go through the engine
  ``batch_size`` at a time, each with its own prompt (language and biasing list); the engine
  needs the start of the transcript at the same place in every prompt of a batch, so batches
  are made of prompts of one length.

What batched decoding loses against faster-whisper's file-by-file decoding, and gets back:

- a window that loops on itself ("à la ligne à la ligne ...") or that the engine doubts is decoded
  again alone at rising temperatures, with faster-whisper's own thresholds (``_fall_back``);
- without timestamps the engine may end a window early and leave the rest of its speech
  unheard (file by file, the next window starts where the last timestamp was): speech after
  the last word of a clip, or a clip with no word in a window whose other clips got some, is
  decoded once more (``_leftovers``).

Built from faster-whisper's own parts (feature extractor, encoder, ``generate``, word alignment),
as its ``BatchedInferencePipeline`` is, with the same options (no timestamp tokens, word times
from the alignment, no temperature fallback).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import SAMPLE_RATE, DecodedAudio
from .errors import TranscribeError, TranscriptionFailed
from .packing import Clip, Placed, Window, layout_of, pack, place_words
from .records import Segment, Transcript, Word

if TYPE_CHECKING:
    from .asr import DecodeOptions, SpeechRecognizer

log = logging.getLogger(__name__)

WINDOW_S = 30.0
#: silence between two packed clips: the engine hears two utterances, and word times stay on their side
GAP_S = 1.5
#: faster-whisper's own checks of a decoded window, and what it does when one fails (file-by-file decoding)
COMPRESSION_RATIO_THRESHOLD = 2.4
LOG_PROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)
BEST_OF = 5
FALLBACK_SEED = 26
#: words that stop this long before the end of their clip leave speech undecoded: it is decoded again
LEFTOVER_S = 2.0
#: faster-whisper's defaults for the punctuation glued to the word before or after it
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"

#: what is done with a detected language: (item, (language, probability, likeliest)) -> how to decode it
Decide = Callable[[int, tuple[str, float, dict[str, float]]], "DecodeOptions"]


@dataclass
class _Window:
    """A window to decode: its clips, its samples, its options, and its encoding once made."""

    layout: Window
    options: DecodeOptions
    samples: np.ndarray
    encoded: np.ndarray | None = None
    result: dict[str, Any] = field(default_factory=dict)


def transcribe_packed(
    recognizer: SpeechRecognizer,
    items: Sequence[tuple[DecodedAudio, DecodeOptions]],
    batch_size: int,
    *,
    decide: Decide | None = None,
    packing: bool = True,
) -> list[Transcript | TranscriptionFailed]:
    """Transcribe several dictations together; each keeps its language, biasing list and word times.

    ``DecodeOptions.language`` None: the language is detected (on the dictation's first speech clip),
    and ``decide`` turns the detection into the options to decode with (default: the detected language).
    """
    from .asr import _check_language, speech_clips

    engine = _Engine(recognizer)
    failed: dict[int, TranscriptionFailed] = {}
    options = [o for _, o in items]
    probability = [1.0] * len(items)
    clips: list[list[Clip]] = []
    for index, (audio, decode) in enumerate(items):
        clips.append([Clip(index, s, e) for s, e in speech_clips(audio.samples, vad=decode.vad_filter)])
    solo: list[_Window] = []
    try:
        undecided = [i for i in range(len(items)) if options[i].language is None]
        for index in [i for i in undecided if not clips[i]]:  # no speech: the language only names the result
            language, probability[index], _ = recognizer.detect_language(items[index][0])
            options[index] = replace(options[index], language=language, detected=True)
        detected = [i for i in undecided if clips[i]]
        firsts = [
            _Window(Window((Placed(clips[i][0], 0),)), options[i], _cut(items[i][0], clips[i][0])) for i in detected
        ]
        for number, detection in enumerate(engine.detect(firsts, batch_size)):
            index = detected[number]
            probability[index] = detection[1]
            options[index] = (
                decide(index, detection) if decide else replace(options[index], language=detection[0], detected=True)
            )
            firsts[number].options = options[index]
        solo = firsts
        for index in detected:
            clips[index] = clips[index][1:]
    except Exception as e:  # the engine's own errors are not typed
        error = TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})")
        return [error] * len(items)
    for index, decode in enumerate(options):
        try:
            _check_language(decode.language)
        except TranscribeError as e:
            failed[index] = TranscriptionFailed(str(e))
    windows = solo + _packed_windows(items, options, clips, failed, packing)
    _decode_all(engine, windows, batch_size, failed)
    # speech the engine stopped before (it ended a window early): decoded once more, on its own clips
    again = _packed_windows(items, options, _leftovers(windows, len(items)), failed, packing)
    _decode_all(engine, again, batch_size, failed)
    return _transcripts(recognizer, items, options, probability, windows + again, failed, batch_size, packing)


def _decode_all(
    engine: _Engine, windows: list[_Window], batch_size: int, failed: dict[int, TranscriptionFailed]
) -> None:
    for group in _by_prompt(engine, [w for w in windows if not set(w.layout.items) & failed.keys()]):
        for chunk in _even_chunks(group, batch_size):
            try:
                engine.decode(chunk)
            except Exception as e:  # the engine's own errors are not typed
                for window in chunk:
                    for index in window.layout.items:
                        failed[index] = TranscriptionFailed(f"the speech engine failed ({type(e).__name__}: {e})")


def _leftovers(windows: list[_Window], count: int) -> list[list[Clip]]:
    """The speech left undecoded in each dictation's clips: after the last word heard in a clip, when that is
    more than ``LEFTOVER_S`` before the clip's end, or a whole clip that got no word while the rest of its
    window did (the engine ended the window early, as batched decoding without timestamps can)."""
    left: list[list[Clip]] = [[] for _ in range(count)]
    for window in windows:
        if not window.result:
            continue
        heard: dict[Placed, float] = {}
        for piece, word in place_words(window.layout, window.result["words"], SAMPLE_RATE):
            heard[piece] = max(heard.get(piece, 0.0), word.end_s)
        for piece in window.layout.pieces:
            clip = piece.clip
            if piece in heard:
                start = int(heard[piece] * SAMPLE_RATE)
            elif heard:
                start = clip.start
            else:
                continue  # nothing heard in the whole window: silence or noise, not an early end
            if clip.end - start >= LEFTOVER_S * SAMPLE_RATE:
                left[clip.item].append(Clip(clip.item, start, clip.end))
    return left


def _cut(audio: DecodedAudio, clip: Clip) -> np.ndarray:
    return audio.samples[clip.start : clip.end]


def _packed_windows(
    items: Sequence[tuple[DecodedAudio, DecodeOptions]],
    options: list[DecodeOptions],
    clips: list[list[Clip]],
    failed: dict[int, TranscriptionFailed],
    packing: bool,
) -> list[_Window]:
    """Windows of the clips still to decode: packed among dictations decoded alike, or one clip each."""
    groups: dict[tuple[object, ...], list[Clip]] = {}
    for index, decode in enumerate(options):
        if index not in failed:
            key = (decode.language, decode.initial_prompt, decode.hotwords, decode.beam_size)
            groups.setdefault(key, []).extend(clips[index])
    windows = []
    window, gap = int(WINDOW_S * SAMPLE_RATE), int(GAP_S * SAMPLE_RATE)
    for members in groups.values():
        layouts = pack(members, window=window, gap=gap) if packing else [Window((Placed(c, 0),)) for c in members]
        for layout in layouts:
            samples = np.zeros(layout.length, dtype=np.float32)
            for piece in layout.pieces:
                samples[piece.offset : piece.end] = _cut(items[piece.clip.item][0], piece.clip)
            windows.append(_Window(layout, options[layout.pieces[0].clip.item], samples))
    return windows


def _by_prompt(engine: _Engine, windows: list[_Window]) -> list[list[_Window]]:
    """Windows that can share the engine's batches: same beam, transcript started at the same place in the prompt."""
    groups: dict[tuple[int, int], list[_Window]] = {}
    for window in windows:
        prompt = engine.prompt(window.options)
        groups.setdefault((window.options.beam_size, len(prompt)), []).append(window)
    return [sorted(g, key=lambda w: -w.layout.length) for g in groups.values()]


def _even_chunks(windows: list[_Window], batch_size: int) -> list[list[_Window]]:
    """At most ``batch_size`` windows a chunk, the chunks as even as can be (a last batch of one decodes slowly)."""
    count = max(1, math.ceil(len(windows) / max(1, batch_size)))
    size = math.ceil(len(windows) / count)
    return [windows[i : i + size] for i in range(0, len(windows), size)]


class _Engine:
    """faster-whisper's parts, used on windows: features, encoder, language, decoder, word alignment."""

    def __init__(self, recognizer: SpeechRecognizer) -> None:
        self.whisper: Any = recognizer._whisper
        self._tokenizers: dict[str, Any] = {}

    def tokenizer(self, language: str) -> Any:
        """faster-whisper's tokenizer for one language (cached)."""
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                self.whisper.hf_tokenizer, self.whisper.model.is_multilingual, task="transcribe", language=language
            )
        return self._tokenizers[language]

    def prompt(self, options: DecodeOptions) -> list[int]:
        """The decoder's prompt for these options: biasing list, initial prompt, language, no timestamps."""
        tokenizer = self.tokenizer(options.language or "en")
        previous = tokenizer.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
        return list(self.whisper.get_prompt(tokenizer, previous, without_timestamps=True, hotwords=options.hotwords))

    def encode(self, windows: list[_Window]) -> None:
        """Encode the windows not encoded yet (one engine call)."""
        from faster_whisper.audio import pad_or_trim

        todo = [w for w in windows if w.encoded is None]
        if not todo:
            return
        extractor = self.whisper.feature_extractor
        features = np.stack([pad_or_trim(extractor(w.samples)[..., :-1]) for w in todo])
        encoded = np.asarray(self.whisper.model.encode(_storage(features), to_cpu=True))
        for number, window in enumerate(todo):
            window.encoded = encoded[number]

    def detect(self, windows: list[_Window], batch_size: int) -> list[tuple[str, float, dict[str, float]]]:
        """Encode these windows and read the language of each from its encoding (kept for decoding)."""
        found = []
        for start in range(0, len(windows), max(1, batch_size)):
            chunk = windows[start : start + max(1, batch_size)]
            self.encode(chunk)
            encoded = _encodings(chunk)
            for ranked in self.whisper.model.detect_language(encoded):
                probabilities = [(token[2:-2], float(p)) for token, p in ranked]
                found.append((probabilities[0][0], probabilities[0][1], {c: round(p, 4) for c, p in probabilities[:8]}))
        return found

    def decode(self, windows: list[_Window]) -> None:
        """Decode windows together (one prompt each), then time their words; results kept on each window.

        A window whose text fails faster-whisper's own checks (it repeats itself: compression ratio
        above 2.4; or the engine doubts it: mean log-probability under -1, and it is not silence) is
        decoded again alone with sampling at rising temperatures, as faster-whisper's file-by-file
        decoding does; the best try is kept.
        """
        self.encode(windows)
        first = windows[0].options
        results = self._generate(windows, beam_size=first.beam_size, temperature=0.0)
        for window, result in zip(windows, results):
            window.result = result
        for window in windows:
            if _needs_fallback(window.result):
                self._fall_back(window)
        for language in dict.fromkeys(w.options.language or "en" for w in windows):
            self._time_words([w for w in windows if (w.options.language or "en") == language], language)

    def _generate(self, windows: list[_Window], *, beam_size: int, temperature: float) -> list[dict[str, Any]]:
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        tokenizer = self.tokenizer(windows[0].options.language or "en")
        sampling = {"num_hypotheses": BEST_OF, "sampling_topk": 0} if temperature > 0 else {}
        results = self.whisper.model.generate(
            _encodings(windows),
            [self.prompt(w.options) for w in windows],
            beam_size=beam_size if temperature == 0 else 1,
            patience=1,
            length_penalty=1,
            max_length=self.whisper.max_length,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            return_scores=True,
            return_no_speech_prob=True,
            sampling_temperature=temperature,
            repetition_penalty=1,
            no_repeat_ngram_size=0,
            **sampling,
        )
        out = []
        for window, result in zip(windows, results):
            tokens = result.sequences_ids[0]
            text = self.tokenizer(window.options.language or "en").decode(tokens)
            out.append(
                {
                    "tokens": tokens,
                    "avg_logprob": result.scores[0] * len(tokens) / (len(tokens) + 1),
                    "no_speech_prob": float(result.no_speech_prob),
                    "compression_ratio": get_compression_ratio(text),
                    "temperature": temperature,
                }
            )
        return out

    def _fall_back(self, window: _Window) -> None:
        import ctranslate2

        ctranslate2.set_random_seed(FALLBACK_SEED)  # the same dictation gives the same text on every run
        tries = [window.result]
        for temperature in FALLBACK_TEMPERATURES:
            tries.append(self._generate([window], beam_size=1, temperature=temperature)[0])
            if not _needs_fallback(tries[-1]):
                break
        fitting = [r for r in tries if r["compression_ratio"] <= COMPRESSION_RATIO_THRESHOLD] or tries
        window.result = max(fitting, key=lambda r: r["avg_logprob"])

    def _time_words(self, windows: list[_Window], language: str) -> None:
        """Word times by aligning the decoded tokens on the encoding (faster-whisper's word timestamps)."""
        frames = self.whisper.frames_per_second
        segments = [
            [{"tokens": w.result["tokens"], "seek": 0, "start": 0.0, "end": w.layout.length / SAMPLE_RATE}]
            for w in windows
        ]
        sizes = [min(3000, int(math.ceil(w.layout.length / SAMPLE_RATE) * frames)) for w in windows]
        self.whisper.add_word_timestamps(
            segments,
            self.tokenizer(language),
            _encodings(windows),
            sizes,
            PREPEND_PUNCTUATIONS,
            APPEND_PUNCTUATIONS,
            0.0,
        )
        for window, segment in zip(windows, segments):
            window.result["words"] = [
                Word(w["word"], float(w["start"]), float(w["end"]), float(w["probability"]))
                for w in segment[0].get("words", ())
            ]


def _needs_fallback(result: dict[str, Any]) -> bool:
    """faster-whisper's test: the text repeats itself, or the engine doubts it and it is not silence."""
    if result["compression_ratio"] > COMPRESSION_RATIO_THRESHOLD:
        return True
    silence = result["no_speech_prob"] > NO_SPEECH_THRESHOLD
    return bool(result["avg_logprob"] < LOG_PROB_THRESHOLD and not silence)


def _encodings(windows: list[_Window]) -> Any:
    """The encodings of windows, as one batch for the engine."""
    return _storage(np.stack([w.encoded for w in windows if w.encoded is not None]))


def _storage(array: np.ndarray) -> Any:
    import ctranslate2

    return ctranslate2.StorageView.from_array(np.ascontiguousarray(array))


def _transcripts(
    recognizer: SpeechRecognizer,
    items: Sequence[tuple[DecodedAudio, DecodeOptions]],
    options: list[DecodeOptions],
    probability: list[float],
    windows: list[_Window],
    failed: dict[int, TranscriptionFailed],
    batch_size: int,
    packing: bool,
) -> list[Transcript | TranscriptionFailed]:
    """Each dictation's transcript: the words of every clip given back, one segment per clip, in time order."""
    from faster_whisper.transcribe import get_compression_ratio

    segments: list[list[Segment]] = [[] for _ in items]
    layouts: list[list[dict[str, object]]] = [[] for _ in items]
    partners: list[set[int]] = [set() for _ in items]
    for number, window in enumerate(windows):
        for piece, entry in zip(window.layout.pieces, layout_of(window.layout, number, SAMPLE_RATE)):
            layouts[piece.clip.item].append({k: v for k, v in entry.items() if k != "item"})
        for index in window.layout.items:
            partners[index].update(window.layout.items)
        if not window.result:
            continue
        by_piece: dict[Placed, list[Word]] = {}
        for piece, word in place_words(window.layout, window.result["words"], SAMPLE_RATE):
            by_piece.setdefault(piece, []).append(word)
        for piece, words in by_piece.items():
            text = "".join(w.text for w in words)
            segments[piece.clip.item].append(
                Segment(
                    text=text,
                    start_s=words[0].start_s,
                    end_s=words[-1].end_s,
                    words=tuple(words),
                    avg_logprob=float(window.result["avg_logprob"]),
                    no_speech_prob=float(window.result["no_speech_prob"]),
                    compression_ratio=float(get_compression_ratio(text)) if text else 0.0,
                )
            )
    out: list[Transcript | TranscriptionFailed] = []
    for index, (audio, _) in enumerate(items):
        if index in failed:
            out.append(failed[index])
            continue
        decode = options[index]
        described = recognizer.describe(None, decode)
        described["transcription"] = {
            "beam_size": decode.beam_size,
            "word_timestamps": True,
            "without_timestamps": True,
            "condition_on_previous_text": False,
            "temperature": 0.0,
        }
        described["vad"] = {"filter": decode.vad_filter, "min_silence_duration_ms": 160, "max_speech_duration_s": 30}
        described["batched"] = {
            "batch_size": batch_size,
            "packed": packing,
            "gap_s": GAP_S,
            "shared_with": len(partners[index] - {index}),
            "clips": sorted(layouts[index], key=lambda e: e["clip_s"]),
        }
        out.append(
            Transcript(
                tuple(sorted(segments[index], key=lambda s: s.start_s)),
                decode.language or "",
                float(probability[index]),
                audio.samples.size / SAMPLE_RATE,
                recognizer.model.name,
                described,
            )
        )
    return out
