"""Fixtures for the views: view stores on SQLite and PostgreSQL, a simulated community day, engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from conftest import Clock, PostgresSchema, postgres_dsn
from grid_events import GridApplication, StoreConfig
from grid_service.scenario import DAY_SIZES, DAY_START, DayPlan, SimulatedClock
from grid_service.views import ProjectionEngine, ViewStore

from . import histories
from .helpers import Day, Tours, deliveries_of, engine_for

BACKENDS = ("sqlite", "postgres")

StoreFactory = Callable[..., ViewStore]


@pytest.fixture
def new_view_store(tmp_path: Path) -> Iterator[StoreFactory]:
    """Open fresh view stores on a backend ("sqlite" or "postgres"); all closed and dropped afterwards.

    ``make("sqlite", synchronous="normal")`` skips the fsync of each commit, for tests that commit thousands.
    """
    opened: list[ViewStore] = []
    schemas: list[PostgresSchema] = []

    def make(backend: str, *, synchronous: Literal["full", "normal"] = "full") -> ViewStore:
        if backend == "sqlite":
            store = ViewStore.sqlite(tmp_path / f"views-{len(opened)}.sqlite3", synchronous=synchronous)
        else:
            schema = PostgresSchema(postgres_dsn())
            schemas.append(schema)
            store = ViewStore.postgres(schema.dsn, schema=schema.name)
        opened.append(store.open())
        return store

    try:
        yield make
    finally:
        for store in opened:
            store.close()
        for schema in schemas:
            schema.drop()


@pytest.fixture(params=BACKENDS)
def view_store(request: pytest.FixtureRequest, new_view_store: StoreFactory) -> ViewStore:
    """An open view store on each backend: a SQLite file, a PostgreSQL schema of its own."""
    return new_view_store(str(request.param))


@pytest.fixture
def sqlite_view_store(new_view_store: StoreFactory) -> ViewStore:
    """An open view store in a SQLite file."""
    return new_view_store("sqlite")


@pytest.fixture(scope="session")
def community_day() -> Iterator[Day]:
    """One simulated day of one community (scenario seed 2026), recorded in memory, with its deliveries."""
    clock = SimulatedClock(DAY_START)
    with GridApplication(StoreConfig.memory(), clock=clock) as app:
        summary = DayPlan(app, clock, size=DAY_SIZES["community"], seed=2026).run()
        yield Day(app, summary, deliveries_of(app), clock)


@pytest.fixture
def day_engine(community_day: Day, view_store: ViewStore) -> ProjectionEngine:
    """An engine with every projection on each backend, its masker opening the day's sealed data."""
    return engine_for(view_store, community_day.app)


@pytest.fixture(scope="session")
def tours() -> Iterator[Tours]:
    """Every tour of ``histories`` recorded in one application (in memory), with its deliveries."""
    clock = Clock()
    with GridApplication(StoreConfig.memory(), clock=clock) as app:
        ids = {
            "tasks": histories.task_tour(app, clock),
            "inspections": histories.inspection_tour(app, clock),
            "disputes": histories.dispute_tour(app, clock),
            "shifts": histories.shift_tour(app, clock),
            "residents": histories.resident_tour(app, clock),
        }
        yield Tours(app, ids, deliveries_of(app), clock.now)


@pytest.fixture(scope="session", params=BACKENDS)
def tour_engine(
    request: pytest.FixtureRequest, tours: Tours, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProjectionEngine]:
    """An engine on each backend with every tour applied, shared by the tests that only read it."""
    schema: PostgresSchema | None = None
    if request.param == "sqlite":
        store = ViewStore.sqlite(tmp_path_factory.mktemp("tours") / "views.sqlite3")
    else:
        schema = PostgresSchema(postgres_dsn())
        store = ViewStore.postgres(schema.dsn, schema=schema.name)
    store.open()
    try:
        engine = engine_for(store, tours.app)
        for name in engine.names:
            engine.apply(name, tours.deliveries)
        yield engine
    finally:
        store.close()
        if schema is not None:
            schema.drop()
