"""The ``transcribe`` command's entry point (``transcribe.cli:main``); the commands live in ``transcribe.commands``."""

from __future__ import annotations

import sys

from transcribe.commands import main

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
