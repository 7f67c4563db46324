"""Every script in examples/ runs to the end, on its own, as a newcomer would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_the_example_runs(script: Path, tmp_path: Path) -> None:
    """The example exits 0 (each checks its own outcome with assertions) and prints what it did."""
    result = subprocess.run(  # noqa: S603 (our own interpreter and scripts)
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert 0 == result.returncode, result.stderr
    assert result.stdout.strip()
