"""The stored layout chains every event to its predecessor's link hash."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from grid_events import Actor, GridApplication, GridCell, PersonalData, ResidentTag, Role, StoreConfig, TaskKind
from grid_events.application import ResidentRecord
from grid_events.chain import GENESIS, ChainedEventStore, ChainError, EventMapper, link_hash, split_state
from grid_events.codec import MsgpackTranscoder

PERSON = PersonalData(name="王芳", id_number="11010519491231002X")
CODEC = MsgpackTranscoder()
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""


def chain_of(app: GridApplication, aggregate_id: UUID) -> list[StoredEvent]:
    """Return the stored events of one aggregate, oldest first."""
    return list(app.recorder.select_events(aggregate_id))


def assert_chained(events: list[StoredEvent]) -> None:
    """Assert each event's prev is its predecessor's link hash, the first's is GENESIS."""
    expected_prev = GENESIS
    for stored in events:
        prev, _ = split_state(CODEC, stored.state)
        assert expected_prev == prev, f"version {stored.originator_version}"
        expected_prev = link_hash(
            UUID(str(stored.originator_id)), stored.originator_version, stored.topic, stored.state
        )


def test_each_event_commits_to_its_predecessor(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """Events saved one command at a time form an unbroken chain from GENESIS."""
    resident_id = app.register_resident(PERSON, grid, actor=worker)
    for cell in ("04", "05", "06"):
        app.transfer_resident(resident_id, GridCell("江南", "飞凤", cell), actor=worker, reason="moved")

    events = chain_of(app, resident_id)

    assert 4 == len(events)
    assert_chained(events)


def test_the_chain_continues_across_processes(tmp_path: Path, worker: Actor, grid: GridCell) -> None:
    """A new application on the same file reads the predecessor's hash from the store."""
    config = StoreConfig.sqlite(tmp_path / "events.sqlite3")
    with GridApplication(config) as first:
        resident_id = first.register_resident(PERSON, grid, actor=worker)
        first.transfer_resident(resident_id, GridCell("江南", "飞凤", "04"), actor=worker, reason="moved")
    with GridApplication(config) as second:
        resident = second.get_resident(resident_id, actor=AUDITOR)
        assert isinstance(second.events, ChainedEventStore)
        second.events._heads.clear()  # forget what loading remembered: take the read path
        resident.transfer(GridCell("江南", "飞凤", "05"), actor=worker, reason="moved again")
        second.save(resident)
        assert_chained(chain_of(second, resident_id))


def test_snapshots_are_outside_the_chain(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """A snapshot is derived data: it carries an empty prev and never breaks the chain."""
    resident_id = app.register_resident(PERSON, grid, actor=worker)
    for index in range(60):
        app.transfer_resident(resident_id, GridCell("江南", "飞凤", f"c{index}"), actor=worker, reason="moved")

    assert app.snapshots is not None
    snapshots = app.snapshots.recorder.select_events(resident_id)
    assert [50] == [snapshot.originator_version for snapshot in snapshots]
    assert b"" == split_state(CODEC, snapshots[0].state)[0]
    assert_chained(chain_of(app, resident_id))
    assert "c59" == app.get_resident(resident_id, actor=AUDITOR).grid.cell


def test_the_link_hash_covers_identity_position_topic_and_bytes() -> None:
    """Changing any of id, version, topic or state changes the link hash."""
    base = (UUID(int=1), 3, "grid_events.domain.task:Task.Assigned", b"\x93\x01\xc4\x00\x80")
    variants = [
        (UUID(int=2), *base[1:]),
        (base[0], 4, *base[2:]),
        (*base[:2], "grid_events.domain.task:Task.Accepted", base[3]),
        (*base[:3], b"\x93\x01\xc4\x00\x81"),
    ]
    assert len({link_hash(*base), *(link_hash(*variant) for variant in variants)}) == 5


def test_a_missing_predecessor_cannot_be_chained(memory_app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """An event whose predecessor is not stored is refused, not chained to nothing."""
    resident_id = memory_app.register_resident(PERSON, grid, actor=worker)
    resident = memory_app.get_resident(resident_id, actor=AUDITOR)
    resident.transfer(GridCell("江南", "飞凤", "04"), actor=worker, reason="moved")
    event = resident.collect_events()[0]
    object.__setattr__(event, "originator_version", 7)
    assert isinstance(memory_app.events, ChainedEventStore)
    memory_app.events._heads.clear()

    with pytest.raises(ChainError, match="version 6 is not stored"):
        memory_app.events.put([event])


def test_every_stored_state_is_the_documented_layout(app: GridApplication, worker: Actor, grid: GridCell) -> None:
    """Each event's state is encode_items(1, prev, body): its fields but id and version, class_version if above 1."""
    resident_id = app.register_resident(PERSON, grid, actor=worker)
    app.tag_resident(resident_id, ResidentTag.DISABLED, actor=worker)
    supervisor = Actor("s-wang", Role.SUPERVISOR)
    task_id = app.create_task(TaskKind.HOUSEHOLD_VISIT, "入户走访", grid, actor=supervisor)
    app.assign_task(task_id, worker.worker_id, actor=supervisor)
    assert isinstance(app.mapper, EventMapper)
    for aggregate_id in (resident_id, task_id):
        prev = GENESIS
        for stored in chain_of(app, aggregate_id):
            event = app.mapper.to_domain_event(stored)
            body = {k: v for k, v in vars(event).items() if k not in {"originator_id", "originator_version"}}
            class_version = getattr(type(event), "class_version", 1)
            if class_version > 1:
                body["class_version"] = class_version
            assert CODEC.encode_items(1, prev, body) == stored.state
            # Decoded events hold their fields in another order: the same bytes again.
            assert stored == app.mapper.to_stored_event(event, prev)
            prev = link_hash(UUID(str(stored.originator_id)), stored.originator_version, stored.topic, stored.state)


def test_a_bulk_save_tells_save_listeners_the_highest_position(
    app: GridApplication, worker: Actor, grid: GridCell
) -> None:
    """An import, saved without recording objects, still tells listeners its highest notification id."""
    heard: list[int] = []
    app.add_save_listener(heard.append)
    records = [ResidentRecord(PERSON, grid) for _ in range(3)]

    app.import_residents(records, actor=worker)
    app.import_residents(records[:1], actor=worker)

    log = app.events_after(0, limit=100)
    assert [log[2].position, log[3].position] == heard
    assert [n.position for n in log] == list(range(1, 5))
