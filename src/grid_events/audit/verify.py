"""Check that no stored event was altered, removed, inserted or reordered.

Each aggregate's events form a hash chain (:mod:`grid_events.chain`): event *v*
carries the link hash of event *v − 1*. Walking the chain and recomputing each
link hash finds any change to an event that has a successor. The newest event
of a chain has no successor to vouch for it, and a whole chain could be
rewritten by someone who recomputes every hash after the change; both are what
:class:`Checkpoint` is for: a digest of the whole log up to some position,
kept outside the store (printed, filed with the auditor, sent elsewhere).

Verification reads only the stored bytes and needs no key, so erasing a
person's data (destroying their key) never affects it.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from grid_events.chain import GENESIS, LAYOUT_VERSION
from grid_events.exceptions import ValidationError

__all__ = [
    "Checkpoint",
    "Problem",
    "ProblemKind",
    "VerificationReport",
    "take_checkpoint",
    "verify_aggregate",
    "verify_store",
]

# The first bytes of a chained state: fixarray(3), 1, bin8 of 32 bytes.
_CHAINED_HEADER = bytes([0x93, LAYOUT_VERSION, 0xC4, 32])
_PREV = slice(4, 36)
PAGE_SIZE = 2000


class ProblemKind(enum.StrEnum):
    """What verification found wrong with an event."""

    BROKEN_LINK = "broken_link"
    """The event's ``prev`` is not the link hash of its predecessor as stored."""
    BAD_GENESIS = "bad_genesis"
    """The first event of an aggregate does not start from the genesis hash."""
    MISSING_VERSION = "missing_version"
    """A version is missing from the aggregate's sequence."""
    UNREADABLE = "unreadable"
    """The stored state is not in the chained layout at all."""
    LOG_GAP = "log_gap"
    """Notification ids skip a number: a row was removed from the log."""
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    """The log up to a checkpoint no longer hashes to the checkpoint's digest."""
    CHECKPOINT_BEYOND_LOG = "checkpoint_beyond_log"
    """A checkpoint covers more of the log than the store now holds: events were removed."""


@attrs.frozen
class Problem:
    """One thing wrong, naming the event (aggregate and version) and, if known, its log position."""

    kind: ProblemKind
    aggregate_id: UUID | None
    version: int | None
    notification_id: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as JSON-ready data."""
        return {
            "kind": self.kind.value,
            "aggregate_id": str(self.aggregate_id) if self.aggregate_id else None,
            "version": self.version,
            "notification_id": self.notification_id,
            "message": self.message,
        }


@attrs.frozen
class VerificationReport:
    """The outcome of a verification: how much was checked and what was wrong, in log order."""

    events_checked: int
    aggregates_checked: int
    problems: tuple[Problem, ...]
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing was found wrong."""
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The first problem found, or None."""
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "aggregates_checked": self.aggregates_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "problems": [problem.to_dict() for problem in self.problems],
        }


@attrs.frozen
class Checkpoint:
    """A digest of the whole log up to a notification id, to be kept outside the store.

    ``log_hash`` chains every event of the log in order:
    ``h_n = SHA-256(h_{n-1} ‖ n as u64 big-endian ‖ link hash of event n)``,
    starting from 32 zero bytes.
    """

    notification_id: int
    events: int
    log_hash: str
    taken_at: datetime

    def to_json(self) -> str:
        """Return the checkpoint as one line of JSON."""
        return json.dumps(
            {
                "notification_id": self.notification_id,
                "events": self.events,
                "log_hash": self.log_hash,
                "taken_at": self.taken_at.isoformat(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Read a checkpoint written by :meth:`to_json`; raise ValidationError if malformed."""
        try:
            data = json.loads(text)
            checkpoint = cls(
                notification_id=int(data["notification_id"]),
                events=int(data["events"]),
                log_hash=str(data["log_hash"]),
                taken_at=datetime.fromisoformat(data["taken_at"]),
            )
            bytes.fromhex(checkpoint.log_hash)
        except (ValueError, KeyError, TypeError) as e:
            raise ValidationError("checkpoint", f"not a checkpoint written by grid-events: {e}") from e
        return checkpoint


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


