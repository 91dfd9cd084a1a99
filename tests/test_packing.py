"""Packing short dictations into shared engine windows: the layout and the way words go back (property tests),
and the real engine on packed windows: each dictation keeps its own words, language and biasing list."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcribe.records import Transcript, Word
from transcribe.speech.audio import SAMPLE_RATE, decode_dictation
from transcribe.speech.engine import DecodeOptions, SpeechRecognizer
from transcribe.speech.packed import transcribe_packed
from transcribe.speech.packing import Clip, Window, owner, pack, place_words

from .conftest import dictation

RATE = 16000
WINDOW = 30 * RATE
GAP = int(1.5 * RATE)

clip_lengths = st.lists(st.integers(min_value=1, max_value=WINDOW), min_size=1, max_size=6)
dictations = st.lists(clip_lengths, min_size=1, max_size=8)


def _clips(lengths: list[list[int]]) -> list[Clip]:
    clips = []
    for item, clip_lengths_of_item in enumerate(lengths):
        at = 0
        for length in clip_lengths_of_item:
            at += RATE // 2  # a pause before each clip
            clips.append(Clip(item, at, at + length))
            at += length
    return clips


@given(dictations)
def test_every_clip_lies_in_one_window_whole_and_apart_from_the_others(lengths: list[list[int]]) -> None:
    clips = _clips(lengths)
    windows = pack(clips, window=WINDOW, gap=GAP)
    placed = [p for w in windows for p in w.pieces]
    assert sorted((p.clip for p in placed), key=lambda c: (c.item, c.start)) == sorted(
        clips, key=lambda c: (c.item, c.start))  # each clip once, none lost
    for window in windows:
        assert window.length <= WINDOW
        for a, b in zip(window.pieces, window.pieces[1:]):
            assert b.offset - a.end == GAP  # a silence between two clips, never an overlap
            assert (a.clip.item, a.clip.start) < (b.clip.item, b.clip.start)  # dictations and clips in order


@given(dictations)
def test_no_two_windows_could_have_been_one(lengths: list[list[int]]) -> None:
    windows = pack(_clips(lengths), window=WINDOW, gap=GAP)
    for number, window in enumerate(windows):
        for other in windows[number + 1:]:
            assert window.length + GAP + other.length > WINDOW


@given(dictations, st.data())
def test_no_word_of_one_dictation_lands_in_another(lengths: list[list[int]], data: st.DataObject) -> None:
    """Words timed anywhere in a window (even in a gap or past its end) go to exactly one clip: the one their
    middle lies in, else the nearest; their times are moved back to that dictation's timeline, inside that clip."""
    windows = pack(_clips(lengths), window=WINDOW, gap=GAP)
    window = data.draw(st.sampled_from(windows))
    times = st.floats(min_value=-1.0, max_value=WINDOW / RATE + 2.0, allow_nan=False)
    spans = data.draw(st.lists(st.tuples(times, times), max_size=20))
    words = [Word(f" w{n}", min(a, b), max(a, b), 0.9) for n, (a, b) in enumerate(spans)]
    placed = place_words(window, words, RATE)
    assert len(placed) == len(words)
    for (piece, moved), word in zip(placed, words):
        middle = (word.start_s + word.end_s) / 2 * RATE
        inside = [p for p in window.pieces if p.offset <= middle <= p.end]
        if inside:
            assert piece in inside  # heard in this clip: given to this clip's dictation
        assert piece is owner(window, word.start_s, word.end_s, RATE)
        low, high = piece.clip.start / RATE, piece.clip.end / RATE
        assert low - 1e-3 <= moved.start_s <= moved.end_s <= high + 1e-3  # inside the clip it was heard in
        # its length kept (at most its clip's): packing never makes a word of no length, which the text
        # layer takes for a word placed on no audio
        assert moved.end_s - moved.start_s == pytest.approx(min(word.end_s - word.start_s, high - low), abs=2e-3)
        assert moved.text == word.text


