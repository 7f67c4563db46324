"""The relay as a command: ``python -m grid_events.transport`` (``grid-events relay``)."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grid_events import GridApplication, StoreConfig
from grid_events.transport import EmbeddedNatsServer, OutboxRelay, RelaySettings, StreamMismatchError, run_relay

from .transport_helpers import EventWriter, assert_stream_is_the_store, read_stream, stream_count, wait_until


def run_command(*arguments: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the relay command to completion (it must stop by itself) and return what it did."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GRID_EVENTS_")}
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "grid_events.transport", *arguments],
        env={**clean, **(environment or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_help_lists_the_options_and_says_where_secrets_come_from() -> None:
    """--help documents the options and that secrets come from the environment only."""
    result = run_command("--help")

    assert 0 == result.returncode
    assert "--nats-url" in result.stdout
    assert "environment only" in result.stdout


def test_a_configuration_error_exits_2_with_a_message(tmp_path: Path) -> None:
    """Impossible settings stop the command before it starts, with exit status 2."""
    result = run_command("--sqlite", str(tmp_path / "events.sqlite3"), "--replicas", "9")

    assert 2 == result.returncode
    assert "replicas" in result.stderr


def test_a_memory_store_is_refused(tmp_path: Path) -> None:
    """The relay needs a store another process can read: memory is refused."""
    result = run_command(environment={"GRID_EVENTS_STORE": "memory"})

    assert 2 == result.returncode
    assert "persistent store" in result.stderr


@pytest.mark.asyncio
async def test_a_stream_of_another_store_exits_1(
    tmp_path: Path, sqlite_app: GridApplication, nats_server: EmbeddedNatsServer, relay_settings: RelaySettings
) -> None:
    """Pointed at a stream filled from another store, the command stops with exit status 1, saying why."""
    EventWriter(sqlite_app).write(30)
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_caught_up(timeout=10)
    stranger = GridApplication(StoreConfig.sqlite(tmp_path / "another.sqlite3"))
    try:
        EventWriter(stranger).write(40)
    finally:
        stranger.close()

    result = await asyncio.to_thread(
        run_command, "--sqlite", str(tmp_path / "another.sqlite3"), "--nats-url", nats_server.url
    )

    assert 1 == result.returncode
    assert "filled from another store" in result.stderr


@pytest.mark.asyncio
async def test_run_relay_publishes_until_told_to_stop(
    sqlite_app: GridApplication, nats_server: EmbeddedNatsServer, relay_settings: RelaySettings
) -> None:
    """run_relay opens the store by itself (no master key needed) and stops when the event is set."""
    last = EventWriter(sqlite_app).write(100)
    stop = asyncio.Event()
    running = asyncio.create_task(run_relay(sqlite_app.config, relay_settings, stop))
    try:
        await wait_until(functools.partial(_holds, nats_server.url, last), within=15)
    finally:
        stop.set()
        await running

    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


async def _holds(url: str, count: int) -> bool:
    return await stream_count(url) >= count


@pytest.mark.asyncio
async def test_run_relay_raises_when_the_stream_belongs_elsewhere(
    tmp_path: Path, sqlite_app: GridApplication, relay_settings: RelaySettings
) -> None:
    """run_relay raises StreamMismatchError rather than waiting for a stop that would never be needed."""
    EventWriter(sqlite_app).write(20)
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_caught_up(timeout=10)
    other = GridApplication(StoreConfig.sqlite(tmp_path / "other.sqlite3"))
    try:
        EventWriter(other).write(25)
        with pytest.raises(StreamMismatchError):
            await asyncio.wait_for(run_relay(other.config, relay_settings, asyncio.Event()), timeout=20)
    finally:
        other.close()


@pytest.mark.asyncio
async def test_run_relay_waits_for_the_application_to_create_the_store(
    tmp_path: Path, nats_server: EmbeddedNatsServer, relay_settings: RelaySettings
) -> None:
    """Started before the application ever ran, the relay creates nothing, retries, and relays once events exist."""
    store = StoreConfig.sqlite(tmp_path / "later.sqlite3")
    stop = asyncio.Event()
    running = asyncio.create_task(run_relay(store, relay_settings, stop))
    try:
        await asyncio.sleep(0.3)
        assert not running.done()
        app = GridApplication(store)
        try:
            last = await asyncio.to_thread(EventWriter(app).write, 50)
            await wait_until(functools.partial(_holds, nats_server.url, last), within=15)
            assert_stream_is_the_store(await read_stream(nats_server.url), app.recorder)
        finally:
            app.close()
    finally:
        stop.set()
        await running
