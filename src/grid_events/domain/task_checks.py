"""What a task's commands check before they record anything: the steps of the closed loop, and deadlines.

In which statuses a task is open or still running, the order of the loop's
steps, and what to tell someone who tries a step too early or too late
(:func:`status_hint`); a deadline must be after the time of recording
(:func:`check_due`). :class:`~grid_events.domain.task.Task` raises with these.
"""

from __future__ import annotations

from datetime import datetime

from grid_events.domain.checks import check_aware
from grid_events.domain.task_values import TaskStatus
from grid_events.exceptions import ValidationError

__all__ = [
    "DONE",
    "LOOP",
    "NEXT_STEP",
    "OPEN_STATUSES",
    "RUNNING_STATUSES",
    "assigned_hint",
    "check_due",
    "reassign_hint",
    "status_hint",
]

OPEN_STATUSES = frozenset(TaskStatus) - {TaskStatus.CLOSED, TaskStatus.CANCELLED}
"""Statuses of a task neither closed nor cancelled."""

RUNNING_STATUSES = frozenset({TaskStatus.CREATED, TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS})
"""Statuses in which the work is still to be done (a task past its deadline in one is overdue)."""

LOOP = (
    TaskStatus.CREATED,
    TaskStatus.ASSIGNED,
    TaskStatus.ACCEPTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.SUBMITTED,
    TaskStatus.VERIFIED,
    TaskStatus.CLOSED,
)
"""The steps of the closed loop, in order."""

NEXT_STEP = {
    TaskStatus.CREATED: "assigned by a supervisor",
    TaskStatus.ASSIGNED: "accepted by its assignee",
    TaskStatus.ACCEPTED: "started by its assignee",
    TaskStatus.IN_PROGRESS: "submitted by its assignee",
    TaskStatus.SUBMITTED: "verified by a supervisor",
    TaskStatus.VERIFIED: "closed by a supervisor",
}
"""What must happen to a task in each status before it can go on."""

DONE = {
    TaskStatus.ASSIGNED: "assigned",
    TaskStatus.ACCEPTED: "accepted",
    TaskStatus.IN_PROGRESS: "started",
    TaskStatus.SUBMITTED: "submitted",
    TaskStatus.VERIFIED: "verified",
}
"""The step that brought a task to each status."""


def status_hint(status: TaskStatus, what: str, allowed: tuple[TaskStatus, ...], *, cancel_reason: str) -> str:
    """Say why a task in *status* cannot do what needs one of *allowed*; *what* ends it ("it can be accepted")."""
    if status is TaskStatus.CANCELLED:
        return f"it was cancelled ({cancel_reason})"
    if status is TaskStatus.CLOSED:
        return "it is closed; a supervisor may reopen it"
    rank = LOOP.index(status)
    if rank < min(LOOP.index(step) for step in allowed if step in LOOP):
        return f"it must be {NEXT_STEP[status]} before {what}"
    return f"it has already been {DONE[status]}"


def assigned_hint(status: TaskStatus, assignee: str | None) -> str:
    """Say why a task in *status* given to *assignee* cannot be assigned, or nothing."""
    if status in OPEN_STATUSES and assignee is not None:
        return f"it is assigned to {assignee}; reassign it instead"
    return ""


def reassign_hint(status: TaskStatus) -> str:
    """Say why a task in *status* cannot be reassigned, or nothing."""
    if status is TaskStatus.CREATED:
        return "nobody has it yet; assign it instead"
    if status is TaskStatus.SUBMITTED:
        return "it is waiting for verification; send it back first"
    return ""


def check_due(field: str, due_at: datetime | None, at: datetime | None, *, optional: bool = False) -> None:
    """Raise :class:`ValidationError` unless *due_at* is an aware datetime after *at* (or absent, if *optional*)."""
    if due_at is None and optional:
        return
    check_aware(field, due_at)
    assert due_at is not None  # noqa: S101 (checked just above)
    if at is not None and due_at <= at:
        raise ValidationError(field, f"{due_at.isoformat()} is not after the time of recording ({at.isoformat()})")
