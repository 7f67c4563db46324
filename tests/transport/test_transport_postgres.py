"""The outbox relay on PostgreSQL: order and completeness, NOTIFY wake-ups, gaps in notification ids."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from grid_events import ConcurrentChangeError, GridApplication, Resident, StoreConfig
from grid_events.transport import EmbeddedNatsServer, OutboxRelay, RelaySettings, RelayState

from .transport_helpers import (
    CELLS,
    PERSON,
    WORKER,
    EventWriter,
    all_notifications,
    assert_stream_is_the_store,
    fast_relay_settings,
    read_stream,
    wait_until,
)

# The shared ``store`` fixture, on PostgreSQL only: a fresh schema, dropped afterwards; skipped (or
# failed, with GRID_EVENTS_REQUIRE_POSTGRES=1) without GRID_EVENTS_TEST_POSTGRES_DSN.
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("store", ["postgres"], indirect=True)]


@pytest.fixture
def postgres_store(store: StoreConfig) -> StoreConfig:
    """The PostgreSQL store of the test."""
    return store


@pytest.fixture
def postgres_app(postgres_store: StoreConfig) -> Iterator[GridApplication]:
    """A GridApplication on the PostgreSQL store, closed afterwards."""
    application = GridApplication(postgres_store)
    try:
        yield application
    finally:
        application.close()


@pytest.mark.asyncio
async def test_thousands_of_postgres_events_reach_the_stream_once_each_in_order(
    postgres_app: GridApplication, relay_settings: RelaySettings, nats_server: EmbeddedNatsServer
) -> None:
    """3,000 events saved to PostgreSQL while the relay runs are in the stream once each, in order, as stored."""
    writer = EventWriter(postgres_app, import_size=50)
    await asyncio.to_thread(writer.write, 500)

    async with OutboxRelay(postgres_app, relay_settings) as relay:
        last = await asyncio.to_thread(writer.write, 2500)
        await relay.wait_published(last, timeout=30)

    assert last >= 3000
    assert_stream_is_the_store(await read_stream(nats_server.url), postgres_app.recorder)


@pytest.mark.asyncio
async def test_a_save_by_another_process_wakes_the_relay_through_notify(
    postgres_store: StoreConfig, postgres_app: GridApplication, relay_settings: RelaySettings
) -> None:
    """With polling all but off, an event saved by another application arrives through LISTEN/NOTIFY."""
    settings = fast_relay_settings(relay_settings.nats, poll_interval=60.0)
    other = GridApplication(postgres_store)
    try:
        async with OutboxRelay(postgres_app, settings) as relay:
            assert relay._waker is not None
            await asyncio.wait_for(relay._waker.listening.wait(), timeout=10)
            await wait_until(lambda: _is_idle(relay), within=10)

            await asyncio.to_thread(other.register_resident, PERSON, CELLS[0], actor=WORKER)
            await relay.wait_published(other.recorder.max_notification_id() or 0, timeout=5)
    finally:
        other.close()


async def _is_idle(relay: OutboxRelay) -> bool:
    return relay.state is RelayState.IDLE


@pytest.mark.asyncio
async def test_gaps_in_notification_ids_are_passed_over(
    postgres_store: StoreConfig,
    postgres_app: GridApplication,
    relay_settings: RelaySettings,
    nats_server: EmbeddedNatsServer,
) -> None:
    """A rejected concurrent save leaves a gap in PostgreSQL's ids; the relay publishes what follows it."""
    resident_id = postgres_app.register_resident(PERSON, CELLS[0], actor=WORKER)
    other = GridApplication(postgres_store)
    try:
        first: Resident = other.repository.get(resident_id)
        postgres_app.transfer_resident(resident_id, CELLS[1], actor=WORKER, reason="moved")
        first.transfer(CELLS[1], actor=WORKER, reason="moved too")
        with pytest.raises(ConcurrentChangeError):
            other.save(first)
    finally:
        other.close()
    postgres_app.transfer_resident(resident_id, CELLS[0], actor=WORKER, reason="moved back")
    ids = [n.id for n in all_notifications(postgres_app.recorder)]
    assert ids != list(range(1, len(ids) + 1)), "a rejected save leaves a gap"

    async with OutboxRelay(postgres_app, relay_settings) as relay:
        await relay.wait_published(ids[-1], timeout=10)

    assert_stream_is_the_store(await read_stream(nats_server.url), postgres_app.recorder)
