"""Tamper evidence: every way of changing the stored bytes is found, and named."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grid_events import Actor, GridApplication, GridCell, PersonalData, Role, StoreConfig
from grid_events.audit import Checkpoint, ProblemKind, take_checkpoint, verify_aggregate, verify_store

WORKER = Actor("w-li", Role.GRID_WORKER)
ADMIN = Actor("admin", Role.ADMINISTRATOR)
GRID = GridCell("江南", "飞凤", "03")
PERSON = PersonalData(name="赵敏", id_number="11010519491231002X", phone="13700002222")


def build_history(app: GridApplication, residents: int = 3, moves: int = 4) -> list[UUID]:
    """Register residents and move each a few times; return their ids."""
    ids = []
    for _ in range(residents):
        resident_id = app.register_resident(PERSON, GRID, actor=WORKER)
        for move in range(moves):
            app.transfer_resident(resident_id, GridCell("江南", "飞凤", f"{move:02d}"), actor=WORKER, reason="moved")
        ids.append(resident_id)
    return ids


class SQLiteTamperer:
    """Changes rows of a SQLite event store behind the application's back."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)

    def rows(self) -> list[tuple[int, str, int, bytes]]:
        return list(
            self.connection.execute("SELECT rowid, originator_id, originator_version, state FROM stored_events")
        )

    def set_state(self, rowid: int, state: bytes) -> None:
        with self.connection:
            self.connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, rowid))

    def delete(self, rowid: int) -> None:
        with self.connection:
            self.connection.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[GridApplication, SQLiteTamperer, list[UUID]]]:
    """An application on a SQLite file with some history, and a way to tamper with the file."""
    app = GridApplication(StoreConfig.sqlite(tmp_path / "events.sqlite3"))
    ids = build_history(app)
    tamperer = SQLiteTamperer(tmp_path / "events.sqlite3")
    try:
        yield app, tamperer, ids
    finally:
        tamperer.close()
        app.close()


def test_an_untouched_store_verifies(app: GridApplication) -> None:
    """A store nobody tampered with verifies: every event, every aggregate, no problem."""
    ids = build_history(app)

    report = verify_store(app.recorder)

    assert report.ok
    assert 15 == report.events_checked
    assert 3 == report.aggregates_checked
    assert all(verify_aggregate(app.recorder, resident_id).ok for resident_id in ids)


def test_erasing_personal_data_does_not_break_verification(app: GridApplication) -> None:
    """Erasure destroys a key; the stored bytes, and so the chains, stay intact."""
    ids = build_history(app)
    checkpoint = take_checkpoint(app.recorder)
    app.erase_resident(ids[0], actor=ADMIN, reason="PIPL Art. 47 request")

    assert verify_store(app.recorder, checkpoints=[checkpoint]).ok


def test_an_altered_event_is_named_by_its_successor(
    sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]],
) -> None:
    """Changing one byte of an event breaks the link from the next event, which is named."""
    app, tamperer, ids = sqlite_store
    rowid, _, _, state = next(row for row in tamperer.rows() if row[1] == ids[1].hex and row[2] == 2)
    tamperer.set_state(rowid, state[:-1] + bytes([state[-1] ^ 0x01]))

    report = verify_store(app.recorder)

    assert not report.ok
    problem = report.first_problem
    assert problem is not None
    assert (ProblemKind.BROKEN_LINK, ids[1], 3) == (problem.kind, problem.aggregate_id, problem.version)
    assert "version 2 was altered" in problem.message
    assert not verify_aggregate(app.recorder, ids[1]).ok
    assert verify_aggregate(app.recorder, ids[0]).ok


def test_a_removed_event_is_found_in_the_chain_and_the_log(
    sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]],
) -> None:
    """Deleting an event leaves a version gap and a hole in the log; both are reported."""
    app, tamperer, ids = sqlite_store
    rowid = next(row[0] for row in tamperer.rows() if row[1] == ids[0].hex and row[2] == 3)
    tamperer.delete(rowid)

    kinds = {(problem.kind, problem.version) for problem in verify_store(app.recorder).problems}

    assert {(ProblemKind.MISSING_VERSION, 4), (ProblemKind.LOG_GAP, 4)} == kinds


def test_reordered_events_are_found(sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]]) -> None:
    """Swapping the contents of two events of one aggregate breaks their links."""
    app, tamperer, ids = sqlite_store
    rows = {row[2]: row for row in tamperer.rows() if row[1] == ids[2].hex}
    tamperer.set_state(rows[2][0], rows[3][3])
    tamperer.set_state(rows[3][0], rows[2][3])

    report = verify_aggregate(app.recorder, ids[2])

    assert ProblemKind.BROKEN_LINK == report.problems[0].kind
    assert 2 == report.problems[0].version


