"""Fixtures of the end-to-end tests: real histories, a real nats-server, the service as it runs in production.

``history`` is built once per test session: a simulated district day (ten
communities: sites, survey calls, inspections, mediation) plus bulk imports
of residents, about 26,000 events in a SQLite event store, relayed once into a
nats-server that stays up for the whole session. Tests that read it use
consumer names and view stores of their own, so they never disturb each
other; tests that publish garbage or kill servers start their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from grid_events import Actor, GridApplication, GridCell, PersonalData, ResidentRecord, ResidentTag, Role, StoreConfig
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings
from grid_service.runtime.settings import ViewStoreSettings
from grid_service.scenario import DAY_SIZES, DAY_START, DayPlan, SimulatedClock
from grid_service.views import ViewStore

BULK_IMPORTS = 20
"""Imports of 1,000 residents each, after the district day."""


@attrs.frozen
class History:
    """A session's event store and the nats-server whose stream holds it."""

    store: StoreConfig
    server: EmbeddedNatsServer
    events: int

    @property
    def nats(self) -> NatsSettings:
        """Settings to reach the session's nats-server."""
        return NatsSettings(servers=(self.server.url,), connect_timeout=1.0, reconnect_time_wait=0.1)


def _scratch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for the session's history: in memory (/dev/shm) when there is one, where fsync is free."""
    shm = Path("/dev/shm")  # noqa: S108 (a private directory is made inside it)
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="grid-e2e-", dir=shm))
    return tmp_path_factory.mktemp("history")


def record_history(store: StoreConfig) -> int:
    """Record a district day and bulk imports into *store*; return the number of events."""
    clock = SimulatedClock(DAY_START)
    app = GridApplication(store, clock=clock)
    try:
        DayPlan(app, clock, size=DAY_SIZES["district"], seed=20261102).run()
        clerk = Actor("c-import", Role.GRID_WORKER)
        for batch in range(BULK_IMPORTS):
            records = [
                ResidentRecord(
                    PersonalData(name=f"王{batch}-{n}", id_number="11010519491231002X", phone="13812345678"),
                    GridCell("江南", "飞凤", f"{n % 9 + 1:02d}"),
                    frozenset({ResidentTag.ELDERLY_LIVING_ALONE}) if n % 13 == 0 else frozenset(),
                )
                for n in range(1000)
            ]
            app.import_residents(records, actor=clerk)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


async def relay_everything(store: StoreConfig, nats: NatsSettings) -> None:
    """Relay every event of *store* to the stream, then stop."""
    app = GridApplication(store)
    try:
        async with OutboxRelay(app, RelaySettings(nats=nats)) as relay:
            await relay.wait_caught_up(timeout=120)
    finally:
        app.close()


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """About 26,000 events in a SQLite store, and a nats-server whose stream holds them all."""
    directory = _scratch_dir(tmp_path_factory)
    server = EmbeddedNatsServer(directory / "nats")
    try:
        store = StoreConfig.sqlite(directory / "events.sqlite3")
        events = record_history(store)
        server.start()
        history = History(store, server, events)
        asyncio.run(relay_everything(store, history.nats))
        yield history
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(directory)


@pytest.fixture(params=["sqlite", "postgres"])
def view_store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> ViewStoreSettings:
    """A view store on SQLite, then on PostgreSQL (a fresh schema, dropped afterwards)."""
    if request.param == "sqlite":
        return ViewStoreSettings.sqlite(tmp_path / "views.sqlite3")
    postgres: StoreConfig = request.getfixturevalue("postgres_store")
    return ViewStoreSettings.postgres(postgres.postgres_dsn, schema=postgres.postgres_schema)


def open_view_store(settings: ViewStoreSettings) -> ViewStore:
    """Return the view store *settings* describe, not yet open."""
    if settings.backend == "postgres":
        return ViewStore.postgres(settings.postgres_dsn, schema=settings.postgres_schema)
    return ViewStore.sqlite(settings.sqlite_path)
