"""Stored-event layout and the hash chain that makes each history prove itself.

Each stored event's state is the msgpack array ``[1, prev, body]``: the layout
version, the SHA-256 *link hash* of the aggregate's previous stored event (32
zero bytes for the first), and the event's fields. The link hash of a stored
event covers its aggregate id, version, topic and state bytes (so also its own
``prev``), which chains every event to all before it: altering, removing,
inserting or reordering a stored event breaks the chain at that point.
Snapshots use the same layout with an empty ``prev``: they are derived data,
outside the chain. ``docs/codec.md`` specifies all of it byte for byte.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Iterator, Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic, resolve_topic

from grid_events.codec import CodecError, MsgpackTranscoder
from grid_events.exceptions import GridEventsError

__all__ = [
    "GENESIS",
    "LAYOUT_VERSION",
    "ChainError",
    "ChainedEventStore",
    "EventMapper",
    "link_hash",
    "split_state",
]

LAYOUT_VERSION = 1
"""Version of the stored-event state layout ``[version, prev, body]``."""

GENESIS = bytes(32)
"""The ``prev`` of an aggregate's first event."""

_HEADER = struct.Struct(">16sQI")


class ChainError(GridEventsError):
    """Raised when an event's predecessor cannot be found to chain it to."""


def link_hash(originator_id: UUID, originator_version: int, topic: str, state: bytes) -> bytes:
    """Return the SHA-256 link hash of one stored event.

    The hashed bytes are the 16 bytes of the aggregate id, the version as an
    unsigned 64-bit big-endian integer, the topic's UTF-8 length as an unsigned
    32-bit big-endian integer, the topic in UTF-8, and the state bytes.
    """
    topic_bytes = topic.encode()
    header = _HEADER.pack(originator_id.bytes, originator_version, len(topic_bytes))
    return hashlib.sha256(b"".join((header, topic_bytes, state))).digest()


def stored_link_hash(stored: StoredEvent) -> bytes:
    """Return :func:`link_hash` of a stored event."""
    return link_hash(_as_uuid(stored.originator_id), stored.originator_version, stored.topic, stored.state)


def split_state(transcoder: MsgpackTranscoder, state: bytes) -> tuple[bytes, dict[str, Any]]:
    """Return ``(prev, body)`` of a stored state, checking its layout."""
    envelope = transcoder.decode(state)
    if (
        not isinstance(envelope, tuple)
        or len(envelope) != 3  # noqa: PLR2004 (the three parts of the layout)
        or envelope[0] != LAYOUT_VERSION
        or not isinstance(envelope[1], bytes)
        or not isinstance(envelope[2], dict)
    ):
        raise CodecError(f"stored state is not a layout-{LAYOUT_VERSION} [version, prev, body] array")
    return envelope[1], envelope[2]


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


class EventMapper(Mapper[UUID]):
    """Maps domain events to stored events in the chained msgpack layout."""

    transcoder: MsgpackTranscoder

    def __init__(self, transcoder: MsgpackTranscoder) -> None:
        super().__init__(transcoder=transcoder)
        self._class_versions: dict[type, int] = {}

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID], prev: bytes = b"") -> StoredEvent:
        """Return the stored form of *domain_event*, chained to *prev*."""
        body = dict(vars(domain_event))
        originator_id = body.pop("originator_id")
        originator_version = body.pop("originator_version")
        event_class = type(domain_event)
        class_version = self._class_versions.get(event_class)
        if class_version is None:
            class_version = self._class_versions[event_class] = getattr(event_class, "class_version", 1)
        if class_version > 1:
            body["class_version"] = class_version
        state = self.transcoder.encode_items(LAYOUT_VERSION, prev, body)
        return StoredEvent(originator_id, originator_version, get_topic(event_class), state)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Return the domain event a stored event holds, upcast to its class's version."""
        cls = resolve_topic(stored_event.topic)
        try:
            _, body = split_state(self.transcoder, stored_event.state)
        except CodecError as e:
            raise CodecError(
                f"cannot decode event {stored_event.originator_id} v{stored_event.originator_version}"
                f" ({stored_event.topic}): {e}"
            ) from e
        body["originator_id"] = _as_uuid(stored_event.originator_id)
        body["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = body.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(body)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", body)
        return cast("DomainEventProtocol[UUID]", domain_event)


class ChainedEventStore(EventStore[UUID]):
    """An event store that chains each new event to its predecessor's link hash.

    The predecessor's hash comes from the same batch, from a bounded cache of
    the last stored event of recently read or written aggregates, or, failing
    both, from one indexed read of the predecessor. The cache only ever holds
    hashes of committed events, which never change, so it is safe to share
    between threads and correct when other processes write too.
    """

    mapper: EventMapper

    def __init__(self, mapper: EventMapper, recorder: AggregateRecorder, cache_size: int = 100_000) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self._heads: dict[UUID, tuple[int, bytes]] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def put(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        **kwargs: Any,  # noqa: ANN401 (passed through to the recorder, as eventsourcing does)
    ) -> list[Recording[UUID]]:
        """Chain and store *domain_events* in one transaction."""
        batch_heads: dict[UUID, tuple[int, bytes]] = {}
        stored_events: list[StoredEvent] = []
        to_stored_event = self.mapper.to_stored_event
        for event in domain_events:
            originator_id = event.originator_id
            version = event.originator_version
            head = batch_heads.get(originator_id)
            if head is not None and head[0] == version - 1:
                prev = head[1]
            elif version == 1:
                prev = GENESIS
            else:
                prev = self.head_hash(originator_id, version - 1)
            stored = to_stored_event(event, prev)
            batch_heads[originator_id] = (version, link_hash(originator_id, version, stored.topic, stored.state))
            stored_events.append(stored)
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        self._remember_all(batch_heads)
        if not notification_ids:
            return []
        return [
            Recording(
                domain_event,
                Notification(
                    stored.originator_id, stored.originator_version, stored.topic, stored.state, notification_id
                ),
            )
            for domain_event, stored, notification_id in zip(
                domain_events, stored_events, notification_ids, strict=True
            )
        ]

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        """Return the aggregate's events, remembering the newest one's link hash."""
        stored_events = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        if stored_events:
            newest = stored_events[0] if desc else stored_events[-1]
            self._remember(originator_id, newest.originator_version, stored_link_hash(newest))
        return map(self.mapper.to_domain_event, stored_events)

    def head_hash(self, originator_id: UUID, version: int) -> bytes:
        """Return the link hash of the stored event *version* of *originator_id*."""
        with self._lock:
            head = self._heads.get(originator_id)
        if head is not None and head[0] == version:
            return head[1]
        found = self.recorder.select_events(originator_id, gt=version - 1, lte=version, limit=1)
        if not found:
            raise ChainError(f"cannot chain a new event of {originator_id}: its version {version} is not stored")
        digest = stored_link_hash(found[0])
        self._remember(originator_id, version, digest)
        return digest

    def _remember(self, originator_id: UUID, version: int, digest: bytes) -> None:
        self._remember_all({originator_id: (version, digest)})

    def _remember_all(self, new_heads: dict[UUID, tuple[int, bytes]]) -> None:
        """Remember the newest ``(version, link hash)`` of each aggregate in *new_heads*, under one lock."""
        with self._lock:
            heads = self._heads
            for originator_id, head in new_heads.items():
                known = heads.get(originator_id)
                if known is None or known[0] <= head[0]:
                    heads[originator_id] = head
            while len(heads) > self._cache_size:
                del heads[next(iter(heads))]
