"""One durable pull consumer per view: fetch, decode, apply in one transaction, then acknowledge.

Exactly once comes from the engine: it writes a batch's view rows and the
view's position (the last stream sequence applied) in one transaction and
skips anything at or below the position. The consumer acknowledges a message
only after the transaction that applied it has committed, so a crash between
the two only causes a redelivery, which changes nothing.

Order matters to a view (a task is assigned before it is closed), so the
consumer applies messages strictly in stream order and never lets one overtake
another:

* The view's position, not the consumer's acknowledgement floor, says where
  to resume. On every start (and after anything unexpected) the durable
  consumer is created afresh to deliver from ``position + 1``.
* A failing message is retried *in place*, after the delays of the backoff
  schedule, while the rest of its batch waits (NATS is told the messages are
  still being worked on). A ``nak`` with a delay would let the next messages be
  delivered, and applied, before it.
* A delivery that is not the next sequence (a hole after a redelivery quirk)
  makes the consumer start again from the position: nothing is ever applied
  out of order.

Batches come through :class:`~grid_service.runtime.pull.Puller` (the pull
protocol without nats-py's per-message tasks); the next one is fetched while
the one before is committed.

After ``max_deliver`` attempts (at once for a message that cannot be read),
the message becomes a dead letter, recorded with its error, subject, headers,
body and attempts; then the view stops (policy ``stop``: it says why until an
operator resumes, skips or rebuilds it) or moves past it (policy ``skip``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import attrs
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from grid_events.transport import WireFormatError
from grid_service.runtime.decoding import MessageReader
from grid_service.runtime.link import NatsLink, StoppingError, sleep_unless
from grid_service.runtime.metrics import ServiceMetrics
from grid_service.runtime.pull import Puller
from grid_service.runtime.settings import PoisonPolicy, ServiceSettings
from grid_service.runtime.writer import Writer
from grid_service.views.base import Delivery, ProjectionFailed, ProjectionOutdatedError, ProjectionState, RunState
from grid_service.views.engine import ProjectionEngine

__all__ = ["ProjectionConsumer", "ProjectionStatus"]

logger = logging.getLogger("grid_service.runtime")

_STREAM_NOT_FOUND = 10059


@attrs.define
class ProjectionStatus:
    """What one view's consumer is doing, for readiness, metrics and the admin API."""

    name: str
    consumer: str
    state: str = "starting"
    """``running``, ``stopped`` or ``rebuilding`` (the engine's), or ``starting`` before the first look."""
    reason: str = ""
    """Why the view is stopped (the dead letter that stopped it), or what the consumer waits for."""
    position: int = 0
    """The last stream sequence applied to the view."""
    stream_last_sequence: int = 0
    """The stream's last sequence as last seen (from the stream or the messages' pending counts)."""
    consuming: bool = False
    """Whether the durable consumer is bound and fetching."""
    applied: int = 0
    duplicates: int = 0
    """Redelivered messages acknowledged without applying them again."""
    dead_letters: int = 0
    retries: int = 0
    resyncs: int = 0
    last_error: str = ""

    @property
    def lag(self) -> int:
        """Messages in the stream not yet applied to the view (0 once caught up)."""
        return max(0, self.stream_last_sequence - self.position)

    @property
    def caught_up(self) -> bool:
        """Whether the view has applied everything the stream was last seen to hold."""
        return self.lag == 0

    def note_stream_end(self, last_sequence: int) -> None:
        """Record that the stream holds at least *last_sequence* messages."""
        self.stream_last_sequence = max(self.stream_last_sequence, last_sequence)


class _ResyncError(Exception):
    """Start again from the view's position: something was not where it should be."""


class _StoppedError(Exception):
    """The view was stopped (by a dead letter): wait until an operator resumes it."""


_Held = tuple[Delivery, Msg]


