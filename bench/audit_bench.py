"""How fast an auditor's work runs: verifying a store of a million events, and reading a case of a thousand.

Run:  .venv/bin/python bench/audit_bench.py [--events 1000000] [--case-events 1000] [--rounds 3] [--keep DIR]

Two measurements, each repeated --rounds times, medians reported:

* **verification** over a SQLite store of --events events (target: at least
  100,000 events a second): ``verify_store`` walking every chain, then again
  against a checkpoint, ``take_checkpoint``, and ``grid-events audit verify``
  end to end (a fresh process, as an auditor runs it).
* **one case** of --case-events events (a survey-call task with its calls and
  progress notes, recorded through GridApplication): reading its history,
  rendering its timeline in Chinese, checking the rules, verifying its chain,
  and building its HTML report.

The million-event store is built in well under a minute without running a
command per event: real disputes and inspections are recorded once through
GridApplication, then their stored events are copied to new aggregates and
chained afresh (``[1, prev, body]`` with each event's link hash, exactly as the
chained event store writes them), and inserted with one ``executemany`` per
batch. The copies decode and verify like the originals.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from grid_events import (
    SMALL_VENUE_FIRE_SAFETY,
    Actor,
    Agreement,
    AgreementForm,
    CallOutcome,
    DisputeCategory,
    DisputeSource,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    ItemResult,
    PartyDetails,
    PartyInput,
    PartyKind,
    PerformanceStatus,
    Place,
    Role,
    Severity,
    SignatureMethod,
    StoreConfig,
    TaskKind,
    Term,
)
from grid_events.audit import (
    build_report,
    build_timeline,
    check_case,
    history,
    take_checkpoint,
    to_html,
    verify_aggregate,
    verify_store,
)
from grid_events.chain import GENESIS, LAYOUT_VERSION, link_hash

GRID = GridCell("江南", "飞凤", "03")
SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
MEDIATOR = Actor("m-chen", Role.MEDIATOR)
OFFICER = Actor("so-zhao", Role.SAFETY_OFFICER)
WORKER = Actor("w-li", Role.GRID_WORKER)
SHOP = Place("吴记面馆", "飞凤路 18 号", GRID)
HEADER = bytes([0x93, LAYOUT_VERSION, 0xC4, 32])
"""The first bytes of a chained state: fixarray(3), the layout version, bin8 of 32 bytes (then prev, then the body)."""
BATCH = 100_000


class Clock:
    """A clock moved by hand, from Monday 2 November 2026, 09:00 China time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        """Return the time the clock shows."""
        return self.now


# -- templates: real cases, recorded once -------------------------------------------------------------


def record_dispute(app: GridApplication, clock: Clock) -> UUID:
    """Record a mediation case from application to closing (16 events)."""
    today = date(2026, 11, 2)
    dispute_id = app.receive_dispute(
        DisputeSource.PARTY_APPLICATION,
        DisputeCategory.NEIGHBOUR,
        "楼上卫生间渗水至楼下",
        [
            PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="张秀英", phone="13812345678")),
            PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="李建国", phone="13900001111")),
        ],
        GRID,
        today,
        actor=SUPERVISOR,
    )
    app.accept_dispute(dispute_id, today, actor=SUPERVISOR)
    app.assign_mediator(dispute_id, MEDIATOR.worker_id, actor=SUPERVISOR)
    app.note_investigation(dispute_id, "现场查看：601 卫生间防水层老化", actor=MEDIATOR)
    app.record_session(
        dispute_id,
        clock() - timedelta(hours=1),
        "飞凤社区调解室",
        ["P1", "P2", MEDIATOR.worker_id],
        {"P1": "漏水三个月了", "P2": "愿意请师傅看一下"},
        "双方同意由 601 室维修并赔偿",
        actor=MEDIATOR,
    )
    terms = (Term("601 室重做防水层", "P2", today + timedelta(days=10)), Term("赔偿 1500 元", "P2", None))
    agreement = Agreement(AgreementForm.WRITTEN, "防水层老化渗水", "维修与赔偿", terms, "调解员现场确认")
    app.draft_agreement(dispute_id, agreement, actor=MEDIATOR)
    for signer in ("P1", "P2", MEDIATOR.worker_id):
        app.sign_agreement(dispute_id, signer, today, SignatureMethod.SIGNATURE, actor=MEDIATOR)
    clock.now += timedelta(days=10)
    app.record_performance(dispute_id, 0, performed=True, actor=MEDIATOR)
    app.record_performance(dispute_id, 1, performed=True, actor=MEDIATOR)
    app.record_follow_up(
        dispute_id, date(2026, 11, 12), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=MEDIATOR
    )
    app.close_dispute(dispute_id, "协议已履行", actor=SUPERVISOR)
    return dispute_id


