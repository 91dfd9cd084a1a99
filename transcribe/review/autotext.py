"""The site's text blocks (autotext): a short code the secretary types, then F3, and its text is written.

``templates/autotext.tsv`` (beside the site's document templates, ``paths.templates``): one block
a line, ``code<TAB>text``; ``\\n`` in the text is a line break; lines starting with ``#`` are
comments. Read at each use, so that a change is seen at once. It is not kept under ``vocab/``:
a change there makes the service load its whole vocabulary again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
FILE_NAME = "autotext.tsv"


@dataclass(frozen=True)
class Autotext:
    """One text block: its code and its text."""

    code: str
    text: str


def load_autotext(folder: Path) -> list[Autotext]:
    """The site's text blocks, in the file's order (none when the file is absent or unreadable)."""
    path = folder / FILE_NAME
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        log.warning("%s cannot be read (%s); no text blocks offered", path, type(e).__name__)
        return []
    blocks: dict[str, Autotext] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#") or "\t" not in line:
            continue
        code, text = line.split("\t", 1)
        code = code.strip()
        if code and " " not in code:
            blocks.setdefault(code.lower(), Autotext(code, text.replace("\\n", "\n").rstrip()))
    return list(blocks.values())
