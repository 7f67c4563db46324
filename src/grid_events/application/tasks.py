"""Commands and queries on tasks: the closed loop, survey calls and inspections."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from grid_events.application.core import ApplicationCore
from grid_events.domain.checks import check_instance
from grid_events.domain.inspection import ChecklistTemplate, ItemResult, Severity
from grid_events.domain.resident import Resident
from grid_events.domain.task import CallOutcome, EscalationLevel, Priority, ReopenSource, Task, TaskKind
from grid_events.domain.values import Actor, EvidenceRef, GridCell, Place
from grid_events.exceptions import AggregateNotFoundError, PersonalDataErasedError
from grid_events.privacy.permissions import Right, requires

__all__ = ["TaskCommands"]


class TaskCommands(ApplicationCore):
    """Tasks and inspections (see :class:`~grid_events.domain.task.Task`)."""

    # -- creating ---------------------------------------------------------------------

    @requires(Right.TASK_CREATE)
    def create_task(
        self,
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
    ) -> UUID:
        """Create a task in *grid*; a linked resident must exist and not be erased.

        The title and description are kept in the clear: they may not name the
        linked resident (refer to them by the link).
        """
        if resident_id is not None:
            resident = self._check_resident(resident_id)
            identifiers = self._resident_identifiers(resident)
            for field, text in (("title", title), ("description", description)):
                if isinstance(text, str) and text.strip():
                    self._clear_text(field, text, identifiers, max_length=len(text))
        task = Task.create(
            kind,
            title,
            grid,
            actor=actor,
            description=description,
            priority=priority,
            due_at=due_at,
            place=place,
            resident_id=resident_id,
            at=self.now(),
        )
        self.save(task)
        return task.id

    @requires(Right.TASK_CREATE)
    def create_inspection(
        self,
        title: str,
        place: Place,
        template: ChecklistTemplate,
        *,
        actor: Actor,
        kind: TaskKind = TaskKind.FIRE_INSPECTION,
        description: str = "",
        due_at: datetime | None = None,
        priority: Priority = Priority.NORMAL,
    ) -> UUID:
        """Create an inspection of *place* with a checklist copied from *template*."""
        task = Task.create_inspection(
            title,
            place,
            template,
            actor=actor,
            kind=kind,
            description=description,
            priority=priority,
            due_at=due_at,
            at=self.now(),
        )
        self.save(task)
        return task.id

    def _check_resident(self, resident_id: UUID) -> Resident:
        check_instance("resident_id", resident_id, UUID)
        resident = self.load(Resident, resident_id)
        if resident.is_erased:
            raise PersonalDataErasedError(resident_id)
        return resident

    def _task_text(self, task: Task, **texts: object) -> None:
        """Refuse work texts that name the task's linked resident (the domain refuses ID and phone numbers)."""
        given = {field: text for field, text in texts.items() if isinstance(text, str) and text.strip()}
        if task.resident_id is None or not given:
            return
        try:
            resident = self.load(Resident, task.resident_id)
        except AggregateNotFoundError:  # pragma: no cover (a task links only residents that exist)
            return
        identifiers = self._resident_identifiers(resident)
        for field, text in given.items():
            assert isinstance(text, str)  # noqa: S101 (selected above)
            self._clear_text(field, text, identifiers, max_length=len(text))

    # -- the closed loop ----------------------------------------------------------------

    @requires(Right.TASK_ASSIGN)
    def assign_task(self, task_id: UUID, assignee: str, *, actor: Actor, due_at: datetime | None = None) -> None:
        """Give a task to *assignee* (a worker id)."""
        task = self.load(Task, task_id)
        task.assign(assignee, actor=actor, due_at=due_at, at=self.now())
        self.save(task)

    @requires(Right.TASK_ASSIGN)
    def reassign_task(
        self, task_id: UUID, assignee: str, *, actor: Actor, reason: str, due_at: datetime | None = None
    ) -> None:
        """Give a task to someone else, who must accept it again."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.reassign(assignee, actor=actor, reason=reason, due_at=due_at, at=self.now())
        self.save(task)

    @requires(Right.TASK_ASSIGN)
    def reschedule_task(self, task_id: UUID, due_at: datetime, *, actor: Actor, reason: str) -> None:
        """Move the deadline of an open task."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.reschedule(due_at, actor=actor, reason=reason, at=self.now())
        self.save(task)

    @requires(Right.TASK_WORK)
    def accept_task(self, task_id: UUID, *, actor: Actor) -> None:
        """Accept a task (its assignee only)."""
        task = self.load(Task, task_id)
        task.accept(actor=actor, at=self.now())
        self.save(task)

    @requires(Right.TASK_WORK)
    def start_task(self, task_id: UUID, *, actor: Actor) -> None:
        """Start the work on a task (its assignee only)."""
        task = self.load(Task, task_id)
        task.start(actor=actor, at=self.now())
        self.save(task)

    @requires(Right.TASK_WORK)
    def record_task_progress(
        self, task_id: UUID, note: str, *, actor: Actor, evidence: tuple[EvidenceRef, ...] = ()
    ) -> None:
        """Record work done on a task, with evidence (its assignee only)."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.record_progress(note, actor=actor, evidence=evidence, at=self.now())
        self.save(task)

    @requires(Right.TASK_WORK)
    def record_call(self, task_id: UUID, outcome: CallOutcome, *, actor: Actor, note: str = "") -> None:
        """Record one call of a survey-call task (its assignee only)."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.record_call(outcome, actor=actor, note=note, at=self.now())
        self.save(task)

    @requires(Right.TASK_WORK)
    def submit_task(self, task_id: UUID, summary: str, *, actor: Actor, evidence: tuple[EvidenceRef, ...] = ()) -> None:
        """Report a task's work done, for verification (its assignee only)."""
        task = self.load(Task, task_id)
        self._task_text(task, summary=summary)
        task.submit(summary, actor=actor, evidence=evidence, at=self.now())
        self.save(task)

    @requires(Right.TASK_VERIFY)
    def verify_task(self, task_id: UUID, *, actor: Actor, note: str = "") -> None:
        """Confirm a task's work was done (a supervisor other than the assignee)."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.verify(actor=actor, note=note, at=self.now())
        self.save(task)

    @requires(Right.TASK_VERIFY)
    def send_back_task(self, task_id: UUID, *, actor: Actor, reason: str) -> None:
        """Send a task's work back as not done (a supervisor other than the assignee)."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.send_back(actor=actor, reason=reason, at=self.now())
        self.save(task)

    @requires(Right.TASK_CLOSE)
    def close_task(self, task_id: UUID, *, actor: Actor, note: str = "") -> None:
        """Close a verified task (a supervisor)."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.close(actor=actor, note=note, at=self.now())
        self.save(task)

    @requires(Right.TASK_ESCALATE)
    def escalate_task(self, task_id: UUID, level: EscalationLevel, *, actor: Actor, reason: str) -> None:
        """Escalate an open task, 督办 (a supervisor or the system)."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.escalate(level, actor=actor, reason=reason, at=self.now())
        self.save(task)

    @requires(Right.TASK_CLOSE)
    def cancel_task(self, task_id: UUID, *, actor: Actor, reason: str) -> None:
        """Cancel a task that is not closed (a supervisor)."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.cancel(actor=actor, reason=reason, at=self.now())
        self.save(task)

    @requires(Right.TASK_REOPEN)
    def reopen_task(
        self, task_id: UUID, source: ReopenSource, *, actor: Actor, reason: str, due_at: datetime | None = None
    ) -> None:
        """Reopen a closed task (a resident's complaint, or a supervisor's finding)."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.reopen(source, actor=actor, reason=reason, due_at=due_at, at=self.now())
        self.save(task)

    @requires(Right.TASK_EVALUATE)
    def evaluate_task(self, task_id: UUID, rating: int, *, actor: Actor, comment: str = "") -> None:
        """Rate a closed task from 1 to 5, once per closure."""
        task = self.load(Task, task_id)
        self._task_text(task, comment=comment)
        task.evaluate(rating, actor=actor, comment=comment, at=self.now())
        self.save(task)

    # -- inspections ----------------------------------------------------------------------

    @requires(Right.INSPECTION_RECORD)
    def check_item(self, task_id: UUID, code: str, result: ItemResult, *, actor: Actor, note: str = "") -> None:
        """Check one checklist item of an inspection (its assignee only)."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.check_item(code, result, actor=actor, note=note, at=self.now())
        self.save(task)

    @requires(Right.INSPECTION_RECORD)
    def record_finding(
        self,
        task_id: UUID,
        item_code: str | None,
        description: str,
        *,
        severity: Severity,
        location: str,
        found_on: date,
        actor: Actor,
        evidence: tuple[EvidenceRef, ...],
    ) -> str:
        """Record a hazard found in an inspection and return its id (``F1``, ``F2``, …)."""
        task = self.load(Task, task_id)
        self._task_text(task, description=description, location=location)
        task.record_finding(
            item_code,
            description,
            severity=severity,
            location=location,
            found_on=found_on,
            actor=actor,
            evidence=evidence,
            at=self.now(),
        )
        self.save(task)
        return task.the_inspection.findings[-1].finding_id

    @requires(Right.INSPECTION_RECORD)
    def order_rectification(
        self, task_id: UUID, finding_id: str, deadline: date, notice_served_on: date, *, actor: Actor
    ) -> None:
        """Record the rectification notice served on the owner, with its deadline."""
        task = self.load(Task, task_id)
        task.order_rectification(finding_id, deadline, notice_served_on, actor=actor, at=self.now())
        self.save(task)

    @requires(Right.INSPECTION_RECORD)
    def record_owner_report(
        self,
        task_id: UUID,
        finding_id: str,
        reported_on: date,
        *,
        actor: Actor,
        note: str = "",
        evidence: tuple[EvidenceRef, ...] = (),
    ) -> None:
        """Record that the owner says a hazard is fixed."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.record_owner_report(finding_id, reported_on, actor=actor, note=note, evidence=evidence, at=self.now())
        self.save(task)

    @requires(Right.INSPECTION_RECORD)
    def reinspect(
        self,
        task_id: UUID,
        finding_id: str,
        inspected_on: date,
        passed: bool,
        *,
        actor: Actor,
        note: str = "",
        evidence: tuple[EvidenceRef, ...] = (),
    ) -> None:
        """Record a re-inspection (复查) of a hazard: passed (with evidence) or failed."""
        task = self.load(Task, task_id)
        self._task_text(task, note=note)
        task.reinspect(finding_id, inspected_on, passed, actor=actor, note=note, evidence=evidence, at=self.now())
        self.save(task)

    @requires(Right.INSPECTION_RECORD)
    def report_to_authority(
        self,
        task_id: UUID,
        finding_ids: tuple[str, ...],
        authority: str,
        reason: str,
        reported_on: date,
        *,
        actor: Actor,
    ) -> None:
        """Record that hazards were reported to the authority that enforces (消防救援大队, 派出所)."""
        task = self.load(Task, task_id)
        self._task_text(task, reason=reason)
        task.report_to_authority(finding_ids, authority, reason, reported_on, actor=actor, at=self.now())
        self.save(task)

    # -- queries ------------------------------------------------------------------------

    @requires(Right.TASK_READ)
    def get_task(self, task_id: UUID, *, actor: Actor, version: int | None = None) -> Task:  # noqa: ARG002 (checked by @requires)
        """Return the task *task_id*, as it is now or as it was at *version*."""
        return self.load(Task, task_id, version=version)
