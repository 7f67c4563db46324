"""The resident registry: registering, care tags, moves, home isolation, erasure."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PersonalData,
    PersonalDataErasedError,
    ResidentStatus,
    ResidentTag,
    Role,
    StoreConfig,
    ValidationError,
)
from grid_events.application import ResidentRecord
from grid_events.chain import GENESIS, EventMapper, link_hash, split_state
from grid_events.codec import MsgpackTranscoder
from grid_events.domain.resident import Resident
from grid_events.domain.values import SealedData
from grid_events.persistence import BulkSQLiteApplicationRecorder

ZHANG = PersonalData(
    name="张秀英",
    id_number="11010519491231002X",
    phone="13812345678",
    address="飞凤小区 3 幢 2 单元 501",
    birth_date=date(1949, 12, 31),
)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""
SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
"""May see a resident's personal data in full, saying why."""
PURPOSE = "check the registration"


def stored_count(app: GridApplication) -> int:
    """Return how many events the store holds."""
    return app.recorder.max_notification_id() or 0


def test_a_registered_resident_keeps_cell_and_tags_and_seals_personal_data(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """Registering stores the cell and tags in the clear and the personal data sealed."""
    resident_id = app.register_resident(ZHANG, grid, actor=worker, tags=frozenset({ResidentTag.ELDERLY_LIVING_ALONE}))

    resident = app.get_resident(resident_id, actor=AUDITOR)
    assert grid == resident.grid
    assert resident.is_vulnerable
    assert resident_id == resident.personal.subject_id
    assert ZHANG == app.resident_personal_data(resident_id, actor=SUPERVISOR, unmasked=True, purpose=PURPOSE)
    stored = app.recorder.select_events(resident_id)
    assert b"13812345678" not in stored[0].state
    assert "张秀英".encode() not in stored[0].state


def test_an_invalid_id_number_is_refused_naming_the_field() -> None:
    """A resident ID number with a wrong check character is refused before anything happens."""
    with pytest.raises(ValidationError) as caught:
        PersonalData(name="张三", id_number="110105194912310021")
    assert "id_number" == caught.value.field


def test_tagging_twice_is_refused_and_stores_nothing(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """A tag the resident already has is refused, and the store is unchanged."""
    resident_id = app.register_resident(ZHANG, grid, actor=worker, tags=frozenset({ResidentTag.DISABLED}))
    before = stored_count(app)

    with pytest.raises(ValidationError) as caught:
        app.tag_resident(resident_id, ResidentTag.DISABLED, actor=worker)

    assert "tag" == caught.value.field
    assert before == stored_count(app)


def test_moving_out_and_back_in(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """A resident who moved out can move back in, to a new cell; moving out twice is refused."""
    resident_id = app.register_resident(ZHANG, grid, actor=worker, moved_in_on=date(2020, 5, 1))
    app.move_resident_out(resident_id, date(2026, 3, 1), actor=worker, reason="went to live with family")

    with pytest.raises(InvalidTransitionError):
        app.move_resident_out(resident_id, date(2026, 3, 2), actor=worker)
    new_cell = GridCell("江南", "飞凤", "05")
    app.move_resident_in(resident_id, new_cell, date(2026, 9, 1), actor=worker)

    resident = app.get_resident(resident_id, actor=AUDITOR)
    assert ResidentStatus.LIVING_HERE == resident.status
    assert new_cell == resident.grid


def test_home_isolation_periods_do_not_overlap(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """A second isolation cannot start while one is running; ending it records the period."""
    resident_id = app.register_resident(ZHANG, grid, actor=worker)
    app.start_home_isolation(resident_id, date(2026, 11, 2), date(2026, 11, 9), actor=worker, reason="close contact")

    with pytest.raises(InvalidTransitionError):
        app.start_home_isolation(resident_id, date(2026, 11, 3), date(2026, 11, 10), actor=worker)
    app.end_home_isolation(resident_id, date(2026, 11, 9), actor=worker)

    resident = app.get_resident(resident_id, actor=AUDITOR)
    assert resident.isolation is None
    assert ((date(2026, 11, 2), date(2026, 11, 9)),) == resident.past_isolations


def test_erasure_destroys_the_key_and_blocks_further_changes(
    app: GridApplication, worker: Actor, administrator: Actor, grid: GridCell
) -> None:
    """After erasure the personal data cannot be opened and the resident refuses changes."""
    resident_id = app.register_resident(ZHANG, grid, actor=worker)
    app.start_home_isolation(resident_id, date(2026, 11, 2), date(2026, 11, 9), actor=worker, reason="fever")

    app.erase_resident(resident_id, actor=administrator, reason="resident asked (PIPL Art. 47)")

    with pytest.raises(PersonalDataErasedError):
        app.resident_personal_data(resident_id, actor=SUPERVISOR, unmasked=True, purpose=PURPOSE)
    with pytest.raises(InvalidTransitionError):
        app.tag_resident(resident_id, ResidentTag.NEEDS_CARE, actor=worker)
    assert app.vault.is_erased(resident_id)
    resident = app.get_resident(resident_id, actor=AUDITOR)
    assert ResidentStatus.ERASED == resident.status
    sealed_reason = app.recorder.select_events(resident_id)[1]
    assert b"fever" not in sealed_reason.state


def test_erasing_again_destroys_the_key_without_a_second_event(
    app: GridApplication, worker: Actor, administrator: Actor, grid: GridCell
) -> None:
    """Erasure is idempotent: the second call records nothing more."""
    resident_id = app.register_resident(ZHANG, grid, actor=worker)
    app.erase_resident(resident_id, actor=administrator, reason="request")
    before = stored_count(app)

    app.erase_resident(resident_id, actor=administrator, reason="request")

    assert before == stored_count(app)


def test_bulk_import_registers_all_in_one_transaction(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """Importing a registry stores every resident, each readable afterwards."""
    records = [ResidentRecord(PersonalData(name=f"居民{i}", id_number="11010519491231002X"), grid) for i in range(25)]

    ids = app.import_residents(records, actor=worker)

    assert 25 == len(ids)
    assert "居民7" == app.resident_personal_data(ids[7], actor=SUPERVISOR, unmasked=True, purpose=PURPOSE).name


def test_bulk_import_with_a_bad_record_stores_nothing(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """One invalid record refuses the whole import and leaves the store unchanged."""
    good = ResidentRecord(PersonalData(name="居民", id_number="11010519491231002X"), grid)
    before = stored_count(app)

    with pytest.raises(ValidationError):
        app.import_residents([good, good, "not a record"], actor=worker)  # type: ignore[list-item]

    assert before == stored_count(app)


def live_key_count(app: GridApplication) -> int:
    """Return how many live subject keys the store holds."""
    return len(list(app.vault.keystore._live_keys()))


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"grid": "江南/飞凤/03"}, "records[2].grid"),
        ({"tags": {ResidentTag.DISABLED}}, "records[2].tags"),
        ({"tags": frozenset({"disabled"})}, "records[2].tags"),
        ({"moved_in_on": "2020-01-01"}, "records[2].moved_in_on"),
    ],
)
def test_bulk_import_refuses_a_bad_field_by_name_leaving_no_event_and_no_key(
    app: GridApplication, worker: Actor, grid: GridCell, bad: dict[str, object], field: str
) -> None:
    """A bad field in one record refuses the import, names the record and field, and stores nothing at all."""
    good = ResidentRecord(PersonalData(name="居民", id_number="11010519491231002X"), grid)
    fields: dict[str, object] = {"personal": good.personal, "grid": grid} | bad
    records = [good, good, ResidentRecord(**fields), good]  # type: ignore[arg-type]
    events_before, keys_before = stored_count(app), live_key_count(app)

    with pytest.raises(ValidationError) as raised:
        app.import_residents(records, actor=worker)

    assert field == raised.value.field
    assert (events_before, keys_before) == (stored_count(app), live_key_count(app))


def test_bulk_import_stores_one_key_per_resident_and_the_chain_verifies(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """Each imported resident has a key of their own, their data opens, and each stored event verifies."""
    records = [
        ResidentRecord(
            PersonalData(name=f"居民{i}", id_number="11010519491231002X"),
            grid,
            tags=frozenset({ResidentTag.DISABLED}) if i % 2 else frozenset(),
            moved_in_on=date(2020, 1, i + 1) if i % 3 else None,
        )
        for i in range(7)
    ]
    keys_before = live_key_count(app)

    ids = app.import_residents(records, actor=worker)

    assert keys_before + 7 == live_key_count(app)
    assert len({app.vault.keystore.get(rid) for rid in ids}) == 7
    for index, rid in enumerate(ids):
        resident = app.get_resident(rid, actor=worker)
        assert (resident.tags, resident.moved_in_on) == (records[index].tags, records[index].moved_in_on)
        assert f"居民{index}" == app.resident_personal_data(rid, actor=SUPERVISOR, unmasked=True, purpose=PURPOSE).name
        (stored,) = app.recorder.select_events(rid)
        assert isinstance(app.mapper.transcoder, MsgpackTranscoder)
        assert GENESIS == split_state(app.mapper.transcoder, stored.state)[0]
        assert 32 == len(link_hash(rid, 1, stored.topic, stored.state))


def test_bulk_import_stores_the_same_event_bytes_as_registering_one_by_one(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """The bulk path builds the very event register() builds, and it is stored byte for byte the same."""
    record = ResidentRecord(ZHANG, grid, tags=frozenset({ResidentTag.RETURNEE}), moved_in_on=date(2021, 5, 4))
    (rid,) = app.import_residents([record], actor=worker)
    (stored,) = app.recorder.select_events(rid)
    imported: Resident.Registered = app.mapper.to_domain_event(stored)  # type: ignore[assignment]
    assert isinstance(app.mapper, EventMapper)

    one_by_one = Resident.register(
        rid,
        grid=record.grid,
        personal=imported.personal,
        actor=worker,
        tags=record.tags,
        moved_in_on=record.moved_in_on,
        at=imported.timestamp,
    )
    (event,) = one_by_one.collect_events()

    assert vars(event) == vars(imported)
    assert stored.state == app.mapper.to_stored_event(event, GENESIS).state


def test_register_many_builds_what_register_builds(worker: Actor, grid: GridCell) -> None:
    """Resident.register_many gives aggregates and events equal, field for field, to register's."""
    at = datetime(2026, 11, 2, 1, tzinfo=UTC)
    registrations = []
    for tags, moved_in_on in [
        (frozenset({ResidentTag.ELDERLY_LIVING_ALONE}), date(2020, 1, 1)),
        (frozenset(), None),
        (frozenset({ResidentTag.DISABLED, ResidentTag.NEEDS_CARE}), date(2021, 2, 3)),
    ]:
        rid = uuid4()
        sealed = SealedData(subject_id=rid, scheme="aes256gcm-v1", nonce=bytes(12), ciphertext=b"x")
        registrations.append((rid, grid, sealed, tags, moved_in_on))

    many = Resident.register_many(registrations, actor=worker, at=at)

    assert len(many) == 3
    for resident, (rid, cell, sealed, tags, moved_in_on) in zip(many, registrations, strict=True):
        one = Resident.register(
            rid, grid=cell, personal=sealed, actor=worker, tags=tags, moved_in_on=moved_in_on, at=at
        )
        many_events, one_events = resident.collect_events(), one.collect_events()
        assert vars(resident) == vars(one)
        assert [vars(e) for e in many_events] == [vars(e) for e in one_events]
        assert list(vars(many_events[0])) == list(vars(one_events[0]))
        assert many_events == one_events
        assert type(many_events[0]) is type(one_events[0])
    assert [] == Resident.register_many([], actor=worker, at=at)


def test_register_many_names_the_registration_and_field(worker: Actor, grid: GridCell) -> None:
    """A registration sealed for someone else is refused, naming which one."""
    sealed = SealedData(subject_id=uuid4(), scheme="aes256gcm-v1", nonce=bytes(12), ciphertext=b"x")
    with pytest.raises(ValidationError) as raised:
        Resident.register_many(
            [(uuid4(), grid, sealed, frozenset(), None)], actor=worker, at=datetime(2026, 1, 1, tzinfo=UTC)
        )
    assert "registrations[0].personal" == raised.value.field


def test_bulk_import_on_sqlite_stores_keys_and_events_in_one_transaction(
    tmp_path: Path, worker: Actor, grid: GridCell
) -> None:
    """If the events cannot be inserted, the keys inserted before them in the transaction are rolled back."""
    with GridApplication(StoreConfig.sqlite(tmp_path / "events.sqlite3")) as app:
        good = ResidentRecord(PersonalData(name="居民", id_number="11010519491231002X"), grid)
        app.import_residents([good], actor=worker)
        keys_before, events_before = live_key_count(app), stored_count(app)
        assert isinstance(app.recorder, BulkSQLiteApplicationRecorder)
        app.recorder.insert_events_statement = "INSERT INTO no_such_table VALUES (?, ?, ?, ?)"

        with pytest.raises(Exception, match="no_such_table"):
            app.import_residents([good, good, good], actor=worker)

        assert (keys_before, events_before) == (live_key_count(app), stored_count(app))


@pytest.mark.parametrize("enabled", [True, False])
def test_bulk_import_leaves_the_garbage_collector_as_it_found_it(
    memory_app: GridApplication, worker: Actor, grid: GridCell, enabled: bool
) -> None:
    """The collector is paused during an import only: running afterwards if it ran, off if it was off."""
    good = ResidentRecord(PersonalData(name="居民", id_number="11010519491231002X"), grid)
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        memory_app.import_residents([good, good], actor=worker)
        assert enabled == gc.isenabled()
        with pytest.raises(ValidationError):
            memory_app.import_residents([good, "not a record"], actor=worker)  # type: ignore[list-item]
        assert enabled == gc.isenabled()
    finally:
        if was:
            gc.enable()
