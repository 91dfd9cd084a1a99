"""The audio's vote on a word: candidate spellings scored against the recording.

The text layer finds the stretches the engine doubted and the spellings they may stand for
(``transcribe.text.candidates``); here each spelling is put in place of the heard words and the
engine reads the whole clip's text back (teacher forcing: ``SpeechRecognizer.score_texts``). The
difference of log-probabilities between a candidate's text and the heard text, on the very same
audio, is the candidate's *margin*: above zero the audio prefers it to what the engine wrote.

Clips are cut around the questions, at word boundaries, with the transcript's own words before
and after as context; questions that fit in one 30-second clip share one pass of the encoder.
The words a loop repeats (``AudioQuestion.repeated_words``: the text layer removes them) are left
out of that context: read with them, a loop's tail votes for its head ("ibuprofen, ibuprofen, ...").
No prompt and no hotwords are given when scoring: the biasing list does not vote.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass

from transcribe.records import AudioEvidence, AudioQuestion, Candidate, CandidateScore, Transcript, Word
from transcribe.speech.audio import SAMPLE_RATE, DecodedAudio
from transcribe.speech.engine import CLIP_LIMIT_S, EncodedClip, EncodedWindow, SpeechRecognizer
from transcribe.vocabulary.folding import fold

log = logging.getLogger(__name__)

#: seconds of the transcript's own words read before a question, and after it
CONTEXT_BEFORE_S = 8.0
CONTEXT_AFTER_S = 3.0
#: seconds of audio kept around the first and last word of a clip (word times are not exact)
PADDING_S = 0.25
#: the longest clip (a little under the encoder's 30 s, for the padding)
WINDOW_S = CLIP_LIMIT_S - 1.0
#: questions asked for one dictation, at most (each candidate costs one pass of the decoder)
MAX_QUESTIONS = 24

_LETTERS = re.compile(r"[^\W_](?:.*[^\W_])?", re.DOTALL)


@dataclass(frozen=True)
class _Window:
    first: int
    last: int
    questions: tuple[AudioQuestion, ...]
    #: the engine's own encoding of this window, kept while it decoded (None: encode the clip)
    clip: EncodedClip | None = None


def with_audio_evidence(
    recognizer: SpeechRecognizer,
    audio: DecodedAudio,
    transcript: Transcript,
    questions: list[AudioQuestion],
    *,
    windows: tuple[EncodedWindow, ...] = (),
    beam_size: int = 5,
) -> Transcript:
    """The transcript with the audio's evidence on these questions (``options.audio_evidence``, which the
    text layer reads) and the time it took (``options.audio_evidence_s``).

    ``windows``: the engine's own encoding of the windows it decoded (``transcribe_keeping``): questions
    inside one are scored on it, with no second pass of the encoder.
    """
    began = time.perf_counter()
    evidence = weigh(recognizer, audio, transcript, questions[:MAX_QUESTIONS], windows=windows, beam_size=beam_size)
    options = {
        **transcript.options,
        "audio_evidence": [e.to_json() for e in evidence],
        "audio_evidence_s": round(time.perf_counter() - began, 3),
    }
    return dataclasses.replace(transcript, options=options)


def weigh(
    recognizer: SpeechRecognizer,
    audio: DecodedAudio,
    transcript: Transcript,
    questions: list[AudioQuestion],
    *,
    windows: tuple[EncodedWindow, ...] = (),
    beam_size: int = 5,
) -> list[AudioEvidence]:
    """Each question's candidates scored on the audio against the heard words, best first.

    For a term of the biasing list (``kind == "list-term"``) the candidate is first found: what the
    engine writes in its place without the list, read on the same clip after the same words.
    """
    words = transcript.words
    if not questions or not words:
        return []
    evidence: list[AudioEvidence] = []
    for window in _plan(words, questions, windows):
        clip = window.clip
        if clip is None:
            start_s = max(0.0, words[window.first].start_s - PADDING_S)
            end_s = min(audio.samples.size / SAMPLE_RATE, words[window.last].end_s + PADDING_S)
            clip = recognizer.encode_clip(
                audio.samples[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)], transcript.language
            )
        skipped = frozenset(i for q in window.questions for i in q.repeated_words)
        asked: list[tuple[AudioQuestion, tuple[Candidate, ...]]] = []
        for question in window.questions:
            if any(i in skipped for i in range(question.first, question.last + 1)):
                continue  # words of a loop's tail: the text layer removes them
            if question.kind == "list-term":
                unbiased = _without_the_list(recognizer, clip, words, window, question, beam_size, skipped)
                if unbiased is None:
                    continue  # the engine writes the term without the list too: the audio holds it
                asked.append((question, (unbiased,)))
            else:
                asked.append((question, question.candidates))
        texts = [_text(words, window.first, window.last, skipped=skipped)]
        for _, candidates in asked:
            texts += [
                _text(words, window.first, window.last, (c.first, c.last, c.spelling), skipped) for c in candidates
            ]
        scores = recognizer.score_texts(clip, texts)
        heard, rest = scores[0], iter(scores[1:])
        for question, candidates in asked:
            scored = [
                CandidateScore(
                    c.spelling, c.first, c.last, round(next(rest) - heard, 3), c.nearness, c.source, c.is_drug
                )
                for c in candidates
            ]
            scored.sort(key=lambda s: -s.margin)
            evidence.append(AudioEvidence(question.first, question.last, question.heard, tuple(scored), question.kind))
    evidence.sort(key=lambda e: e.first)
    return evidence


def _without_the_list(
    recognizer: SpeechRecognizer,
    clip: EncodedClip,
    words: tuple[Word, ...],
    window: _Window,
    question: AudioQuestion,
    beam_size: int,
    skipped: frozenset[int] = frozenset(),
) -> Candidate | None:
    """What the engine writes in place of a list term with no list, after the same words; None: the same term."""
    prefix = _text(words, window.first, question.first - 1, skipped=skipped)
    stretch = question.last - question.first + 1
    after = [w for i, w in enumerate(words[question.last + 1 :], question.last + 1) if i not in skipped][:3]
    following = {_folded_word(w.text) for w in after} - {""}
    written = recognizer.continue_text(clip, prefix, max_tokens=8 * stretch + 8, beam_size=beam_size).split()
    # the engine's words up to where it takes up the heard words again
    cut = next((i for i, w in enumerate(written) if _folded_word(w) in following), None)
    if cut is None:
        cut = min(len(written), stretch)
    unbiased = " ".join(written[:cut]).strip()
    if _folded_word(unbiased) == _folded_word(question.heard):
        return None
    return Candidate(question.first, question.last, unbiased, 0.0, "without-list")


def _folded_word(text: str) -> str:
    return re.sub(r"[^\w]", "", fold(text))


def _plan(words: tuple[Word, ...], questions: list[AudioQuestion], kept: tuple[EncodedWindow, ...]) -> list[_Window]:
    """Questions inside a window the engine decoded go with it (its own encoding); the others get clips of
    their own (``_windows``)."""
    planned: list[_Window] = []
    rest = list(questions)
    for window in kept:
        inside = tuple(q for q in rest if window.first <= q.first and q.last <= window.last)
        if inside:
            planned.append(_Window(window.first, window.last, inside, window.clip))
            rest = [q for q in rest if q not in inside]
    return planned + _windows(words, rest)


def _windows(words: tuple[Word, ...], questions: list[AudioQuestion]) -> list[_Window]:
    """Clips of at most ``WINDOW_S`` seconds at word boundaries, each holding one question or more with context."""
    windows: list[_Window] = []
    pending = sorted(questions, key=lambda q: q.first)
    while pending:
        head = pending[0]
        first = _first_word_after(words, words[head.first].start_s - CONTEXT_BEFORE_S, head.first)
        limit_s = words[first].start_s + WINDOW_S
        members = [q for q in pending if words[q.last].end_s <= limit_s] or [head]
        last_needed = max(q.last for q in members)
        last = _last_word_before(words, min(limit_s, words[last_needed].end_s + CONTEXT_AFTER_S), last_needed)
        windows.append(_Window(first, last, tuple(members)))
        pending = [q for q in pending if q not in members]
    return windows


def _first_word_after(words: tuple[Word, ...], time_s: float, at_most: int) -> int:
    first = at_most
    while first > 0 and words[first - 1].start_s >= time_s:
        first -= 1
    return first


def _last_word_before(words: tuple[Word, ...], time_s: float, at_least: int) -> int:
    last = at_least
    while last + 1 < len(words) and words[last + 1].end_s <= time_s:
        last += 1
    return last


def _text(
    words: tuple[Word, ...],
    first: int,
    last: int,
    replace: tuple[int, int, str] | None = None,
    skipped: frozenset[int] = frozenset(),
) -> str:
    """The words ``first`` to ``last`` as the engine wrote them, less the ``skipped`` ones, with one stretch
    replaced by a spelling."""

    def written(start: int, end: int) -> str:
        return "".join(words[i].text for i in range(start, end) if i not in skipped)

    if replace is None:
        return written(first, last + 1)
    a, b, spelling = replace
    before = written(first, a)
    stretch = "".join(w.text for w in words[a : b + 1])
    after = written(b + 1, last + 1)
    letters = _LETTERS.search(stretch)
    if letters is None:
        return before + (" " + spelling if spelling else "") + after
    lead = stretch[: letters.start()]
    if not spelling:  # the stretch left out: its marks stay with the word before
        return before + lead.strip() + stretch[letters.end() :] + after
    if not lead.endswith(" ") and before:
        lead += " "
    return before + lead + spelling + stretch[letters.end() :] + after
