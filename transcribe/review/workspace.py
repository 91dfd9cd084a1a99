"""The secretary's work on one report: what she reverted, resolved, typed and chose; the lock she holds.

Her work in progress is saved in the store as she goes (a reload or a crash
loses nothing). A report being edited is locked to her for ``LOCK_S`` seconds,
renewed while she works; another secretary sees who holds it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..errors import ReviewError
from ..records import Edit, apply_edits, transcript_from_json
from ..report import organise
from ..schema import review_drafts, review_locks, users
from ..store import JobStore
from ..text.tokens import source_of
from ..vocabulary import LanguageVocabulary

LOCK_S = 10 * 60
LOW_CONFIDENCE = 0.5


class LockHeld(ReviewError):
    """Another secretary is working on this report."""


@dataclass
class Block:
    """An editable part of the report: the body, or one section with its heading."""

    key: str
    heading: str
    text: str


@dataclass
class WorkState:
    """Everything the secretary decided on one report so far."""

    reverted: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    blocks: list[Block] | None = None  # None: not edited by hand yet, follows the edits
    patient_id: str | None = None
    confirm_identity: bool = False
    worktype: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkState:
        """Read back a saved state, ignoring what it does not know."""
        blocks = data.get("blocks")
        return cls(
            reverted=[int(i) for i in data.get("reverted", [])],
            resolved=[int(i) for i in data.get("resolved", [])],
            blocks=[Block(str(b["key"]), str(b.get("heading", "")), str(b.get("text", ""))) for b in blocks]
            if blocks is not None else None,
            patient_id=data.get("patient_id"),
            confirm_identity=bool(data.get("confirm_identity", False)),
            worktype=data.get("worktype"),
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
    words = tuple(
        (a, b, w.start_s, w.end_s, w.probability)
        for (a, b), w in zip(source.word_spans, transcript.words)
    )
    edits = tuple(Edit(**e) for e in layer["edits"])
    return DraftMaterial(layer["source"], edits, tuple(layer["flags"]), layer["language"], words)


def current_text(material: DraftMaterial, state: WorkState) -> str:
    """The text with every edit applied except those reverted."""
    return apply_edits(material.source, [e for i, e in enumerate(material.edits) if i not in state.reverted])


def blocks_of(text: str, vocab: LanguageVocabulary | None) -> list[Block]:
    """The editable blocks of a text: its body, then one block per dictated section."""
    content = organise(text, vocab)
    blocks = [Block("body", "", "\n\n".join(content.body))]
    blocks += [Block(s.section, s.heading, "\n\n".join(s.paragraphs)) for s in content.sections]
    return blocks


def final_text(blocks: list[Block], language: str) -> str:
    """The report text from its blocks, headings written so that the sections are found again."""
    separator = " : " if language == "fr" else ": "
    parts = [blocks[0].text.strip()] if blocks and blocks[0].key == "body" and blocks[0].text.strip() else []
    for block in blocks:
        if block.key == "body":
            continue
        parts.append(f"{block.heading}{separator}{block.text.strip()}")
    return "\n".join(p for p in parts if p)


def revert_in_blocks(blocks: list[Block], edit: Edit, *, undo: bool) -> None:
    """Apply a revert (or its undo) to text typed by hand: replace the edit's text where it stands."""
    old, new = (edit.after, edit.before) if not undo else (edit.before, edit.after)
    old, new = old.strip(), new.strip()
    if not old:
        return
    for block in blocks:
        if old in block.text:
            block.text = block.text.replace(old, new, 1)
            return


