"""Per-subject data keys, wrapped under a master key, in the events' own database.

Each data subject (a resident, a sampled person, a party to a dispute) gets a
random 256-bit key. It is stored only wrapped (AES-GCM under the master key,
bound to the subject id), in a table of the same database as the events. To
erase a subject's personal data, :meth:`KeyStore.destroy` overwrites the wrapped
key with nothing and keeps a tombstone, so every ciphertext sealed under it is
unreadable from then on while the events themselves stay unchanged. Then the
store is *scrubbed* so no earlier copy of the wrapped key is left in the
database's files: SQLite overwrites freed space (``secure_delete``) and
truncates its write-ahead log; PostgreSQL vacuums the key table, removing the
old row version MVCC keeps. Copies outside the live database (PostgreSQL's own
write-ahead log segments, backups, replicas) remain readable only with the
master key they were wrapped under: rotating the master key and destroying the
old one (:meth:`KeyStore.rewrap`) makes them useless too.
"""

from __future__ import annotations

import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import IntegrityError

from grid_events.exceptions import ConfigurationError, PersonalDataErasedError

__all__ = [
    "InMemoryKeyStore",
    "KeyStore",
    "NewKeys",
    "PostgresKeyStore",
    "SQLiteKeyStore",
    "master_key_id",
]

KEY_BYTES = 32
NONCE_BYTES = 12
TABLE = "grid_subject_keys"
_CHECKPOINT_ATTEMPTS = 20
_VACUUM_ATTEMPTS = 12
_NOT_REMOVABLE = re.compile(r"(\d+) (?:are dead but not yet removable|dead row versions cannot be removed yet)")
"""How VACUUM VERBOSE reports row versions still visible to an older transaction (PostgreSQL 14+, 13)."""


def master_key_id(master_key: bytes) -> str:
    """Return a short public identifier of *master_key* (not the key, not reversible)."""
    import hashlib  # noqa: PLC0415 (only needed here)

    return hashlib.sha256(b"grid-events master key id\0" + master_key).hexdigest()[:16]


@attrs.frozen
class NewKeys:
    """Keys made for new subjects by :meth:`KeyStore.make_keys`, not yet stored."""

    keys: list[bytes] = attrs.field(repr=False)
    """The plain keys, in the order of the subjects."""
    rows: list[tuple[UUID, bytes]] = attrs.field(repr=False)
    """``(subject id, nonce + key wrapped under the master key)`` for each subject."""
    master_id: str
    """The identifier of the master key they are wrapped under."""
    created_at: str
    """When they were made (ISO 8601, UTC)."""


