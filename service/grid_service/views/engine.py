r"""ProjectionEngine: applies deliveries to projections exactly once, and rebuilds them.

Exactly once: a batch of deliveries is applied in ONE transaction that also
advances the projection's position (the last stream sequence applied). A
delivery at or below the position (a redelivery, a duplicate, an overlapping
batch) changes nothing. The runtime acknowledges a message only after the
transaction that applied it committed, so a crash at any moment leaves the
view and its position agreeing, and the stream redelivers what is missing.

Failures: on the first delivery that cannot be decoded or projected, the ones
before it are committed (with the position just before it), and
:class:`~grid_service.views.base.ProjectionFailed` names it. The runtime then
retries, records a dead letter, and either stops the projection or
:meth:`ProjectionEngine.skip`\\ s the message.

Rebuild: :meth:`ProjectionEngine.begin_rebuild` makes a fresh generation of
the projection's tables; :meth:`ProjectionEngine.apply_to_generation` fills it
from stream sequence 1 while readers keep reading (and the live consumer keeps
feeding) the active one; :meth:`ProjectionEngine.finish_rebuild` switches
readers to it in one transaction, once it has caught up, and drops the old one.
"""

from __future__ import annotations

import collections
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from grid_events import EventMapper, MsgpackTranscoder
from grid_events.transport import EventMessage
from grid_service.views.base import (
    BoundTable,
    DeadLetter,
    Delivery,
    Handler,
    Masker,
    Projection,
    ProjectionContext,
    ProjectionFailed,
    ProjectionOutdatedError,
    ProjectionState,
    RebuildError,
    RunState,
    UnknownProjectionError,
)
from grid_service.views.store import (
    INTERNAL_TABLES,
    ColumnType,
    Table,
    Transaction,
    ViewStore,
    ViewStoreError,
    canonical_json,
    utc_text,
)

__all__ = ["ProjectionEngine", "is_unavailable"]

Clock = Callable[[], datetime]


_UNAVAILABLE_SQLITE = ("locked", "busy", "unable to open", "disk i/o")
"""What sqlite3.OperationalError says when the database is unavailable, not when a statement is wrong."""


def is_unavailable(error: BaseException) -> bool:
    """Whether *error* (or what caused it) says a store or the network is unavailable for now.

    Such a failure is not the delivery's: the batch is retried as long as it
    takes (the consumer reports it and backs off) instead of counting as an
    attempt towards a dead letter. A projection that masks personal data reads
    keys from the event store, so the event store being down must not turn
    every registration into a dead letter.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if isinstance(current, sqlite3.OperationalError):
            text = str(current).lower()
            if any(words in text for words in _UNAVAILABLE_SQLITE):
                return True
        for module, names in (
            ("psycopg", ("OperationalError", "InterfaceError")),
            ("eventsourcing.persistence", ("OperationalError", "InterfaceError")),
        ):
            loaded = sys.modules.get(module)
            if loaded is not None and isinstance(current, tuple(getattr(loaded, name) for name in names)):
                return True
        current = current.__cause__ or current.__context__
    return False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _DecodedEvents:
    """A small LRU of decoded domain events, shared by the projections of one engine.

    Projections fed the same stream decode each message once. An entry is used
    only for a message with the very same body bytes.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: collections.OrderedDict[tuple[Any, int], tuple[bytes, Any]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, message: EventMessage) -> Any | None:  # noqa: ANN401 (a domain event)
        key = (message.aggregate_id, message.aggregate_version)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != message.state:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, message: EventMessage, event: Any) -> None:  # noqa: ANN401
        if self._size <= 0:
            return
        key = (message.aggregate_id, message.aggregate_version)
        with self._lock:
            self._entries[key] = (message.state, event)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class _FlushFailedError(Exception):
    """Writing a batch's rows failed: the batch is re-applied one delivery at a time to find the culprit."""


class _Registered:
    """A projection and what the engine derived from it."""

    __slots__ = ("handlers", "prefetch", "projection")

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.handlers: dict[str, Handler] = projection.handlers()
        self.prefetch = tuple(table.name for table in projection.tables if table.prefetch)


