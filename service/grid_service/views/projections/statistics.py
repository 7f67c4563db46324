"""Each worker's workload, and daily statistics per community (China dates).

Workload: per community and worker, the open tasks assigned to them by step
(assigned, in progress, submitted and waiting for verification, verified and
waiting to be closed); per day, the tasks they closed and the calls they made.

Daily statistics, per community and China-local date (UTC+8): calls made;
residents notified (calls that reached the person, or verified their
information); hazards found (on the date found); hazards rectified (a
re-inspection passed, on the date re-inspected); disputes resolved (the
agreement took effect, on its effective date — once per dispute; a dispute is
closed "after agreement" only once that happened); people sampled (tallied);
batches sealed (on the date sealed); tasks created and closed. A day counts
an event on the domain date it carries (found, re-inspected, effective,
sealed), or else on the China date it was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from grid_events import CallOutcome, Dispute, SiteShift, Task, TaskStatus
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.projections._common import (
    BOOL,
    DATE,
    INT,
    TEXT,
    TS,
    bump,
    china_date,
    col,
)
from grid_service.views.store import Table

__all__ = ["STEP_OF_STATUS", "Statistics"]

STEP_OF_STATUS: Mapping[str, str] = {
    TaskStatus.ASSIGNED.value: "assigned",
    TaskStatus.ACCEPTED.value: "in_progress",
    TaskStatus.IN_PROGRESS.value: "in_progress",
    TaskStatus.SUBMITTED.value: "submitted",
    TaskStatus.VERIFIED.value: "verified",
}
"""Which workload column an open task counts in, by its status."""

_COMMUNITY = (col("sub_district", TEXT), col("community", TEXT))

STAT_TASKS = Table(
    "stat_tasks",
    (
        col("task_id", TEXT),
        *_COMMUNITY,
        col("kind", TEXT),
        col("assignee", TEXT),
        col("status", TEXT),
        col("due_at", TS),
    ),
    key=("task_id",),
    indexes=(("assignee", "status"),),
    prefetch=True,
)

STAT_DISPUTES = Table(
    "stat_disputes",
    (col("dispute_id", TEXT), *_COMMUNITY, col("resolved", BOOL, default=False)),
    key=("dispute_id",),
    prefetch=True,
)

STAT_SHIFTS = Table("stat_shifts", (col("shift_id", TEXT), *_COMMUNITY), key=("shift_id",), prefetch=True)

WORKLOAD = Table(
    "workload",
    (
        *_COMMUNITY,
        col("worker_id", TEXT),
        col("open_tasks", INT, default=0),
        col("assigned", INT, default=0),
        col("in_progress", INT, default=0),
        col("submitted", INT, default=0),
        col("verified", INT, default=0),
    ),
    key=("sub_district", "community", "worker_id"),
    indexes=(("worker_id",),),
    counters=True,
)

WORKER_DAILY = Table(
    "worker_daily",
    (
        *_COMMUNITY,
        col("worker_id", TEXT),
        col("day", DATE),
        col("tasks_closed", INT, default=0),
        col("tasks_submitted", INT, default=0),
        col("calls_made", INT, default=0),
        col("calls_reached", INT, default=0),
    ),
    key=("sub_district", "community", "worker_id", "day"),
    indexes=(("day",),),
    counters=True,
)

DAILY = Table(
    "daily_stats",
    (
        *_COMMUNITY,
        col("day", DATE),
        col("calls_made", INT, default=0),
        col("residents_notified", INT, default=0),
        col("hazards_found", INT, default=0),
        col("hazards_rectified", INT, default=0),
        col("disputes_resolved", INT, default=0),
        col("samples_tallied", INT, default=0),
        col("batches_sealed", INT, default=0),
        col("tasks_created", INT, default=0),
        col("tasks_closed", INT, default=0),
    ),
    key=("sub_district", "community", "day"),
    indexes=(("day",),),
    counters=True,
)


class Statistics(Projection):
    """Workload per worker; daily statistics per community."""

    name = "statistics"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (STAT_TASKS, STAT_DISPUTES, STAT_SHIFTS, WORKLOAD, WORKER_DAILY, DAILY)

    # -- tasks ------------------------------------------------------------------------------------

    @handles(Task.Created)
    def _on_task_created(self, event: Task.Created, ctx: ProjectionContext) -> None:
        grid = event.grid
        ctx.put(
            "stat_tasks",
            {
                "task_id": ctx.aggregate_id,
                "sub_district": grid.sub_district,
                "community": grid.community,
                "kind": event.kind.value,
                "status": TaskStatus.CREATED.value,
                "due_at": event.due_at,
            },
        )
        _daily(ctx, grid.sub_district, grid.community, china_date(event.timestamp), tasks_created=1)

    @handles(Task.Assigned, Task.Reassigned, Task.Reopened)
    def _on_task_assigned(self, event: Task.Assigned | Task.Reassigned | Task.Reopened, ctx: ProjectionContext) -> None:
        task = _task(ctx)
        assignee = event.assignee if not isinstance(event, Task.Reopened) else task["assignee"]
        _move(ctx, task, TaskStatus.ASSIGNED.value, assignee, event.due_at)

    @handles(Task.Rescheduled)
    def _on_task_rescheduled(self, event: Task.Rescheduled, ctx: ProjectionContext) -> None:
        task = _task(ctx)
        _move(ctx, task, task["status"], task["assignee"], event.due_at)

    @handles(Task.Accepted, Task.Started, Task.Verified, Task.Cancelled, Task.SentBack)
    def _on_task_stepped(self, event: Any, ctx: ProjectionContext) -> None:  # noqa: ANN401 (one of the events above)
        status = {
            Task.Accepted: TaskStatus.ACCEPTED,
            Task.Started: TaskStatus.IN_PROGRESS,
            Task.Verified: TaskStatus.VERIFIED,
            Task.Cancelled: TaskStatus.CANCELLED,
            Task.SentBack: TaskStatus.IN_PROGRESS,
        }[type(event)]
        task = _task(ctx)
        _move(ctx, task, status.value, task["assignee"], None)

    @handles(Task.Submitted)
    def _on_task_submitted(self, event: Task.Submitted, ctx: ProjectionContext) -> None:
        task = _task(ctx)
        _move(ctx, task, TaskStatus.SUBMITTED.value, task["assignee"], None)
        if task["assignee"] is not None:
            _worker_day(ctx, task, task["assignee"], china_date(event.timestamp), tasks_submitted=1)

    @handles(Task.Closed)
    def _on_task_closed(self, event: Task.Closed, ctx: ProjectionContext) -> None:
        task = _task(ctx)
        _move(ctx, task, TaskStatus.CLOSED.value, task["assignee"], None)
        day = china_date(event.timestamp)
        _daily(ctx, task["sub_district"], task["community"], day, tasks_closed=1)
        if task["assignee"] is not None:
            _worker_day(ctx, task, task["assignee"], day, tasks_closed=1)

    @handles(Task.CallRecorded)
    def _on_call_recorded(self, event: Task.CallRecorded, ctx: ProjectionContext) -> None:
        task = _task(ctx)
        day = china_date(event.timestamp)
        reached = 1 if event.outcome in {CallOutcome.REACHED, CallOutcome.VERIFIED} else 0
        _daily(ctx, task["sub_district"], task["community"], day, calls_made=1, residents_notified=reached)
        _worker_day(ctx, task, event.actor.worker_id, day, calls_made=1, calls_reached=reached)

    @handles(Task.FindingRecorded)
    def _on_finding_recorded(self, event: Task.FindingRecorded, ctx: ProjectionContext) -> None:
        task = _task(ctx)
        _daily(ctx, task["sub_district"], task["community"], event.finding.found_on, hazards_found=1)

    @handles(Task.Reinspected)
    def _on_reinspected(self, event: Task.Reinspected, ctx: ProjectionContext) -> None:
        if event.passed:
            task = _task(ctx)
            _daily(ctx, task["sub_district"], task["community"], event.inspected_on, hazards_rectified=1)

    # -- disputes ----------------------------------------------------------------------------------

    @handles(Dispute.Received)
    def _on_dispute_received(self, event: Dispute.Received, ctx: ProjectionContext) -> None:
        grid = event.grid
        ctx.put(
            "stat_disputes",
            {"dispute_id": ctx.aggregate_id, "sub_district": grid.sub_district, "community": grid.community},
        )

    @handles(Dispute.AgreementTookEffect)
    def _on_agreement_took_effect(self, event: Dispute.AgreementTookEffect, ctx: ProjectionContext) -> None:
        dispute_id = ctx.aggregate_id
        dispute = ctx.get("stat_disputes", dispute_id)
        if dispute is None:
            raise LookupError(f"no dispute {dispute_id} (its Received event was not projected)")
        if not dispute["resolved"]:
            ctx.update("stat_disputes", dispute_id, resolved=True)
            _daily(ctx, dispute["sub_district"], dispute["community"], event.effective_on, disputes_resolved=1)

    # -- sites ----------------------------------------------------------------------------------------

    @handles(SiteShift.Planned)
    def _on_shift_planned(self, event: SiteShift.Planned, ctx: ProjectionContext) -> None:
        grid = event.site.grid
        ctx.put(
            "stat_shifts",
            {"shift_id": ctx.aggregate_id, "sub_district": grid.sub_district, "community": grid.community},
        )

    @handles(SiteShift.PeopleSampled)
    def _on_people_sampled(self, event: SiteShift.PeopleSampled, ctx: ProjectionContext) -> None:
        shift = _shift(ctx)
        _daily(ctx, shift["sub_district"], shift["community"], china_date(event.timestamp), samples_tallied=event.count)

    @handles(SiteShift.BatchSealed)
    def _on_batch_sealed(self, event: SiteShift.BatchSealed, ctx: ProjectionContext) -> None:
        shift = _shift(ctx)
        day = china_date(event.batch.sealed_at)
        _daily(ctx, shift["sub_district"], shift["community"], day, batches_sealed=1)


def _task(ctx: ProjectionContext) -> Mapping[str, Any]:
    task_id = ctx.aggregate_id
    row = ctx.get("stat_tasks", task_id)
    if row is None:
        raise LookupError(f"no task {task_id} (its Created event was not projected)")
    return row


def _shift(ctx: ProjectionContext) -> Mapping[str, Any]:
    shift_id = ctx.aggregate_id
    row = ctx.get("stat_shifts", shift_id)
    if row is None:
        raise LookupError(f"no shift {shift_id} (its Planned event was not projected)")
    return row


def _move(ctx: ProjectionContext, task: Mapping[str, Any], status: str, assignee: str | None, due_at: Any) -> None:  # noqa: ANN401 (a datetime or None)
    """Move a task to *status* with *assignee*, moving it between workload columns."""
    old_step = STEP_OF_STATUS.get(task["status"])
    new_step = STEP_OF_STATUS.get(status)
    old_assignee = task["assignee"]
    if (old_assignee, old_step) != (assignee, new_step):
        if old_assignee is not None and old_step is not None:
            _workload(ctx, task, old_assignee, old_step, -1)
        if assignee is not None and new_step is not None:
            _workload(ctx, task, assignee, new_step, 1)
    changes: dict[str, Any] = {"status": status, "assignee": assignee}
    if due_at is not None:
        changes["due_at"] = due_at
    ctx.update("stat_tasks", task["task_id"], changes)


def _workload(ctx: ProjectionContext, task: Mapping[str, Any], worker_id: str, step: str, delta: int) -> None:
    key = {"sub_district": task["sub_district"], "community": task["community"], "worker_id": worker_id}
    bump(ctx, "workload", key, open_tasks=delta, **{step: delta})


def _worker_day(ctx: ProjectionContext, task: Mapping[str, Any], worker_id: str, day: Any, **deltas: int) -> None:  # noqa: ANN401 (a date)
    key = {"sub_district": task["sub_district"], "community": task["community"], "worker_id": worker_id, "day": day}
    bump(ctx, "worker_daily", key, **deltas)


def _daily(ctx: ProjectionContext, sub_district: str, community: str, day: Any, **deltas: int) -> None:  # noqa: ANN401 (a date)
    bump(ctx, "daily_stats", {"sub_district": sub_district, "community": community, "day": day}, **deltas)
