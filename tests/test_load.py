"""A light run of bench/load.py: five review sessions while the app decodes a ten-minute dictation; nothing fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import LoadOptions, report, run_load

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_review_sessions_while_a_long_dictation_is_decoded(tmp_path: Path) -> None:
    options = LoadOptions(sessions=5, duration_s=15.0, audio_s=600.0)
    result = run_load(options, tmp_path / "load")
    text = report(result, options)
    assert not result.failures, text
    kinds = {"login", "queue page", "review page", "review data", "first audio (makes the listening copy)",
             "audio range", "save draft", "document preview",
             "docx download", "stats page", "validate + file (LibreOffice PDF)"}
    assert kinds <= {kind for kind, times in result.times.items() if times}, text
    assert result.decode_running_s > 0, text  # the long decode ran during the sessions