class ProjectionConsumer:
    """Feeds one view from its durable pull consumer, in stream order, each message once."""

    def __init__(
        self,
        name: str,
        engine: ProjectionEngine,
        link: NatsLink,
        settings: ServiceSettings,
        *,
        writer: Writer,
        lock: asyncio.Lock,
        metrics: ServiceMetrics,
        stop: asyncio.Event,
        reader: MessageReader | None = None,
    ) -> None:
        self.name = name
        self.engine = engine
        self.settings = settings
        self.status = ProjectionStatus(name=name, consumer=settings.consumer_name(name))
        self.lock = lock
        """Held while a batch is applied; a rebuild takes it to switch generations between two batches."""
        self._link = link
        self._writer = writer
        self._metrics = metrics
        self._stop = stop
        self._reader = reader or MessageReader(size=0)
        self._wake = asyncio.Event()

    # -- control -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the view's state again now (after an operator resumed or skipped it)."""
        self._wake.set()

    async def refresh(self) -> None:
        """Read the view's state and position from the engine."""
        state: ProjectionState = await self._writer.call(self.engine.state, self.name)
        self.status.state = state.state.value
        self.status.reason = state.reason
        self.status.position = state.position

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until the service stops; survive NATS and database failures by retrying."""
        failures = 0
        while not self._stop.is_set():
            try:
                await self.refresh()
                if self.status.state == "stopped":
                    self.status.consuming = False
                    await self._wait_for_wake()
                    continue
                await self._consume()
                failures = 0
            except StoppingError:
                break
            except _ResyncError as e:
                self.status.resyncs += 1
                logger.info("view %s: starting again from sequence %d (%s)", self.name, self.status.position + 1, e)
            except _StoppedError:
                continue
            except ProjectionOutdatedError as e:
                # The view's tables were built by another version of the projection: only a rebuild helps.
                self.status.consuming = False
                self.status.reason = str(e)
                try:
                    await self._wait_for_wake()
                except StoppingError:
                    break
            except Exception as e:  # noqa: BLE001 (NATS or the view store failed: report, wait, retry for ever)
                failures += 1
                self.status.consuming = False
                self.status.last_error = f"{type(e).__name__}: {e}"
                delay = min(self.settings.max_retry_delay, self.settings.retry_delay * 2 ** min(failures - 1, 16))
                level = logging.WARNING if failures < 3 or failures % 50 == 0 else logging.DEBUG  # noqa: PLR2004
                logger.log(level, "view %s: %s; retrying in %.1f s", self.name, self.status.last_error, delay)
                try:
                    await sleep_unless(self._stop, delay)
                except StoppingError:
                    break
        self.status.consuming = False

    async def _wait_for_wake(self) -> None:
        self._wake.clear()
        stopping = asyncio.ensure_future(self._stop.wait())
        waking = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((stopping, waking), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            waking.cancel()
        if self._stop.is_set():
            raise StoppingError

    async def _consume(self) -> None:
        client = await self._link.connection()
        subscription = await self._bind(client)
        self.status.consuming = True
        self.status.last_error = ""
        # The next batch is fetched (and read) while the one before is applied and committed: the commit
        # waits on the disk, the fetch on the network. One fetch at a time, batches applied in order.
        fetching: asyncio.Task[list[Msg]] | None = asyncio.create_task(self._fetch(subscription))
        try:
            while fetching is not None:
                messages = await fetching
                fetching = None
                if self._wake.is_set():
                    self._wake.clear()
                    raise _ResyncError("asked to look again")
                if not self._stop.is_set():
                    fetching = asyncio.create_task(self._fetch(subscription))
                if messages:
                    await self._handle(messages)
                else:
                    # Nothing pending for this consumer: the view has everything the stream holds.
                    self.status.note_stream_end(self.status.position)
            # Stopping: apply what the requests still open deliver, rather than leave it unacknowledged.
            last = await subscription.drain(self.settings.fetch_timeout)
            if last:
                await self._handle(last)
        finally:
            self.status.consuming = False
            if fetching is not None:
                # Messages fetched but not applied stay unacknowledged: the next consumer delivers them again.
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetching
            await subscription.close()

    async def _bind(self, client: Client) -> Puller:
        """(Re)create the durable consumer so that it delivers from the view's position + 1, and bind to it."""
        js = client.jetstream()
        stream = self.settings.stream.name
        durable = self.status.consumer
        config = ConsumerConfig(
            name=durable,
            durable_name=durable,
            description=f"grid_events view {self.name}",
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.status.position + 1,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.ack_wait,
            # The consumer itself decides when a message is a dead letter; the server must never give up on one
            # (it would leave a hole in the view).
            max_deliver=-1,
            max_ack_pending=max(2 * self.settings.batch_size, 1000),
            filter_subject=self.settings.stream.subjects,
        )
        try:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(stream, durable)
            await js.add_consumer(stream, config=config)
        except nats.js.errors.NotFoundError as e:
            if getattr(e, "err_code", None) in {None, _STREAM_NOT_FOUND}:
                self.status.reason = f"waiting for the stream {stream} (is the outbox relay running?)"
                raise RuntimeError(self.status.reason) from e
            raise
        self.status.reason = ""
        logger.info("view %s: consuming %s from sequence %d", self.name, stream, self.status.position + 1)
        puller = Puller(client, stream, durable)
        await puller.open()
        return puller

    async def _fetch(self, subscription: Puller) -> list[Msg]:
        """Return the next messages: those there now, else the first within ``fetch_timeout`` ([] if none)."""
        try:
            return await asyncio.wait_for(
                subscription.fetch(self.settings.batch_size, timeout=self.settings.fetch_timeout),
                timeout=2 * self.settings.fetch_timeout + 11.0,
            )
        except TimeoutError:  # the connection is away: nothing for now
            return []

    # -- a batch -------------------------------------------------------------------------------

    async def _handle(self, messages: Sequence[Msg]) -> None:
        """Apply *messages* in order: duplicates acknowledged, holes resynchronised, poison handled."""
        held: list[_Held] = []
        expected = self.status.position + 1
        for msg in messages:
            metadata = msg.metadata
            sequence = int(metadata.sequence.stream)
            self.status.note_stream_end(sequence + int(metadata.num_pending or 0))
            if sequence < expected:
                await msg.ack()  # applied already (its transaction committed): a redelivery
                self.status.duplicates += 1
                continue
            if sequence > expected:
                await self._apply(held)
                raise _ResyncError(f"expected sequence {expected}, was delivered {sequence}")
            try:
                message = self._reader.read(msg, sequence)
            except WireFormatError as e:
                await self._apply(held)
                held = []
                await self._dead_letter(msg, sequence, e, kind="wire", attempts=1)
            else:
                held.append((Delivery(stream_sequence=sequence, message=message), msg))
            expected = sequence + 1
        await self._apply(held)

    async def _apply(self, held: list[_Held]) -> None:
        """Apply *held* in one transaction, then acknowledge; a failing message is retried in place."""
        while held:
            deliveries = [delivery for delivery, _ in held]
            started = time.perf_counter()
            try:
                async with self.lock:
                    self._check_position(deliveries[0].stream_sequence)
                    applied = await self._writer.call(self.engine.apply, self.name, deliveries)
            except ProjectionFailed as failure:
                index = _index_of(held, failure.delivery.stream_sequence)
                await self._committed(held[:index], index)
                await self._retry(held[index], failure, waiting=held[index + 1 :])
                held = held[index + 1 :]
            else:
                self._metrics.observe_batch(self.name, time.perf_counter() - started, len(deliveries))
                await self._committed(held, applied)
                return

    def _check_position(self, first_sequence: int) -> None:
        # A rebuild may have switched the view to a generation that is further on: skip what it has.
        if first_sequence <= self.status.position:
            raise _ResyncError(f"the view moved on to sequence {self.status.position} (a rebuild switched over)")

    async def _committed(self, held: Sequence[_Held], applied: int) -> None:
        """Acknowledge *held*, whose transaction has committed."""
        if not held:
            return
        for _, msg in held:
            await msg.ack()
        self.status.position = held[-1][0].stream_sequence
        self.status.applied += applied
        self.status.duplicates += len(held) - applied
        self._metrics.count_applied(self.name, applied)

    async def _retry(self, failing: _Held, failure: ProjectionFailed, *, waiting: Sequence[_Held]) -> None:
        """Try *failing* again with backoff; apply it, or make it a dead letter after ``max_deliver`` attempts."""
        delivery, msg = failing
        error: BaseException = failure.error
        kind: str = failure.kind
        attempts = 1
        while kind == "project" and attempts < self.settings.max_deliver:
            attempts += 1
            delay = self.settings.delay_before_attempt(attempts)
            self.status.retries += 1
            self.status.last_error = f"sequence {delivery.stream_sequence}: {type(error).__name__}: {error}"
            logger.warning(
                "view %s: sequence %d failed (%s); attempt %d of %d in %.1f s",
                self.name,
                delivery.stream_sequence,
                self.status.last_error,
                attempts,
                self.settings.max_deliver,
                delay,
            )
            await self._hold(delay, [msg, *(held_msg for _, held_msg in waiting)])
            try:
                async with self.lock:
                    applied = await self._writer.call(self.engine.apply, self.name, [delivery])
            except ProjectionFailed as again:
                error, kind = again.error, again.kind
            else:
                self.status.last_error = ""
                await self._committed([failing], applied)
                return
        await self._dead_letter(msg, delivery.stream_sequence, error, kind=kind, attempts=attempts)

    async def _hold(self, delay: float, messages: Sequence[Msg]) -> None:
        """Wait *delay* seconds, telling NATS that *messages* are still being worked on."""
        deadline = time.monotonic() + delay
        keep_alive = max(1.0, self.settings.ack_wait / 3)
        while True:
            for msg in messages:
                await msg.in_progress()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await sleep_unless(self._stop, min(remaining, keep_alive))

    async def _dead_letter(self, msg: Msg, sequence: int, error: BaseException, *, kind: str, attempts: int) -> None:
        """Record *msg* as a dead letter, then stop the view or skip the message, as the policy says.

        Stopping leaves *msg* and the messages after it unacknowledged: they are delivered again once an
        operator resumes the view.
        """
        text = f"{type(error).__name__}: {error}"
        headers: dict[str, Any] = dict(msg.headers or {})
        logger.error(
            "view %s: sequence %d (%s) is a dead letter after %d attempt(s): %s",
            self.name,
            sequence,
            msg.subject,
            attempts,
            text,
        )
        if self.settings.poison_policy is PoisonPolicy.SKIP:
            async with self.lock:
                await self._writer.call(
                    self.engine.record_dead_letter, self.name, sequence, msg.subject, headers, msg.data, text, attempts
                )
                await self._writer.call(self.engine.skip, self.name, sequence, text)
            self._count_dead_letter(kind)
            await msg.ack()
            self.status.position = sequence
            self.status.last_error = ""
            return
        what = "read" if kind in {"wire", "decode"} else "projected"
        reason = (
            f"stopped at stream sequence {sequence} ({msg.subject}): it could not be {what} after {attempts} "
            f"attempt(s): {text}. See GET /admin/dead-letters; then fix the cause and resume the view, "
            "skip the message, or rebuild the view"
        )
        async with self.lock:
            await self._writer.call(
                self.engine.record_dead_letter, self.name, sequence, msg.subject, headers, msg.data, text, attempts
            )
            await self._writer.call(self.engine.set_state, self.name, RunState.STOPPED, reason)
        self._count_dead_letter(kind)
        self.status.state = "stopped"
        self.status.reason = reason
        self.status.last_error = text
        raise _StoppedError(reason)

    def _count_dead_letter(self, kind: str) -> None:
        self.status.dead_letters += 1
        self._metrics.count_dead_letter(self.name, kind)


def _index_of(held: Sequence[_Held], sequence: int) -> int:
    for index, (delivery, _) in enumerate(held):
        if delivery.stream_sequence == sequence:
            return index
    raise RuntimeError(f"the engine reported a failure at sequence {sequence}, which was not in the batch")
