"""Helpers of the end-to-end tests: the service as a process, its views' positions, comparing with a rebuild."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from grid_events import GridApplication, Role, StoreConfig
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings
from grid_service.runtime.auth import Accounts
from grid_service.runtime.pipeline import serve
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import PoisonPolicy, ServiceSettings, ViewStoreSettings
from grid_service.scenario import DAY_START, SimulatedClock
from grid_service.views import ProjectionEngine, VaultMasker, ViewStore, default_projections, deliveries_from_store

T = TypeVar("T")


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment() -> dict[str, str]:
    """Return this process's environment without any grid_events or service setting."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("GRID_EVENTS_", "GRID_SERVICE_"))}


def make_accounts(path: Path) -> dict[Role, str]:
    """Write an accounts file at *path*: an auditor (reads every view) and an administrator; return their tokens."""
    accounts = Accounts.load(path)
    tokens = {
        role: accounts.add(f"{role.value}-e2e", role, replace=True) for role in (Role.AUDITOR, Role.ADMINISTRATOR)
    }
    accounts.save()
    return tokens


def start_service(
    *,
    events: Path,
    views: ViewStoreSettings,
    nats_url: str,
    consumer_prefix: str,
    port: int,
    log: Path,
    extra: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start ``python -m grid_service.runtime`` (``grid-events serve``) as a process of its own.

    Its accounts file is ``accounts.json`` beside *log* (made, with an auditor and an administrator, if missing).
    """
    accounts = log.with_name("accounts.json")
    if not accounts.exists():
        make_accounts(accounts)
    environment = clean_environment()
    if views.backend == "postgres":
        environment["GRID_SERVICE_VIEWS_POSTGRES_DSN"] = views.postgres_dsn
        where = ["--views-postgres-schema", views.postgres_schema]
    else:
        where = ["--views-sqlite-path", str(views.sqlite_path)]
    command = [
        sys.executable,
        "-m",
        "grid_service.runtime",
        "--sqlite-path",
        str(events),
        *where,
        "--nats-url",
        nats_url,
        "--consumer-prefix",
        consumer_prefix,
        "--port",
        str(port),
        "--log-level",
        "WARNING",
        "--no-access-log",
        "--accounts",
        str(accounts),
        *extra,
    ]
    with log.open("ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment)  # noqa: S603


_POSITIONS_SQL = (
    "SELECT p.projection, p.stream_sequence FROM gv_positions p JOIN gv_active a "
    "ON a.projection = p.projection AND a.generation = p.generation"
)


def positions(views: ViewStoreSettings) -> dict[str, int]:
    """Return each view's position, read from its view store ({} before the service made it)."""
    if views.backend == "postgres":
        import psycopg  # noqa: PLC0415 (only with the postgres extra)

        with psycopg.connect(views.postgres_dsn, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{views.postgres_schema}"')
            try:
                rows = connection.execute(_POSITIONS_SQL).fetchall()
            except psycopg.errors.UndefinedTable:
                return {}
        return {str(name): int(sequence) for name, sequence in rows}
    if not views.sqlite_path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{views.sqlite_path}?mode=ro", uri=True, timeout=5) as connection:
            found = connection.execute(_POSITIONS_SQL).fetchall()
    except sqlite3.OperationalError:
        return {}  # the tables are not there yet
    return {str(name): int(sequence) for name, sequence in found}


def slowest(views: ViewStoreSettings) -> int:
    """Return the position of the view furthest behind (0 before there are views)."""
    found = positions(views)
    return min(found.values()) if len(found) == len(default_projections()) else 0


async def wait_until(probe: Callable[[], bool | Awaitable[bool]], *, within: float, interval: float = 0.02) -> None:
    """Wait until *probe* returns true, for at most *within* seconds."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within} s")
        await asyncio.sleep(interval)


def assert_views_equal_a_rebuild(store: ViewStore, events: StoreConfig) -> dict[str, int]:
    """Check every view of *store* equals a fresh rebuild from the event store; return rows per view.

    Each view is rebuilt into a new generation straight from the event store
    (the way the relay numbers the stream), compared table by table with the
    live one, and the new generation is dropped again.
    """
    app = GridApplication(events)
    try:
        engine = ProjectionEngine(store, default_projections(), VaultMasker(app.vault.open))
        rows = {}
        for name in engine.names:
            generation = engine.begin_rebuild(name)
            for batch in deliveries_from_store(app.recorder, batch_size=2000):
                engine.apply_to_generation(name, generation, batch)
            live, rebuilt = engine.contents(name), engine.contents(name, generation)
            engine.abandon_rebuild(name, generation)
            assert live.keys() == rebuilt.keys(), name
            for table in live:
                assert live[table] == rebuilt[table], f"{name}.{table} differs from a rebuild"
            rows[name] = sum(len(table) for table in live.values())
        return rows
    finally:
        app.close()


class Office:
    """One community office running everything: event store, relay, nats-server, the service over HTTP.

    Commands go through :attr:`app` (whose clock is the scenario's), the relay
    publishes them, the service (in this process, behind uvicorn on a free
    port) keeps the views, and :attr:`http` asks the API as an auditor (who
    reads every view), :attr:`admin` as the administrator (the admin routes).
    """

    def __init__(self, directory: Path, views: ViewStoreSettings, *, poison_policy: PoisonPolicy) -> None:
        self.directory = directory
        self.clock = SimulatedClock(DAY_START)
        self.store = StoreConfig.sqlite(directory / "events.sqlite3")
        self.app = GridApplication(self.store, clock=self.clock)
        self.server = EmbeddedNatsServer(directory / "nats")
        self.views = views
        self.poison_policy = poison_policy
        self.relay: OutboxRelay | None = None
        self.service: GridService | None = None
        self.accounts = directory / "accounts.json"
        tokens = make_accounts(self.accounts)
        self.http = httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {tokens[Role.AUDITOR]}"})
        self.admin = httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {tokens[Role.ADMINISTRATOR]}"})
        self._serving: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @property
    def nats(self) -> NatsSettings:
        """How to reach the office's nats-server."""
        return NatsSettings(servers=(self.server.url,), connect_timeout=1.0, reconnect_time_wait=0.1)

    async def start(self) -> None:
        """Start the nats-server, the relay and the service; return once the API answers."""
        await asyncio.to_thread(self.server.start)
        self.relay = OutboxRelay(self.app, RelaySettings(nats=self.nats, poll_interval=0.1))
        await self.relay.start()
        settings = ServiceSettings(
            views=self.views,
            event_store=self.store,
            nats=self.nats,
            http_port=0,
            fetch_timeout=0.2,
            stream_poll_interval=0.2,
            poison_policy=self.poison_policy,
            accounts=self.accounts,
        )
        self.service = GridService(settings, app=self.app, relay=self.relay.status)
        urls: list[str] = []
        self._serving = asyncio.create_task(
            serve(self.service, stop=self._stop, access_log=False, on_ready=urls.append)
        )
        await wait_until(lambda: bool(urls) or self._serving is None or self._serving.done(), within=30)
        if self._serving.done():
            self._serving.result()
        self.http.base_url = self.admin.base_url = httpx.URL(urls[0])

    async def stop(self) -> None:
        """Stop the service (draining it), the relay, the nats-server; close the application (once)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._serving is not None:
            await self._serving
        if self.relay is not None:
            await self.relay.stop()
        await self.http.aclose()
        await self.admin.aclose()
        await asyncio.to_thread(self.server.stop)
        self.app.close()

    async def run(self, command: Callable[[], T]) -> T:
        """Run a command of the application (it writes to the database: off the event loop)."""
        return await asyncio.to_thread(command)

    async def caught_up(self, within: float = 60) -> int:
        """Wait until the relay has published everything and every view applied it; return the last sequence."""
        assert self.relay is not None
        await self.relay.wait_caught_up(timeout=within)

        async def ready() -> bool:
            answer = await self.http.get("/readyz", params={"caught_up": "true"})
            return answer.status_code == 200

        await wait_until(ready, within=within, interval=0.05)
        views = (await self.http.get("/readyz")).json()["views"]
        return max(int(view["position"]) for view in views)

    async def get(self, path: str, **params: Any) -> Any:
        """GET *path* (``/admin/…`` as the administrator, the rest as an auditor); return its JSON (200 only)."""
        client = self.admin if path.startswith("/admin/") else self.http
        answer = await client.get(path, params=params)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()