def record_inspection(app: GridApplication, clock: Clock) -> UUID:
    """Record a fire inspection whose hazard was ordered fixed, re-inspected and closed (18 events)."""
    task_id = app.create_inspection("吴记面馆消防安全检查", SHOP, SMALL_VENUE_FIRE_SAFETY, actor=SUPERVISOR)
    app.assign_task(task_id, OFFICER.worker_id, actor=SUPERVISOR)
    app.accept_task(task_id, actor=OFFICER)
    app.start_task(task_id, actor=OFFICER)
    for item in SMALL_VENUE_FIRE_SAFETY.items:
        result = ItemResult.FAIL if item.code == "exits_clear" else ItemResult.PASS
        app.check_item(task_id, item.code, result, actor=OFFICER)
    photo = EvidenceRef(EvidenceKind.PHOTO, "evidence://2026/11/back-exit.jpg", "ab" * 32, "后门")
    found_on = clock().date()
    finding_id = app.record_finding(
        task_id,
        "exits_clear",
        "后门安全出口被纸箱堵塞",
        severity=Severity.MAJOR,
        location="后厨后门",
        found_on=found_on,
        actor=OFFICER,
        evidence=(photo,),
    )
    app.order_rectification(task_id, finding_id, found_on + timedelta(days=3), found_on, actor=OFFICER)
    app.reinspect(task_id, finding_id, found_on + timedelta(days=3), passed=True, actor=OFFICER, evidence=(photo,))
    app.submit_task(task_id, "隐患已整改", actor=OFFICER)
    app.verify_task(task_id, actor=SUPERVISOR)
    app.close_task(task_id, actor=SUPERVISOR)
    return task_id


def templates() -> list[list[tuple[str, bytes]]]:
    """Return the (topic, body bytes) of every event of one recorded dispute and one inspection."""
    clock = Clock()
    with GridApplication(StoreConfig.memory(), clock=clock) as app:
        cases = [record_dispute(app, clock), record_inspection(app, clock)]
        return [
            [(stored.topic, stored.state[len(HEADER) + 32 :]) for stored in app.recorder.select_events(case_id)]
            for case_id in cases
        ]


def build_store(path: Path, events: int) -> tuple[int, int, float]:
    """Fill a new SQLite store at *path* with about *events* chained events; return (events, cases, seconds)."""
    started = time.perf_counter()
    GridApplication(StoreConfig.sqlite(path)).close()  # creates the tables and the key file
    shapes = templates()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    written = cases = 0
    rows: list[tuple[str, int, str, bytes]] = []
    while written < events:
        shape = shapes[cases % len(shapes)]
        case_id = uuid4()
        prev = GENESIS
        for version, (topic, body) in enumerate(shape, 1):
            state = HEADER + prev + body
            rows.append((case_id.hex, version, topic, state))
            prev = link_hash(case_id, version, topic, state)
        written += len(shape)
        cases += 1
        if len(rows) >= BATCH:
            _insert(connection, rows)
            rows = []
    _insert(connection, rows)
    connection.close()
    return written, cases, time.perf_counter() - started


def _insert(connection: sqlite3.Connection, rows: list[tuple[str, int, str, bytes]]) -> None:
    with connection:
        connection.executemany(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)", rows
        )


# -- measurements ----------------------------------------------------------------------------------------


