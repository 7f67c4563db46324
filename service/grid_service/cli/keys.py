"""``grid-events keys``: make a master key."""

from __future__ import annotations

import click

from grid_events import encode_master_key, new_master_key

__all__ = ["keys"]


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
