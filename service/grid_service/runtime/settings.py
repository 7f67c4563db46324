"""How the service is configured: the view store, NATS, the consumers, poison handling, HTTP.

Every setting has a default that runs on one machine; :meth:`ServiceSettings.from_environ`
reads the ``GRID_SERVICE_*`` variables (table below), NATS from the
``GRID_EVENTS_NATS_*`` ones (:class:`grid_events.transport.NatsSettings`) and
the event store from the ``GRID_EVENTS_*`` ones (:class:`grid_events.StoreConfig`);
the command line overrides the non-secret ones. Secrets (database and NATS
passwords) come from the environment only, never from the command line.

====================================  =========================================================
variable                              meaning (default)
====================================  =========================================================
``GRID_SERVICE_VIEWS_STORE``          ``sqlite`` or ``postgres`` (``sqlite``)
``GRID_SERVICE_VIEWS_SQLITE_PATH``    the views' SQLite file (``./grid-data/views.sqlite3``)
``GRID_SERVICE_VIEWS_SQLITE_SYNCHRONOUS`` ``normal`` or ``full`` (``normal``: see :class:`ViewStoreSettings`)
``GRID_SERVICE_VIEWS_POSTGRES_DSN``   ``postgresql://user:password@host:port/dbname``
``GRID_SERVICE_VIEWS_POSTGRES_SCHEMA`` schema of the view tables (``grid_views``)
``GRID_SERVICE_STREAM``               the JetStream stream (``GRID_EVENTS``)
``GRID_SERVICE_SUBJECT_PREFIX``       subjects are ``<prefix>.>`` (``grid.events``)
``GRID_SERVICE_CONSUMER_PREFIX``      durable consumers are ``<prefix>-<view>`` (``grid-views``)
``GRID_SERVICE_PROJECTIONS``          comma-separated views to run (all)
``GRID_SERVICE_BATCH_SIZE``           messages fetched and applied in one transaction (500)
``GRID_SERVICE_FETCH_TIMEOUT``        seconds a fetch waits for messages (1)
``GRID_SERVICE_ACK_WAIT``             seconds before NATS redelivers an unacknowledged message (30)
``GRID_SERVICE_MAX_DELIVER``          attempts at a failing message before it is a dead letter (5)
``GRID_SERVICE_BACKOFF``              seconds between attempts, comma-separated (``0.5,2,5,15``)
``GRID_SERVICE_POISON_POLICY``        after a dead letter: ``stop`` the view or ``skip`` the message
``GRID_SERVICE_HOST``                 HTTP address (``127.0.0.1``)
``GRID_SERVICE_PORT``                 HTTP port (``8000``)
``GRID_SERVICE_ACCOUNTS``             who may call the API (``./grid-data/accounts.json``: :mod:`.auth`)
====================================  =========================================================
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

from grid_events import ConfigurationError, StoreConfig
from grid_events.transport import NatsSettings, StreamSettings

__all__ = [
    "DEFAULT_ACCOUNTS_PATH",
    "DEFAULT_VIEWS_PATH",
    "PoisonPolicy",
    "ServiceSettings",
    "ViewStoreSettings",
    "poison_policy_of",
]

DEFAULT_VIEWS_PATH = Path("grid-data") / "views.sqlite3"
DEFAULT_ACCOUNTS_PATH = Path("grid-data") / "accounts.json"
_CONSUMER_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,100}")
_MAX_PORT = 65535


class PoisonPolicy(enum.StrEnum):
    """What a view does once a message has become a dead letter."""

    STOP = "stop"
    """Stop the view where it is and say why (readiness fails) until an operator acts: the default."""
    SKIP = "skip"
    """Move past the message (it stays recorded as a dead letter) and go on."""


def _redact_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password is None:
        return repr(dsn)
    return repr(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl())


@attrs.frozen
class ViewStoreSettings:
    """Where the views are kept: a SQLite file (the default) or a PostgreSQL schema."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: Path = attrs.field(default=DEFAULT_VIEWS_PATH, converter=Path)
    postgres_dsn: str = attrs.field(default="", repr=_redact_dsn)
    postgres_schema: str = "grid_views"
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    """SQLite's ``synchronous``: ``normal`` (the default) may lose the last batches to a power cut, and with
    them the view's position, so the view applies them again from the stream; ``full`` syncs every batch."""

    def __attrs_post_init__(self) -> None:
        if self.backend not in {"sqlite", "postgres"}:
            raise ConfigurationError(f"unknown view store {self.backend!r}: choose sqlite or postgres")
        if self.sqlite_synchronous not in {"normal", "full"}:
            raise ConfigurationError(f"SQLite synchronous {self.sqlite_synchronous!r}: choose normal or full")
        if self.backend == "postgres" and not self.postgres_dsn:
            raise ConfigurationError("a PostgreSQL view store needs a DSN: set GRID_SERVICE_VIEWS_POSTGRES_DSN")

    @classmethod
    def sqlite(cls, path: str | os.PathLike[str]) -> ViewStoreSettings:
        """Return settings for views in the SQLite file *path* (created with its directory if missing)."""
        return cls(backend="sqlite", sqlite_path=Path(path))

    @classmethod
    def postgres(cls, dsn: str, *, schema: str = "grid_views") -> ViewStoreSettings:
        """Return settings for views in PostgreSQL at *dsn*, in *schema* (default ``grid_views``)."""
        return cls(backend="postgres", postgres_dsn=dsn, postgres_schema=schema)

    def describe(self) -> str:
        """Return where the views are, for logs (never a password)."""
        if self.backend == "sqlite":
            return f"SQLite {self.sqlite_path}"
        return f"PostgreSQL {_redact_dsn(self.postgres_dsn)} schema {self.postgres_schema}"


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ConfigurationError(f"{attribute.name} must be positive, not {value}")