class ProjectionEngine:
    """Applies deliveries to projections in a :class:`ViewStore`, exactly once; rebuilds them.

    *masker* turns a resident's sealed personal data into masked identifiers
    for the registry. *clock* gives the times recorded on positions, states
    and dead letters (default: now, UTC). The store must be open.
    """

    def __init__(
        self,
        store: ViewStore,
        projections: Sequence[Projection],
        masker: Masker,
        *,
        clock: Clock | None = None,
        decode_cache_size: int = 2048,
    ) -> None:
        if not store.is_open:
            raise ViewStoreError("open the view store before building the engine on it")
        self.store = store
        self.masker = masker
        self._clock = clock or _utc_now
        self._mapper = EventMapper(MsgpackTranscoder())
        self._decoded = _DecodedEvents(decode_cache_size)
        self._registered: dict[str, _Registered] = {}
        self._bound: dict[tuple[str, int], dict[str, BoundTable]] = {}
        seen_tables: dict[str, str] = {}
        for projection in projections:
            if projection.name in self._registered:
                raise ViewStoreError(f"two projections are named {projection.name!r}")
            for table in projection.tables:
                owner = seen_tables.setdefault(table.name, projection.name)
                if owner != projection.name or sum(t.name == table.name for t in projection.tables) > 1:
                    raise ViewStoreError(f"table {table.name!r} is defined twice ({owner}, {projection.name})")
            self._registered[projection.name] = _Registered(projection)
        with store.transaction() as tx:
            for registered in self._registered.values():
                self._register(tx, registered.projection)

    # -- what is registered --------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """The names of the projections, in the order given."""
        return list(self._registered)

    def projection(self, name: str) -> Projection:
        """Return the projection *name*."""
        return self._get(name).projection

    def _get(self, name: str) -> _Registered:
        try:
            return self._registered[name]
        except KeyError:
            raise UnknownProjectionError(f"no projection {name!r} (known: {', '.join(self._registered)})") from None

    def _register(self, tx: Transaction, projection: Projection) -> None:
        name = projection.name
        now = tx.value(ColumnType.TIMESTAMP, self._clock())
        active = tx.fetchone("SELECT generation FROM gv_active WHERE projection = ?", (name,))
        if active is None:
            generation = self._next_generation(tx, name)
            self._create_generation(tx, projection, generation)
            tx.execute(
                "INSERT INTO gv_active (projection, generation, since) VALUES (?, ?, ?)", (name, generation, now)
            )
        else:
            generation = int(active[0])
            if self._generation_version(tx, name, generation) == projection.version:
                self._check_tables(tx, projection, generation)
        if tx.fetchone("SELECT state FROM gv_states WHERE projection = ?", (name,)) is None:
            self._write_state(tx, name, RunState.RUNNING, "registered")
        stored_version = self._generation_version(tx, name, generation)
        if stored_version == _DAMAGED:
            self._write_state(
                tx, name, RunState.STOPPED, f"tables of the active generation {generation} are missing: rebuild it"
            )
        elif stored_version != projection.version:
            state = tx.fetchone("SELECT state FROM gv_states WHERE projection = ?", (name,))
            if state is None or state[0] != RunState.REBUILDING.value:
                self._write_state(
                    tx,
                    name,
                    RunState.STOPPED,
                    f"the active generation {generation} was built by version {stored_version} of the projection; "
                    f"this is version {projection.version}: rebuild it",
                )

    # -- positions and generations ----------------------------------------------------------------

    def position(self, name: str, generation: int | None = None) -> int:
        """Return the last stream sequence applied to *name* (its active generation unless given); 0: none."""
        self._get(name)

        def read(tx: Transaction) -> int:
            target = generation or self._active(tx, name)
            row = tx.fetchone(
                "SELECT stream_sequence FROM gv_positions WHERE projection = ? AND generation = ?", (name, target)
            )
            if row is None:
                raise UnknownProjectionError(f"projection {name} has no generation {target}")
            return int(row[0])

        return self.store.run_read(read)

    def generation(self, name: str) -> int:
        """Return the active generation of *name* (the one readers see)."""
        self._get(name)
        return self.store.run_read(lambda tx: self._active(tx, name))

    def rebuilding_generation(self, name: str) -> int | None:
        """Return the generation being rebuilt for *name*, or None."""
        self._get(name)
        return self.store.run_read(lambda tx: self._building(tx, name))

    @staticmethod
    def _active(tx: Transaction, name: str, *, lock: str = "") -> int:
        row = tx.fetchone(f"SELECT generation FROM gv_active WHERE projection = ?{lock}", (name,))  # noqa: S608 (a lock clause, not a value)
        if row is None:
            raise UnknownProjectionError(f"projection {name} is not registered in this store")
        return int(row[0])

    @staticmethod
    def _building(tx: Transaction, name: str) -> int | None:
        row = tx.fetchone(
            "SELECT MAX(p.generation) FROM gv_positions p JOIN gv_active a ON a.projection = p.projection "
            "WHERE p.projection = ? AND p.generation <> a.generation",
            (name,),
        )
        return None if row is None or row[0] is None else int(row[0])

    @staticmethod
    def _next_generation(tx: Transaction, name: str) -> int:
        row = tx.fetchone("SELECT MAX(generation) FROM gv_positions WHERE projection = ?", (name,))
        return 1 if row is None or row[0] is None else int(row[0]) + 1

    @staticmethod
    def _generation_version(tx: Transaction, name: str, generation: int) -> int:
        row = tx.fetchone(
            "SELECT version FROM gv_positions WHERE projection = ? AND generation = ?", (name, generation)
        )
        if row is None:
            raise UnknownProjectionError(f"projection {name} has no generation {generation}")
        return int(row[0])

    def _check_tables(self, tx: Transaction, projection: Projection, generation: int) -> None:
        """Create what is missing of *generation*'s tables and indexes; mark it damaged if fed tables vanished."""
        existing = tx.table_names()
        missing = [table.name for table in projection.tables if table.physical_name(generation) not in existing]
        row = tx.fetchone(
            "SELECT stream_sequence FROM gv_positions WHERE projection = ? AND generation = ?",
            (projection.name, generation),
        )
        if missing and row is not None and int(row[0]) > 0:
            tx.execute(
                "UPDATE gv_positions SET version = ? WHERE projection = ? AND generation = ?",
                (_DAMAGED, projection.name, generation),
            )
        self._create_tables(tx, projection, generation)

    def _create_tables(self, tx: Transaction, projection: Projection, generation: int) -> None:
        for table in projection.tables:
            for statement in table.create_statements(tx.backend, table.physical_name(generation)):
                tx.execute(statement)

    def _create_generation(self, tx: Transaction, projection: Projection, generation: int) -> None:
        self._create_tables(tx, projection, generation)
        now = tx.value(ColumnType.TIMESTAMP, self._clock())
        tx.execute(
            "INSERT INTO gv_positions (projection, generation, version, stream_sequence, created_at, updated_at) "
            "VALUES (?, ?, ?, 0, ?, ?)",
            (projection.name, generation, projection.version, now, now),
        )

    def _drop_generation(self, tx: Transaction, projection: Projection, generation: int) -> None:
        for table in projection.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table.physical_name(generation)}")
        tx.execute("DELETE FROM gv_positions WHERE projection = ? AND generation = ?", (projection.name, generation))

    def _bound_tables(self, projection: Projection, generation: int) -> dict[str, BoundTable]:
        key = (projection.name, generation)
        bound = self._bound.get(key)
        if bound is None:
            bound = {table.name: BoundTable(table, generation, self.store.backend) for table in projection.tables}
            self._bound[key] = bound
        return bound

    # -- applying ----------------------------------------------------------------------------------

    def apply(self, name: str, deliveries: Iterable[Delivery]) -> int:
        """Apply *deliveries* to the active generation of *name* in one transaction; return how many were new.

        Deliveries at or below the position change nothing (nor are they
        counted); the rest are applied in stream order, whether the projection
        reads their event or not, and the position moves to the last. On the
        first failing delivery, those before it are committed and
        :class:`ProjectionFailed` is raised.
        """
        return self._apply(name, None, deliveries)

    def apply_to_generation(self, name: str, generation: int, deliveries: Iterable[Delivery]) -> int:
        """Like :meth:`apply`, into *generation* (the one :meth:`begin_rebuild` returned)."""
        return self._apply(name, generation, deliveries)

    def _apply(self, name: str, generation: int | None, deliveries: Iterable[Delivery]) -> int:
        registered = self._get(name)
        batch = sorted(deliveries, key=_sequence)
        if not batch:
            return 0
        try:
            return self._apply_batch(registered, generation, batch, one_by_one=False)
        except _FlushFailedError:
            return self._apply_batch(registered, generation, batch, one_by_one=True)

    def _apply_batch(
        self, registered: _Registered, generation: int | None, batch: list[Delivery], *, one_by_one: bool
    ) -> int:
        projection = registered.projection
        failure: ProjectionFailed | None = None
        with self.store.transaction() as tx:
            target, position = self._lock_for_apply(tx, projection, generation)
            pending = _new_deliveries(batch, position)
            if not pending:
                return 0
            ctx = ProjectionContext(tx, self._bound_tables(projection, target), self.masker)
            if registered.prefetch:
                handled = registered.handlers
                ids = [str(d.message.aggregate_id) for d in pending if d.message.topic in handled]
                for table in registered.prefetch:
                    ctx.prefetch(table, ids)
            if one_by_one:
                applied, failure = self._project_one_by_one(tx, ctx, registered, pending)
            else:
                applied, failure = self._project(ctx, registered, pending)
                try:
                    ctx.flush()
                except Exception as e:
                    raise _FlushFailedError from e
            if applied:
                tx.execute(
                    _ADVANCE,
                    (
                        pending[applied - 1].stream_sequence,
                        tx.value(ColumnType.TIMESTAMP, self._clock()),
                        projection.name,
                        target,
                    ),
                )
        if failure is not None:
            raise failure
        return applied

    def _lock_for_apply(self, tx: Transaction, projection: Projection, generation: int | None) -> tuple[int, int]:
        """Return (generation, position), locking the position against other writers until the commit."""
        name = projection.name
        target = self._active(tx, name, lock=tx.share_suffix) if generation is None else generation
        row = tx.fetchone(
            "SELECT version, stream_sequence FROM gv_positions WHERE projection = ? AND generation = ?"  # noqa: S608 (a lock clause, not a value)
            + tx.lock_suffix,
            (name, target),
        )
        if row is None:
            raise UnknownProjectionError(f"projection {name} has no generation {target}")
        if int(row[0]) != projection.version:
            raise ProjectionOutdatedError(
                f"generation {target} of {name} was built by version {row[0]} of the projection, this is version "
                f"{projection.version}: rebuild it (begin_rebuild, apply_to_generation, finish_rebuild)"
            )
        return target, int(row[1])

    def _project(
        self, ctx: ProjectionContext, registered: _Registered, pending: list[Delivery]
    ) -> tuple[int, ProjectionFailed | None]:
        """Project *pending* in order; return how many succeeded, and the failure that stopped it, if any."""
        handlers = registered.handlers
        name = registered.projection.name
        for index, delivery in enumerate(pending):
            handler = handlers.get(delivery.message.topic)
            if handler is None:
                continue
            try:
                event = self._decode(delivery.message)
            except Exception as e:  # noqa: BLE001 (any failure to decode is this delivery's)
                return index, ProjectionFailed(delivery, e, "decode", name)
            ctx.begin_event(delivery)
            try:
                handler(event, ctx)
            except Exception as e:
                ctx.undo_event()
                if is_unavailable(e):
                    raise  # not this delivery's fault: the caller retries the batch, no dead letter
                return index, ProjectionFailed(delivery, e, "project", name)
            ctx.end_event()
        return len(pending), None

    def _project_one_by_one(
        self, tx: Transaction, ctx: ProjectionContext, registered: _Registered, pending: list[Delivery]
    ) -> tuple[int, ProjectionFailed | None]:
        """Project and write each delivery under its own savepoint, to find the one whose rows cannot be written."""
        for index, delivery in enumerate(pending):
            try:
                with tx.savepoint():
                    _, failure = self._project(ctx, registered, [delivery])
                    if failure is not None:
                        return index, failure
                    ctx.flush()
            except Exception as e:
                if is_unavailable(e):
                    raise
                return index, ProjectionFailed(delivery, e, "project", registered.projection.name)
        return len(pending), None

    def _decode(self, message: EventMessage) -> Any:  # noqa: ANN401 (a domain event)
        event = self._decoded.get(message)
        if event is None:
            event = self._mapper.to_domain_event(message.stored_event())
            self._decoded.put(message, event)
        return event

    # -- poison messages ---------------------------------------------------------------------------

    def skip(self, name: str, stream_sequence: int, error: str, *, generation: int | None = None) -> None:
        """Record a dead letter for *stream_sequence* (unless one is recorded) and move the position past it.

        One transaction. The position moves to *stream_sequence* only if it is
        behind it: skipping a message already passed records it and changes
        nothing else.
        """
        projection = self._get(name).projection
        with self.store.transaction() as tx:
            target = self._active(tx, name, lock=tx.share_suffix) if generation is None else generation
            row = tx.fetchone(
                "SELECT stream_sequence FROM gv_positions WHERE projection = ? AND generation = ?"  # noqa: S608
                + tx.lock_suffix,
                (name, target),
            )
            if row is None:
                raise UnknownProjectionError(f"projection {name} has no generation {target}")
            now = tx.value(ColumnType.TIMESTAMP, self._clock())
            tx.execute(
                "INSERT INTO gv_dead_letters (projection, stream_sequence, subject, headers, data, error, attempts, "
                "recorded_at, skipped) VALUES (?, ?, '', '{}', ?, ?, 0, ?, ?) "
                "ON CONFLICT (projection, stream_sequence) DO UPDATE SET skipped = excluded.skipped",
                (name, stream_sequence, b"", str(error), now, tx.value(ColumnType.BOOL, True)),  # noqa: FBT003
            )
            if stream_sequence > int(row[0]):
                tx.execute(_ADVANCE, (stream_sequence, now, projection.name, target))

    def record_dead_letter(  # noqa: PLR0917 (the contract's signature)
        self,
        name: str,
        stream_sequence: int,
        subject: str,
        headers: Mapping[str, str] | None,
        data: bytes,
        error: str,
        attempts: int,
    ) -> None:
        """Keep a message *name* could not apply, with its error (replacing an earlier record of it)."""
        self._get(name)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO gv_dead_letters (projection, stream_sequence, subject, headers, data, error, attempts, "
                "recorded_at, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (projection, stream_sequence) DO UPDATE SET subject = excluded.subject, "
                "headers = excluded.headers, data = excluded.data, error = excluded.error, "
                "attempts = excluded.attempts, recorded_at = excluded.recorded_at",
                (
                    name,
                    stream_sequence,
                    subject,
                    canonical_json(dict(headers or {})),
                    bytes(data),
                    str(error),
                    int(attempts),
                    tx.value(ColumnType.TIMESTAMP, self._clock()),
                    tx.value(ColumnType.BOOL, False),  # noqa: FBT003
                ),
            )

    def dead_letters(self, name: str | None = None) -> list[DeadLetter]:
        """Return the dead letters of *name* (of every projection if None), by projection and stream sequence."""
        table = _DEAD_LETTERS
        readers = table.readers(self.store.backend)
        columns = ", ".join(table.column_names)
        if name is not None:
            self._get(name)

        def read(tx: Transaction) -> list[tuple[Any, ...]]:
            if name is None:
                return tx.fetchall(f"SELECT {columns} FROM gv_dead_letters ORDER BY projection, stream_sequence")  # noqa: S608 (identifiers from table definitions; values are parameters)
            return tx.fetchall(
                f"SELECT {columns} FROM gv_dead_letters WHERE projection = ? ORDER BY stream_sequence",  # noqa: S608 (identifiers from table definitions; values are parameters)
                (name,),
            )

        rows = self.store.run_read(read)
        letters = []
        for values in rows:
            row = dict(zip(table.column_names, _adapt(readers, values), strict=True))
            letters.append(DeadLetter(**row))
        return letters

    # -- states --------------------------------------------------------------------------------------

    def set_state(self, name: str, state: RunState | str, reason: str = "") -> None:
        """Record that *name* is running, stopped (say why) or rebuilding."""
        self._get(name)
        run_state = RunState(state)
        with self.store.transaction() as tx:
            self._write_state(tx, name, run_state, reason)

    def _write_state(self, tx: Transaction, name: str, state: RunState, reason: str) -> None:
        current = tx.fetchone("SELECT state, reason FROM gv_states WHERE projection = ?", (name,))
        if current is not None and current[0] == state.value and current[1] == reason:
            return
        tx.execute(
            "INSERT INTO gv_states (projection, state, reason, since) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (projection) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
            "since = excluded.since",
            (name, state.value, reason, tx.value(ColumnType.TIMESTAMP, self._clock())),
        )

    def state(self, name: str) -> ProjectionState:
        """Return the state of *name*, why and since when, with its active generation and position."""
        self._get(name)

        def read(tx: Transaction) -> tuple[Any, int, Any, int | None]:
            state = tx.fetchone("SELECT state, reason, since FROM gv_states WHERE projection = ?", (name,))
            generation = self._active(tx, name)
            position = tx.fetchone(
                "SELECT stream_sequence, version FROM gv_positions WHERE projection = ? AND generation = ?",
                (name, generation),
            )
            return state, generation, position, self._building(tx, name)

        state, generation, position, building = self.store.run_read(read)
        if state is None or position is None:
            raise UnknownProjectionError(f"projection {name} is not registered in this store")
        since = _STATE_SINCE_READER[self.store.backend](state[2])
        return ProjectionState(
            name=name,
            state=RunState(state[0]),
            reason=state[1],
            since=since,
            generation=generation,
            position=int(position[0]),
            version=int(position[1]),
            rebuilding_generation=building,
        )

    # -- rebuilding ------------------------------------------------------------------------------------

    def begin_rebuild(self, name: str) -> int:
        """Create a fresh, empty generation of *name*'s tables (position 0) and return its number.

        A rebuild already under way is abandoned (its generation dropped).
        The state becomes ``rebuilding``; readers and :meth:`apply` keep using
        the active generation.
        """
        projection = self._get(name).projection
        with self.store.transaction() as tx:
            active = self._active(tx, name, lock=tx.lock_suffix)
            building = self._building(tx, name)
            generation = self._next_generation(tx, name)
            if building is not None:
                self._drop_generation(tx, projection, building)
            self._create_generation(tx, projection, generation)
            self._write_state(
                tx, name, RunState.REBUILDING, f"rebuilding into generation {generation} (active: {active})"
            )
        return generation

    def finish_rebuild(self, name: str, generation: int) -> None:
        """Switch readers to *generation* in one transaction and drop the old generation.

        Raises :class:`RebuildError` if *generation* is unknown or behind the
        active generation's position: feed it until it has caught up.
        """
        projection = self._get(name).projection
        with self.store.transaction() as tx:
            active = self._active(tx, name, lock=tx.lock_suffix)
            if generation == active:
                self._write_state(tx, name, RunState.RUNNING, f"generation {generation} is active")
                return
            rows = dict(
                tx.fetchall(
                    "SELECT generation, stream_sequence FROM gv_positions WHERE projection = ? "  # noqa: S608 (a lock clause, not a value)
                    f"AND generation IN (?, ?){tx.lock_suffix}",
                    (name, active, generation),
                )
            )
            if generation not in rows:
                raise RebuildError(f"projection {name} has no generation {generation} to switch to")
            new_position, old_position = int(rows[generation]), int(rows.get(active, 0))
            if new_position < old_position:
                raise RebuildError(
                    f"generation {generation} of {name} is at stream sequence {new_position}, behind the active "
                    f"generation {active} at {old_position}: let it catch up first"
                )
            if self._generation_version(tx, name, generation) != projection.version:
                raise RebuildError(f"generation {generation} of {name} was built by another version")
            tx.execute(
                "UPDATE gv_active SET generation = ?, since = ? WHERE projection = ?",
                (generation, tx.value(ColumnType.TIMESTAMP, self._clock()), name),
            )
            self._drop_generation(tx, projection, active)
            self._write_state(
                tx, name, RunState.RUNNING, f"rebuilt: generation {generation} at stream sequence {new_position}"
            )
        self._bound.pop((name, active), None)

    def abandon_rebuild(self, name: str, generation: int) -> None:
        """Drop *generation* (a rebuild given up); the active generation stays as it is."""
        projection = self._get(name).projection
        with self.store.transaction() as tx:
            active = self._active(tx, name, lock=tx.lock_suffix)
            if generation == active:
                raise RebuildError(f"generation {generation} of {name} is the active one: it cannot be abandoned")
            self._drop_generation(tx, projection, generation)
            if self._generation_version(tx, name, active) == projection.version:
                self._write_state(tx, name, RunState.RUNNING, f"rebuild into generation {generation} abandoned")
            else:
                self._write_state(
                    tx, name, RunState.STOPPED, f"rebuild abandoned; generation {active} is outdated: rebuild it"
                )
        self._bound.pop((name, generation), None)

    # -- comparing -----------------------------------------------------------------------------------------

    def contents(self, name: str, generation: int | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Return every row of every table of *name* (its active generation unless given), sorted.

        Values are normalised so that SQLite and PostgreSQL give equal
        contents for equal views: timestamps and dates as ISO text, JSON as
        canonical text, booleans as bool.
        """
        projection = self._get(name).projection

        def read(tx: Transaction) -> dict[str, list[tuple[Any, ...]]]:
            target = generation or self._active(tx, name)
            contents: dict[str, list[tuple[Any, ...]]] = {}
            for table in projection.tables:
                readers = table.readers(self.store.backend)
                normal = _normalisers(table)
                columns = ", ".join(table.column_names)
                rows = tx.fetchall(f"SELECT {columns} FROM {table.physical_name(target)}")  # noqa: S608 (identifiers from table definitions; values are parameters)
                contents[table.name] = sorted((_adapt(normal, _adapt(readers, row)) for row in rows), key=_sortable_row)
            return contents

        return self.store.run_read(read)


_DAMAGED = 0
"""The version recorded for a generation whose tables went missing after it was fed: it must be rebuilt."""

_ADVANCE = "UPDATE gv_positions SET stream_sequence = ?, updated_at = ? WHERE projection = ? AND generation = ?"


def _sequence(delivery: Delivery) -> int:
    return delivery.stream_sequence


def _new_deliveries(batch: list[Delivery], position: int) -> list[Delivery]:
    """Return the deliveries of *batch* (sorted) after *position*, each stream sequence once."""
    pending = []
    last = position
    for delivery in batch:
        if delivery.stream_sequence > last:
            pending.append(delivery)
            last = delivery.stream_sequence
    return pending


def _adapt(adapters: Sequence[Callable[[Any], Any] | None], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(
        value if adapter is None or value is None else adapter(value)
        for adapter, value in zip(adapters, values, strict=True)
    )


def _iso(value: Any) -> str:  # noqa: ANN401 (a date or a datetime)
    return utc_text(value) if isinstance(value, datetime) else str(value.isoformat())


_NORMALISE: Mapping[ColumnType, Callable[[Any], Any] | None] = {
    ColumnType.TEXT: None,
    ColumnType.INT: int,
    ColumnType.BOOL: bool,
    ColumnType.TIMESTAMP: _iso,
    ColumnType.DATE: _iso,
    ColumnType.JSON: canonical_json,
    ColumnType.BYTES: bytes,
}


def _normalisers(table: Table) -> tuple[Callable[[Any], Any] | None, ...]:
    return tuple(_NORMALISE[column.type] for column in table.columns)


def _sortable_row(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, "") if value is None else (1, value) for value in row)


_DEAD_LETTERS = dict(INTERNAL_TABLES)["gv_dead_letters"]


def _since_sqlite(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _since_postgres(value: datetime) -> datetime:
    return value.astimezone(UTC)


_STATE_SINCE_READER: Mapping[str, Callable[[Any], datetime]] = {
    "sqlite": _since_sqlite,
    "postgres": _since_postgres,
}
