"""A unit of assigned work, followed around the grid platforms' closed loop.

created → assigned → accepted → in progress → submitted → verified → closed →
evaluated. A supervisor (社区书记 / 副书记) assigns, reassigns, verifies (核查) or
sends back, closes and cancels; only the assignee accepts, starts, records
progress and calls, and submits. The verifier is never the assignee (four
eyes), so no task is closed without someone else having checked the work — the
most common complaint about such systems. A closed task can be reopened on a
resident's complaint or by a supervisor: it goes back to its assignee, with the
verification cleared.

Each step is timed (``assigned_at``, ``accepted_at``, …, ``closed_at``), the
handling deadline is ``due_at``, and a supervisor or the system escalates
(督办) a task that is late. Fire inspections and "one scan, three checks"
visits carry a checklist and findings (:mod:`grid_events.domain.inspection`).

A task holds no personal data: its texts describe the work, and a resident is
linked only by id (:func:`~grid_events.domain.inspection.check_work_text`
refuses ID-card and mobile numbers in them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Self
from uuid import UUID

from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import (
    check_aware,
    check_instance,
    check_int,
    check_text,
    check_tuple_of,
)
from grid_events.domain.inspection import (
    AuthorityReport,
    ChecklistItem,
    ChecklistTemplate,
    Finding,
    Inspection,
    ItemResult,
    OwnerReport,
    RectificationOrder,
    Reinspection,
    Severity,
)
from grid_events.domain.task_checks import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    assigned_hint,
    check_due,
    reassign_hint,
    status_hint,
)
from grid_events.domain.task_values import (
    CREATOR_ROLES,
    ESCALATION_ORDER,
    INSPECTION_KINDS,
    WORKER_ROLES,
    CallOutcome,
    CallTally,
    EscalationLevel,
    Priority,
    ProgressNote,
    ReopenSource,
    TaskKind,
    TaskStatus,
)
from grid_events.domain.task_values import VALUE_TYPES as TASK_VALUE_TYPES
from grid_events.domain.values import Actor, EvidenceRef, GridCell, Place, Role
from grid_events.domain.work_text import check_work_text
from grid_events.exceptions import PermissionDeniedError, RuleViolationError, ValidationError

__all__ = [
    "CREATOR_ROLES",
    "INSPECTION_KINDS",
    "WORKER_ROLES",
    "CallOutcome",
    "CallTally",
    "EscalationLevel",
    "Priority",
    "ProgressNote",
    "ReopenSource",
    "Task",
    "TaskKind",
    "TaskStatus",
]

_MAX_RATING = 5


class Task(GridAggregate):
    """A unit of assigned work in one grid cell."""

    KIND = "task"

    class Created(GridAggregate.Created):
        """Someone created the task. Version 2 added ``priority``."""

        kind: TaskKind
        title: str
        description: str
        grid: GridCell
        priority: Priority
        due_at: datetime | None
        place: Place | None
        resident_id: UUID | None
        checklist_name: str
        checklist: tuple[ChecklistItem, ...]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Tasks created before priorities existed are normal priority."""
            state["priority"] = Priority.NORMAL

    class Assigned(GridAggregate.Event):
        """A supervisor assigned the task."""

        assignee: str
        due_at: datetime | None

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.ASSIGNED
            aggregate.assignee = self.assignee
            aggregate.assigned_at = self.timestamp
            if self.due_at is not None:
                aggregate.due_at = self.due_at

    class Reassigned(GridAggregate.Event):
        """A supervisor gave the task to someone else, who must accept it."""

        assignee: str
        previous_assignee: str
        reason: str
        due_at: datetime | None

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.ASSIGNED
            aggregate.assignee = self.assignee
            aggregate.assigned_at = self.timestamp
            aggregate.accepted_at = None
            aggregate.started_at = None
            if self.due_at is not None:
                aggregate.due_at = self.due_at

    class Rescheduled(GridAggregate.Event):
        """A supervisor moved the deadline (延期, or brought it forward)."""

        due_at: datetime
        reason: str

        def apply(self, aggregate: Task) -> None:
            aggregate.due_at = self.due_at

    class Accepted(GridAggregate.Event):
        """The assignee accepted the task (签收)."""

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.ACCEPTED
            aggregate.accepted_at = self.timestamp

    class Started(GridAggregate.Event):
        """The assignee started the work."""

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.IN_PROGRESS
            aggregate.started_at = self.timestamp

    class ProgressRecorded(GridAggregate.Event):
        """The assignee recorded progress, with evidence."""

        note: str
        evidence: tuple[EvidenceRef, ...]

        def apply(self, aggregate: Task) -> None:
            note = ProgressNote(self.note, self.evidence, self.actor.worker_id, self.timestamp)
            aggregate.progress = (*aggregate.progress, note)

    class CallRecorded(GridAggregate.Event):
        """The assignee made one survey call."""

        outcome: CallOutcome
        note: str

        def apply(self, aggregate: Task) -> None:
            aggregate.calls = aggregate.calls.plus(self.outcome)

    class Submitted(GridAggregate.Event):
        """The assignee reported the work done (反馈), for verification."""

        summary: str
        evidence: tuple[EvidenceRef, ...]

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.SUBMITTED
            aggregate.submitted_at = self.timestamp
            aggregate.summary = self.summary

    class Verified(GridAggregate.Event):
        """A supervisor other than the assignee checked the work was done (核查)."""

        note: str

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.VERIFIED
            aggregate.verified_by = self.actor.worker_id
            aggregate.verified_at = self.timestamp

    class SentBack(GridAggregate.Event):
        """A supervisor found the work not done and sent it back to the assignee."""

        reason: str

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.IN_PROGRESS
            aggregate.submitted_at = None
            aggregate.sent_back_count += 1

    class Closed(GridAggregate.Event):
        """A supervisor closed the verified task (结案)."""

        note: str

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.CLOSED
            aggregate.closed_at = self.timestamp

    class Evaluated(GridAggregate.Event):
        """The closed task was rated (评价), once per closure."""

        rating: int
        comment: str

        def apply(self, aggregate: Task) -> None:
            aggregate.rating = self.rating
            aggregate.rating_comment = self.comment

    class Escalated(GridAggregate.Event):
        """A supervisor or the system escalated the task (督办)."""

        level: EscalationLevel
        reason: str

        def apply(self, aggregate: Task) -> None:
            aggregate.escalation_count += 1
            aggregate.escalated_at = self.timestamp
            current = aggregate.escalation_level
            if current is None or ESCALATION_ORDER.index(self.level) > ESCALATION_ORDER.index(current):
                aggregate.escalation_level = self.level

    class Cancelled(GridAggregate.Event):
        """A supervisor cancelled the task."""

        reason: str

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.CANCELLED
            aggregate.cancelled_at = self.timestamp
            aggregate.cancel_reason = self.reason

    class Reopened(GridAggregate.Event):
        """The closed task was reopened and goes back to its assignee."""

        source: ReopenSource
        reason: str
        due_at: datetime | None

        def apply(self, aggregate: Task) -> None:
            aggregate.status = TaskStatus.ASSIGNED
            aggregate.reopen_count += 1
            aggregate.assigned_at = self.timestamp
            aggregate.accepted_at = None
            aggregate.started_at = None
            aggregate.submitted_at = None
            aggregate.verified_by = None
            aggregate.verified_at = None
            aggregate.closed_at = None
            aggregate.rating = None
            aggregate.rating_comment = ""
            if self.due_at is not None:
                aggregate.due_at = self.due_at

    # -- inspection events --------------------------------------------------------------

    class ItemChecked(GridAggregate.Event):
        """The assignee checked a checklist item."""

        code: str
        result: ItemResult
        note: str

        def apply(self, aggregate: Task) -> None:
            aggregate.inspection = aggregate.the_inspection.with_item_checked(self.code, self.result, self.note)

    class FindingRecorded(GridAggregate.Event):
        """The assignee recorded a hazard."""

        finding: Finding

        def apply(self, aggregate: Task) -> None:
            aggregate.inspection = aggregate.the_inspection.with_finding(self.finding)

    class RectificationOrdered(GridAggregate.Event):
        """A rectification notice was served on the owner, with a deadline."""

        finding_id: str
        order_number: int
        notice_served_on: date
        deadline: date

        def apply(self, aggregate: Task) -> None:
            order = RectificationOrder(self.order_number, self.notice_served_on, self.deadline)
            aggregate.inspection = aggregate.the_inspection.with_order(self.finding_id, order)

    class OwnerReported(GridAggregate.Event):
        """The owner said the hazard is fixed."""

        finding_id: str
        order_number: int
        reported_on: date
        note: str
        evidence: tuple[EvidenceRef, ...]

        def apply(self, aggregate: Task) -> None:
            report = OwnerReport(self.order_number, self.reported_on, self.note, self.evidence)
            aggregate.inspection = aggregate.the_inspection.with_owner_report(self.finding_id, report)

    class Reinspected(GridAggregate.Event):
        """The hazard was re-inspected (复查): passed or failed."""

        finding_id: str
        order_number: int
        inspected_on: date
        passed: bool
        note: str
        evidence: tuple[EvidenceRef, ...]

        def apply(self, aggregate: Task) -> None:
            reinspection = Reinspection(self.order_number, self.inspected_on, self.passed, self.note, self.evidence)
            aggregate.inspection = aggregate.the_inspection.with_reinspection(self.finding_id, reinspection)

    class ReportedToAuthority(GridAggregate.Event):
        """Hazards were reported to the authority that enforces (消防救援大队, 派出所)."""

        finding_ids: tuple[str, ...]
        authority: str
        reason: str
        reported_on: date

        def apply(self, aggregate: Task) -> None:
            report = AuthorityReport(self.authority, self.reason, self.reported_on)
            aggregate.inspection = aggregate.the_inspection.with_authority_report(self.finding_ids, report)

    def __init__(
        self,
        *,
        actor: Actor,
        kind: TaskKind,
        title: str,
        description: str,
        grid: GridCell,
        priority: Priority,
        due_at: datetime | None,
        place: Place | None,
        resident_id: UUID | None,
        checklist_name: str,
        checklist: tuple[ChecklistItem, ...],
    ) -> None:
        self.kind = kind
        self.title = title
        self.description = description
        self.grid = grid
        self.priority = priority
        self.due_at = due_at
        self.place = place
        self.resident_id = resident_id
        self.created_by = actor.worker_id
        self.inspection: Inspection | None = Inspection.from_checklist(checklist_name, checklist) if checklist else None
        self.status = TaskStatus.CREATED
        self.assignee: str | None = None
        self.assigned_at: datetime | None = None
        self.accepted_at: datetime | None = None
        self.started_at: datetime | None = None
        self.submitted_at: datetime | None = None
        self.summary = ""
        self.verified_by: str | None = None
        self.verified_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason = ""
        self.rating: int | None = None
        self.rating_comment = ""
        self.escalation_level: EscalationLevel | None = None
        self.escalation_count = 0
        self.escalated_at: datetime | None = None
        self.reopen_count = 0
        self.sent_back_count = 0
        self.calls = CallTally()
        self.progress: tuple[ProgressNote, ...] = ()

    # -- queries ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the task is neither closed nor cancelled."""
        return self.status in OPEN_STATUSES

    @property
    def is_inspection(self) -> bool:
        """Whether the task is an inspection with a checklist."""
        return self.inspection is not None

    @property
    def the_inspection(self) -> Inspection:
        """The inspection of an inspection task (raises for other tasks)."""
        if self.inspection is None:
            raise RuleViolationError("inspection.not-an-inspection", f"task {self.id} is a {self.kind.value} task")
        return self.inspection

    @property
    def waiting_for_verification(self) -> bool:
        """Whether the assignee submitted the work and a supervisor has yet to verify it."""
        return self.status is TaskStatus.SUBMITTED

    @property
    def is_evaluated(self) -> bool:
        """Whether the current closure was evaluated."""
        return self.rating is not None

    def is_overdue(self, now: datetime) -> bool:
        """Return whether the work is still to be done and *now* is past the deadline.

        The deadline is for handling: a task submitted (or verified, closed,
        cancelled) is not overdue; one sent back or reopened is again.
        """
        check_aware("now", now)
        return self.due_at is not None and self.status in RUNNING_STATUSES and now > self.due_at

    # -- creation ----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        kind: TaskKind,
        title: str,
        grid: GridCell,
        *,
        actor: Actor,
        description: str = "",
        priority: Priority = Priority.NORMAL,
        due_at: datetime | None = None,
        place: Place | None = None,
        resident_id: UUID | None = None,
        at: datetime | None = None,
    ) -> Self:
        """Create a task of *kind* in *grid* (not an inspection: see :meth:`create_inspection`)."""
        check_instance("kind", kind, TaskKind)
        if kind in INSPECTION_KINDS:
            raise ValidationError("kind", f"a {kind.value} task is an inspection: create it with its checklist")
        return cls._new(
            kind=kind,
            title=title,
            grid=grid,
            actor=actor,
            description=description,
            priority=priority,
            due_at=due_at,
            place=place,
            resident_id=resident_id,
            template=None,
            at=at,
        )

    @classmethod
    def create_inspection(
        cls,
        title: str,
        place: Place,
        template: ChecklistTemplate,
        *,
        actor: Actor,
        kind: TaskKind = TaskKind.FIRE_INSPECTION,
        description: str = "",
        priority: Priority = Priority.NORMAL,
        due_at: datetime | None = None,
        at: datetime | None = None,
    ) -> Self:
        """Create an inspection of *place* whose checklist is copied from *template*."""
        check_instance("kind", kind, TaskKind)
        if kind not in INSPECTION_KINDS:
            raise ValidationError("kind", f"a {kind.value} task is not an inspection")
        check_instance("place", place, Place)
        check_instance("template", template, ChecklistTemplate)
        return cls._new(
            kind=kind,
            title=title,
            grid=place.grid,
            actor=actor,
            description=description,
            priority=priority,
            due_at=due_at,
            place=place,
            resident_id=None,
            template=template,
            at=at,
        )

    @classmethod
    def _new(
        cls,
        *,
        kind: TaskKind,
        title: str,
        grid: GridCell,
        actor: Actor,
        description: str,
        priority: Priority,
        due_at: datetime | None,
        place: Place | None,
        resident_id: UUID | None,
        template: ChecklistTemplate | None,
        at: datetime | None,
    ) -> Self:
        cls._require_role(actor, *CREATOR_ROLES, action="create a task")
        check_work_text("title", title, max_length=200)
        check_instance("grid", grid, GridCell)
        check_work_text("description", description, optional=True)
        check_instance("priority", priority, Priority)
        check_due("due_at", due_at, at, optional=True)
        if place is not None:
            check_instance("place", place, Place)
            if place.grid != grid:
                raise ValidationError("place", f"{place.name} is in grid {place.grid}, not {grid}")
        if resident_id is not None:
            check_instance("resident_id", resident_id, UUID)
        return cls._create_with(
            cls.Created,
            actor=actor,
            at=at,
            kind=kind,
            title=title,
            description=description,
            grid=grid,
            priority=priority,
            due_at=due_at,
            place=place,
            resident_id=resident_id,
            checklist_name=template.name if template else "",
            checklist=template.items if template else (),
        )

    # -- the closed loop -----------------------------------------------------------------

    def assign(
        self, assignee: str, *, actor: Actor, due_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        """Give the task to *assignee* (a worker id), optionally with a deadline."""
        self._require_role(actor, Role.SUPERVISOR, action="assign a task")
        self._require_status(
            "assign", "it can be assigned", TaskStatus.CREATED, hint=assigned_hint(self.status, self.assignee)
        )
        check_text("assignee", assignee, max_length=64)
        check_due("due_at", due_at, at, optional=True)
        self._trigger(self.Assigned, actor=actor, at=at, assignee=assignee, due_at=due_at)

    def reassign(
        self, assignee: str, *, actor: Actor, reason: str, due_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        """Give the task to someone else, who must accept it again."""
        self._require_role(actor, Role.SUPERVISOR, action="reassign a task")
        self._require_status(
            "reassign",
            "it can be reassigned",
            TaskStatus.ASSIGNED,
            TaskStatus.ACCEPTED,
            TaskStatus.IN_PROGRESS,
            hint=reassign_hint(self.status),
        )
        check_text("assignee", assignee, max_length=64)
        if assignee == self.assignee:
            raise ValidationError("assignee", f"the task is already assigned to {assignee}")
        check_work_text("reason", reason)
        check_due("due_at", due_at, at, optional=True)
        assert self.assignee is not None  # noqa: S101 (assigned in these states)
        self._trigger(
            self.Reassigned,
            actor=actor,
            at=at,
            assignee=assignee,
            previous_assignee=self.assignee,
            reason=reason,
            due_at=due_at,
        )

    def reschedule(self, due_at: datetime, *, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """Move the deadline of an open task to *due_at*, saying why."""
        self._require_role(actor, Role.SUPERVISOR, action="reschedule a task")
        self._require_status("reschedule", "it can be rescheduled", *OPEN_STATUSES)
        check_due("due_at", due_at, at)
        check_work_text("reason", reason)
        self._trigger(self.Rescheduled, actor=actor, at=at, due_at=due_at, reason=reason)

    def accept(self, *, actor: Actor, at: datetime | None = None) -> None:
        """Accept the task (its assignee only)."""
        self._require_status("accept", "it can be accepted", TaskStatus.ASSIGNED)
        self._require_assignee(actor, "accept")
        self._trigger(self.Accepted, actor=actor, at=at)

    def start(self, *, actor: Actor, at: datetime | None = None) -> None:
        """Start the work (its assignee only)."""
        self._require_status("start", "it can be started", TaskStatus.ACCEPTED)
        self._require_assignee(actor, "start")
        self._trigger(self.Started, actor=actor, at=at)

    def record_progress(
        self, note: str, *, actor: Actor, evidence: tuple[EvidenceRef, ...] = (), at: datetime | None = None
    ) -> None:
        """Record work done, with evidence (its assignee only)."""
        self._require_in_progress(actor, "progress can be recorded", "record progress on")
        check_work_text("note", note)
        check_tuple_of("evidence", evidence, EvidenceRef)
        self._trigger(self.ProgressRecorded, actor=actor, at=at, note=note, evidence=evidence)

    def record_call(self, outcome: CallOutcome, *, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """Record one survey call and its outcome (its assignee only)."""
        self._require_in_progress(actor, "calls can be recorded", "record calls on")
        if self.kind is not TaskKind.SURVEY_CALL:
            raise RuleViolationError(
                "task.calls-on-survey-calls-only", f"calls are recorded on survey-call tasks, not {self.kind.value}"
            )
        check_instance("outcome", outcome, CallOutcome)
        check_work_text("note", note, max_length=500, optional=True)
        self._trigger(self.CallRecorded, actor=actor, at=at, outcome=outcome, note=note)

    def submit(
        self, summary: str, *, actor: Actor, evidence: tuple[EvidenceRef, ...] = (), at: datetime | None = None
    ) -> None:
        """Report the work done, for a supervisor to verify (its assignee only)."""
        self._require_in_progress(actor, "it can be submitted", "submit")
        check_work_text("summary", summary)
        check_tuple_of("evidence", evidence, EvidenceRef)
        if self.kind is TaskKind.SURVEY_CALL and self.calls.total == 0:
            raise RuleViolationError("task.survey-call-needs-calls", "record the calls made before submitting")
        if self.inspection is not None:
            self.inspection.check_complete()
        self._trigger(self.Submitted, actor=actor, at=at, summary=summary, evidence=evidence)

    def verify(self, *, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """Confirm the work was done (a supervisor other than the assignee)."""
        self._require_role(actor, Role.SUPERVISOR, action="verify a task")
        self._require_status("verify", "it can be verified", TaskStatus.SUBMITTED)
        self._require_four_eyes(actor, "verify")
        check_work_text("note", note, optional=True)
        self._trigger(self.Verified, actor=actor, at=at, note=note)

    def send_back(self, *, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """Send the work back as not done (a supervisor other than the assignee)."""
        self._require_role(actor, Role.SUPERVISOR, action="send back a task")
        self._require_status("send back", "it can be sent back", TaskStatus.SUBMITTED)
        self._require_four_eyes(actor, "send back")
        check_work_text("reason", reason)
        self._trigger(self.SentBack, actor=actor, at=at, reason=reason)

    def close(self, *, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """Close the verified task (a supervisor; never a task that was not verified)."""
        self._require_role(actor, Role.SUPERVISOR, action="close a task")
        self._require_status("close", "it can be closed", TaskStatus.VERIFIED)
        check_work_text("note", note, optional=True)
        self._trigger(self.Closed, actor=actor, at=at, note=note)

    def evaluate(self, rating: int, *, actor: Actor, comment: str = "", at: datetime | None = None) -> None:
        """Rate the closed task from 1 (poor) to 5 (excellent), once per closure."""
        self._require_role(actor, Role.SUPERVISOR, Role.SYSTEM, action="evaluate a task")
        self._require_status("evaluate", "it can be evaluated", TaskStatus.CLOSED)
        if self.rating is not None:
            raise RuleViolationError(
                "task.one-evaluation-per-closure",
                f"this closure was already rated {self.rating}; a reopened and closed again task can be rated again",
            )
        if actor.worker_id == self.assignee:
            raise RuleViolationError("task.no-self-evaluation", f"{actor.worker_id} did the work and cannot rate it")
        check_int("rating", rating, minimum=1)
        if rating > _MAX_RATING:
            raise ValidationError("rating", f"must be at most {_MAX_RATING}, not {rating}")
        check_work_text("comment", comment, optional=True)
        self._trigger(self.Evaluated, actor=actor, at=at, rating=rating, comment=comment)

    def escalate(self, level: EscalationLevel, *, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """Escalate the open task (督办) to *level*; may be repeated."""
        self._require_role(actor, Role.SUPERVISOR, Role.SYSTEM, action="escalate a task")
        self._require_status("escalate", "it can be escalated", *OPEN_STATUSES)
        check_instance("level", level, EscalationLevel)
        check_work_text("reason", reason)
        self._trigger(self.Escalated, actor=actor, at=at, level=level, reason=reason)

    def cancel(self, *, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """Cancel the task, saying why (a supervisor; not once it is closed)."""
        self._require_role(actor, Role.SUPERVISOR, action="cancel a task")
        self._require_status("cancel", "it can be cancelled", *OPEN_STATUSES)
        check_work_text("reason", reason)
        self._trigger(self.Cancelled, actor=actor, at=at, reason=reason)

    def reopen(
        self,
        source: ReopenSource,
        *,
        actor: Actor,
        reason: str,
        due_at: datetime | None = None,
        at: datetime | None = None,
    ) -> None:
        """Reopen the closed task: back to its assignee, verification cleared."""
        self._require_role(actor, Role.SUPERVISOR, Role.SYSTEM, action="reopen a task")
        if self.status is not TaskStatus.CLOSED:
            self._refuse(self.status.value, "reopen", "only a closed task can be reopened")
        check_instance("source", source, ReopenSource)
        check_work_text("reason", reason)
        check_due("due_at", due_at, at, optional=True)
        self._trigger(self.Reopened, actor=actor, at=at, source=source, reason=reason, due_at=due_at)

    # -- inspection commands ---------------------------------------------------------------

    def check_item(
        self, code: str, result: ItemResult, *, actor: Actor, note: str = "", at: datetime | None = None
    ) -> None:
        """Check checklist item *code* as *result* (its assignee only)."""
        inspection = self._require_inspecting(actor, "items can be checked", "check items of")
        inspection.check_item_change(code, result, note)
        self._trigger(self.ItemChecked, actor=actor, at=at, code=code, result=result, note=note)

    def record_finding(
        self,
        item_code: str | None,
        description: str,
        *,
        severity: Severity,
        location: str,
        found_on: date,
        actor: Actor,
        evidence: tuple[EvidenceRef, ...],
        at: datetime | None = None,
    ) -> str:
        """Record a hazard and return its id, ``F1``, ``F2``… (its assignee only)."""
        inspection = self._require_inspecting(actor, "findings can be recorded", "record findings on")
        finding = inspection.new_finding(
            item_code, description, severity=severity, location=location, found_on=found_on, evidence=evidence
        )
        self._trigger(self.FindingRecorded, actor=actor, at=at, finding=finding)
        return finding.finding_id

    def order_rectification(
        self, finding_id: str, deadline: date, notice_served_on: date, *, actor: Actor, at: datetime | None = None
    ) -> None:
        """Record the rectification notice served on the owner, with its deadline."""
        inspection = self._require_inspecting(actor, "rectification can be ordered", "order rectification on")
        order = inspection.check_order(finding_id, deadline, notice_served_on)
        self._trigger(
            self.RectificationOrdered,
            actor=actor,
            at=at,
            finding_id=finding_id,
            order_number=order.number,
            notice_served_on=notice_served_on,
            deadline=deadline,
        )

    def record_owner_report(
        self,
        finding_id: str,
        reported_on: date,
        *,
        actor: Actor,
        note: str = "",
        evidence: tuple[EvidenceRef, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Record that the owner says the hazard *finding_id* is fixed."""
        inspection = self._require_inspecting(actor, "owner reports can be recorded", "record owner reports on")
        report = inspection.check_owner_report(finding_id, reported_on, note, evidence)
        self._trigger(
            self.OwnerReported,
            actor=actor,
            at=at,
            finding_id=finding_id,
            order_number=report.order_number,
            reported_on=reported_on,
            note=note,
            evidence=evidence,
        )

    def reinspect(
        self,
        finding_id: str,
        inspected_on: date,
        passed: bool,
        *,
        actor: Actor,
        note: str = "",
        evidence: tuple[EvidenceRef, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Record the re-inspection of *finding_id* (a passed one needs evidence)."""
        inspection = self._require_inspecting(actor, "findings can be re-inspected", "re-inspect findings of")
        reinspection = inspection.check_reinspection(finding_id, inspected_on, passed, note, evidence)
        self._trigger(
            self.Reinspected,
            actor=actor,
            at=at,
            finding_id=finding_id,
            order_number=reinspection.order_number,
            inspected_on=inspected_on,
            passed=passed,
            note=note,
            evidence=evidence,
        )

    def report_to_authority(
        self,
        finding_ids: tuple[str, ...],
        authority: str,
        reason: str,
        reported_on: date,
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record that hazards were reported to *authority* for enforcement."""
        inspection = self._require_inspecting(actor, "hazards can be reported", "report hazards of")
        inspection.check_authority_report(finding_ids, authority, reason, reported_on)
        self._trigger(
            self.ReportedToAuthority,
            actor=actor,
            at=at,
            finding_ids=finding_ids,
            authority=authority,
            reason=reason,
            reported_on=reported_on,
        )

    # -- guards ----------------------------------------------------------------------------

    def _require_status(self, command: str, what: str, *allowed: TaskStatus, hint: str = "") -> None:
        """Refuse *command* unless the status is one of *allowed*; *what* ends the hint ("it can be accepted")."""
        if self.status in allowed:
            return
        if not hint:
            hint = status_hint(self.status, what, allowed, cancel_reason=self.cancel_reason)
        self._refuse(self.status.value, command, hint)

    def _require_assignee(self, actor: Actor, command: str) -> None:
        check_instance("actor", actor, Actor)
        if actor.worker_id != self.assignee or actor.role not in WORKER_ROLES:
            raise PermissionDeniedError(
                str(actor), f"{command} this task", f"only its assignee ({self.assignee}), acting as a worker, may"
            )

    def _require_four_eyes(self, actor: Actor, command: str) -> None:
        if actor.worker_id == self.assignee:
            raise RuleViolationError(
                "task.four-eyes", f"{actor.worker_id} did the work: another supervisor must {command} it"
            )

    def _require_in_progress(self, actor: Actor, what: str, command: str) -> None:
        self._require_status(command, what, TaskStatus.IN_PROGRESS)
        self._require_assignee(actor, command)

    def _require_inspecting(self, actor: Actor, what: str, command: str) -> Inspection:
        inspection = self.the_inspection
        self._require_in_progress(actor, what, command)
        return inspection


VALUE_TYPES: tuple[type, ...] = TASK_VALUE_TYPES
"""The enums and value objects of a task (defined in :mod:`grid_events.domain.task_values`)."""
