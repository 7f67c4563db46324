"""The resident registry: registering, care tags, moves, home isolation, erasure."""

from __future__ import annotations

from datetime import date

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
    ValidationError,
)
from grid_events.application import ResidentRecord

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