def _check_backoff(_: object, __: attrs.Attribute[Any], value: tuple[float, ...]) -> None:
    if not value or any(delay < 0 for delay in value):
        raise ConfigurationError(f"the backoff schedule needs at least one delay, none negative: {value!r}")


def _check_prefix(_: object, __: attrs.Attribute[Any], value: str) -> None:
    if not _CONSUMER_PREFIX.fullmatch(value):
        raise ConfigurationError(f"consumer prefix {value!r}: use letters, digits, '-' and '_' only")


def _check_port(_: object, __: attrs.Attribute[Any], value: int) -> None:
    if not 0 <= value <= _MAX_PORT:
        raise ConfigurationError(f"HTTP port {value} is not between 0 and {_MAX_PORT}")


def _floats(value: str | tuple[float, ...] | list[float]) -> tuple[float, ...]:
    if isinstance(value, str):
        try:
            return tuple(float(item) for item in value.split(",") if item.strip())
        except ValueError as e:
            raise ConfigurationError(f"backoff {value!r}: give seconds separated by commas, e.g. 0.5,2,5") from e
    return tuple(float(item) for item in value)


def poison_policy_of(value: str | PoisonPolicy) -> PoisonPolicy:
    """Return the policy *value* names, or raise :class:`~grid_events.ConfigurationError` saying the choices."""
    try:
        return PoisonPolicy(value)
    except ValueError as e:
        raise ConfigurationError(f"poison policy {value!r}: choose stop or skip") from e


def _names(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item.strip())


