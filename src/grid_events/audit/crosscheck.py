"""Cross-check the event store against its copy on the NATS stream.

The outbox relay (:mod:`grid_events.transport`) publishes every stored event,
in log order and each once, as one message whose body is the stored state
byte for byte. So the stream is a second copy of the log, kept on other
machines: :func:`crosscheck_stream` reads both, in order, and names every
event on which they disagree.

* a message whose body differs from the stored state (one copy was altered);
* a stored event the stream lacks although the stream has gone past it
  (inserted into the store afterwards, or deleted from the stream);
* a message with no event in the store (removed from the store, or forged
  on the stream), a message naming another event than the store holds at its
  log position;
* a duplicate message, a message out of order, a sequence missing from the
  stream;
* headers that contradict the body or each other (link hash, ``Nats-Msg-Id``,
  subject, content type), and messages that are no grid event at all.

Stored events the relay has not published *yet* are not a discrepancy: the
report gives how far the stream got (:attr:`CrossCheckReport.stream_notification_id`)
and how many events are still to come (:attr:`CrossCheckReport.pending`).

Both copies are read as they were when the check began (the stream's last
sequence, then the store's newest notification): a relay may keep running.
Nothing is written to the store; the stream is read through a temporary
consumer that acknowledges nothing and is deleted afterwards (or message by
message, by an account that may not create consumers). No key is needed:
only stored bytes are compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from grid_events.chain import LAYOUT_VERSION
from grid_events.exceptions import GridEventsError
from grid_events.transport import CONTENT_TYPE, Header, NatsSettings, StreamSettings, connect, kind_of_topic
from grid_events.transport.connection import close_quietly, redact_url

__all__ = [
    "CrossCheckError",
    "CrossCheckReport",
    "CrossCheckVerdict",
    "Discrepancy",
    "DiscrepancyKind",
    "crosscheck_stream",
]

PAGE_SIZE = 1000
"""Events read from the store at a time, and messages fetched from the stream at a time."""
LOOKAHEAD = 10_000
"""How far ahead of the store reader a message may point before it is looked up on its own."""
_GAP_CHUNK = 256
_LAYOUT_TEXT = str(LAYOUT_VERSION)
_LINK_HASH_HEX = 64
_TOPIC_LENGTH = 4


class CrossCheckError(GridEventsError):
    """The cross-check could not be made: NATS unreachable or refusing us, no such stream, or the store unreadable.

    *source* says which side failed: ``"nats"`` or ``"store"``.
    """

    def __init__(self, message: str, *, source: str = "nats") -> None:
        super().__init__(message)
        self.source = source


class DiscrepancyKind(enum.StrEnum):
    """How the stream and the store disagree about one event or message."""

    BODY_MISMATCH = "body_mismatch"
    """The message's body is not the stored state, byte for byte: one of the two copies was altered."""
    EVENT_MISMATCH = "event_mismatch"
    """The message names another event than the store holds at that log position."""
    MISSING_FROM_STREAM = "missing_from_stream"
    """A stored event the stream lacks, although the stream has gone past its log position."""
    NOT_IN_STORE = "not_in_store"
    """A message whose event the store does not hold: removed from the store, or forged on the stream."""
    DUPLICATE = "duplicate"
    """A second message carrying an event the stream already carried."""
    OUT_OF_ORDER = "out_of_order"
    """A message whose log position is not after the previous message's."""
    HEADER_MISMATCH = "header_mismatch"
    """The headers contradict the body or each other (link hash, message id, subject, content type)."""
    MALFORMED = "malformed"
    """A message that is not a grid event at all: it cannot be placed in the log."""
    STREAM_GAP = "stream_gap"
    """Stream sequences that hold no message any more: messages were deleted from the stream."""

    def name_in(self, lang: str) -> str:
        """Return the kind's name in *lang* (``zh`` or ``en``)."""
        zh, en = _KIND_NAMES[self]
        return zh if lang == "zh" else en


_KIND_NAMES = {
    DiscrepancyKind.BODY_MISMATCH: ("内容不一致", "body differs"),
    DiscrepancyKind.EVENT_MISMATCH: ("事件不符", "another event"),
    DiscrepancyKind.MISSING_FROM_STREAM: ("流上缺少", "missing from stream"),
    DiscrepancyKind.NOT_IN_STORE: ("库中没有", "not in store"),
    DiscrepancyKind.DUPLICATE: ("重复消息", "duplicate"),
    DiscrepancyKind.OUT_OF_ORDER: ("顺序错乱", "out of order"),
    DiscrepancyKind.HEADER_MISMATCH: ("消息头不符", "header mismatch"),
    DiscrepancyKind.MALFORMED: ("不是事件消息", "malformed"),
    DiscrepancyKind.STREAM_GAP: ("流上消息被删", "stream gap"),
}


