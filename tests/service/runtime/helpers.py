"""Helpers of the runtime tests: a small projection of our own, events to feed it, waiting for the service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import attrs
import nats
from nats.js.errors import NotFoundError

from grid_events import Actor, GridApplication, GridCell, PersonalData, Resident, ResidentRecord, Role
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay
from grid_service.runtime.auth import ACCOUNT_ROLES, Accounts
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import ServiceSettings, ViewStoreSettings
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.store import ColumnType, Table

WORKER = Actor("w-li", Role.GRID_WORKER)
CELLS = (GridCell("江南", "飞凤", "03"), GridCell("江南", "飞凤", "05"))
PERSON = PersonalData(name="张秀英", id_number="11010519491231002X", phone="13812345678")


def worker_id_of(role: Role) -> str:
    """The worker id of the test account acting in *role* (``auditor-1``)."""
    return f"{role.value.replace('_', '-')}-1"


def make_accounts(path: Path) -> dict[Role, str]:
    """Write an accounts file at *path* with an account for every role a person may have; return their tokens."""
    accounts = Accounts.load(path)
    tokens = {role: accounts.add(worker_id_of(role), role) for role in ACCOUNT_ROLES}
    accounts.save()
    return tokens


def bearer(token: str) -> dict[str, str]:
    """The header that sends *token* as a Bearer token."""
    return {"Authorization": f"Bearer {token}"}


class Failures:
    """Which stream sequences the projection fails on, and how often (``None``: for ever)."""

    def __init__(self) -> None:
        self.left: dict[int, int | None] = {}
        self.attempts: dict[int, int] = {}
        self.errors: dict[int, Callable[[str], Exception]] = {}

    def fail(self, sequence: int, times: int | None = None, error: Callable[[str], Exception] = RuntimeError) -> None:
        """Make the projection fail at *sequence*, *times* times (for ever if None), raising *error*."""
        self.left[sequence] = times
        self.errors[sequence] = error

    def check(self, sequence: int) -> None:
        """Raise if the projection is to fail at *sequence* now."""
        if sequence not in self.left:
            return
        self.attempts[sequence] = self.attempts.get(sequence, 0) + 1
        left = self.left[sequence]
        error = self.errors.get(sequence, RuntimeError)
        if left is None:
            raise error(f"the projection cannot handle sequence {sequence}")
        if left > 0:
            self.left[sequence] = left - 1
            raise error(f"sequence {sequence} failed (transient, {left - 1} more)")


def _cells_table(name: str) -> Table:
    return Table(
        name,
        {
            "resident_id": ColumnType.TEXT,
            "cell": ColumnType.TEXT,
            "events": ColumnType.INT,
            "last_sequence": ColumnType.INT,
            "masked_name": ColumnType.TEXT,
        },
        key=("resident_id",),
    )


class ResidentCells(Projection):
    """Each resident's grid cell, the events seen and the last sequence: order- and duplicate-sensitive."""

    name = "resident_cells"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (_cells_table("resident_cells"),)

    def __init__(self, failures: Failures | None = None) -> None:
        self.failures = failures or Failures()

    @property
    def table_name(self) -> str:
        """The view's one table."""
        return self.tables[0].name

    @handles(Resident.Registered)
    def registered(self, event: Any, ctx: ProjectionContext) -> None:
        self.failures.check(ctx.stream_sequence)
        masked = ctx.masker(event.personal)
        ctx.put(
            self.table_name,
            {
                "resident_id": str(event.originator_id),
                "cell": event.grid.code,
                "events": 1,
                "last_sequence": ctx.stream_sequence,
                "masked_name": masked.name if masked is not None else None,
            },
        )

    @handles(Resident.Transferred)
    def transferred(self, event: Any, ctx: ProjectionContext) -> None:
        self.failures.check(ctx.stream_sequence)
        key = str(event.originator_id)
        row = ctx.get(self.table_name, key)
        assert row is not None, "a transfer before the registration: events out of order"
        assert row["last_sequence"] < ctx.stream_sequence, "an event applied twice or out of order"
        ctx.update(
            self.table_name, key, cell=event.grid.code, events=row["events"] + 1, last_sequence=ctx.stream_sequence
        )


class OtherResidentCells(ResidentCells):
    """The same view under another name, in tables of its own."""

    name = "other_resident_cells"
    tables: ClassVar[tuple[Table, ...]] = (_cells_table("other_resident_cells"),)


