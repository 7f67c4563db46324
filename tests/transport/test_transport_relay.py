"""The outbox relay on SQLite: every event once, in order, whatever stops or starts when."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from grid_events import GridApplication, StoreConfig
from grid_events.transport import (
    EmbeddedNatsServer,
    NatsSettings,
    OutboxRelay,
    RelaySettings,
    RelayState,
    RelayStoppedError,
    StreamMismatchError,
    StreamSettings,
)

from .transport_helpers import (
    CELLS,
    PERSON,
    WORKER,
    EventWriter,
    assert_stream_is_the_store,
    fast_relay_settings,
    free_port,
    read_stream,
    stream_count,
    wait_until,
)


@pytest.mark.asyncio
async def test_thousands_of_events_reach_the_stream_once_each_in_order(
    sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """5,000 events of many residents, saved while the relay runs, are in the stream once, in order, as stored."""
    writer = EventWriter(sqlite_app)
    await asyncio.to_thread(writer.write, 1000)

    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        last = await asyncio.to_thread(writer.write, 4000)
        await relay.wait_published(last, timeout=30)
        status = relay.status()

    assert last >= 5000
    assert last == status.position
    assert last == status.latest_saved
    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


@pytest.mark.asyncio
async def test_a_new_relay_continues_where_the_stream_ends(
    sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """The cursor is the stream's last message: a restarted relay publishes only what is new."""
    writer = EventWriter(sqlite_app)
    first = writer.write(300)
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_published(first, timeout=10)
    last = writer.write(300)

    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_published(last, timeout=10)
        published = relay.status().published

    assert last - first == published
    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


@pytest.mark.asyncio
async def test_a_save_wakes_the_relay_at_once(sqlite_app: GridApplication, relay_settings: RelaySettings) -> None:
    """With polling all but off, an event saved by the application is published within moments."""
    settings = fast_relay_settings(relay_settings.nats, poll_interval=60.0)
    async with OutboxRelay(sqlite_app, settings) as relay:
        await relay.wait_caught_up(timeout=10)
        await wait_until(lambda: _is_idle(relay), within=15)

        resident_id = await asyncio.to_thread(sqlite_app.register_resident, PERSON, CELLS[0], actor=WORKER)
        latest = sqlite_app.recorder.max_notification_id() or 0
        await relay.wait_published(latest, timeout=5)

    assert latest == relay.position
    assert resident_id is not None


async def _is_idle(relay: OutboxRelay) -> bool:
    return relay.state is RelayState.IDLE


@pytest.mark.asyncio
async def test_polling_finds_events_saved_by_another_process(
    sqlite_store: StoreConfig, sqlite_app: GridApplication, relay_settings: RelaySettings
) -> None:
    """Events saved through another application on the same file (no save listener) are found by polling."""
    other = GridApplication(sqlite_store)
    try:
        async with OutboxRelay(sqlite_app, relay_settings) as relay:
            await asyncio.to_thread(other.register_resident, PERSON, CELLS[0], actor=WORKER)
            await relay.wait_published(other.recorder.max_notification_id() or 0, timeout=5)
    finally:
        other.close()


