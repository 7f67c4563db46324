"""Poison messages: retried with backoff, then a dead letter; the view stops (or skips); nothing dropped silently."""

from __future__ import annotations

import sqlite3

import pytest

from grid_service.runtime.service import GridService, ServiceError
from grid_service.runtime.settings import PoisonPolicy

from .helpers import (
    Failures,
    Harness,
    ResidentCells,
    caught_up,
    publish_garbage,
    publish_tampered_copy,
    view_rows,
    wait_until,
)


def stopped(service: GridService, name: str = "resident_cells") -> bool:
    """Whether the view has stopped."""
    return service.view(name).status.state == "stopped"


@pytest.mark.asyncio
async def test_an_unreadable_message_stops_the_view_and_says_why(
    harness: Harness,
) -> None:
    """A tampered message becomes a dead letter at once; the view stops before it; readiness names it."""
    h = harness
    first = await h.write(120)
    await h.relayed()
    poison = await publish_tampered_copy(h.server.url, h.relay)
    await h.write(120)
    last = await h.relayed()
    settings = h.settings()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await wait_until(lambda: stopped(service), within=30)
        status = service.view("resident_cells").status
        assert poison - 1 == status.position == first
        assert f"stopped at stream sequence {poison}" in status.reason
        assert "link hash" in status.reason
        [letter] = await service.dead_letters("resident_cells")
        assert (poison, 1, False) == (letter.stream_sequence, letter.attempts, letter.skipped)
        assert letter.subject.startswith("grid.events.resident.")
        assert "Grid-Link-Hash" in letter.headers
        readiness = service.readiness()
        assert not readiness.ready
        assert [f"view resident_cells is stopped: {status.reason}"] == list(readiness.problems)
        assert 'grid_views_dead_letters_total{kind="wire",projection="resident_cells"} 1.0' in (
            service.metrics.exposition().decode()
        )

        # Resumed without a fix, it stops at the same message again: one dead letter, recorded again.
        await service.resume("resident_cells")
        await wait_until(lambda: stopped(service), within=30)
        assert 1 == len(await service.dead_letters("resident_cells"))

        # An operator skips it: the view goes on, the dead letter stays, marked skipped.
        with pytest.raises(ServiceError, match=f"stopped at sequence {poison}"):
            await service.skip("resident_cells", poison + 1, "wrong one")
        await service.skip("resident_cells", poison, "a corrupted copy of an event already applied")
        await wait_until(caught_up(service, last + 1), within=30)
        assert "running" == service.view("resident_cells").status.state
        [letter] = await service.dead_letters("resident_cells")
        assert letter.skipped
        assert h.writer.expected() == view_rows(service)
        assert service.readiness(caught_up=True).ready


@pytest.mark.asyncio
async def test_with_the_skip_policy_later_events_still_apply(
    harness: Harness,
) -> None:
    """With ``skip`` the unreadable message is recorded, passed over, and the view keeps up."""
    h = harness
    settings = h.settings(poison_policy=PoisonPolicy.SKIP)
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await h.write(100)
        await h.relayed()
        poison = await publish_tampered_copy(h.server.url, h.relay)
        last = await h.write(100)
        await h.relayed()
        await wait_until(caught_up(service, last + 1), within=30)
        [letter] = await service.dead_letters()
        assert (poison, True) == (letter.stream_sequence, letter.skipped)
        assert h.writer.expected() == view_rows(service)
        assert service.readiness(caught_up=True).ready


@pytest.mark.asyncio
async def test_garbage_at_the_end_of_the_stream_is_a_dead_letter(
    harness: Harness,
) -> None:
    """A body that is not even msgpack, without headers, is kept with its bytes and the reason."""
    h = harness
    settings = h.settings()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        last = await h.write(50)
        await h.relayed()
        poison = await publish_garbage(h.server.url)
        await wait_until(lambda: stopped(service), within=30)
        [letter] = await service.dead_letters("resident_cells")
        assert (poison, b"\x93not msgpack at all") == (letter.stream_sequence, letter.data)
        assert "content type 'text/plain'" in letter.error
        assert last == service.view("resident_cells").status.position


