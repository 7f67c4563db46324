"""GridApplication as a whole: stores, configuration, conflicts, nothing half-written."""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from grid_events import (
    Actor,
    AggregateNotFoundError,
    ConcurrentChangeError,
    ConfigurationError,
    GridApplication,
    GridCell,
    PersonalData,
    Resident,
    ResidentRecord,
    Role,
    StoreConfig,
    ValidationError,
)
from grid_events.config import decode_master_key, encode_master_key, new_master_key, postgres_env

PERSON = PersonalData(name="李娜", id_number="11010519491231002X", phone="13900001111")
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""


def test_a_concurrent_change_is_a_clear_conflict_and_nothing_is_overwritten(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """Two people changing the same resident from the same version: the second save is refused."""
    resident_id = app.register_resident(PERSON, grid, actor=worker)
    first = app.get_resident(resident_id, actor=AUDITOR)
    second = app.get_resident(resident_id, actor=AUDITOR)
    first.transfer(GridCell("江南", "飞凤", "04"), actor=worker, reason="moved")
    second.transfer(GridCell("江南", "飞凤", "05"), actor=worker, reason="moved elsewhere")
    app.save(first)

    with pytest.raises(ConcurrentChangeError) as caught:
        app.save(second)

    assert resident_id == caught.value.aggregate_id
    assert 2 == caught.value.version
    assert "04" == app.get_resident(resident_id, actor=AUDITOR).grid.cell


def test_conflicts_between_two_processes_on_one_file(tmp_path: Path, worker: Actor, grid: GridCell) -> None:
    """Two applications on one SQLite file racing on one aggregate: exactly one wins each round."""
    config = StoreConfig.sqlite(tmp_path / "events.sqlite3")
    with GridApplication(config) as setup:
        resident_id = setup.register_resident(PERSON, grid, actor=worker)
    outcomes: list[str] = []

    def transfer(cell: str) -> None:
        with GridApplication(config) as app:
            resident = app.get_resident(resident_id, actor=AUDITOR)
            barrier.wait()
            resident.transfer(GridCell("江南", "飞凤", cell), actor=worker, reason="race")
            try:
                app.save(resident)
                outcomes.append("saved")
            except ConcurrentChangeError:
                outcomes.append("conflict")

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=transfer, args=(cell,)) for cell in ("10", "11")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ["conflict", "saved"] == sorted(outcomes)
    with GridApplication(config) as app:
        assert 2 == app.get_resident(resident_id, actor=AUDITOR).version


