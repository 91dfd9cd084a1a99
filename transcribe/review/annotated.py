"""The listening pane: the current text as pieces, each with its time in the audio and what changed it."""

from __future__ import annotations

import re
from typing import Any

from ..records import Edit
from ..review_state import DraftMaterial, WorkState

LOW_CONFIDENCE = 0.5


def annotated_words(material: DraftMaterial, state: WorkState) -> list[dict[str, Any]]:
    """The current text as pieces for the listening pane: each with its time in the audio,
    the engine's confidence, and the edit or flag it belongs to."""
    pieces: list[dict[str, Any]] = []
    position = 0
    for index, edit in sorted(enumerate(material.edits), key=lambda item: item[1].start):
        pieces += _kept_words(material, position, edit.start)
        reverted = index in state.reverted
        start, end = _time_of(material, edit.start, edit.end)
        pieces.append(
            {
                "text": edit.before if reverted else edit.after,
                "start": start,
                "end": end,
                "edit": index,
                "heard": edit.before,
                "written": edit.after,
                "rule": edit.rule,
                "reverted": reverted,
            }
        )
        position = edit.end
    pieces += _kept_words(material, position, len(material.source))
    for flag_index, flag in enumerate(material.flags):
        for piece in pieces:
            if (piece.get("src_start", -1) < flag["end"] and piece.get("src_end", -1) > flag["start"]) or (
                "edit" in piece and _overlaps(material.edits[piece["edit"]], flag)
            ):
                piece.setdefault("flags", []).append(flag_index)
    return pieces


def _overlaps(edit: Edit, flag: dict[str, Any]) -> bool:
    return (edit.start < flag["end"] and edit.end > flag["start"]) or (edit.start == edit.end == flag["start"])


def _kept_words(material: DraftMaterial, start: int, end: int) -> list[dict[str, Any]]:
    pieces: list[dict[str, Any]] = []
    for m in re.finditer(r"\S+|\s+", material.source[start:end]):
        a, b = start + m.start(), start + m.end()
        if m.group().isspace():
            pieces.append({"text": m.group()})
            continue
        t_start, t_end, probability = None, None, 1.0
        for w_a, w_b, w_start, w_end, w_prob in material.words:
            if w_a < b and w_b > a:
                t_start = w_start if t_start is None else t_start
                t_end = w_end
                probability = min(probability, w_prob)
        pieces.append(
            {
                "text": m.group(),
                "start": t_start,
                "end": t_end,
                "low": probability < LOW_CONFIDENCE,
                "src_start": a,
                "src_end": b,
            }
        )
    return pieces


def _time_of(material: DraftMaterial, start: int, end: int) -> tuple[float | None, float | None]:
    t_start = t_end = None
    previous_end = None
    for w_a, w_b, w_start, w_end, _ in material.words:
        if w_a < max(end, start + 1) and w_b > start:
            t_start = w_start if t_start is None else t_start
            t_end = w_end
        elif w_b <= start:
            previous_end = w_end
    if t_start is None:
        return previous_end, previous_end
    return t_start, t_end
