"""Deliveries straight from an event store, as the relay would have put them on the stream.

The relay publishes the store's events in notification order, the k-th event
at stream sequence k (``docs/transport.md``). :func:`deliveries_from_store`
reads the store the same way and builds each message exactly as the relay
does — the same body bytes, the same headers — and checks it with
:func:`grid_events.transport.decode_message`, so a view fed from here is the
view a consumer of the stream gets. Use it to rebuild a view without NATS (an
offline rebuild, a test, a benchmark); the service itself is fed by the
stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol
from uuid import UUID

from grid_events import link_hash
from grid_events.transport import CONTENT_TYPE, Header, decode_message, kind_of_topic
from grid_service.views.base import Delivery

__all__ = ["NotificationSource", "StoredNotification", "deliveries_from_store", "notification_deliveries"]

SUBJECT_PREFIX = "grid.events"
"""The relay's default subject prefix."""


class StoredNotification(Protocol):
    """What is read of one notification of the event store (eventsourcing's ``Notification``)."""

    @property
    def id(self) -> int:
        """The notification id: the event's place in the store's log."""
        ...

    @property
    def originator_id(self) -> UUID | str:
        """The aggregate's id."""
        ...

    @property
    def originator_version(self) -> int:
        """The event's version in its aggregate."""
        ...

    @property
    def topic(self) -> str:
        """The event's class, ``module:Class.Event``."""
        ...

    @property
    def state(self) -> bytes:
        """The stored state bytes."""
        ...


class NotificationSource(Protocol):
    """An event store's recorder (``app.recorder``): its log, in notification order."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[StoredNotification]:
        """Return up to *limit* notifications from *start*, in order."""
        ...


def relay_headers(notification: StoredNotification) -> dict[str, str]:
    """Return the headers the relay puts on the message of *notification* (``docs/transport.md``)."""
    aggregate_id = _uuid(notification.originator_id)
    version = notification.originator_version
    return {
        Header.MSG_ID: f"{aggregate_id}:{version}",
        Header.CONTENT_TYPE: CONTENT_TYPE,
        Header.LAYOUT_VERSION: "1",
        Header.CODEC_VERSION: "1",
        Header.NOTIFICATION_ID: str(notification.id),
        Header.TOPIC: notification.topic,
        Header.AGGREGATE_ID: str(aggregate_id),
        Header.AGGREGATE_VERSION: str(version),
        Header.LINK_HASH: link_hash(aggregate_id, version, notification.topic, notification.state).hex(),
    }


def notification_deliveries(
    notifications: Iterable[StoredNotification], *, first_sequence: int = 1, prefix: str = SUBJECT_PREFIX
) -> list[Delivery]:
    """Return a delivery per notification, at stream sequences *first_sequence*, *first_sequence* + 1, and so on."""
    deliveries = []
    for sequence, notification in enumerate(notifications, start=first_sequence):
        aggregate_id = _uuid(notification.originator_id)
        subject = f"{prefix}.{kind_of_topic(notification.topic)}.{aggregate_id}"
        message = decode_message(
            relay_headers(notification), notification.state, subject=subject, stream_sequence=sequence
        )
        deliveries.append(Delivery(sequence, message))
    return deliveries


def deliveries_from_store(
    recorder: NotificationSource, *, after: int = 0, batch_size: int = 500, prefix: str = SUBJECT_PREFIX
) -> Iterator[list[Delivery]]:
    """Yield the store's events as deliveries, *batch_size* at a time, from stream sequence *after* + 1.

    Stream sequence k is the store's k-th notification (notification ids may
    have gaps; stream sequences never do).
    """
    sequence = 0
    cursor: int | None = None
    while True:
        batch = recorder.select_notifications(
            cursor, batch_size * 4 if sequence < after else batch_size, inclusive_of_start=cursor is None
        )
        if not batch:
            return
        cursor = batch[-1].id
        wanted = [n for index, n in enumerate(batch, start=sequence + 1) if index > after]
        first = sequence + 1 + len(batch) - len(wanted)
        sequence += len(batch)
        if wanted:
            yield notification_deliveries(wanted, first_sequence=first, prefix=prefix)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
