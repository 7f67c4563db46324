"""What projections are made of: deliveries, the masker, the projection base class and its context, errors.

A :class:`Projection` is pure: given a domain event and a
:class:`ProjectionContext` it reads and writes rows through the context, and
does nothing else. The context is a unit of work over one transaction: rows
read once are kept for the rest of the batch, changes are written in bulk
when the batch commits (with the projection's position), and the changes of
an event whose handler raises are undone before anything is written.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

import attrs

from grid_events import PersonalData, PersonalDataErasedError, SealedData, mask_id_number, mask_name, mask_phone
from grid_events.transport import EventMessage
from grid_service.views.store import Backend, Table, Transaction, ViewsError, ViewStoreError

__all__ = [
    "DeadLetter",
    "Delivery",
    "Handler",
    "MaskedPerson",
    "Masker",
    "Projection",
    "ProjectionContext",
    "ProjectionFailed",
    "ProjectionOutdatedError",
    "ProjectionState",
    "RebuildError",
    "RunState",
    "UnknownProjectionError",
    "VaultMasker",
    "ViewStoreError",
    "ViewsError",
    "handles",
    "mask_nothing",
    "topic_of",
]

Key = tuple[Any, ...]
Row = Mapping[str, Any]
F = TypeVar("F", bound=Callable[..., None])


# -- deliveries ------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Delivery:
    """One message as delivered: its stream sequence and the decoded (but not yet projected) event message."""

    stream_sequence: int
    message: EventMessage

    def describe(self) -> str:
        """Return ``#42 grid_events.domain.task:Task.Assigned 4f0c…:3`` (no body)."""
        message = self.message
        return f"#{self.stream_sequence} {message.topic} {message.aggregate_id}:{message.aggregate_version}"


# -- masking -------------------------------------------------------------------------------------


@attrs.frozen
class MaskedPerson:
    """A resident's name, ID number and phone as the registry shows them: masked (``张**``, ``330***…1234``)."""

    name: str
    id_number: str
    phone: str

    @classmethod
    def of(cls, data: PersonalData) -> MaskedPerson:
        """Return the masked identifiers of *data*."""
        return cls(mask_name(data.name), mask_id_number(data.id_number), mask_phone(data.phone))


class Masker(Protocol):
    """Masked name / ID number / phone of a sealed PersonalData, or None once erased (or not a resident's record)."""

    def __call__(self, sealed: SealedData) -> MaskedPerson | None:
        """Return the masked identifiers sealed in *sealed*, or None."""
        ...


class VaultMasker:
    """A :class:`Masker` that opens sealed data with *open_sealed* (``app.vault.open``) and masks it.

    Erased data (the subject's key destroyed) gives None; any other failure
    to open (the key store unreachable, a tampered ciphertext) raises, so the
    delivery fails and is retried rather than projected without its data.
    """

    def __init__(self, open_sealed: Callable[[SealedData], object]) -> None:
        self._open = open_sealed

    def __call__(self, sealed: SealedData) -> MaskedPerson | None:
        """Return the masked identifiers sealed in *sealed*; None once erased or if it is not a resident's record."""
        try:
            value = self._open(sealed)
        except PersonalDataErasedError:
            return None
        return MaskedPerson.of(value) if isinstance(value, PersonalData) else None


def mask_nothing(sealed: SealedData) -> MaskedPerson | None:  # noqa: ARG001 (the Masker signature)
    """Mask nothing: the :class:`Masker` of a process without keys (the registry shows no masked identifiers)."""
    return None


# -- states and dead letters ---------------------------------------------------------------


class RunState(enum.StrEnum):
    """Whether a projection is being fed."""

    RUNNING = "running"
    STOPPED = "stopped"
    """Not fed; the reason says why (a poison message, an outdated version, an operator)."""
    REBUILDING = "rebuilding"
    """A new generation is being filled; the active one keeps serving (and being fed)."""


@attrs.frozen
class ProjectionState:
    """A projection's state, why, and since when; with its active generation and position."""

    name: str
    state: RunState
    reason: str
    since: datetime
    generation: int
    position: int
    version: int
    rebuilding_generation: int | None = None

    @property
    def running(self) -> bool:
        """Whether the state is :attr:`RunState.RUNNING`."""
        return self.state is RunState.RUNNING

    @property
    def stopped(self) -> bool:
        """Whether the state is :attr:`RunState.STOPPED`."""
        return self.state is RunState.STOPPED

    @property
    def rebuilding(self) -> bool:
        """Whether the state is :attr:`RunState.REBUILDING`."""
        return self.state is RunState.REBUILDING


