"""The projection engine: exactly once on SQLite and PostgreSQL, failures, dead letters, states, rebuilds."""

from __future__ import annotations

import random
import threading
from typing import Any, ClassVar

import attrs
import pytest

from grid_events import Task
from grid_service.views import (
    Delivery,
    Projection,
    ProjectionContext,
    ProjectionEngine,
    ProjectionFailed,
    ProjectionOutdatedError,
    RebuildError,
    RunState,
    Table,
    UnknownProjectionError,
    ViewStore,
    ViewStoreError,
    default_projections,
    handles,
    mask_nothing,
    queries,
)
from grid_service.views.projections import TaskBoard
from grid_service.views.store import Column, ColumnType

from .conftest import StoreFactory
from .helpers import Day, apply_in_batches, engine_for


def corrupt(delivery: Delivery) -> Delivery:
    """Return *delivery* with a body that is not a readable event (as a poisoned message would be)."""
    return Delivery(delivery.stream_sequence, attrs.evolve(delivery.message, state=b"\x93\x01\xc4\x20not-an-event"))


def nth_of(day: Day, topic_suffix: str, n: int = 0) -> int:
    """Return the index in the day's deliveries of the *n*-th event (from 0) whose topic ends with *topic_suffix*."""
    return [i for i, d in enumerate(day.deliveries) if d.message.topic.endswith(topic_suffix)][n]


# -- applying a day ------------------------------------------------------------------------------------


def test_a_community_day_is_projected_into_every_view(community_day: Day, day_engine: ProjectionEngine) -> None:
    """Every projection reaches the last stream sequence, and each view holds the day's cases."""
    apply_in_batches(day_engine, community_day.deliveries)

    last = community_day.deliveries[-1].stream_sequence
    assert [last] * 6 == [day_engine.position(name) for name in day_engine.names]
    board = day_engine.contents("task_board")
    assert len(community_day.summary.tasks) + len(community_day.summary.inspections) == len(board["tasks"])
    assert 40 == len(day_engine.contents("resident_registry")["residents"])
    assert 1 == len(day_engine.contents("mediation_register")["disputes"])
    shifts = day_engine.contents("site_dashboard")
    assert community_day.summary.counts["batches sealed"] == len(shifts["shift_batches"])


def test_sqlite_and_postgresql_hold_the_same_views(community_day: Day, new_view_store: StoreFactory) -> None:
    """The same deliveries give equal contents on both backends, table by table."""
    engines = [engine_for(new_view_store(backend), community_day.app) for backend in ("sqlite", "postgres")]
    for engine in engines:
        apply_in_batches(engine, community_day.deliveries, size=97)

    for name in engines[0].names:
        assert engines[0].contents(name) == engines[1].contents(name), name


def test_the_same_batch_applied_twice_changes_nothing(community_day: Day, day_engine: ProjectionEngine) -> None:
    """A redelivered batch is skipped whole: nothing counted, nothing changed."""
    batch = community_day.deliveries[:120]
    applied = [day_engine.apply(name, batch) for name in day_engine.names]
    before = {name: day_engine.contents(name) for name in day_engine.names}

    again = [day_engine.apply(name, batch) for name in day_engine.names]

    assert [120] * 6 == applied
    assert [0] * 6 == again
    assert before == {name: day_engine.contents(name) for name in day_engine.names}


def test_overlapping_batches_one_at_a_time_and_one_big_batch_agree(
    community_day: Day, new_view_store: StoreFactory, view_store: ViewStore
) -> None:
    """Overlapping, duplicated, shuffled or single deliveries give the views of one big batch."""
    deliveries = community_day.deliveries
    whole = engine_for(new_view_store("sqlite"), community_day.app)
    apply_in_batches(whole, deliveries, size=len(deliveries))

    overlapping = engine_for(view_store, community_day.app)
    rng = random.Random(7)
    for name in overlapping.names:
        start = 0
        while start < len(deliveries):
            end = min(len(deliveries), start + rng.randint(1, 40))
            batch = deliveries[max(0, start - rng.randint(0, 10)) : end]
            overlapping.apply(name, rng.sample(batch, len(batch)) + batch[:3])
            start = end

    one_by_one = engine_for(new_view_store("sqlite", synchronous="normal"), community_day.app)
    for delivery in deliveries:
        for name in one_by_one.names:
            one_by_one.apply(name, [delivery])

    for name in whole.names:
        expected = whole.contents(name)
        assert expected == overlapping.contents(name), name
        assert expected == one_by_one.contents(name), name