_Row = tuple[int | None, UUID | str, int, str, bytes]
"""(notification id or None, aggregate id, version, topic, state): one stored event."""


class _ChainWalker:
    """Checks events one at a time, in log order or aggregate order.

    Aggregates are keyed by their id as the store gives it (hex text from
    SQLite, a UUID elsewhere): converting a million ids to UUIDs would cost
    more than hashing the events.
    """

    def __init__(self) -> None:
        self.heads: dict[UUID | str, tuple[int, bytes]] = {}
        self.problems: list[Problem] = []
        self.events = 0
        self._topics: dict[str, bytes] = {}

    def check(self, row: _Row) -> bytes:
        """Check one event against its aggregate's head; return its link hash."""
        _, key, version, topic, state = row
        self.events += 1
        topic_part = self._topics.get(topic)
        if topic_part is None:
            encoded = topic.encode()
            topic_part = self._topics[topic] = len(encoded).to_bytes(4, "big") + encoded
        id_bytes = key.bytes if isinstance(key, UUID) else bytes.fromhex(key.replace("-", ""))
        digest = hashlib.sha256(id_bytes + version.to_bytes(8, "big") + topic_part + state).digest()
        head = self.heads.get(key)
        self.heads[key] = (version, digest)
        if state[:4] != _CHAINED_HEADER:
            self._add(ProblemKind.UNREADABLE, row, "its stored state is not a chained event")
        elif head is None:
            if version != 1:
                self._add(
                    ProblemKind.MISSING_VERSION,
                    row,
                    f"the aggregate's history starts at version {version}: versions before it were removed",
                )
            elif state[_PREV] != GENESIS:
                self._add(ProblemKind.BAD_GENESIS, row, "the first event does not start a chain")
        elif version != head[0] + 1:
            self._add(
                ProblemKind.MISSING_VERSION,
                row,
                f"follows version {head[0]}: version(s) in between are missing or out of order",
            )
        elif state[_PREV] != head[1]:
            self._add(
                ProblemKind.BROKEN_LINK,
                row,
                f"does not vouch for version {head[0]} as stored: version {head[0]} was altered or "
                f"replaced, or this event's link was changed",
            )
        return digest

    def _add(self, kind: ProblemKind, row: _Row, why: str) -> None:
        notification_id, key, version, topic, _ = row
        aggregate_id = _as_uuid(key)
        self.problems.append(
            Problem(
                kind=kind,
                aggregate_id=aggregate_id,
                version=version,
                notification_id=notification_id,
                message=f"{topic.rpartition(':')[2]} v{version} of {aggregate_id}: {why}",
            )
        )


def _stored_row(stored: StoredEvent, notification_id: int | None) -> _Row:
    return (notification_id, stored.originator_id, stored.originator_version, stored.topic, stored.state)


def verify_aggregate(recorder: ApplicationRecorder, aggregate_id: UUID) -> VerificationReport:
    """Verify the chain of one aggregate (one case), in version order."""
    walker = _ChainWalker()
    for stored in recorder.select_events(aggregate_id):
        walker.check(_stored_row(stored, None))
    return VerificationReport(
        events_checked=walker.events,
        aggregates_checked=1 if walker.events else 0,
        problems=tuple(walker.problems),
    )


def _log(recorder: ApplicationRecorder, page_size: int = PAGE_SIZE) -> Iterator[_Row]:
    """Yield the whole log in order, a page at a time.

    On SQLite the rows are read straight from the events table: eventsourcing's
    reader builds a UUID and a Notification object per row, which costs more
    than the verification itself. Other stores go through the recorder.
    """
    datastore = getattr(recorder, "datastore", None)
    if isinstance(recorder, SQLiteApplicationRecorder) and datastore is not None:
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608 (eventsourcing's table name)
            f"FROM {recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        last = 0
        while True:
            with datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, (last, page_size))
                rows = cursor.fetchall()
            if not rows:
                return
            for row in rows:
                yield (row[0], row[1], row[2], row[3], row[4])
            last = rows[-1][0]
    last = 0
    while True:
        page = recorder.select_notifications(last, page_size, inclusive_of_start=False)
        if not page:
            return
        for notification in page:
            yield _stored_row(notification, notification.id)
        last = page[-1].id


