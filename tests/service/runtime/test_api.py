"""The HTTP API: health, readiness, metrics, admin routes for the administrator, complete and honest models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from grid_events import GridApplication, Role
from grid_events.transport import NatsSettings, OutboxRelay
from grid_service.runtime import views_api
from grid_service.runtime.api import create_app
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import ViewStoreSettings
from grid_service.scenario import DAY_SIZES, DAY_START, DayPlan, DaySummary, SimulatedClock
from grid_service.views import queries

from .helpers import bearer, caught_up, fast_settings, make_accounts, wait_until

NOW = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)


class Served:
    """A service with a community's day in its views, and HTTP clients for it: an auditor and an administrator."""

    def __init__(self, service: GridService, summary: DaySummary, tokens: dict[Role, str]) -> None:
        self.service = service
        self.summary = summary
        app = create_app(service, manage_lifecycle=False)
        local = httpx.ASGITransport(app=app)
        self.auditor = httpx.AsyncClient(
            transport=local, base_url="http://service", headers=bearer(tokens[Role.AUDITOR])
        )
        remote = httpx.ASGITransport(app=app, client=("192.0.2.10", 40000))
        admin = bearer(tokens[Role.ADMINISTRATOR])
        self.admin = httpx.AsyncClient(transport=remote, base_url="http://service", headers=admin)

    async def get(self, path: str, **params: Any) -> Any:
        """GET *path* as the auditor (who may read every view); return the JSON of a 200 answer."""
        answer = await self.auditor.get(path, params=params)
        assert 200 == answer.status_code, answer.text
        return answer.json()


@pytest_asyncio.fixture
async def served(
    *,
    event_store_app: GridApplication,
    day: DaySummary,
    relay: OutboxRelay,
    nats_settings: NatsSettings,
    sqlite_views: ViewStoreSettings,
    tmp_path: Path,
) -> AsyncIterator[Served]:
    """The service, caught up with a community's day."""
    tokens = make_accounts(tmp_path / "accounts.json")
    settings = fast_settings(
        nats_settings, sqlite_views, event_store=event_store_app.config, accounts=tmp_path / "accounts.json"
    )
    async with GridService(settings, app=event_store_app, relay=relay.status) as service:
        await wait_until(caught_up(service, await relay.wait_caught_up(timeout=30)), within=30)
        running = Served(service, day, tokens)
        try:
            yield running
        finally:
            await running.auditor.aclose()
            await running.admin.aclose()


@pytest.fixture
def clock() -> SimulatedClock:
    """The scenario's clock."""
    return SimulatedClock(DAY_START)


@pytest.fixture
def event_store_app(app: GridApplication, clock: SimulatedClock) -> GridApplication:
    """The application, on the scenario's clock."""
    app.clock = clock
    return app


@pytest.fixture
def day(event_store_app: GridApplication, clock: SimulatedClock) -> DaySummary:
    """A community's day of work, recorded."""
    return DayPlan(event_store_app, clock, size=DAY_SIZES["community"]).run()


@pytest.mark.asyncio
async def test_health_readiness_and_metrics(served: Served) -> None:
    """Liveness, readiness with every view's state, and Prometheus metrics of views and relay."""
    assert {"status": "ok"} == await served.get("/healthz")
    readiness = await served.get("/readyz", caught_up="true")
    assert (True, [], True) == (readiness["ready"], readiness["problems"], readiness["nats_connected"])
    assert len(served.service.statuses()) == len(readiness["views"])
    assert all(view["caught_up"] and view["state"] == "running" for view in readiness["views"])
    answer = await served.auditor.get("/metrics", headers={"Authorization": ""})  # public: no personal data
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    for series in (
        'grid_views_lag{projection="resident_registry"} 0.0',
        'grid_views_state{projection="task_board",state="running"} 1.0',
        "grid_views_batch_apply_seconds_bucket",
        "grid_views_events_applied_total",
        "grid_service_nats_connected 1.0",
        'grid_relay_state{state="idle"} 1.0',
    ):
        assert series in answer.text


@pytest.mark.asyncio
async def test_the_admin_routes_answer_the_administrator_only(served: Served) -> None:
    """An auditor reads the views but operates nothing; the administrator operates from anywhere, reads no view."""
    for answer in (
        await served.auditor.get("/admin/views"),
        await served.auditor.post("/admin/views/task_board/rebuild"),
    ):
        assert 403 == answer.status_code
        assert "role auditor lacks the right service.operate" in answer.json()["detail"]
    assert 200 == (await served.auditor.get("/tasks")).status_code
    assert 200 == (await served.admin.get("/admin/views")).status_code  # from another machine
    assert 403 == (await served.admin.get("/tasks")).status_code