@pytest.mark.asyncio
async def test_a_projection_that_fails_for_a_while_is_retried_in_order(
    harness: Harness,
) -> None:
    """Failing twice then succeeding, a message is applied on the third attempt, before the ones after it."""
    h = harness
    last = await h.write(200)
    await h.relayed()
    failures = Failures()
    failures.fail(57, times=2)
    settings = h.settings(max_deliver=3)
    async with GridService(settings, projections=[ResidentCells(failures)], app=h.app) as service:
        await wait_until(caught_up(service, last), within=30)
        status = service.view("resident_cells").status
        assert (3, 2, 0) == (failures.attempts[57], status.retries, status.dead_letters)
        assert h.writer.expected() == view_rows(service)
        assert [] == await service.dead_letters()


@pytest.mark.asyncio
async def test_a_store_unavailable_for_longer_than_the_retries_makes_no_dead_letter(
    harness: Harness,
) -> None:
    """A locked database, more often than max_deliver: the view waits it out, then applies it; no dead letter."""
    h = harness
    last = await h.write(200)
    await h.relayed()
    failures = Failures()
    failures.fail(57, times=6, error=lambda text: sqlite3.OperationalError(f"database is locked ({text})"))
    settings = h.settings(max_deliver=3)
    async with GridService(settings, projections=[ResidentCells(failures)], app=h.app) as service:
        await wait_until(caught_up(service, last), within=60)
        status = service.view("resident_cells").status
        assert 7 == failures.attempts[57]
        assert (0, "running") == (status.dead_letters, status.state)
        assert h.writer.expected() == view_rows(service)
        assert [] == await service.dead_letters()


@pytest.mark.asyncio
async def test_a_projection_that_keeps_failing_stops_after_max_deliver_attempts(
    harness: Harness,
) -> None:
    """After max_deliver attempts, backoff apart, the message is a dead letter with its attempts and error."""
    h = harness
    await h.write(200)
    await h.relayed()
    failures = Failures()
    failures.fail(57)
    settings = h.settings(max_deliver=3)
    async with GridService(settings, projections=[ResidentCells(failures)], app=h.app) as service:
        await wait_until(lambda: stopped(service), within=30)
        [letter] = await service.dead_letters()
        assert (57, 3, False) == (letter.stream_sequence, letter.attempts, letter.skipped)
        assert "RuntimeError: the projection cannot handle sequence 57" == letter.error
        assert 3 == failures.attempts[57]
        assert 56 == service.view("resident_cells").status.position
        assert 'grid_views_dead_letters_total{kind="project",projection="resident_cells"} 1.0' in (
            service.metrics.exposition().decode()
        )

        # Fixed (here: the failure is lifted) and resumed, the view applies it and catches up.
        failures.left.clear()
        await service.resume("resident_cells")
        last = await h.write(50)
        await h.relayed()
        await wait_until(caught_up(service, last), within=30)
        assert h.writer.expected() == view_rows(service)


@pytest.mark.asyncio
async def test_a_failing_view_does_not_hold_up_the_others(
    harness: Harness,
) -> None:
    """One view stopped by a dead letter; another view of the same service keeps up."""
    h = harness
    from .helpers import OtherResidentCells  # noqa: PLC0415

    failures = Failures()
    failures.fail(30)
    settings = h.settings(max_deliver=2)
    views = [ResidentCells(failures), OtherResidentCells()]
    async with GridService(settings, projections=views, app=h.app) as service:
        last = await h.write(150)
        await h.relayed()
        await wait_until(lambda: service.view("other_resident_cells").status.position >= last, within=30)
        await wait_until(lambda: stopped(service), within=30)
        assert h.writer.expected() == view_rows(service, "other_resident_cells")
        assert 29 == service.view("resident_cells").status.position