def verify_store(
    recorder: ApplicationRecorder,
    *,
    checkpoints: Iterable[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """Verify every chain in the store, and the whole log against *checkpoints*.

    Reads the log once, in order. *progress*, if given, is called with the
    number of events checked so far, every page.
    """
    walker = _ChainWalker()
    pending = sorted(checkpoints, key=lambda checkpoint: checkpoint.notification_id)
    log_hash = bytes(32)
    expected_id = 1
    checked_checkpoints = 0
    sha256 = hashlib.sha256
    for row in _log(recorder):
        notification_id = row[0]
        assert notification_id is not None  # noqa: S101 (the log always has positions)
        if notification_id != expected_id:
            walker.problems.append(
                Problem(
                    kind=ProblemKind.LOG_GAP,
                    aggregate_id=_as_uuid(row[1]),
                    version=row[2],
                    notification_id=notification_id,
                    message=f"the log jumps from position {expected_id - 1} to {notification_id}: events were removed",
                )
            )
        expected_id = notification_id + 1
        digest = walker.check(row)
        log_hash = sha256(log_hash + notification_id.to_bytes(8, "big") + digest).digest()
        while pending and pending[0].notification_id == notification_id:
            checkpoint = pending.pop(0)
            checked_checkpoints += 1
            if checkpoint.log_hash != log_hash.hex():
                walker.problems.append(
                    Problem(
                        kind=ProblemKind.CHECKPOINT_MISMATCH,
                        aggregate_id=None,
                        version=None,
                        notification_id=checkpoint.notification_id,
                        message=f"the log up to position {checkpoint.notification_id} no longer matches the "
                        f"checkpoint taken {checkpoint.taken_at.isoformat()}: an event at or before it was "
                        "altered, removed, inserted or reordered",
                    )
                )
        if progress is not None and walker.events % PAGE_SIZE == 0:
            progress(walker.events)
    for checkpoint in pending:
        checked_checkpoints += 1
        walker.problems.append(
            Problem(
                kind=ProblemKind.CHECKPOINT_BEYOND_LOG,
                aggregate_id=None,
                version=None,
                notification_id=checkpoint.notification_id,
                message=f"the checkpoint taken {checkpoint.taken_at.isoformat()} covers {checkpoint.events} "
                f"events up to position {checkpoint.notification_id}, but the log ends at {expected_id - 1}: "
                "events were removed",
            )
        )
    if progress is not None:
        progress(walker.events)
    return VerificationReport(
        events_checked=walker.events,
        aggregates_checked=len(walker.heads),
        problems=tuple(walker.problems),
        checkpoints_checked=checked_checkpoints,
    )


def take_checkpoint(recorder: ApplicationRecorder, *, up_to: int | None = None) -> Checkpoint:
    """Return a checkpoint of the log up to notification *up_to* (default: all of it)."""
    walker = _ChainWalker()
    log_hash = bytes(32)
    count = 0
    last_id = 0
    for row in _log(recorder):
        notification_id = row[0]
        assert notification_id is not None  # noqa: S101 (the log always has positions)
        if up_to is not None and notification_id > up_to:
            break
        digest = walker.check(row)
        log_hash = hashlib.sha256(log_hash + notification_id.to_bytes(8, "big") + digest).digest()
        count += 1
        last_id = notification_id
    return Checkpoint(notification_id=last_id, events=count, log_hash=log_hash.hex(), taken_at=datetime.now(UTC))


def problems_by_kind(report: VerificationReport) -> dict[ProblemKind, Sequence[Problem]]:
    """Group a report's problems by kind (for summaries)."""
    grouped: dict[ProblemKind, list[Problem]] = {}
    for problem in report.problems:
        grouped.setdefault(problem.kind, []).append(problem)
    return dict(grouped)
