"""Erasure (PIPL Art. 47): afterwards nothing stored yields the person's data, and the history still verifies."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
import pytest

from grid_events import (
    Actor,
    AggregateNotFoundError,
    DataSubject,
    GridApplication,
    InvalidTransitionError,
    MsgpackTranscoder,
    PersonalDataErasedError,
    ResidentTag,
    Role,
    SealedData,
    StoreConfig,
    ValidationError,
)
from grid_events.audit import take_checkpoint, verify_store
from grid_events.chain import split_state
from grid_events.privacy.access import data_subject_id

from .privacy_helpers import (
    HEALTH_NOTE,
    LI,
    WANG_FANG,
    ZHANG,
    ZHANG_SAYS,
    World,
    build_world,
    live_wrapped_key,
    sample_subject,
    stored_count,
)

SECRETARY = Actor("s-wang", Role.SUPERVISOR)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
ADMIN = Actor("admin", Role.ADMINISTRATOR)
PURPOSE = "核对居家观察人员联系方式"
ZHANG_SECRETS = (ZHANG.name, ZHANG.id_number, ZHANG.phone, ZHANG.address, HEALTH_NOTE, ZHANG_SAYS)
"""Everything about 张秀英 the world holds: name, ID number, phone, address, health, what she said."""


def erase_zhang(world: World) -> bytes:
    """Look at 张秀英's data, snapshot her records, erase her; return her wrapped key as it was stored."""
    assert ZHANG == world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    for aggregate_id in (world.resident_id, world.dispute_id, world.shift_id):
        world.app.take_snapshot(aggregate_id)
    wrapped = live_wrapped_key(world.app, world.resident_id)
    world.app.erase_resident(
        world.resident_id, actor=ADMIN, reason="本人申请删除 (PIPL Art. 47)", request_ref="2026-11-001"
    )
    return wrapped


def decoded_states(rows: list[bytes]) -> Iterator[Any]:
    """Yield the decoded body of each stored event or snapshot state."""
    codec = MsgpackTranscoder()
    for state in rows:
        _, body = split_state(codec, state)
        yield body


