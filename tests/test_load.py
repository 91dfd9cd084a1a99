"""A light run of bench/load.py: five review sessions, a ten-minute dictation skimmed, dictations arriving; nothing fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import FIRST_LISTEN, LONG_FIRST_LISTEN, LoadOptions, report, run_load

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_review_sessions_while_dictations_arrive(tmp_path: Path) -> None:
    options = LoadOptions(sessions=5, duration_s=15.0, audio_s=600.0, arrival_s=5.0)
    result = run_load(options, tmp_path / "load")
    text = report(result, options)
    assert not result.failures, text
    kinds = {"login", "queue page", "review page", "review data", FIRST_LISTEN, LONG_FIRST_LISTEN,
             "audio range", "long dictation: audio range", "save draft", "document preview",
             "docx download", "stats page", "validate + file (LibreOffice PDF)"}
    assert kinds <= {kind for kind, times in result.times.items() if times}, text
    assert result.arrived >= 2, text  # dictations arrived during the sessions
    assert "first listen (first audio request of a dictation" in text, text
    drafts = sorted((tmp_path / "load" / "data" / "drafts").iterdir())
    assert drafts and all((d / "listen.wav").is_file() for d in drafts), text  # written with the draft
