"""Anchors: where a change or a flag stands in the text the secretary is typing, kept up to date.

An anchor is (block, start, end) in a block's text. Each save is compared with the previous
text (a character diff, after the common start and end are set aside); an anchor whose
characters were changed, that had text typed inside it, or that text now touches so that it
reads as another word or number ("5" became "2,5") is dropped (None). Pure functions.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from transcribe.errors import ReviewError


@dataclass
class Block:
    """An editable part of the report: the body, or one section with its heading."""

    key: str
    heading: str
    text: str


#: an anchor: (block index, start, end) in that block's text; None once rewritten by hand
Anchor = tuple[int, int, int] | None


class AnchorLost(ReviewError):
    """The place of a change or flag was rewritten by hand: it cannot be acted on automatically."""

    code = "anchor-lost"


def carry_anchors(old: list[Block], new: list[Block], anchors: dict[str, Anchor]) -> dict[str, Anchor]:
    """The anchors of ``old`` blocks moved to where the same characters stand in ``new`` blocks.

    An anchor whose characters were changed (or that had text typed inside it) is dropped; text
    typed right before or after it stays outside it.
    """
    moved: dict[str, Anchor] = {}
    mappers: dict[int, _TextMap | None] = {}
    for key, anchor in anchors.items():
        if anchor is None:
            moved[key] = None
            continue
        number, start, end = anchor
        if number not in mappers:
            same = number < len(old) and number < len(new) and old[number].key == new[number].key
            mappers[number] = _TextMap(old[number].text, new[number].text) if same else None
        mapper = mappers[number]
        moved[key] = None if mapper is None else mapper.span(number, start, end)
    return moved


class _TextMap:
    """How positions of one text move when it is edited into another (a character diff)."""

    def __init__(self, before: str, after: str) -> None:
        prefix = 0
        limit = min(len(before), len(after))
        while prefix < limit and before[prefix] == after[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and before[-1 - suffix] == after[-1 - suffix]:
            suffix += 1
        middle = difflib.SequenceMatcher(
            None, before[prefix : len(before) - suffix], after[prefix : len(after) - suffix], autojunk=False
        ).get_opcodes()
        ops: list[tuple[str, int, int, int, int]] = []
        if prefix:
            ops.append(("equal", 0, prefix, 0, prefix))
        ops += [(tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix) for tag, i1, i2, j1, j2 in middle]
        if suffix:
            ops.append(("equal", len(before) - suffix, len(before), len(after) - suffix, len(after)))
        self.ops = ops
        self._before, self._after = before, after
        self._before_size, self._after_size = len(before), len(after)

    def span(self, number: int, start: int, end: int) -> Anchor:
        for tag, i1, i2, _, _ in self.ops:
            if tag == "equal":
                continue
            if (i1 < i2 and i1 < end and i2 > start) or (i1 == i2 and start < i1 < end):
                return None  # its characters were changed, or text was typed inside it
        if start == end:
            position = self._right(start)
            return (number, position, position)
        a, b = self._left(start), self._right(end)
        if self._glued(start, a, left=True) or self._glued(end, b, left=False):
            return None  # typed against it: "5" became "2,5", the word is not the one it was
        return (number, a, b)

    def _glued(self, old: int, new: int, *, left: bool) -> bool:
        """Whether a new neighbour now joins the anchored characters into a longer word or number."""
        before, after = self._before, self._after
        if left:
            if new == 0 or (old > 0 and before[old - 1] == after[new - 1]):
                return False
            return _joins(after[new - 2] if new >= 2 else "", after[new - 1], after[new])
        if new >= len(after) or (old < len(before) and before[old] == after[new]):
            return False
        return _joins(after[new - 1], after[new], after[new + 1] if new + 1 < len(after) else "")

    def _left(self, position: int) -> int:
        """Where a start moves: after text inserted at it."""
        for tag, i1, i2, j1, _ in self.ops:
            if tag == "equal" and i1 <= position < i2:
                return j1 + position - i1
        return self._after_size

    def _right(self, position: int) -> int:
        """Where an end moves: before text inserted at it."""
        for tag, i1, i2, j1, _ in self.ops:
            if tag == "equal" and i1 < position <= i2:
                return j1 + position - i1
        return 0 if position == 0 else self._after_size


def _joins(first: str, middle: str, last: str) -> bool:
    """Whether characters stand as one word or number ("2" "5", "2" "," "5")."""
    if middle.isalnum():
        return first.isalnum() or last.isalnum()
    return middle in ",." and first.isdigit() and last.isdigit()


def replace_at_anchor(blocks: list[Block], anchors: dict[str, Anchor], key: str, expected: str, new: str) -> None:
    """Write ``new`` where anchor ``key`` stands, if it still holds ``expected``; other anchors follow."""
    anchor = anchors.get(key)
    if anchor is None or anchor[0] >= len(blocks):
        raise AnchorLost("this passage was rewritten by hand: correct it directly in the text")
    number, start, end = anchor
    block = blocks[number]
    if block.text[start:end] != expected:
        raise AnchorLost("this passage was rewritten by hand: correct it directly in the text")
    block.text = block.text[:start] + new + block.text[end:]
    delta = len(new) - (end - start)
    for other, place in list(anchors.items()):
        if place is None or place[0] != number or other == key:
            continue
        _, a, b = place
        if a >= end and not (a == end == start):  # after it
            anchors[other] = (number, a + delta, b + delta)
        elif a <= start and b >= end:  # around it (a flag on the changed words)
            anchors[other] = (number, a, b + delta)
        elif b <= start:
            continue
        else:
            anchors[other] = None
    anchors[key] = (number, start, start + len(new))


def anchored_text(blocks: list[Block] | None, anchors: dict[str, Anchor], key: str) -> str | None:
    """The characters at an anchor, or None when the anchor is gone."""
    anchor = anchors.get(key)
    if blocks is None or anchor is None or anchor[0] >= len(blocks):
        return None
    return blocks[anchor[0]].text[anchor[1] : anchor[2]]


def follow_loosely(before: str, after: str, spans: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """Where each span of ``before`` stands in ``after``, its word rewritten or not (None: deleted).

    Unlike an anchor, a span keeps its place when its word was corrected ("hydroxizine" typed
    into "hydroxyzine"): it says where a heard word stands now, to link it to its audio. The two
    texts are compared word by word; where n words became m, each goes to the new word most
    like it (none when none is alike).
    """
    old = [(m.start(), m.end()) for m in re.finditer(r"\S+", before)]
    new = [(m.start(), m.end()) for m in re.finditer(r"\S+", after)]
    matcher = difflib.SequenceMatcher(None, [before[a:b] for a, b in old], [after[a:b] for a, b in new], autojunk=False)
    moved: list[tuple[int, int] | None] = [None] * len(old)
    same = [False] * len(old)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace") and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                moved[i1 + k], same[i1 + k] = new[j1 + k], tag == "equal"
        elif tag == "replace":  # n words for m: each goes to the new word most like it, if one is
            for k in range(i1, i2):
                word = before[old[k][0] : old[k][1]]
                likeness = [difflib.SequenceMatcher(None, word, after[a:b]).ratio() for a, b in new[j1:j2]]
                best = max(range(len(likeness)), key=likeness.__getitem__)
                moved[k] = new[j1 + best] if likeness[best] >= 0.5 else None
    out: list[tuple[int, int] | None] = []
    for start, end in spans:
        places = []
        for number, (a, b) in enumerate(old):
            target = moved[number]
            if a < end and b > start and target is not None:
                shift = target[0] - a
                places.append((start + shift, end + shift) if same[number] else target)
        out.append((min(p[0] for p in places), max(p[1] for p in places)) if places else None)
    return out
