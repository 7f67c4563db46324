"""Options shared by the commands that open the event store."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from grid_events import ConfigurationError, GridApplication, StoreConfig

__all__ = ["open_application", "store_options"]

F = TypeVar("F", bound=Callable[..., Any])


def store_options(command: F) -> F:
    """Add --store, --sqlite-path and --postgres-dsn to *command* (default: the environment)."""

    @click.option(
        "--store",
        type=click.Choice(["sqlite", "postgres", "memory"]),
        default=None,
        help="Where the events are (default: GRID_EVENTS_STORE, else sqlite).",
    )
    @click.option(
        "--sqlite-path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The SQLite file (default: GRID_EVENTS_SQLITE_PATH, else ./grid-data/events.sqlite3).",
    )
    @click.option(
        "--postgres-dsn",
        default=None,
        metavar="DSN",
        help="postgresql://user:password@host:port/dbname (default: GRID_EVENTS_POSTGRES_DSN).",
    )
    @functools.wraps(command)
    def wrapper(
        *args: object,
        store: str | None,
        sqlite_path: Path | None,
        postgres_dsn: str | None,
        **kwargs: object,
    ) -> object:
        kwargs["store_config"] = resolve_store(store, sqlite_path, postgres_dsn)
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def resolve_store(store: str | None, sqlite_path: Path | None, postgres_dsn: str | None) -> StoreConfig:
    """Return the store configuration from the options, falling back to the environment."""
    try:
        config = StoreConfig.from_environ()
        if store == "memory":
            return StoreConfig.memory()
        if store == "postgres" or (store is None and postgres_dsn):
            dsn = postgres_dsn or config.postgres_dsn
            return StoreConfig.postgres(dsn, schema=config.postgres_schema, master_key=config.master_key)
        if store == "sqlite" or sqlite_path is not None:
            return StoreConfig.sqlite(sqlite_path or config.sqlite_path, master_key=config.master_key)
    except ConfigurationError as e:
        raise click.UsageError(str(e)) from e
    return config


def open_application(config: StoreConfig) -> GridApplication:
    """Open the application on *config*, turning configuration errors into usage errors (exit 2)."""
    if config.backend == "sqlite" and not config.sqlite_path.exists():
        message = f"no event store at {config.sqlite_path}: run the demo or give --sqlite-path"
        raise click.UsageError(message)
    try:
        return GridApplication(config)
    except ConfigurationError as e:
        raise click.UsageError(str(e)) from e
