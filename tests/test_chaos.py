"""A lighter run of bench/chaos.py: dictations dropped while serve is killed and restarted; nothing lost or doubled."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def test_chaos_light(tmp_path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "chaos.py"), "--dictations", "8", "--kills", "2",
                             "--keep", str(tmp_path / "chaos"), "--timeout", "600", "--fast"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every promise kept" in result.stdout and "2 kills survived" in result.stdout