def walk(value: Any) -> Iterator[Any]:
    """Yield *value* and everything inside it (containers and value objects)."""
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key)
            yield from walk(item)
    elif isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from walk(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from walk(getattr(value, field.name))


def assert_nothing_of_zhang_decodes(app: GridApplication, states: list[bytes], resident_id: UUID) -> None:
    """Decode every state: no clear text of hers anywhere, and nothing sealed under her key opens."""
    sealed_for_her = 0
    for body in decoded_states(states):
        for value in walk(body):
            if isinstance(value, str):
                assert not any(secret in value for secret in ZHANG_SECRETS), value
            if isinstance(value, SealedData) and value.subject_id == resident_id:
                sealed_for_her += 1
                with pytest.raises(PersonalDataErasedError):
                    app.vault.open(value)
    assert sealed_for_her >= 6  # registration, isolation, party details, statement, sample, purpose


def assert_absent(blob: bytes, wrapped_key: bytes, where: str) -> None:
    """Assert none of her data, in UTF-8, nor her wrapped key, is in *blob*."""
    for secret in ZHANG_SECRETS:
        assert secret.encode() not in blob, f"{secret} in {where}"
    assert wrapped_key not in blob, f"her wrapped key is still in {where}"


# -- SQLite ------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[tuple[World, Path]]:
    """The privacy world on a SQLite file."""
    path = tmp_path / "events.sqlite3"
    world = build_world(StoreConfig.sqlite(path))
    try:
        yield world, path
    finally:
        world.app.close()


def test_after_erasure_no_table_and_no_byte_of_the_sqlite_files_yields_her_data(
    sqlite_world: tuple[World, Path],
) -> None:
    """Every row of every table, the raw file and its write-ahead log, every decoded event and snapshot."""
    world, path = sqlite_world
    checkpoint = take_checkpoint(world.app.recorder)
    wrapped_key = erase_zhang(world)

    with sqlite3.connect(path) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        states: list[bytes] = []
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 (the file's own table names)
                for column in row:
                    if isinstance(column, bytes):
                        assert_absent(column, wrapped_key, table)
                        if column[:1] == b"\x93":
                            states.append(column)
                    elif isinstance(column, str):
                        assert_absent(column.encode(), wrapped_key, table)
    connection.close()
    assert {"stored_events", "stored_snapshots", "grid_subject_keys"} <= set(tables)
    for file in sorted(path.parent.glob(path.name + "*")):
        assert_absent(file.read_bytes(), wrapped_key, file.name)
    assert_nothing_of_zhang_decodes(world.app, states, world.resident_id)
    assert verify_store(world.app.recorder, checkpoints=[checkpoint]).ok


def test_before_erasure_her_wrapped_key_is_in_the_file(sqlite_world: tuple[World, Path]) -> None:
    """The control: the search above does find the key while it lives."""
    world, path = sqlite_world
    wrapped = live_wrapped_key(world.app, world.resident_id)
    assert any(wrapped in file.read_bytes() for file in path.parent.glob(path.name + "*"))


def test_what_she_is_linked_to_stays_and_others_are_untouched(sqlite_world: tuple[World, Path]) -> None:
    """Her task, case and sample stay (the work happened); the other party and the other person still read."""
    world, _ = sqlite_world
    erase_zhang(world)

    assert world.resident_id == world.app.get_task(world.task_id, actor=AUDITOR).resident_id
    assert {"P1": None} == world.app.session_statements(world.dispute_id, 0, actor=SECRETARY, purpose=PURPOSE)
    with pytest.raises(PersonalDataErasedError):
        world.app.dispute_party_details(world.dispute_id, "P1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    with pytest.raises(PersonalDataErasedError):
        world.app.sampled_person(world.shift_id, "S2", actor=AUDITOR)
    assert LI == world.app.dispute_party_details(
        world.dispute_id, "P2", actor=SECRETARY, unmasked=True, purpose=PURPOSE
    )
    assert WANG_FANG == world.app.sampled_person(world.shift_id, "S1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)


def test_an_erasure_reason_naming_her_is_refused_and_nothing_is_erased() -> None:
    """The reason stays in the clear for ever: it may not carry her name or numbers."""
    world = build_world()
    before = stored_count(world.app)

    for reason in (f"{ZHANG.name}本人申请", f"申请人电话 {ZHANG.phone}"):
        with pytest.raises(ValidationError) as caught:
            world.app.erase_resident(world.resident_id, actor=ADMIN, reason=reason)
        assert "reason" == caught.value.field
    assert before == stored_count(world.app)
    assert not world.app.vault.is_erased(world.resident_id)
    world.app.close()


def test_clear_texts_about_her_may_not_name_her() -> None:
    """Reasons, notes and summaries about her are refused if they name her, before erasure can't help."""
    world = build_world()
    worker = Actor("w-li", Role.GRID_WORKER)
    before = stored_count(world.app)

    refusals: list[Callable[[], object]] = [
        lambda: world.app.move_resident_out(
            world.resident_id, date(2026, 11, 2), actor=worker, reason=f"{ZHANG.name}去女儿家住"
        ),
        lambda: world.app.record_task_progress(world.task_id, f"已联系{ZHANG.name}", actor=worker),
        lambda: world.app.record_mediation_failure(
            world.dispute_id, f"{LI.name}拒绝赔偿", [], actor=Actor("m-chen", Role.MEDIATOR)
        ),
    ]
    for refuse in refusals:
        with pytest.raises(ValidationError, match="in the clear"):
            refuse()
    assert before == stored_count(world.app)
    world.app.close()


# -- PostgreSQL ----------------------------------------------------------------------------------------


def key_table_heap(dsn: str, schema: str) -> bytes:
    """Return the bytes of the key table's file on the server's disk (after a CHECKPOINT writes it out)."""
    import psycopg  # noqa: PLC0415 (only with the postgres extra)

    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        row = connection.execute("SELECT pg_relation_filepath(%s)", (f'"{schema}".grid_subject_keys',)).fetchone()
        assert row is not None
        heap = connection.execute("SELECT pg_read_binary_file(%s)", (row[0],)).fetchone()
        assert heap is not None
        return bytes(heap[0])


def test_after_erasure_no_postgresql_table_nor_the_key_tables_file_yields_her_data(
    postgres_store: StoreConfig,
) -> None:
    """Every row of every table of the schema, every decoded state, and the key table's file after VACUUM."""
    import psycopg  # noqa: PLC0415 (only with the postgres extra)

    dsn, schema = postgres_store.postgres_dsn, postgres_store.postgres_schema
    world = build_world(postgres_store)
    try:
        checkpoint = take_checkpoint(world.app.recorder)
        assert live_wrapped_key(world.app, world.resident_id) in key_table_heap(
            dsn, schema
        )  # the control: the search finds a live key
        wrapped_key = erase_zhang(world)
        states: list[bytes] = []
        with psycopg.connect(dsn, autocommit=True) as connection:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
                )
            ]
            for table in tables:
                for row in connection.execute(f'SELECT * FROM "{schema}"."{table}"'):  # noqa: S608 (catalogue names)
                    for column in row:
                        if isinstance(column, bytes | memoryview):
                            assert_absent(bytes(column), wrapped_key, table)
                            if bytes(column)[:1] == b"\x93":
                                states.append(bytes(column))
                        else:
                            assert_absent(str(column).encode(), wrapped_key, table)
        assert any("snapshot" in table for table in tables)
        assert_absent(key_table_heap(dsn, schema), wrapped_key, "the key table's file")
        assert_nothing_of_zhang_decodes(world.app, states, world.resident_id)
        assert verify_store(world.app.recorder, checkpoints=[checkpoint]).ok
    finally:
        world.app.close()


# -- people who are not residents ---------------------------------------------------------------------


def test_a_sampled_person_who_is_no_resident_is_erased_by_their_sample() -> None:
    """Her sample record stays as a tally; who she was is gone, and the erasure is recorded."""
    world = build_world()
    world.app.erase_sampled_person(world.shift_id, "S1", actor=ADMIN, reason="本人申请删除", request_ref="2026-11-002")

    with pytest.raises(PersonalDataErasedError):
        world.app.sampled_person(world.shift_id, "S1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    assert (
        ZHANG.name
        == world.app.sampled_person(world.shift_id, "S2", actor=SECRETARY, unmasked=True, purpose=PURPOSE).name
    )
    subject_id = sample_subject(world.app, world.shift_id, "S1")
    history = world.app.privacy_history(subject_id, actor=AUDITOR)
    assert history.erased
    assert ADMIN == history.erased_by
    record = world.app.load(DataSubject, data_subject_id(subject_id))
    assert record.is_erased
    assert 2 == world.app.get_shift(world.shift_id, actor=AUDITOR).samples_recorded
    assert verify_store(world.app.recorder).ok
    world.app.close()


def test_a_party_who_is_no_resident_is_erased_with_their_statements_and_erasing_again_records_nothing() -> None:
    """P2's details go; P1 stays readable; a second erasure destroys the key again and records nothing."""
    world = build_world()
    mediator = Actor("m-chen", Role.MEDIATOR)
    world.app.record_session(
        world.dispute_id, world.app.now(), "调解室", ["m-chen", "P2"], {"P2": "我愿意修"}, "第二次", actor=mediator
    )
    world.app.erase_dispute_party(world.dispute_id, "P2", actor=ADMIN, reason="本人申请删除")
    before = stored_count(world.app)

    world.app.erase_dispute_party(world.dispute_id, "P2", actor=ADMIN, reason="本人申请删除")

    assert before == stored_count(world.app)
    with pytest.raises(PersonalDataErasedError):
        world.app.dispute_party_details(world.dispute_id, "P2", actor=mediator)
    assert {"P2": None} == world.app.session_statements(world.dispute_id, 1, actor=mediator, purpose=PURPOSE)
    assert (
        ZHANG.name
        == world.app.dispute_party_details(world.dispute_id, "P1", actor=mediator, unmasked=True, purpose=PURPOSE).name
    )
    with pytest.raises(PersonalDataErasedError):
        world.app.record_session(
            world.dispute_id, world.app.now(), "调解室", ["m-chen", "P2"], {"P2": "又来了"}, "第三次", actor=mediator
        )
    world.app.close()


def test_erasing_by_subject_id_works_for_residents_too_and_refuses_unknown_ids() -> None:
    """A resident's id erases the resident (with their own event); an id that never had data is not found."""
    world = build_world()
    world.app.erase_subject(world.resident_id, actor=ADMIN, reason="本人申请删除")

    assert world.app.get_resident(world.resident_id, actor=AUDITOR).is_erased
    with pytest.raises(InvalidTransitionError):
        world.app.tag_resident(world.resident_id, ResidentTag.DISABLED, actor=Actor("w-li", Role.GRID_WORKER))
    with pytest.raises(AggregateNotFoundError, match="data subject"):
        world.app.erase_subject(UUID(int=7), actor=ADMIN, reason="本人申请删除")
    world.app.close()


def test_a_transaction_holding_an_old_snapshot_delays_the_vacuum_but_does_not_defeat_it(
    postgres_store: StoreConfig,
) -> None:
    """VACUUM cannot remove a row version an open transaction may see: it is tried again until it can."""
    import threading  # noqa: PLC0415

    import psycopg  # noqa: PLC0415 (only with the postgres extra)

    dsn, schema = postgres_store.postgres_dsn, postgres_store.postgres_schema
    world = build_world(postgres_store)
    try:
        wrapped_key = live_wrapped_key(world.app, world.resident_id)
        with psycopg.connect(dsn) as blocker:
            blocker.execute("SELECT txid_current()")  # a transaction that began before the erasure
            release = threading.Timer(0.3, blocker.rollback)
            release.start()
            world.app.erase_resident(world.resident_id, actor=ADMIN, reason="本人申请删除")
            release.join()
        assert_absent(key_table_heap(dsn, schema), wrapped_key, "the key table's file")
    finally:
        world.app.close()