@attrs.frozen
class ServiceSettings:
    """Everything the service needs to know; the defaults run on one machine.

    *max_deliver* attempts are made at a message whose projection fails,
    *backoff* seconds apart (the last delay repeats), before it becomes a dead
    letter; then *poison_policy* decides. A message that cannot even be read
    (a :class:`~grid_events.transport.WireFormatError`) is a dead letter at once:
    reading the same bytes again cannot help. *event_store* is opened only to
    mask residents' personal data for the registry (it needs the master key).
    """

    views: ViewStoreSettings = attrs.Factory(ViewStoreSettings)
    event_store: StoreConfig = attrs.Factory(StoreConfig)
    nats: NatsSettings = attrs.Factory(NatsSettings)
    stream: StreamSettings = attrs.Factory(StreamSettings)
    consumer_prefix: str = attrs.field(default="grid-views", validator=_check_prefix)
    projections: tuple[str, ...] = attrs.field(default=(), converter=_names)
    """The views to run (empty: all of them)."""
    batch_size: int = attrs.field(default=500, validator=_positive)
    fetch_timeout: float = attrs.field(default=1.0, validator=_positive)
    ack_wait: float = attrs.field(default=30.0, validator=_positive)
    max_deliver: int = attrs.field(default=5, validator=_positive)
    backoff: tuple[float, ...] = attrs.field(default=(0.5, 2.0, 5.0, 15.0), converter=_floats, validator=_check_backoff)
    poison_policy: PoisonPolicy = attrs.field(default=PoisonPolicy.STOP, converter=poison_policy_of)
    http_host: str = "127.0.0.1"
    http_port: int = attrs.field(default=8000, validator=_check_port)
    accounts: Path = attrs.field(default=DEFAULT_ACCOUNTS_PATH, converter=Path)
    """The accounts file: who may call the HTTP API, in which role (:mod:`grid_service.runtime.auth`).
    Without it the service still starts, and every route that needs an account answers 401."""
    stream_poll_interval: float = attrs.field(default=2.0, validator=_positive)
    """How often the stream's last sequence is read, for lag and readiness."""
    retry_delay: float = attrs.field(default=0.2, validator=_positive)
    max_retry_delay: float = attrs.field(default=10.0, validator=_positive)
    """Waits after a NATS or view store error, doubling from *retry_delay* up to this."""
    drain_timeout: float = attrs.field(default=15.0, validator=_positive)
    """How long stopping waits for the batches being applied before it cancels them."""

    def consumer_name(self, projection: str) -> str:
        """Return the durable consumer name of *projection* (``grid-views-tasks``)."""
        return f"{self.consumer_prefix}-{re.sub(r'[^A-Za-z0-9_-]', '_', projection)}"

    def delay_before_attempt(self, attempt: int) -> float:
        """Return the seconds to wait before attempt number *attempt* (2, 3, …) at a failing message."""
        return self.backoff[min(max(attempt - 2, 0), len(self.backoff) - 1)]

    @property
    def http_url(self) -> str:
        """Where the HTTP API listens, e.g. ``http://127.0.0.1:8000``."""
        host = f"[{self.http_host}]" if ":" in self.http_host else self.http_host
        return f"http://{host}:{self.http_port}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceSettings:  # noqa: ANN401
        """Read the ``GRID_SERVICE_*``, ``GRID_EVENTS_NATS_*`` and ``GRID_EVENTS_*`` variables; *overrides* win.

        Raises :class:`~grid_events.ConfigurationError` naming the variable at fault.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "views": _views_from(env),
            "event_store": StoreConfig.from_environ(env),
            "nats": NatsSettings.from_environ(env, name="grid-events-service"),
        }
        stream_name, prefix = _get(env, "STREAM"), _get(env, "SUBJECT_PREFIX")
        if stream_name or prefix:
            defaults = StreamSettings()
            values["stream"] = StreamSettings(
                name=stream_name or defaults.name, subject_prefix=prefix or defaults.subject_prefix
            )
        values["accounts"] = default_accounts_path(env)
        values.update(_scalars_from(env))
        values.update(overrides)
        return cls(**values)


def default_accounts_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the accounts file: ``GRID_SERVICE_ACCOUNTS``, else ``GRID_EVENTS_DATA_DIR/accounts.json``.

    The one rule for the service and for ``grid-events accounts``, so that an account added or removed is in
    the file the service reads.
    """
    env = os.environ if environ is None else environ
    configured = _get(env, "ACCOUNTS")
    if configured:
        return Path(configured)
    data_dir = env.get("GRID_EVENTS_DATA_DIR", "").strip()
    return Path(data_dir) / "accounts.json" if data_dir else DEFAULT_ACCOUNTS_PATH


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(f"GRID_SERVICE_{name}", "").strip()


def _views_from(env: Mapping[str, str]) -> ViewStoreSettings:
    backend = _get(env, "VIEWS_STORE").lower() or ("postgres" if _get(env, "VIEWS_POSTGRES_DSN") else "sqlite")
    if backend not in {"sqlite", "postgres"}:
        raise ConfigurationError(f"GRID_SERVICE_VIEWS_STORE={backend!r}: choose sqlite or postgres")
    synchronous = _get(env, "VIEWS_SQLITE_SYNCHRONOUS").lower()
    if synchronous not in {"", "normal", "full"}:
        raise ConfigurationError(f"GRID_SERVICE_VIEWS_SQLITE_SYNCHRONOUS={synchronous!r}: choose normal or full")
    return ViewStoreSettings(
        backend="postgres" if backend == "postgres" else "sqlite",
        sqlite_path=Path(_get(env, "VIEWS_SQLITE_PATH") or DEFAULT_VIEWS_PATH),
        postgres_dsn=_get(env, "VIEWS_POSTGRES_DSN"),
        postgres_schema=_get(env, "VIEWS_POSTGRES_SCHEMA") or "grid_views",
        sqlite_synchronous="full" if synchronous == "full" else "normal",
    )


_SCALARS: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("CONSUMER_PREFIX", "consumer_prefix", str),
    ("PROJECTIONS", "projections", str),
    ("BATCH_SIZE", "batch_size", int),
    ("FETCH_TIMEOUT", "fetch_timeout", float),
    ("ACK_WAIT", "ack_wait", float),
    ("MAX_DELIVER", "max_deliver", int),
    ("BACKOFF", "backoff", str),
    ("POISON_POLICY", "poison_policy", str),
    ("HOST", "http_host", str),
    ("PORT", "http_port", int),
    ("ACCOUNTS", "accounts", Path),
)


def _scalars_from(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field, parse in _SCALARS:
        text = _get(env, name)
        if text:
            try:
                values[field] = parse(text)
            except ValueError as e:
                kind = "whole number" if parse is int else "number"
                raise ConfigurationError(f"GRID_SERVICE_{name}={text!r} is not a {kind}") from e
    return values