@given(dictations, st.data())
def test_words_inside_their_clip_come_back_at_their_own_time(lengths: list[list[int]], data: st.DataObject) -> None:
    """A word the engine times inside a clip, off by less than half the gap, keeps its dictation and its exact time."""
    windows = pack(_clips(lengths), window=WINDOW, gap=GAP)
    window: Window = data.draw(st.sampled_from(windows))
    piece = data.draw(st.sampled_from(window.pieces))
    length_s = piece.clip.length / RATE
    start = data.draw(st.floats(min_value=0.0, max_value=length_s, allow_nan=False))
    end = data.draw(st.floats(min_value=start, max_value=length_s, allow_nan=False))
    jitter = data.draw(st.floats(min_value=-GAP / RATE / 2 * 0.99, max_value=GAP / RATE / 2 * 0.99))
    at = piece.offset / RATE
    word = Word(" mot", at + start + jitter, at + end + jitter, 0.8)
    [(found, moved)] = place_words(window, [word], RATE)
    assert found.clip.item == piece.clip.item
    if start + jitter >= 0 and end + jitter <= length_s:
        assert moved.start_s == pytest.approx(piece.clip.start / RATE + start + jitter, abs=1e-3)


def test_short_dictations_share_windows() -> None:
    twelve_seconds = [[12 * RATE] for _ in range(6)]
    windows = pack(_clips(twelve_seconds), window=WINDOW, gap=GAP)
    assert len(windows) == 3 and all(len(w.items) == 2 for w in windows)  # two dictations a window, not one


@pytest.mark.engine
def test_packed_dictations_keep_their_own_words_language_and_biasing(recognizer: SpeechRecognizer) -> None:
    """Two French dictations share a window, an English one and one whose language nobody gave go with them in
    the engine's batch: each transcript holds its own words, at times inside its own audio."""
    names = ["fr-mg-001", "fr-cardio-01", "en-cardio-01", "en-gp-001"]
    audios = [decode_dictation(dictation(n)) for n in names]
    options = [
        DecodeOptions(language="fr"),
        DecodeOptions(language="fr"),
        DecodeOptions(language="en", hotwords="atrial fibrillation, metoprolol, apixaban"),
        DecodeOptions(language=None),  # detected on its first clip, decoded from the same encoding
    ]
    results = transcribe_packed(recognizer, list(zip(audios, options)), batch_size=8)
    assert all(isinstance(r, Transcript) for r in results)
    mg, cardio, english, detected = results
    assert isinstance(mg, Transcript) and isinstance(cardio, Transcript)
    assert isinstance(english, Transcript) and isinstance(detected, Transcript)
    # words the engine writes on every processor tried, packed or not
    assert "65" in mg.text and "artérielle" in mg.text
    assert "fibrillation" in cardio.text and "monsieur" in cardio.text.lower()
    assert "fibrillation" not in mg.text and "artérielle" not in cardio.text  # nothing crossed over
    assert mg.options["batched"]["shared_with"] >= 1 and cardio.options["batched"]["shared_with"] >= 1
    assert english.language == "en" and english.options["hotwords"].startswith("atrial")
    assert "year" in english.text.lower()
    assert detected.language == "en" and detected.options["language"] == "detect"
    assert detected.language_probability > 0.5 and "patient" in detected.text.lower()
    for transcript, audio in zip(results, audios):
        assert isinstance(transcript, Transcript)
        words = transcript.words
        assert words and all(0 <= w.start_s <= w.end_s <= audio.duration_s for w in words)
        for clip in transcript.options["batched"]["clips"]:
            low, high = clip["clip_s"]
            assert 0 <= low < high <= audio.duration_s + 1e-3  # the recorded boundaries lie in the audio


@pytest.mark.engine
def test_silence_packed_with_speech_gives_no_words(recognizer: SpeechRecognizer) -> None:
    from transcribe.speech.audio import DecodedAudio

    speech = decode_dictation(dictation("fr-dose-01"))
    silence = DecodedAudio(np.zeros(SAMPLE_RATE * 5, dtype=np.float32), 5.0, SAMPLE_RATE, 1, "pcm")
    spoken, empty = transcribe_packed(recognizer, [(speech, DecodeOptions(language="fr")), (silence, DecodeOptions(language="fr"))], batch_size=4)
    assert isinstance(spoken, Transcript) and isinstance(empty, Transcript)
    assert "mg" in spoken.text and not empty.segments and empty.text == ""
