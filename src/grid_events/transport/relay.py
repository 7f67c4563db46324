"""The outbox relay: every stored event, in order, exactly once, into the stream.

The event store is the outbox. :class:`OutboxRelay` reads its notifications
after a cursor and publishes each as one message (:mod:`grid_events.transport.wire`),
many in flight at once. It keeps no state of its own: on start, and after any
error, it reads the stream's last message, whose ``Grid-Notification-Id`` says
how far the stream got, and continues from there.

Every message carries ``Nats-Expected-Last-Sequence``: the stream sequence the
message must follow. So a message lands only directly after its predecessor —
a failed or timed-out publish can never be overtaken by the ones pipelined
behind it, and two relays started by mistake on one store cannot interleave
or duplicate (the loser's messages are refused and it resynchronises). A
timed-out message is "unknown": the relay resynchronises from the stream and
republishes, with the same ``Nats-Msg-Id``, whatever did not land.

The relay wakes as soon as the application saves (``add_save_listener``), on
PostgreSQL also on the store's NOTIFY (saves by other processes), and polls
every ``poll_interval`` seconds in any case (SQLite cannot notify).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, NamedTuple, Protocol, Self
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, Notification
from nats.aio.client import Client
from nats.errors import MaxPayloadError
from nats.js import JetStreamContext

from grid_events.exceptions import ConfigurationError
from grid_events.transport.connection import NatsSettings, close_quietly, connect
from grid_events.transport.errors import (
    AckTimeoutError,
    ConnectionLostError,
    PublishRejectedError,
    RelayStoppedError,
    StreamMismatchError,
    UnexpectedAckError,
)
from grid_events.transport.publisher import AckPipeline
from grid_events.transport.status import PublishedPosition, RelayState, RelayStatus
from grid_events.transport.stream import StreamHead, StreamSettings, ensure_stream, read_stream_head
from grid_events.transport.wakeup import PostgresNotifyWaker
from grid_events.transport.wire import Header, OutboundMessage, encode_notification, msg_id_of

__all__ = ["EventSource", "OutboxRelay", "RelaySettings", "RelayState", "RelayStatus"]

logger = logging.getLogger("grid_events.transport")


class EventSource(Protocol):
    """What the relay needs of an application: its recorder (``add_save_listener`` is used if present)."""

    recorder: ApplicationRecorder


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ConfigurationError(f"{attribute.name} must be positive, not {value}")


@attrs.frozen
class RelaySettings:
    """How the relay reaches NATS, which stream it fills, and how hard it pushes.

    *batch_size* notifications are read at a time; at most *max_in_flight*
    messages await their acknowledgement; one not acknowledged within
    *ack_timeout* seconds counts as unknown (the relay resynchronises). Without
    a wake-up the store is read every *poll_interval* seconds. After an error
    the relay waits from *retry_delay* up to *max_retry_delay* seconds,
    doubling. A connection still down after *reconnect_watchdog* seconds is
    replaced by a new one (nats-py can wedge reconnecting, e.g. after a failed
    TLS handshake). *listen_notify* uses PostgreSQL's NOTIFY to wake at once
    on saves by other processes.
    """

    nats: NatsSettings = attrs.Factory(NatsSettings)
    stream: StreamSettings = attrs.Factory(StreamSettings)
    batch_size: int = attrs.field(default=2000, validator=_positive)
    max_in_flight: int = attrs.field(default=2000, validator=_positive)
    ack_timeout: float = attrs.field(default=5.0, validator=_positive)
    poll_interval: float = attrs.field(default=1.0, validator=_positive)
    retry_delay: float = attrs.field(default=0.1, validator=_positive)
    max_retry_delay: float = attrs.field(default=10.0, validator=_positive)
    stop_timeout: float = attrs.field(default=5.0, validator=_positive)
    reconnect_watchdog: float = attrs.field(default=60.0, validator=_positive)
    listen_notify: bool = True


class _InFlight(NamedTuple):
    notification_id: int
    sequence: int
    future: asyncio.Future[Any]
    deadline: float


class OutboxRelay:
    """Publishes the events of *app*'s store to JetStream, in order, each once.

    Use it beside the application::

        async with OutboxRelay(app, RelaySettings(nats=NatsSettings(servers=(url,)))) as relay:
            resident_id = await asyncio.to_thread(app.register_resident, ...)
            await relay.wait_caught_up(timeout=5)

    Starting it does not wait for NATS: the application keeps saving while NATS
    is away, and the relay catches up when it is back.
    """

    def __init__(self, app: EventSource, settings: RelaySettings | None = None) -> None:
        self._app = app
        self._recorder = app.recorder
        self.settings = settings if settings is not None else RelaySettings()
        self._state = RelayState.STOPPED
        self._position = PublishedPosition()
        self._latest_saved = 0
        self._published = 0
        self._resyncs = 0
        self._conflicts = 0
        self._progress = 0
        self._last_error: BaseException | None = None
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._waker: PostgresNotifyWaker | None = None
        self._wakeup = asyncio.Event()
        self._wake_requested = False
        self._wake_lock = threading.Lock()
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._pipeline: AckPipeline | None = None
        self._stream_checked = False
        self._in_flight: deque[_InFlight] = deque()
        self._cursor = 0
        self._sequence = 0

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Start relaying in a background task of the running loop (returns at once)."""
        if self._task is not None:
            raise RuntimeError("the relay is already started")
        _refuse_unordered_store(self._recorder)
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._wakeup = asyncio.Event()
        add_listener: Callable[[Callable[[int], None]], None] | None = getattr(self._app, "add_save_listener", None)
        if add_listener is not None:
            add_listener(self.wake)
        self._waker = (
            PostgresNotifyWaker.for_recorder(self._recorder, self.wake) if self.settings.listen_notify else None
        )
        if self._waker is not None:
            self._waker.start()
        self._task = asyncio.create_task(self._run(), name="grid-events-outbox-relay")
        logger.info(
            "outbox relay started: %s -> stream %s (%s)",
            type(self._recorder).__name__,
            self.settings.stream.name,
            self.settings.stream.subjects,
        )

    async def stop(self) -> None:
        """Stop relaying: let what is in flight be acknowledged (briefly), then disconnect."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._stop_event.set()
        self._wakeup.set()
        remove_listener: Callable[[Callable[[int], None]], None] | None = getattr(
            self._app, "remove_save_listener", None
        )
        if remove_listener is not None:
            with contextlib.suppress(ValueError):
                remove_listener(self.wake)
        try:
            if self._waker is not None:
                await self._waker.stop()
            done, _ = await asyncio.wait((task,), timeout=self.settings.stop_timeout)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            self._task = None
            self._waker = None
            if self._state is not RelayState.FAILED:
                self._state = RelayState.STOPPED
            self._position.fail(RelayStoppedError("the relay was stopped"))
            logger.info("outbox relay stopped at notification %d", self._position.value)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def join(self) -> None:
        """Wait until the relay stops; raise the error that stopped it, if one did."""
        task = self._task
        if task is not None:
            await asyncio.shield(task)
        if self._failure is not None:
            raise self._failure

    # -- observing -------------------------------------------------------------------

    @property
    def state(self) -> RelayState:
        """What the relay is doing now."""
        return self._state

    @property
    def position(self) -> int:
        """The highest notification id known to be in the stream (0: none yet)."""
        return self._position.value

    @property
    def last_error(self) -> BaseException | None:
        """The last error met (the relay retries all but :class:`StreamMismatchError`)."""
        return self._last_error

    def status(self) -> RelayStatus:
        """Return a snapshot of the relay's state and counters."""
        error = self._last_error
        return RelayStatus(
            state=self._state,
            position=self._position.value,
            latest_saved=self._latest_saved,
            published=self._published,
            resyncs=self._resyncs,
            conflicts=self._conflicts,
            last_error=f"{type(error).__name__}: {error}" if error is not None else "",
        )

    async def wait_published(self, notification_id: int, timeout: float | None = None) -> None:  # noqa: ASYNC109 (a deadline is the point of this API)
        """Wait until the stream holds every event up to *notification_id*.

        Raises ``TimeoutError`` after *timeout* seconds, and
        :class:`RelayStoppedError` if the relay is stopped or fails first.
        """
        if notification_id <= self._position.value:
            return
        self._check_running()
        await self._position.wait(notification_id, timeout)

    async def wait_caught_up(self, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """Wait until the stream holds everything the store holds now; return that notification id."""
        latest = await asyncio.to_thread(self._recorder.max_notification_id) or 0
        await self.wait_published(latest, timeout)
        return latest

    def wake(self, notification_id: int | None = None) -> None:
        """Ask the relay to read the store now. Safe from any thread (it is the save listener)."""
        loop = self._loop
        if loop is None:
            return
        with self._wake_lock:
            if notification_id is not None and notification_id > self._latest_saved:
                self._latest_saved = notification_id
            if self._wake_requested:
                return
            self._wake_requested = True
        try:
            loop.call_soon_threadsafe(self._on_wake)
        except RuntimeError:  # the loop is closed: the relay is gone
            self._wake_requested = False

    def _on_wake(self) -> None:
        with self._wake_lock:
            self._wake_requested = False
        self._wakeup.set()

    # -- the loop --------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        progress_seen = self._progress
        try:
            while not self._stopping:
                try:
                    await self._connect()
                    await self._resync()
                    await self._pump()
                except asyncio.CancelledError:
                    raise
                except StreamMismatchError as e:
                    self._give_up(e)
                    return
                except Exception as e:  # noqa: BLE001 (every other failure is retried: the store keeps the events)
                    self._abandon_in_flight()
                    self._last_error = e
                    self._stream_checked = False  # it may have been deleted: check (and create) it again
                    if self._progress != progress_seen:
                        failures, progress_seen = 0, self._progress
                    delay = self._retry_delay(failures)
                    failures += 1
                    self._log_retry(e, delay)
                    if delay:
                        self._state = RelayState.RETRYING
                        await self._sleep(delay)
        finally:
            self._abandon_in_flight()
            await self._disconnect()

    async def _connect(self) -> None:
        if self._client is not None and self._client.is_closed:
            await self._disconnect()
        if self._client is None:
            self._state = RelayState.CONNECTING
            self._client = await connect(self.settings.nats, disconnected_cb=self._on_disconnected)
            self._js = self._client.jetstream(timeout=self.settings.ack_timeout)
            self._pipeline = AckPipeline(self._client)
            await self._pipeline.open()
            self._stream_checked = False
        if not self._stream_checked:
            await self._wait_connected()
            await ensure_stream(self._jetstream(), self.settings.stream)
            self._stream_checked = True

    async def _disconnect(self) -> None:
        pipeline, client = self._pipeline, self._client
        self._pipeline, self._client, self._js = None, None, None
        if pipeline is not None:
            await pipeline.close()
        if client is not None:
            await close_quietly(client, self.settings.stop_timeout)

    async def _on_disconnected(self) -> None:
        if self._pipeline is not None:
            self._pipeline.fail_all(ConnectionLostError("the connection to NATS dropped: acknowledgements lost"))

    async def _wait_connected(self) -> None:
        client = self._client
        deadline = asyncio.get_running_loop().time() + self.settings.reconnect_watchdog
        while client is not None and not client.is_connected and not self._stopping:
            if client.is_closed:
                raise ConnectionLostError("the NATS connection closed")
            if asyncio.get_running_loop().time() > deadline:
                await self._disconnect()
                raise ConnectionLostError(
                    f"still not reconnected after {self.settings.reconnect_watchdog} s: starting a new connection"
                )
            await asyncio.sleep(0.05)

    async def _resync(self) -> None:
        """Continue after the stream's last message: the only cursor there is."""
        self._state = RelayState.SYNCING
        await self._wait_connected()
        head = await read_stream_head(self._jetstream(), self.settings.stream)
        if head.last_sequence:
            await self._check_head(head)
        if head.notification_id < self._position.value:
            # JetStream acknowledged these, then lost them (a crash before its files were synced?):
            # they are republished from the store now; whoever waited on them was told too early.
            logger.warning(
                "stream %s lost acknowledged events after notification %d (up to %d): republishing them",
                self.settings.stream.name,
                head.notification_id,
                self._position.value,
            )
            self._position.fall_back(head.notification_id)
        self._cursor = head.notification_id
        self._sequence = head.last_sequence
        self._resyncs += 1
        self._advance(head.notification_id)
        logger.info(
            "stream %s holds events up to notification %d (sequence %d): continuing from there",
            self.settings.stream.name,
            head.notification_id,
            head.last_sequence,
        )

    async def _check_head(self, head: StreamHead) -> None:
        """Make sure the stream's last event is this store's event at that position."""
        found = await asyncio.to_thread(
            self._recorder.select_notifications, head.notification_id, 1, inclusive_of_start=True
        )
        same = bool(found) and found[0].id == head.notification_id and _msg_id(found[0]) == head.msg_id
        if not same:
            raise StreamMismatchError(
                f"stream {self.settings.stream.name} ends with event {head.msg_id} as notification "
                f"{head.notification_id}, which this event store does not hold: the stream was filled from "
                "another store (give this store its own stream, or refill a new stream from it)"
            )

    async def _pump(self) -> None:
        """Read, publish and settle until stopped; raise on any failure (the caller resynchronises)."""
        prefetch: asyncio.Task[list[OutboundMessage]] | None = None
        try:
            while not self._stopping:
                self._wakeup.clear()
                fresh = prefetch is None
                if prefetch is None:
                    batch = await self._read(self._cursor)
                else:
                    batch, prefetch = await prefetch, None
                if batch:
                    self._state = RelayState.PUBLISHING
                    self._cursor = batch[-1].notification_id
                    if len(batch) >= self.settings.batch_size:
                        prefetch = asyncio.create_task(self._read(self._cursor))
                    await self._publish(batch)
                    await self._settle(wait=False)
                elif fresh:
                    await self._settle(wait=True)
                    self._state = RelayState.IDLE
                    await self._idle()
            await self._settle(wait=True)
        finally:
            if prefetch is not None:
                prefetch.cancel()
                await asyncio.wait((prefetch,))
                if not prefetch.cancelled():
                    prefetch.exception()  # seen: the batch is read again after the resync

    async def _read(self, cursor: int) -> list[OutboundMessage]:
        """Read the next batch after *cursor* and encode it, in a worker thread (off the event loop)."""
        return await asyncio.to_thread(self._read_encoded, cursor)

    def _read_encoded(self, cursor: int) -> list[OutboundMessage]:
        batch = self._recorder.select_notifications(cursor, self.settings.batch_size, inclusive_of_start=False)
        prefix = self.settings.stream.subject_prefix
        return [encode_notification(notification, prefix) for notification in batch]

    async def _publish(self, batch: Sequence[OutboundMessage]) -> None:
        pipeline = self._pipeline
        if pipeline is None:
            raise ConnectionLostError("not connected")
        stream = self.settings.stream.name
        limit = self.settings.max_in_flight
        timeout = self.settings.ack_timeout
        in_flight = self._in_flight
        loop = asyncio.get_running_loop()
        for message in batch:
            if len(in_flight) >= limit:
                await self._settle(wait=True, keep=limit - 1)
            headers = message.headers
            headers[Header.EXPECTED_STREAM] = stream
            headers[Header.EXPECTED_LAST_SEQUENCE] = str(self._sequence)
            future = await pipeline.publish(message.subject, message.payload, headers)
            self._sequence += 1
            in_flight.append(_InFlight(message.notification_id, self._sequence, future, loop.time() + timeout))

    async def _settle(self, *, wait: bool, keep: int = 0) -> None:
        """Take acknowledgements in order; with *wait*, until at most *keep* are outstanding."""
        in_flight = self._in_flight
        stream = self.settings.stream.name
        settled: _InFlight | None = None
        count = 0
        try:
            while in_flight:
                head = in_flight[0]
                future = head.future
                if not future.done():
                    if not wait or len(in_flight) <= keep:
                        break
                    remaining = head.deadline - asyncio.get_running_loop().time()
                    if remaining > 0:
                        await asyncio.wait((future,), timeout=remaining)
                    if not future.done():
                        raise AckTimeoutError(
                            f"no acknowledgement of notification {head.notification_id} "
                            f"within {self.settings.ack_timeout} s"
                        )
                ack = future.result()
                if ack.stream != stream or ack.seq != head.sequence:
                    raise UnexpectedAckError(
                        f"notification {head.notification_id} acknowledged as {ack.stream} sequence {ack.seq}, "
                        f"expected {stream} sequence {head.sequence}"
                    )
                in_flight.popleft()
                settled = head
                count += 1
        finally:
            if settled is not None:
                self._published += count
                self._advance(settled.notification_id)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=self.settings.poll_interval)

    async def _sleep(self, delay: float) -> None:
        """Wait *delay* seconds, or until stopped (saves do not cut a back-off short)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), timeout=delay)

    # -- bookkeeping -----------------------------------------------------------------

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise ConnectionLostError("not connected")
        return self._js

    def _check_running(self) -> None:
        if self._failure is not None:
            raise RelayStoppedError(f"the relay failed: {self._failure}") from self._failure
        if self._task is None or self._task.done():
            raise RelayStoppedError("the relay is not running")

    def _advance(self, notification_id: int) -> None:
        if self._position.advance(notification_id):
            self._progress += 1

    def _abandon_in_flight(self) -> None:
        """Forget what is in flight: its fate is read from the stream on the next resync."""
        for entry in self._in_flight:
            if entry.future.done():
                if not entry.future.cancelled():
                    entry.future.exception()
            else:
                entry.future.cancel()
        self._in_flight.clear()
        if self._pipeline is not None:
            self._pipeline.fail_all(ConnectionLostError("abandoned"))

    def _give_up(self, error: StreamMismatchError) -> None:
        self._failure = self._last_error = error
        self._state = RelayState.FAILED
        logger.error("outbox relay stopped for good: %s", error)
        stopped = RelayStoppedError(f"the relay failed: {error}")
        stopped.__cause__ = error
        self._position.fail(stopped)

    def _retry_delay(self, failures: int) -> float:
        if failures == 0:
            return 0.0
        delay = min(self.settings.max_retry_delay, self.settings.retry_delay * 2.0 ** (failures - 1))
        return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not a secret)

    def _log_retry(self, error: Exception, delay: float) -> None:
        if isinstance(error, PublishRejectedError) and error.is_sequence_conflict:
            self._conflicts += 1
            logger.info("the stream moved on under the relay (%s): resynchronising", error.description)
            return
        if isinstance(error, MaxPayloadError):
            logger.error(
                "the event after notification %d is larger than the NATS server's max_payload: raise max_payload "
                "(the relay retries every %.0f s and cannot skip it without breaking the order)",
                self._position.value,
                self.settings.max_retry_delay,
            )
            return
        logger.warning(
            "outbox relay: %s: %s; resynchronising in %.2f s at notification %d",
            type(error).__name__,
            error,
            delay,
            self._position.value,
        )


def _msg_id(notification: Notification) -> str:
    originator_id = notification.originator_id
    aggregate_id = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    return msg_id_of(aggregate_id, notification.originator_version)


def _refuse_unordered_store(recorder: ApplicationRecorder) -> None:
    """Refuse a PostgreSQL store whose inserts may commit out of notification order."""
    datastore = getattr(recorder, "datastore", None)
    if getattr(datastore, "enable_db_functions", False):
        raise ConfigurationError(
            "the outbox relay needs notification ids in commit order: PostgreSQL's insert functions "
            "(POSTGRES_ENABLE_DB_FUNCTIONS) skip the table lock that guarantees it; turn them off"
        )