def test_positions_survive_a_restart(community_day: Day, view_store: ViewStore) -> None:
    """A new engine on the reopened store knows how far each projection got, and skips what it applied."""
    engine = engine_for(view_store, community_day.app)
    apply_in_batches(engine, community_day.deliveries[:50])
    view_store.close()
    view_store.open()

    again = engine_for(view_store, community_day.app)

    assert [50] * 6 == [again.position(name) for name in again.names]
    assert 0 == again.apply("task_board", community_day.deliveries[:50])
    assert 10 == again.apply("task_board", community_day.deliveries[40:60])


# -- failures -------------------------------------------------------------------------------------------


def test_a_malformed_body_commits_the_prefix_and_names_the_delivery(
    community_day: Day, view_store: ViewStore, new_view_store: StoreFactory
) -> None:
    """The deliveries before the poisoned one are committed; ProjectionFailed names it; nothing after it is applied."""
    engine = engine_for(view_store, community_day.app)
    bad = nth_of(community_day, "Task.CallRecorded", 5)
    batch = list(community_day.deliveries)
    batch[bad] = corrupt(batch[bad])

    with pytest.raises(ProjectionFailed) as failed:
        engine.apply("task_board", batch)

    assert batch[bad] == failed.value.delivery
    assert "decode" == failed.value.kind
    assert "task_board" == failed.value.projection
    assert str(batch[bad].stream_sequence) in str(failed.value)
    assert batch[bad - 1].stream_sequence == engine.position("task_board")
    prefix_only = engine_for(new_view_store("sqlite"), community_day.app)
    prefix_only.apply("task_board", batch[:bad])
    assert prefix_only.contents("task_board") == engine.contents("task_board")


def test_skipping_a_poison_message_records_a_dead_letter_and_moves_on(
    community_day: Day, view_store: ViewStore
) -> None:
    """After a dead letter and a skip, the rest of the stream is applied; the skipped call is missing, nothing else."""
    engine = engine_for(view_store, community_day.app)
    bad = nth_of(community_day, "Task.CallRecorded")
    batch = list(community_day.deliveries)
    batch[bad] = corrupt(batch[bad])
    with pytest.raises(ProjectionFailed) as failed:
        engine.apply("task_board", batch)
    poisoned = failed.value.delivery
    message = poisoned.message

    engine.record_dead_letter(
        "task_board", poisoned.stream_sequence, message.subject, {"Grid-Event-Topic": message.topic},
        message.state, str(failed.value.error), 5,
    )  # fmt: skip
    engine.set_state("task_board", RunState.STOPPED, f"poison message at {poisoned.stream_sequence}")
    engine.skip("task_board", poisoned.stream_sequence, str(failed.value.error))
    engine.set_state("task_board", "running", "skipped a poison message")
    applied = engine.apply("task_board", batch)

    assert len(batch) - bad - 1 == applied
    assert batch[-1].stream_sequence == engine.position("task_board")
    (letter,) = engine.dead_letters("task_board")
    assert (poisoned.stream_sequence, message.subject, message.state, 5, True) == (
        letter.stream_sequence, letter.subject, letter.data, letter.attempts, letter.skipped,
    )  # fmt: skip
    assert {"Grid-Event-Topic": message.topic} == letter.headers
    assert [letter] == engine.dead_letters()
    calls = sum(row[engine.projection("task_board").table("tasks").column_names.index("calls_made")]
                for row in engine.contents("task_board")["tasks"])  # fmt: skip
    assert community_day.summary.counts["calls made"] - 1 == calls


def test_skip_without_a_record_keeps_a_dead_letter_and_never_moves_back(
    community_day: Day, view_store: ViewStore
) -> None:
    """skip() alone records what it skipped; skipping a sequence already passed moves nothing."""
    engine = engine_for(view_store, community_day.app)
    engine.apply("audit_trail", community_day.deliveries[:10])

    engine.skip("audit_trail", 11, "poison")
    engine.skip("audit_trail", 3, "late duplicate")

    assert 11 == engine.position("audit_trail")
    assert [(3, "late duplicate", True, b""), (11, "poison", True, b"")] == [
        (letter.stream_sequence, letter.error, letter.skipped, letter.data)
        for letter in engine.dead_letters("audit_trail")
    ]


