"""Run every code block of the README and docs/ as a test (Sybil).

``python`` blocks run in order, sharing a namespace per document, inside a
fresh temporary directory; ``bash`` blocks run with ``bash -euo pipefail`` in
that same directory, with this project's virtualenv first on PATH. A block
preceded by ``<!-- skip: next -->`` is not run (the text next to it says why).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parent


def _setup(namespace: dict[str, Any]) -> None:
    namespace["__previous_cwd__"] = Path.cwd()
    namespace["__tmpdir__"] = tempfile.TemporaryDirectory(prefix="grid-doc-")
    os.chdir(namespace["__tmpdir__"].name)


def _teardown(namespace: dict[str, Any]) -> None:
    # Close what the document opened (applications, stores…), not the classes it imported.
    for value in list(namespace.values()):
        if isinstance(value, type) or not type(value).__module__.startswith(("grid_events", "grid_service")):
            continue
        close = getattr(value, "close", None)
        if callable(close):
            close()
    os.chdir(namespace["__previous_cwd__"])
    namespace["__tmpdir__"].cleanup()


def _run_bash(example: Example) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(  # noqa: S603 (the documentation's own commands)
        ["bash", "-euo", "pipefail", "-c", str(example.parsed)],  # noqa: S607
        cwd=Path.cwd(),
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        message = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        raise AssertionError(message)


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), CodeBlockParser("bash", _run_bash), SkipParser()],
    patterns=["README.md", "docs/*.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
