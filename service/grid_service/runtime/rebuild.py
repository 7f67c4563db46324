"""Rebuild a view from the start of the stream into a fresh generation, while the old one keeps serving.

:class:`Rebuild` asks the engine for a new generation of the view's tables
(``begin_rebuild``), reads the stream from sequence 1 with an ephemeral pull
consumer of its own (no acknowledgements; in order; a hole makes it start again
from where it got), and applies the messages to the new generation. The live
consumer goes on feeding the old generation meanwhile, and readers keep
reading it. Once the new generation has caught up with the live one, the
rebuild takes the live consumer's lock (so no batch is half applied), catches
up the last few messages, and switches readers over in one transaction
(``finish_rebuild``); the live consumer then carries on from the new
generation's position.

Dead letters: a message the live view moved past (policy ``skip``) is passed
over again. Any other message that fails is retried with the backoff
schedule; then, with policy ``skip`` it becomes a dead letter and is passed
over, with ``stop`` the rebuild fails and the old generation stays in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs
import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from grid_events.transport import WireFormatError, decode_nats_msg
from grid_service.runtime.consumer import ProjectionConsumer
from grid_service.runtime.link import NatsLink, StoppingError, sleep_unless
from grid_service.runtime.pull import PullConflictError, Puller
from grid_service.runtime.settings import PoisonPolicy, ServiceSettings
from grid_service.runtime.writer import Writer
from grid_service.views.base import Delivery, ProjectionFailed, ProjectionState, RunState
from grid_service.views.engine import ProjectionEngine

__all__ = ["Rebuild", "RebuildFailedError", "RebuildState", "RebuildStatus"]

logger = logging.getLogger("grid_service.runtime")

REBUILD_BATCH = 1000
"""Messages fetched and applied to the new generation at a time."""
_SWITCH_PATIENCE = 30.0
"""Seconds the rebuild may hold the live consumer while it catches up the last messages."""


class RebuildState(enum.StrEnum):
    """Where a rebuild is."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@attrs.define
