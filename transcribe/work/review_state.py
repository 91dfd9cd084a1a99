"""The secretary's work on one report, as the core knows it: blocks, anchors, reverts, readings.

The review screen shows a draft as editable blocks (the body, then one block per
dictated section). Each block is an exact slice of the text it came from, so that
every change the text layer made, and every flag, has an *anchor*: the place in a
block where it stands. Anchors follow the secretary's typing (each save is diffed
against the previous blocks); an anchor whose characters she rewrote by hand is
dropped. Undoing a change, or choosing a reading of a doubtful dose, acts on its
anchor only: when the anchor is gone it is refused, never applied somewhere else.

Saved work lives in the job store (``Workspace``), so a reload or a crash loses
nothing; ``transcribe.learning.accuracy`` and ``transcribe.learning.rerun`` read it from here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from transcribe.documents.sections import find_section_spans
from transcribe.errors import ReviewError
from transcribe.records import Edit, transcript_from_json
from transcribe.store import JobStore
from transcribe.text.tokens import source_of
from transcribe.vocabulary.records import LanguageVocabulary
from transcribe.work.anchors import Anchor, AnchorLost, Block, anchored_text, carry_anchors, replace_at_anchor

#: a lock is a short lease, renewed by each change: a secretary who stops working (or leaves without
#: the page saying so) frees the report after this long
LOCK_S = 2 * 60
#: the longest report the review screen takes (all its blocks together, in characters): far above any
#: real report (a long discharge letter is about 20,000), low enough that the screen stays fast
MAX_REPORT_CHARS = 100_000


class LockHeld(ReviewError):
    """Another secretary is working on this report."""

    code = "lock-held"


class ReportTooLong(ReviewError):
    """The text sent is longer than a report can be (``MAX_REPORT_CHARS``): refused whole, never cut."""

    code = "review.err.too_long"

    def __init__(self, length: int) -> None:
        super().__init__(
            f"the report would hold {length} characters, more than the {MAX_REPORT_CHARS} a report can hold; "
            "paste a shorter text (a long document belongs in the patient's record, not in a report)"
        )
        self.params = {"length": length, "limit": MAX_REPORT_CHARS}


@dataclass
class WorkState:
    """Everything the secretary decided on one report so far."""

    reverted: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    blocks: list[Block] | None = None  # None: not edited by hand yet, follows the edits
    patient_id: str | None = None
    confirm_identity: bool = False
    worktype: str | None = None
    #: a validated or filed report opened again: her changes make a new version when validated
    reopened: bool = False
    #: who sent the blocks kept, and when her screen read them (ms, her clock): older blocks are not taken
    typed_by: int | None = None
    typed_at: float = 0.0
    #: where each edit ("edit:<i>") and flag ("flag:<i>") stands in the blocks, once they are typed
    anchors: dict[str, Anchor] = field(default_factory=dict)
    #: the flags whose suggestion she applied, each with the words it replaced (to take it back)
    suggested: dict[int, str] = field(default_factory=dict)
    #: the addressee and copies she set (None: not changed: the sidecar's, the dictation's, the GP)
    recipient: str | None = None
    copies: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        data = asdict(self)
        data["anchors"] = {k: list(v) if v is not None else None for k, v in self.anchors.items()}
        data["suggested"] = {str(k): v for k, v in self.suggested.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkState:
        """Read back a saved state, ignoring what it does not know."""
        blocks = data.get("blocks")
        anchors: dict[str, Anchor] = {}
        for key, value in (data.get("anchors") or {}).items():
            anchors[str(key)] = (int(value[0]), int(value[1]), int(value[2])) if value is not None else None
        return cls(
            reverted=[int(i) for i in data.get("reverted", [])],
            resolved=[int(i) for i in data.get("resolved", [])],
            blocks=[Block(str(b["key"]), str(b.get("heading", "")), str(b.get("text", ""))) for b in blocks]
            if blocks is not None
            else None,
            patient_id=data.get("patient_id"),
            confirm_identity=bool(data.get("confirm_identity", False)),
            worktype=data.get("worktype"),
            reopened=bool(data.get("reopened", False)),
            typed_by=data.get("typed_by"),
            typed_at=float(data.get("typed_at", 0.0)),
            anchors=anchors,
            suggested={int(k): str(v) for k, v in (data.get("suggested") or {}).items()},
            recipient=data.get("recipient"),
            copies=[str(c) for c in data["copies"]] if isinstance(data.get("copies"), list) else None,
        )


@dataclass(frozen=True)
class DraftMaterial:
    """What the pipeline made for a job: the text layer's output and the engine's words."""

    source: str
    edits: tuple[Edit, ...]
    flags: tuple[dict[str, Any], ...]
    language: str
    words: tuple[tuple[int, int, float, float, float], ...]  # source span, start, end, probability


def load_material(edits_json: Path, transcript_json: Path) -> DraftMaterial:
    """Read a job's draft files."""
    layer = json.loads(edits_json.read_text(encoding="utf-8"))
    transcript = transcript_from_json(json.loads(transcript_json.read_text(encoding="utf-8")))
    source = source_of(transcript)
    words = tuple((a, b, w.start_s, w.end_s, w.probability) for (a, b), w in zip(source.word_spans, transcript.words))
    edits = tuple(Edit(**e) for e in layer["edits"])
    return DraftMaterial(layer["source"], edits, tuple(layer["flags"]), layer["language"], words)


