"""Rebuilding a view from the stream into a new generation, while it keeps serving and being fed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar

import pytest

from grid_service.runtime.rebuild import RebuildState
from grid_service.runtime.service import GridService, ServiceError
from grid_service.runtime.settings import PoisonPolicy
from grid_service.views import ProjectionEngine, ViewStore, mask_nothing
from grid_service.views.store import Table

from .helpers import (
    Failures,
    Harness,
    ResidentCells,
    caught_up,
    publish_tampered_copy,
    view_rows,
    wait_until,
)


@pytest.mark.asyncio
async def test_a_view_is_rebuilt_while_it_serves_and_events_keep_coming(
    any_store_harness: Harness,
) -> None:
    """Readers see the old generation until the switch, then the new one; no event is lost on the way."""
    h = any_store_harness
    await h.write(1500)
    settings = h.settings()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await wait_until(caught_up(service, await h.relayed()), within=30)
        before = service.engine.generation("resident_cells")
        status = await service.rebuild("resident_cells")
        with pytest.raises(ServiceError, match="already being rebuilt"):
            await service.rebuild("resident_cells")
        reads = 0
        writing = asyncio.create_task(h.write(300))
        while status.state is RebuildState.RUNNING:
            assert view_rows(service)  # readers are served all along
            reads += 1
            await asyncio.sleep(0.01)
        await writing
        assert RebuildState.FINISHED == status.state, status.error
        assert 0 < reads
        assert before < status.generation == service.engine.generation("resident_cells")
        last = await h.relayed()
        await wait_until(caught_up(service, last), within=30)
        assert h.writer.expected() == view_rows(service)
        assert "running" == service.view("resident_cells").status.state


@pytest.mark.asyncio
async def test_a_rebuild_passes_over_the_dead_letters_the_view_skipped(
    harness: Harness,
) -> None:
    """A message the live view skipped is skipped by the rebuild too: the rebuilt view equals the live one."""
    h = harness
    settings = h.settings(poison_policy=PoisonPolicy.SKIP)
    await h.write(100)
    poison = await publish_tampered_copy(h.server.url, h.relay)
    last = await h.write(100)
    await h.relayed()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await wait_until(caught_up(service, last + 1), within=30)
        live = service.engine.contents("resident_cells")
        status = await service.wait_rebuilt((await service.rebuild("resident_cells")).projection)
        assert (RebuildState.FINISHED, [poison]) == (status.state, status.passed_over)
        assert live == service.engine.contents("resident_cells")
        assert 1 == len(await service.dead_letters())


@pytest.mark.asyncio
async def test_a_failed_rebuild_leaves_the_view_as_it_was(
    harness: Harness,
) -> None:
    """A stopped view rebuilt before its projection is fixed: the rebuild fails, the view stays stopped, unchanged."""
    h = harness
    failures = Failures()
    failures.fail(80)
    settings = h.settings(max_deliver=2)
    await h.write(150)
    await h.relayed()
    async with GridService(settings, projections=[ResidentCells(failures)], app=h.app) as service:
        await wait_until(lambda: service.view("resident_cells").status.state == "stopped", within=30)
        reason = service.view("resident_cells").status.reason
        generation = service.engine.generation("resident_cells")
        status = await service.wait_rebuilt((await service.rebuild("resident_cells")).projection)
        assert RebuildState.FAILED == status.state
        assert "stream sequence 80" in status.error
        state = service.engine.state("resident_cells")
        assert ("stopped", reason, generation, None) == (
            state.state.value,
            state.reason,
            state.generation,
            state.rebuilding_generation,
        )

        # Fixed, the rebuild goes through and the view runs again.
        failures.left.clear()
        status = await service.wait_rebuilt((await service.rebuild("resident_cells")).projection)
        assert RebuildState.FINISHED == status.state, status.error
        await wait_until(caught_up(service, await h.relayed()), within=30)
        assert "running" == service.view("resident_cells").status.state
        assert h.writer.expected() == view_rows(service)


class ResidentCellsV2(ResidentCells):
    """The same view, at a later version of its projection."""

    version = 2
    tables: ClassVar[tuple[Table, ...]] = ResidentCells.tables


@pytest.mark.asyncio
async def test_a_view_built_by_an_older_projection_is_rebuilt_when_the_service_starts(
    harness: Harness,
) -> None:
    """After an upgrade that changes a projection, the service rebuilds its view by itself."""
    h = harness
    settings = h.settings()
    last = await h.write(200)
    await h.relayed()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await wait_until(caught_up(service, last), within=30)
    async with GridService(settings, projections=[ResidentCellsV2()], app=h.app) as service:
        [status] = service.rebuilds()
        assert RebuildState.FINISHED == (await service.wait_rebuilt("resident_cells")).state
        await wait_until(caught_up(service, last), within=30)
        assert 2 == service.engine.state("resident_cells").version
        assert h.writer.expected() == view_rows(service)
        del status


@pytest.mark.asyncio
async def test_a_rebuild_interrupted_by_a_stop_is_abandoned_at_the_next_start(
    harness: Harness,
) -> None:
    """A generation half filled when the process died is dropped; the view runs on its active generation."""
    h = harness
    settings = h.settings()
    with ViewStore.sqlite(h.views.sqlite_path) as store:
        ProjectionEngine(store, [ResidentCells()], mask_nothing).begin_rebuild("resident_cells")
    last = await h.write(100)
    await h.relayed()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        state = service.engine.state("resident_cells")
        assert ("running", None) == (state.state.value, state.rebuilding_generation)
        await wait_until(caught_up(service, last), within=30)
        assert h.writer.expected() == view_rows(service)


@pytest.mark.asyncio
async def test_stopping_the_service_abandons_a_rebuild_under_way(
    harness: Harness,
) -> None:
    """A rebuild still running when the service stops is given up cleanly: the old generation stays."""
    h = harness
    settings = h.settings()
    await h.write(3000)
    await h.relayed()
    service = GridService(settings, projections=[ResidentCells()], app=h.app)
    await service.start()
    try:
        generation = service.engine.generation("resident_cells")
        status = await service.rebuild("resident_cells")
        await wait_until(lambda: status.position > 0, within=30)
    finally:
        await service.stop()
    assert RebuildState.FAILED == status.state
    with ViewStore.sqlite(h.views.sqlite_path) as store, contextlib.closing(store):
        state = ProjectionEngine(store, [ResidentCells()], mask_nothing).state("resident_cells")
    assert (generation, None, "running") == (state.generation, state.rebuilding_generation, state.state.value)


@pytest.mark.asyncio
async def test_a_failure_right_after_the_switch_reports_the_rebuild_finished_and_keeps_the_new_generation(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the switch-over committed the new generation is the view: a failure afterwards abandons nothing."""
    h = harness
    last = await h.write(300)
    async with GridService(h.settings(), projections=[ResidentCells()], app=h.app) as service:
        await wait_until(caught_up(service, await h.relayed()), within=30)
        live = service.view("resident_cells")
        refresh = live.refresh
        calls = 0

        async def refresh_failing_after_the_switch() -> None:
            nonlocal calls
            calls += 1
            if calls == 1:  # the refresh right after finish_rebuild committed
                message = "the readers could not be told"
                raise RuntimeError(message)
            await refresh()

        monkeypatch.setattr(live, "refresh", refresh_failing_after_the_switch)
        status = await service.wait_rebuilt((await service.rebuild("resident_cells")).projection)
        assert 1 <= calls
        assert RebuildState.FINISHED == status.state, status.error
        assert status.generation == service.engine.generation("resident_cells")
        await wait_until(caught_up(service, last), within=30)
        assert h.writer.expected() == view_rows(service)
