"""GridService: the view store, the projection engine, one consumer per view, rebuilds; start, drain, stop.

The HTTP API (:mod:`grid_service.runtime.api`) sits on top and starts and stops
the service in its lifespan; :mod:`grid_service.runtime.pipeline` adds a
nats-server and the outbox relay for a one-command installation. Starting
returns as soon as the view store is open: consumers connect to NATS in the
background (and keep trying while it is away), and the API serves what the
views hold meanwhile.

Stopping drains: no more fetches, the batch being applied is finished and
acknowledged, then the NATS connection (its buffered acknowledgements sent),
the view store and the event store are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

import attrs
import nats.js.errors

from grid_events import GridApplication
from grid_events.transport import RelayStatus
from grid_service.runtime.consumer import ProjectionConsumer, ProjectionStatus
from grid_service.runtime.decoding import MessageReader
from grid_service.runtime.link import NatsLink, StoppingError, sleep_unless
from grid_service.runtime.metrics import ServiceMetrics
from grid_service.runtime.rebuild import Rebuild, RebuildStatus
from grid_service.runtime.settings import ServiceSettings
from grid_service.runtime.writer import Writer
from grid_service.views.base import DeadLetter, Masker, Projection, RunState, VaultMasker
from grid_service.views.engine import ProjectionEngine
from grid_service.views.projections import default_projections
from grid_service.views.store import ViewStore

__all__ = ["GridService", "Readiness", "ServiceError", "UnknownViewError", "open_view_store"]

logger = logging.getLogger("grid_service.runtime")

P = ParamSpec("P")
T = TypeVar("T")


class ServiceError(Exception):
    """An operation on the service cannot be done as asked (the message says why and what to do)."""


class UnknownViewError(ServiceError):
    """No view of that name runs in this service."""


@attrs.frozen
class Readiness:
    """Whether the service should get traffic, and why not."""

    ready: bool
    problems: tuple[str, ...]
    nats_connected: bool
    views: tuple[ProjectionStatus, ...]


def open_view_store(settings: ServiceSettings) -> ViewStore:
    """Return the view store *settings* describe (not yet open)."""
    views = settings.views
    if views.backend == "postgres":
        return ViewStore.postgres(views.postgres_dsn, schema=views.postgres_schema or "grid_views")
    return ViewStore.sqlite(views.sqlite_path, synchronous=views.sqlite_synchronous)


class GridService:
    """The read side: consumers that keep the views, and the operations the API exposes.

    *projections* default to every view of :mod:`grid_service.views`
    (``settings.projections`` may name a subset). *app* is the event store
    application whose vault masks personal data; without one the service opens
    ``settings.event_store`` itself (and closes it). *relay* reports an
    in-process outbox relay's status for ``/metrics``.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        projections: Sequence[Projection] | None = None,
        app: GridApplication | None = None,
        masker: Masker | None = None,
        relay: Callable[[], RelayStatus | None] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
        self._projections = projections
        self._app = app
        self._own_app = False
        self._masker = masker
        self._relay = relay
        self._store: ViewStore | None = None
        self._engine: ProjectionEngine | None = None
        self._writer: Writer | None = None
        self._stop = asyncio.Event()
        self._link = self._new_link()
        self.consumers: dict[str, ProjectionConsumer] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._rebuilds: dict[str, tuple[Rebuild, asyncio.Task[RebuildStatus]]] = {}
        self._started = False

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the view store and start consuming (in the background); return at once.

        Raises :class:`ServiceError` (or the store's error) if the view store or the event store cannot be
        opened or the settings name unknown views; nothing is left open then.
        """
        if self._started:
            raise ServiceError("the service is already started")
        self._stop = asyncio.Event()
        self._link = self._new_link()
        try:
            await asyncio.to_thread(self._open)
            outdated = await self._prepare()
        except BaseException:
            await asyncio.to_thread(self._close_stores)
            raise
        self.metrics.watch(self.statuses, nats_connected=lambda: self._link.connected, relay=self._relay)
        self._tasks = [
            asyncio.create_task(consumer.run(), name=f"grid-views-{name}") for name, consumer in self.consumers.items()
        ]
        self._tasks.append(asyncio.create_task(self._watch_stream(), name="grid-views-stream-watch"))
        self._started = True
        for name in outdated:
            logger.warning(
                "view %s was built by another version of its projection: rebuilding it (the old one serves meanwhile)",
                name,
            )
            await self.rebuild(name)
        logger.info(
            "service started: %d views in %s, stream %s, poison policy %s",
            len(self.consumers),
            self.settings.views.describe(),
            self.settings.stream.name,
            self.settings.poison_policy.value,
        )

    async def _prepare(self) -> list[str]:
        """Make a consumer per view; abandon rebuilds a stop interrupted; return the views built by old versions."""
        engine, writer = self.engine, self._writer
        assert writer is not None  # noqa: S101 (set by _open)
        reader = MessageReader()  # the views read the same messages: each is checked once
        self.consumers = {
            name: ProjectionConsumer(
                name,
                engine,
                self._link,
                self.settings,
                writer=writer,
                lock=asyncio.Lock(),
                metrics=self.metrics,
                stop=self._stop,
                reader=reader,
            )
            for name in engine.names
        }
        outdated = []
        for name, consumer in self.consumers.items():
            state = await writer.call(engine.state, name)
            if state.rebuilding_generation is not None:
                logger.warning("view %s: abandoning the rebuild interrupted at the last stop", name)
                await writer.call(engine.abandon_rebuild, name, state.rebuilding_generation)
            if state.version != engine.projection(name).version:
                outdated.append(name)
            await consumer.refresh()
        return outdated

    def _new_link(self) -> NatsLink:
        return NatsLink(
            self.settings.nats,
            self._stop,
            retry_delay=self.settings.retry_delay,
            max_retry_delay=self.settings.max_retry_delay,
        )

    def _open(self) -> None:
        store = open_view_store(self.settings)
        store.open()
        self._store = store
        masker = self._masker
        if masker is None:
            if self._app is None:
                self._app = _open_event_store(self.settings)
                self._own_app = True
            masker = VaultMasker(self._app.vault.open)
        projections = list(self._projections) if self._projections is not None else default_projections()
        if self.settings.projections:
            known = {projection.name: projection for projection in projections}
            unknown = sorted(set(self.settings.projections) - set(known))
            if unknown:
                raise ServiceError(f"unknown views {', '.join(unknown)}: choose among {', '.join(sorted(known))}")
            projections = [known[name] for name in self.settings.projections]
        self._engine = ProjectionEngine(store, projections, masker)
        self._writer = Writer()

    async def stop(self) -> None:
        """Drain and stop: finish the batch in hand, acknowledge it, close NATS and the stores."""
        if not self._started:
            await asyncio.to_thread(self._close_stores)
            return
        self._started = False
        self._stop.set()
        for _, rebuilding in self._rebuilds.values():
            rebuilding.cancel()
        tasks: list[asyncio.Task[Any]] = [*self._tasks, *(rebuilding for _, rebuilding in self._rebuilds.values())]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.settings.drain_timeout)
            for task in late:
                logger.warning(
                    "%s did not finish within %.0f s: cancelling it", task.get_name(), self.settings.drain_timeout
                )
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5.0)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                logger.error("%s failed", task.get_name(), exc_info=task.exception())
        self._tasks = []
        await self._link.close()
        await asyncio.to_thread(self._close_stores)
        logger.info("service stopped")

    def _close_stores(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._own_app and self._app is not None:
            self._app.close()
            self._app = None
            self._own_app = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- what the API reads ----------------------------------------------------------------------

    @property
    def engine(self) -> ProjectionEngine:
        """The projection engine (the service must be started)."""
        if self._engine is None:
            raise ServiceError("the service is not started")
        return self._engine

    @property
    def store(self) -> ViewStore:
        """The view store (the service must be started)."""
        if self._store is None:
            raise ServiceError("the service is not started")
        return self._store

    @property
    def event_store_app(self) -> GridApplication | None:
        """The event store's application, or None when the service runs without one (given only a masker).

        The audit pages read a case's history from it to verify the record and check the rules.
        """
        return self._app

    @property
    def nats_connected(self) -> bool:
        """Whether the service is connected to NATS right now."""
        return self._link.connected

    def statuses(self) -> list[ProjectionStatus]:
        """Return the status of every view's consumer."""
        return [consumer.status for consumer in self.consumers.values()]

    def readiness(self, *, caught_up: bool = False) -> Readiness:
        """Return whether the service is ready: started, no view stopped (and, if asked, all caught up)."""
        problems: list[str] = []
        if not self._started:
            problems.append("the service is not started")
        for status in self.statuses():
            if status.state == "stopped":
                problems.append(f"view {status.name} is stopped: {status.reason}")
            elif caught_up and not (status.consuming and status.caught_up):
                behind = f"{status.lag} messages behind" if status.consuming else "not consuming"
                problems.append(
                    f"view {status.name} is {behind}" + (f" ({status.last_error})" if status.last_error else "")
                )
        if caught_up and not self._link.connected:
            problems.append(f"not connected to NATS ({self._link.last_error or 'connecting'})")
        return Readiness(
            ready=not problems,
            problems=tuple(problems),
            nats_connected=self._link.connected,
            views=tuple(self.statuses()),
        )

    def view(self, name: str) -> ProjectionConsumer:
        """Return the consumer of view *name*, or raise :class:`UnknownViewError`."""
        try:
            return self.consumers[name]
        except KeyError:
            raise UnknownViewError(f"no view {name!r}: the views are {', '.join(self.consumers)}") from None

    async def dead_letters(self, name: str | None = None) -> list[DeadLetter]:
        """Return the dead letters of view *name* (or of every view)."""
        if name is not None:
            self.view(name)
        return await asyncio.to_thread(self.engine.dead_letters, name)

    # -- what operators do -----------------------------------------------------------------------

    async def resume(self, name: str) -> ProjectionStatus:
        """Let a stopped view try again from its position (after the projection was fixed)."""
        consumer = self.view(name)
        await self._call(self.engine.set_state, name, RunState.RUNNING, "")
        await consumer.refresh()
        consumer.wake()
        logger.info("view %s: resumed by an operator at sequence %d", name, consumer.status.position + 1)
        return consumer.status

    async def skip(self, name: str, sequence: int, reason: str) -> ProjectionStatus:
        """Move a stopped view past the message at *sequence* (the one it stopped at), then resume it."""
        consumer = self.view(name)
        await consumer.refresh()
        if consumer.status.state != "stopped":
            raise ServiceError(f"view {name} is {consumer.status.state}: only a stopped view can skip a message")
        if sequence != consumer.status.position + 1:
            raise ServiceError(
                f"view {name} stopped at sequence {consumer.status.position + 1}, not {sequence}: "
                "skip the message it stopped at"
            )
        async with consumer.lock:
            await self._call(self.engine.skip, name, sequence, f"skipped by an operator: {reason}")
            await self._call(self.engine.set_state, name, RunState.RUNNING, "")
        await consumer.refresh()
        consumer.wake()
        logger.warning("view %s: sequence %d skipped by an operator (%s)", name, sequence, reason)
        return consumer.status

    async def rebuild(self, name: str) -> RebuildStatus:
        """Start rebuilding view *name*; return its status once its new generation exists (the rest goes on).

        One rebuild per view at a time: raises :class:`ServiceError` while one is under way.
        """
        consumer = self.view(name)
        if not self._started or self._writer is None:
            raise ServiceError("the service is not started")
        current = self._rebuilds.get(name)
        if current is not None and not current[1].done():
            raise ServiceError(f"view {name} is already being rebuilt (generation {current[0].status.generation})")
        rebuild = Rebuild(consumer, self._link, self.settings, writer=self._writer, stop=self._stop)
        task = asyncio.create_task(rebuild.run(), name=f"grid-views-rebuild-{name}")
        self._rebuilds[name] = (rebuild, task)
        begun = asyncio.ensure_future(rebuild.begun.wait())
        try:
            await asyncio.wait((begun, task), return_when=asyncio.FIRST_COMPLETED)
        finally:
            begun.cancel()
        return rebuild.status

    def rebuilds(self) -> list[RebuildStatus]:
        """Return the status of the last rebuild of each view that had one."""
        return [rebuild.status for rebuild, _ in self._rebuilds.values()]

    async def wait_rebuilt(self, name: str) -> RebuildStatus:
        """Wait for the rebuild of *name* to end and return its status."""
        try:
            rebuild, task = self._rebuilds[name]
        except KeyError:
            raise ServiceError(f"view {name} has no rebuild") from None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
        return rebuild.status

    async def _call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._writer is None:
            raise ServiceError("the service is not started")
        return await self._writer.call(function, *args, **kwargs)

    # -- the stream's end, for lag -------------------------------------------------------------------

    async def refresh_stream_end(self) -> None:
        """Read the stream's last sequence now (for an exact lag), instead of waiting for the next poll.

        Raises what reading the stream's info raises (not connected, no stream yet, …).
        """
        js = await self._link.jetstream()
        info = await js.stream_info(self.settings.stream.name)
        last = int(info.state.last_seq or 0)
        for status in self.statuses():
            if last < status.position:
                logger.warning(
                    "stream %s ends at %d, before view %s (%d): waiting for the relay to refill it",
                    self.settings.stream.name,
                    last,
                    status.name,
                    status.position,
                )
            status.stream_last_sequence = last

    async def _watch_stream(self) -> None:
        while not self._stop.is_set():
            try:
                await self.refresh_stream_end()
            except StoppingError:
                return
            except nats.js.errors.NotFoundError:
                logger.debug("stream %s does not exist yet", self.settings.stream.name)
            except Exception as e:  # noqa: BLE001 (lag is informative; the consumers report real trouble)
                logger.debug("cannot read the stream's end: %s", e)
            try:
                await sleep_unless(self._stop, self.settings.stream_poll_interval)
            except StoppingError:
                return


def _open_event_store(settings: ServiceSettings) -> GridApplication:
    config = settings.event_store
    if config.backend == "memory":
        raise ServiceError(
            "the service opens the event store to mask residents' personal data: configure the SQLite or "
            "PostgreSQL store the relay reads (GRID_EVENTS_STORE, GRID_EVENTS_SQLITE_PATH or GRID_EVENTS_POSTGRES_DSN)"
        )
    if config.backend == "sqlite" and not config.sqlite_path.exists():
        raise ServiceError(
            f"no event store at {config.sqlite_path}: the service opens it to mask residents' personal data; "
            "set GRID_EVENTS_SQLITE_PATH (or --sqlite-path) to the store the relay reads"
        )
    return GridApplication(config)
