"""A community's day, end to end: commands → event store → outbox relay → NATS → the service → HTTP answers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from grid_events import Actor, Role, TaskKind
from grid_service.runtime.settings import PoisonPolicy, ViewStoreSettings
from grid_service.scenario import DAY_SIZES, DayPlan, DaySummary

from .conftest import open_view_store
from .helpers import Office, assert_views_equal_a_rebuild

SUPERVISOR = Actor("c000-secretary", Role.SUPERVISOR)
WORKER = Actor("c000-worker0", Role.GRID_WORKER)
NOON = "2026-11-02T12:00:00+08:00"


@pytest_asyncio.fixture
async def office(tmp_path: Path, view_store_settings: ViewStoreSettings) -> AsyncIterator[Office]:
    """An office running everything, with the view store of the test (SQLite, then PostgreSQL)."""
    running = Office(tmp_path, view_store_settings, poison_policy=PoisonPolicy.STOP)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


def only(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the one item of *items*."""
    assert 1 == len(items), items
    return items[0]


@pytest.mark.asyncio
async def test_a_communitys_day_is_answered_over_http(office: Office) -> None:  # noqa: PLR0915 (one story)
    """The board, the register, a site's dashboard, the masked registry, statistics and an audit trail."""
    summary: DaySummary = await office.run(DayPlan(office.app, office.clock, size=DAY_SIZES["community"]).run)
    await office.caught_up()

    # The task board: the day's survey calls and the inspection, all verified and closed.
    board = await office.get("/tasks", community="西门", status="closed")
    assert len(summary.tasks) + len(summary.inspections) == board["total"]
    calls = [task for task in board["items"] if task["kind"] == "survey_call"]
    assert summary.counts["calls made"] == sum(task["calls_made"] for task in calls)
    assert all(task["verified_by"] == SUPERVISOR.worker_id for task in board["items"])

    # An inspection with its finding: a blocked exit, ordered rectified, re-inspected and passed.
    inspection = await office.get(f"/inspections/{summary.inspections[0]}")
    finding = only(inspection["findings"])
    assert ("exits_clear", "major", True) == (finding["item_code"], finding["severity"], finding["rectified"])
    assert 0 == inspection["findings_open"]

    # The mediation register: the neighbours' dispute, agreed, followed up and closed.
    register = await office.get("/disputes")
    case = only(register["items"])
    assert (str(summary.disputes[0]), "closed", False) == (case["dispute_id"], case["status"], case["past_limit"])
    assert 0 == (await office.get("/disputes", past_limit="true", at=NOON))["total"]

    # A site's dashboard: every batch received at the lab, the final tally as recorded.
    shift = await office.get(f"/shifts/{summary.shifts[0]}")
    assert "closed" == shift["status"]
    assert shift["batches"]
    assert all(batch["status"] == "received" for batch in shift["batches"])
    assert summary.counts["people sampled"] == shift["final_tally"]
    assert [] == shift["people"]  # everyone checked out

    # The registry, masked: a surname and stars, ID numbers and phones with their middles hidden.
    registry = await office.get("/residents", limit=1000)
    assert len(summary.residents) == registry["total"]
    for resident in registry["items"]:
        assert re.fullmatch(r".\*+", resident["masked_name"]), resident
        assert re.fullmatch(r"\d{3}\*{11}[\dX]{4}", resident["masked_id_number"]), resident
        assert re.fullmatch(r"\d{3}\*{4}\d{4}", resident["masked_phone"]), resident
    vulnerable = await office.get("/residents/vulnerable-per-grid")
    assert sum(r["vulnerable"] for r in registry["items"]) == sum(grid["vulnerable"] for grid in vulnerable)

    # Statistics per community and day (China time), and each worker's workload.
    daily = await office.get("/statistics/daily", community="西门")
    assert summary.counts["calls made"] == sum(day["calls_made"] for day in daily["items"])
    assert summary.counts["batches sealed"] == sum(day["batches_sealed"] for day in daily["items"])
    workload = await office.get("/workload", community="西门")
    assert {f"c000-worker{n}" for n in range(DAY_SIZES["community"].callers_per_community)} <= {
        item["worker_id"] for item in workload["items"]
    }

    # The audit trail of the dispute: every step, in order, with who acted in which role.
    trail = await office.get(f"/audit/cases/{summary.disputes[0]}/trail")
    steps = trail["items"]
    assert list(range(1, len(steps) + 1)) == [step["version"] for step in steps]
    assert ("Dispute.Received", "mediator") == (steps[0]["event"], steps[0]["role"])
    assert "Dispute.Closed" == steps[-1]["event"]
    assert all(len(step["link_hash"]) == 64 for step in steps)

    # Work goes on while the service runs: a new task shows up, overdue, then waiting for verification.
    grid = (await office.run(lambda: office.app.get_task(summary.tasks[0], actor=SUPERVISOR))).grid
    due = office.clock() + timedelta(hours=1)
    task_id = await office.run(
        lambda: office.app.create_task(TaskKind.ERRAND, "为独居老人代购药品", grid, actor=SUPERVISOR, due_at=due)
    )
    await office.run(lambda: office.app.assign_task(task_id, WORKER.worker_id, actor=SUPERVISOR))
    await office.caught_up()
    later = (due + timedelta(hours=2)).isoformat()
    overdue = only((await office.get("/tasks", overdue="true", at=later))["items"])
    assert (str(task_id), "assigned", 120) == (overdue["task_id"], overdue["status"], overdue["overdue_minutes"])
    for step in (office.app.accept_task, office.app.start_task):
        await office.run(lambda step=step: step(task_id, actor=WORKER))  # type: ignore[misc]
    await office.run(lambda: office.app.submit_task(task_id, "药品已送到", actor=WORKER))
    await office.caught_up()
    waiting = only((await office.get("/tasks", waiting_verification="true"))["items"])
    assert (str(task_id), "submitted") == (waiting["task_id"], waiting["status"])

    # The service answers its operators too.
    metrics = (await office.http.get("/metrics")).text
    assert 'grid_views_lag{projection="task_board"} 0.0' in metrics
    assert "grid_relay_position" in metrics
    openapi = await office.get("/openapi.json")
    assert {"/tasks", "/disputes", "/shifts/{shift_id}", "/residents", "/audit/cases/{case_id}/trail"} <= set(
        openapi["paths"]
    )


@pytest.mark.asyncio
async def test_the_views_kept_from_the_stream_equal_a_fresh_rebuild(office: Office) -> None:
    """After a day, every view the consumers kept is row for row what a rebuild from the store gives."""
    await office.run(DayPlan(office.app, office.clock, size=DAY_SIZES["community"], seed=7).run)
    await office.caught_up()
    service = office.service
    assert service is not None
    rebuild = await office.admin.post("/admin/views/task_board/rebuild")
    assert 202 == rebuild.status_code
    answer: dict[str, Any] = {}
    for _ in range(600):
        answer = await office.get("/admin/views/task_board/rebuild")
        if answer["state"] != "running":
            break
        await asyncio.sleep(0.05)
    assert "finished" == answer["state"], answer
    await office.stop()
    with open_view_store(office.views) as store:
        rows = assert_views_equal_a_rebuild(store, office.store)
    assert all(rows.values()), rows