class EventWriter:
    """Stores resident events: bulk imports and single transfers, round robin (many aggregates interleaved)."""

    def __init__(self, app: GridApplication, *, import_size: int = 20) -> None:
        self.app = app
        self.import_size = import_size
        self.cells: dict[UUID, int] = {}
        self.events: dict[UUID, int] = {}
        self._turn = 0

    def write(self, events: int) -> int:
        """Store at least *events* events; return the last notification id."""
        written = 0
        while written < events:
            if not self.cells or written % 100 == 0:
                ids = self.app.import_residents([ResidentRecord(PERSON, CELLS[0])] * self.import_size, actor=WORKER)
                self.cells.update(dict.fromkeys(ids, 0))
                self.events.update(dict.fromkeys(ids, 1))
                written += len(ids)
                continue
            residents = list(self.cells)
            resident_id = residents[self._turn % len(residents)]
            self._turn += 1
            cell = 1 - self.cells[resident_id]
            self.app.transfer_resident(resident_id, CELLS[cell], actor=WORKER, reason="moved")
            self.cells[resident_id] = cell
            self.events[resident_id] += 1
            written += 1
        return self.app.recorder.max_notification_id() or 0

    def expected(self) -> list[tuple[str, str, int]]:
        """Return (resident id, cell code, events) of every resident, sorted: what the view must hold."""
        return sorted((str(rid), CELLS[cell].code, self.events[rid]) for rid, cell in self.cells.items())


def view_rows(service: GridService, name: str = "resident_cells") -> list[tuple[str, str, int]]:
    """Return (resident id, cell, events) of every row of a test view."""
    rows = service.engine.contents(name)[name]
    return sorted((row[0], row[1], row[2]) for row in rows)


def fast_settings(
    nats_settings: NatsSettings,
    views: ViewStoreSettings,
    **changes: Any,
) -> ServiceSettings:
    """Service settings with short waits, so tests notice things quickly."""
    values: dict[str, Any] = {
        "views": views,
        "nats": nats_settings,
        "batch_size": 100,
        "fetch_timeout": 0.2,
        "ack_wait": 5.0,
        "backoff": (0.05, 0.1),
        "stream_poll_interval": 0.2,
        "retry_delay": 0.05,
        "max_retry_delay": 0.5,
        "drain_timeout": 5.0,
        "http_port": 0,
    }
    values.update(changes)
    return ServiceSettings(**values)


async def wait_until(probe: Callable[[], Awaitable[bool] | bool], *, within: float, interval: float = 0.02) -> None:
    """Wait until *probe* returns true, for at most *within* seconds."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {within} s")
        await asyncio.sleep(interval)


async def stream_last_sequence(url: str, stream: str = "GRID_EVENTS") -> int:
    """Return the stream's last sequence (0 if there is no stream yet)."""
    client = await nats.connect(url)
    try:
        try:
            info = await client.jetstream().stream_info(stream)
        except NotFoundError:
            return 0
        return int(info.state.last_seq or 0)
    finally:
        await client.close()


async def publish_garbage(url: str, subject: str = "grid.events.task.00000000-0000-4000-8000-000000000000") -> int:
    """Publish a message that is not a grid event on the stream's subjects; return its stream sequence."""
    client = await nats.connect(url)
    try:
        ack = await client.jetstream().publish(
            subject, b"\x93not msgpack at all", headers={"Content-Type": "text/plain"}
        )
        return int(ack.seq)
    finally:
        await client.close()


def caught_up(service: GridService, last: int) -> Callable[[], bool]:
    """Return a probe: every view of *service* has applied the stream up to *last*."""

    def probe() -> bool:
        return all(status.position >= last for status in service.statuses())

    return probe


async def publish_tampered_copy(url: str, relay: OutboxRelay | None = None, stream: str = "GRID_EVENTS") -> int:
    """Publish a copy of the stream's last event with its body altered; return its stream sequence.

    The copy keeps the event's headers (so the outbox relay, restarted, still
    finds its own event at the end of the stream and carries on) but its body
    no longer matches its link hash: every consumer must refuse it. *relay* is
    stopped meanwhile: the relay owns the stream, and a message slipped in
    between its pipelined publishes would make it lose one.
    """
    if relay is not None:
        await relay.wait_caught_up(timeout=30)
        await relay.stop()
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        last = int((await js.stream_info(stream)).state.last_seq)
        original = await js.get_msg(stream, seq=last)
        headers = {
            name: value
            for name, value in (original.headers or {}).items()
            if not name.startswith(("Nats-Msg-Id", "Nats-Expected"))
        }
        body = bytearray(original.data or b"")
        body[-1] ^= 0xFF
        ack = await js.publish(original.subject or "", bytes(body), headers=headers)
    finally:
        await client.close()
    if relay is not None:
        await relay.start()
    return int(ack.seq)


@attrs.define
class Harness:
    """What a runtime test works with: the event store's application, its writer and relay, NATS, a view store."""

    app: GridApplication
    writer: EventWriter
    relay: OutboxRelay
    server: EmbeddedNatsServer
    nats: NatsSettings
    views: ViewStoreSettings

    def settings(self, **changes: Any) -> ServiceSettings:
        """Fast service settings on this harness's NATS, view store and event store."""
        return fast_settings(self.nats, self.views, event_store=self.app.config, **changes)

    async def write(self, events: int) -> int:
        """Store at least *events* events (off the event loop); return the last notification id."""
        return await asyncio.to_thread(self.writer.write, events)

    async def relayed(self) -> int:
        """Wait until the relay has published everything stored; return the last notification id."""
        return await self.relay.wait_caught_up(timeout=30)