def test_an_inserted_event_is_found(sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]]) -> None:
    """Slipping a forged event into a chain (renumbering the rest) breaks the link after it."""
    app, tamperer, ids = sqlite_store
    aggregate = ids[0].hex
    with tamperer.connection:
        tamperer.connection.execute(
            "UPDATE stored_events SET originator_version = originator_version + 100 "
            "WHERE originator_id = ? AND originator_version >= 3",
            (aggregate,),
        )
        tamperer.connection.execute(
            "UPDATE stored_events SET originator_version = originator_version - 99 "
            "WHERE originator_id = ? AND originator_version >= 103",
            (aggregate,),
        )
        forged = next(row for row in tamperer.rows() if row[1] == aggregate and row[2] == 2)
        tamperer.connection.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, 3, topic, state FROM stored_events WHERE rowid = ?",
            (forged[0],),
        )

    problems = verify_aggregate(app.recorder, ids[0]).problems

    assert ProblemKind.BROKEN_LINK == problems[0].kind
    assert 3 == problems[0].version


def test_the_newest_event_needs_a_checkpoint(
    sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]],
) -> None:
    """The last event of a chain has no successor: only a checkpoint kept outside catches its change."""
    app, tamperer, _ = sqlite_store
    checkpoint = Checkpoint.from_json(take_checkpoint(app.recorder).to_json())
    rowid, _, _, state = tamperer.rows()[-1]
    tamperer.set_state(rowid, state.replace(b"moved", b"MOVED"))

    assert verify_store(app.recorder).ok
    report = verify_store(app.recorder, checkpoints=[checkpoint])

    assert [ProblemKind.CHECKPOINT_MISMATCH] == [problem.kind for problem in report.problems]


def test_removing_the_newest_events_is_caught_by_a_checkpoint(
    sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]],
) -> None:
    """Truncating the log leaves every chain intact; the checkpoint says events are gone."""
    app, tamperer, _ = sqlite_store
    checkpoint = take_checkpoint(app.recorder)
    tamperer.delete(tamperer.rows()[-1][0])

    report = verify_store(app.recorder, checkpoints=[checkpoint])

    assert [ProblemKind.CHECKPOINT_BEYOND_LOG] == [problem.kind for problem in report.problems]


def test_garbage_in_place_of_an_event_is_unreadable(
    sqlite_store: tuple[GridApplication, SQLiteTamperer, list[UUID]],
) -> None:
    """A state that is not in the chained layout at all is reported as unreadable."""
    app, tamperer, _ = sqlite_store
    tamperer.set_state(tamperer.rows()[0][0], b"not an event")

    assert ProblemKind.UNREADABLE == verify_store(app.recorder).problems[0].kind


def test_tampering_in_postgresql_is_found(postgres_store: StoreConfig) -> None:
    """Altering one event and deleting another in PostgreSQL: both are named."""
    store = postgres_store
    import psycopg  # noqa: PLC0415 (only with the postgres extra)

    with GridApplication(store) as app:
        ids = build_history(app)
        table = f'"{store.postgres_schema}".gridevents_events'
        with psycopg.connect(store.postgres_dsn, autocommit=True) as connection:
            connection.execute(
                f"UPDATE {table} SET state = state || '\\x00'::bytea "  # noqa: S608 (test-made identifiers)
                "WHERE originator_id = %s AND originator_version = 2",
                (ids[0],),
            )
            connection.execute(
                f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = 3",  # noqa: S608
                (ids[1],),
            )

        found = {
            (problem.kind, problem.aggregate_id, problem.version) for problem in verify_store(app.recorder).problems
        }

    assert {
        (ProblemKind.BROKEN_LINK, ids[0], 3),
        (ProblemKind.MISSING_VERSION, ids[1], 4),
        (ProblemKind.LOG_GAP, ids[1], 4),
    } == found


def test_a_malformed_checkpoint_is_refused() -> None:
    """Reading a checkpoint that is not one raises a clear error."""
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_json('{"notification_id": "x"}')


Mutation = Callable[[bytes, int], bytes]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_change_anywhere_is_detected(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Flipping any bits of any byte of any stored event is detected, given a checkpoint."""
    directory = tmp_path_factory.mktemp("prop")
    with GridApplication(StoreConfig.sqlite(directory / "events.sqlite3")) as app:
        build_history(app, residents=2, moves=2)
        checkpoint = take_checkpoint(app.recorder)
    tamperer = SQLiteTamperer(directory / "events.sqlite3")
    try:
        rows = tamperer.rows()
        rowid, _, _, state = data.draw(st.sampled_from(rows))
        index = data.draw(st.integers(0, len(state) - 1))
        flip = data.draw(st.integers(1, 255))
        tamperer.set_state(rowid, state[:index] + bytes([state[index] ^ flip]) + state[index + 1 :])
    finally:
        tamperer.close()
    with GridApplication(StoreConfig.sqlite(directory / "events.sqlite3")) as app:
        assert not verify_store(app.recorder, checkpoints=[checkpoint]).ok
