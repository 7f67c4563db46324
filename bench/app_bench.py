"""Command throughput of GridApplication on SQLite against bare eventsourcing, in one run.

Run:  .venv/bin/python bench/app_bench.py [--aggregates 300] [--rounds 3]

Three measurements, each repeated --rounds times, medians reported:

* **commands**: each aggregate is created, then driven through the task loop
  (assign, accept, start, progress, submit, verify, close): every command loads
  the aggregate, checks it, records one event and saves it. The baseline is a
  bare eventsourcing ``Application`` with eventsourcing's own JSON transcoder on
  SQLite, an aggregate with no checks, the same number of commands and events,
  and events padded to the same stored size.
* **bulk import**: residents imported in batches of 1,000 aggregates a save
  (personal data sealed, one key each), events per second.
* the same bulk path in the bare baseline (no sealing), for the ratio.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from grid_events import Actor, GridApplication, GridCell, PersonalData, ResidentRecord, Role, StoreConfig, TaskKind

SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
WORKER = Actor("w-li", Role.GRID_WORKER)
GRID = GridCell("江南", "飞凤", "03")
PERSON = PersonalData(name="张秀英", id_number="11010519491231002X", phone="13812345678", address="飞凤小区3幢")
COMMANDS_PER_AGGREGATE = 8  # create + 7 steps of the loop


class BareTask(Aggregate):
    """The baseline: an aggregate with no checks whose events carry a padding string."""

    @event("Created")
    def __init__(self, padding: str) -> None:
        """Create the aggregate with a padded first event."""
        self.padding = padding
        self.steps = 0

    @event("Stepped")
    def step(self, padding: str) -> None:
        """Record one step, unchecked."""
        self.padding = padding
        self.steps += 1


class BareApplication(Application[UUID]):
    """Bare eventsourcing: default mapper and JSON transcoder."""


def grid_loop(app: GridApplication, count: int) -> int:
    """Create *count* tasks and drive each through the loop; return the number of commands."""
    for index in range(count):
        task_id = app.create_task(TaskKind.HOUSEHOLD_VISIT, f"入户走访 {index}", GRID, actor=SUPERVISOR)
        app.assign_task(task_id, WORKER.worker_id, actor=SUPERVISOR)
        app.accept_task(task_id, actor=WORKER)
        app.start_task(task_id, actor=WORKER)
        app.record_task_progress(task_id, "visited, all well", actor=WORKER)
        app.submit_task(task_id, "visit done", actor=WORKER)
        app.verify_task(task_id, actor=SUPERVISOR)
        app.close_task(task_id, actor=SUPERVISOR)
    return count * COMMANDS_PER_AGGREGATE


def mean_state_size(app: GridApplication) -> int:
    """Return the mean stored state size of the events in *app*."""
    notifications = app.recorder.select_notifications(1, 10_000)
    return int(statistics.mean(len(n.state) for n in notifications))


def bare_loop(app: BareApplication, count: int, padding: str) -> int:
    """Run the baseline loop: the same number of commands, loads, events and saves."""
    for _ in range(count):
        task = BareTask(padding)
        app.save(task)
        for _ in range(COMMANDS_PER_AGGREGATE - 1):
            loaded: BareTask = app.repository.get(task.id)
            loaded.step(padding)
            app.save(loaded)
    return count * COMMANDS_PER_AGGREGATE


def bare_bulk(app: BareApplication, count: int, padding: str) -> int:
    """Baseline bulk path: *count* new aggregates, 1,000 a save."""
    for start in range(0, count, 1000):
        app.save(*(BareTask(padding) for _ in range(min(1000, count - start))))
    return count


def grid_bulk(app: GridApplication, count: int) -> int:
    """Import *count* residents, 1,000 a save."""
    for start in range(0, count, 1000):
        records = [ResidentRecord(PERSON, GRID) for _ in range(min(1000, count - start))]
        app.import_residents(records, actor=WORKER)
    return count


def timed(action: Callable[[], int]) -> float:
    """Return events (or commands) per second of *action*."""
    started = time.perf_counter()
    done = action()
    return done / (time.perf_counter() - started)


class StepClock:
    """A clock that moves a millisecond each call, so event times never go backwards."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        """Return a time one millisecond after the last one."""
        self.now += timedelta(milliseconds=1)
        return self.now


def sqlite_env(directory: Path, name: str) -> dict[str, str]:
    """Return the eventsourcing settings of a SQLite file in *directory*."""
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / f"{name}.sqlite3")}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement *args.rounds* times; return medians."""
    results: dict[str, list[float]] = {"grid": [], "bare": [], "grid_bulk": [], "bare_bulk": []}
    padding_size = 0
    for round_index in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            with GridApplication(
                StoreConfig.sqlite(directory / f"grid{round_index}.sqlite3"), clock=StepClock()
            ) as app:
                results["grid"].append(timed(functools.partial(grid_loop, app, args.aggregates)))
                padding_size = mean_state_size(app)
            # Pad the baseline's JSON events to the same stored size as ours.
            with BareApplication(env=sqlite_env(directory, f"bare{round_index}")) as bare:
                probe = BareTask("")
                bare.save(probe)
                empty = len(bare.recorder.select_events(probe.id)[0].state)
                padding = "x" * max(0, padding_size - empty)
                results["bare"].append(timed(functools.partial(bare_loop, bare, args.aggregates, padding)))
            with GridApplication(StoreConfig.sqlite(directory / f"gridbulk{round_index}.sqlite3")) as app:
                results["grid_bulk"].append(timed(functools.partial(grid_bulk, app, args.bulk)))
            with BareApplication(env=sqlite_env(directory, f"barebulk{round_index}")) as bare:
                results["bare_bulk"].append(timed(functools.partial(bare_bulk, bare, args.bulk, "x" * 400)))
    medians = {key: statistics.median(values) for key, values in results.items()}
    medians["event_size"] = padding_size
    return medians


def main() -> None:
    """Parse arguments, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aggregates", type=int, default=300, help="tasks driven through the loop per round")
    parser.add_argument("--bulk", type=int, default=20_000, help="residents imported per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args)
    print(f"Mean stored event size: {figures['event_size']} bytes; medians of {args.rounds} rounds.\n")
    print("| measurement | grid_events | bare eventsourcing | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| single commands on SQLite (commands/s) | {figures['grid']:,.0f} | {figures['bare']:,.0f} "
        f"| {figures['grid'] / figures['bare']:.2f}x |"
    )
    print(
        f"| bulk import, 1,000 aggregates a save (events/s) | {figures['grid_bulk']:,.0f} "
        f"| {figures['bare_bulk']:,.0f} | {figures['grid_bulk'] / figures['bare_bulk']:.2f}x |"
    )


if __name__ == "__main__":
    main()
