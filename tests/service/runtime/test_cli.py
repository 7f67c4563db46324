"""``grid-events serve``, ``run`` and ``rebuild``: help on every option, errors that say what to do, exit codes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from grid_events import Actor, GridApplication, GridCell, PersonalData, ResidentRecord, Role, StoreConfig
from grid_service.cli import main
from grid_service.cli.serve import rebuild, run, serve_command

from .helpers import bearer, make_accounts, wait_until


def clean_environment() -> dict[str, str]:
    """This process's environment without grid_events or service settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("GRID_EVENTS_", "GRID_SERVICE_"))}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("command", [serve_command, run, rebuild], ids=lambda command: command.name)
def test_every_option_says_what_it_does(command: click.Command) -> None:
    """Each command and each of its options has help text."""
    assert command.help
    for parameter in command.params:
        if isinstance(parameter, click.Option):
            assert parameter.help, parameter.name
    result = CliRunner().invoke(main, [command.name or "", "--help"], env=clean_environment())
    assert 0 == result.exit_code, result.output


def test_serve_without_the_event_store_says_where_it_looked(tmp_path: Path) -> None:
    """A missing event store is a usage error (exit 2) naming the file and the setting to fix."""
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "--sqlite-path",
            str(tmp_path / "missing.sqlite3"),
            "--port",
            "0",
            "--views-sqlite-path",
            str(tmp_path / "v.sqlite3"),
        ],
        env=clean_environment(),
    )
    assert 2 == result.exit_code, result.output
    assert f"no event store at {tmp_path / 'missing.sqlite3'}" in result.output
    assert "GRID_EVENTS_SQLITE_PATH" in result.output


def test_serve_on_a_port_in_use_says_to_choose_another(tmp_path: Path) -> None:
    """A taken HTTP port is a usage error saying to choose --port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)], env=clean_environment())
    assert 2 == result.exit_code, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "choose --port" in result.output


def test_a_postgres_view_store_without_a_dsn_is_refused() -> None:
    """The DSN comes from the environment only; without it the error says which variable to set."""
    result = CliRunner().invoke(main, ["serve", "--views-store", "postgres"], env=clean_environment())
    assert 2 == result.exit_code
    assert "set GRID_SERVICE_VIEWS_POSTGRES_DSN" in result.output


def test_rebuild_without_a_service_says_so() -> None:
    """Asking a service that is not there fails with exit 1 and a hint."""
    url = f"http://127.0.0.1:{free_port()}"
    environment = {**clean_environment(), "GRID_SERVICE_TOKEN": "some-token"}
    result = CliRunner().invoke(main, ["rebuild", "task_board", "--url", url], env=environment)
    assert 1 == result.exit_code
    assert f"cannot reach the service at {url}" in result.output


def test_rebuild_without_a_token_says_where_to_give_one() -> None:
    """The administrator's token comes from GRID_SERVICE_TOKEN or --token-file, never the command line."""
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["rebuild", "task_board", "--url", url], env=clean_environment())
    assert 2 == result.exit_code
    assert "set GRID_SERVICE_TOKEN or give --token-file" in result.output


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start *command*, its output going to *log*."""
    with log.open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=clean_environment())  # noqa: S603


@pytest.mark.asyncio
async def test_run_serves_everything_on_embedded_defaults_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """`grid-events run`: nats-server, relay and service; work recorded meanwhile is served; Ctrl-C exits 0."""
    data = tmp_path / "grid-data"
    tokens = make_accounts(data / "accounts.json")  # where `run` looks by default
    port = free_port()
    log = tmp_path / "run.log"
    grid_events = Path(sys.executable).parent / "grid-events"  # the console script an operator runs
    command = [str(grid_events), "run", "--data-dir", str(data), "--port", str(port)]
    process = await asyncio.to_thread(start, command, log)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=bearer(tokens[Role.AUDITOR])) as http:

            async def ready() -> bool:
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return process.poll() is not None

            await wait_until(ready, within=60, interval=0.1)
            assert process.poll() is None, log.read_text()

            # Another process records work into the event store: the relay picks it up by polling.
            office = GridApplication(StoreConfig.sqlite(data / "events.sqlite3"))
            try:
                person = PersonalData(name="张秀英", id_number="11010519491231002X", phone="13812345678")
                records = [ResidentRecord(person, GridCell("江南", "飞凤", "03"))] * 3
                await asyncio.to_thread(office.import_residents, records, actor=Actor("w-li", Role.GRID_WORKER))
            finally:
                office.close()

            async def registered() -> bool:
                return bool((await http.get("/residents")).json()["total"] == 3)

            await wait_until(registered, within=30, interval=0.1)
            assert {"张**"} == {r["masked_name"] for r in (await http.get("/residents")).json()["items"]}

            assert 401 == (await http.get("/residents", headers={"Authorization": ""})).status_code
            administrator = {**clean_environment(), "GRID_SERVICE_TOKEN": tokens[Role.ADMINISTRATOR]}
            result = await asyncio.to_thread(
                CliRunner().invoke, main, ["rebuild", "resident_registry", "--url", base], env=administrator
            )
            assert 0 == result.exit_code, result.output
            assert "resident_registry rebuilt up to stream sequence 3 (3 events)" in result.output
    finally:
        process.send_signal(signal.SIGINT)
        returncode = await asyncio.to_thread(process.wait, 30)
    assert 0 == returncode, log.read_text()
    assert {"events.sqlite3", "views.sqlite3", "nats"} <= {path.name for path in data.iterdir()}
