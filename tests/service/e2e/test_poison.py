"""Malformed messages on the stream, end to end: dead letters, stopped views said so, the service up."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
import pytest_asyncio

from grid_events import Actor, Role, TaskKind
from grid_service.runtime.settings import PoisonPolicy, ViewStoreSettings
from grid_service.scenario import DAY_SIZES, DayPlan

from .helpers import Office, wait_until

SUPERVISOR = Actor("c000-secretary", Role.SUPERVISOR)
VIEWS = ("task_board", "mediation_register", "site_dashboard", "resident_registry", "statistics", "audit_trail")


async def publish(office: Office, data: bytes, headers: dict[str, str] | None = None) -> int:
    """Publish *data* on a grid event subject, as nothing but the relay should; return its sequence."""
    client = await nats.connect(office.server.url)
    try:
        subject = "grid.events.task.3f0c2a56-0000-4000-8000-000000000000"
        return int((await client.jetstream().publish(subject, data, headers=headers)).seq)
    finally:
        await client.close()


@pytest_asyncio.fixture
async def stopping_office(tmp_path: Path) -> AsyncIterator[Office]:
    """An office whose views stop at a dead letter (the default policy)."""
    office = Office(tmp_path, ViewStoreSettings.sqlite(tmp_path / "views.sqlite3"), poison_policy=PoisonPolicy.STOP)
    try:
        await office.start()
        yield office
    finally:
        await office.stop()


@pytest_asyncio.fixture
async def skipping_office(tmp_path: Path) -> AsyncIterator[Office]:
    """An office whose views skip dead letters."""
    office = Office(tmp_path, ViewStoreSettings.sqlite(tmp_path / "views.sqlite3"), poison_policy=PoisonPolicy.SKIP)
    try:
        await office.start()
        yield office
    finally:
        await office.stop()


@pytest.mark.asyncio
async def test_garbage_on_the_stream_stops_every_view_and_readiness_says_why(stopping_office: Office) -> None:
    """A garbage body on a grid subject: a dead letter per view, 503 naming each view and why, still serving."""
    office = stopping_office
    await office.run(DayPlan(office.app, office.clock, size=DAY_SIZES["community"]).run)
    last = await office.caught_up()
    poison = await publish(office, b"\x00\x01garbage", {"Content-Type": "application/octet-stream"})
    assert last + 1 == poison

    async def all_stopped() -> bool:
        answer = await office.http.get("/readyz")
        return answer.status_code == 503 and len(answer.json()["problems"]) == len(VIEWS)

    await wait_until(all_stopped, within=30)
    readiness = (await office.http.get("/readyz")).json()
    assert not readiness["ready"]
    for view in readiness["views"]:
        assert ("stopped", last) == (view["state"], view["position"])
        assert f"stopped at stream sequence {poison}" in view["reason"]
        assert "content type 'application/octet-stream'" in view["reason"]
    assert {f"view {name} is stopped" for name in VIEWS} == {p.split(":")[0] for p in readiness["problems"]}

    metrics = (await office.http.get("/metrics")).text
    for name in VIEWS:
        assert f'grid_views_dead_letters_total{{kind="wire",projection="{name}"}} 1.0' in metrics
        assert f'grid_views_state{{projection="{name}",state="stopped"}} 1.0' in metrics
    letters = await office.get("/admin/dead-letters", with_data="true")
    assert len(VIEWS) == letters["total"]
    assert {(poison, 1, False, "AAFnYXJiYWdl")} == {
        (item["stream_sequence"], item["attempts"], item["skipped"], item["data_base64"]) for item in letters["items"]
    }

    # Still serving what the views hold, and alive.
    assert (await office.get("/tasks"))["total"] > 0
    assert "ok" == (await office.get("/healthz"))["status"]

    # An operator skips the message view by view: they run again, ready.
    for name in VIEWS:
        answer = await office.admin.post(
            f"/admin/views/{name}/skip", params={"sequence": poison, "reason": "garbage published by hand"}
        )
        assert 200 == answer.status_code, answer.text
    await wait_until(lambda: _ready(office), within=30)
    letters = await office.get("/admin/dead-letters")
    assert all(item["skipped"] for item in letters["items"])


async def _ready(office: Office) -> bool:
    return (await office.http.get("/readyz", params={"caught_up": "true"})).status_code == 200


@pytest.mark.asyncio
async def test_with_the_skip_policy_a_corrupted_message_is_kept_and_later_events_still_apply(
    skipping_office: Office,
) -> None:
    """A corrupted copy of an event in the middle of the stream is a skipped dead letter; work goes on."""
    office = skipping_office
    summary = await office.run(DayPlan(office.app, office.clock, size=DAY_SIZES["community"]).run)
    await office.caught_up()
    assert office.relay is not None
    # The relay owns the stream: pause it while a corrupted copy of the last event is slipped in.
    await office.relay.stop()
    client = await nats.connect(office.server.url)
    try:
        js = client.jetstream()
        last = int((await js.stream_info("GRID_EVENTS")).state.last_seq)
        original = await js.get_msg("GRID_EVENTS", seq=last)
        headers = {k: v for k, v in (original.headers or {}).items() if not k.startswith("Nats-")}
        corrupted = bytearray(original.data or b"")
        corrupted[-1] ^= 0x55
        poison = int((await js.publish(original.subject or "", bytes(corrupted), headers=headers)).seq)
    finally:
        await client.close()
    await office.relay.start()

    grid = (await office.run(lambda: office.app.get_task(summary.tasks[0], actor=SUPERVISOR))).grid
    task_id = await office.run(
        lambda: office.app.create_task(TaskKind.PATROL, "夜间巡查占道经营", grid, actor=SUPERVISOR)
    )
    await office.caught_up()

    patrol = await office.get(f"/tasks/{task_id}")
    assert "created" == patrol["status"]
    letters = (await office.get("/admin/dead-letters"))["items"]
    assert {(name, poison, True) for name in VIEWS} == {
        (item["projection"], item["stream_sequence"], item["skipped"]) for item in letters
    }
    assert all(re.search("link hash", item["error"]) for item in letters)
    readiness = await office.get("/readyz")
    assert readiness["ready"]
    assert {poison + 1} == {view["position"] for view in readiness["views"]}
