"""The README's install, for real: a fresh virtual environment, the package with only what it declares.

The test suite's own environment has every development tool installed, so a
dependency the package forgot to declare would go unnoticed there. Here a new
virtual environment gets the library alone, then the service extra, exactly
as the README's main command installs it, and the commands are run from it.
It needs the package registry (as installing does anywhere).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run *command* in *cwd*; return what it did."""
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603


@pytest.mark.slow
def test_a_fresh_environment_with_the_library_then_the_service_extra_runs_the_readme_commands(tmp_path: Path) -> None:
    """Library alone: audit works, the service's commands name their extra; with it, the demo plays its day."""
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    assert 0 == made.returncode, made.stderr
    pip, grid_events = venv / "bin" / "pip", venv / "bin" / "grid-events"

    library = run([str(pip), "install", "-q", "-e", str(ROOT)], tmp_path)
    assert 0 == library.returncode, library.stdout + library.stderr
    assert 0 == run([str(grid_events), "audit", "--help"], tmp_path).returncode
    refused = run([str(grid_events), "demo"], tmp_path)
    assert 1 == refused.returncode, refused.stdout + refused.stderr
    assert "pip install 'grid-events[service]'" in refused.stderr

    service = run([str(pip), "install", "-q", "-e", f"{ROOT}[service]"], tmp_path)
    assert 0 == service.returncode, service.stdout + service.stderr
    consistent = run([str(pip), "check"], tmp_path)
    assert 0 == consistent.returncode, consistent.stdout
    demo = run([str(grid_events), "demo", "--exit-when-done", "--port", "0", "--pace", "0"], tmp_path)
    assert 0 == demo.returncode, demo.stdout + demo.stderr
    assert "on the NATS stream" in demo.stdout
