"""The read routes: one per view of :mod:`grid_service.views.queries`, with filters and pagination.

The response models are made from the views' own table definitions (every
column, with its type) plus the values each query computes, so the OpenAPI
document follows the views as they change. Values that depend on the time
(overdue, days past the limit, follow-ups due, late batches) are computed
for now, or for the moment given as ``at``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, create_model

from grid_events import (
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    Priority,
    ResidentStatus,
    ResidentTag,
    Right,
    ShiftStatus,
    SiteKind,
    TaskKind,
    TaskStatus,
)
from grid_service.runtime.auth import requires
from grid_service.views import queries
from grid_service.views.projections import (
    AuditTrail,
    MediationRegister,
    ResidentRegistry,
    SiteDashboard,
    Statistics,
    TaskBoard,
)
from grid_service.views.queries import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, Page, QueryError
from grid_service.views.store import ColumnType, Table, ViewStore

__all__ = ["ITEM_MODELS", "Day", "Moment", "router"]

E = TypeVar("E", bound=Enum)

_PYTHON_TYPES: dict[ColumnType, Any] = {
    ColumnType.TEXT: str,
    ColumnType.INT: int,
    ColumnType.BOOL: bool,
    ColumnType.TIMESTAMP: datetime,
    ColumnType.DATE: date,
    ColumnType.JSON: JsonValue,
    ColumnType.BYTES: bytes,
}


def _model(name: str, doc: str, table: Table, **extra: Any) -> type[BaseModel]:  # noqa: ANN401 (pydantic field specs)
    """Return a response model with every column of *table* (nullable) and the *extra* fields."""
    fields: dict[str, Any] = {
        column.name: (_PYTHON_TYPES[column.type] | None, None) for column in table.columns if column.name not in extra
    }
    fields.update(extra)
    return create_model(name, __doc__=doc, __config__=ConfigDict(extra="forbid"), **fields)


def _page_model(item: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{item.__name__}Page",
        __doc__=f"One page of {item.__name__} items, and how many match the filters in all.",
        items=(list[item], ...),  # type: ignore[valid-type]
        total=(int, Field(description="Items matching the filters, on every page.")),
        limit=(int, ...),
        offset=(int, ...),
    )


def _tables(projection: Any) -> dict[str, Table]:  # noqa: ANN401 (a projection class)
    return {table.name: table for table in projection.tables}


_TASKS, _INSPECTIONS = _tables(TaskBoard), _tables(TaskBoard)
_AUDIT_PAGE = (
    str,
    Field(description="The case's audit page (HTML): timeline, verification and rule findings; needs audit.read."),
)
AUDIT_PAGE_FIELDS = frozenset({"audit_page"})
"""Fields the API adds to what the queries return: the link to each case's audit page."""


def audit_page_of(case_id: object) -> str:
    """Return the path of the audit page of the mediation or inspection *case_id*."""
    return f"/pages/cases/{case_id}"


def _linked(page: dict[str, Any], id_key: str) -> dict[str, Any]:
    """Add each case's audit page to the items of *page*."""
    for item in page["items"]:
        _link_one(item, id_key)
    return page


def _link_one(item: dict[str, Any], id_key: str) -> dict[str, Any]:
    """Add the case's audit page to *item*."""
    item["audit_page"] = audit_page_of(item[id_key])
    return item


_SITES, _STATS, _AUDIT = _tables(SiteDashboard), _tables(Statistics), _tables(AuditTrail)

