"""The read functions: every filter selects what the aggregates say it should; pages cover everything once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from grid_events import Dispute, Resident, SiteShift, Task
from grid_service.views import ProjectionEngine, ViewsError, ViewStore, queries
from grid_service.views.projections._common import china_date
from grid_service.views.queries import Page, QueryError

from .helpers import Tours, aggregates


def of_kind(tours: Tours, kind: type) -> list[Any]:
    """Return the aggregates of *kind* in the tours."""
    return [aggregate for aggregate in aggregates(tours.deliveries).values() if isinstance(aggregate, kind)]


def ids(page: Page, key: str) -> set[str]:
    """Return the ids of a page's items."""
    return {item[key] for item in page.items}


def every_page(read: Callable[..., Page], limit: int) -> list[dict[str, Any]]:
    """Read every page of *limit* items in turn; check each page's total; return all items in order."""
    items: list[dict[str, Any]] = []
    first = read(limit=limit, offset=0)
    while True:
        page = read(limit=limit, offset=len(items))
        assert first.total == page.total
        items.extend(page.items)
        if len(page.items) < limit:
            return items


TASK_FILTERS: list[tuple[dict[str, Any], Callable[[Task, datetime], bool]]] = [
    ({}, lambda _task, _now: True),
    ({"community": "飞凤"}, lambda task, _now: task.grid.community == "飞凤"),
    ({"grid": "江南/飞凤/05"}, lambda task, _now: task.grid.code == "江南/飞凤/05"),
    ({"sub_district": "稠城"}, lambda task, _now: task.grid.sub_district == "稠城"),
    ({"worker": "w-li"}, lambda task, _now: task.assignee == "w-li"),
    ({"status": ["assigned", "accepted"]}, lambda task, _now: task.status.value in {"assigned", "accepted"}),
    ({"kind": "patrol"}, lambda task, _now: task.kind.value == "patrol"),
    ({"priority": "high"}, lambda task, _now: task.priority.value == "high"),
    ({"open_only": True}, lambda task, _now: task.is_open),
    ({"overdue_only": True}, lambda task, now: task.is_open and task.due_at is not None and task.due_at < now),
    ({"waiting_verification": True}, lambda task, _now: task.status.value == "submitted"),
    ({"escalated_only": True}, lambda task, _now: task.escalation_count > 0),
    ({"community": "飞凤", "open_only": True, "worker": "w-zhou"},
     lambda task, _now: task.grid.community == "飞凤" and task.is_open and task.assignee == "w-zhou"),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "expected"), TASK_FILTERS, ids=lambda value: str(value)[:40])
def test_task_board_filters(
    filters: dict[str, Any], expected: Callable[[Task, datetime], bool], tours: Tours, tour_engine: ProjectionEngine
) -> None:
    """Each filter of the board selects exactly the tasks whose aggregates match it, at the time asked."""
    for now in (tours.now - timedelta(days=40), tours.now):
        page = queries.tasks(tour_engine.store, now=now, **filters)
        assert {str(task.id) for task in of_kind(tours, Task) if expected(task, now)} == ids(page, "task_id")
        assert len(page.items) == page.total