@pytest.mark.asyncio
async def test_the_relay_waits_for_nats_and_catches_up_when_it_comes(
    tmp_path: Path, sqlite_app: GridApplication
) -> None:
    """Started while NATS is down, the relay lets the application save and publishes once NATS is up."""
    server = EmbeddedNatsServer(tmp_path / "late-nats", port=free_port())
    settings = fast_relay_settings(NatsSettings(servers=(server.url,), connect_timeout=0.5, reconnect_time_wait=0.1))
    async with OutboxRelay(sqlite_app, settings) as relay:
        last = await asyncio.to_thread(EventWriter(sqlite_app).write, 200)
        with pytest.raises(TimeoutError):
            await relay.wait_published(last, timeout=0.3)
        await wait_until(functools.partial(_has_failed_to_connect, relay), within=30)
        assert 0 == relay.position
        try:
            server.start()
            await relay.wait_published(last, timeout=15)
            assert_stream_is_the_store(await read_stream(server.url), sqlite_app.recorder)
        finally:
            server.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_nats_server_restarts_mid_stream_lose_and_duplicate_nothing(
    how: str, sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """The server stopped (or killed) twice while events flow: afterwards the stream is still the store."""
    writer, enough = EventWriter(sqlite_app), threading.Event()
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        writing = asyncio.create_task(asyncio.to_thread(writer.write_until, enough))
        try:
            for threshold in (500, 1500):
                await wait_until(functools.partial(_past, relay, threshold), within=60)
                if how == "stop":
                    nats_server.stop()
                else:
                    nats_server.kill()
                await asyncio.sleep(0.3)
                nats_server.start()
            await wait_until(functools.partial(_past, relay, 2000), within=60)
        finally:
            enough.set()
            last = await writing
        await relay.wait_published(last, timeout=30)

    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


async def _has_failed_to_connect(relay: OutboxRelay) -> bool:
    return bool(relay.status().last_error) and relay.state in {RelayState.CONNECTING, RelayState.RETRYING}


async def _past(relay: OutboxRelay, position: int) -> bool:
    return relay.position >= position


@pytest.mark.asyncio
async def test_two_relays_on_one_store_never_duplicate_or_reorder(
    sqlite_store: StoreConfig,
    sqlite_app: GridApplication,
    relay_settings: RelaySettings,
    nats_server: EmbeddedNatsServer,
) -> None:
    """Two relays started by mistake (two processes on one store) race, and the stream stays the store."""
    other_app = GridApplication(sqlite_store)
    writer = EventWriter(sqlite_app)
    try:
        async with OutboxRelay(sqlite_app, relay_settings) as one, OutboxRelay(other_app, relay_settings) as two:
            last = await asyncio.to_thread(writer.write, 3000)
            await one.wait_published(last, timeout=30)
            await two.wait_published(last, timeout=30)
    finally:
        other_app.close()

    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


@pytest.mark.asyncio
async def test_a_stream_filled_from_another_store_stops_the_relay(
    tmp_path: Path, sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """A relay never mixes two histories: if the stream ends with another store's event, it stops, saying so."""
    EventWriter(sqlite_app).write(50)
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_caught_up(timeout=10)
    stranger = GridApplication(StoreConfig.sqlite(tmp_path / "another.sqlite3"))
    try:
        EventWriter(stranger).write(60)
        async with OutboxRelay(stranger, relay_settings) as relay:
            with pytest.raises(RelayStoppedError, match="another store") as caught:
                await relay.wait_published(60, timeout=10)
            assert RelayState.FAILED == relay.state
            assert isinstance(caught.value.__cause__, StreamMismatchError)
            with pytest.raises(StreamMismatchError):
                await relay.join()
    finally:
        stranger.close()
    assert 50 == await stream_count(nats_server.url)


@pytest.mark.asyncio
async def test_a_stream_that_other_subjects_write_to_is_refused(
    sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """An existing stream must capture exactly the events' subjects, or the relay refuses to use it."""
    client = await nats.connect(nats_server.url)
    try:
        await client.jetstream().add_stream(StreamConfig(name="GRID_EVENTS", subjects=["grid.events.>", "other.>"]))
    finally:
        await client.close()
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        with pytest.raises(StreamMismatchError, match="subjects"):
            await relay.join()


@pytest.mark.asyncio
async def test_the_stream_name_and_subjects_are_configurable(
    sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """Another stream name and subject prefix give another stream, filled the same way."""
    stream = StreamSettings(name="OFFICE_7", subject_prefix="office7.events", duplicate_window=30)
    settings = fast_relay_settings(relay_settings.nats, stream=stream)
    last = EventWriter(sqlite_app).write(120)
    async with OutboxRelay(sqlite_app, settings) as relay:
        await relay.wait_published(last, timeout=10)

    messages = await read_stream(nats_server.url, stream)
    assert all(m.subject.startswith("office7.events.resident.") for m in messages)
    assert_stream_is_the_store(messages, sqlite_app.recorder)


@pytest.mark.asyncio
async def test_waiting_on_a_stopped_relay_fails_at_once(
    sqlite_app: GridApplication, relay_settings: RelaySettings
) -> None:
    """wait_published refuses to wait on a relay that is not running, instead of hanging."""
    relay = OutboxRelay(sqlite_app, relay_settings)
    with pytest.raises(RelayStoppedError):
        await relay.wait_published(1, timeout=1)


@pytest.mark.asyncio
async def test_the_relay_logs_neither_bodies_nor_secrets(
    sqlite_app: GridApplication, nats_server: EmbeddedNatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG level the relay's log holds no event body and no password."""
    settings = fast_relay_settings(NatsSettings(servers=(f"nats://relay:s3cr3t-pw@127.0.0.1:{nats_server.port}",)))
    caplog.set_level(logging.DEBUG, logger="grid_events.transport")
    resident_id = sqlite_app.register_resident(PERSON, CELLS[0], actor=WORKER)
    async with OutboxRelay(sqlite_app, settings) as relay:
        await relay.wait_caught_up(timeout=10)

    text = caplog.text
    assert "outbox relay started" in text
    assert "s3cr3t-pw" not in text
    assert str(resident_id) not in text
    assert "张" not in text


@pytest.mark.asyncio
async def test_a_deleted_stream_is_recreated_and_refilled_from_the_store(
    sqlite_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """The stream is only a transport: deleted, it is created again and refilled from the store, in order."""
    writer = EventWriter(sqlite_app)
    async with OutboxRelay(sqlite_app, relay_settings) as relay:
        await relay.wait_published(writer.write(200), timeout=10)
        client = await nats.connect(nats_server.url)
        try:
            await client.jetstream().delete_stream("GRID_EVENTS")
        finally:
            await client.close()
        last = await asyncio.to_thread(writer.write, 100)
        await wait_until(functools.partial(_holds, nats_server.url, last), within=15)

    assert_stream_is_the_store(await read_stream(nats_server.url), sqlite_app.recorder)


async def _holds(url: str, count: int) -> bool:
    return await stream_count(url) >= count


@pytest.mark.asyncio
async def test_an_in_memory_application_is_relayed_too(
    relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """The relay works on the in-memory store as well (for development and examples)."""
    app = GridApplication(StoreConfig.memory())
    try:
        async with OutboxRelay(app, relay_settings) as relay:
            last = await asyncio.to_thread(EventWriter(app).write, 100)
            await relay.wait_published(last, timeout=10)
        assert_stream_is_the_store(await read_stream(nats_server.url), app.recorder)
    finally:
        app.close()
