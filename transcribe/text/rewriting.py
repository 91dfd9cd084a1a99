"""The record of every change: the text as pieces of the source, kept or replaced.

Each pass of the text layer *finds* replacements on the current text; this
module *applies* them. The current text is a sequence of pieces that tile the
source text: a kept piece is source text unchanged, a replaced piece carries
the rule(s) that changed it. A replacement that touches a replaced piece
absorbs it, so that one edit covers a chain of rules (a heard word corrected to
an abbreviation, then expanded). At the end every replaced piece is one
``Edit`` on the source: applying all edits gives the text, dropping one undoes
exactly that change.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from transcribe.messages import message
from transcribe.records import Edit


@dataclass(frozen=True)
class Replacement:
    """A change found by a pass: ``text[start:end]`` of the *current* text becomes ``after``."""

    start: int
    end: int
    after: str
    rule: str
    confidence: float = 1.0
    #: what the change rests on (kept with its edit)
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingFlag:
    """A span of the source that a person must check."""

    start: int
    end: int
    kind: str
    reason: str
    suggestion: str | None = None
    choices: tuple[str, ...] = ()
    code: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Piece:
    src_start: int
    src_end: int
    text: str
    rules: tuple[str, ...] = ()
    confidence: float = 1.0
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> bool:
        return not self.rules


class Rewriting:
    """The source text, the current text, and the pieces that relate them."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._pieces: list[_Piece] = [_Piece(0, len(source), source)] if source else []
        self._starts: list[int] = [0] if source else []
        self._text = source
        self.flags: list[PendingFlag] = []

    @property
    def text(self) -> str:
        """The current text."""
        return self._text

    # --- applying ---------------------------------------------------------------------
    def apply(self, replacements: Iterable[Replacement]) -> int:
        """Apply the replacements of one pass (offsets in the current text); return how many took.

        Overlapping replacements keep the first (then the longest); no-op ones are ignored.
        """
        size = len(self._text)
        chosen = _non_overlapping(r for r in replacements if r.end <= size and self._text[r.start : r.end] != r.after)
        if not chosen:
            return 0
        pieces = list(self._pieces)
        starts = list(self._starts)
        result: list[_Piece] = []
        index = 0  # next piece not yet copied into result
        taken = 0
        consumed = 0  # where the last replacement ended, once widened to whole replaced pieces
        for rep in chosen:
            if rep.start < consumed:
                continue  # it fell into a replaced piece that the previous replacement absorbed
            taken += 1
            first, last = _overlapping(pieces, starts, rep.start, rep.end, index)
            # copy the untouched pieces before the replacement
            while index < first:
                result.append(pieces[index])
                index += 1
            if first > last:  # a pure insertion between two pieces (or at the very end)
                src = pieces[first].src_start if first < len(pieces) else len(self.source)
                result.append(_Piece(src, src, rep.after, (rep.rule,), rep.confidence, dict(rep.evidence)))
                consumed = rep.start
                continue
            head, tail = pieces[first], pieces[last]
            head_start, tail_start = starts[first], starts[last]
            a, b = rep.start, rep.end
            prefix = suffix = ""
            if head.kept:
                if a > head_start:
                    cut = head.src_start + (a - head_start)
                    result.append(_Piece(head.src_start, cut, head.text[: a - head_start]))
                src_start = head.src_start + max(0, a - head_start)
            else:
                prefix = head.text[: max(0, a - head_start)]
                src_start = head.src_start
            tail_end = tail_start + len(tail.text)
            leftover: _Piece | None = None
            if tail.kept:
                src_end = tail.src_start + min(len(tail.text), b - tail_start)
                if b < tail_end:
                    leftover = _Piece(src_end, tail.src_end, tail.text[b - tail_start :])
            else:
                suffix = tail.text[max(0, b - tail_start) :]
                src_end = tail.src_end
            consumed = max(b, tail_end if not tail.kept else b)
            merged = [p for p in pieces[first : last + 1] if not p.kept]
            rules = tuple(dict.fromkeys([r for p in merged for r in p.rules] + [rep.rule]))
            confidence = min([rep.confidence] + [p.confidence for p in merged])
            evidence = {k: v for p in merged for k, v in p.evidence.items()} | dict(rep.evidence)
            text = prefix + rep.after + suffix
            if text == self.source[src_start:src_end]:
                result.append(_Piece(src_start, src_end, text))  # the changes cancelled out
            else:
                result.append(_Piece(src_start, src_end, text, rules, confidence, evidence))
            index = last + 1
            if leftover is not None:  # the rest of a kept piece: later replacements may fall in it
                index = last
                pieces[last], starts[last] = leftover, b
        result.extend(pieces[index:])
        self._set_pieces(_merge_kept(result))
        return taken

    def _set_pieces(self, pieces: list[_Piece]) -> None:
        self._pieces = pieces
        starts: list[int] = []
        position = 0
        for piece in pieces:
            starts.append(position)
            position += len(piece.text)
        self._starts = starts
        self._text = "".join(p.text for p in pieces)

    # --- flags and spans --------------------------------------------------------------
    def flag(
        self,
        start: int,
        end: int,
        kind: str,
        code: str,
        params: dict[str, str],
        suggestion: str | None = None,
        choices: tuple[str, ...] = (),
    ) -> None:
        """Mark a span of the current text for a person to check: a message code and its parameters."""
        src_start, src_end = self.source_span(start, end)
        reason = message(code, "en", **params)
        self.flags.append(PendingFlag(src_start, src_end, kind, reason, suggestion, choices, code, params))

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span behind a span of the current text (whole pieces where they were replaced)."""
        return self._source_offset(start, left=True), self._source_offset(end, left=False)

    def _source_offset(self, offset: int, *, left: bool) -> int:
        if not self._pieces:
            return 0
        index = bisect.bisect_right(self._starts, offset) - 1
        if not left and index > 0 and self._starts[index] == offset:
            index -= 1
        index = max(0, index)
        piece, start = self._pieces[index], self._starts[index]
        if piece.kept:
            return piece.src_start + min(max(0, offset - start), len(piece.text))
        return piece.src_start if left else piece.src_end

    def text_span(self, src_start: int, src_end: int) -> tuple[int, int]:
        """The span of the current text that shows a span of the source."""
        text_start = text_end = None
        for piece, start in zip(self._pieces, self._starts):
            if piece.src_end < src_start or piece.src_start > src_end:
                continue
            if piece.kept:
                lo = start + max(0, src_start - piece.src_start)
                hi = start + min(len(piece.text), src_end - piece.src_start)
            else:
                lo, hi = start, start + len(piece.text)
            if lo > hi:
                continue
            text_start = lo if text_start is None else min(text_start, lo)
            text_end = hi if text_end is None else max(text_end, hi)
        if text_start is None or text_end is None:
            return len(self._text), len(self._text)
        return text_start, text_end

    def is_changed(self, start: int, end: int) -> bool:
        """Whether any part of this span of the current text was replaced already."""
        for piece, piece_start in zip(self._pieces, self._starts):
            if piece_start >= end:
                break
            if piece_start + len(piece.text) > start and not piece.kept:
                return True
        return False

    def source_changed(self, src_start: int, src_end: int) -> bool:
        """Whether a replacement reaches into this span of the source (one that only touches its ends does not:
        a dictated comma before a word leaves the word as heard)."""
        for piece in self._pieces:
            if piece.kept or piece.src_start > src_end:
                continue
            if piece.src_start < src_end and piece.src_end > src_start:
                return True
            if piece.src_start == piece.src_end and src_start < piece.src_start < src_end:
                return True  # something put in between its words
        return False

    def edits(self) -> list[Edit]:
        """Every change, as non-overlapping edits on the source."""
        return [
            Edit(
                p.src_start,
                p.src_end,
                self.source[p.src_start : p.src_end],
                p.text,
                "+".join(p.rules),
                round(p.confidence, 3),
                dict(p.evidence),
            )
            for p in self._pieces
            if not p.kept
        ]


def _non_overlapping(replacements: Iterable[Replacement]) -> list[Replacement]:
    ordered = sorted(replacements, key=lambda r: (r.start, -(r.end - r.start)))
    chosen: list[Replacement] = []
    for rep in ordered:
        if rep.start < 0 or rep.end < rep.start:
            continue
        if chosen and (rep.start < chosen[-1].end or (rep.start == chosen[-1].start == chosen[-1].end == rep.end)):
            continue
        chosen.append(rep)
    return chosen


def _merge_kept(pieces: list[_Piece]) -> list[_Piece]:
    merged: list[_Piece] = []
    for piece in pieces:
        if piece.kept and not piece.text and piece.src_start == piece.src_end:
            continue
        if merged and piece.kept and merged[-1].kept and merged[-1].src_end == piece.src_start:
            last = merged[-1]
            merged[-1] = _Piece(last.src_start, piece.src_end, last.text + piece.text)
        else:
            merged.append(piece)
    return merged


def _overlapping(pieces: list[_Piece], starts: list[int], a: int, b: int, lowest: int) -> tuple[int, int]:
    """Indexes of the first and last pieces a replacement [a, b) touches; first > last: none,
    and the replacement is an insertion before piece ``first``."""
    i = lowest
    while i < len(pieces) and starts[i] + len(pieces[i].text) <= a:
        i += 1  # ends at or before a: untouched
    if a == b:
        inside = i < len(pieces) and starts[i] < a
        return (i, i) if inside else (i, i - 1)
    first = last = i
    last = first - 1
    while i < len(pieces) and starts[i] < b:
        last = i
        i += 1
    return first, last