class CrossCheckVerdict(enum.StrEnum):
    """What the cross-check concluded."""

    CONSISTENT = "consistent"
    """The stream holds every stored event, in order, byte for byte, and nothing else."""
    BEHIND = "behind"
    """As CONSISTENT, except that the relay has not yet published the newest stored events."""
    DISCREPANT = "discrepant"
    """The stream and the store disagree: see the discrepancies."""


@attrs.frozen
class Discrepancy:
    """One disagreement, naming the event (aggregate and version), its log position and the stream sequence."""

    kind: DiscrepancyKind
    aggregate_id: UUID | None
    version: int | None
    notification_id: int | None
    stream_sequence: int | None
    detail: str
    """What is wrong, in English (which event, and where, are the fields above)."""
    detail_zh: str
    """What is wrong, in Chinese."""
    message: str
    """The event, where it is, and what is wrong, in English."""
    message_zh: str
    """The event, where it is, and what is wrong, in Chinese."""

    def text(self, lang: str = "zh") -> str:
        """Return :attr:`message` in *lang* (``zh`` or ``en``)."""
        return self.message_zh if lang == "zh" else self.message

    def detail_in(self, lang: str = "zh") -> str:
        """Return :attr:`detail` in *lang* (``zh`` or ``en``)."""
        return self.detail_zh if lang == "zh" else self.detail

    def to_dict(self) -> dict[str, Any]:
        """Return the discrepancy as JSON-ready data."""
        return {
            "kind": self.kind.value,
            "aggregate_id": str(self.aggregate_id) if self.aggregate_id else None,
            "version": self.version,
            "notification_id": self.notification_id,
            "stream_sequence": self.stream_sequence,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
            "message": self.message,
            "message_zh": self.message_zh,
        }


@attrs.frozen
class CrossCheckReport:
    """The outcome of a cross-check: what was read of each copy, how far the stream got, what disagrees."""

    stream: str
    """The stream's name."""
    stream_messages: int
    """Messages read from the stream."""
    stream_last_sequence: int
    """The stream's last sequence when the check began."""
    stream_created: datetime | None
    """When the stream was created (UTC), as JetStream says: a stream refilled from a tampered store is new."""
    stream_denies_deletes: bool
    """Whether the stream refuses deleting and purging messages, as the relay creates it."""
    store_events: int
    """Events read from the store."""
    store_notification_id: int
    """The store's newest notification id when the check began (0: empty)."""
    stream_notification_id: int
    """The newest log position of this store the stream carries (0: none): where the relay got to."""
    pending: int
    """Stored events after :attr:`stream_notification_id`: not yet published. Lag, not tampering."""
    discrepancies: tuple[Discrepancy, ...]
    """What disagrees, in stream order (stored events missing from the stream last)."""

    @property
    def ok(self) -> bool:
        """Whether no discrepancy was found (the stream may still be behind)."""
        return not self.discrepancies

    @property
    def verdict(self) -> CrossCheckVerdict:
        """Consistent, consistent but behind, or discrepant."""
        if self.discrepancies:
            return CrossCheckVerdict.DISCREPANT
        return CrossCheckVerdict.BEHIND if self.pending else CrossCheckVerdict.CONSISTENT

    @property
    def first_discrepancy(self) -> Discrepancy | None:
        """The first discrepancy found, or None."""
        return self.discrepancies[0] if self.discrepancies else None

    def verdict_text(self, lang: str = "zh") -> str:
        """Return the verdict in a sentence, in *lang* (``zh`` or ``en``)."""
        if self.discrepancies:
            first = self.discrepancies[0]
            count = len(self.discrepancies)
            if lang == "zh":
                return f"✘ 流与事件库不一致：{count} 处。第一处：{first.message_zh}"
            plural = "discrepancy" if count == 1 else "discrepancies"
            return f"✘ The stream and the store disagree: {count} {plural}. First: {first.message}"
        if self.pending:
            if lang == "zh":
                return (
                    f"✔ 流与事件库一致；流已到日志位置 {self.stream_notification_id}，"
                    f"落后 {self.pending} 个事件（中继尚未发布，不是篡改）。"
                )
            return (
                f"✔ The stream agrees with the store; it reaches log position {self.stream_notification_id} "
                f"and is {self.pending} event(s) behind (not yet relayed: lag, not tampering)."
            )
        if lang == "zh":
            return "✔ 流与事件库一致：每个事件都在流上，顺序相同，逐字节相同。"
        return "✔ The stream agrees with the store: every event, in order, byte for byte."

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "ok": self.ok,
            "verdict": self.verdict.value,
            "stream": self.stream,
            "stream_messages": self.stream_messages,
            "stream_last_sequence": self.stream_last_sequence,
            "stream_created": self.stream_created.isoformat() if self.stream_created else None,
            "stream_denies_deletes": self.stream_denies_deletes,
            "store_events": self.store_events,
            "store_notification_id": self.store_notification_id,
            "stream_notification_id": self.stream_notification_id,
            "pending": self.pending,
            "discrepancies": [discrepancy.to_dict() for discrepancy in self.discrepancies],
        }


