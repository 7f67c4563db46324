"""ViewStore: where the views live, in a SQLite file (the default) or a PostgreSQL schema.

One parameter style for both backends (``?``; translated to ``%s`` for
psycopg), explicit :meth:`ViewStore.open` and :meth:`ViewStore.close` (nothing
happens at import or construction), a write :meth:`ViewStore.transaction` and a
read-only snapshot :meth:`ViewStore.read`.

Column types are portable (:class:`ColumnType`): a timestamp is ISO-8601 UTC
text in SQLite (fixed width, so text order is time order) and ``timestamptz``
in PostgreSQL; a date is ``YYYY-MM-DD`` text or ``date``; a boolean 0/1 or
``boolean``; JSON is canonical JSON text in both. :class:`Table` knows how to
turn Python values into what its backend stores and back.

The store's own tables (prefix ``gv_``) hold, per projection, the position of
each generation, the active generation, the projection's state, and dead
letters. View tables are per projection and per generation (``v_tasks_g1``):
a rebuild fills fresh tables while readers stay on the old ones.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

import attrs

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "Backend",
    "Column",
    "ColumnType",
    "Table",
    "Transaction",
    "ViewStore",
    "ViewStoreError",
    "ViewsError",
    "canonical_json",
    "utc_text",
]

Backend = Literal["sqlite", "postgres"]
T = TypeVar("T")

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_MAX_IDENTIFIER = 63
_READ_ATTEMPTS = 3
_MAX_IDLE_READERS = 8


class ViewsError(Exception):
    """Base of the errors of the views."""


class ViewStoreError(ViewsError):
    """The view store is misused (not open, closed, misconfigured) or its contents are not what it expects."""


def utc_text(moment: datetime) -> str:
    """Return *moment* as fixed-width ISO-8601 UTC text (``2026-11-02T01:00:00.000000+00:00``)."""
    if moment.tzinfo is None:
        raise ViewStoreError(f"naive datetime {moment!r}: views store aware times only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: object) -> str:
    """Return *value* as JSON text with sorted keys and no ASCII escaping (equal values, equal text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class ColumnType(enum.Enum):
    """The portable types of view columns."""

    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    TIMESTAMP = "timestamp"
    DATE = "date"
    JSON = "json"
    BYTES = "bytes"


_DDL: Mapping[Backend, Mapping[ColumnType, str]] = {
    "sqlite": {
        ColumnType.TEXT: "TEXT",
        ColumnType.INT: "INTEGER",
        ColumnType.BOOL: "INTEGER",
        ColumnType.TIMESTAMP: "TEXT",
        ColumnType.DATE: "TEXT",
        ColumnType.JSON: "TEXT",
        ColumnType.BYTES: "BLOB",
    },
    "postgres": {
        ColumnType.TEXT: "TEXT",
        ColumnType.INT: "BIGINT",
        ColumnType.BOOL: "BOOLEAN",
        ColumnType.TIMESTAMP: "TIMESTAMPTZ",
        ColumnType.DATE: "DATE",
        ColumnType.JSON: "TEXT",
        ColumnType.BYTES: "BYTEA",
    },
}

Adapter = Callable[[Any], Any]


def _date_text(value: date) -> str:
    return value.isoformat()


def _from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _from_date_text(text: str) -> date:
    return date.fromisoformat(text)


def _bool_int(value: bool) -> int:
    return 1 if value else 0


def _bytes(value: bytes | memoryview) -> bytes:
    return bytes(value)


_WRITE: Mapping[Backend, Mapping[ColumnType, Adapter | None]] = {
    "sqlite": {
        ColumnType.TEXT: None,
        ColumnType.INT: None,
        ColumnType.BOOL: _bool_int,
        ColumnType.TIMESTAMP: utc_text,
        ColumnType.DATE: _date_text,
        ColumnType.JSON: canonical_json,
        ColumnType.BYTES: None,
    },
    "postgres": {
        ColumnType.TEXT: None,
        ColumnType.INT: None,
        ColumnType.BOOL: None,
        ColumnType.TIMESTAMP: None,
        ColumnType.DATE: None,
        ColumnType.JSON: canonical_json,
        ColumnType.BYTES: None,
    },
}

_READ: Mapping[Backend, Mapping[ColumnType, Adapter | None]] = {
    "sqlite": {
        ColumnType.TEXT: None,
        ColumnType.INT: None,
        ColumnType.BOOL: bool,
        ColumnType.TIMESTAMP: _from_utc_text,
        ColumnType.DATE: _from_date_text,
        ColumnType.JSON: json.loads,
        ColumnType.BYTES: _bytes,
    },
    "postgres": {
        ColumnType.TEXT: None,
        ColumnType.INT: None,
        ColumnType.BOOL: None,
        ColumnType.TIMESTAMP: _as_utc,
        ColumnType.DATE: None,
        ColumnType.JSON: json.loads,
        ColumnType.BYTES: _bytes,
    },
}


def _check_identifier(kind: str, name: str) -> str:
    if not _IDENTIFIER.fullmatch(name) or len(name) > _MAX_IDENTIFIER:
        raise ViewStoreError(f"{kind} {name!r} is not a lower-case identifier of at most {_MAX_IDENTIFIER} characters")
    return name


def _column_name(name: str) -> str:
    return _check_identifier("column", name)


def _table_name(name: str) -> str:
    return _check_identifier("table", name)


@attrs.frozen
class Column:
    """A column of a view table: its name, portable type, and the value a new row gets when none is given."""

    name: str = attrs.field(converter=_column_name)
    type: ColumnType
    default: Any = None


def _columns(value: Mapping[str, ColumnType] | Sequence[Column]) -> tuple[Column, ...]:
    if isinstance(value, Mapping):
        return tuple(Column(name, kind) for name, kind in value.items())
    return tuple(value)


@attrs.frozen
class Table:
    """A view table: columns, primary key, indexes.

    *prefetch*: the first key column is the aggregate id; the engine loads the
    rows of every aggregate in a batch in one query before projecting it.
    *counters*: the table's other columns are counters that handlers only add
    to; the additions are written without reading the rows first.
    """

    name: str = attrs.field(converter=_table_name)
    columns: tuple[Column, ...] = attrs.field(converter=_columns)
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    prefetch: bool = False
    counters: bool = False
    """Every column but the key is a whole-number counter, only ever added to (``ProjectionContext.add``)."""

    def __attrs_post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ViewStoreError(f"table {self.name}: duplicate column names")
        for column in (*self.key, *(c for index in self.indexes for c in index)):
            if column not in names:
                raise ViewStoreError(f"table {self.name}: no column {column!r}")
        if not self.key:
            raise ViewStoreError(f"table {self.name}: a primary key is required")
        if self.counters and any(c.type is not ColumnType.INT for c in self.columns if c.name not in self.key):
            raise ViewStoreError(
                f"table {self.name}: a table of counters has only whole-number columns besides its key"
            )

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' names, in order."""
        return tuple(column.name for column in self.columns)

    def physical_name(self, generation: int) -> str:
        """Return the name of this table in *generation* (``v_tasks_g1``)."""
        return f"v_{self.name}_g{generation}"

    def column_type(self, name: str) -> ColumnType:
        """Return the type of column *name*."""
        for column in self.columns:
            if column.name == name:
                return column.type
        raise ViewStoreError(f"table {self.name}: no column {name!r}")

    def create_statements(self, backend: Backend, physical: str) -> list[str]:
        """Return the DDL creating this table (and its indexes) as *physical*."""
        types = _DDL[backend]
        columns = ", ".join(f"{column.name} {types[column.type]}" for column in self.columns)
        statements = [f"CREATE TABLE IF NOT EXISTS {physical} ({columns}, PRIMARY KEY ({', '.join(self.key)}))"]
        for index in self.indexes:
            index_name = f"ix_{physical}_{'_'.join(index)}"
            if len(index_name) > _MAX_IDENTIFIER:
                index_name = f"ix_{physical}_{abs(hash(index)) % 10**8}"[:_MAX_IDENTIFIER]
            statements.append(f"CREATE INDEX IF NOT EXISTS {index_name} ON {physical} ({', '.join(index)})")
        return statements

    def writers(self, backend: Backend) -> tuple[Adapter | None, ...]:
        """Return, per column, what turns a Python value into what *backend* stores (None: as is)."""
        table = _WRITE[backend]
        return tuple(table[column.type] for column in self.columns)

    def readers(self, backend: Backend) -> tuple[Adapter | None, ...]:
        """Return, per column, what turns what *backend* returns into the Python value (None: as is)."""
        table = _READ[backend]
        return tuple(table[column.type] for column in self.columns)


def adapt_in(adapters: Sequence[Adapter | None], values: Sequence[Any]) -> tuple[Any, ...]:
    """Return *values* adapted for writing (None stays None)."""
    return tuple(
        value if adapter is None or value is None else adapter(value)
        for adapter, value in zip(adapters, values, strict=True)
    )


def adapt_out(adapters: Sequence[Adapter | None], values: Sequence[Any]) -> tuple[Any, ...]:
    """Return *values* as read, adapted back to Python values (None stays None)."""
    return tuple(
        value if adapter is None or value is None else adapter(value)
        for adapter, value in zip(adapters, values, strict=True)
    )


# -- the store's own tables ----------------------------------------------------------------

T_TEXT, T_INT, T_BOOL, T_TS, T_JSON, T_BYTES = (
    ColumnType.TEXT,
    ColumnType.INT,
    ColumnType.BOOL,
    ColumnType.TIMESTAMP,
    ColumnType.JSON,
    ColumnType.BYTES,
)

INTERNAL_TABLES: tuple[tuple[str, Table], ...] = (
    ("gv_meta", Table("meta", {"key": T_TEXT, "value": T_TEXT}, key=("key",))),
    (
        "gv_positions",
        Table(
            "positions",
            {
                "projection": T_TEXT,
                "generation": T_INT,
                "version": T_INT,
                "stream_sequence": T_INT,
                "created_at": T_TS,
                "updated_at": T_TS,
            },
            key=("projection", "generation"),
        ),
    ),
    ("gv_active", Table("active", {"projection": T_TEXT, "generation": T_INT, "since": T_TS}, key=("projection",))),
    (
        "gv_states",
        Table(
            "states",
            {"projection": T_TEXT, "state": T_TEXT, "reason": T_TEXT, "since": T_TS},
            key=("projection",),
        ),
    ),
    (
        "gv_dead_letters",
        Table(
            "dead_letters",
            {
                "projection": T_TEXT,
                "stream_sequence": T_INT,
                "subject": T_TEXT,
                "headers": T_JSON,
                "data": T_BYTES,
                "error": T_TEXT,
                "attempts": T_INT,
                "recorded_at": T_TS,
                "skipped": T_BOOL,
            },
            key=("projection", "stream_sequence"),
        ),
    ),
)
"""The store's own tables: (physical name, definition)."""

STORE_FORMAT = "1"
"""Version of the layout of the store's own tables."""


# -- transactions --------------------------------------------------------------------------


class Transaction:
    """One transaction on one connection: ``execute``, ``executemany``, ``fetchall``, ``fetchone``.

    SQL uses ``?`` placeholders on both backends. Values go in as the backend
    takes them: use :meth:`value` (or a :class:`Table`'s adapters) for
    timestamps, dates, booleans and JSON.
    """

    __slots__ = ("_connection", "_cursor", "_translate", "backend")

    def __init__(self, backend: Backend, connection: Any, translate: Callable[[str], str]) -> None:  # noqa: ANN401 (sqlite3 or psycopg)
        self.backend: Backend = backend
        self._connection = connection
        self._cursor = connection.cursor()
        self._translate = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._cursor.execute(self._translate(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of *rows* (batched by the driver)."""
        if rows:
            self._cursor.executemany(self._translate(sql), rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return every row."""
        self._cursor.execute(self._translate(sql), params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run a query and return its first row, or None."""
        self._cursor.execute(self._translate(sql), params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def value(self, kind: ColumnType, value: Any) -> Any:  # noqa: ANN401 (any column value)
        """Return *value* as this backend stores a value of *kind* (for query parameters)."""
        adapter = _WRITE[self.backend][kind]
        return value if adapter is None or value is None else adapter(value)

    def table_names(self) -> set[str]:
        """Return the names of the tables of the store (its schema, on PostgreSQL)."""
        if self.backend == "sqlite":
            rows = self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = self.fetchall(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        return {str(row[0]) for row in rows}

    @property
    def lock_suffix(self) -> str:
        """`` FOR UPDATE`` on PostgreSQL (row lock); empty on SQLite, whose writers hold the database lock."""
        return " FOR UPDATE" if self.backend == "postgres" else ""

    @property
    def share_suffix(self) -> str:
        """`` FOR SHARE`` on PostgreSQL; empty on SQLite."""
        return " FOR SHARE" if self.backend == "postgres" else ""

    def savepoint(self) -> _Savepoint:
        """Return a savepoint context: roll back to it if the block raises."""
        return _Savepoint(self)


class _Savepoint:
    __slots__ = ("_name", "_tx")
    _numbers = itertools.count(1)

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._name = f"sp_{next(_Savepoint._numbers)}"

    def __enter__(self) -> None:
        self._tx.execute(f"SAVEPOINT {self._name}")

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if error is None:
            self._tx.execute(f"RELEASE SAVEPOINT {self._name}")
        else:
            self._tx.execute(f"ROLLBACK TO SAVEPOINT {self._name}")
            self._tx.execute(f"RELEASE SAVEPOINT {self._name}")


def _postgres_sql(sql: str, cache: dict[str, str]) -> str:
    translated = cache.get(sql)
    if translated is None:
        translated = sql.replace("%", "%%").replace("?", "%s")
        if len(cache) < 4096:  # noqa: PLR2004 (a bound on distinct statements remembered)
            cache[sql] = translated
    return translated


def _same_sql(sql: str) -> str:
    return sql


# -- the store -----------------------------------------------------------------------------


class ViewStore:
    """The database the views live in: a SQLite file (WAL) or a PostgreSQL schema of its own.

    Build it with :meth:`sqlite`, :meth:`postgres` or :meth:`from_url`, then
    :meth:`open` it (or use it as a context manager); nothing connects before.
    Writes are serialised on one connection; reads use a small pool of
    read-only connections, each read a consistent snapshot.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        path: str | Path | None = None,
        dsn: str = "",
        schema: str = "grid_views",
        synchronous: Literal["full", "normal"] = "full",
        busy_timeout: float = 30.0,
    ) -> None:
        if backend not in {"sqlite", "postgres"}:
            raise ViewStoreError(f"unknown backend {backend!r}: sqlite or postgres")
        if backend == "sqlite" and (path is None or str(path) in {"", ":memory:"}):
            raise ViewStoreError("a SQLite view store needs a file path (readers and the writer share it)")
        if backend == "postgres" and not dsn:
            raise ViewStoreError("a PostgreSQL view store needs a DSN")
        self.backend: Backend = backend
        self.path = Path(path) if path is not None else None
        self.dsn = dsn
        self.schema = _check_identifier("schema", schema)
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self._writer: Any = None
        self._write_lock = threading.RLock()
        self._readers: list[Any] = []
        self._all_readers: list[Any] = []
        self._pool_lock = threading.Lock()
        self._sql_cache: dict[str, str] = {}
        self._open = False

    @classmethod
    def sqlite(cls, path: str | Path, *, synchronous: Literal["full", "normal"] = "full") -> ViewStore:
        """Return a store in the SQLite file *path* (created if missing), in WAL mode.

        *synchronous* ``"full"`` (the default) makes every committed batch
        durable against power loss; ``"normal"`` only against a process crash.
        """
        return cls("sqlite", path=path, synchronous=synchronous)

    @classmethod
    def postgres(cls, dsn: str, *, schema: str = "grid_views") -> ViewStore:
        """Return a store in the PostgreSQL schema *schema* (created if missing) of the database at *dsn*."""
        return cls("postgres", dsn=dsn, schema=schema)

    @classmethod
    def from_url(cls, url: str, *, schema: str = "grid_views") -> ViewStore:
        """Return a store from a URL: ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``postgresql://…``."""
        if url.startswith("sqlite:///"):
            return cls.sqlite(url.removeprefix("sqlite:///"))
        if url.startswith(("postgresql://", "postgres://")):
            return cls.postgres(url, schema=schema)
        raise ViewStoreError("a view store URL starts with sqlite:/// or postgresql://")

    def __repr__(self) -> str:
        where = str(self.path) if self.backend == "sqlite" else f"schema {self.schema} at {_redact(self.dsn)}"
        return f"ViewStore({self.backend}, {where}, {'open' if self._open else 'closed'})"

    # -- life ----------------------------------------------------------------------------

    def open(self) -> Self:
        """Connect and create the store's own tables if missing; return the store."""
        if self._open:
            return self
        self._writer = self._connect(read_only=False)
        self._open = True
        try:
            with self.transaction() as tx:
                self._set_up(tx)
        except BaseException:
            self.close()
            raise
        return self

    def _set_up(self, tx: Transaction) -> None:
        """Create the store's own tables if missing; refuse a store of another format."""
        if self.backend == "postgres":
            tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"grid_views:{self.schema}",))
        for physical, table in INTERNAL_TABLES:
            for statement in table.create_statements(self.backend, physical):
                tx.execute(statement)
        row = tx.fetchone("SELECT value FROM gv_meta WHERE key = ?", ("store_format",))
        if row is None:
            tx.execute("INSERT INTO gv_meta (key, value) VALUES (?, ?)", ("store_format", STORE_FORMAT))
        elif row[0] != STORE_FORMAT:
            raise ViewStoreError(f"the view store has format {row[0]}, this code reads {STORE_FORMAT}")

    def close(self) -> None:
        """Close every connection (idempotent)."""
        self._open = False
        with self._pool_lock:
            readers, self._all_readers, self._readers = self._all_readers, [], []
        for connection in readers:
            _close_quietly(connection)
        with self._write_lock:
            if self._writer is not None:
                _close_quietly(self._writer)
                self._writer = None

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` was called and :meth:`close` not yet."""
        return self._open

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Run a write transaction: committed when the block ends, rolled back if it raises.

        Writers are serialised (one connection, one lock; on SQLite ``BEGIN
        IMMEDIATE`` also locks out other processes' writers). A connection
        the database dropped (a PostgreSQL restart) is replaced before the
        next transaction; the one it broke raises, and is retried by its caller.
        """
        self._check_open()
        with self._write_lock:
            if _is_broken(self._writer):
                _close_quietly(self._writer)
                self._writer = self._connect(read_only=False)
            connection = self._writer
            tx = Transaction(self.backend, connection, self._translator())
            if self.backend == "sqlite":
                connection.execute("BEGIN IMMEDIATE")
            try:
                yield tx
            except BaseException:
                with contextlib.suppress(Exception):
                    connection.rollback()
                raise
            connection.commit()

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """Run a read-only transaction that sees one consistent snapshot of the store."""
        self._check_open()
        connection = self._acquire_reader()
        healthy = False
        try:
            tx = Transaction(self.backend, connection, self._translator())
            if self.backend == "sqlite":
                connection.execute("BEGIN")
            try:
                yield tx
            finally:
                with contextlib.suppress(Exception):
                    connection.rollback()
            healthy = not _is_broken(connection)
        finally:
            self._release_reader(connection, healthy=healthy)

    def run_read(self, work: Callable[[Transaction], T]) -> T:
        """Return ``work(tx)`` in a read transaction, retrying if a table vanished under it.

        A reader that looked up the active generation just before a rebuild
        switched and dropped it finds its tables gone: it tries again, and then
        reads the new generation. A pooled PostgreSQL connection the server
        dropped meanwhile is replaced the same way.
        """
        for attempt in range(_READ_ATTEMPTS):
            try:
                with self.read() as tx:
                    return work(tx)
            except Exception as e:
                if attempt + 1 == _READ_ATTEMPTS or not self._worth_retrying(e):
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _worth_retrying(self, error: Exception) -> bool:
        """Return whether a read failed because a table vanished (a switch) or its connection was dropped."""
        if self.backend == "sqlite":
            return isinstance(error, sqlite3.OperationalError) and "no such table" in str(error)
        import psycopg  # noqa: PLC0415 (only with the postgres extra)

        return isinstance(error, psycopg.errors.UndefinedTable | psycopg.OperationalError)

    def _translator(self) -> Callable[[str], str]:
        if self.backend == "sqlite":
            return _same_sql
        cache = self._sql_cache
        return lambda sql: _postgres_sql(sql, cache)

    def _check_open(self) -> None:
        if not self._open:
            raise ViewStoreError("the view store is not open: call open() first")

    # -- connections ---------------------------------------------------------------------

    def _connect(self, *, read_only: bool) -> Any:  # noqa: ANN401 (sqlite3 or psycopg connection)
        if self.backend == "sqlite":
            return self._connect_sqlite(read_only=read_only)
        return self._connect_postgres(read_only=read_only)

    def _connect_sqlite(self, *, read_only: bool) -> sqlite3.Connection:
        assert self.path is not None  # noqa: S101 (checked in __init__)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=512,
            timeout=self.busy_timeout,
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        if not read_only:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                connection.close()
                raise ViewStoreError(f"{self.path}: cannot use WAL mode (got {mode})")
        connection.execute(f"PRAGMA synchronous = {self.synchronous.upper()}")
        if read_only:
            connection.execute("PRAGMA query_only = 1")
        return connection

    def _connect_postgres(self, *, read_only: bool) -> psycopg.Connection[Any]:
        import psycopg  # noqa: PLC0415 (only with the postgres extra)

        connection = psycopg.connect(self.dsn, autocommit=True, application_name=f"grid-views:{self.schema}")
        try:
            if not read_only:
                connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            connection.execute(f'SET search_path TO "{self.schema}"')
            connection.execute("SET TIME ZONE 'UTC'")
            connection.autocommit = False
            if read_only:
                connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                connection.read_only = True
        except BaseException:
            connection.close()
            raise
        return connection

    def _acquire_reader(self) -> Any:  # noqa: ANN401
        with self._pool_lock:
            while self._readers:
                idle = self._readers.pop()
                if not _is_broken(idle):
                    return idle
                self._all_readers.remove(idle)
                _close_quietly(idle)
        connection = self._connect(read_only=True)
        with self._pool_lock:
            self._all_readers.append(connection)
        return connection

    def _release_reader(self, connection: Any, *, healthy: bool) -> None:  # noqa: ANN401
        with self._pool_lock:
            if healthy and self._open and len(self._readers) < _MAX_IDLE_READERS:
                self._readers.append(connection)
                return
            if connection in self._all_readers:
                self._all_readers.remove(connection)
        _close_quietly(connection)


def _is_broken(connection: Any) -> bool:  # noqa: ANN401 (sqlite3 or psycopg connection)
    """Return whether *connection* was closed or broken (psycopg marks a connection the server dropped)."""
    return bool(getattr(connection, "closed", False) or getattr(connection, "broken", False))


def _close_quietly(connection: Any) -> None:  # noqa: ANN401
    with contextlib.suppress(Exception):
        connection.close()


def _redact(dsn: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)
