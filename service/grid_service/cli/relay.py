"""``grid-events relay``: the outbox relay as a process of its own."""

from __future__ import annotations

import click

from grid_events.transport import main as relay_main

__all__ = ["relay"]


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def relay(args: tuple[str, ...]) -> None:
    """Publish every stored event to NATS JetStream, in order, each once (--help for the options).

    Runs until SIGTERM or Ctrl-C. Exit 0 when stopped, 1 if the stream belongs
    to another store, 2 on a configuration error. See docs/transport.md.
    """
    raise SystemExit(relay_main(list(args)))
