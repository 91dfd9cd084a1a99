"""Quarantine: where a file the pipeline cannot use is kept, with the reason beside it.

Nothing is ever deleted, and the archive is never touched: a job's bad dictation
is *copied* from the archive to ``quarantine/`` (the archived original stays where
it is, and the record names it); a file that never became a job (a duplicate, a
bad or orphan sidecar, a link) is moved there from the inbox. A
``<name>.error.json`` next to it says what failed, why, and what to do.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from transcribe.intake.atomic import FILE_MODE, copy_file, move_file, write_atomic

ERROR_SUFFIX = ".error.json"


@dataclass(frozen=True)
class QuarantineRecord:
    """The reason a file was quarantined, as written to its ``.error.json``."""

    file: str
    original_name: str
    job_id: int | None
    kind: str
    error: str
    what_to_do: str
    quarantined_at: str
    attempts: int = 0
    #: where the original lies, unchanged (a job's audio stays in the archive; this file is a copy)
    archived: str | None = None
    #: the reason of each failed attempt before this one, oldest first
    earlier_errors: tuple[str, ...] = ()


def safe_file_name(name: str) -> str:
    """A file name that is safe on every disk: no folders, no leading dots or dashes."""
    name = Path(name).name
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", name).strip()
    name = name.lstrip(".-") or "dictation"
    return name[:150]


def quarantine_file(
    source: Path,
    folder: Path,
    *,
    original_name: str,
    job_id: int | None,
    kind: str,
    error: str,
    what_to_do: str,
    attempts: int = 0,
    copy: bool = False,
    earlier_errors: tuple[str, ...] = (),
) -> Path:
    """Move ``source`` (``copy``: copy it, leaving it in place) into the quarantine folder with its ``.error.json``.

    Returns the path of the file in quarantine.
    """
    prefix = f"job{job_id}_" if job_id is not None else time.strftime("%Y%m%d-%H%M%S_")
    place = copy_file if copy else move_file
    target = place(source, folder / (prefix + safe_file_name(original_name)))
    os.chmod(target, FILE_MODE)
    record = QuarantineRecord(
        file=target.name,
        original_name=original_name,
        job_id=job_id,
        kind=kind,
        error=error,
        what_to_do=what_to_do,
        quarantined_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        attempts=attempts,
        archived=str(source) if copy else None,
        earlier_errors=earlier_errors,
    )
    write_atomic(error_record_path(target), json.dumps(asdict(record), ensure_ascii=False, indent=2).encode())
    return target


def error_record_path(quarantined: Path) -> Path:
    """Where the ``.error.json`` of a quarantined file lies."""
    return quarantined.with_name(quarantined.name + ERROR_SUFFIX)


def quarantined_files(folder: Path, job_id: int) -> list[Path]:
    """The files kept in quarantine for a job (its audio copy, a late sidecar), without their records."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.glob(f"job{job_id}_*")
        if not path.name.endswith(ERROR_SUFFIX) and path.is_file() and not path.is_symlink()
    )