class KeyStore(ABC):
    """Create, fetch and destroy data keys of data subjects."""

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, bytes) or len(master_key) != KEY_BYTES:
            raise ConfigurationError("the master key must be 32 bytes (AES-256)")
        self._master = AESGCM(master_key)
        self._master_id = master_key_id(master_key)
        self._lock = threading.Lock()

    # -- the operations ------------------------------------------------------------

    def get_or_create(self, subject_id: UUID) -> tuple[bytes, bool]:
        """Return ``(key, created)`` for *subject_id*, making a key if it has none.

        Raises :class:`PersonalDataErasedError` if the subject's key was destroyed:
        erased people are not quietly given a new key.
        """
        with self._lock:
            row = self._select(subject_id)
            if row is not None:
                return self._unwrap(subject_id, row), False
            key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
            nonce = os.urandom(NONCE_BYTES)
            wrapped = nonce + self._master.encrypt(nonce, key, subject_id.bytes)
            if not self._insert(subject_id, wrapped, self._master_id, _now()):
                # Another process created it between our read and our write.
                row = self._select(subject_id)
                if row is None:  # pragma: no cover (a destroy raced the create)
                    raise PersonalDataErasedError(subject_id)
                return self._unwrap(subject_id, row), False
            return key, True

    def create_many(self, subject_ids: Sequence[UUID]) -> list[bytes]:
        """Create keys for many new subjects in one transaction; return them in order.

        The bulk path for imports. Raises :class:`ValueError` (and creates none)
        if any subject already has a key or a tombstone.
        """
        new_keys = self.make_keys(subject_ids)
        self.store_keys(new_keys)
        return new_keys.keys

    def make_keys(self, subject_ids: Sequence[UUID]) -> NewKeys:
        """Make and wrap new keys for *subject_ids*, without storing them yet.

        Store them with :meth:`store_keys` (or, on SQLite, in the transaction
        that saves the events sealed under them: :meth:`SQLiteKeyStore.insert_keys`).
        Every key and wrapping nonce is random; they are drawn from the
        operating system's CSPRNG in one call and split, which is the same as
        drawing each on its own.
        """
        with self._lock:
            master, master_id = self._master, self._master_id
        step = KEY_BYTES + NONCE_BYTES
        randomness = os.urandom(step * len(subject_ids))
        encrypt = master.encrypt
        keys = []
        rows = []
        for offset, subject_id in zip(range(0, len(randomness), step), subject_ids, strict=True):
            key = randomness[offset : offset + KEY_BYTES]
            nonce = randomness[offset + KEY_BYTES : offset + step]
            keys.append(key)
            rows.append((subject_id, nonce + encrypt(nonce, key, subject_id.bytes)))
        return NewKeys(keys, rows, master_id, _now())

    def store_keys(self, new_keys: NewKeys) -> None:
        """Store keys made by :meth:`make_keys` in one transaction.

        Raises :class:`ValueError` (and stores none) if any subject already has
        a key or a tombstone.
        """
        with self._lock:
            if not self._insert_many(new_keys.rows, new_keys.master_id, new_keys.created_at):
                raise ValueError("some of these subjects already have a key")

    def get(self, subject_id: UUID) -> bytes:
        """Return the key of *subject_id*.

        Raises :class:`PersonalDataErasedError` if it was destroyed, and
        :class:`KeyError` if the subject never had one.
        """
        row = self._select(subject_id)
        if row is None:
            raise KeyError(subject_id)
        return self._unwrap(subject_id, row)

    def is_destroyed(self, subject_id: UUID) -> bool:
        """Return whether the key of *subject_id* was destroyed."""
        row = self._select(subject_id)
        return row is not None and row[0] is None

    def exists(self, subject_id: UUID) -> bool:
        """Return whether *subject_id* has a key or a tombstone (was ever a data subject here)."""
        return self._select(subject_id) is not None

    def destroy(self, subject_id: UUID) -> None:
        """Destroy the key of *subject_id*, keeping a tombstone, then scrub old copies. Idempotent."""
        self._tombstone(subject_id, _now())
        self._scrub()

    @property
    def master_key_id(self) -> str:
        """The public identifier of the master key in use (see :func:`master_key_id`)."""
        return self._master_id

    def check_master_key(self) -> None:
        """Raise :class:`ConfigurationError` if the stored keys are wrapped under another master key.

        Called when the application opens, so a wrong or outdated master key is
        reported at once rather than at the first read of personal data.
        """
        found = self._any_master_id()
        if found is not None and found != self._master_id:
            raise ConfigurationError(
                f"the keys in this store are wrapped under master key {found}, but the configured master key "
                f"is {self._master_id}: configure the current master key (was it rotated?)"
            )

    def discard(self, subject_id: UUID) -> None:
        """Remove a key that was created but never used (a failed save)."""
        self._delete([subject_id])

    def discard_many(self, subject_ids: Sequence[UUID]) -> None:
        """Remove many keys that were created but never used, in one transaction."""
        if subject_ids:
            self._delete(subject_ids)

    def rewrap(self, new_master_key: bytes) -> int:
        """Re-wrap every live key under *new_master_key*, all in one transaction; return how many.

        Either every key is re-wrapped or none is. The store is then scrubbed
        so the keys wrapped under the old master key are not left in its files.
        After this, open the store with the new master key only, and destroy
        every copy of the old one: backups taken before remain readable with it.
        """
        if not isinstance(new_master_key, bytes) or len(new_master_key) != KEY_BYTES:
            raise ConfigurationError("the new master key must be 32 bytes (AES-256)")
        new_master = AESGCM(new_master_key)
        new_id = master_key_id(new_master_key)
        if new_id == self._master_id:
            raise ConfigurationError("the new master key is the one in use: make a new one")

        def rewrapped(subject_id: UUID, wrapped: bytes, wrapped_with: str) -> bytes:
            key = self._unwrap(subject_id, (wrapped, wrapped_with))
            nonce = os.urandom(NONCE_BYTES)
            return nonce + new_master.encrypt(nonce, key, subject_id.bytes)

        with self._lock:
            count = self._rewrap_all(rewrapped, new_id)
            self._master = new_master
            self._master_id = new_id
        self._scrub()
        return count

    def _unwrap(self, subject_id: UUID, row: tuple[bytes | None, str]) -> bytes:
        wrapped, wrapped_with = row
        if wrapped is None:
            raise PersonalDataErasedError(subject_id)
        if wrapped_with != self._master_id:
            raise ConfigurationError(
                f"the key of {subject_id} is wrapped under master key {wrapped_with}, "
                f"not the configured one ({self._master_id})"
            )
        return self._master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject_id.bytes)

    # -- storage -----------------------------------------------------------------

    @abstractmethod
    def _select(self, subject_id: UUID) -> tuple[bytes | None, str] | None:
        """Return ``(wrapped key or None if destroyed, master key id)``, or None if absent."""

    @abstractmethod
    def _insert(self, subject_id: UUID, wrapped: bytes, master_id: str, created_at: str) -> bool:
        """Insert a new key row; return False if the subject already has one."""

    @abstractmethod
    def _insert_many(self, rows: list[tuple[UUID, bytes]], master_id: str, created_at: str) -> bool:
        """Insert many new key rows in one transaction; insert none and return False on any conflict."""

    @abstractmethod
    def _tombstone(self, subject_id: UUID, destroyed_at: str) -> None:
        """Set the row's wrapped key to NULL (inserting a tombstone if absent)."""

    @abstractmethod
    def _delete(self, subject_ids: Sequence[UUID]) -> None:
        """Delete the rows of *subject_ids*."""

    @abstractmethod
    def _live_keys(self) -> Iterator[tuple[UUID, bytes]]:
        """Yield ``(subject id, wrapped key)`` of every key not destroyed."""

    @abstractmethod
    def _any_master_id(self) -> str | None:
        """Return the master key id of any one live key, or None if there is none."""

    @abstractmethod
    def _rewrap_all(self, rewrapped: Rewrapper, new_id: str) -> int:
        """In one transaction, replace every live wrapped key by ``rewrapped(id, wrapped, master id)``.

        Must leave no live key under another master key, or change nothing.
        """

    @abstractmethod
    def _scrub(self) -> None:
        """Remove old copies of changed rows from the database's files."""