# --- the text as the edits make it ---------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """The current text, where each edit and flag stands in it, and where each heard word stands."""

    text: str
    spans: dict[str, tuple[int, int]]
    #: the span of the text showing each of the engine's words (``DraftMaterial.words``), in order
    words: tuple[tuple[int, int], ...] = ()


def current_layout(material: DraftMaterial, reverted: Sequence[int]) -> Layout:
    """The text with every edit applied except the reverted ones, and the span of each edit and flag."""
    parts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    shifts: list[tuple[int, int, int, int]] = []  # source start, source end, text start, text end of each edit
    position = source_position = 0
    for index, edit in sorted(enumerate(material.edits), key=lambda item: (item[1].start, item[1].end)):
        kept = material.source[source_position : edit.start]
        parts.append(kept)
        position += len(kept)
        shown = edit.before if index in reverted else edit.after
        parts.append(shown)
        spans[f"edit:{index}"] = (position, position + len(shown))
        shifts.append((edit.start, edit.end, position, position + len(shown)))
        position += len(shown)
        source_position = edit.end
    parts.append(material.source[source_position:])
    text = "".join(parts)

    def at(offset: int, *, left: bool) -> int:
        """Where a source offset stands in the text; inside an edit, at the edge of what it shows."""
        moved = 0
        for s_start, s_end, t_start, t_end in shifts:
            if offset < s_start or (offset == s_start and not left and s_start < s_end):
                break  # before this edit
            if offset < s_end or (offset == s_end and (not left or s_start == s_end)):
                return t_start if left else t_end  # on this edit
            moved = t_end - s_end
        return offset + moved

    for index, flag in enumerate(material.flags):
        start, end = at(int(flag["start"]), left=True), at(int(flag["end"]), left=False)
        spans[f"flag:{index}"] = (start, max(start, end))
    words = tuple((at(a, left=True), max(at(a, left=True), at(b, left=False))) for a, b, *_ in material.words)
    return Layout(text, spans, words)


def current_text(material: DraftMaterial, state: WorkState) -> str:
    """The text with every edit applied except those reverted."""
    return current_layout(material, state.reverted).text


# --- blocks ----------------------------------------------------------------------------------------
def block_spans(text: str, vocab: LanguageVocabulary | None) -> list[tuple[Block, int]]:
    """The editable blocks of a text, each an exact slice of it, with the offset where it starts."""
    body_end, sections = find_section_spans(text, vocab)
    pieces = [("body", "", 0, body_end)] + [(s.section, s.heading, s.content_start, s.content_end) for s in sections]
    out: list[tuple[Block, int]] = []
    seen: dict[str, int] = {}
    for key, heading, start, end in pieces:
        raw = text[start:end]
        lead = len(raw) - len(raw.lstrip())
        seen[key] = seen.get(key, 0) + 1
        unique = key if seen[key] == 1 else f"{key}-{seen[key]}"
        out.append((Block(unique, heading, raw.strip()), start + lead))
    return out


def blocks_of(text: str, vocab: LanguageVocabulary | None) -> list[Block]:
    """The editable blocks of a text: its body, then one block per dictated section."""
    return [block for block, _ in block_spans(text, vocab)]


def anchors_in_blocks(
    text: str, vocab: LanguageVocabulary | None, spans: dict[str, tuple[int, int]]
) -> tuple[list[Block], dict[str, Anchor]]:
    """The blocks of a text and, for each span of it, its anchor in them (None: under a heading)."""
    placed = block_spans(text, vocab)
    anchors: dict[str, Anchor] = {}
    for key, (start, end) in spans.items():
        anchors[key] = None
        for number, (block, offset) in enumerate(placed):
            if offset <= start and end <= offset + len(block.text):
                anchors[key] = (number, start - offset, end - offset)
                break
    return [block for block, _ in placed], anchors


def final_text(blocks: list[Block], language: str) -> str:
    """The report text from its blocks, headings written so that the sections are found again."""
    separator = " : " if language == "fr" else ": "
    parts = [blocks[0].text.strip()] if blocks and blocks[0].key == "body" and blocks[0].text.strip() else []
    for block in blocks:
        if block.key == "body":
            continue
        parts.append(f"{block.heading}{separator}{block.text.strip()}")
    return "\n".join(p for p in parts if p)


