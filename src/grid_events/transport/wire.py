"""The wire format: how one stored event travels as one NATS message, and back.

A message is published on ``<prefix>.<kind>.<aggregate id>`` (by default
``grid.events.resident.4f0c…``). Its body is the event's state bytes exactly as
stored — the msgpack array ``[1, prev, body]`` of ``docs/codec.md`` — so a
consumer can check the hash chain. Its headers (names in :class:`Header`) say
which event it is, where it sits in the store's log, and how to read it.
``docs/transport.md`` specifies all of it for consumers in other languages.

:func:`encode_notification` builds the outgoing message (the relay's side);
:func:`decode_message` checks and reads an incoming one into an
:class:`EventMessage`; :class:`ChainVerifier` checks that each aggregate's
messages chain onto each other, and spots redeliveries.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol, TypeVar
from uuid import UUID

import attrs
import msgpack
from eventsourcing.persistence import Notification, StoredEvent

from grid_events.chain import GENESIS, LAYOUT_VERSION, link_hash, split_state
from grid_events.codec import CODEC_VERSION, MsgpackTranscoder
from grid_events.transport.errors import WireFormatError

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_SUBJECT_PREFIX",
    "ChainVerifier",
    "EventMessage",
    "Header",
    "OutboundMessage",
    "decode_message",
    "decode_nats_msg",
    "encode_notification",
    "kind_of_topic",
    "msg_id_of",
    "subject_for",
]

CONTENT_TYPE = "application/vnd.grid-events.event+msgpack"
"""The ``Content-Type`` header of every event message."""

DEFAULT_SUBJECT_PREFIX = "grid.events"
"""Subjects are ``<prefix>.<kind>.<aggregate id>``."""

T = TypeVar("T")

_LINK_HASH_BYTES = 32
_KIND = re.compile(r"[a-z][a-z0-9_]*")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class Header:
    """Names of the headers of an event message (NATS header names are case-sensitive)."""

    MSG_ID = "Nats-Msg-Id"
    """``<aggregate id>:<version>``: unique per event; JetStream de-duplicates on it."""
    EXPECTED_STREAM = "Nats-Expected-Stream"
    """Set by the relay: the message must land in this stream."""
    EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"
    """Set by the relay: the stream's last sequence must be this, or the message is refused."""
    CONTENT_TYPE = "Content-Type"
    """Always :data:`CONTENT_TYPE`."""
    LAYOUT_VERSION = "Grid-Layout-Version"
    """Version of the ``[version, prev, body]`` state layout (``1``)."""
    CODEC_VERSION = "Grid-Codec-Version"
    """Version of the msgpack value encoding inside the body (``1``)."""
    NOTIFICATION_ID = "Grid-Notification-Id"
    """The event's position in the event store's log (increasing, may have gaps)."""
    TOPIC = "Grid-Event-Topic"
    """The event class, e.g. ``grid_events.domain.resident:Resident.Registered``."""
    AGGREGATE_ID = "Grid-Aggregate-Id"
    """The aggregate's UUID, canonical lower-case text with hyphens."""
    AGGREGATE_VERSION = "Grid-Aggregate-Version"
    """The event's version in its aggregate: 1, 2, 3, …"""
    LINK_HASH = "Grid-Link-Hash"
    """The event's SHA-256 link hash, 64 lower-case hex digits."""


def msg_id_of(aggregate_id: UUID, version: int) -> str:
    """Return the ``Nats-Msg-Id`` of the event *version* of *aggregate_id*."""
    return f"{aggregate_id}:{version}"


@functools.lru_cache(maxsize=1024)
def kind_of_topic(topic: str) -> str:
    """Return the subject token naming the aggregate an event topic belongs to.

    It is the event's owning class in snake case: the events of
    ``grid_events.domain.site_shift:SiteShift.Opened`` belong to ``site_shift``.
    An event class defined outside its aggregate falls back to its module's
    last name (one aggregate a module, by convention).
    """
    module, _, qualname = topic.partition(":")
    if not qualname:
        raise WireFormatError(f"{topic!r} is not an event topic (module:Class)")
    owner = qualname.rsplit(".", 1)[0].rsplit(".", 1)[-1] if "." in qualname else ""
    kind = _CAMEL_BOUNDARY.sub("_", owner).lower() if owner else module.rsplit(".", 1)[-1].lower()
    if not _KIND.fullmatch(kind):
        raise WireFormatError(f"cannot derive a subject token from the topic {topic!r}")
    return kind


def subject_for(prefix: str, kind: str, aggregate_id: UUID) -> str:
    """Return the subject of the events of one aggregate."""
    return f"{prefix}.{kind}.{aggregate_id}"