Rewrapper = Callable[[UUID, bytes, str], bytes]

_SQLITE_INSERT = f"INSERT INTO {TABLE} (subject_id, wrapped_key, master_key_id, created_at) VALUES (?, ?, ?, ?)"  # noqa: S608


def _now() -> str:
    return datetime.now(UTC).isoformat()


class InMemoryKeyStore(KeyStore):
    """Keys in a dict: for tests and the in-memory application."""

    def __init__(self, master_key: bytes) -> None:
        super().__init__(master_key)
        self._rows: dict[UUID, tuple[bytes | None, str]] = {}

    def _select(self, subject_id: UUID) -> tuple[bytes | None, str] | None:
        return self._rows.get(subject_id)

    def _insert(self, subject_id: UUID, wrapped: bytes, master_id: str, created_at: str) -> bool:
        del created_at
        if subject_id in self._rows:
            return False
        self._rows[subject_id] = (wrapped, master_id)
        return True

    def _insert_many(self, rows: list[tuple[UUID, bytes]], master_id: str, created_at: str) -> bool:
        del created_at
        if any(subject_id in self._rows for subject_id, _ in rows) or len({s for s, _ in rows}) != len(rows):
            return False
        for subject_id, wrapped in rows:
            self._rows[subject_id] = (wrapped, master_id)
        return True

    def _tombstone(self, subject_id: UUID, destroyed_at: str) -> None:
        del destroyed_at
        self._rows[subject_id] = (None, self._rows.get(subject_id, (None, self._master_id))[1])

    def _delete(self, subject_ids: Sequence[UUID]) -> None:
        for subject_id in subject_ids:
            self._rows.pop(subject_id, None)

    def _live_keys(self) -> Iterator[tuple[UUID, bytes]]:
        for subject_id, (wrapped, _) in self._rows.items():
            if wrapped is not None:
                yield subject_id, wrapped

    def _scrub(self) -> None:
        """Nothing to scrub: a replaced value is garbage-collected with the tuple that held it."""

    def _any_master_id(self) -> str | None:
        return next((master_id for wrapped, master_id in self._rows.values() if wrapped is not None), None)

    def _rewrap_all(self, rewrapped: Rewrapper, new_id: str) -> int:
        replaced = {
            subject_id: (rewrapped(subject_id, wrapped, master_id), new_id)
            for subject_id, (wrapped, master_id) in self._rows.items()
            if wrapped is not None
        }
        self._rows.update(replaced)
        return len(replaced)