def editable_blocks(material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None) -> list[Block]:
    """The blocks the secretary sees, with their anchors set up the first time (in ``state``)."""
    if state.blocks is None:
        layout = current_layout(material, state.reverted)
        state.blocks, state.anchors = anchors_in_blocks(layout.text, vocab, layout.spans)
    return state.blocks


def check_length(blocks: Sequence[Block]) -> None:
    """Refuse blocks longer together than a report can be (``ReportTooLong``): never cut them."""
    length = sum(len(b.heading) + len(b.text) for b in blocks)
    if length > MAX_REPORT_CHARS:
        raise ReportTooLong(length)


def take_typed_blocks(
    material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None, typed: list[Block]
) -> None:
    """Keep the blocks the secretary typed, the anchors moved along with her changes (refused whole if too long)."""
    check_length(typed)
    before = editable_blocks(material, state, vocab)
    state.anchors = carry_anchors(before, typed, state.anchors)
    state.blocks = typed


def revert_edit(material: DraftMaterial, state: WorkState, index: int, *, undo: bool) -> None:
    """Take back change ``index`` (``undo``: apply it again), on its own place only."""
    edit = material.edits[index]
    if state.blocks is not None:
        old, new = (edit.after, edit.before) if not undo else (edit.before, edit.after)
        replace_at_anchor(state.blocks, state.anchors, f"edit:{index}", old, new)
    if undo:
        state.reverted.remove(index)
    else:
        state.reverted.append(index)


def choose_reading(
    material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None, index: int, reading: str
) -> None:
    """Write one of a flag's readings (a doubtful dose, a term's audio-ranked spellings) in place of what it
    marks, and tick it."""
    flag = material.flags[index]
    choices = list(flag.get("choices") or ())
    if reading not in choices:
        raise ReviewError(f"'{reading}' is not one of the readings offered for this passage")
    blocks = editable_blocks(material, state, vocab)
    key = f"flag:{index}"
    current = anchored_text(blocks, state.anchors, key)
    if current is None:
        raise AnchorLost("this passage was rewritten by hand: correct it directly in the text")
    replace_at_anchor(blocks, state.anchors, key, current, reading)
    if index not in state.resolved:
        state.resolved.append(index)


def apply_suggestion(material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None, index: int) -> str:
    """Write a flag's suggestion ("hydroxyzine" for "hydroxysine") in place of the word it marks, and tick it.

    A flag may span more than its word (the comma before it, when the pieces it stands on were
    joined); only the word changes. Refused when the word is no longer there.
    """
    flag = material.flags[index]
    suggestion = flag.get("suggestion")
    if not suggestion:
        raise ReviewError("this point to check has no suggestion: correct it in the text, or tick it")
    blocks = editable_blocks(material, state, vocab)
    key = f"flag:{index}"
    current, anchor = anchored_text(blocks, state.anchors, key), state.anchors.get(key)
    if current is None or anchor is None:
        raise AnchorLost("this passage was rewritten by hand: correct it directly in the text")
    params = flag.get("params") or {}
    word = str(params.get("word") or params.get("spoken") or params.get("abbreviation") or current.strip())
    found = re.search(re.escape(word), current, re.IGNORECASE) if word else None
    if found is None:
        raise AnchorLost("this passage was rewritten by hand: correct it directly in the text")
    if found.group()[:1].isupper() and suggestion[:1].islower():
        suggestion = suggestion[:1].upper() + suggestion[1:]  # a word that opens a sentence keeps its capital
    number, start, _ = anchor
    state.anchors[key] = (number, start + found.start(), start + found.end())
    replace_at_anchor(blocks, state.anchors, key, found.group(), suggestion)
    state.suggested[index] = found.group()
    if index not in state.resolved:
        state.resolved.append(index)
    return suggestion


def take_back_suggestion(
    material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None, index: int
) -> None:
    """Write back the words a flag's suggestion replaced, and untick the flag (on its own place only).

    Refused (``AnchorLost``) when she rewrote the suggestion by hand since: her words are kept.
    """
    if index not in state.suggested:
        raise ReviewError("no suggestion was applied to this point to check")
    blocks = editable_blocks(material, state, vocab)
    key = f"flag:{index}"
    current = anchored_text(blocks, state.anchors, key)
    if current is None:
        raise AnchorLost("this passage was rewritten by hand: correct it directly in the text")
    replace_at_anchor(blocks, state.anchors, key, current, state.suggested.pop(index))
    if index in state.resolved:
        state.resolved.remove(index)


