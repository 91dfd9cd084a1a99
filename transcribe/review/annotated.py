"""The report as the review screen shows it: each block's text as pieces, each with its time in the audio.

The secretary edits the text in place, in the listening pane; the server keeps plain blocks. To
link what she typed to the audio, each block is compared with the same block as the engine and
the text layer made it (a character diff): a heard word keeps its time where it still stands,
even corrected by hand; what she typed herself has none. The changes of the text layer and the
points to check are placed by their anchors, which follow her typing.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from transcribe.vocabulary.records import LanguageVocabulary
from transcribe.work.anchors import Anchor, follow_loosely
from transcribe.work.review_state import Block, DraftMaterial, WorkState, anchors_in_blocks, current_layout

LOW_CONFIDENCE = 0.5


def annotated_blocks(
    material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None
) -> tuple[list[dict[str, Any]], dict[str, Anchor]]:
    """The blocks with their pieces for the screen, and the anchors of the edits and flags in them."""
    layout = current_layout(material, state.reverted)
    heard = {f"word:{i}": span for i, span in enumerate(layout.words)}
    pristine, places = anchors_in_blocks(layout.text, vocab, {**layout.spans, **heard})
    blocks = state.blocks if state.blocks is not None else pristine
    anchors = state.anchors if state.blocks is not None else {k: v for k, v in places.items() if k[:5] != "word:"}
    out = []
    for number, block in enumerate(blocks):
        timed = _heard_words(material, pristine, places, number, block)
        out.append(
            {
                "key": block.key,
                "heading": block.heading,
                "text": block.text,
                "pieces": _pieces(material, state, block.text, number, timed, anchors),
            }
        )
    return out, anchors


def _heard_words(
    material: DraftMaterial, pristine: list[Block], places: dict[str, Anchor], number: int, block: Block
) -> list[tuple[int, int, float, float, float]]:
    """Where the engine's words stand in a typed block: (start, end, start_s, end_s, probability)."""
    if number >= len(pristine) or pristine[number].key != block.key:
        return []
    indexes, spans = [], []
    for i in range(len(material.words)):
        place = places.get(f"word:{i}")
        if place is not None and place[0] == number and place[1] < place[2]:
            indexes.append(i)
            spans.append((place[1], place[2]))
    moved = follow_loosely(pristine[number].text, block.text, spans)
    out = []
    for i, span in zip(indexes, moved):
        if span is not None:
            _, _, start_s, end_s, probability = material.words[i]
            out.append((span[0], span[1], start_s, end_s, probability))
    return out


def _pieces(
    material: DraftMaterial,
    state: WorkState,
    text: str,
    number: int,
    timed: list[tuple[int, int, float, float, float]],
    anchors: dict[str, Anchor],
) -> list[dict[str, Any]]:
    """A block's text cut at spaces and at the edges of the text layer's changes, each piece described."""
    edits = {
        int(key[5:]): (a[1], a[2])
        for key, a in anchors.items()
        if key[:5] == "edit:" and a is not None and a[0] == number
    }
    flags = {
        int(key[5:]): (a[1], a[2])
        for key, a in anchors.items()
        if key[:5] == "flag:" and a is not None and a[0] == number
    }
    cuts = {0, len(text)} | {p for span in edits.values() for p in span}
    cuts |= {m.start() for m in re.finditer(r"\s+", text)} | {m.end() for m in re.finditer(r"\s+", text)}
    ordered = sorted(c for c in cuts if 0 <= c <= len(text))
    timed = sorted(timed)
    pieces: list[dict[str, Any]] = []
    first = 0  # the first heard word that does not end before the piece (the pieces come in order)
    for a, b in itertools.pairwise(ordered):
        pieces += _empty_edits(material, state, edits, a)
        piece = text[a:b]
        if not piece or piece.isspace():
            _add_plain(pieces, piece)
            continue
        while first < len(timed) and timed[first][1] <= a:
            first += 1
        heard = []
        for word in timed[first:]:
            if word[0] >= b:
                break
            heard.append(word)
        described = _describe(material, state, piece, a, b, heard, edits, flags)
        if len(described) == 1:
            _add_plain(pieces, piece)  # typed by her: plain text, one piece with the text around it
        else:
            pieces.append(described)
    pieces += _empty_edits(material, state, edits, len(text))
    return pieces


def _add_plain(pieces: list[dict[str, Any]], text: str) -> None:
    """Plain text joins the plain text before it: a pasted letter is one piece, not one per word and space."""
    if pieces and len(pieces[-1]) == 1:
        pieces[-1]["text"] += text
    else:
        pieces.append({"text": text})


def _describe(
    material: DraftMaterial,
    state: WorkState,
    piece: str,
    a: int,
    b: int,
    timed: list[tuple[int, int, float, float, float]],
    edits: dict[int, tuple[int, int]],
    flags: dict[int, tuple[int, int]],
) -> dict[str, Any]:
    described: dict[str, Any] = {"text": piece}
    heard = [w for w in timed if w[0] < b and w[1] > a]
    if heard:
        described["start"] = min(w[2] for w in heard)
        described["end"] = max(w[3] for w in heard)
        described["low"] = min(w[4] for w in heard) < LOW_CONFIDENCE
    for index, (start, end) in edits.items():
        if start <= a and b <= end:
            described.update(_edit(material, state, index))
    on = [index for index, (start, end) in flags.items() if start < b and end > a]
    if on:
        described["flags"] = on
    return described


def _empty_edits(
    material: DraftMaterial, state: WorkState, edits: dict[int, tuple[int, int]], position: int
) -> list[dict[str, Any]]:
    """Marks for the changes that removed words here (nothing to show but the mark, to undo them)."""
    return [
        {"text": "", **_edit(material, state, index)}
        for index, (start, end) in sorted(edits.items())
        if start == end == position
    ]


def _edit(material: DraftMaterial, state: WorkState, index: int) -> dict[str, Any]:
    edit = material.edits[index]
    described = {
        "edit": index,
        "heard": edit.before,
        "written": edit.after,
        "rule": edit.rule,
        "reverted": index in state.reverted,
    }
    if edit.evidence:  # what the audio said, for her to see (transcribe.text.evidence)
        described["evidence"] = dict(edit.evidence)
    if "".join(edit.before.split()) == "".join(edit.after.split()):
        # only spaces changed ("500mg" -> "500 mg"): shown with the rest of its word, or both would read alike
        source = material.source
        lead = re.search(r"\S*\Z", source[: edit.start])
        tail = re.match(r"\S*", source[edit.end :])
        before, after = lead.group() if lead else "", tail.group() if tail else ""
        described["heard_shown"] = before + edit.before + after
        described["written_shown"] = before + edit.after + after
    return described


def time_of_span(material: DraftMaterial, start: int, end: int) -> float | None:
    """When a span of the source is heard: the start of its first word, else of the word before it."""
    before = None
    for w_a, w_b, w_start, _, _ in material.words:
        if w_a < max(end, start + 1) and w_b > start:
            return w_start
        if w_b <= start:
            before = w_start
    return before