def annotated_words(material: DraftMaterial, state: WorkState) -> list[dict[str, Any]]:
    """The current text as pieces for the listening pane: each with its time in the audio,
    the engine's confidence, and the edit or flag it belongs to."""
    pieces: list[dict[str, Any]] = []
    position = 0
    for index, edit in sorted(enumerate(material.edits), key=lambda item: item[1].start):
        pieces += _kept_words(material, position, edit.start)
        reverted = index in state.reverted
        start, end = _time_of(material, edit.start, edit.end)
        pieces.append({
            "text": edit.before if reverted else edit.after, "start": start, "end": end,
            "edit": index, "heard": edit.before, "written": edit.after, "rule": edit.rule, "reverted": reverted,
        })
        position = edit.end
    pieces += _kept_words(material, position, len(material.source))
    for flag_index, flag in enumerate(material.flags):
        for piece in pieces:
            if piece.get("src_start", -1) < flag["end"] and piece.get("src_end", -1) > flag["start"] or (
                    "edit" in piece and _overlaps(material.edits[piece["edit"]], flag)):
                piece.setdefault("flags", []).append(flag_index)
    return pieces


def _overlaps(edit: Edit, flag: dict[str, Any]) -> bool:
    return edit.start < flag["end"] and edit.end > flag["start"] or (edit.start == edit.end == flag["start"])


def _kept_words(material: DraftMaterial, start: int, end: int) -> list[dict[str, Any]]:
    pieces = []
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
        pieces.append({"text": m.group(), "start": t_start, "end": t_end, "low": probability < LOW_CONFIDENCE,
                       "src_start": a, "src_end": b})
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


class Workspace:
    """Locks and saved work in progress, in the job store."""

    def __init__(self, store: JobStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def lock(self, job_id: int, user_id: int) -> None:
        """Take or renew the lock on a report; ``LockHeld`` names who holds it otherwise."""
        now = self._clock()
        with self._store.transaction() as conn:
            row = conn.execute(
                sa.select(review_locks.c.user_id, review_locks.c.expires_at, users.c.username)
                .join(users, users.c.id == review_locks.c.user_id)
                .where(review_locks.c.job_id == job_id)
            ).first()
            if row is not None and row.user_id != user_id and row.expires_at > now:
                raise LockHeld(f"{row.username} is working on this report")
            if row is None:
                conn.execute(review_locks.insert().values(job_id=job_id, user_id=user_id, expires_at=now + LOCK_S))
            else:
                conn.execute(review_locks.update().where(review_locks.c.job_id == job_id)
                             .values(user_id=user_id, expires_at=now + LOCK_S))

    def holder(self, job_id: int) -> str | None:
        """Who holds a live lock on a report, if anyone."""
        with self._store.reading() as conn:
            row = conn.execute(
                sa.select(users.c.username, review_locks.c.expires_at).join(users, users.c.id == review_locks.c.user_id)
                .where(review_locks.c.job_id == job_id)
            ).first()
        return row.username if row is not None and row.expires_at > self._clock() else None

    def release(self, job_id: int, user_id: int) -> None:
        """Give the lock back (only its holder can)."""
        with self._store.transaction() as conn:
            conn.execute(review_locks.delete().where(review_locks.c.job_id == job_id,
                                                     review_locks.c.user_id == user_id))

    def load(self, job_id: int) -> WorkState:
        """The saved work on a report (an empty state when there is none)."""
        with self._store.reading() as conn:
            row = conn.execute(sa.select(review_drafts.c.state_json).where(review_drafts.c.job_id == job_id)).first()
        return WorkState.from_json(json.loads(row.state_json)) if row else WorkState()

    def save(self, job_id: int, user_id: int, state: WorkState) -> float:
        """Save the work in progress; only the lock holder can. Returns when it was saved."""
        self.lock(job_id, user_id)
        now = self._clock()
        data = json.dumps(state.to_json(), ensure_ascii=False)
        with self._store.transaction() as conn:
            exists = conn.scalar(sa.select(review_drafts.c.job_id).where(review_drafts.c.job_id == job_id))
            if exists is None:
                conn.execute(review_drafts.insert().values(job_id=job_id, state_json=data, saved_by=user_id, saved_at=now))
            else:
                conn.execute(review_drafts.update().where(review_drafts.c.job_id == job_id)
                             .values(state_json=data, saved_by=user_id, saved_at=now))
        return now
