"""Packing the speech of short dictations into the engine's 30-second windows, and giving each word back.

The engine reads audio in windows of 30 s and computes the whole window whatever it holds: a
12-second dictation alone costs as much encoder work as 30 s of speech. Here the speech clips of
several dictations that are decoded alike (same language, same biasing list) are laid end to end in
one window, with silence between them so that the engine hears separate utterances. The layout is
recorded (which clip of which dictation lies where), and every word the engine returns is given
back to the clip its middle lies in, or to the nearest clip when it lies in a gap; its times are
moved back onto its own dictation's timeline and kept inside that clip.

Pure: sample counts and word times in, layouts and placed words out; no engine, no audio.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from transcribe.records import Word


@dataclass(frozen=True)
class Clip:
    """A stretch of speech of one dictation: sample indexes in that dictation's audio."""

    item: int
    start: int
    end: int

    @property
    def length(self) -> int:
        """Its length in samples."""
        return self.end - self.start


@dataclass(frozen=True)
class Placed:
    """A clip where it lies in a window: ``offset`` samples from the window's start."""

    clip: Clip
    offset: int

    @property
    def end(self) -> int:
        """Where the clip ends in the window (samples)."""
        return self.offset + self.clip.length


@dataclass(frozen=True)
class Window:
    """One engine window: clips in order, each followed by a gap of silence (but the last)."""

    pieces: tuple[Placed, ...]

    @property
    def length(self) -> int:
        """Samples from the window's start to the end of its last clip."""
        return self.pieces[-1].end if self.pieces else 0

    @property
    def items(self) -> tuple[int, ...]:
        """The dictations that share this window, in order, each once."""
        return tuple(dict.fromkeys(p.clip.item for p in self.pieces))


def pack(clips: Iterable[Clip], *, window: int, gap: int) -> list[Window]:
    """Lay clips into as few windows of ``window`` samples as first-fit decreasing finds, ``gap`` apart.

    A clip longer than a window gets a window of its own (the engine reads its first ``window``
    samples; callers cut speech into clips no longer than a window). Inside a window the clips
    keep the order of their dictations and of their places in them.
    """
    bins: list[list[Clip]] = []
    used: list[int] = []
    for clip in sorted(clips, key=lambda c: (-c.length, c.item, c.start)):
        for number, filled in enumerate(used):
            if filled + gap + clip.length <= window:
                bins[number].append(clip)
                used[number] = filled + gap + clip.length
                break
        else:
            bins.append([clip])
            used.append(clip.length)
    windows = []
    for members in bins:
        pieces, offset = [], 0
        for clip in sorted(members, key=lambda c: (c.item, c.start)):
            pieces.append(Placed(clip, offset))
            offset += clip.length + gap
        windows.append(Window(tuple(pieces)))
    return sorted(windows, key=lambda w: (w.pieces[0].clip.item, w.pieces[0].clip.start))


def owner(window: Window, start_s: float, end_s: float, rate: int) -> Placed:
    """The clip a word timed ``start_s``-``end_s`` in the window belongs to: the one its middle lies in, else the nearest."""
    middle = (start_s + end_s) / 2 * rate

    def distance(piece: Placed) -> float:
        return max(piece.offset - middle, middle - piece.end, 0.0)

    return min(window.pieces, key=distance)  # ties: the earlier clip


def place_words(window: Window, words: Sequence[Word], rate: int) -> list[tuple[Placed, Word]]:
    """Each word of a window given back to its clip: (the clip, the word on its dictation's timeline).

    A word's times are moved by its clip's shift and kept inside that clip, so that no word lies
    outside the speech it was heard in, and none is given to a dictation it was not heard in. A word
    the engine timed partly in the silence between two clips is moved inside its clip with its length
    kept (at most the clip's): a word of no length is one the engine placed on no audio
    (``SourceText.unplaced``), which packing must not make.
    """
    placed = []
    for word in words:
        piece = owner(window, word.start_s, word.end_s, rate)
        shift_s = (piece.clip.start - piece.offset) / rate
        low, high = piece.clip.start / rate, piece.clip.end / rate
        length = min(max(0.0, word.end_s - word.start_s), high - low)
        start = min(max(word.start_s + shift_s, low), high - length)
        placed.append((piece, Word(word.text, round(start, 3), round(start + length, 3), word.probability)))
    return placed


def layout_of(window: Window, number: int, rate: int) -> list[dict[str, object]]:
    """The recorded boundaries of a window: for each clip, its dictation, where it was said and where it lay."""
    return [
        {
            "window": number,
            "item": p.clip.item,
            "clip_s": [round(p.clip.start / rate, 3), round(p.clip.end / rate, 3)],
            "in_window_s": [round(p.offset / rate, 3), round(p.end / rate, 3)],
        }
        for p in window.pieces
    ]