THIRD_CALL = 7
"""The version of a survey-call task's third call: created, assigned, accepted, started, then calls."""


class Exploding(Projection):
    """Counts calls per task, and raises (after writing) on the third call of a task."""

    name = "exploding"
    tables: ClassVar[tuple[Table, ...]] = (
        Table("exploding_calls", (Column("task_id", ColumnType.TEXT), Column("calls", ColumnType.INT)), ("task_id",)),
    )

    @handles(Task.CallRecorded)
    def _on_call(self, event: Task.CallRecorded, ctx: ProjectionContext) -> None:
        row = ctx.get("exploding_calls", ctx.aggregate_id)
        calls = 1 if row is None else row["calls"] + 1
        ctx.put("exploding_calls", {"task_id": ctx.aggregate_id, "calls": calls})
        if event.originator_version == THIRD_CALL:
            msg = f"refused call at {event.timestamp}"
            raise RuntimeError(msg)


def calls_before(day: Day, index: int) -> int:
    """Return how many calls the day recorded before its *index*-th delivery."""
    return sum(d.message.topic.endswith("Task.CallRecorded") for d in day.deliveries[:index])


def test_a_failing_handler_leaves_no_trace_of_its_event(community_day: Day, view_store: ViewStore) -> None:
    """The rows a handler wrote before raising are undone; the calls before it are committed."""
    engine = ProjectionEngine(view_store, [Exploding()], mask_nothing)
    culprit = next(
        i
        for i, d in enumerate(community_day.deliveries)
        if d.message.topic.endswith("Task.CallRecorded") and d.message.aggregate_version == THIRD_CALL
    )

    with pytest.raises(ProjectionFailed) as failed:
        engine.apply("exploding", community_day.deliveries)

    assert (community_day.deliveries[culprit], "project") == (failed.value.delivery, failed.value.kind)
    assert isinstance(failed.value.error, RuntimeError)
    assert calls_before(community_day, culprit) == sum(
        row[1] for row in engine.contents("exploding")["exploding_calls"]
    )
    assert community_day.deliveries[culprit - 1].stream_sequence == engine.position("exploding")


class Counting(Projection):
    """Counts calls per worker in a table of counters, and raises (after adding) on a task's third call."""

    name = "counting"
    tables: ClassVar[tuple[Table, ...]] = (
        Table(
            "counted_calls",
            (
                Column("worker_id", ColumnType.TEXT),
                Column("calls", ColumnType.INT, 0),
                Column("thirds", ColumnType.INT, 0),
            ),
            ("worker_id",),
            counters=True,
        ),
    )

    @handles(Task.CallRecorded)
    def _on_call(self, event: Task.CallRecorded, ctx: ProjectionContext) -> None:
        ctx.add("counted_calls", event.actor.worker_id, calls=1)
        if event.originator_version == THIRD_CALL:
            ctx.add("counted_calls", event.actor.worker_id, thirds=1)
            msg = "refused"
            raise RuntimeError(msg)


def test_counters_are_added_without_reading_and_undone_with_their_event(
    community_day: Day, view_store: ViewStore
) -> None:
    """Additions to a table of counters are written in bulk, and those of a failing event are undone."""
    engine = ProjectionEngine(view_store, [Counting()], mask_nothing)
    calls = [d for d in community_day.deliveries if d.message.topic.endswith("Task.CallRecorded")]
    third = next(i for i, d in enumerate(calls) if d.message.aggregate_version == THIRD_CALL)

    with pytest.raises(ProjectionFailed):
        engine.apply("counting", community_day.deliveries)
    engine.skip("counting", calls[third].stream_sequence, "refused")
    engine.apply("counting", [d for d in community_day.deliveries if d.message.aggregate_version != THIRD_CALL])

    rows = engine.contents("counting")["counted_calls"]
    assert len(calls) - sum(d.message.aggregate_version == THIRD_CALL for d in calls) == sum(row[1] for row in rows)
    assert 0 == sum(row[2] for row in rows)


