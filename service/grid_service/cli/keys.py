"""``grid-events keys``: make a master key, rotate it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from grid_events import (
    Actor,
    ConfigurationError,
    GridEventsError,
    Role,
    StoreConfig,
    decode_master_key,
    encode_master_key,
    new_master_key,
)
from grid_service.cli.options import open_application, store_options

__all__ = ["keys"]

NEW_KEY_VARIABLE = "GRID_EVENTS_NEW_MASTER_KEY"


@click.group()
def keys() -> None:
    """Manage the master key that wraps every data subject's key."""


@keys.command("new")
def new() -> None:
    """Print a new random master key (URL-safe base64) for GRID_EVENTS_MASTER_KEY.

    Keep it somewhere safe and apart from the database: whoever has both can
    read every resident's personal data, and losing it loses that data.
    """
    click.echo(encode_master_key(new_master_key()))


@keys.command("rotate")
@store_options
@click.option(
    "--new-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the new master key from this file (base64, as `keys new` prints it).",
)
@click.option(
    "--new-key-stdin",
    is_flag=True,
    help="Read the new master key from standard input.",
)
@click.option("--by", "worker_id", required=True, help="Your worker id, recorded with the rotation (as administrator).")
def rotate(
    *,
    store_config: StoreConfig,
    new_key_file: Path | None,
    new_key_stdin: bool,
    worker_id: str,
) -> None:
    """Re-wrap every data subject's key under a new master key, in one transaction.

    The current master key comes from the usual configuration
    (GRID_EVENTS_MASTER_KEY, GRID_EVENTS_MASTER_KEY_FILE, or the key file beside
    a SQLite store); the new one from GRID_EVENTS_NEW_MASTER_KEY, --new-key-file
    or --new-key-stdin (make one with `grid-events keys new`). No key is ever
    printed. Stop every other process using the store first.
    """
    new_key = _read_new_key(new_key_file, new_key_stdin=new_key_stdin)
    app = open_application(store_config)
    try:
        old_id = app.master_key_id
        count = app.rotate_master_key(new_key, actor=Actor(worker_id, Role.ADMINISTRATOR))
        new_id = app.master_key_id
    except GridEventsError as e:
        raise click.UsageError(str(e)) from e
    finally:
        app.close()
    click.echo(f"Re-wrapped {count} key(s): master key {old_id} → {new_id}. Nothing was printed of either key.")
    click.echo("Next:")
    click.echo(f"  1. {_where_the_key_goes(store_config, new_key)}")
    click.echo("  2. Restart every process using this store (service, relay) with the new key: with the old one")
    click.echo(f"     they can read no personal data and stop with 'wrapped under master key {new_id}'.")
    click.echo(f"  3. Destroy every copy of the old master key ({old_id}). Backups of the database made before now")
    click.echo("     can be read only with it: destroy those backups too, or keep the old key locked away with them")
    click.echo("     for as long as they are kept. Erased people's keys survive in such backups until then.")


def _read_new_key(new_key_file: Path | None, *, new_key_stdin: bool) -> bytes:
    """Return the new master key from exactly one source: the environment, a file or standard input."""
    from_env = os.environ.get(NEW_KEY_VARIABLE, "")
    sources = [
        name for name, given in (("env", bool(from_env)), ("file", new_key_file), ("stdin", new_key_stdin)) if given
    ]
    if len(sources) != 1:
        message = f"give the new master key in exactly one way: {NEW_KEY_VARIABLE}, --new-key-file or --new-key-stdin"
        raise click.UsageError(message)
    if new_key_file is not None:
        text = new_key_file.read_text()
    elif new_key_stdin:
        text = sys.stdin.readline()
    else:
        text = from_env
    try:
        return decode_master_key(text)
    except ConfigurationError as e:
        raise click.UsageError(f"the new master key: {e}") from e


def _where_the_key_goes(config: StoreConfig, new_key: bytes) -> str:
    """Put the new key where the store's key came from, if that is the default key file; say what to do."""
    if config.master_key is not None:
        return "Set GRID_EVENTS_MASTER_KEY to the new key wherever this store is opened."
    if config.master_key_file is not None:
        return f"Write the new key into {config.master_key_file} (GRID_EVENTS_MASTER_KEY_FILE), replacing the old one."
    if config.backend == "sqlite":
        path = config.sqlite_path.with_name(config.sqlite_path.name + ".master-key")
        _replace_private_file(path, encode_master_key(new_key) + "\n")
        return f"The key file {path} now holds the new key (nothing to configure)."
    return "Configure the new key (GRID_EVENTS_MASTER_KEY or GRID_EVENTS_MASTER_KEY_FILE)."


def _replace_private_file(path: Path, text: str) -> None:
    """Replace *path* atomically with *text*, readable by its owner only from the start."""
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
