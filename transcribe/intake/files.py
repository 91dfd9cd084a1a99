"""What the inbox holds, file by file: which names are dictations and sidecars, whose they are, where the
archive keeps them, when a file being written is complete, and the watchdog handler that only reports what
changed. ``inbox.Intake`` decides and acts on them."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from transcribe.intake.quarantine import ERROR_SUFFIX

TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", "~")
#: Once its writer closed it, a file must stay unchanged this long before it is taken.
CLOSE_GRACE_S = 0.3
#: An empty file waits this many settle times: its writer may not have started yet.
EMPTY_FILE_PATIENCE = 5


def is_dictation_name(relative: Path) -> bool:
    """Whether a path inside the inbox names a dictation to take (not a temporary or a sidecar)."""
    if not relative.parts or any(part.startswith(".") for part in relative.parts):
        return False
    name = relative.name.lower()
    return not (name.endswith(TEMPORARY_SUFFIXES) or name.endswith(".json") or name.endswith(ERROR_SUFFIX))


def is_sidecar_name(relative: Path) -> bool:
    """Whether a path inside the inbox names a sidecar file (``<name>.json``, not a dotfile or an error record)."""
    if not relative.parts or any(part.startswith(".") for part in relative.parts):
        return False
    name = relative.name.lower()
    return name.endswith(".json") and not name.endswith(ERROR_SUFFIX)


def is_sidecar_of(sidecar: Path, name: str) -> bool:
    """Whether a file named ``name`` beside a sidecar is (or will become) its dictation: same name, any extension.

    Names being written count too (``0412.m4a.part``, rsync's ``.0412.m4a.Xy12``).
    """
    stem = sidecar.stem
    bare = name.lstrip(".")
    return not name.lower().endswith(".json") and (bare == stem or bare.startswith(stem + "."))


_AUTHOR_UNSAFE = re.compile(r"[^\w.@-]+")


def author_of(relative: Path, default: str) -> str:
    """The author of a dictation: the first folder under the inbox, or the default."""
    if len(relative.parts) < 2:
        return default
    author = _AUTHOR_UNSAFE.sub("-", relative.parts[0]).strip("-.")
    return author[:100] or default


def archive_path(archive: Path, audio_sha256: str, original_name: str) -> Path:
    """Where a dictation is kept: named by the hash of its audio, with its original extension."""
    suffix = Path(original_name).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,6}", suffix) else ""
    return archive / audio_sha256[:2] / f"{audio_sha256}{suffix}"


def hash_file(path: Path) -> str:
    """The sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Watched:
    size: int
    mtime_ns: int
    unchanged_since: float
    closed_at: float | None = None


class SettleTracker:
    """Decides when a file in the inbox is complete, from what was seen of it and when."""

    def __init__(self, settle_s: float) -> None:
        self.settle_s = settle_s
        self._files: dict[Path, _Watched] = {}

    def __contains__(self, path: Path) -> bool:
        return path in self._files

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> list[Path]:
        """The files being watched."""
        return list(self._files)

    def observe(self, path: Path, size: int, mtime_ns: int, now: float, *, closed: bool = False) -> None:
        """Record what a file looks like now; a change restarts its settle time."""
        seen = self._files.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (size, mtime_ns):
            seen = _Watched(size, mtime_ns, now, closed_at=None)
            self._files[path] = seen
        if closed:
            seen.closed_at = now

    def quiet_s(self, path: Path, now: float) -> float:
        """How long the file has been unchanged."""
        return now - self._files[path].unchanged_since

    def is_ready(self, path: Path, now: float) -> bool:
        """Whether the file has been left alone long enough to be complete."""
        seen = self._files[path]
        quiet_s = now - seen.unchanged_since
        if seen.size == 0:
            return quiet_s >= max(self.settle_s, CLOSE_GRACE_S) * EMPTY_FILE_PATIENCE
        if seen.closed_at is not None and now - seen.closed_at >= CLOSE_GRACE_S:
            return True
        return quiet_s >= self.settle_s

    def forget(self, path: Path) -> None:
        """Stop watching a file (taken, gone, or renamed)."""
        self._files.pop(path, None)


class InboxEvents(FileSystemEventHandler):
    """Watchdog handler: puts paths on a queue and nothing else. It must never raise."""

    def __init__(self, events: queue.SimpleQueue[tuple[str, bool]]) -> None:
        self._events = events

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if event.is_directory:
                if event.event_type in ("created", "moved"):
                    self._events.put(("", False))  # a new author folder: sweep it
                return
            closed = event.event_type == "closed"
            path = event.dest_path if event.event_type == "moved" else event.src_path
            self._events.put((os.fsdecode(path), closed))
        except Exception:
            pass


def relative_or_name(path: Path, inbox: Path) -> Path:
    """A path as seen from the inbox (its name alone when it lies elsewhere)."""
    try:
        return path.relative_to(inbox)
    except ValueError:
        return Path(path.name)


def is_regular(mode: int) -> bool:
    """Whether a file mode is a plain file's (not a link, a folder, a device)."""
    return stat.S_ISREG(mode)
