"""The command line: help on every command, and the relay reachable as `grid-events relay`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from grid_service.cli import main

GRID_EVENTS = Path(sys.executable).parent / "grid-events"


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return the path of every command under *group*."""
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(commands(command, (*prefix, name)))
    return found


def test_every_command_has_help() -> None:
    """`--help` works on every command and says something about it."""
    runner = CliRunner()
    for path in commands(main):
        result = runner.invoke(main, [*path, "--help"])
        assert 0 == result.exit_code, (path, result.output)
        assert len(result.output.strip()) > 40, path


def test_the_installed_command_runs_the_relay_help(tmp_path: Path) -> None:
    """`grid-events relay --help` reaches the relay's own options."""
    result = subprocess.run(  # noqa: S603 (our own console script)
        [str(GRID_EVENTS), "relay", "--help"], capture_output=True, text=True, check=False, cwd=tmp_path, timeout=60
    )
    assert 0 == result.returncode, result.stderr
    assert "--nats-url" in result.stdout


def test_a_new_master_key_is_32_random_bytes() -> None:
    """`keys new` prints a fresh key in the configuration's format each time."""
    runner = CliRunner()
    first = runner.invoke(main, ["keys", "new"]).output.strip()
    second = runner.invoke(main, ["keys", "new"]).output.strip()
    from grid_events import decode_master_key  # noqa: PLC0415

    assert 32 == len(decode_master_key(first))
    assert first != second