class SQLiteKeyStore(KeyStore):
    """Keys in a table of the SQLite event database.

    ``secure_delete`` overwrites a destroyed key's bytes in the database file,
    and a WAL checkpoint after each destroy moves that into the main file, so no
    earlier copy of the wrapped key is left behind in the write-ahead log.
    """

    def __init__(self, master_key: bytes, datastore: Any) -> None:  # noqa: ANN401 (an eventsourcing datastore)
        super().__init__(master_key)
        self._datastore = datastore
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                "subject_id TEXT PRIMARY KEY, wrapped_key BLOB, master_key_id TEXT NOT NULL, "
                "created_at TEXT NOT NULL, destroyed_at TEXT)"
            )

    @property
    def datastore(self) -> Any:  # noqa: ANN401 (an eventsourcing datastore)
        """The eventsourcing datastore (the events' database) the keys live in."""
        return self._datastore

    def _select(self, subject_id: UUID) -> tuple[bytes | None, str] | None:
        with self._datastore.transaction(commit=False) as c:
            c.execute(f"SELECT wrapped_key, master_key_id FROM {TABLE} WHERE subject_id = ?", (subject_id.hex,))  # noqa: S608 (constant table name)
            row = c.fetchone()
        return None if row is None else (row[0], row[1])

    def _insert(self, subject_id: UUID, wrapped: bytes, master_id: str, created_at: str) -> bool:
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {TABLE} (subject_id, wrapped_key, master_key_id, created_at) "  # noqa: S608
                "VALUES (?, ?, ?, ?)",
                (subject_id.hex, wrapped, master_id, created_at),
            )
            return bool(c.sqlite_cursor.rowcount)

    def _insert_many(self, rows: list[tuple[UUID, bytes]], master_id: str, created_at: str) -> bool:
        try:
            with self._datastore.transaction(commit=True) as c:
                c.executemany(
                    _SQLITE_INSERT,
                    [(subject_id.hex, wrapped, master_id, created_at) for subject_id, wrapped in rows],
                )
        except IntegrityError:
            return False
        return True

    def insert_keys(self, cursor: Any, new_keys: NewKeys) -> None:  # noqa: ANN401 (an eventsourcing cursor)
        """Insert keys made by :meth:`make_keys` within the caller's transaction on this store's database.

        This is how a bulk import stores the keys in the same transaction as
        the events sealed under them: both are written, or neither. A subject
        that already has a key makes the insert, and so the transaction, fail.
        """
        master_id = new_keys.master_id
        created_at = new_keys.created_at
        cursor.executemany(
            _SQLITE_INSERT,
            [(subject_id.hex, wrapped, master_id, created_at) for subject_id, wrapped in new_keys.rows],
        )

    def _tombstone(self, subject_id: UUID, destroyed_at: str) -> None:
        with self._datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")
            c.execute(
                f"INSERT INTO {TABLE} (subject_id, wrapped_key, master_key_id, created_at, destroyed_at) "  # noqa: S608
                "VALUES (?, NULL, ?, ?, ?) ON CONFLICT (subject_id) DO UPDATE SET "
                "wrapped_key = NULL, destroyed_at = COALESCE(destroyed_at, excluded.destroyed_at)",
                (subject_id.hex, self._master_id, destroyed_at, destroyed_at),
            )

    def _delete(self, subject_ids: Sequence[UUID]) -> None:
        with self._datastore.transaction(commit=True) as c:
            c.executemany(f"DELETE FROM {TABLE} WHERE subject_id = ?", [(s.hex,) for s in subject_ids])  # noqa: S608

    def _scrub(self) -> None:
        """Move every change into the main file and truncate the write-ahead log to nothing.

        A reader in another connection can hold the log open for a moment:
        try again briefly. Whatever stays (a reader holding it for longer) is
        truncated by the next checkpoint.
        """
        for attempt in range(_CHECKPOINT_ATTEMPTS):
            with self._datastore.get_connection(commit=True) as connection:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
            if not busy:
                return
            time.sleep(0.01 * (attempt + 1))

    def _live_keys(self) -> Iterator[tuple[UUID, bytes]]:
        with self._datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subject_id, wrapped_key FROM {TABLE} WHERE wrapped_key IS NOT NULL")  # noqa: S608
            rows = c.fetchall()
        for subject_hex, wrapped in rows:
            yield UUID(subject_hex), wrapped

    def _any_master_id(self) -> str | None:
        with self._datastore.transaction(commit=False) as c:
            c.execute(f"SELECT master_key_id FROM {TABLE} WHERE wrapped_key IS NOT NULL LIMIT 1")  # noqa: S608
            row = c.fetchone()
        return None if row is None else str(row[0])

    def _rewrap_all(self, rewrapped: Rewrapper, new_id: str) -> int:
        with self._datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")
            c.execute(f"SELECT subject_id, wrapped_key, master_key_id FROM {TABLE} WHERE wrapped_key IS NOT NULL")  # noqa: S608
            rows = [(UUID(subject_hex), wrapped, master_id) for subject_hex, wrapped, master_id in c.fetchall()]
            c.executemany(
                f"UPDATE {TABLE} SET wrapped_key = ?, master_key_id = ? WHERE subject_id = ?",  # noqa: S608
                [
                    (rewrapped(subject_id, wrapped, master_id), new_id, subject_id.hex)
                    for subject_id, wrapped, master_id in rows
                ],
            )
            c.execute(f"SELECT count(*) FROM {TABLE} WHERE wrapped_key IS NOT NULL AND master_key_id <> ?", (new_id,))  # noqa: S608
            if c.fetchone()[0]:  # pragma: no cover (a key was created by another process meanwhile)
                raise ConfigurationError("keys were created while rotating: stop every other process and rotate again")
        return len(rows)


