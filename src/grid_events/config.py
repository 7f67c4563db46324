"""Where events and keys are stored, read from arguments or the environment.

=============================  ===========================================================
variable                       meaning
=============================  ===========================================================
``GRID_EVENTS_STORE``          ``sqlite`` (default), ``postgres`` or ``memory``
``GRID_EVENTS_DATA_DIR``       directory of the SQLite file and key file (``./grid-data``)
``GRID_EVENTS_SQLITE_PATH``    the SQLite file (default ``<data dir>/events.sqlite3``)
``GRID_EVENTS_POSTGRES_DSN``   ``postgresql://user:password@host:port/dbname``
``GRID_EVENTS_POSTGRES_SCHEMA`` schema for the tables (default ``public``)
``GRID_EVENTS_MASTER_KEY``     the master key, 32 bytes in URL-safe base64
``GRID_EVENTS_MASTER_KEY_FILE`` a file holding that base64 text
=============================  ===========================================================

With SQLite and no master key configured, a key file is created beside the
database (mode 0600) on first use; PostgreSQL deployments must configure one.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import attrs

from grid_events.exceptions import ConfigurationError

__all__ = ["StoreConfig", "decode_master_key", "encode_master_key", "new_master_key", "redact_dsn"]

Backend = Literal["memory", "sqlite", "postgres"]
_BACKENDS: tuple[Backend, ...] = ("memory", "sqlite", "postgres")
DEFAULT_DATA_DIR = "grid-data"


def new_master_key() -> bytes:
    """Return 32 fresh random bytes for a master key."""
    return secrets.token_bytes(32)


def encode_master_key(key: bytes) -> str:
    """Return *key* as URL-safe base64 text, the form the configuration takes."""
    return base64.urlsafe_b64encode(key).decode()


def decode_master_key(text: str) -> bytes:
    """Return the 32 bytes of a base64 master key, or raise :class:`ConfigurationError`."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as e:
        raise ConfigurationError("the master key is not valid base64") from e
    if len(key) != 32:  # noqa: PLR2004 (AES-256)
        raise ConfigurationError(f"the master key must decode to 32 bytes, not {len(key)}")
    return key


def redact_dsn(dsn: str) -> str:
    """Return *dsn* with its password replaced by ``***`` (for logs and reprs)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return repr(dsn)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return repr(parts._replace(netloc=netloc).geturl())


@attrs.frozen
class StoreConfig:
    """Which database holds the events and keys, and the master key for the keys."""

    backend: Backend = "sqlite"
    sqlite_path: Path = Path(DEFAULT_DATA_DIR) / "events.sqlite3"
    postgres_dsn: str = attrs.field(default="", repr=redact_dsn)
    postgres_schema: str = ""
    master_key: bytes | None = attrs.field(default=None, repr=False)
    master_key_file: Path | None = None

    def __attrs_post_init__(self) -> None:
        if self.backend not in _BACKENDS:
            raise ConfigurationError(f"unknown store {self.backend!r}: choose one of {', '.join(_BACKENDS)}")
        if self.backend == "postgres" and not self.postgres_dsn:
            raise ConfigurationError("the postgres store needs a DSN (GRID_EVENTS_POSTGRES_DSN)")

    @classmethod
    def memory(cls) -> StoreConfig:
        """Events in memory: for tests and experiments; gone when the process ends."""
        return cls(backend="memory")

    @classmethod
    def sqlite(cls, path: str | Path, *, master_key: bytes | None = None) -> StoreConfig:
        """Events in the SQLite file *path* (created with its directory if missing)."""
        return cls(backend="sqlite", sqlite_path=Path(path), master_key=master_key)

    @classmethod
    def postgres(cls, dsn: str, *, schema: str = "", master_key: bytes | None = None) -> StoreConfig:
        """Events in PostgreSQL at *dsn* (``postgresql://user:password@host:port/dbname``)."""
        return cls(backend="postgres", postgres_dsn=dsn, postgres_schema=schema, master_key=master_key)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> StoreConfig:
        """Read the ``GRID_EVENTS_*`` variables (see the module docstring)."""
        env = os.environ if environ is None else environ
        backend = env.get("GRID_EVENTS_STORE", "sqlite").strip().lower()
        data_dir = Path(env.get("GRID_EVENTS_DATA_DIR", DEFAULT_DATA_DIR))
        key_text = env.get("GRID_EVENTS_MASTER_KEY", "")
        key_file = env.get("GRID_EVENTS_MASTER_KEY_FILE", "")
        if backend not in _BACKENDS:
            raise ConfigurationError(f"GRID_EVENTS_STORE={backend!r}: choose one of {', '.join(_BACKENDS)}")
        return cls(
            backend=backend,
            sqlite_path=Path(env.get("GRID_EVENTS_SQLITE_PATH", str(data_dir / "events.sqlite3"))),
            postgres_dsn=env.get("GRID_EVENTS_POSTGRES_DSN", ""),
            postgres_schema=env.get("GRID_EVENTS_POSTGRES_SCHEMA", ""),
            master_key=decode_master_key(key_text) if key_text else None,
            master_key_file=Path(key_file) if key_file else None,
        )

    def eventsourcing_env(self) -> dict[str, str]:
        """Return the eventsourcing environment variables selecting this store."""
        if self.backend == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.backend == "sqlite":
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "grid_events.persistence:BulkSQLiteApplicationRecorder",
            }
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **postgres_env(self.postgres_dsn, self.postgres_schema)}

    def resolve_master_key(self) -> bytes:
        """Return the master key: given, from its file, beside SQLite, or random in memory."""
        if self.master_key is not None:
            return self.master_key
        if self.master_key_file is not None:
            return decode_master_key(self.master_key_file.read_text())
        if self.backend == "memory":
            return new_master_key()
        if self.backend == "sqlite":
            return _key_file_beside(self.sqlite_path)
        raise ConfigurationError(
            "a PostgreSQL store needs a master key: set GRID_EVENTS_MASTER_KEY or GRID_EVENTS_MASTER_KEY_FILE "
            "(make one with `grid-events keys new`)"
        )


def _key_file_beside(database: Path) -> bytes:
    path = database.with_name(database.name + ".master-key")
    if path.exists():
        return decode_master_key(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_master_key()
    # Create with 0600 from the start: never world-readable, not even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(encode_master_key(key) + "\n")
    return key


def postgres_env(dsn: str, schema: str = "") -> dict[str, str]:
    """Translate a ``postgresql://`` DSN into eventsourcing's ``POSTGRES_*`` variables."""
    parts = urlsplit(dsn)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ConfigurationError("the PostgreSQL DSN must start with postgresql://")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ConfigurationError("the PostgreSQL DSN must name a database: postgresql://…/dbname")
    env = {
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