class OutboundMessage(NamedTuple):
    """One event as the relay publishes it (a tuple: the relay makes thousands a second)."""

    notification_id: int
    msg_id: str
    subject: str
    payload: bytes
    headers: dict[str, str]

    def __repr__(self) -> str:
        return (
            f"OutboundMessage(notification_id={self.notification_id}, msg_id={self.msg_id!r}, subject={self.subject!r})"
        )


@functools.lru_cache(maxsize=1024)
def _topic_parts(topic: str) -> tuple[str, bytes]:
    """Return the kind of a topic, and the topic as :func:`~grid_events.chain.link_hash` hashes it."""
    encoded = topic.encode()
    return kind_of_topic(topic), len(encoded).to_bytes(4, "big") + encoded


def encode_notification(notification: Notification, prefix: str = DEFAULT_SUBJECT_PREFIX) -> OutboundMessage:
    """Return the message carrying one notification of the event store."""
    originator_id = notification.originator_id
    aggregate_id = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    version = notification.originator_version
    topic = notification.topic
    state = notification.state
    kind, hashed_topic = _topic_parts(topic)
    id_text = str(aggregate_id)
    version_text = str(version)
    msg_id = f"{id_text}:{version_text}"
    # chain.link_hash, inlined: id bytes, version (u64 BE), topic length (u32 BE) and UTF-8, state.
    digest = hashlib.sha256(b"".join((aggregate_id.bytes, version.to_bytes(8, "big"), hashed_topic, state)))
    headers = {
        Header.MSG_ID: msg_id,
        Header.CONTENT_TYPE: CONTENT_TYPE,
        Header.LAYOUT_VERSION: _LAYOUT_TEXT,
        Header.CODEC_VERSION: _CODEC_TEXT,
        Header.NOTIFICATION_ID: str(notification.id),
        Header.TOPIC: topic,
        Header.AGGREGATE_ID: id_text,
        Header.AGGREGATE_VERSION: version_text,
        Header.LINK_HASH: digest.hexdigest(),
    }
    return OutboundMessage(notification.id, msg_id, f"{prefix}.{kind}.{id_text}", state, headers)


_LAYOUT_TEXT = str(LAYOUT_VERSION)
_CODEC_TEXT = str(CODEC_VERSION)


@attrs.frozen
class EventMessage:
    """One event read from the stream, its headers checked against its body.

    ``state`` is the stored state, byte for byte (never shown in ``repr``: it may
    hold sealed personal data); ``prev`` and ``link_hash`` chain it to its
    aggregate's previous and next events.
    """

    subject: str
    notification_id: int
    aggregate_id: UUID
    aggregate_version: int
    kind: str
    topic: str
    link_hash: bytes
    prev: bytes
    state: bytes = attrs.field(repr=False)
    stream_sequence: int | None = None

    @property
    def msg_id(self) -> str:
        """The message's ``Nats-Msg-Id``."""
        return msg_id_of(self.aggregate_id, self.aggregate_version)

    def stored_event(self) -> StoredEvent:
        """Return the event as eventsourcing stored it (for ``mapper.to_domain_event``)."""
        return StoredEvent(
            originator_id=self.aggregate_id,
            originator_version=self.aggregate_version,
            topic=self.topic,
            state=self.state,
        )

    def body(self, transcoder: MsgpackTranscoder | None = None) -> dict[str, Any]:
        """Return the event's fields, decoded with *transcoder* (default: the domain's codec)."""
        _, fields = split_state(transcoder or MsgpackTranscoder(), self.state)
        return fields