def test_asking_for_a_missing_or_wrong_kind_of_aggregate_names_it(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """An unknown id, or the id of another kind of aggregate, is AggregateNotFoundError."""
    with pytest.raises(AggregateNotFoundError, match="no resident"):
        app.get_resident(uuid4(), actor=AUDITOR)
    resident_id = app.register_resident(PERSON, grid, actor=worker)
    with pytest.raises(AggregateNotFoundError):
        app.load(_OtherKind, resident_id)


class _OtherKind(Resident):
    """A stand-in for another aggregate class."""

    KIND = "other"


def test_a_resident_can_be_read_as_of_an_earlier_version(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """Loading with a version replays the history up to that event only."""
    resident_id = app.register_resident(PERSON, grid, actor=worker)
    app.transfer_resident(resident_id, GridCell("江南", "飞凤", "04"), actor=worker, reason="moved")

    assert grid == app.load(Resident, resident_id, version=1).grid


def test_a_failed_registration_leaves_no_key_behind(
    memory_app: GridApplication, worker: Actor, grid: GridCell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the save fails after the key was made, the key is discarded again: nothing half-written."""
    keys_before = dict(memory_app.vault.keystore._rows)  # type: ignore[attr-defined]

    def failing_save(*_: object, **__: object) -> None:
        message = "disk full"
        raise OSError(message)

    monkeypatch.setattr(memory_app, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        memory_app.register_resident(PERSON, grid, actor=worker)

    assert keys_before == memory_app.vault.keystore._rows  # type: ignore[attr-defined]


def test_the_default_sqlite_store_keeps_its_master_key_in_a_private_file(tmp_path: Path) -> None:
    """Without a configured master key, SQLite gets a key file readable by its owner only, reused later."""
    config = StoreConfig.sqlite(tmp_path / "office" / "events.sqlite3")
    with GridApplication(config):
        pass
    key_file = tmp_path / "office" / "events.sqlite3.master-key"

    assert 0o600 == stat.S_IMODE(key_file.stat().st_mode)
    assert config.resolve_master_key() == decode_master_key(key_file.read_text())


def test_configuration_from_the_environment(tmp_path: Path) -> None:
    """GRID_EVENTS_* variables choose the store and the master key."""
    key = new_master_key()
    config = StoreConfig.from_environ(
        {
            "GRID_EVENTS_STORE": "postgres",
            "GRID_EVENTS_POSTGRES_DSN": "postgresql://grid:s%40cret@db.example:6543/office",
            "GRID_EVENTS_POSTGRES_SCHEMA": "jiangnan",
            "GRID_EVENTS_MASTER_KEY": encode_master_key(key),
            "GRID_EVENTS_DATA_DIR": str(tmp_path),
        }
    )

    assert "postgres" == config.backend
    assert key == config.resolve_master_key()
    assert {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "office",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "grid",
        "POSTGRES_PASSWORD": "s@cret",
        "POSTGRES_SCHEMA": "jiangnan",
    } == config.eventsourcing_env()
    assert "s%40cret" not in repr(config)
    assert "grid:***@db.example:6543" in repr(config)
    assert encode_master_key(key) not in repr(config)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GRID_EVENTS_STORE": "mongo"}, "choose one of"),
        ({"GRID_EVENTS_STORE": "postgres"}, "needs a DSN"),
        ({"GRID_EVENTS_MASTER_KEY": "not base64!"}, "base64"),
        ({"GRID_EVENTS_MASTER_KEY": encode_master_key(b"short")}, "32 bytes"),
    ],
    ids=["unknown store", "postgres without dsn", "bad key text", "short key"],
)
def test_bad_configuration_is_refused_saying_what_to_fix(environ: dict[str, str], message: str) -> None:
    """Each configuration mistake raises ConfigurationError with a hint."""
    with pytest.raises(ConfigurationError, match=message):
        StoreConfig.from_environ(environ)


def test_postgres_needs_a_master_key_from_configuration() -> None:
    """PostgreSQL deployments must configure the master key; none is invented."""
    config = StoreConfig.postgres("postgresql://grid@localhost/office")
    with pytest.raises(ConfigurationError, match="GRID_EVENTS_MASTER_KEY"):
        config.resolve_master_key()


def test_a_dsn_without_database_is_refused() -> None:
    """The DSN must name a database."""
    with pytest.raises(ConfigurationError, match="must name a database"):
        postgres_env("postgresql://grid@localhost")


def test_a_bulk_save_numbers_its_events_consecutively_after_what_is_stored(tmp_path: Path, worker: Actor) -> None:
    """Batched inserts give each event the next notification id, with no gap, after earlier saves."""
    with GridApplication(StoreConfig.sqlite(tmp_path / "events.sqlite3")) as app:
        app.register_resident(PERSON, GridCell("江南", "飞凤", "03"), actor=worker)
        ids = app.import_residents(
            [ResidentRecord(PERSON, GridCell("江南", "飞凤", "03")) for _ in range(50)], actor=worker
        )
        notifications = app.recorder.select_notifications(1, 100)

    assert list(range(1, 52)) == [notification.id for notification in notifications]
    assert ids == [UUID(str(notification.originator_id)) for notification in notifications[1:]]


def test_the_log_is_read_after_a_position_in_order_a_page_at_a_time(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """events_after gives each stored event once, in log order, with its position; nothing past the end."""
    residents = [app.register_resident(PERSON, grid, actor=worker) for _ in range(3)]
    app.transfer_resident(residents[0], GridCell("江南", "飞凤", "04"), actor=worker, reason="moved")

    whole = app.events_after(0, limit=10_000)
    positions = [logged.position for logged in whole]
    assert positions == list(range(1, len(whole) + 1))
    assert app.recorder.max_notification_id() == positions[-1]
    transfers = [logged.event for logged in whole if isinstance(logged.event, Resident.Transferred)]
    assert [event.originator_id for event in transfers] == [residents[0]]

    paged = []
    position = 0
    while page := app.events_after(position, limit=2):
        assert len(page) <= 2
        paged.extend(page)
        position = page[-1].position
    assert [(logged.position, logged.event.originator_id) for logged in paged] == [
        (logged.position, logged.event.originator_id) for logged in whole
    ]
    assert [] == app.events_after(positions[-1])


@pytest.mark.parametrize(("position", "limit", "field"), [(-1, 10, "position"), (0, 0, "limit"), (0, 10_001, "limit")])
def test_reading_the_log_refuses_a_bad_position_or_limit_by_name(
    memory_app: GridApplication, position: int, limit: int, field: str
) -> None:
    """A negative position or a page size outside 1..10,000 is a ValidationError naming the field."""
    with pytest.raises(ValidationError) as raised:
        memory_app.events_after(position, limit=limit)
    assert field == raised.value.field


class _ListenerFailedError(Exception):
    """What a save listener raises in the test below, after the save committed."""


def _failing_listener(highest: int) -> None:
    raise _ListenerFailedError(highest)


def test_a_failure_after_the_save_committed_keeps_the_keys_its_events_need(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """A save listener (or Ctrl-C) failing after the commit must not destroy the keys the stored events need."""
    before = app.recorder.max_notification_id() or 0
    app.add_save_listener(_failing_listener)
    try:
        with pytest.raises(_ListenerFailedError):
            app.register_resident(PERSON, grid, actor=worker)
        with pytest.raises(_ListenerFailedError):
            app.import_residents([ResidentRecord(PERSON, grid) for _ in range(3)], actor=worker)
    finally:
        app.remove_save_listener(_failing_listener)
    stored = app.events_after(before, limit=100)
    residents = [logged.event.originator_id for logged in stored if isinstance(logged.event, Resident.Registered)]
    assert 4 == len(residents)
    for resident_id in residents:
        assert "李*" == app.resident_personal_data(resident_id, actor=worker).name
