"""The task board (one row per task) and the inspection list (one row per inspection, one per finding).

The board mirrors each task's closed loop: status, assignee, the time of each
step, the deadline, escalation (督办), reopenings, sent-backs and the survey
calls made. Whether a task is overdue depends on *now*, so the queries work it
out (``due_at`` passed while not closed or cancelled). Inspections also appear
in their own list, with their checklist and findings: open, rectified (a
re-inspection passed), reported to the authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from grid_events import CallOutcome, EscalationLevel, Severity, Task, TaskStatus
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.projections._common import (
    BOOL,
    DATE,
    GRID_COLUMNS,
    INT,
    JSON,
    TEXT,
    TS,
    col,
    grid_columns,
)
from grid_service.views.store import Table

__all__ = ["TaskBoard", "finding_status"]

TASKS = Table(
    "tasks",
    (
        col("task_id", TEXT),
        col("version", INT),
        col("kind", TEXT),
        col("title", TEXT),
        col("priority", TEXT),
        *GRID_COLUMNS,
        col("place_name", TEXT),
        col("resident_id", TEXT),
        col("is_inspection", BOOL, default=False),
        col("status", TEXT),
        col("assignee", TEXT),
        col("created_by", TEXT),
        col("created_at", TS),
        col("assigned_at", TS),
        col("accepted_at", TS),
        col("started_at", TS),
        col("submitted_at", TS),
        col("verified_at", TS),
        col("verified_by", TEXT),
        col("closed_at", TS),
        col("cancelled_at", TS),
        col("due_at", TS),
        col("waiting_verification", BOOL, default=False),
        col("escalation_level", TEXT),
        col("escalation_count", INT, default=0),
        col("escalated_at", TS),
        col("reopen_count", INT, default=0),
        col("sent_back_count", INT, default=0),
        col("calls_made", INT, default=0),
        col("calls_reached", INT, default=0),
        col("calls_not_reached", INT, default=0),
        col("calls_verified", INT, default=0),
        col("rating", INT),
        col("updated_at", TS),
    ),
    key=("task_id",),
    indexes=(("community", "status"), ("assignee", "status"), ("status", "due_at"), ("grid", "status")),
    prefetch=True,
)

INSPECTIONS = Table(
    "inspections",
    (
        col("task_id", TEXT),
        col("version", INT),
        col("kind", TEXT),
        col("title", TEXT),
        *GRID_COLUMNS,
        col("place_name", TEXT),
        col("place_address", TEXT),
        col("checklist_name", TEXT),
        col("status", TEXT),
        col("assignee", TEXT),
        col("due_at", TS),
        col("created_at", TS),
        col("submitted_at", TS),
        col("closed_at", TS),
        col("items", JSON),
        col("items_total", INT, default=0),
        col("items_checked", INT, default=0),
        col("items_failed", INT, default=0),
        col("findings_total", INT, default=0),
        col("findings_open", INT, default=0),
        col("findings_rectified", INT, default=0),
        col("findings_reported", INT, default=0),
        col("findings_severe", INT, default=0),
        col("next_deadline", DATE),
        col("updated_at", TS),
    ),
    key=("task_id",),
    indexes=(("community", "status"), ("grid",), ("next_deadline",)),
    prefetch=True,
)

FINDINGS = Table(
    "inspection_findings",
    (
        col("task_id", TEXT),
        col("finding_id", TEXT),
        col("item_code", TEXT),
        col("description", TEXT),
        col("severity", TEXT),
        col("location", TEXT),
        col("found_on", DATE),
        col("evidence_count", INT, default=0),
        col("status", TEXT),
        col("order_number", INT, default=0),
        col("notice_served_on", DATE),
        col("deadline", DATE),
        col("owner_report_order", INT),
        col("owner_reported_on", DATE),
        col("reinspection_order", INT),
        col("reinspected_on", DATE),
        col("reinspection_passed", BOOL),
        col("rectified", BOOL, default=False),
        col("rectified_on", DATE),
        col("reported", BOOL, default=False),
        col("authority", TEXT),
        col("reported_on", DATE),
        col("updated_at", TS),
    ),
    key=("task_id", "finding_id"),
    indexes=(("status",), ("deadline",)),
    prefetch=True,
)

_ESCALATION_ORDER = tuple(level.value for level in EscalationLevel)
_MIRRORED = ("status", "assignee", "due_at", "submitted_at", "closed_at", "version", "updated_at")
_CALL_COLUMN = {
    CallOutcome.REACHED: "calls_reached",
    CallOutcome.NOT_REACHED: "calls_not_reached",
    CallOutcome.VERIFIED: "calls_verified",
}


def finding_status(row: Mapping[str, Any]) -> str:
    """Return where a finding stands (a ``FindingStatus`` value), from its row, as the domain derives it."""
    if row["rectified"]:
        return "rectified"
    if row["reported"]:
        return "reported"
    order = row["order_number"]
    if not order:
        return "open"
    if row["reinspection_order"] == order:
        return "reinspection_failed"
    if row["owner_report_order"] == order:
        return "owner_reported"
    return "rectifying"


def _pending_deadline(row: Mapping[str, Any]) -> date | None:
    """Return the deadline of a finding's order still awaiting its re-inspection, or None."""
    if row["rectified"] or row["reported"] or not row["order_number"]:
        return None
    if row["reinspection_order"] == row["order_number"]:
        return None
    deadline: date | None = row["deadline"]
    return deadline