def decode_message(
    headers: Mapping[str, str] | None,
    data: bytes,
    *,
    subject: str | None = None,
    stream_sequence: int | None = None,
    verify: bool = True,
) -> EventMessage:
    """Return the event a message carries, after checking it.

    Raises :class:`WireFormatError` if a header is missing or malformed, the
    content type or layout version is unknown, the subject does not name the
    event's aggregate, or (with *verify*, the default) the link hash in the
    header is not the hash of the body.
    """
    if not headers:
        raise WireFormatError("the message has no headers: it is not a grid event")
    content_type = headers.get(Header.CONTENT_TYPE)
    if content_type != CONTENT_TYPE:
        raise WireFormatError(f"content type {content_type!r} is not {CONTENT_TYPE!r}")
    if headers.get(Header.LAYOUT_VERSION) != _LAYOUT_TEXT:
        raise WireFormatError(f"layout version {headers.get(Header.LAYOUT_VERSION)!r} is not supported")
    topic = _required(headers, Header.TOPIC)
    aggregate_id = _parse(headers, Header.AGGREGATE_ID, UUID)
    version = _parse(headers, Header.AGGREGATE_VERSION, int)
    notification_id = _parse(headers, Header.NOTIFICATION_ID, int)
    digest = _parse(headers, Header.LINK_HASH, bytes.fromhex)
    if version < 1 or notification_id < 1 or len(digest) != _LINK_HASH_BYTES:
        raise WireFormatError("version, notification id or link hash out of range")
    msg_id = headers.get(Header.MSG_ID)
    if msg_id is not None and msg_id != msg_id_of(aggregate_id, version):
        raise WireFormatError(f"message id {msg_id!r} does not name event {aggregate_id} v{version}")
    kind = kind_of_topic(topic)
    if subject is not None and not subject.endswith(f".{kind}.{aggregate_id}"):
        raise WireFormatError(f"subject {subject!r} does not name the {kind} {aggregate_id}")
    prev = _prev_of(data)
    if verify and link_hash(aggregate_id, version, topic, data) != digest:
        raise WireFormatError(f"event {aggregate_id} v{version}: the body does not match its link hash")
    if verify and version == 1 and prev != GENESIS:
        raise WireFormatError(f"event {aggregate_id} v1 does not start a chain")
    return EventMessage(
        subject=subject or "",
        notification_id=notification_id,
        aggregate_id=aggregate_id,
        aggregate_version=version,
        kind=kind,
        topic=topic,
        link_hash=digest,
        prev=prev,
        state=data,
        stream_sequence=stream_sequence,
    )


class NatsMessage(Protocol):
    """What :func:`decode_nats_msg` reads of a nats-py message."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> dict[str, str] | None: ...


def decode_nats_msg(msg: NatsMessage, *, verify: bool = True) -> EventMessage:
    """Return :func:`decode_message` of a nats-py message (from a subscription or ``js.get_msg``)."""
    sequence: int | None = getattr(msg, "seq", None)
    reply: str = getattr(msg, "reply", None) or ""
    if sequence is None and reply:
        try:
            sequence = int(msg.metadata.sequence.stream)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 (not a JetStream delivery: no sequence to report)
            sequence = None
    return decode_message(msg.headers, msg.data, subject=msg.subject, stream_sequence=sequence, verify=verify)


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise WireFormatError(f"header {name} is missing")
    return value


def _parse(headers: Mapping[str, str], name: str, parse: Callable[[str], T]) -> T:
    text = _required(headers, name)
    try:
        return parse(text)
    except ValueError as e:
        raise WireFormatError(f"header {name} is malformed: {text[:80]!r}") from e


def _prev_of(state: bytes) -> bytes:
    """Return ``prev`` of a layout-1 state, reading only the array's first two items."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(state)
    try:
        length = unpacker.read_array_header()
        layout = unpacker.unpack()
        prev = unpacker.unpack()
    except Exception as e:
        raise WireFormatError(f"the body is not a msgpack [version, prev, body] array: {e}") from e
    if length != 3 or layout != LAYOUT_VERSION or not isinstance(prev, bytes) or len(prev) != _LINK_HASH_BYTES:  # noqa: PLR2004
        raise WireFormatError(f"the body is not a layout-{LAYOUT_VERSION} [version, prev, body] array")
    return prev


class ChainVerifier:
    """Checks, message by message, that each aggregate's events chain onto each other.

    Feed it messages in stream order with :meth:`check`. It remembers the last
    version and link hash of every aggregate it has seen (memory grows with the
    number of aggregates). The first message seen of an aggregate is taken on
    trust unless it is version 1; from then on each version must follow the last
    one and carry its link hash as ``prev``.
    """

    def __init__(self) -> None:
        self._heads: dict[UUID, tuple[int, bytes]] = {}

    def check(self, message: EventMessage) -> bool:
        """Return ``True`` for the next event of its aggregate, ``False`` for one already seen.

        Raises :class:`WireFormatError` if versions were skipped or the event
        does not chain onto its predecessor.
        """
        head = self._heads.get(message.aggregate_id)
        if head is not None:
            version, digest = head
            if message.aggregate_version <= version:
                return False
            if message.aggregate_version != version + 1:
                raise WireFormatError(
                    f"{message.kind} {message.aggregate_id}: v{message.aggregate_version} follows v{version}"
                )
            if message.prev != digest:
                raise WireFormatError(
                    f"{message.kind} {message.aggregate_id} v{message.aggregate_version} does not chain onto v{version}"
                )
        self._heads[message.aggregate_id] = (message.aggregate_version, message.link_hash)
        return True
