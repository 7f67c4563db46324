"""The consumers: every event applied once and in order, across restarts, NATS outages and lost consumers."""

from __future__ import annotations

import asyncio

import nats
import pytest

from grid_service.runtime.service import GridService

from .helpers import Harness, OtherResidentCells, ResidentCells, caught_up, view_rows, wait_until


@pytest.mark.asyncio
async def test_every_event_reaches_the_view_once_and_in_order(
    any_store_harness: Harness,
) -> None:
    """Imports and transfers, relayed while the service consumes, end as exactly what the store holds."""
    h = any_store_harness
    await h.write(300)
    settings = h.settings()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await h.write(300)
        last = await h.relayed()
        await wait_until(caught_up(service, last), within=30)
        assert h.writer.expected() == view_rows(service)
        status = service.view("resident_cells").status
        assert (last, 0, 0) == (status.position, status.dead_letters, status.lag)
        assert last == status.applied


@pytest.mark.asyncio
async def test_a_restarted_service_continues_from_the_views_position(
    harness: Harness,
) -> None:
    """Stopped half-way and started again, the service applies only what the view lacks."""
    h = harness
    settings = h.settings()
    first = await h.write(250)
    await h.relayed()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await wait_until(caught_up(service, first), within=30)
    last = await h.write(250)
    await h.relayed()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await wait_until(caught_up(service, last), within=30)
        status = service.view("resident_cells").status
        assert (last - first, 0) == (status.applied, status.duplicates)
        assert h.writer.expected() == view_rows(service)


@pytest.mark.asyncio
async def test_stopping_drains_and_acknowledges_what_was_applied(
    harness: Harness,
) -> None:
    """Stopped in the middle of a catch-up, the service leaves every applied message acknowledged."""
    h = harness
    await h.write(2000)
    await h.relayed()
    settings = h.settings(batch_size=50)
    service = GridService(settings, projections=[ResidentCells()], app=h.app)
    await service.start()
    try:
        await wait_until(lambda: service.view("resident_cells").status.position > 200, within=30)
    finally:
        await service.stop()
    position = service.view("resident_cells").status.position
    client = await nats.connect(h.server.url)
    try:
        info = await client.jetstream().consumer_info("GRID_EVENTS", settings.consumer_name("resident_cells"))
    finally:
        await client.close()
    assert position == info.ack_floor.stream_seq
    assert 0 == info.num_ack_pending


@pytest.mark.asyncio
async def test_the_views_survive_a_nats_restart_and_a_deleted_consumer(
    harness: Harness,
) -> None:
    """NATS goes away and comes back, a consumer is deleted under the service: nothing lost, nothing doubled."""
    h = harness
    settings = h.settings()
    async with GridService(settings, projections=[ResidentCells()], app=h.app) as service:
        await h.write(300)
        await asyncio.to_thread(h.server.restart)
        await h.write(300)
        client = await nats.connect(h.server.url)
        try:
            await client.jetstream().delete_consumer("GRID_EVENTS", settings.consumer_name("resident_cells"))
        finally:
            await client.close()
        last = await h.write(300)
        await h.relay.wait_caught_up(timeout=60)
        await wait_until(caught_up(service, last), within=60)
        assert h.writer.expected() == view_rows(service)
        assert 0 == service.view("resident_cells").status.dead_letters


@pytest.mark.asyncio
async def test_views_run_side_by_side_each_with_its_own_consumer(
    harness: Harness,
) -> None:
    """Two views each get every event, through durable consumers named after them."""
    h = harness
    settings = h.settings()
    async with GridService(settings, projections=[ResidentCells(), OtherResidentCells()], app=h.app) as service:
        last = await h.write(200)
        await h.relayed()
        await wait_until(caught_up(service, last), within=30)
        assert view_rows(service) == view_rows(service, "other_resident_cells")
        client = await nats.connect(h.server.url)
        try:
            js = client.jetstream()
            for name in ("resident_cells", "other_resident_cells"):
                info = await js.consumer_info("GRID_EVENTS", f"grid-views-{name}")
                assert last == info.ack_floor.stream_seq
        finally:
            await client.close()