class RebuildStatus:
    """One rebuild's progress, for the admin API."""

    projection: str
    generation: int = 0
    state: RebuildState = RebuildState.RUNNING
    started_at: datetime = attrs.Factory(lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    position: int = 0
    """The last stream sequence applied to the new generation."""
    target: int = 0
    """The live view's position the rebuild is catching up with."""
    applied: int = 0
    passed_over: list[int] = attrs.Factory(list)
    """Stream sequences of dead letters the new generation passed over."""
    error: str = ""


class RebuildFailedError(Exception):
    """A rebuild could not finish; the view keeps its old generation."""


class Rebuild:
    """Rebuilds one view (run :meth:`run` once)."""

    def __init__(
        self,
        live: ProjectionConsumer,
        link: NatsLink,
        settings: ServiceSettings,
        *,
        writer: Writer,
        stop: asyncio.Event,
    ) -> None:
        self.name = live.name
        self.status = RebuildStatus(projection=live.name)
        self._live = live
        self._engine: ProjectionEngine = live.engine
        self._link = link
        self._settings = settings
        self._writer = writer
        self._stop = stop
        self._subscription: Puller | None = None
        self._consumer_name = ""
        self._switched = False
        """Whether the switch-over to the new generation committed (then it is not to be abandoned)."""
        self.begun = asyncio.Event()
        """Set once the new generation exists (its number is in the status)."""

    async def run(self) -> RebuildStatus:
        """Rebuild the view; return the final status (``finished``, or ``failed`` with the error)."""
        logger.info("view %s: rebuild started", self.name)
        before: ProjectionState | None = None
        try:
            before = await self._writer.call(self._engine.state, self.name)
            self.status.generation = await self._writer.call(self._engine.begin_rebuild, self.name)
            self.begun.set()
            await self._fill()
        except StoppingError:
            await self._abandon(before, "the service stopped before the rebuild finished; start it again")
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon(before, "the rebuild was cancelled"))
            raise
        except Exception as e:  # noqa: BLE001 (reported in the status and the log; the old generation stays)
            await self._abandon(before, f"{type(e).__name__}: {e}")
        else:
            self.status.state = RebuildState.FINISHED
            self.status.finished_at = datetime.now(UTC)
            logger.info(
                "view %s: rebuilt generation %d up to sequence %d (%d events) in %.1f s",
                self.name,
                self.status.generation,
                self.status.position,
                self.status.applied,
                (self.status.finished_at - self.status.started_at).total_seconds(),
            )
        finally:
            await self._unsubscribe()
        return self.status

    async def _abandon(self, before: ProjectionState | None, error: str) -> None:
        """Drop the new generation and put the view back as it was (stopped views stay stopped).

        Once the switch-over committed, the new generation is the view: nothing is dropped, and the rebuild
        is reported finished, with what went wrong afterwards in the log.
        """
        if self._switched:
            self.status.state = RebuildState.FINISHED
            self.status.finished_at = datetime.now(UTC)
            logger.warning("view %s: rebuilt and switched over, then: %s", self.name, error)
            try:
                await self._live.refresh()
            except Exception:  # the live consumer reads its state again when it wakes
                logger.warning("view %s: could not refresh the live view after the switch", self.name, exc_info=True)
            self._live.wake()
            return
        self.status.state = RebuildState.FAILED
        self.status.error = error
        self.status.finished_at = datetime.now(UTC)
        logger.error("view %s: rebuild failed, the view keeps its current generation: %s", self.name, error)
        if not self.status.generation:
            return
        try:
            await self._writer.call(self._engine.abandon_rebuild, self.name, self.status.generation)
            if before is not None and before.state is RunState.STOPPED:
                await self._writer.call(self._engine.set_state, self.name, RunState.STOPPED, before.reason)
            await self._live.refresh()
        except Exception:
            # The next rebuild (or the next start) drops the generation: report, and leave it.
            logger.warning("view %s: could not drop generation %d", self.name, self.status.generation, exc_info=True)
        self._live.wake()

    # -- filling the new generation --------------------------------------------------------------

    async def _fill(self) -> None:
        while True:
            messages = await self._next()
            if messages:
                await self._apply(messages)
                continue
            # The stream has nothing more for now: switch over if the new generation is as far as the live one.
            self.status.target = await self._writer.call(self._engine.position, self.name)
            if self.status.position >= self.status.target:
                if await self._switch():
                    return
            else:
                await self._check_stream_reaches(self.status.target)

    async def _check_stream_reaches(self, target: int) -> None:
        """Fail if the stream ends before the live view's position: the rebuild could never catch up."""
        js = await self._link.jetstream()
        last = int((await js.stream_info(self._settings.stream.name)).state.last_seq or 0)
        if last < target:
            raise RebuildFailedError(
                f"the stream ends at sequence {last}, before the live view ({target}): it was replaced or lost "
                "messages; let the outbox relay refill it, then rebuild"
            )

    async def _switch(self) -> bool:
        """Hold the live consumer, catch up the last messages, switch readers; False to try again later."""
        deadline = time.monotonic() + _SWITCH_PATIENCE
        async with self._live.lock:
            live_position = await self._writer.call(self._engine.position, self.name)
            self.status.target = live_position
            while self.status.position < live_position:
                if time.monotonic() > deadline:
                    return False
                messages = await self._next()
                if messages:
                    await self._apply(messages)
            await self._writer.call(self._engine.finish_rebuild, self.name, self.status.generation)
            self._switched = True
            await self._live.refresh()
        # The live consumer resumes after the new generation's position (or, if it was stopped, starts again).
        self._live.wake()
        return True

    async def _next(self) -> list[Msg]:
        if self._stop.is_set():
            raise StoppingError
        if self._subscription is None:
            self._subscription = await self._subscribe(self.status.position + 1)
        try:
            return await asyncio.wait_for(
                self._subscription.fetch(REBUILD_BATCH, timeout=self._settings.fetch_timeout),
                timeout=2 * self._settings.fetch_timeout + 11.0,
            )
        except TimeoutError:  # the connection is away: nothing for now
            return []
        except (PullConflictError, nats.errors.Error) as e:
            # The consumer went away (a NATS restart, a leader change): read on from where we got, anew.
            logger.info("view %s rebuild: %s; reading on from sequence %d", self.name, e, self.status.position + 1)
            await self._unsubscribe()
            await sleep_unless(self._stop, self._settings.retry_delay)
            return []

    async def _subscribe(self, start: int) -> Puller:
        """Create an ephemeral consumer of our own from *start* (deleted when done; idle ones expire)."""
        client = await self._link.connection()
        js = client.jetstream()
        self._consumer_name = f"{self._settings.consumer_prefix}-rebuild-{self.name}-{uuid.uuid4().hex[:12]}"
        config = ConsumerConfig(
            name=self._consumer_name,
            description=f"grid_events rebuild of view {self.name}",
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            filter_subject=self._settings.stream.subjects,
            inactive_threshold=60.0,
            mem_storage=True,
        )
        await js.add_consumer(self._settings.stream.name, config=config)
        puller = Puller(client, self._settings.stream.name, self._consumer_name)
        await puller.open()
        return puller

    async def _unsubscribe(self) -> None:
        subscription, self._subscription = self._subscription, None
        name, self._consumer_name = self._consumer_name, ""
        if subscription is not None:
            await subscription.close()
        if name:
            with contextlib.suppress(Exception):
                js = await asyncio.wait_for(self._link.jetstream(), timeout=2.0)
                await asyncio.wait_for(js.delete_consumer(self._settings.stream.name, name), timeout=2.0)

    async def _apply(self, messages: Sequence[Msg]) -> None:
        deliveries: list[Delivery] = []
        for msg in messages:
            sequence = int(msg.metadata.sequence.stream)
            expected = (deliveries[-1].stream_sequence if deliveries else self.status.position) + 1
            if sequence < expected:
                continue
            if sequence > expected:
                await self._apply_deliveries(deliveries)
                logger.info(
                    "view %s rebuild: expected sequence %d, got %d: reading again", self.name, expected, sequence
                )
                await self._unsubscribe()
                return
            try:
                deliveries.append(Delivery(stream_sequence=sequence, message=decode_nats_msg(msg)))
            except WireFormatError as e:
                await self._apply_deliveries(deliveries)
                deliveries = []
                await self._pass_over(msg, sequence, e, attempts=1)
        await self._apply_deliveries(deliveries)

    async def _apply_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        pending = list(deliveries)
        while pending:
            try:
                applied = await self._writer.call(
                    self._engine.apply_to_generation, self.name, self.status.generation, pending
                )
            except ProjectionFailed as failure:
                index = next(i for i, d in enumerate(pending) if d.stream_sequence == failure.delivery.stream_sequence)
                if index:
                    self._advance(pending[index - 1].stream_sequence, index)
                await self._retry(pending[index], failure)
                pending = pending[index + 1 :]
            else:
                self._advance(pending[-1].stream_sequence, applied)
                return

    def _advance(self, sequence: int, applied: int) -> None:
        self.status.position = sequence
        self.status.applied += applied

    async def _retry(self, delivery: Delivery, failure: ProjectionFailed) -> None:
        error: BaseException = failure.error
        kind = failure.kind
        attempts = 1
        if not await self._skipped_by_live_view(delivery.stream_sequence):
            while kind == "project" and attempts < self._settings.max_deliver:
                attempts += 1
                await sleep_unless(self._stop, self._settings.delay_before_attempt(attempts))
                try:
                    applied = await self._writer.call(
                        self._engine.apply_to_generation, self.name, self.status.generation, [delivery]
                    )
                except ProjectionFailed as again:
                    error, kind = again.error, again.kind
                else:
                    self._advance(delivery.stream_sequence, applied)
                    return
        message = delivery.message
        await self._pass_over_event(
            delivery.stream_sequence,
            subject=message.subject,
            headers=_headers_of(delivery),
            data=message.state,
            error=error,
            attempts=attempts,
        )

    async def _pass_over(self, msg: Msg, sequence: int, error: BaseException, *, attempts: int) -> None:
        await self._pass_over_event(
            sequence,
            subject=msg.subject,
            headers=dict(msg.headers or {}),
            data=msg.data,
            error=error,
            attempts=attempts,
        )

    async def _pass_over_event(
        self,
        sequence: int,
        *,
        subject: str,
        headers: dict[str, str],
        data: bytes,
        error: BaseException,
        attempts: int,
    ) -> None:
        """Pass over a message that failed: as the live view did, or as the policy says; else fail the rebuild."""
        text = f"{type(error).__name__}: {error}"
        if not await self._skipped_by_live_view(sequence):
            if self._settings.poison_policy is not PoisonPolicy.SKIP:
                raise RebuildFailedError(
                    f"stream sequence {sequence} ({subject}) failed after {attempts} attempt(s): {text}; "
                    "fix the projection, or rebuild with the skip policy"
                )
            await self._writer.call(
                self._engine.record_dead_letter, self.name, sequence, subject, headers, data, text, attempts
            )
        # Moves the new generation's position past it (and marks the dead letter skipped).
        await self._writer.call(self._engine.skip, self.name, sequence, text, generation=self.status.generation)
        self.status.passed_over.append(sequence)
        self._advance(sequence, 0)

    async def _skipped_by_live_view(self, sequence: int) -> bool:
        """Whether the live view moved past *sequence* as a dead letter."""
        live_position = await self._writer.call(self._engine.position, self.name)
        if sequence > live_position:
            return False
        letters = await self._writer.call(self._engine.dead_letters, self.name)
        return any(letter.stream_sequence == sequence for letter in letters)


def _headers_of(delivery: Delivery) -> dict[str, str]:
    message = delivery.message
    return {
        "Grid-Event-Topic": message.topic,
        "Grid-Aggregate-Id": str(message.aggregate_id),
        "Grid-Aggregate-Version": str(message.aggregate_version),
        "Grid-Notification-Id": str(message.notification_id),
    }