class Misuse(Projection):
    """Misuses a table of counters in one of three ways."""

    name = "misuse"
    tables: ClassVar[tuple[Table, ...]] = (*Counting.tables, *Exploding.tables)

    def __init__(self, how: str) -> None:
        self.how = how

    @handles(Task.CallRecorded)
    def _on_call(self, event: Task.CallRecorded, ctx: ProjectionContext) -> None:  # noqa: ARG002 (the contract)
        if self.how == "read":
            ctx.get("counted_calls", "w-li")
        elif self.how == "write":
            ctx.put("counted_calls", {"worker_id": "w-li"})
        else:
            ctx.add("exploding_calls", ctx.aggregate_id, calls=1)


@pytest.mark.parametrize("how", ["read", "write", "add elsewhere"])
def test_a_table_of_counters_is_only_added_to(how: str, community_day: Day, sqlite_view_store: ViewStore) -> None:
    """Reading or writing rows of a table of counters, or adding to a table of rows, is refused."""
    engine = ProjectionEngine(sqlite_view_store, [Misuse(how)], mask_nothing)

    with pytest.raises(ProjectionFailed, match="counters"):
        engine.apply("misuse", community_day.deliveries)
    with pytest.raises(ViewStoreError, match="whole-number"):
        Table("bad", (Column("key", ColumnType.TEXT), Column("label", ColumnType.TEXT)), ("key",), counters=True)


class Unwritable(Projection):
    """Writes a value no database takes for a task's second call: the failure shows only when rows are written."""

    name = "unwritable"
    tables: ClassVar[tuple[Table, ...]] = (
        Table(
            "unwritable",
            (Column("task_id", ColumnType.TEXT), Column("version", ColumnType.INT), Column("value", ColumnType.TEXT)),
            ("task_id", "version"),
        ),
    )

    @handles(Task.CallRecorded)
    def _on_call(self, event: Task.CallRecorded, ctx: ProjectionContext) -> None:
        value: Any = object() if event.originator_version == THIRD_CALL - 1 else "fine"
        ctx.put("unwritable", {"task_id": ctx.aggregate_id, "version": event.originator_version, "value": value})


def test_rows_that_cannot_be_written_are_traced_to_their_delivery(community_day: Day, view_store: ViewStore) -> None:
    """Rows that fail to write are re-applied one delivery at a time: the prefix commits, the culprit is named."""
    engine = ProjectionEngine(view_store, [Unwritable()], mask_nothing)
    culprit = next(
        i
        for i, d in enumerate(community_day.deliveries)
        if d.message.topic.endswith("Task.CallRecorded") and d.message.aggregate_version == THIRD_CALL - 1
    )

    with pytest.raises(ProjectionFailed) as failed:
        engine.apply("unwritable", community_day.deliveries)

    assert (community_day.deliveries[culprit], "project") == (failed.value.delivery, failed.value.kind)
    assert community_day.deliveries[culprit - 1].stream_sequence == engine.position("unwritable")
    assert calls_before(community_day, culprit) == len(engine.contents("unwritable")["unwritable"])


# -- states, versions and registration --------------------------------------------------------------------


def test_states_say_why_and_since_when(community_day: Day, view_store: ViewStore) -> None:
    """A projection starts running; set_state records stopped with its reason, and back."""
    engine = engine_for(view_store, community_day.app)
    assert RunState.RUNNING == engine.state("statistics").state

    engine.set_state("statistics", RunState.STOPPED, "poison message at 42")
    stopped = engine.state("statistics")
    engine.set_state("statistics", "running", "resumed by an operator")

    assert (True, "poison message at 42", 1, 0) == (
        stopped.stopped, stopped.reason, stopped.generation, stopped.position,
    )  # fmt: skip
    assert engine.state("statistics").running
    assert stopped.since.tzinfo is not None
    with pytest.raises(ValueError, match="paused"):
        engine.set_state("statistics", "paused", "")
    with pytest.raises(UnknownProjectionError):
        engine.state("nonexistent")


class BoardV2(TaskBoard):
    """The task board with a new version number (its tables or handlers changed)."""

    version = 2


def test_a_new_version_of_a_projection_is_stopped_until_rebuilt(community_day: Day, view_store: ViewStore) -> None:
    """Code with another version stops the projection and refuses to apply to the old tables; a rebuild fixes it."""
    engine_for(view_store, community_day.app).apply("task_board", community_day.deliveries[:30])

    engine = ProjectionEngine(view_store, [BoardV2()], mask_nothing)
    state = engine.state("task_board")
    with pytest.raises(ProjectionOutdatedError):
        engine.apply("task_board", community_day.deliveries[30:40])
    generation = engine.begin_rebuild("task_board")
    engine.apply_to_generation("task_board", generation, community_day.deliveries[:40])
    engine.finish_rebuild("task_board", generation)

    assert state.stopped
    assert "version 1" in state.reason
    assert "rebuild" in state.reason
    assert engine.state("task_board").running
    assert (2, 40) == (engine.state("task_board").version, engine.position("task_board"))