Task = _model(
    "Task",
    "A task on the board, with whether it is overdue now.",
    _TASKS["tasks"],
    overdue=(bool, Field(description="Due before now and neither closed nor cancelled.")),
    overdue_minutes=(int | None, None),
)
Inspection = _model(
    "Inspection",
    "An inspection with its checklist and counts of findings.",
    _INSPECTIONS["inspections"],
    deadline_passed=(bool, Field(description="A rectification deadline passed without a re-inspection.")),
    audit_page=_AUDIT_PAGE,
)
Finding = _model(
    "Finding", "A hazard found in an inspection, and what became of it.", _INSPECTIONS["inspection_findings"]
)
InspectionDetail = _model(
    "InspectionDetail",
    "An inspection with its findings.",
    _INSPECTIONS["inspections"],
    deadline_passed=(bool, ...),
    findings=(list[Finding], ...),  # type: ignore[valid-type]
    audit_page=_AUDIT_PAGE,
)
Dispute = _model(
    "Dispute",
    "A case of the mediation register (台账), with its time limit as of now.",
    _tables(MediationRegister)["disputes"],
    days_open=(int | None, Field(default=None, description="Days from receipt to closing, or to today.")),
    days_left=(int | None, Field(default=None, description="Days left before the (extended) time limit.")),
    days_past_limit=(int | None, None),
    past_limit=(bool, Field(description="Mediation still going on after its time limit.")),
    follow_up_due=(bool, Field(description="A follow-up visit is due today or overdue.")),
    audit_page=_AUDIT_PAGE,
)
Shift = _model(
    "Shift",
    "A site's dashboard for one shift.",
    _SITES["shifts"],
    late_batches=(int, Field(description="Batches sealed more than 30 minutes ago and not dispatched.")),
    minutes_since_last_seal=(int | None, None),
)
Person = _model("PersonOnSite", "A worker or volunteer checked in at the site.", _SITES["shift_people"])
Batch = _model("SampleBatch", "A batch of sample tubes.", _SITES["shift_batches"], late=(bool, ...))
Supply = _model("Supply", "A supply item at the site.", _SITES["shift_supplies"])
ShiftDetail = _model(
    "ShiftDetail",
    "One shift's dashboard with the people on site, the batches and the supplies.",
    _SITES["shifts"],
    late_batches=(int, ...),
    minutes_since_last_seal=(int | None, None),
    people=(list[Person], ...),  # type: ignore[valid-type]
    batches=(list[Batch], ...),  # type: ignore[valid-type]
    supplies=(list[Supply], ...),  # type: ignore[valid-type]
)
Resident = _model(
    "Resident",
    "A resident of the registry; name, ID number and phone masked (None once erased).",
    _tables(ResidentRegistry)["residents"],
    tags=(list[str], Field(default_factory=list)),
    isolating=(bool, Field(description="In a home isolation period today.")),
    personal_data_erased=(bool, ...),
)
Workload = _model(
    "Workload",
    "A worker's open tasks by step, overdue tasks and today's work.",
    _STATS["workload"],
    overdue=(int, ...),
    tasks_closed_today=(int, ...),
    tasks_submitted_today=(int, ...),
    calls_made_today=(int, ...),
    calls_reached_today=(int, ...),
    day=(date, Field(description="Today in China (UTC+8).")),
)
DailyStatistics = _model("DailyStatistics", "What a community did on one day (China time).", _STATS["daily_stats"])
AuditCase = _model(
    "AuditCase", "A mediation or inspection in the audit trail.", _AUDIT["audit_cases"], audit_page=_AUDIT_PAGE
)
AuditStep = _model("AuditStep", "One step of a case: who did what, in which role, when.", _AUDIT["audit_steps"])


class VulnerablePerGrid(BaseModel):
    """How many vulnerable residents live in a grid cell, in all and per tag."""

    model_config = ConfigDict(extra="forbid")

    sub_district: str
    community: str
    grid: str
    vulnerable: int
    by_tag: dict[str, int]


ITEM_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        *(Task, Inspection, InspectionDetail, Dispute, Shift, ShiftDetail, Resident, Workload),
        *(DailyStatistics, AuditCase, AuditStep, VulnerablePerGrid),
    )
}
"""The response models, by name (the tests check them against what the queries return)."""

TaskPage, InspectionPage, DisputePage, ShiftPage = map(_page_model, (Task, Inspection, Dispute, Shift))
ResidentPage, WorkloadPage, DailyStatisticsPage = map(_page_model, (Resident, Workload, DailyStatistics))
AuditCasePage, AuditStepPage = map(_page_model, (AuditCase, AuditStep))


# -- parameters shared by the routes ---------------------------------------------------------------------


def store_of(request: Request) -> ViewStore:
    """Return the view store of the service (a FastAPI dependency)."""
    store: ViewStore = request.app.state.service.store
    return store