@attrs.frozen
class DeadLetter:
    """A message a projection could not apply: kept with its error, never dropped silently."""

    projection: str
    stream_sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes = attrs.field(repr=False)
    error: str
    attempts: int
    recorded_at: datetime
    skipped: bool
    """Whether the projection moved past it (``skip``); otherwise it stopped there."""


# -- errors ------------------------------------------------------------------------------------


class ProjectionFailed(ViewsError):  # noqa: N818 (the contract's name)
    """A delivery could not be applied: those before it were committed, it and those after were not.

    *kind* is ``"decode"`` (the body is not a readable event) or ``"project"``
    (the projection's handler, or writing its rows, failed).
    """

    def __init__(self, delivery: Delivery, error: BaseException, kind: str, projection: str = "") -> None:
        self.delivery = delivery
        self.error = error
        self.kind = kind
        self.projection = projection
        where = f"{projection}: " if projection else ""
        super().__init__(f"{where}cannot {kind} {delivery.describe()}: {type(error).__name__}: {error}")


class UnknownProjectionError(ViewsError, LookupError):
    """No projection (or generation) of that name is registered."""


class ProjectionOutdatedError(ViewsError):
    """The active generation was built by another version of the projection: rebuild it."""


class RebuildError(ViewsError):
    """A rebuild cannot be finished as asked (the generation is unknown, or behind the live one)."""


# -- projections -------------------------------------------------------------------------------


def topic_of(event_class: type) -> str:
    """Return the topic eventsourcing records for *event_class* (``grid_events.domain.task:Task.Assigned``)."""
    return f"{event_class.__module__}:{event_class.__qualname__}"


Handler = Callable[[Any, "ProjectionContext"], None]


