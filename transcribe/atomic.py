"""Writing and moving files so that a crash never leaves half a file or loses one.

Every output is written to a temporary file in the target folder, flushed to
disk and renamed into place. Audio is moved, never rewritten. Folders the
pipeline creates are private to its user (0700) and files are 0600: they hold
patient data.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def ensure_folder(path: Path) -> Path:
    """Create a private folder (and its parents) if it does not exist yet."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename (replacing any earlier version)."""
    return _place(path, data, replace=True)


def write_atomic_chunks(path: Path, chunks: Iterable[bytes]) -> Path:
    """``write_atomic`` for large outputs made piece by piece (never held whole in memory)."""
    return _place(path, chunks, replace=True)


def write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new file ``path``, whole or not at all; fails if the name is taken (never replaces)."""
    return _place(path, data, replace=False)


def _place(path: Path, data: bytes | Iterable[bytes], *, replace: bool) -> Path:
    ensure_folder(path.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            for chunk in [data] if isinstance(data, bytes) else data:
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, FILE_MODE)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the name is taken: nothing is overwritten
    finally:
        Path(temporary).unlink(missing_ok=True)
    _sync_folder(path.parent)
    return path


def move_file(source: Path, target: Path) -> Path:
    """Move a file without ever overwriting one; across disks, copy, sync, then unlink.

    If ``target`` exists, a numbered name beside it is used (``name.1.ext``).
    Returns where the file now lies.
    """
    ensure_folder(target.parent)
    target = free_name(target)
    try:
        os.link(source, target)  # fails if target exists: never overwrites
        os.unlink(source)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        _copy_into(source, target)
        source.unlink()
    _sync_folder(target.parent)
    return target


def copy_file(source: Path, target: Path) -> Path:
    """Copy a file whole into place without ever overwriting one; return where it lies."""
    ensure_folder(target.parent)
    target = free_name(target)
    _copy_into(source, target)
    _sync_folder(target.parent)
    return target


def free_name(target: Path) -> Path:
    """``target`` if no file has that name, else the first free ``stem.N.suffix`` beside it."""
    if not target.exists():
        return target
    number = 1
    while True:
        candidate = target.with_name(f"{target.stem}.{number}{target.suffix}")
        if not candidate.exists():
            return candidate
        number += 1


def _copy_into(source: Path, target: Path) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        os.chmod(temporary, FILE_MODE)
        os.link(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