@pytest.mark.asyncio
async def test_operator_mistakes_get_answers_that_say_what_is_wrong(served: Served) -> None:
    """Unknown views 404, a second rebuild 409, skipping a running view 409, bad filters 422."""
    answer = await served.admin.post("/admin/views/nothing/rebuild")
    assert (404, "no view 'nothing'") == (answer.status_code, answer.json()["detail"][:17])
    assert 202 == (await served.admin.post("/admin/views/statistics/rebuild")).status_code
    assert 409 == (await served.admin.post("/admin/views/statistics/rebuild")).status_code
    skip = await served.admin.post("/admin/views/task_board/skip", params={"sequence": 5, "reason": "no"})
    assert (409, "view task_board is running: only a stopped view can skip a message") == (
        skip.status_code,
        skip.json()["detail"],
    )
    assert 422 == (await served.auditor.get("/tasks", params={"limit": 0})).status_code
    assert 422 == (await served.auditor.get("/tasks", params={"status": "lost"})).status_code
    assert 422 == (await served.auditor.get("/tasks", params={"at": "2026-11-02T09:00:00"})).status_code
    assert 404 == (await served.auditor.get("/tasks/00000000-0000-4000-8000-000000000000")).status_code
    await served.service.wait_rebuilt("statistics")


@pytest.mark.asyncio
async def test_pages_do_not_overlap_and_say_the_total(served: Served) -> None:
    """Limit and offset walk through the registry; the total stays the same on every page."""
    first = await served.get("/residents", limit=15)
    second = await served.get("/residents", limit=15, offset=15)
    assert first["total"] == second["total"] == len(served.summary.residents)
    assert not {r["resident_id"] for r in first["items"]} & {r["resident_id"] for r in second["items"]}


def _items(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, queries.Page):
        return result.items
    if isinstance(result, list):
        return result
    return [result]


@pytest.mark.asyncio
async def test_the_response_models_hold_exactly_what_the_queries_return(served: Served) -> None:
    """No value a query returns is dropped from the API, and no field of a model is made up."""
    store, summary = served.service.store, served.summary
    models = views_api.ITEM_MODELS
    answers: dict[str, Any] = {
        "Task": queries.tasks(store, now=NOW),
        "Inspection": queries.inspections(store, now=NOW),
        "InspectionDetail": queries.inspection(store, str(summary.inspections[0]), now=NOW),
        "Dispute": queries.disputes(store, now=NOW),
        "Shift": queries.shifts(store, now=NOW),
        "ShiftDetail": queries.shift(store, str(summary.shifts[0]), now=NOW),
        "Resident": queries.residents(store, now=NOW),
        "Workload": queries.workload(store, now=NOW),
        "DailyStatistics": queries.daily_statistics(store),
        "AuditCase": queries.audit_cases(store),
        "AuditStep": queries.audit_trail(store, str(summary.disputes[0])),
        "VulnerablePerGrid": queries.vulnerable_per_grid(store),
    }
    assert set(models) == set(answers)
    for name, answer in answers.items():
        items = await asyncio.to_thread(_items, answer)
        assert items, name
        for item in items:
            added = views_api.AUDIT_PAGE_FIELDS & set(models[name].model_fields)
            assert set(models[name].model_fields) - added == set(item), name
            models[name].model_validate(item | dict.fromkeys(added, "/pages/cases/x"))
    detail = answers["ShiftDetail"]
    for nested, model in (("people", "PersonOnSite"), ("batches", "SampleBatch"), ("supplies", "Supply")):
        nested_model = models["ShiftDetail"].model_fields[nested].annotation.__args__[0]  # type: ignore[union-attr]
        assert model == nested_model.__name__
        for item in detail[nested]:
            assert set(nested_model.model_fields) == set(item), nested


@pytest.mark.asyncio
async def test_the_openapi_document_describes_every_route(served: Served) -> None:
    """Every route has a summary, typed parameters and a response schema; the models are components."""
    document = await served.get("/openapi.json")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter["schema"], (path, parameter)
            success = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][success].get("content", {})
            if path == "/metrics" or path.startswith("/pages/"):  # Prometheus' text format; the auditors' pages
                continue
            schema = content["application/json"]["schema"]
            assert schema, (method, path)
    components = set(document["components"]["schemas"])
    assert {"TaskPage", "Dispute", "ShiftDetail", "ResidentPage", "AuditStepPage", "ReadinessOut"} <= components
    resident = document["components"]["schemas"]["Resident"]["properties"]
    assert {"masked_name", "masked_id_number", "masked_phone"} <= set(resident)
    assert not {"name", "id_number", "phone"} & set(resident)
