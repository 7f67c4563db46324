"""The relay as a standalone process: ``grid-events relay`` or ``python -m grid_events.transport``.

The store comes from the ``GRID_EVENTS_*`` variables (:class:`~grid_events.config.StoreConfig`)
and NATS from the ``GRID_EVENTS_NATS_*`` ones (:class:`~grid_events.transport.connection.NatsSettings`);
options override the non-secret ones. Secrets are read from the environment
only. The relay needs no master key: it publishes events as stored, sealed
personal data stays sealed.

The process runs until SIGTERM or SIGINT, then lets what is in flight be
acknowledged and exits 0. It exits 1 if the stream belongs to another store,
and 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from eventsourcing.application import Application

from grid_events.application.core import ApplicationCore
from grid_events.config import StoreConfig
from grid_events.exceptions import ConfigurationError
from grid_events.transport.connection import NatsSettings
from grid_events.transport.errors import StreamMismatchError
from grid_events.transport.relay import OutboxRelay, RelaySettings
from grid_events.transport.stream import StreamSettings

__all__ = ["EventStoreReader", "build_parser", "main", "run_relay"]

logger = logging.getLogger("grid_events.transport")


class EventStoreReader(Application[UUID]):
    """The grid_events event store opened for reading notifications only (no keys, no codec).

    It reads the same tables as :class:`~grid_events.GridApplication` (its name decides them).
    """

    name = ApplicationCore.name


def open_event_store(store: StoreConfig) -> EventStoreReader:
    """Open the event store *store* describes, for the relay: it creates nothing, it only reads.

    Until the application has created the tables, the relay's reads fail and it retries.
    """
    return EventStoreReader({**store.eventsourcing_env(), "CREATE_TABLE": "false"})


async def run_relay(
    store: StoreConfig,
    settings: RelaySettings,
    stop_event: asyncio.Event,
) -> None:
    """Relay the events of *store* until *stop_event* is set.

    Raises :class:`StreamMismatchError` if the stream belongs to another store.
    """
    reader = await asyncio.to_thread(open_event_store, store)
    try:
        async with OutboxRelay(reader, settings) as relay:
            stopping = asyncio.create_task(stop_event.wait())
            running = asyncio.create_task(relay.join())
            try:
                await asyncio.wait((stopping, running), return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not running.done():
                    running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stopping
            if running.done() and not running.cancelled():
                running.result()
            else:
                with contextlib.suppress(asyncio.CancelledError):
                    await running
    finally:
        reader.close()


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser of the relay."""
    parser = argparse.ArgumentParser(
        prog="grid-events relay",
        description="Publish every event of the grid_events store to NATS JetStream, in order, each once.",
        epilog="Secrets (NATS password, token; database password) are read from the environment only.",
    )
    store = parser.add_argument_group("event store (default: the GRID_EVENTS_* environment)")
    store.add_argument("--sqlite", type=Path, metavar="PATH", help="relay the SQLite store in this file")
    nats = parser.add_argument_group("NATS (default: the GRID_EVENTS_NATS_* environment)")
    nats.add_argument("--nats-url", metavar="URL", help="server URLs, comma-separated")
    nats.add_argument("--stream", default=None, help="stream name (default GRID_EVENTS)")
    nats.add_argument("--subject-prefix", default=None, help="subject prefix (default grid.events)")
    nats.add_argument("--replicas", type=int, default=None, help="replicas when creating the stream (default 1)")
    nats.add_argument("--duplicate-window", type=float, default=None, help="de-duplication window, seconds")
    tuning = parser.add_argument_group("tuning")
    defaults = RelaySettings()
    tuning.add_argument("--batch-size", type=int, default=defaults.batch_size)
    tuning.add_argument("--max-in-flight", type=int, default=defaults.max_in_flight)
    tuning.add_argument("--ack-timeout", type=float, default=defaults.ack_timeout)
    tuning.add_argument("--poll-interval", type=float, default=defaults.poll_interval)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def settings_from_args(args: argparse.Namespace) -> tuple[StoreConfig, RelaySettings]:
    """Return the store and relay settings the environment and *args* describe."""
    store = StoreConfig.sqlite(args.sqlite) if args.sqlite else StoreConfig.from_environ()
    if store.backend == "memory":
        raise ConfigurationError("the relay needs a persistent store (sqlite or postgres), not memory")
    nats = NatsSettings.from_environ(**({"servers": args.nats_url} if args.nats_url else {}))
    stream_options = {
        name: value
        for name, value in (
            ("name", args.stream),
            ("subject_prefix", args.subject_prefix),
            ("replicas", args.replicas),
            ("duplicate_window", args.duplicate_window),
        )
        if value is not None
    }
    settings = RelaySettings(
        nats=nats,
        stream=StreamSettings(**stream_options),
        batch_size=args.batch_size,
        max_in_flight=args.max_in_flight,
        ack_timeout=args.ack_timeout,
        poll_interval=args.poll_interval,
    )
    return store, settings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the relay until SIGTERM or SIGINT; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        store, settings = settings_from_args(args)
    except (ConfigurationError, OSError) as e:
        logger.error("%s", e)  # noqa: TRY400 (a configuration message, not a crash)
        return 2
    try:
        asyncio.run(_main(store, settings))
    except StreamMismatchError:
        return 1
    except ConfigurationError as e:
        logger.error("%s", e)  # noqa: TRY400
        return 2
    return 0


async def _main(store: StoreConfig, settings: RelaySettings) -> None:
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_event.set)
    try:
        await run_relay(store, settings, stop_event)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