StoreDep = Annotated[ViewStore, Depends(store_of)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to pass over (for the next pages).")]
SubDistrict = Annotated[str | None, Query(description="Only this sub-district (街道), e.g. 江南.")]
Community = Annotated[str | None, Query(description="Only this community (社区), e.g. 飞凤.")]
Grid = Annotated[str | None, Query(description="Only this grid cell, e.g. 江南/飞凤/03.")]
Worker = Annotated[str | None, Query(description="Only this worker's (the assignee's worker id).")]
_NUMBER = re.compile(r"\s*[+-]?\d+(\.\d*)?\s*")


def _not_a_number(value: object) -> object:
    """Refuse a bare number as a time or a day (pydantic would take it as seconds since 1970)."""
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError("give an ISO 8601 date (2026-11-02) or time with its zone (2026-11-02T09:00+08:00)")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-02T09:00+08:00")
    return value


Moment = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_aware)]
"""A time with its zone, ISO 8601."""
Day = Annotated[date, BeforeValidator(_not_a_number)]
"""A day, ISO 8601."""
At = Annotated[
    Moment | None,
    Query(description="Compute what depends on the time (overdue, limits, late) as of this moment (default: now)."),
]

router = APIRouter(
    responses={422: {"description": "A filter or page parameter is invalid."}},
)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not in this view."}}


def _now(at: datetime | None) -> datetime:
    return datetime.now(UTC) if at is None else at


def _values(chosen: Sequence[E] | None) -> list[str] | None:
    return None if not chosen else [member.value for member in chosen]


def _page(read: Callable[[], Page]) -> dict[str, Any]:
    try:
        return read().as_dict()
    except QueryError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e