def median_seconds(rounds: int, work: Callable[[], object]) -> float:
    """Run *work* *rounds* times; return the median wall time in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_verification(path: Path, events: int, rounds: int) -> list[tuple[str, float, str]]:
    """Time verification of the whole store, with and without a checkpoint, in process and by the CLI."""
    rows: list[tuple[str, float, str]] = []
    with GridApplication(StoreConfig.sqlite(path)) as app:
        report = verify_store(app.recorder)
        if not report.ok or report.events_checked != events:
            raise SystemExit(f"the bench store does not verify: {report.to_dict()['problems'][:3]}")
        seconds = median_seconds(rounds, lambda: verify_store(app.recorder))
        rows.append(("`verify_store` (every chain)", seconds, f"{events / seconds:,.0f} events/s"))
        checkpoint = take_checkpoint(app.recorder)
        seconds = median_seconds(rounds, lambda: take_checkpoint(app.recorder))
        rows.append(("`take_checkpoint`", seconds, f"{events / seconds:,.0f} events/s"))
        seconds = median_seconds(rounds, lambda: verify_store(app.recorder, checkpoints=[checkpoint]))
        rows.append(("`verify_store` against a checkpoint", seconds, f"{events / seconds:,.0f} events/s"))
    seconds = median_seconds(rounds, lambda: raw_walk(path))
    rows.append(
        (
            "prototype: the same walk over raw SQLite rows (not in the library)",
            seconds,
            f"{events / seconds:,.0f} events/s",
        )
    )
    command = [str(Path(sys.executable).with_name("grid-events")), "audit", "verify", "--sqlite-path", str(path)]
    environment = {**os.environ, "COLUMNS": "120"}
    try:
        seconds = median_seconds(
            rounds, lambda: subprocess.run(command, check=True, capture_output=True, env=environment)
        )
    except subprocess.CalledProcessError as e:
        last_line = (e.stderr or e.stdout or b"").decode(errors="replace").strip().splitlines()[-1:]
        rows.append(("`grid-events audit verify` (new process)", float("nan"), f"failed: {' '.join(last_line)}"))
    else:
        rows.append(("`grid-events audit verify` (new process)", seconds, f"{events / seconds:,.0f} events/s"))
    return rows


def raw_walk(path: Path) -> int:
    """Check every chain and the log digest reading SQLite rows directly; return the problems found.

    The same checks as ``verify_store`` (links, versions, log digest), to show
    where its time goes: most of it is the recorder turning every row into a
    Notification with a UUID, which this walk skips (hashing the id's hex
    bytes directly).
    """
    connection = sqlite3.connect(path)
    heads: dict[str, tuple[int, bytes]] = {}
    topics: dict[str, bytes] = {}
    log_hash = bytes(32)
    problems = 0
    step = struct.Struct(">Q")
    header = struct.Struct(">16sQI")
    cursor = connection.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    )
    while batch := cursor.fetchmany(5000):
        for rowid, originator_id, version, topic, state in batch:
            topic_bytes = topics.get(topic)
            if topic_bytes is None:
                topic_bytes = topics[topic] = topic.encode()
            digest = hashlib.sha256(header.pack(bytes.fromhex(originator_id), version, len(topic_bytes)))
            digest.update(topic_bytes)
            digest.update(state)
            link = digest.digest()
            head = heads.get(originator_id)
            expected = GENESIS if head is None else head[1]
            if state[:4] != HEADER or state[4:36] != expected or (head is not None and head[0] != version - 1):
                problems += 1
            heads[originator_id] = (version, link)
            log_hash = hashlib.sha256(log_hash + step.pack(rowid) + link).digest()
    connection.close()
    return problems


def record_long_case(path: Path, events: int) -> UUID:
    """Record a survey-call task of *events* events through GridApplication (calls and progress notes)."""
    clock = Clock()
    with GridApplication(StoreConfig.sqlite(path), clock=clock) as app:
        task_id = app.create_task(TaskKind.SURVEY_CALL, "流调电话：11 月批次", GRID, actor=SUPERVISOR)
        app.assign_task(task_id, WORKER.worker_id, actor=SUPERVISOR)
        app.accept_task(task_id, actor=WORKER)
        app.start_task(task_id, actor=WORKER)
        outcomes = (CallOutcome.REACHED, CallOutcome.NOT_REACHED, CallOutcome.VERIFIED)
        for index in range(events - 4):
            clock.now += timedelta(minutes=3)
            if index % 10 == 9:
                app.record_task_progress(task_id, f"已完成第 {index + 1} 通", actor=WORKER)
            else:
                app.record_call(task_id, outcomes[index % 3], actor=WORKER, note="已告知检测时间")
    return task_id


def measure_case(path: Path, events: int, rounds: int) -> list[tuple[str, float, str]]:
    """Time reading, rendering, checking, verifying and reporting one case of *events* events."""
    case_id = record_long_case(path, events)
    rows: list[tuple[str, float, str]] = []
    with GridApplication(StoreConfig.sqlite(path)) as app:
        recorded = history(app, case_id)
        assert len(recorded) == events  # noqa: S101 (the bench checks its own set-up)
        timings: list[tuple[str, Callable[[], object]]] = [
            ("read the history (`history`)", lambda: history(app, case_id)),
            ("render the timeline, Chinese (`build_timeline`)", lambda: build_timeline(recorded)),
            ("render the timeline, English", lambda: build_timeline(recorded, "en")),
            ("check the rules (`check_case`)", lambda: check_case(recorded, date(2026, 12, 31))),
            ("verify its chain (`verify_aggregate`)", lambda: verify_aggregate(app.recorder, case_id)),
            ("HTML report (`build_report` + `to_html`)", lambda: to_html(build_report(app, case_id))),
        ]
        for name, work in timings:
            seconds = median_seconds(rounds, work)
            rows.append((name, seconds, f"{seconds * 1000 / events * 1000:,.0f} µs/event"))
    return rows


def main() -> None:
    """Build the stores, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store to verify")
    parser.add_argument("--case-events", type=int, default=1000, help="events of the case whose timeline is read")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each measurement (median)")
    parser.add_argument("--keep", type=Path, default=None, help="build the stores in this directory and keep them")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="audit-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        store = directory / "million.sqlite3"
        for stale in directory.glob("*.sqlite3*"):
            stale.unlink()
        events, cases, built = build_store(store, args.events)
        print(f"built {events:,} events in {cases:,} cases in {built:.1f} s ({store.stat().st_size / 1e6:,.0f} MB)")
        verification = measure_verification(store, events, args.rounds)
        case = measure_case(directory / "case.sqlite3", args.case_events, args.rounds)
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    command = " ".join(["bench/audit_bench.py", *sys.argv[1:]])
    print(
        f"\n`.venv/bin/python {command}` — Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"median of {args.rounds}\n"
    )
    print(f"| verification of {events:,} events ({cases:,} cases) | seconds | rate |")
    print("| --- | ---: | ---: |")
    for name, seconds, rate in verification:
        print(f"| {name} | {seconds:.2f} | {rate} |")
    print(f"\n| one case of {args.case_events:,} events | milliseconds | per event |")
    print("| --- | ---: | ---: |")
    for name, seconds, rate in case:
        print(f"| {name} | {seconds * 1000:.1f} | {rate} |")


if __name__ == "__main__":
    main()