def test_pages_cover_the_board_once_in_order(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Pages of two cover every task once, soonest deadline first and tasks without one last."""
    store = tour_engine.store
    everything = queries.tasks(store, now=tours.now).items

    paged = every_page(lambda **page: queries.tasks(store, now=tours.now, **page), 3)

    assert everything == paged
    deadlines = [item["due_at"] for item in paged]
    given = [deadline for deadline in deadlines if deadline is not None]
    assert given == sorted(given)
    assert deadlines == given + [None] * (len(deadlines) - len(given))
    beyond = queries.tasks(store, now=tours.now, limit=5, offset=100)
    assert ([], len(everything)) == (beyond.items, beyond.total)
    assert {"items", "total", "limit", "offset"} == set(beyond.as_dict())


DISPUTE_FILTERS: list[tuple[dict[str, Any], Callable[[Dispute, date], bool]]] = [
    ({}, lambda _dispute, _today: True),
    ({"open_only": True}, lambda dispute, _today: not dispute.is_final),
    ({"past_limit_only": True}, lambda dispute, today: dispute.is_past_limit(today)),
    ({"follow_up_due_only": True}, lambda dispute, today: dispute.follow_up_due(today)),
    ({"status": "agreed"}, lambda dispute, _today: dispute.status.value == "agreed"),
    ({"category": ["family", "labour"]}, lambda dispute, _today: dispute.category.value in {"family", "labour"}),
    ({"source": "police_referral"}, lambda dispute, _today: dispute.source.value == "police_referral"),
    ({"mediator": "m-chen"}, lambda dispute, _today: dispute.mediator_id == "m-chen"),
    ({"community": "宾王"}, lambda dispute, _today: dispute.grid.community == "宾王"),
]


@pytest.mark.parametrize(("filters", "expected"), DISPUTE_FILTERS, ids=lambda value: str(value)[:40])
def test_register_filters(
    filters: dict[str, Any], expected: Callable[[Dispute, date], bool], tours: Tours, tour_engine: ProjectionEngine
) -> None:
    """Each filter of the register selects the cases whose aggregates match it, today and a month on."""
    for now in (tours.now, tours.now + timedelta(days=31)):
        page = queries.disputes(tour_engine.store, now=now, **filters)
        today = china_date(now)
        assert {str(d.id) for d in of_kind(tours, Dispute) if expected(d, today)} == ids(page, "dispute_id")


def test_register_received_between_dates(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """received_from and received_to are inclusive dates."""
    cases = of_kind(tours, Dispute)
    first = min(case.received_on for case in cases)
    last = max(case.received_on for case in cases)

    between = queries.disputes(
        tour_engine.store, now=tours.now, received_from=first + timedelta(days=1), received_to=last
    )
    exactly = queries.disputes(tour_engine.store, now=tours.now, received_from=first, received_to=first)

    assert {str(c.id) for c in cases if c.received_on > first} == ids(between, "dispute_id")
    assert {str(c.id) for c in cases if c.received_on == first} == ids(exactly, "dispute_id")


SHIFT_FILTERS: list[tuple[dict[str, Any], Callable[[SiteShift, datetime], bool]]] = [
    ({}, lambda _shift, _now: True),
    ({"open_only": True}, lambda shift, _now: shift.is_open),
    ({"late_only": True}, lambda shift, now: bool(shift.late_batches(now))),
    ({"low_supplies_only": True}, lambda shift, _now: bool(shift.low_supplies())),
    ({"site_kind": "service_point"}, lambda shift, _now: shift.site.kind.value == "service_point"),
    ({"status": ["closed", "cancelled"]}, lambda shift, _now: shift.status.value in {"closed", "cancelled"}),
    ({"grid": "江南/飞凤/03"}, lambda shift, _now: shift.site.grid.code == "江南/飞凤/03"),
]


@pytest.mark.parametrize(("filters", "expected"), SHIFT_FILTERS, ids=lambda value: str(value)[:40])
def test_dashboard_filters(
    filters: dict[str, Any],
    expected: Callable[[SiteShift, datetime], bool],
    tours: Tours,
    tour_engine: ProjectionEngine,
) -> None:
    """Each filter of the dashboards selects the shifts whose aggregates match it, before and after a batch is late."""
    for now in (tours.now - timedelta(minutes=20), tours.now):
        page = queries.shifts(tour_engine.store, now=now, **filters)
        assert {str(s.id) for s in of_kind(tours, SiteShift) if expected(s, now)} == ids(page, "shift_id")
        for item in page.items:
            shift = next(s for s in of_kind(tours, SiteShift) if str(s.id) == item["shift_id"])
            assert len(shift.late_batches(now)) == item["late_batches"]


RESIDENT_FILTERS: list[tuple[dict[str, Any], Callable[[Resident, date], bool]]] = [
    ({}, lambda _resident, _today: True),
    ({"vulnerable_only": True}, lambda resident, _today: resident.is_vulnerable),
    ({"isolating_only": True}, lambda resident, today: resident.isolating_on(today)),
    ({"tag": "needs_care"}, lambda resident, _today: "needs_care" in {tag.value for tag in resident.tags}),
    ({"status": "living_here"}, lambda resident, _today: resident.status.value == "living_here"),
    ({"community": "飞凤"}, lambda resident, _today: resident.grid.community == "飞凤"),
]


@pytest.mark.parametrize(("filters", "expected"), RESIDENT_FILTERS, ids=lambda value: str(value)[:40])
def test_registry_filters(
    filters: dict[str, Any], expected: Callable[[Resident, date], bool], tours: Tours, tour_engine: ProjectionEngine
) -> None:
    """Each filter of the registry selects the residents whose aggregates match it, today and in ten days."""
    for now in (tours.now, tours.now + timedelta(days=10)):
        page = queries.residents(tour_engine.store, now=now, **filters)
        today = china_date(now)
        assert {str(r.id) for r in of_kind(tours, Resident) if expected(r, today)} == ids(page, "resident_id")


def test_vulnerable_residents_per_grid(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Per grid cell, the vulnerable residents living there, in all and per tag."""
    expected: dict[str, dict[str, int]] = {}
    for resident in of_kind(tours, Resident):
        if resident.is_vulnerable and resident.status.value == "living_here":
            tags = expected.setdefault(resident.grid.code, {})
            for tag in resident.tags:
                tags[tag.value] = tags.get(tag.value, 0) + 1

    found = queries.vulnerable_per_grid(tour_engine.store)

    assert set(expected) == {item["grid"] for item in found}
    for item in found:
        assert expected[item["grid"]] == {tag: count for tag, count in item["by_tag"].items() if count}
    assert [] == queries.vulnerable_per_grid(tour_engine.store, community="宾王")


def test_daily_statistics_between_dates(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """date_from and date_to are inclusive; pages run latest day first."""
    every_day = queries.daily_statistics(tour_engine.store, limit=1000).items
    days = sorted({date.fromisoformat(item["day"]) for item in every_day})
    middle = days[len(days) // 2]

    some = queries.daily_statistics(tour_engine.store, date_from=middle, date_to=days[-1], limit=1000)
    paged = every_page(lambda **page: queries.daily_statistics(tour_engine.store, **page), 2)

    assert [item for item in every_day if date.fromisoformat(item["day"]) >= middle] == some.items
    assert every_day == paged
    assert [item["day"] for item in paged] == sorted((item["day"] for item in paged), reverse=True)


def test_audit_cases_by_kind(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """The case list filters by kind of case."""
    disputes = queries.audit_cases(tour_engine.store, case_kind="dispute")
    inspections = queries.audit_cases(tour_engine.store, case_kind="inspection", community="飞凤")

    assert {str(i) for i in tours.ids["disputes"].values()} == ids(disputes, "case_id")
    assert {str(i) for i in tours.ids["inspections"].values()} == ids(inspections, "case_id")


def test_unknown_ids_read_as_none(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Asking for a case that is not there gives None (the API answers 404)."""
    unknown = str(UUID(int=0))
    store = tour_engine.store

    assert [None] * 5 == [
        queries.task(store, unknown, now=tours.now),
        queries.inspection(store, unknown, now=tours.now),
        queries.dispute(store, unknown, now=tours.now),
        queries.shift(store, unknown, now=tours.now),
        queries.resident(store, unknown, now=tours.now),
    ]
    assert 0 == queries.audit_trail(store, unknown).total


@pytest.mark.parametrize(
    "call",
    [
        lambda store, now: queries.tasks(store, now=now, limit=0),
        lambda store, now: queries.tasks(store, now=now, limit=1001),
        lambda store, now: queries.disputes(store, now=now, offset=-1),
        lambda store, now: queries.shifts(store, now=now.replace(tzinfo=None)),
        lambda store, now: queries.tasks(store, now=now, status=[]),
        lambda store, now: queries.residents(store, now=now, tag="needs_%"),
        lambda store, _now: queries.audit_cases(store, case_kind="task"),
        lambda store, now: queries.audit_trail(store, "x", as_of=now.replace(tzinfo=None)),
    ],
)
def test_invalid_arguments_are_refused(
    call: Callable[[ViewStore, datetime], object], tours: Tours, tour_engine: ProjectionEngine
) -> None:
    """Bad limits, offsets, naive times, empty choices and unknown kinds raise QueryError (422)."""
    with pytest.raises(QueryError):
        call(tour_engine.store, tours.now)


def test_reading_a_store_the_engine_never_set_up_says_so(sqlite_view_store: ViewStore) -> None:
    """Before the engine registered the views, a read says they are not set up."""
    with pytest.raises(ViewsError, match="not been set up"):
        queries.tasks(sqlite_view_store, now=datetime(2026, 11, 2, tzinfo=UTC))