class PostgresKeyStore(KeyStore):
    """Keys in a table of the PostgreSQL event database (in its schema)."""

    def __init__(self, master_key: bytes, datastore: Any) -> None:  # noqa: ANN401 (an eventsourcing datastore)
        super().__init__(master_key)
        self._datastore = datastore
        self._table = f'"{datastore.schema}".{TABLE}'
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                "subject_id UUID PRIMARY KEY, wrapped_key BYTEA, master_key_id TEXT NOT NULL, "
                "created_at TIMESTAMPTZ NOT NULL, destroyed_at TIMESTAMPTZ)"
            )

    def _select(self, subject_id: UUID) -> tuple[bytes | None, str] | None:
        with self._datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT wrapped_key, master_key_id FROM {self._table} WHERE subject_id = %s",  # noqa: S608
                (subject_id,),
            )
            row = c.fetchone()
        if row is None:
            return None
        wrapped = row["wrapped_key"]
        return (None if wrapped is None else bytes(wrapped), row["master_key_id"])

    def _insert(self, subject_id: UUID, wrapped: bytes, master_id: str, created_at: str) -> bool:
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self._table} (subject_id, wrapped_key, master_key_id, created_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s) ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, wrapped, master_id, created_at),
            )
            return bool(c.rowcount)

    def _insert_many(self, rows: list[tuple[UUID, bytes]], master_id: str, created_at: str) -> bool:
        try:
            with self._datastore.transaction(commit=True) as c:
                c.executemany(
                    f"INSERT INTO {self._table} (subject_id, wrapped_key, master_key_id, created_at) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s)",
                    [(subject_id, wrapped, master_id, created_at) for subject_id, wrapped in rows],
                )
        except IntegrityError:
            return False
        return True

    def _tombstone(self, subject_id: UUID, destroyed_at: str) -> None:
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self._table} (subject_id, wrapped_key, master_key_id, created_at, destroyed_at) "  # noqa: S608
                "VALUES (%s, NULL, %s, %s, %s) ON CONFLICT (subject_id) DO UPDATE SET "
                f"wrapped_key = NULL, destroyed_at = COALESCE({self._table}.destroyed_at, excluded.destroyed_at)",
                (subject_id, self._master_id, destroyed_at, destroyed_at),
            )

    def _delete(self, subject_ids: Sequence[UUID]) -> None:
        with self._datastore.transaction(commit=True) as c:
            c.executemany(f"DELETE FROM {self._table} WHERE subject_id = %s", [(s,) for s in subject_ids])  # noqa: S608

    def _live_keys(self) -> Iterator[tuple[UUID, bytes]]:
        with self._datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subject_id, wrapped_key FROM {self._table} WHERE wrapped_key IS NOT NULL")  # noqa: S608
            rows = c.fetchall()
        for row in rows:
            yield row["subject_id"], bytes(row["wrapped_key"])

    def _any_master_id(self) -> str | None:
        with self._datastore.transaction(commit=False) as c:
            c.execute(f"SELECT master_key_id FROM {self._table} WHERE wrapped_key IS NOT NULL LIMIT 1")  # noqa: S608
            row = c.fetchone()
        return None if row is None else str(row["master_key_id"])

    def _rewrap_all(self, rewrapped: Rewrapper, new_id: str) -> int:
        with self._datastore.transaction(commit=True) as c:
            # No key may be created, destroyed or changed by anyone else until this commits.
            c.execute(f"LOCK TABLE {self._table} IN SHARE ROW EXCLUSIVE MODE")
            c.execute(f"SELECT subject_id, wrapped_key, master_key_id FROM {self._table} WHERE wrapped_key IS NOT NULL")  # noqa: S608
            rows = [(row["subject_id"], bytes(row["wrapped_key"]), row["master_key_id"]) for row in c.fetchall()]
            c.executemany(
                f"UPDATE {self._table} SET wrapped_key = %s, master_key_id = %s WHERE subject_id = %s",  # noqa: S608
                [
                    (rewrapped(subject_id, wrapped, master_id), new_id, subject_id)
                    for subject_id, wrapped, master_id in rows
                ],
            )
        return len(rows)

    def _scrub(self) -> None:
        """Vacuum the key table, so the old versions of changed rows are removed from its files.

        PostgreSQL never overwrites a row in place: an update leaves the old
        version (here: the wrapped key) in the table's pages until a vacuum
        removes it. VACUUM cannot run inside a transaction, and eventsourcing's
        connections are in autocommit mode, so it runs on its own here. It
        cannot remove a version that a transaction begun earlier (in any
        session of this database) may still see: its report says so, and the
        vacuum is tried again for a few seconds; a version still held after
        that goes with the next vacuum (autovacuum, or the next erasure's).
        """
        for attempt in range(_VACUUM_ATTEMPTS):
            if not self._vacuum():
                return
            time.sleep(0.05 * (attempt + 1))

    def _vacuum(self) -> int:
        """Run VACUUM on the key table; return how many dead row versions it could not remove yet."""
        report: list[str] = []

        def collect(diagnostic: Any) -> None:  # noqa: ANN401 (a psycopg Diagnostic)
            report.append(f"{diagnostic.message_primary or ''}\n{diagnostic.message_detail or ''}")

        with self._datastore.get_connection() as connection:
            connection.add_notice_handler(collect)
            try:
                connection.execute(f"VACUUM (VERBOSE) {self._table}")
            finally:
                connection.remove_notice_handler(collect)
        return sum(int(count) for text in report for count in _NOT_REMOVABLE.findall(text))