def test_projections_and_tables_must_have_unique_names(view_store: ViewStore) -> None:
    """Two projections of one name, or two tables of one name, are refused."""
    with pytest.raises(ViewStoreError, match="two projections"):
        ProjectionEngine(view_store, [Exploding(), Exploding()], mask_nothing)

    class Clash(Projection):
        name = "clash"
        tables: ClassVar[tuple[Table, ...]] = Exploding.tables

    with pytest.raises(ViewStoreError, match="defined twice"):
        ProjectionEngine(view_store, [Exploding(), Clash()], mask_nothing)


def test_the_store_must_be_open(tmp_path: Any) -> None:
    """Nothing connects at construction; an engine on a closed store is refused."""
    store = ViewStore.sqlite(tmp_path / "views.sqlite3")

    assert not (tmp_path / "views.sqlite3").exists()
    with pytest.raises(ViewStoreError, match="open"):
        ProjectionEngine(store, default_projections(), mask_nothing)


# -- rebuilding -------------------------------------------------------------------------------------------


def table_exists(store: ViewStore, name: str) -> bool:
    """Return whether the view store has a table *name*."""
    with store.read() as tx:
        if tx.backend == "sqlite":
            row = tx.fetchone("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        else:
            row = tx.fetchone(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                (store.schema, name),
            )
    return row is not None and row[0] == 1


def test_a_rebuild_fills_a_new_generation_then_switches_readers(community_day: Day, view_store: ViewStore) -> None:
    """Readers see the old generation until the switch; the rebuilt views equal the live ones; the old tables go."""
    engine = engine_for(view_store, community_day.app)
    deliveries = community_day.deliveries
    apply_in_batches(engine, deliveries[:150])
    live = engine.contents("task_board")
    now = community_day.clock()

    generation = engine.begin_rebuild("task_board")
    engine.apply_to_generation("task_board", generation, deliveries[:60])
    during = (engine.contents("task_board"), queries.tasks(view_store, now=now).total, engine.state("task_board"))
    with pytest.raises(RebuildError, match="behind"):
        engine.finish_rebuild("task_board", generation)
    engine.apply("task_board", deliveries[150:])
    engine.apply_to_generation("task_board", generation, deliveries[60:])
    engine.finish_rebuild("task_board", generation)

    assert (live, len(live["tasks"])) == during[:2]
    assert (True, generation) == (during[2].rebuilding, during[2].rebuilding_generation)
    assert 2 == engine.generation("task_board") == generation
    assert engine.state("task_board").running
    assert engine.contents("task_board") == engine.contents("task_board", generation)
    assert engine_contents_of_fresh(community_day, view_store) == engine.contents("task_board")
    assert not table_exists(view_store, "v_tasks_g1")
    assert table_exists(view_store, "v_tasks_g2")
    assert 0 == engine.apply("task_board", deliveries[-5:])


def engine_contents_of_fresh(day: Day, store: ViewStore) -> dict[str, list[tuple[Any, ...]]]:
    """Return the task board of a fresh projection of the whole day, computed in a temporary generation."""
    engine = engine_for(store, day.app)
    generation = engine.begin_rebuild("task_board")
    engine.apply_to_generation("task_board", generation, day.deliveries)
    contents = engine.contents("task_board", generation)
    engine.abandon_rebuild("task_board", generation)
    return contents


def test_a_new_rebuild_abandons_the_one_under_way(community_day: Day, view_store: ViewStore) -> None:
    """begin_rebuild drops a half-built generation; abandon_rebuild drops one and leaves the active one serving."""
    engine = engine_for(view_store, community_day.app)
    engine.apply("audit_trail", community_day.deliveries)
    first = engine.begin_rebuild("audit_trail")
    engine.apply_to_generation("audit_trail", first, community_day.deliveries[:20])

    second = engine.begin_rebuild("audit_trail")
    engine.abandon_rebuild("audit_trail", second)

    assert (2, 3) == (first, second)
    assert not table_exists(view_store, "v_audit_steps_g2")
    assert not table_exists(view_store, "v_audit_steps_g3")
    assert (1, None) == (engine.generation("audit_trail"), engine.rebuilding_generation("audit_trail"))
    assert engine.state("audit_trail").running
    with pytest.raises(RebuildError):
        engine.abandon_rebuild("audit_trail", 1)
    with pytest.raises(RebuildError):
        engine.finish_rebuild("audit_trail", 7)


def test_readers_never_see_a_half_built_generation(community_day: Day, view_store: ViewStore) -> None:
    """While a rebuild fills and switches generations, every read sees a whole view: old or new, never partial."""
    engine = engine_for(view_store, community_day.app)
    engine.apply("resident_registry", community_day.deliveries)
    now = community_day.clock()
    expected = queries.residents(view_store, now=now, limit=1).total
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(queries.residents(view_store, now=now, limit=1).total)
        except BaseException as e:  # noqa: BLE001 (reported by the test)
            errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            generation = engine.begin_rebuild("resident_registry")
            for delivery in community_day.deliveries:
                engine.apply_to_generation("resident_registry", generation, [delivery])
            engine.finish_rebuild("resident_registry", generation)
    finally:
        done.set()
        reader.join()

    assert [] == errors
    assert seen
    assert {expected} == set(seen)
    assert 4 == engine.generation("resident_registry")


def test_an_unsorted_batch_is_applied_in_stream_order(community_day: Day, sqlite_view_store: ViewStore) -> None:
    """Deliveries given out of order are applied by stream sequence, not dropped."""
    engine = engine_for(sqlite_view_store, community_day.app, default_projections()[:1])
    batch = list(reversed(community_day.deliveries))

    assert len(batch) == engine.apply("task_board", batch)
    assert community_day.deliveries[-1].stream_sequence == engine.position("task_board")


def test_an_empty_batch_applies_nothing(community_day: Day, sqlite_view_store: ViewStore) -> None:
    """An empty batch changes nothing and counts nothing."""
    engine = engine_for(sqlite_view_store, community_day.app)

    assert 0 == engine.apply("task_board", [])
    assert 0 == engine.position("task_board")


def test_connections_dropped_by_postgresql_are_replaced(community_day: Day, new_view_store: StoreFactory) -> None:
    """After PostgreSQL drops every connection, a write fails once (to be retried) and reads recover by themselves."""
    import psycopg  # noqa: PLC0415 (only with the postgres extra)

    store = new_view_store("postgres")
    engine = engine_for(store, community_day.app)
    engine.apply("task_board", community_day.deliveries[:50])
    before = queries.tasks(store, now=community_day.clock()).total
    with psycopg.connect(store.dsn, autocommit=True) as admin:
        terminated = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"grid-views:{store.schema}",),
        ).fetchall()
    assert len(terminated) >= 2  # the writer and a reader

    failures = 0
    for _ in range(2):
        try:
            engine.apply("task_board", community_day.deliveries[50:])
            break
        except psycopg.OperationalError:
            failures += 1

    assert failures <= 1
    assert community_day.deliveries[-1].stream_sequence == engine.position("task_board")
    assert before <= queries.tasks(store, now=community_day.clock()).total


def test_a_generation_whose_tables_vanished_must_be_rebuilt(community_day: Day, view_store: ViewStore) -> None:
    """If a fed generation's table is dropped behind the engine's back, it stops and refuses to apply until rebuilt."""
    engine_for(view_store, community_day.app).apply("site_dashboard", community_day.deliveries[:80])
    with view_store.transaction() as tx:
        tx.execute("DROP TABLE v_shift_batches_g1")

    engine = engine_for(view_store, community_day.app)
    state = engine.state("site_dashboard")
    with pytest.raises(ProjectionOutdatedError):
        engine.apply("site_dashboard", community_day.deliveries[80:])
    generation = engine.begin_rebuild("site_dashboard")
    engine.apply_to_generation("site_dashboard", generation, community_day.deliveries)
    engine.finish_rebuild("site_dashboard", generation)

    assert state.stopped
    assert "missing" in state.reason
    assert engine.state("site_dashboard").running
    assert community_day.summary.counts["batches sealed"] == len(engine.contents("site_dashboard")["shift_batches"])