class TaskBoard(Projection):
    """Tasks per community, grid and worker; inspections with their findings."""

    name = "task_board"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (TASKS, INSPECTIONS, FINDINGS)

    # -- the closed loop ------------------------------------------------------------------------

    @handles(Task.Created)
    def _on_created(self, event: Task.Created, ctx: ProjectionContext) -> None:
        task_id = ctx.aggregate_id
        place = event.place
        is_inspection = bool(event.checklist)
        ctx.put(
            "tasks",
            {
                "task_id": task_id,
                "version": event.originator_version,
                "kind": event.kind.value,
                "title": event.title,
                "priority": event.priority.value,
                **grid_columns(event.grid),
                "place_name": None if place is None else place.name,
                "resident_id": None if event.resident_id is None else str(event.resident_id),
                "is_inspection": is_inspection,
                "status": TaskStatus.CREATED.value,
                "created_by": event.actor.worker_id,
                "created_at": event.timestamp,
                "due_at": event.due_at,
                "updated_at": event.timestamp,
            },
        )
        if is_inspection:
            ctx.put(
                "inspections",
                {
                    "task_id": task_id,
                    "version": event.originator_version,
                    "kind": event.kind.value,
                    "title": event.title,
                    **grid_columns(event.grid),
                    "place_name": None if place is None else place.name,
                    "place_address": None if place is None else place.address,
                    "checklist_name": event.checklist_name,
                    "status": TaskStatus.CREATED.value,
                    "due_at": event.due_at,
                    "created_at": event.timestamp,
                    "items": {item.code: None for item in event.checklist},
                    "items_total": len(event.checklist),
                    "updated_at": event.timestamp,
                },
            )

    @handles(Task.Assigned)
    def _on_assigned(self, event: Task.Assigned, ctx: ProjectionContext) -> None:
        changes: dict[str, Any] = {"status": "assigned", "assignee": event.assignee, "assigned_at": event.timestamp}
        if event.due_at is not None:
            changes["due_at"] = event.due_at
        self._change(event, ctx, changes)

    @handles(Task.Reassigned)
    def _on_reassigned(self, event: Task.Reassigned, ctx: ProjectionContext) -> None:
        changes: dict[str, Any] = {
            "status": "assigned",
            "assignee": event.assignee,
            "assigned_at": event.timestamp,
            "accepted_at": None,
            "started_at": None,
        }
        if event.due_at is not None:
            changes["due_at"] = event.due_at
        self._change(event, ctx, changes)

    @handles(Task.Rescheduled)
    def _on_rescheduled(self, event: Task.Rescheduled, ctx: ProjectionContext) -> None:
        self._change(event, ctx, {"due_at": event.due_at})

    @handles(Task.Accepted)
    def _on_accepted(self, event: Task.Accepted, ctx: ProjectionContext) -> None:
        self._change(event, ctx, {"status": "accepted", "accepted_at": event.timestamp})

    @handles(Task.Started)
    def _on_started(self, event: Task.Started, ctx: ProjectionContext) -> None:
        self._change(event, ctx, {"status": "in_progress", "started_at": event.timestamp})

    @handles(Task.ProgressRecorded, Task.Evaluated)
    def _on_noted(self, event: Task.ProgressRecorded | Task.Evaluated, ctx: ProjectionContext) -> None:
        changes: dict[str, Any] = {}
        if isinstance(event, Task.Evaluated):
            changes["rating"] = event.rating
        self._change(event, ctx, changes)

    @handles(Task.CallRecorded)
    def _on_call_recorded(self, event: Task.CallRecorded, ctx: ProjectionContext) -> None:
        row = self._task(ctx)
        column = _CALL_COLUMN[event.outcome]
        self._change(event, ctx, {"calls_made": row["calls_made"] + 1, column: row[column] + 1})

    @handles(Task.Submitted)
    def _on_submitted(self, event: Task.Submitted, ctx: ProjectionContext) -> None:
        self._change(event, ctx, {"status": "submitted", "submitted_at": event.timestamp})

    @handles(Task.Verified)
    def _on_verified(self, event: Task.Verified, ctx: ProjectionContext) -> None:
        changes = {"status": "verified", "verified_at": event.timestamp, "verified_by": event.actor.worker_id}
        self._change(event, ctx, changes)

    @handles(Task.SentBack)
    def _on_sent_back(self, event: Task.SentBack, ctx: ProjectionContext) -> None:
        row = self._task(ctx)
        changes = {"status": "in_progress", "submitted_at": None, "sent_back_count": row["sent_back_count"] + 1}
        self._change(event, ctx, changes)

    @handles(Task.Closed)
    def _on_closed(self, event: Task.Closed, ctx: ProjectionContext) -> None:
        self._change(event, ctx, {"status": "closed", "closed_at": event.timestamp})

    @handles(Task.Escalated)
    def _on_escalated(self, event: Task.Escalated, ctx: ProjectionContext) -> None:
        row = self._task(ctx)
        level = row["escalation_level"]
        if level is None or _ESCALATION_ORDER.index(event.level.value) > _ESCALATION_ORDER.index(level):
            level = event.level.value
        changes = {
            "escalation_level": level,
            "escalation_count": row["escalation_count"] + 1,
            "escalated_at": event.timestamp,
        }
        self._change(event, ctx, changes)

    @handles(Task.Cancelled)
    def _on_cancelled(self, event: Task.Cancelled, ctx: ProjectionContext) -> None:
        self._change(event, ctx, {"status": "cancelled", "cancelled_at": event.timestamp})

    @handles(Task.Reopened)
    def _on_reopened(self, event: Task.Reopened, ctx: ProjectionContext) -> None:
        row = self._task(ctx)
        changes: dict[str, Any] = {
            "status": "assigned",
            "reopen_count": row["reopen_count"] + 1,
            "assigned_at": event.timestamp,
            "accepted_at": None,
            "started_at": None,
            "submitted_at": None,
            "verified_at": None,
            "verified_by": None,
            "closed_at": None,
            "rating": None,
        }
        if event.due_at is not None:
            changes["due_at"] = event.due_at
        self._change(event, ctx, changes)

    # -- inspections --------------------------------------------------------------------------------

    @handles(Task.ItemChecked)
    def _on_item_checked(self, event: Task.ItemChecked, ctx: ProjectionContext) -> None:
        task_id = ctx.aggregate_id
        inspection = ctx.get("inspections", task_id)
        if inspection is None:
            raise LookupError(f"no inspection {task_id}")
        items = {**inspection["items"], event.code: event.result.value}
        ctx.update(
            "inspections",
            task_id,
            items=items,
            items_checked=sum(result is not None for result in items.values()),
            items_failed=sum(result == "fail" for result in items.values()),
        )
        self._change(event, ctx, {})

    @handles(Task.FindingRecorded)
    def _on_finding_recorded(self, event: Task.FindingRecorded, ctx: ProjectionContext) -> None:
        finding = event.finding
        row = {
            "task_id": ctx.aggregate_id,
            "finding_id": finding.finding_id,
            "item_code": finding.item_code,
            "description": finding.description,
            "severity": finding.severity.value,
            "location": finding.location,
            "found_on": finding.found_on,
            "evidence_count": len(finding.evidence),
            "updated_at": event.timestamp,
        }
        ctx.put("inspection_findings", {**row, "status": finding_status({**FINDINGS_DEFAULTS, **row})})
        self._findings_changed(event, ctx)

    @handles(Task.RectificationOrdered)
    def _on_rectification_ordered(self, event: Task.RectificationOrdered, ctx: ProjectionContext) -> None:
        self._finding(
            event,
            ctx,
            event.finding_id,
            order_number=event.order_number,
            notice_served_on=event.notice_served_on,
            deadline=event.deadline,
        )
        self._findings_changed(event, ctx)

    @handles(Task.OwnerReported)
    def _on_owner_reported(self, event: Task.OwnerReported, ctx: ProjectionContext) -> None:
        self._finding(
            event, ctx, event.finding_id, owner_report_order=event.order_number, owner_reported_on=event.reported_on
        )
        self._findings_changed(event, ctx)

    @handles(Task.Reinspected)
    def _on_reinspected(self, event: Task.Reinspected, ctx: ProjectionContext) -> None:
        changes: dict[str, Any] = {
            "reinspection_order": event.order_number,
            "reinspected_on": event.inspected_on,
            "reinspection_passed": event.passed,
        }
        if event.passed:
            changes.update(rectified=True, rectified_on=event.inspected_on)
        self._finding(event, ctx, event.finding_id, **changes)
        self._findings_changed(event, ctx)

    @handles(Task.ReportedToAuthority)
    def _on_reported_to_authority(self, event: Task.ReportedToAuthority, ctx: ProjectionContext) -> None:
        for finding_id in event.finding_ids:
            self._finding(
                event, ctx, finding_id, reported=True, authority=event.authority, reported_on=event.reported_on
            )
        self._findings_changed(event, ctx)

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _task(ctx: ProjectionContext) -> Mapping[str, Any]:
        task_id = ctx.aggregate_id
        row = ctx.get("tasks", task_id)
        if row is None:
            raise LookupError(f"no task {task_id} on the board (its Created event was not projected)")
        return row

    def _change(self, event: Any, ctx: ProjectionContext, changes: dict[str, Any]) -> None:  # noqa: ANN401
        """Apply *changes* to the task's row (and its inspection's), with the event's version and time."""
        task_id = ctx.aggregate_id
        changes["version"] = event.originator_version
        changes["updated_at"] = event.timestamp
        if "status" in changes:
            changes["waiting_verification"] = changes["status"] == TaskStatus.SUBMITTED.value
        row = ctx.update("tasks", task_id, changes)
        if row["is_inspection"]:
            mirrored = {name: changes[name] for name in _MIRRORED if name in changes}
            ctx.update("inspections", task_id, mirrored)

    @staticmethod
    def _finding(event: Any, ctx: ProjectionContext, finding_id: str, **changes: Any) -> None:  # noqa: ANN401
        key = (ctx.aggregate_id, finding_id)
        current = ctx.get("inspection_findings", key)
        if current is None:
            raise LookupError(f"inspection {key[0]} has no finding {finding_id}")
        updated = {**current, **changes, "updated_at": event.timestamp}
        updated["status"] = finding_status(updated)
        ctx.update("inspection_findings", key, updated)

    def _findings_changed(self, event: Any, ctx: ProjectionContext) -> None:  # noqa: ANN401
        task_id = ctx.aggregate_id
        findings = ctx.select("inspection_findings", task_id)
        deadlines = [deadline for row in findings if (deadline := _pending_deadline(row)) is not None]
        ctx.update(
            "inspections",
            task_id,
            findings_total=len(findings),
            findings_open=sum(not (row["rectified"] or row["reported"]) for row in findings),
            findings_rectified=sum(bool(row["rectified"]) for row in findings),
            findings_reported=sum(bool(row["reported"]) for row in findings),
            findings_severe=sum(row["severity"] == Severity.SEVERE.value for row in findings),
            next_deadline=min(deadlines, default=None),
        )
        self._change(event, ctx, {})


FINDINGS_DEFAULTS = {column.name: column.default for column in FINDINGS.columns}
