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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
_NOT_IN_BODY = frozenset({"originator_id", "originator_version"})
_LAYOUTS = 1024
"""Most layouts (event class and order of its fields) a mapper keeps compiled encoders of."""
_Layout = tuple[str, Callable[[int, bytes, Mapping[str, Any]], bytes]]


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
        # (event class, its fields in order) -> (topic, state encoder), and each class's latest layout.
        self._layouts: dict[tuple[type, tuple[str, ...]], _Layout] = {}
        self._latest: dict[type, tuple[tuple[str, ...], _Layout]] = {}

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID], prev: bytes = b"") -> StoredEvent:
        """Return the stored form of *domain_event*, chained to *prev*.

        The state encodes ``[1, prev, body]``, the body being the event's
        fields but its id and version, plus ``class_version`` if above 1. The
        encoder of that layout is compiled once for each event class and order
        of its fields, and used again for every event of that class.
        """
        fields = vars(domain_event)
        event_class = type(domain_event)
        names = tuple(fields)
        latest = self._latest.get(event_class)
        if latest is not None and latest[0] == names:
            topic, encode = latest[1]
        else:
            topic, encode = self._layout(event_class, names)
        return StoredEvent(
            fields["originator_id"], fields["originator_version"], topic, encode(LAYOUT_VERSION, prev, fields)
        )

    def _layout(self, event_class: type, names: tuple[str, ...]) -> _Layout:
        layout = self._layouts.get((event_class, names))
        if layout is None:
            if "originator_id" not in names or "originator_version" not in names:
                raise CodecError(f"a {event_class.__qualname__} has no originator_id or originator_version")
            class_version = getattr(event_class, "class_version", 1)
            encoder = self.transcoder.layout_encoder(
                [name for name in names if name not in _NOT_IN_BODY],
                {"class_version": class_version} if class_version > 1 else None,
            )
            if len(self._layouts) >= _LAYOUTS:
                self._layouts.clear()
            layout = self._layouts[event_class, names] = (get_topic(event_class), encoder)
        self._latest[event_class] = (names, layout)
        return layout

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
        """Chain and store *domain_events* in one transaction; return eventsourcing's recordings of them."""
        stored_events, notification_ids = self._store(domain_events, **kwargs)
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

    def store(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        **kwargs: Any,  # noqa: ANN401 (passed through to the recorder, as eventsourcing does)
    ) -> Sequence[int] | None:
        """Chain and store *domain_events* in one transaction, as :meth:`put`; return their notification ids.

        None if the recorder gives none (an aggregate recorder). Without the
        recording objects :meth:`put` builds, for a bulk save that reads none.
        """
        return self._store(domain_events, **kwargs)[1]

    def _store(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        **kwargs: Any,  # noqa: ANN401 (as put)
    ) -> tuple[list[StoredEvent], Sequence[int] | None]:
        batch_heads: dict[UUID, tuple[int, bytes]] = {}
        stored_events: list[StoredEvent] = []
        to_stored_event = self.mapper.to_stored_event
        for event in domain_events:
            originator_id = event.originator_id
            version = event.originator_version
            if version == 1:
                prev = GENESIS
            elif (head := batch_heads.get(originator_id)) is not None and head[0] == version - 1:
                prev = head[1]
            else:
                prev = self.head_hash(originator_id, version - 1)
            stored = to_stored_event(event, prev)
            batch_heads[originator_id] = (version, link_hash(originator_id, version, stored.topic, stored.state))
            stored_events.append(stored)
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        self._remember_all(batch_heads)
        return stored_events, notification_ids

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
                known = heads.setdefault(originator_id, head)
                if known is not head and known[0] <= head[0]:
                    heads[originator_id] = head
            while len(heads) > self._cache_size:
                del heads[next(iter(heads))]
