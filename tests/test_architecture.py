"""The layering holds: a pure domain, a library that never imports the service, nothing at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "src" / "grid_events" / "domain"
LIBRARY = ROOT / "src" / "grid_events"
SERVICE = ROOT / "service" / "grid_service"

DOMAIN_MAY_IMPORT = ("eventsourcing.domain", "attrs", "grid_events.domain", "grid_events.exceptions", "__future__")


def imported_modules(path: Path) -> set[str]:
    """Return every module a Python file imports (absolute names)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def is_allowed(module: str, allowed: tuple[str, ...]) -> bool:
    """Return whether *module* is in the standard library or under one of *allowed*."""
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names:
        return True
    return any(module == prefix or module.startswith(prefix + ".") for prefix in allowed)


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda path: path.name)
def test_the_domain_imports_only_eventsourcing_domain_attrs_and_the_standard_library(path: Path) -> None:
    """Domain modules stay pure: no database, network, codec or clock."""
    forbidden = {module for module in imported_modules(path) if not is_allowed(module, DOMAIN_MAY_IMPORT)}
    assert set() == forbidden


def test_the_library_never_imports_the_service() -> None:
    """Nothing under src/ imports grid_service."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in LIBRARY.rglob("*.py")
        if any(module.split(".")[0] == "grid_service" for module in imported_modules(path))
    ]
    assert [] == offenders


PUBLIC_MODULES = {"grid_events", "grid_events.audit", "grid_events.transport"}
"""The library's public API: these modules' ``__all__`` (documented in docs/)."""


def test_the_service_uses_only_the_public_api_of_the_library() -> None:
    """The service imports only the public modules of grid_events, never a private one."""
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in SERVICE.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "grid_events" and module not in PUBLIC_MODULES
    )
    assert [] == offenders


def test_importing_the_library_starts_nothing_and_writes_nothing(tmp_path: Path) -> None:
    """Import creates no thread, no file, no child process and no socket."""
    probe = (
        "import threading, os, grid_events, grid_events.transport;"
        "assert threading.active_count() == 1, threading.enumerate();"
        "assert os.listdir('.') == [], os.listdir('.');"
        "print('ok')"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60
    )
    assert "ok" == result.stdout.strip(), result.stderr


def test_every_public_name_is_exported() -> None:
    """grid_events.__all__ lists exactly the names the package exposes, each importable."""
    import grid_events  # noqa: PLC0415

    for name in grid_events.__all__:
        assert hasattr(grid_events, name), name
    assert len(set(grid_events.__all__)) == len(grid_events.__all__)