def handles(*event_classes: type) -> Callable[[F], F]:
    """Mark a method of a :class:`Projection` as the handler of *event_classes*."""

    def mark(method: F) -> F:
        method.__grid_handles__ = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    """A view: its name, version, tables, and one handler per event class it reads.

    Subclasses set :attr:`name`, :attr:`version` (raise it whenever the tables
    or what the handlers write change: the engine then asks for a rebuild) and
    :attr:`tables`, and mark handlers with :func:`handles`::

        @handles(Task.Assigned)
        def assigned(self, event: Task.Assigned, ctx: ProjectionContext) -> None: ...

    Handlers must be pure: read and write rows only through *ctx*, never
    mutate the event, and give the same rows for the same events every time.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = ()
    _handler_names: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401 (passed on)
        super().__init_subclass__(**kwargs)
        names: dict[str, str] = {}
        for base in reversed(cls.__mro__[1:]):
            names.update(getattr(base, "_handler_names", {}))
        for attribute, value in vars(cls).items():
            for event_class in getattr(value, "__grid_handles__", ()):
                names[topic_of(event_class)] = attribute
        cls._handler_names = names

    @property
    def topics(self) -> frozenset[str]:
        """The topics of the events this projection reads."""
        return frozenset(self._handler_names)

    def handlers(self) -> dict[str, Handler]:
        """Return the bound handler of each topic."""
        return {topic: getattr(self, attribute) for topic, attribute in self._handler_names.items()}

    def table(self, name: str) -> Table:
        """Return the definition of table *name*."""
        for table in self.tables:
            if table.name == name:
                return table
        raise UnknownProjectionError(f"projection {self.name} has no table {name!r}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} v{self.version}>"


# -- the context: a unit of work over one transaction ------------------------------------------------


class BoundTable:
    """A table in one generation: its physical name, its SQL, and the adapters of its backend."""

    __slots__ = (
        "column_count",
        "columns",
        "counters",
        "defaults",
        "delete_sql",
        "increment_sql",
        "key_columns",
        "key_writers",
        "physical",
        "readers",
        "select_group_sql",
        "select_key_sql",
        "table",
        "upsert_sql",
        "writers",
    )

    def __init__(self, table: Table, generation: int, backend: Backend) -> None:
        self.table = table
        self.physical = table.physical_name(generation)
        self.columns = table.column_names
        self.column_count = len(self.columns)
        self.key_columns = table.key
        self.defaults = {column.name: column.default for column in table.columns}
        self.writers = table.writers(backend)
        self.readers = table.readers(backend)
        positions = [self.columns.index(name) for name in table.key]
        self.key_writers = tuple(self.writers[index] for index in positions)
        columns = ", ".join(self.columns)
        key_match = " AND ".join(f"{name} = ?" for name in table.key)
        self.select_key_sql = f"SELECT {columns} FROM {self.physical} WHERE {key_match}"  # noqa: S608 (identifiers from table definitions; values are parameters)
        self.select_group_sql = f"SELECT {columns} FROM {self.physical} WHERE {table.key[0]} = ?"  # noqa: S608 (identifiers from table definitions; values are parameters)
        others = [name for name in self.columns if name not in table.key]
        conflict = (
            "DO UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in others) if others else "DO NOTHING"
        )
        self.upsert_sql = (
            f"INSERT INTO {self.physical} ({columns}) VALUES ({', '.join('?' * self.column_count)}) "  # noqa: S608 (identifiers from table definitions; values are parameters)
            f"ON CONFLICT ({', '.join(table.key)}) {conflict}"
        )
        self.delete_sql = f"DELETE FROM {self.physical} WHERE {key_match}"  # noqa: S608 (identifiers from table definitions; values are parameters)
        self.counters = tuple(others) if table.counters else ()
        added = ", ".join(f"{name} = {self.physical}.{name} + excluded.{name}" for name in others)
        self.increment_sql = (
            f"INSERT INTO {self.physical} ({', '.join((*table.key, *others))}) "  # noqa: S608 (identifiers from table definitions; values are parameters)
            f"VALUES ({', '.join('?' * self.column_count)}) "
            f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {added}"
        )

    def select_groups(self, backend: Backend, values: list[object]) -> tuple[str, list[object]]:
        """Return the query (and its parameters) of every row whose first key column is one of *values*.

        PostgreSQL gets one array parameter (one prepared statement whatever
        the count); SQLite a list of placeholders.
        """
        select = f"SELECT {', '.join(self.columns)} FROM {self.physical} WHERE {self.key_columns[0]}"  # noqa: S608 (identifiers from table definitions; values are parameters)
        if backend == "postgres":
            return f"{select} = ANY(?)", [values]
        return f"{select} IN ({', '.join('?' * len(values))})", values

    def key_params(self, key: Key) -> tuple[Any, ...]:
        """Return *key* as the backend stores it."""
        return tuple(
            value if writer is None or value is None else writer(value)
            for writer, value in zip(self.key_writers, key, strict=True)
        )

    def first_param(self, value: object) -> object:
        """Return a value of the first key column as the backend stores it."""
        writer = self.key_writers[0]
        return value if writer is None or value is None else writer(value)

    def from_db(self, values: Sequence[Any]) -> dict[str, Any]:
        """Return a row read from the database as Python values."""
        return {
            name: value if reader is None or value is None else reader(value)
            for name, reader, value in zip(self.columns, self.readers, values, strict=True)
        }

    def to_db(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """Return *row* as the backend stores it, in column order."""
        values = [row[name] for name in self.columns]
        return tuple(
            value if writer is None or value is None else writer(value)
            for writer, value in zip(self.writers, values, strict=True)
        )

    def key_of(self, row: Mapping[str, Any]) -> Key:
        """Return the primary key of *row*."""
        return tuple(row[name] for name in self.key_columns)


_MISSING: Any = object()
_ADDED: Any = object()
_PREFETCH_CHUNK = 500


def _as_key(key: object) -> Key:
    return key if isinstance(key, tuple) else (key,)


class ProjectionContext:
    """What a handler may use: the delivery being projected, the masker, and the rows of its tables.

    Rows are plain mappings keyed by column name, with Python values (str,
    int, bool, aware datetime, date, JSON-able lists and dicts). Read with
    :meth:`get` and :meth:`select`; change with :meth:`put`, :meth:`update`
    and :meth:`delete`. A key is a tuple of the key columns' values, or the
    value itself for a one-column key. Never mutate a row you were given:
    :meth:`update` makes the changed copy.
    """

    __slots__ = (
        "_added",
        "_complete",
        "_dirty",
        "_groups",
        "_rows",
        "_tables",
        "_tx",
        "_undo",
        "aggregate_id",
        "delivery",
        "masker",
    )

    def __init__(self, tx: Transaction, tables: Mapping[str, BoundTable], masker: Masker) -> None:
        self.masker = masker
        self.delivery: Delivery | None = None
        self.aggregate_id = ""
        """The id of the aggregate of the event being projected, as text."""
        self._tx = tx
        self._tables = tables
        self._rows: dict[str, dict[Key, dict[str, Any] | None]] = {name: {} for name in tables}
        self._dirty: dict[str, set[Key]] = {name: set() for name in tables}
        self._groups: dict[str, dict[Any, set[Key]]] = {name: {} for name in tables}
        self._complete: dict[str, set[Any]] = {name: set() for name in tables}
        self._added: dict[str, dict[Key, dict[str, int]]] = {name: {} for name in tables}
        self._undo: list[tuple[str, Key, Any, bool]] | None = None

    # -- the delivery ---------------------------------------------------------------------

    @property
    def message(self) -> EventMessage:
        """The message being projected."""
        if self.delivery is None:
            raise ViewsError("no delivery is being projected")
        return self.delivery.message

    @property
    def stream_sequence(self) -> int:
        """The stream sequence of the message being projected."""
        if self.delivery is None:
            raise ViewsError("no delivery is being projected")
        return self.delivery.stream_sequence

    # -- reading ----------------------------------------------------------------------------

    def get(self, table: str, key: object) -> Row | None:
        """Return the row of *table* with primary key *key*, or None."""
        full_key = _as_key(key)
        rows = self._rows[table]
        known = rows.get(full_key, _MISSING)
        if known is not _MISSING:
            return known  # type: ignore[no-any-return]
        self._refuse_counters(table)
        if full_key[0] in self._complete[table]:
            return None
        bound = self._tables[table]
        found = self._tx.fetchone(bound.select_key_sql, bound.key_params(full_key))
        row = None if found is None else bound.from_db(found)
        self._remember(table, full_key, row)
        return row

    def select(self, table: str, first: object) -> list[Row]:
        """Return every row of *table* whose first key column is *first*, in key order."""
        self._refuse_counters(table)
        if first not in self._complete[table]:
            bound = self._tables[table]
            fetched = self._tx.fetchall(bound.select_group_sql, (bound.first_param(first),))
            self._remember_fetched(table, bound, fetched)
            self._complete[table].add(first)
        rows = self._rows[table]
        keys = sorted(self._groups[table].get(first, ()))
        return [row for key in keys if (row := rows[key]) is not None]

    def prefetch(self, table: str, firsts: Iterable[object]) -> None:
        """Load every row of *table* whose first key column is one of *firsts* (one query per 500)."""
        complete = self._complete[table]
        wanted = [first for first in dict.fromkeys(firsts) if first not in complete]
        bound = self._tables[table]
        for start in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[start : start + _PREFETCH_CHUNK]
            sql, params = bound.select_groups(self._tx.backend, [bound.first_param(first) for first in chunk])
            fetched = self._tx.fetchall(sql, params)
            self._remember_fetched(table, bound, fetched)
            complete.update(chunk)

    def _remember_fetched(self, table: str, bound: BoundTable, fetched: list[tuple[Any, ...]]) -> None:
        rows = self._rows[table]
        for values in fetched:
            row = bound.from_db(values)
            key = bound.key_of(row)
            if key not in rows:
                self._remember(table, key, row)

    def _remember(self, table: str, key: Key, row: dict[str, Any] | None) -> None:
        self._rows[table][key] = row
        groups = self._groups[table]
        group = groups.get(key[0])
        if group is None:
            groups[key[0]] = {key}
        else:
            group.add(key)

    # -- writing -----------------------------------------------------------------------------

    def put(self, table: str, row: Mapping[str, Any]) -> Row:
        """Write *row* whole (columns not given take their defaults), replacing any row with its key."""
        bound = self._tables[table]
        full = {**bound.defaults, **row}
        if len(full) != bound.column_count:
            unknown = sorted(set(row) - set(bound.columns))
            raise ViewStoreError(f"table {table} has no column(s) {', '.join(unknown)}")
        self._set(table, bound.key_of(full), full)
        return full

    def update(self, table: str, key: object, changes: Mapping[str, Any] | None = None, **more: Any) -> Row:  # noqa: ANN401
        """Change some columns of an existing row and return it; raise LookupError if there is none."""
        full_key = _as_key(key)
        current = self.get(table, full_key)
        if current is None:
            raise LookupError(f"{table} has no row {full_key!r}")
        given = {**changes, **more} if changes and more else (changes or more)
        updated = {**current, **given}
        if len(updated) != len(current):
            unknown = sorted(set(updated) - set(current))
            raise ViewStoreError(f"table {table} has no column(s) {', '.join(unknown)}")
        for name in self._tables[table].key_columns:
            if name in given and given[name] != current[name]:
                raise ViewStoreError(f"table {table}: update may not change the key of {full_key!r}")
        self._set(table, full_key, updated)
        return updated

    def delete(self, table: str, key: object) -> None:
        """Delete the row of *table* with primary key *key* (nothing if there is none)."""
        full_key = _as_key(key)
        if self.get(table, full_key) is not None:
            self._set(table, full_key, None)

    def add(self, table: str, key: object, **deltas: int) -> None:
        """Add *deltas* to counters of the row of a table of counters (a new row starts from zero).

        The additions are written when the batch commits, without reading the
        row: a table of counters is only ever added to, never read or put.
        """
        bound = self._tables[table]
        if not bound.counters:
            raise ViewStoreError(f"table {table} is not a table of counters")
        unknown = set(deltas) - set(bound.counters)
        if unknown:
            raise ViewStoreError(f"table {table} has no counter(s) {', '.join(sorted(unknown))}")
        full_key = _as_key(key)
        added = self._added[table]
        previous = added.get(full_key)
        if self._undo is not None:
            self._undo.append((table, full_key, _ADDED if previous is None else dict(previous), False))
        total = dict(previous) if previous is not None else {}
        for name, delta in deltas.items():
            total[name] = total.get(name, 0) + delta
        added[full_key] = total

    def _refuse_counters(self, table: str) -> None:
        if self._tables[table].counters:
            raise ViewStoreError(f"table {table} holds counters: add to them with add(), never read or write rows")

    def _set(self, table: str, key: Key, row: dict[str, Any] | None) -> None:
        self._refuse_counters(table)
        rows = self._rows[table]
        dirty = self._dirty[table]
        if self._undo is not None:
            self._undo.append((table, key, rows.get(key, _MISSING), key in dirty))
        if key not in rows:
            self._remember(table, key, row)
        else:
            rows[key] = row
        dirty.add(key)

    # -- the engine's side ----------------------------------------------------------------------

    def begin_event(self, delivery: Delivery) -> None:
        """Start projecting *delivery*: its changes can be undone until :meth:`end_event`."""
        self.delivery = delivery
        self.aggregate_id = str(delivery.message.aggregate_id)
        self._undo = []

    def end_event(self) -> None:
        """Keep the changes of the event being projected."""
        self._undo = None

    def undo_event(self) -> None:
        """Undo every change of the event being projected (its handler raised)."""
        undo, self._undo = self._undo or [], None
        for table, key, previous, was_dirty in reversed(undo):
            if self._tables[table].counters:
                if previous is _ADDED:
                    self._added[table].pop(key, None)
                else:
                    self._added[table][key] = previous
                continue
            rows = self._rows[table]
            if previous is _MISSING:
                rows.pop(key, None)
                self._groups[table].get(key[0], set()).discard(key)
            else:
                rows[key] = previous
            if was_dirty:
                self._dirty[table].add(key)
            else:
                self._dirty[table].discard(key)

    def flush(self) -> int:
        """Write every changed row (deletes, then upserts, one ``executemany`` each per table); return how many."""
        written = 0
        for table, added in self._added.items():
            if not added:
                continue
            bound = self._tables[table]
            increments = [
                bound.key_params(key) + tuple(totals.get(name, 0) for name in bound.counters)
                for key, totals in added.items()
            ]
            self._tx.executemany(bound.increment_sql, increments)
            written += len(increments)
            added.clear()
        for table, keys in self._dirty.items():
            if not keys:
                continue
            bound = self._tables[table]
            rows = self._rows[table]
            upserts = []
            deletes = []
            for key in keys:
                row = rows[key]
                if row is None:
                    deletes.append(bound.key_params(key))
                else:
                    upserts.append(bound.to_db(row))
            self._tx.executemany(bound.delete_sql, deletes)
            self._tx.executemany(bound.upsert_sql, upserts)
            written += len(keys)
            keys.clear()
        return written
