"""Replaying a case from its events alone, and finding the cases of a store without querying the application."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import UUID

import pytest

from grid_events import AggregateNotFoundError, DisputeStatus, GridApplication, ValidationError
from grid_events.audit import CASE_KINDS, aggregate_as_of, find_case, history, list_cases, replay

from .histories import Clock, agreed, mediating, started_inspection


def test_replay_folds_the_events_as_the_repository_does(memory_app: GridApplication, clock: Clock) -> None:
    """Every version replayed from the events equals the aggregate the repository gives for it."""
    dispute_id = agreed(memory_app, clock)
    events = history(memory_app, dispute_id)

    for version in range(1, len(events) + 1):
        replayed = replay(events, version=version)
        stored = aggregate_as_of(memory_app, dispute_id, version=version)
        assert vars(stored) == vars(replayed)


def test_replay_as_of_a_moment(memory_app: GridApplication, clock: Clock) -> None:
    """The case as it stood at a moment: after the last event recorded at or before it."""
    dispute_id = mediating(memory_app, clock)
    events = history(memory_app, dispute_id)

    accepted = replay(events, at=datetime(2026, 11, 3, tzinfo=UTC))

    assert (3, DisputeStatus.ACCEPTED) == (accepted.version, accepted.status)
    assert DisputeStatus.MEDIATING == replay(events).status
    with pytest.raises(AggregateNotFoundError):
        replay(events, at=datetime(2026, 11, 1, tzinfo=UTC))


def test_replay_refuses_a_version_the_case_never_had_or_a_broken_history(
    memory_app: GridApplication, clock: Clock
) -> None:
    """A version out of range, or a history with a version missing, is named."""
    events = history(memory_app, mediating(memory_app, clock))

    with pytest.raises(ValidationError, match="versions 1 to 5, not 6"):
        replay(events, version=6)
    with pytest.raises(ValidationError, match="version 4 follows version 2"):
        replay([*events[:2], *events[3:]])
    with pytest.raises(ValidationError, match="at most one"):
        replay(events, at=clock(), version=1)


def test_cases_are_listed_from_the_log_on_every_store(app: GridApplication, clock: Clock) -> None:
    """Mediation cases and inspections, in the order they were opened, read from their first events."""
    dispute_id = mediating(app, clock)
    clock.advance(days=1)
    task_id = started_inspection(app)

    found = [(ref.case_id, ref.kind) for ref in list_cases(app)]
    residents = [ref.kind for ref in list_cases(app, ["resident"])]

    assert [(dispute_id, "dispute"), (task_id, "inspection")] == found
    assert ["resident"] == residents
    assert len(list(list_cases(app, CASE_KINDS))) == 3


def test_a_case_is_found_by_the_start_of_its_id(memory_app: GridApplication, clock: Clock) -> None:
    """Eight characters are enough to name a case; too few, not hex, or unknown is said so."""
    dispute_id = mediating(memory_app, clock)

    assert dispute_id == find_case(memory_app, str(dispute_id)[:8])
    assert dispute_id == find_case(memory_app, str(dispute_id).upper())
    with pytest.raises(ValidationError, match="at least its first 4 hex digits"):
        find_case(memory_app, "abc")
    with pytest.raises(AggregateNotFoundError):
        find_case(memory_app, "ffffffff" if not str(dispute_id).startswith("ffffffff") else "00000000")
    with pytest.raises(ValidationError, match="not kinds of case"):
        list(list_cases(memory_app, ["meeting"]))


def test_a_prefix_shared_by_several_cases_asks_for_more(memory_app: GridApplication, clock: Clock) -> None:
    """Two cases whose ids start alike: the prefix is refused, listing them."""
    received = history(memory_app, mediating(memory_app, clock))[0]
    for case_id in ("abcd0000-0000-4000-8000-000000000001", "abcd1111-0000-4000-8000-000000000002"):
        memory_app.events.put([dataclasses.replace(received, originator_id=UUID(case_id))])

    with pytest.raises(ValidationError, match="'abcd' is the start of 2 case ids"):
        find_case(memory_app, "abcd")
    assert UUID("abcd1111-0000-4000-8000-000000000002") == find_case(memory_app, "abcd1")


def test_the_history_of_an_unknown_case_is_not_found(memory_app: GridApplication) -> None:
    """history() raises rather than returning nothing."""
    with pytest.raises(AggregateNotFoundError):
        history(memory_app, UUID(int=1))