# -- reading the two copies -----------------------------------------------------------------------------


class _Raw(NamedTuple):
    """One stream message as read: its sequence, subject, headers and body (None: the sequence is empty)."""

    sequence: int
    subject: str
    headers: Mapping[str, str] | None
    data: bytes | None


class _Stored(NamedTuple):
    """One stored event, by its log position; *digest* is its link hash."""

    notification_id: int
    aggregate_id: UUID
    version: int
    topic: str
    digest: bytes


def _digest(aggregate_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    encoded = topic.encode()
    return hashlib.sha256(
        aggregate_id.bytes + version.to_bytes(8, "big") + len(encoded).to_bytes(_TOPIC_LENGTH, "big") + encoded + state
    ).digest()


class _Row(NamedTuple):
    """One stored event as read from the store's log."""

    id: int
    aggregate_id: UUID
    version: int
    topic: str
    state: bytes


def _stored(row: _Row, *, digest: bool = True) -> _Stored:
    """Return a stored event's identity and (unless *digest* is false: its state is at hand) link hash."""
    return _Stored(
        row.id,
        row.aggregate_id,
        row.version,
        row.topic,
        _digest(row.aggregate_id, row.version, row.topic, row.state) if digest else b"",
    )


def _row(notification_id: int, originator_id: object, version: int, topic: str, state: bytes | None) -> _Row:
    try:
        aggregate_id = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
    except ValueError as e:
        raise CrossCheckError(
            f"the store's event at log position {notification_id} has no valid aggregate id "
            f"({str(originator_id)[:40]!r}): the store was tampered with; run `grid-events audit verify`",
            source="store",
        ) from e
    return _Row(notification_id, aggregate_id, int(version), str(topic), bytes(state or b""))


class _StoreReader:
    """The store's log up to a position, a page at a time (read in a worker thread), with look-ups by position.

    On SQLite the rows are read straight from the events table, the state cast
    to bytes: a tampered row whose state was stored as text is still compared
    (eventsourcing's own reader would fail to decode it).
    """

    def __init__(self, recorder: ApplicationRecorder, last: int) -> None:
        self.recorder = recorder
        self.last = last
        self.read = 0
        self._page: list[_Row] = []
        self._index = 0
        self._after = 0
        self._exhausted = last == 0

    async def peek(self) -> _Row | None:
        """Return the next event of the log, without moving past it (None at the end)."""
        if self._index >= len(self._page):
            if self._exhausted:
                return None
            self._page, self._index = await self._select(self._after, PAGE_SIZE), 0
            if not self._page:
                self._exhausted = True
                return None
            self._after = self._page[-1].id
            if self._after >= self.last:
                self._exhausted = True
        return self._page[self._index]

    def advance(self) -> None:
        """Move past the event :meth:`peek` returned."""
        self._index += 1
        self.read += 1

    async def look_up(self, notification_id: int) -> _Row | None:
        """Return the stored event at *notification_id*, or None."""
        found = await self._select(notification_id - 1, 1)
        return found[0] if found and found[0].id == notification_id else None

    async def _select(self, after: int, limit: int) -> list[_Row]:
        try:
            return await asyncio.to_thread(self._select_now, after, limit)
        except CrossCheckError:
            raise
        except Exception as e:
            raise CrossCheckError(
                f"cannot read the event store after log position {after}: {type(e).__name__}: {e}", source="store"
            ) from e

    def _select_now(self, after: int, limit: int) -> list[_Row]:
        recorder = self.recorder
        datastore = getattr(recorder, "datastore", None)
        if isinstance(recorder, SQLiteApplicationRecorder) and datastore is not None:
            statement = (
                "SELECT rowid, CAST(originator_id AS TEXT), originator_version, topic, CAST(state AS BLOB) "  # noqa: S608 (eventsourcing's table name)
                f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
            )
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, (after, self.last, limit))
                return [_row(*row) for row in cursor.fetchall()]
        page = recorder.select_notifications(after, limit, self.last, inclusive_of_start=False)
        return [_row(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page]


async def _read_stream(
    js: JetStreamContext, name: str, first: int, last: int, wait: float
) -> AsyncGenerator[_Raw, None]:
    """Yield every sequence of the stream from *first* to *last*, in order (``data`` None: no message there).

    A temporary consumer (no acknowledgements, deleted afterwards) delivers the
    messages in batches; sequences it skips are looked up one by one, and if it
    stops delivering, the rest is read by sequence. An account that may not
    create consumers reads everything by sequence (slower).
    """
    if first > last:
        return
    consumer = f"grid-crosscheck-{uuid.uuid4().hex[:16]}"
    config = ConsumerConfig(
        name=consumer,
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=first,
        inactive_threshold=max(30.0, 6 * wait),
        mem_storage=True,
        num_replicas=1,
    )
    try:
        await js.add_consumer(name, config)
    except NatsError:  # an account that may only read messages (no consumers): read them by sequence
        async for raw in _by_sequence(js, name, first, last):
            yield raw
        return
    subscription = await js.pull_subscribe_bind(consumer=consumer, stream=name)
    try:
        async with contextlib.aclosing(
            _delivered(js, subscription, name=name, first=first, last=last, wait=wait)
        ) as delivered:
            async for raw in delivered:
                yield raw
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
        with contextlib.suppress(Exception):
            await js.delete_consumer(name, consumer)


async def _delivered(
    js: JetStreamContext,
    subscription: JetStreamContext.PullSubscription,
    *,
    name: str,
    first: int,
    last: int,
    wait: float,
) -> AsyncGenerator[_Raw, None]:
    """Yield sequences *first* to *last* as the consumer delivers them, looking up the ones it skips."""
    expected = first
    while expected <= last:
        try:
            batch = await subscription.fetch(min(PAGE_SIZE, last - expected + 1), timeout=wait)
        except TimeoutError:
            break  # the consumer stopped delivering: read the rest by sequence
        for msg in batch:
            sequence = int(msg.metadata.sequence.stream)
            if sequence < expected:
                continue
            if sequence > last:
                return
            async for raw in _by_sequence(js, name, expected, sequence - 1):
                yield raw
            yield _Raw(sequence, msg.subject, msg.headers, msg.data or b"")
            expected = sequence + 1
    async for raw in _by_sequence(js, name, expected, last):
        yield raw


async def _by_sequence(js: JetStreamContext, name: str, first: int, last: int) -> AsyncGenerator[_Raw, None]:
    """Yield sequences *first* to *last* read one by one (a few at a time), ``data`` None where none is."""

    async def get(sequence: int) -> _Raw:
        try:
            raw = await js.get_msg(name, seq=sequence)
        except NotFoundError:
            return _Raw(sequence, "", None, None)
        return _Raw(sequence, raw.subject or "", raw.headers, raw.data or b"")

    for start in range(first, last + 1, _GAP_CHUNK):
        chunk = range(start, min(last, start + _GAP_CHUNK - 1) + 1)
        for raw in await asyncio.gather(*(get(sequence) for sequence in chunk)):
            yield raw


# -- comparing --------------------------------------------------------------------------------------


class _Where(NamedTuple):
    """Which event a discrepancy is about, where in the log, where on the stream."""

    aggregate_id: UUID | None
    version: int | None
    notification_id: int | None
    stream_sequence: int | None


class _Claim(NamedTuple):
    """What a message's headers say it is (None where a header is missing or malformed)."""

    notification_id: int | None
    aggregate_id: UUID | None
    version: int | None
    topic: str | None
    link_hash: str | None
    msg_id: str | None


def _parse_int(text: str | None) -> int | None:
    try:
        value = int(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 1 else None


def _parse_uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _claim(headers: Mapping[str, str]) -> _Claim:
    return _Claim(
        _parse_int(headers.get(Header.NOTIFICATION_ID)),
        _parse_uuid(headers.get(Header.AGGREGATE_ID)),
        _parse_int(headers.get(Header.AGGREGATE_VERSION)),
        headers.get(Header.TOPIC) or None,
        headers.get(Header.LINK_HASH),
        headers.get(Header.MSG_ID),
    )


def _event_name(topic: str | None, version: int | None, aggregate_id: UUID | None) -> str:
    kind = topic.rpartition(":")[2] if topic else "event"
    return f"{kind} v{version if version is not None else '?'} of {aggregate_id or '?'}"


def _event_name_zh(version: int | None, aggregate_id: UUID | None) -> str:
    return f"记录 {aggregate_id or '?'} 的第 {version if version is not None else '?'} 版"


def _discrepancy(kind: DiscrepancyKind, where: _Where, topic: str | None, detail: str, detail_zh: str) -> Discrepancy:
    """Return a discrepancy whose message names the event, where it is, and what is wrong."""
    place = [f"log position {where.notification_id}"] if where.notification_id is not None else []
    place_zh = [f"日志位置 {where.notification_id}"] if where.notification_id is not None else []
    if where.stream_sequence is not None:
        place.append(f"stream sequence {where.stream_sequence}")
        place_zh.append(f"流序号 {where.stream_sequence}")
    if where.aggregate_id is None and where.version is None:
        message, message_zh = f"{', '.join(place)}: {detail}", f"{'，'.join(place_zh)}：{detail_zh}"
    else:
        message = f"{_event_name(topic, where.version, where.aggregate_id)} ({', '.join(place)}): {detail}"
        message_zh = f"{_event_name_zh(where.version, where.aggregate_id)}（{'，'.join(place_zh)}）：{detail_zh}"
    return Discrepancy(kind, *where, detail=detail, detail_zh=detail_zh, message=message, message_zh=message_zh)


def _first_difference(left: bytes, right: bytes) -> int:
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return index
    return min(len(left), len(right))


def _header_faults(raw: _Raw, claim: _Claim, headers: Mapping[str, str], prefix: str) -> list[str]:
    """Return what is wrong with a message's headers, against its body and each other."""
    wrong: list[str] = []
    content_type = headers.get(Header.CONTENT_TYPE)
    if content_type != CONTENT_TYPE:
        wrong.append(f"{Header.CONTENT_TYPE} is {content_type!r}")
    if headers.get(Header.LAYOUT_VERSION) != _LAYOUT_TEXT:
        wrong.append(f"{Header.LAYOUT_VERSION} is {headers.get(Header.LAYOUT_VERSION)!r}")
    aggregate_id, version, topic = claim.aggregate_id, claim.version, claim.topic
    if aggregate_id is None or version is None or topic is None:
        missing = [
            name
            for name, value in (
                (Header.AGGREGATE_ID, aggregate_id),
                (Header.AGGREGATE_VERSION, version),
                (Header.TOPIC, topic),
            )
            if value is None
        ]
        wrong.append(f"{', '.join(missing)} missing or malformed")
        return wrong
    expected_id = f"{aggregate_id}:{version}"
    if claim.msg_id != expected_id:
        wrong.append(f"{Header.MSG_ID} is {claim.msg_id!r}, not {expected_id!r}")
    if claim.link_hash is None or len(claim.link_hash) != _LINK_HASH_HEX:
        wrong.append(f"{Header.LINK_HASH} is missing or malformed")
    elif claim.link_hash.lower() != _digest(aggregate_id, version, topic, raw.data or b"").hex():
        wrong.append(f"{Header.LINK_HASH} is not the hash of the body")
    try:
        subject = f"{prefix}.{kind_of_topic(topic)}.{aggregate_id}"
    except ValueError:
        wrong.append(f"{Header.TOPIC} {topic!r} is not an event topic")
    else:
        if raw.subject != subject:
            wrong.append(f"the subject is {raw.subject!r}, not {subject!r}")
    return wrong


class _Comparison:
    """Walks the stream in order, placing each message in the store's log and noting what disagrees."""

    def __init__(self, store: _StoreReader, prefix: str) -> None:
        self.store = store
        self.prefix = prefix
        self.found: list[Discrepancy] = []
        self.missing: list[Discrepancy] = []
        self.pending: dict[int, _Stored] = {}
        """Stored events the reader passed that no message has carried yet, by log position."""
        self.seen = bytearray()
        """One bit per log position a message has carried."""
        self.position = 0
        """The highest log position a message carried that the store holds."""
        self.messages = 0
        self._last_gap: tuple[int, int, Discrepancy] | None = None
        """The latest gap noted (first and last sequence, its discrepancy), to join the next one to it."""

    # -- bookkeeping ----------------------------------------------------------------------------

    def _was_seen(self, notification_id: int) -> bool:
        byte = notification_id >> 3
        return byte < len(self.seen) and bool(self.seen[byte] & (1 << (notification_id & 7)))

    def _mark_seen(self, notification_id: int) -> None:
        byte = notification_id >> 3
        if byte >= len(self.seen):
            self.seen.extend(bytes(max(byte + 1 - len(self.seen), len(self.seen))))
        self.seen[byte] |= 1 << (notification_id & 7)

    def _add(self, kind: DiscrepancyKind, where: _Where, topic: str | None, detail: str, detail_zh: str) -> None:
        self.found.append(_discrepancy(kind, where, topic, detail, detail_zh))

    # -- one message ------------------------------------------------------------------------------

    async def message(self, raw: _Raw) -> None:
        """Place one stream sequence in the log and compare it with the stored event there."""
        if raw.data is None:
            self.gap(raw.sequence, raw.sequence)
            return
        self.messages += 1
        headers = raw.headers or {}
        claim = _claim(headers)
        if claim.notification_id is None:
            self._malformed(raw, claim, headers)
            return
        notification_id = claim.notification_id
        duplicate = self._was_seen(notification_id)
        out_of_order = not duplicate and notification_id <= self.position
        stored, state = await self._stored_at(notification_id, duplicate=duplicate)
        if stored is None:
            self._not_in_store(raw, claim)
            self._check_headers(raw, claim, headers, None)
            return
        self._mark_seen(notification_id)
        self.position = max(self.position, notification_id)
        named = _Where(stored.aggregate_id, stored.version, notification_id, raw.sequence)
        if duplicate:
            self._add(
                DiscrepancyKind.DUPLICATE,
                named,
                stored.topic,
                "on the stream again: a duplicate message",
                "在流上再次出现：重复的消息",
            )
        elif out_of_order:
            self._add(
                DiscrepancyKind.OUT_OF_ORDER,
                named,
                stored.topic,
                f"on the stream after log position {self.position}: out of order",
                f"在流上排在日志位置 {self.position} 之后：顺序错乱",
            )
        if (claim.aggregate_id, claim.version, claim.topic) != (stored.aggregate_id, stored.version, stored.topic):
            self._add(
                DiscrepancyKind.EVENT_MISMATCH,
                named,
                stored.topic,
                f"the store holds this event at this position, but the message names "
                f"{_event_name(claim.topic, claim.version, claim.aggregate_id)}",
                f"事件库中此位置是该事件，流上的消息却是{_event_name_zh(claim.version, claim.aggregate_id)}",
            )
        body = raw.data
        if state is not None:
            differs = body != state
        else:  # a stored event passed over earlier: only its link hash was kept
            differs = _digest(stored.aggregate_id, stored.version, stored.topic, body) != stored.digest
        if differs:
            state = state if state is not None else await self._state_at(notification_id)
            sizes = (
                f"first difference at byte {_first_difference(body, state)}; {len(body)} bytes on the stream, "
                f"{len(state)} in the store"
                if state is not None
                else "the stored state could not be read again"
            )
            sizes_zh = (
                f"自第 {_first_difference(body, state)} 字节起不同；流上 {len(body)} 字节，事件库中 {len(state)} 字节"
                if state is not None
                else "无法再次读取事件库中的内容"
            )
            self._add(
                DiscrepancyKind.BODY_MISMATCH,
                named,
                stored.topic,
                f"the message's body differs from the stored state ({sizes}): one of the two copies was altered",
                f"流上的消息与事件库中存储的内容不一致（{sizes_zh}）：两份中有一份被改动过",
            )
        self._check_headers(raw, claim, headers, stored)

    async def _stored_at(self, notification_id: int, *, duplicate: bool) -> tuple[_Stored | None, bytes | None]:
        """Return the stored event at a log position (and its state, when at hand), or None if the store lacks it."""
        store = self.store
        if notification_id > store.last:
            return None, None
        if duplicate:
            found = await store.look_up(notification_id)
            return (_stored(found, digest=False), found.state) if found is not None else (None, None)
        pending = self.pending.pop(notification_id, None)
        if pending is not None:
            return pending, None
        head = await store.peek()
        if head is not None and notification_id - head.id > LOOKAHEAD:
            found = await store.look_up(notification_id)
            return (_stored(found, digest=False), found.state) if found is not None else (None, None)
        while head is not None and head.id < notification_id:
            if not self._was_seen(head.id):
                self.pending[head.id] = _stored(head)
            store.advance()
            head = await store.peek()
        if head is not None and head.id == notification_id:
            store.advance()
            return _stored(head, digest=False), head.state
        return None, None

    async def _state_at(self, notification_id: int) -> bytes | None:
        found = await self.store.look_up(notification_id)
        return found.state if found is not None else None

    def _check_headers(self, raw: _Raw, claim: _Claim, headers: Mapping[str, str], stored: _Stored | None) -> None:
        """Note headers that contradict the body or each other."""
        wrong = _header_faults(raw, claim, headers, self.prefix)
        if not wrong:
            return
        aggregate_id = stored.aggregate_id if stored is not None else claim.aggregate_id
        version = stored.version if stored is not None else claim.version
        topic = stored.topic if stored is not None else claim.topic
        details = "; ".join(wrong)
        self._add(
            DiscrepancyKind.HEADER_MISMATCH,
            _Where(aggregate_id, version, claim.notification_id, raw.sequence),
            topic,
            f"the headers contradict the body or each other: {details}",
            f"消息头与消息体（或彼此）不符：{details}",
        )

    def _not_in_store(self, raw: _Raw, claim: _Claim) -> None:
        last = self.store.last
        if claim.notification_id is not None and claim.notification_id > last:
            detail = (
                f"on the stream but not in the store, beyond its newest event (log position {last}): "
                "removed from the end of the store, or forged on the stream"
            )
            detail_zh = (
                f"在流上，事件库中却没有，且超出了事件库的最新位置 {last}：已从事件库末尾删除，或是伪造后发布到流上的"
            )
        else:
            detail = "on the stream but not in the store: removed from the store, or forged on the stream"
            detail_zh = "在流上，事件库中却没有：已从事件库中删除，或是伪造后发布到流上的"
        self._add(
            DiscrepancyKind.NOT_IN_STORE,
            _Where(claim.aggregate_id, claim.version, claim.notification_id, raw.sequence),
            claim.topic,
            detail,
            detail_zh,
        )

    def _malformed(self, raw: _Raw, claim: _Claim, headers: Mapping[str, str]) -> None:
        value = headers.get(Header.NOTIFICATION_ID)
        why = "it has no headers" if not headers else f"its {Header.NOTIFICATION_ID} header is {value!r}"
        why_zh = "没有消息头" if not headers else f"{Header.NOTIFICATION_ID} 为 {value!r}"
        self._add(
            DiscrepancyKind.MALFORMED,
            _Where(claim.aggregate_id, claim.version, None, raw.sequence),
            claim.topic,
            f"the message on {raw.subject!r} is no grid event ({why}): the relay did not publish it",
            f"主题 {raw.subject!r} 上的消息不是 grid_events 事件（{why_zh}）：它不是中继发布的",
        )

    def gap(self, first: int, last: int) -> None:
        """Note that stream sequences *first* to *last* hold no message (joining a gap right before them)."""
        if self._last_gap is not None and self._last_gap[1] == first - 1 and self.found[-1:] == [self._last_gap[2]]:
            first = self._last_gap[0]
            self.found.pop()
        span = f"{first}–{last}" if first != last else str(first)
        detail = "no message any more: deleted from the stream"
        detail_zh = "已没有消息：被从流上删除"
        self.found.append(
            Discrepancy(
                DiscrepancyKind.STREAM_GAP,
                None,
                None,
                None,
                first,
                detail=f"stream sequence(s) {span}: {detail}",
                detail_zh=f"流序号 {span}：{detail_zh}",
                message=f"stream sequence(s) {span}: {detail}",
                message_zh=f"流序号 {span}：{detail_zh}",
            )
        )
        self._last_gap = (first, last, self.found[-1])

    # -- the end ----------------------------------------------------------------------------------

    async def finish(self) -> int:
        """Note the stored events no message carried; return how many come after the stream's position."""
        later = 0
        missing: list[_Stored] = []
        for stored in self.pending.values():
            if stored.notification_id < self.position:
                missing.append(stored)
            else:
                later += 1
        store = self.store
        head = await store.peek()
        while head is not None:
            if not self._was_seen(head.id):
                if head.id < self.position:
                    missing.append(_stored(head))
                else:
                    later += 1
            store.advance()
            head = await store.peek()
        for stored in sorted(missing):
            self.missing.append(
                _discrepancy(
                    DiscrepancyKind.MISSING_FROM_STREAM,
                    _Where(stored.aggregate_id, stored.version, stored.notification_id, None),
                    stored.topic,
                    f"in the store but not on the stream, which has gone past it to log position {self.position}: "
                    "inserted into the store after it was relayed, or deleted from the stream",
                    f"在事件库中，流上却没有，而流已到日志位置 {self.position}：它是在中继经过之后才插入事件库的，"
                    "或流上的消息被删除了",
                )
            )
        return later


# -- the check ----------------------------------------------------------------------------------------


async def crosscheck_stream(
    recorder: ApplicationRecorder,
    nats: NatsSettings | Client,
    *,
    stream: StreamSettings | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109 (a bound on each wait for NATS, not on the whole check)
    progress: Callable[[int, int], None] | None = None,
) -> CrossCheckReport:
    """Compare the store's log with the stream, message by message; name every event on which they disagree.

    *nats* is where the stream is (connected and closed here) or a connected
    nats-py client (left open). *stream* names the stream and its subject
    prefix (default ``GRID_EVENTS`` on ``grid.events.>``). Every wait for NATS
    is bounded by *timeout* seconds. *progress*, if given, is called with the
    stream sequences read so far and the number to read.

    Raises :class:`CrossCheckError` if NATS cannot be reached or refuses the
    credentials, or the stream does not exist.
    """
    settings = stream if stream is not None else StreamSettings()
    if isinstance(nats, NatsSettings):
        where = ", ".join(redact_url(server) for server in nats.servers)
        try:
            client = await connect(nats)
        except Exception as e:  # every failure to connect is reported the same way
            raise CrossCheckError(f"cannot reach NATS at {where}: {type(e).__name__}: {e}") from e
        try:
            return await _crosscheck(recorder, client, settings, wait=timeout, progress=progress, where=where)
        finally:
            await close_quietly(client)
    servers = getattr(nats, "connected_url", None)
    where = redact_url(servers.geturl()) if servers is not None else "the given connection"
    return await _crosscheck(recorder, nats, settings, wait=timeout, progress=progress, where=where)


async def _crosscheck(
    recorder: ApplicationRecorder,
    client: Client,
    settings: StreamSettings,
    *,
    wait: float,
    progress: Callable[[int, int], None] | None,
    where: str,
) -> CrossCheckReport:
    js = client.jetstream(timeout=wait)
    try:
        info = await js.stream_info(settings.name)
    except NotFoundError as e:
        raise CrossCheckError(
            f"NATS at {where} has no stream {settings.name}: the relay has not created it yet, "
            "or the stream has another name"
        ) from e
    except Exception as e:  # JetStream disabled, no permission, timed out: all mean no stream to read
        raise CrossCheckError(f"cannot read stream {settings.name} at {where}: {type(e).__name__}: {e}") from e
    first = int(info.state.first_seq or 1)
    last = int(info.state.last_seq or 0)
    try:
        store_last = await asyncio.to_thread(recorder.max_notification_id) or 0
    except Exception as e:
        raise CrossCheckError(f"cannot read the event store: {type(e).__name__}: {e}", source="store") from e
    comparison = _Comparison(_StoreReader(recorder, store_last), settings.subject_prefix)
    if last and first > 1:
        comparison.gap(1, min(first, last + 1) - 1)  # purged from the front
    total = last
    done = min(first - 1, last)
    try:
        async with contextlib.aclosing(_read_stream(js, settings.name, max(first, 1), last, wait)) as messages:
            async for raw in messages:
                await comparison.message(raw)
                done += 1
                if progress is not None and done % PAGE_SIZE == 0:
                    progress(done, total)
    except (TimeoutError, NatsError) as e:
        raise CrossCheckError(f"cannot read stream {settings.name} at {where}: {type(e).__name__}: {e}") from e
    later = await comparison.finish()
    if progress is not None:
        progress(total, total)
    return CrossCheckReport(
        stream=settings.name,
        stream_messages=comparison.messages,
        stream_last_sequence=last,
        stream_created=info.created,
        stream_denies_deletes=bool(info.config.deny_delete and info.config.deny_purge),
        store_events=comparison.store.read,
        store_notification_id=store_last,
        stream_notification_id=comparison.position,
        pending=later,
        discrepancies=(*comparison.found, *comparison.missing),
    )