def _found(item: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such {what} in the view")
    return item


# -- the task board ------------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    dependencies=[Depends(requires(Right.TASK_READ))],
    tags=["tasks"],
    summary="The task board",
    response_model=TaskPage,
)
def tasks(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    grid: Grid = None,
    worker: Worker = None,
    task_status: Annotated[list[TaskStatus] | None, Query(alias="status", description="Any of these statuses.")] = None,
    kind: Annotated[list[TaskKind] | None, Query(description="Any of these kinds.")] = None,
    priority: Annotated[list[Priority] | None, Query(description="Any of these priorities.")] = None,
    open_only: Annotated[bool, Query(alias="open", description="Neither closed nor cancelled.")] = False,
    overdue: Annotated[bool, Query(description="Due before now, still open.")] = False,
    waiting_verification: Annotated[bool, Query(description="Submitted, not yet verified (待核查).")] = False,
    escalated: Annotated[bool, Query(description="Escalated at least once (督办).")] = False,
    at: At = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Tasks matching the filters, soonest deadline first (no deadline last)."""
    now = _now(at)
    return _page(
        lambda: queries.tasks(
            store,
            now=now,
            sub_district=sub_district,
            community=community,
            grid=grid,
            worker=worker,
            status=_values(task_status),
            kind=_values(kind),
            priority=_values(priority),
            open_only=open_only,
            overdue_only=overdue,
            waiting_verification=waiting_verification,
            escalated_only=escalated,
            limit=limit,
            offset=offset,
        )
    )


@router.get(
    "/tasks/{task_id}",
    dependencies=[Depends(requires(Right.TASK_READ))],
    tags=["tasks"],
    summary="One task",
    response_model=Task,
    responses=_NOT_FOUND,
)
def task(*, task_id: str, store: StoreDep, at: At = None) -> dict[str, Any]:
    """One task of the board."""
    return _found(queries.task(store, task_id, now=_now(at)), "task")


@router.get(
    "/inspections",
    dependencies=[Depends(requires(Right.TASK_READ))],
    tags=["inspections"],
    summary="Inspections and their findings",
    response_model=InspectionPage,
)
def inspections(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    grid: Grid = None,
    worker: Worker = None,
    task_status: Annotated[list[TaskStatus] | None, Query(alias="status")] = None,
    open_findings: Annotated[bool, Query(description="With hazards not yet rectified or reported.")] = False,
    deadline_passed: Annotated[bool, Query(description="A rectification deadline passed (整改逾期).")] = False,
    at: At = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Inspections with their counts of findings, newest first."""
    now = _now(at)
    answer = _page(
        lambda: queries.inspections(
            store,
            now=now,
            sub_district=sub_district,
            community=community,
            grid=grid,
            worker=worker,
            status=_values(task_status),
            open_findings_only=open_findings,
            deadline_passed_only=deadline_passed,
            limit=limit,
            offset=offset,
        )
    )
    return _linked(answer, "task_id")


@router.get(
    "/inspections/{task_id}",
    dependencies=[Depends(requires(Right.TASK_READ))],
    tags=["inspections"],
    summary="One inspection with its findings",
    response_model=InspectionDetail,
    responses=_NOT_FOUND,
)
def inspection(*, task_id: str, store: StoreDep, at: At = None) -> dict[str, Any]:
    """One inspection, its checklist and its findings."""
    return _link_one(_found(queries.inspection(store, task_id, now=_now(at)), "inspection"), "task_id")


# -- the mediation register -------------------------------------------------------------------------------


@router.get(
    "/disputes",
    dependencies=[Depends(requires(Right.DISPUTE_READ))],
    tags=["mediation"],
    summary="The mediation register (台账)",
    response_model=DisputePage,
)
def disputes(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    grid: Grid = None,
    mediator: Annotated[str | None, Query(description="Only this mediator's cases.")] = None,
    dispute_status: Annotated[list[DisputeStatus] | None, Query(alias="status")] = None,
    category: Annotated[list[DisputeCategory] | None, Query()] = None,
    source: Annotated[list[DisputeSource] | None, Query()] = None,
    open_only: Annotated[bool, Query(alias="open", description="Neither declined nor closed.")] = False,
    past_limit: Annotated[bool, Query(description="Mediation going on past its time limit.")] = False,
    follow_up_due: Annotated[bool, Query(description="A follow-up visit is due (回访).")] = False,
    received_from: Annotated[Day | None, Query(description="Received on or after this date.")] = None,
    received_to: Annotated[Day | None, Query(description="Received on or before this date.")] = None,
    at: At = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cases in order of receipt, with their time limits as of now."""
    now = _now(at)
    answer = _page(
        lambda: queries.disputes(
            store,
            now=now,
            sub_district=sub_district,
            community=community,
            grid=grid,
            mediator=mediator,
            status=_values(dispute_status),
            category=_values(category),
            source=_values(source),
            open_only=open_only,
            past_limit_only=past_limit,
            follow_up_due_only=follow_up_due,
            received_from=received_from,
            received_to=received_to,
            limit=limit,
            offset=offset,
        )
    )
    return _linked(answer, "dispute_id")


@router.get(
    "/disputes/{dispute_id}",
    dependencies=[Depends(requires(Right.DISPUTE_READ))],
    tags=["mediation"],
    summary="One case",
    response_model=Dispute,
    responses=_NOT_FOUND,
)
def dispute(*, dispute_id: str, store: StoreDep, at: At = None) -> dict[str, Any]:
    """One case of the register."""
    return _link_one(_found(queries.dispute(store, dispute_id, now=_now(at)), "dispute"), "dispute_id")


# -- site dashboards -------------------------------------------------------------------------------------------


@router.get(
    "/shifts",
    dependencies=[Depends(requires(Right.SITE_READ))],
    tags=["sites"],
    summary="Site dashboards, one per shift",
    response_model=ShiftPage,
)
def shifts(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    grid: Grid = None,
    site_kind: Annotated[list[SiteKind] | None, Query()] = None,
    shift_status: Annotated[list[ShiftStatus] | None, Query(alias="status")] = None,
    open_only: Annotated[bool, Query(alias="open", description="Sites open now.")] = False,
    late: Annotated[bool, Query(description="With a batch sealed over 30 minutes ago, not dispatched.")] = False,
    low_supplies: Annotated[bool, Query(description="With supplies below their threshold.")] = False,
    at: At = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Shifts, latest planned start first."""
    now = _now(at)
    return _page(
        lambda: queries.shifts(
            store,
            now=now,
            sub_district=sub_district,
            community=community,
            grid=grid,
            site_kind=_values(site_kind),
            status=_values(shift_status),
            open_only=open_only,
            late_only=late,
            low_supplies_only=low_supplies,
            limit=limit,
            offset=offset,
        )
    )


@router.get(
    "/shifts/{shift_id}",
    dependencies=[Depends(requires(Right.SITE_READ))],
    tags=["sites"],
    summary="One site's dashboard: people, batches, supplies",
    response_model=ShiftDetail,
    responses=_NOT_FOUND,
)
def shift(*, shift_id: str, store: StoreDep, at: At = None) -> dict[str, Any]:
    """One shift in detail."""
    return _found(queries.shift(store, shift_id, now=_now(at)), "shift")


# -- the resident registry -----------------------------------------------------------------------------------


@router.get(
    "/residents",
    dependencies=[Depends(requires(Right.RESIDENT_READ))],
    tags=["residents"],
    summary="The resident registry, masked",
    response_model=ResidentPage,
)
def residents(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    grid: Grid = None,
    resident_status: Annotated[list[ResidentStatus] | None, Query(alias="status")] = None,
    tag: Annotated[ResidentTag | None, Query(description="With this care tag.")] = None,
    vulnerable: Annotated[bool, Query(description="With any vulnerable tag.")] = False,
    isolating: Annotated[bool, Query(description="In home isolation today.")] = False,
    at: At = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Residents by grid cell; names, ID numbers and phones masked."""
    now = _now(at)
    return _page(
        lambda: queries.residents(
            store,
            now=now,
            sub_district=sub_district,
            community=community,
            grid=grid,
            status=_values(resident_status),
            tag=tag.value if tag is not None else None,
            vulnerable_only=vulnerable,
            isolating_only=isolating,
            limit=limit,
            offset=offset,
        )
    )


@router.get(
    "/residents/vulnerable-per-grid",
    dependencies=[Depends(requires(Right.RESIDENT_READ))],
    tags=["residents"],
    summary="Vulnerable residents per grid cell",
    response_model=list[VulnerablePerGrid],
)
def vulnerable_per_grid(*, store: StoreDep, sub_district: SubDistrict = None, community: Community = None) -> Any:  # noqa: ANN401
    """Per grid cell, how many vulnerable residents live there, in all and per tag."""
    return queries.vulnerable_per_grid(store, sub_district=sub_district, community=community)


@router.get(
    "/residents/{resident_id}",
    dependencies=[Depends(requires(Right.RESIDENT_READ))],
    tags=["residents"],
    summary="One resident, masked",
    response_model=Resident,
    responses=_NOT_FOUND,
)
def resident(*, resident_id: str, store: StoreDep, at: At = None) -> dict[str, Any]:
    """One resident of the registry."""
    return _found(queries.resident(store, resident_id, now=_now(at)), "resident")


# -- workload and statistics -------------------------------------------------------------------------------------


@router.get(
    "/workload",
    dependencies=[Depends(requires(Right.TASK_READ))],
    tags=["statistics"],
    summary="Each worker's workload",
    response_model=WorkloadPage,
)
def workload(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    worker: Worker = None,
    at: At = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Open tasks by step, overdue tasks, and today's closed tasks and calls, per worker."""
    now = _now(at)
    return _page(
        lambda: queries.workload(
            store, now=now, sub_district=sub_district, community=community, worker=worker, limit=limit, offset=offset
        )
    )


@router.get(
    "/statistics/daily",
    dependencies=[Depends(requires(Right.TASK_READ))],
    tags=["statistics"],
    summary="Daily statistics per community",
    response_model=DailyStatisticsPage,
)
def daily_statistics(
    *,
    store: StoreDep,
    sub_district: SubDistrict = None,
    community: Community = None,
    date_from: Annotated[Day | None, Query(alias="from", description="From this day (China time).")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="To this day, inclusive.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Return what each community did each day, latest day first."""
    return _page(
        lambda: queries.daily_statistics(
            store,
            sub_district=sub_district,
            community=community,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
        )
    )


# -- the audit trail ---------------------------------------------------------------------------------------------


@router.get(
    "/audit/cases",
    dependencies=[Depends(requires(Right.AUDIT_READ))],
    tags=["audit"],
    summary="Mediations and inspections in the audit trail",
    response_model=AuditCasePage,
)
def audit_cases(
    *,
    store: StoreDep,
    case_kind: Annotated[
        str | None, Query(pattern="^(dispute|inspection)$", description="dispute or inspection.")
    ] = None,
    sub_district: SubDistrict = None,
    community: Community = None,
    grid: Grid = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cases, latest step first."""
    answer = _page(
        lambda: queries.audit_cases(
            store,
            case_kind=case_kind,
            sub_district=sub_district,
            community=community,
            grid=grid,
            limit=limit,
            offset=offset,
        )
    )
    return _linked(answer, "case_id")


@router.get(
    "/audit/cases/{case_id}/trail",
    dependencies=[Depends(requires(Right.AUDIT_READ))],
    tags=["audit"],
    summary="Every step of one dispute or inspection",
    response_model=AuditStepPage,
)
def audit_trail(
    *,
    case_id: str,
    store: StoreDep,
    as_of: Annotated[Moment | None, Query(description="Only the steps recorded by then: the case as it stood.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Return the steps of one case in order: who did what, in which role, when, with each event's link hash."""
    return _page(lambda: queries.audit_trail(store, case_id, as_of=as_of, limit=limit, offset=offset))
