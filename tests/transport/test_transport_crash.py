"""A relay process killed with SIGKILL mid-batch, again and again: nothing is lost, nothing doubled."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from grid_events import GridApplication, StoreConfig
from grid_events.transport import EmbeddedNatsServer, OutboxRelay, RelaySettings

from .transport_helpers import (
    EventWriter,
    assert_stream_is_the_store,
    read_stream,
    stream_count,
    wait_until,
)

ROUNDS = 4


def start_relay_process(store: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m grid_events.transport`` on the SQLite file, slowed down so it can be caught mid-batch."""
    command = [
        sys.executable,
        "-m",
        "grid_events.transport",
        "--sqlite",
        str(store),
        "--nats-url",
        url,
        "--batch-size",
        "10",
        "--max-in-flight",
        "5",
        "--poll-interval",
        "0.1",
        "--log-level",
        "INFO",
    ]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GRID_EVENTS_")}
    with log.open("ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment)  # noqa: S603


@pytest.mark.asyncio
async def test_a_relay_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    tmp_path: Path,
    sqlite_store: StoreConfig,
    sqlite_app: GridApplication,
    nats_server: EmbeddedNatsServer,
    relay_settings: RelaySettings,
) -> None:
    """Kill -9 the relay process at random moments while it publishes, restart it: the stream is the store."""
    chance = random.Random(20261102)
    writer = EventWriter(sqlite_app)
    await asyncio.to_thread(writer.write, 1500)
    log = tmp_path / "relay.log"
    probe = await nats.connect(nats_server.url)
    try:
        for _ in range(ROUNDS):
            stored = sqlite_app.recorder.max_notification_id() or 0
            before = await _count(probe)
            target = before + chance.randint(50, max(51, (stored - before) // 2))
            process = start_relay_process(sqlite_store.sqlite_path, nats_server.url, log)
            try:
                await wait_until(functools.partial(_reached, probe, target), within=60, interval=0.001)
                await asyncio.sleep(chance.uniform(0, 0.01))
            finally:
                process.send_signal(signal.SIGKILL)
                await asyncio.to_thread(process.wait)
            assert -signal.SIGKILL == process.returncode
            assert await _count(probe) < stored, "the relay was to be killed while publishing"
            await asyncio.to_thread(writer.write, 300)
    finally:
        await probe.close()

    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_caught_up(timeout=30)

    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


async def _count(client: Client) -> int:
    try:
        return int((await client.jetstream().stream_info("GRID_EVENTS")).state.messages)
    except nats.js.errors.NotFoundError:
        return 0


async def _reached(client: Client, count: int) -> bool:
    return await _count(client) >= count


async def _holds(url: str, count: int) -> bool:
    return await stream_count(url) >= count


@pytest.mark.asyncio
async def test_the_relay_process_stops_cleanly_on_sigterm(
    tmp_path: Path, sqlite_store: StoreConfig, sqlite_app: GridApplication, nats_server: EmbeddedNatsServer
) -> None:
    """SIGTERM lets the relay finish what is in flight and exit 0."""
    last = await asyncio.to_thread(EventWriter(sqlite_app).write, 200)
    log = tmp_path / "relay.log"
    process = start_relay_process(sqlite_store.sqlite_path, nats_server.url, log)
    try:
        await wait_until(functools.partial(_holds, nats_server.url, last), within=60)
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(process.wait, 10)

    assert 0 == returncode, log.read_text()
    assert "outbox relay stopped at notification" in log.read_text()
    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)