def replace_text(
    material: DraftMaterial,
    state: WorkState,
    vocab: LanguageVocabulary | None,
    find: str,
    new: str,
    *,
    at: tuple[int, int] | None = None,
) -> int:
    """Replace ``find`` (any case) by ``new`` in the blocks, everywhere or only the one at (block, start).

    The change is taken as if she had typed it: anchors follow, those of the replaced words go.
    Returns how many were replaced.
    """
    if not find:
        return 0
    pattern = re.compile(re.escape(find), re.IGNORECASE)  # on the text itself: positions stay its own
    typed = [Block(b.key, b.heading, b.text) for b in editable_blocks(material, state, vocab)]
    count = 0
    for number, block in enumerate(typed):
        if at is not None and at[0] != number:
            continue
        if at is not None:
            match = pattern.match(block.text, at[1])
            if match is None:
                raise ReviewError("the text changed there: search again")
            block.text = block.text[: match.start()] + new + block.text[match.end() :]
            count = 1
            continue
        block.text, found = pattern.subn(lambda _m: new, block.text)
        count += found
    if count:
        take_typed_blocks(material, state, vocab, typed)
    return count


def still_ambiguous(material: DraftMaterial, state: WorkState, vocab: LanguageVocabulary | None) -> list[int]:
    """The flags of doubtful doses whose passage still holds the doubtful form (a term's choices are offered,
    not required: the words heard may be what was said)."""
    out = []
    layout = current_layout(material, state.reverted) if state.blocks is None else None
    for index, flag in enumerate(material.flags):
        if not flag.get("choices") or flag.get("kind") != "dose":
            continue
        if layout is not None:
            start, end = layout.spans[f"flag:{index}"]
            held: str | None = layout.text[start:end]
        else:
            held = anchored_text(state.blocks, state.anchors, f"flag:{index}")
        if (
            held is not None
            and held not in flag["choices"]
            and held.strip() == str(flag.get("ambiguous", held)).strip()
        ):
            out.append(index)
    return out


# --- persistence -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefusedDraft:
    """Text a secretary's screen sent that the server did not take (another held the report): kept for her."""

    username: str
    at: float
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        """The blocks as one text, each section under its heading."""
        return "\n".join(f"{b.heading}\n{b.text}" if b.heading else b.text for b in self.blocks)


class Workspace:
    """Locks and saved work in progress, in the job store."""

    def __init__(self, store: JobStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def lock(self, job_id: int, user_id: int, *, force: bool = False) -> None:
        """Take or renew the lock on a report; ``LockHeld`` names who holds it otherwise (unless ``force``)."""
        holder = self._store.reviews.lock_report(job_id, user_id, now=self._clock(), lock_s=LOCK_S, force=force)
        if holder is not None:
            raise LockHeld(f"{holder} is working on this report")

    def take_over(self, job_id: int, user_id: int) -> str | None:
        """Take the lock from whoever holds it (a secretary who left her desk); returns who held it."""
        holder = self.holder(job_id)
        self.lock(job_id, user_id, force=True)
        return holder

    def holder(self, job_id: int) -> str | None:
        """Who holds a live lock on a report, if anyone."""
        lock = self._store.reviews.report_lock(job_id)
        return lock[0] if lock is not None and lock[1] > self._clock() else None

    def release(self, job_id: int, user_id: int) -> None:
        """Give the lock back (only its holder can)."""
        self._store.reviews.release_report(job_id, user_id)

    def refuse(self, job_id: int, user_id: int, blocks: Sequence[Block]) -> None:
        """Keep blocks a screen sent that were not taken (the report was someone else's), with their author."""
        self._store.reviews.keep_refused_draft(job_id, user_id, self._clock(), [asdict(b) for b in blocks])

    def refused(self, job_id: int) -> list[RefusedDraft]:
        """The text refused on a report, oldest first, each with who typed it."""
        return [
            RefusedDraft(
                username,
                at,
                tuple(Block(str(b["key"]), str(b.get("heading", "")), str(b.get("text", ""))) for b in blocks),
            )
            for username, at, blocks in self._store.reviews.refused_drafts_of(job_id)
        ]

    def load(self, job_id: int) -> WorkState:
        """The saved work on a report (an empty state when there is none)."""
        saved = self._store.reviews.saved_review(job_id)
        return WorkState.from_json(saved) if saved is not None else WorkState()

    def last_save(self, job_id: int) -> tuple[float, int | None] | None:
        """When the work on a report was last saved, and by which user (None: never)."""
        return self._store.reviews.last_review_save(job_id)

    def save(
        self, job_id: int, user_id: int, state: WorkState, *, audit: Callable[[Connection], None] | None = None
    ) -> float:
        """Save the work in progress; only the lock holder can. Returns when it was saved.

        ``audit`` (``Auditor.entry``) writes the audit entry of the change in the same transaction.
        """
        self.lock(job_id, user_id)
        now = self._clock()
        self._store.reviews.save_review(job_id, user_id, state.to_json(), now=now, audit=audit)
        return now
