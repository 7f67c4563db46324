"""Helpers of the transport tests: writing events, reading the stream back, comparing both."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import attrs
import nats
from eventsourcing.persistence import ApplicationRecorder, Notification
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from grid_events import Actor, GridApplication, GridCell, PersonalData, ResidentRecord, Role
from grid_events.transport import ChainVerifier, EventMessage, NatsSettings, RelaySettings, decode_nats_msg
from grid_events.transport.stream import StreamSettings

WORKER = Actor("w-li", Role.GRID_WORKER)
CELLS = (GridCell("江南", "飞凤", "03"), GridCell("江南", "飞凤", "05"))
PERSON = PersonalData(name="张秀英", id_number="11010519491231002X")


def fast_relay_settings(nats_settings: NatsSettings, **changes: Any) -> RelaySettings:
    """Relay settings with short timeouts, so failures are noticed and retried quickly."""
    settings = RelaySettings(
        nats=nats_settings,
        ack_timeout=2.0,
        poll_interval=0.2,
        retry_delay=0.05,
        max_retry_delay=0.5,
        stop_timeout=2.0,
    )
    return attrs.evolve(settings, **changes)


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EventWriter:
    """Stores events through the resident commands: bulk imports and single transfers.

    Each cycle of :meth:`write` imports a few residents in one save (several
    events, several aggregates, one transaction) and transfers residents one
    save each, round robin, so the log interleaves many aggregates.
    """

    def __init__(self, app: GridApplication, *, import_size: int = 20) -> None:
        self.app = app
        self.import_size = import_size
        self.cells: dict[UUID, int] = {}
        self._turn = 0

    def write(self, events: int) -> int:
        """Store about *events* events (at least that many); return the last notification id."""
        written = 0
        while written < events:
            if not self.cells or written % 100 == 0:
                ids = self.app.import_residents([ResidentRecord(PERSON, CELLS[0])] * self.import_size, actor=WORKER)
                self.cells.update(dict.fromkeys(ids, 0))
                written += len(ids)
                continue
            residents = list(self.cells)
            resident_id = residents[self._turn % len(residents)]
            self._turn += 1
            cell = 1 - self.cells[resident_id]
            self.app.transfer_resident(resident_id, CELLS[cell], actor=WORKER, reason="moved")
            self.cells[resident_id] = cell
            written += 1
        return self.app.recorder.max_notification_id() or 0

    def write_until(self, stop: threading.Event, chunk: int = 50) -> int:
        """Store events, *chunk* at a time, until *stop* is set; return the last notification id."""
        last = 0
        while not stop.is_set():
            last = self.write(chunk)
        return last


def all_notifications(recorder: ApplicationRecorder) -> list[Notification]:
    """Return every notification of the store, in order."""
    notifications: list[Notification] = []
    while True:
        start = notifications[-1].id if notifications else 0
        batch = recorder.select_notifications(start, 5000, inclusive_of_start=False)
        if not batch:
            return notifications
        notifications.extend(batch)


async def read_stream(url: str, stream: StreamSettings | None = None, **options: Any) -> list[EventMessage]:
    """Return every message of the stream, decoded and checked, in stream order (*options*: of nats.connect)."""
    stream = stream or StreamSettings()
    client = await nats.connect(url, **options)
    try:
        js = client.jetstream()
        try:
            total = (await js.stream_info(stream.name)).state.messages
        except nats.js.errors.NotFoundError:
            return []
        messages: list[EventMessage] = []
        if total:
            subscription = await js.pull_subscribe(
                stream.subjects,
                stream=stream.name,
                config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
            )
            while len(messages) < total:
                batch = await subscription.fetch(min(1000, total - len(messages)), timeout=5)
                messages.extend(decode_nats_msg(msg) for msg in batch)
            await subscription.unsubscribe()
        return messages
    finally:
        await client.close()


async def stream_count(url: str, stream: str = "GRID_EVENTS") -> int:
    """Return how many messages the stream holds (0 if it does not exist yet)."""
    client = await nats.connect(url)
    try:
        try:
            info = await client.jetstream().stream_info(stream)
        except nats.js.errors.NotFoundError:
            return 0
        return int(info.state.messages)
    finally:
        await client.close()


def assert_stream_is_the_store(messages: Sequence[EventMessage], recorder: ApplicationRecorder) -> None:
    """Check the stream holds every stored event once, in notification order, byte for byte, chained."""
    notifications = all_notifications(recorder)
    assert [n.id for n in notifications] == [m.notification_id for m in messages]
    assert list(range(1, len(messages) + 1)) == [m.stream_sequence for m in messages]
    assert len(messages) == len({m.msg_id for m in messages})
    for notification, message in zip(notifications, messages, strict=True):
        assert notification.state == message.state
        assert notification.topic == message.topic
        assert (notification.originator_id, notification.originator_version) == (
            message.aggregate_id,
            message.aggregate_version,
        )
    verifier = ChainVerifier()
    assert all(verifier.check(message) for message in messages)


async def wait_until(probe: Callable[[], Awaitable[bool]], *, within: float, interval: float = 0.01) -> None:
    """Wait until *probe* returns true, for at most *within* seconds."""
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within} s")
        await asyncio.sleep(interval)
