"""Tasks: the closed loop from creation to evaluation, its refusals, timers, reopening and storage."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, cast

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from grid_events import (
    Actor,
    AggregateNotFoundError,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    GridEventsError,
    InvalidTransitionError,
    PermissionDeniedError,
    PersonalData,
    PersonalDataErasedError,
    Place,
    Role,
    RuleViolationError,
    ValidationError,
)
from grid_events.chain import GENESIS, LAYOUT_VERSION
from grid_events.codec import MsgpackTranscoder
from grid_events.domain.inspection import ItemResult
from grid_events.domain.task import (
    CallOutcome,
    EscalationLevel,
    Priority,
    ReopenSource,
    Task,
    TaskKind,
    TaskStatus,
)


class Clock(Protocol):
    """The hand-driven clock of conftest.py."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


ASSIGNEE = Actor("w-li", Role.GRID_WORKER)
"""The grid worker the refusal scenarios assign tasks to (the ``worker`` fixture)."""
DEPUTY = Actor("s-zhou", Role.SUPERVISOR)
"""The community's deputy secretary, a second supervisor."""
TIMER = Actor("timer", Role.SYSTEM)
"""The software's escalation timer."""
AUDITOR = Actor("a-qian", Role.AUDITOR)
"""A civil-affairs bureau auditor."""
OTHER_WORKER = Actor("w-zhang", Role.GRID_WORKER)
"""Another grid worker of the same community."""
PHOTO = EvidenceRef(EvidenceKind.PHOTO, "evidence://2026/11/02/street-0001.jpg", description="路面已清理")

Command = Callable[[GridApplication, uuid.UUID], object]


def stored_count(app: GridApplication) -> int:
    """Return how many events the store holds."""
    return app.recorder.max_notification_id() or 0


def new_task(app: GridApplication, creator: Actor, grid: GridCell, kind: TaskKind = TaskKind.PATROL) -> uuid.UUID:
    """Create a task of *kind* in *grid*."""
    return app.create_task(kind, "巡查飞凤路占道经营", grid, actor=creator, description="早市摊位占用人行道")


LOOP = (
    TaskStatus.CREATED,
    TaskStatus.ASSIGNED,
    TaskStatus.ACCEPTED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.SUBMITTED,
    TaskStatus.VERIFIED,
    TaskStatus.CLOSED,
)


def drive(app: GridApplication, task_id: uuid.UUID, status: TaskStatus, supervisor: Actor, worker: Actor) -> None:
    """Take a task along the closed loop to *status* (the worker does the work, the supervisor checks it)."""
    steps: dict[TaskStatus, Callable[[], None]] = {
        TaskStatus.ASSIGNED: lambda: app.assign_task(task_id, worker.worker_id, actor=supervisor),
        TaskStatus.ACCEPTED: lambda: app.accept_task(task_id, actor=worker),
        TaskStatus.IN_PROGRESS: lambda: app.start_task(task_id, actor=worker),
        TaskStatus.SUBMITTED: lambda: app.submit_task(task_id, "摊位已劝离，路面已清理", actor=worker),
        TaskStatus.VERIFIED: lambda: app.verify_task(task_id, actor=supervisor, note="现场核查属实"),
        TaskStatus.CLOSED: lambda: app.close_task(task_id, actor=supervisor),
    }
    if status is TaskStatus.CANCELLED:
        app.cancel_task(task_id, actor=supervisor, reason="与另一工单重复")
        return
    while (current := app.get_task(task_id, actor=AUDITOR).status) is not status:
        steps[LOOP[LOOP.index(current) + 1]]()


# -- the closed loop ------------------------------------------------------------------------


def test_the_closed_loop_runs_from_creation_to_evaluation(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """A reported problem is assigned, accepted, handled, submitted, verified, closed and rated."""
    task_id = new_task(app, worker, grid)
    due = clock.now + timedelta(days=1)
    app.assign_task(task_id, worker.worker_id, actor=supervisor, due_at=due)
    clock.advance(minutes=10)
    app.accept_task(task_id, actor=worker)
    clock.advance(minutes=30)
    app.start_task(task_id, actor=worker)
    app.record_task_progress(task_id, "已到现场，劝导摊主搬离", actor=worker, evidence=(PHOTO,))
    clock.advance(hours=2)
    app.submit_task(task_id, "摊位已劝离，路面已清理", actor=worker, evidence=(PHOTO,))
    clock.advance(hours=1)
    app.verify_task(task_id, actor=supervisor, note="现场核查属实")
    app.close_task(task_id, actor=supervisor)
    app.evaluate_task(task_id, 5, actor=supervisor, comment="处置及时")

    task = app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.CLOSED == task.status
    assert worker.worker_id == task.assignee
    assert worker.worker_id == task.created_by
    assert supervisor.worker_id == task.verified_by
    assert due == task.due_at
    assert 5 == task.rating
    assert "摊位已劝离，路面已清理" == task.summary
    assert ("已到现场，劝导摊主搬离",) == tuple(note.note for note in task.progress)
    assert (PHOTO,) == task.progress[0].evidence
    assert task.assigned_at is not None
    assert task.accepted_at is not None
    assert task.started_at is not None
    assert task.submitted_at is not None
    assert task.verified_at is not None
    assert task.closed_at is not None
    assert timedelta(minutes=10) == task.accepted_at - task.assigned_at
    assert timedelta(hours=2) == task.submitted_at - task.started_at
    assert not task.is_open
    assert task.is_evaluated


def test_every_step_records_who_acted_in_which_role_and_when(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Each stored event names the actor and role, in time order, for the auditor's replay."""
    task_id = new_task(app, supervisor, grid)
    for status in LOOP[1:]:
        clock.advance(minutes=15)
        drive(app, task_id, status, supervisor, worker)

    events = cast("list[Task.Event]", list(app.events.get(task_id)))
    assert [
        "Created",
        "Assigned",
        "Accepted",
        "Started",
        "Submitted",
        "Verified",
        "Closed",
    ] == [type(event).__name__ for event in events]
    assert [supervisor, supervisor, worker, worker, worker, supervisor, supervisor] == [event.actor for event in events]
    timestamps = [event.timestamp for event in events]
    assert sorted(timestamps) == timestamps


def test_a_version_of_the_task_shows_it_as_it_was(
    app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """get_task(id, version=N) replays the task up to its N-th event."""
    task_id = new_task(app, supervisor, grid)
    drive(app, task_id, TaskStatus.CLOSED, supervisor, worker)

    assert TaskStatus.ASSIGNED == app.get_task(task_id, version=2, actor=AUDITOR).status
    assert TaskStatus.SUBMITTED == app.get_task(task_id, version=5, actor=AUDITOR).status
    assert TaskStatus.CLOSED == app.get_task(task_id, actor=AUDITOR).status


def test_an_unknown_task_is_not_found(memory_app: GridApplication, worker: Actor) -> None:
    """Loading or commanding a task that does not exist raises AggregateNotFoundError."""
    with pytest.raises(AggregateNotFoundError):
        memory_app.get_task(uuid.uuid4(), actor=AUDITOR)
    with pytest.raises(AggregateNotFoundError):
        memory_app.accept_task(uuid.uuid4(), actor=worker)


# -- who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.AUDITOR, Role.ADMINISTRATOR])
def test_volunteers_auditors_and_administrators_create_no_task(
    memory_app: GridApplication, grid: GridCell, role: Role
) -> None:
    """Only community workers, supervisors and the system create tasks."""
    with pytest.raises(PermissionDeniedError):
        memory_app.create_task(TaskKind.ERRAND, "代购药品", grid, actor=Actor("x-1", role))

    assert 0 == stored_count(memory_app)


def test_only_a_supervisor_assigns(
    memory_app: GridApplication, worker: Actor, safety_officer: Actor, grid: GridCell
) -> None:
    """A worker cannot assign a task, not even to themselves."""
    task_id = new_task(memory_app, worker, grid)

    with pytest.raises(PermissionDeniedError) as caught:
        memory_app.assign_task(task_id, worker.worker_id, actor=worker)

    assert "only a supervisor may assign" in str(caught.value)
    with pytest.raises(PermissionDeniedError):
        memory_app.assign_task(task_id, worker.worker_id, actor=safety_officer)


def test_only_the_assignee_accepts_starts_and_submits(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Another worker, or the assignee acting as a volunteer, cannot do the assignee's steps."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.ASSIGNED, supervisor, worker)

    with pytest.raises(PermissionDeniedError):
        memory_app.accept_task(task_id, actor=OTHER_WORKER)
    with pytest.raises(PermissionDeniedError):
        memory_app.accept_task(task_id, actor=Actor(worker.worker_id, Role.VOLUNTEER))
    with pytest.raises(PermissionDeniedError):
        memory_app.accept_task(task_id, actor=supervisor)
    drive(memory_app, task_id, TaskStatus.IN_PROGRESS, supervisor, worker)
    with pytest.raises(PermissionDeniedError):
        memory_app.record_task_progress(task_id, "代为记录", actor=OTHER_WORKER)
    with pytest.raises(PermissionDeniedError):
        memory_app.submit_task(task_id, "代为提交", actor=supervisor)


def test_the_assignee_cannot_verify_their_own_work(app: GridApplication, supervisor: Actor, grid: GridCell) -> None:
    """Four eyes: a supervisor who did the work needs another supervisor to verify or send it back."""
    task_id = new_task(app, supervisor, grid)
    drive(app, task_id, TaskStatus.SUBMITTED, supervisor, supervisor)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.verify_task(task_id, actor=supervisor)
    with pytest.raises(RuleViolationError):
        app.send_back_task(task_id, actor=supervisor, reason="自查发现遗漏")

    assert "task.four-eyes" == caught.value.rule
    assert before == stored_count(app)
    app.verify_task(task_id, actor=DEPUTY)
    assert DEPUTY.worker_id == app.get_task(task_id, actor=AUDITOR).verified_by


def test_a_task_is_never_closed_without_verification(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Closing a submitted task is refused with a hint to verify it first."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.SUBMITTED, supervisor, worker)

    with pytest.raises(InvalidTransitionError) as caught:
        memory_app.close_task(task_id, actor=supervisor)

    assert "submitted" == caught.value.state
    assert "it must be verified by a supervisor before it can be closed" == caught.value.hint


def test_a_refused_step_says_what_must_happen_first(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """The hint of a refused transition says what to do."""
    task_id = new_task(memory_app, supervisor, grid)

    with pytest.raises(InvalidTransitionError) as early:
        memory_app.accept_task(task_id, actor=worker)
    drive(memory_app, task_id, TaskStatus.IN_PROGRESS, supervisor, worker)
    with pytest.raises(InvalidTransitionError) as late:
        memory_app.accept_task(task_id, actor=worker)
    with pytest.raises(InvalidTransitionError) as again:
        memory_app.assign_task(task_id, OTHER_WORKER.worker_id, actor=supervisor)

    assert "it must be assigned by a supervisor before it can be accepted" == early.value.hint
    assert "it has already been started" == late.value.hint
    assert f"it is assigned to {worker.worker_id}; reassign it instead" == again.value.hint


# -- sending back, reassigning, cancelling ---------------------------------------------------------


def test_sending_back_returns_the_work_to_the_assignee(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Work found not done goes back in progress; a second submission can then be verified."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.SUBMITTED, supervisor, worker)

    memory_app.send_back_task(task_id, actor=supervisor, reason="照片显示仍有摊位")

    task = memory_app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.IN_PROGRESS == task.status
    assert 1 == task.sent_back_count
    assert not task.waiting_for_verification
    memory_app.submit_task(task_id, "已全部清理", actor=worker, evidence=(PHOTO,))
    assert memory_app.get_task(task_id, actor=AUDITOR).waiting_for_verification
    memory_app.verify_task(task_id, actor=supervisor)
    assert TaskStatus.VERIFIED == memory_app.get_task(task_id, actor=AUDITOR).status


def test_reassigning_gives_the_task_to_someone_who_must_accept_it(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """A reassigned task waits for the new assignee; the previous one can no longer work on it."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.IN_PROGRESS, supervisor, worker)
    memory_app.record_task_progress(task_id, "已初步摸排", actor=worker)

    memory_app.reassign_task(task_id, OTHER_WORKER.worker_id, actor=supervisor, reason="李某病假")

    task = memory_app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.ASSIGNED == task.status
    assert OTHER_WORKER.worker_id == task.assignee
    assert task.started_at is None
    assert 1 == len(task.progress)
    with pytest.raises(PermissionDeniedError):
        memory_app.accept_task(task_id, actor=worker)
    memory_app.accept_task(task_id, actor=OTHER_WORKER)
    reassigned = cast("list[Task.Reassigned]", list(memory_app.events.get(task_id, gt=5, lte=6)))
    assert [(worker.worker_id, "李某病假")] == [(event.previous_assignee, event.reason) for event in reassigned]


def test_reassigning_needs_a_reason_and_a_different_person(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Reassigning to the same person, or without a reason, is refused naming the field."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.ACCEPTED, supervisor, worker)

    with pytest.raises(ValidationError) as same:
        memory_app.reassign_task(task_id, worker.worker_id, actor=supervisor, reason="重新分派")
    with pytest.raises(ValidationError) as blank:
        memory_app.reassign_task(task_id, OTHER_WORKER.worker_id, actor=supervisor, reason="  ")

    assert "assignee" == same.value.field
    assert "reason" == blank.value.field


def test_a_cancelled_task_takes_no_further_commands(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Cancelling needs a reason; afterwards every step is refused and the task is no longer open."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.ACCEPTED, supervisor, worker)

    with pytest.raises(ValidationError):
        memory_app.cancel_task(task_id, actor=supervisor, reason="")
    memory_app.cancel_task(task_id, actor=supervisor, reason="与另一工单重复")

    task = memory_app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.CANCELLED == task.status
    assert "与另一工单重复" == task.cancel_reason
    assert not task.is_open
    with pytest.raises(InvalidTransitionError) as caught:
        memory_app.start_task(task_id, actor=worker)
    assert "it was cancelled (与另一工单重复)" == caught.value.hint
    with pytest.raises(InvalidTransitionError):
        memory_app.cancel_task(task_id, actor=supervisor, reason="again")
    with pytest.raises(InvalidTransitionError):
        memory_app.escalate_task(task_id, EscalationLevel.COMMUNITY, actor=TIMER, reason="超时")


def test_a_closed_task_cannot_be_cancelled(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Cancelling a closed task is refused: reopen it if the work must be redone."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.CLOSED, supervisor, worker)

    with pytest.raises(InvalidTransitionError) as caught:
        memory_app.cancel_task(task_id, actor=supervisor, reason="不再需要")

    assert "it is closed; a supervisor may reopen it" == caught.value.hint


# -- reopening and evaluating --------------------------------------------------------------------


def test_reopening_returns_the_task_to_the_same_assignee_without_verification(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """A resident's complaint reopens the task: assigned again, verification and rating cleared."""
    task_id = new_task(app, supervisor, grid)
    drive(app, task_id, TaskStatus.CLOSED, supervisor, worker)
    app.evaluate_task(task_id, 4, actor=supervisor)
    new_due = clock.now + timedelta(days=2)

    app.reopen_task(
        task_id, ReopenSource.RESIDENT_COMPLAINT, actor=supervisor, reason="居民反映摊位又回来了", due_at=new_due
    )

    task = app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.ASSIGNED == task.status
    assert worker.worker_id == task.assignee
    assert task.verified_by is None
    assert task.verified_at is None
    assert task.closed_at is None
    assert task.rating is None
    assert 1 == task.reopen_count
    assert new_due == task.due_at
    drive(app, task_id, TaskStatus.CLOSED, supervisor, worker)
    app.evaluate_task(task_id, 3, actor=TIMER, comment="居民回访评价")
    task = app.get_task(task_id, actor=AUDITOR)
    assert 1 == task.reopen_count
    assert 3 == task.rating


def test_only_a_closed_task_is_reopened_by_a_supervisor_or_the_system(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Reopening an open task, or by a worker, is refused."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.VERIFIED, supervisor, worker)

    with pytest.raises(InvalidTransitionError) as caught:
        memory_app.reopen_task(task_id, ReopenSource.SUPERVISOR, actor=supervisor, reason="复核")
    drive(memory_app, task_id, TaskStatus.CLOSED, supervisor, worker)
    with pytest.raises(PermissionDeniedError):
        memory_app.reopen_task(task_id, ReopenSource.RESIDENT_COMPLAINT, actor=worker, reason="居民投诉")

    assert "only a closed task can be reopened" == caught.value.hint
    memory_app.reopen_task(task_id, ReopenSource.RESIDENT_COMPLAINT, actor=TIMER, reason="12345热线投诉")
    assert TaskStatus.ASSIGNED == memory_app.get_task(task_id, actor=AUDITOR).status


def test_evaluation_is_once_per_closure_and_only_when_closed(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """A task is rated 1 to 5 after closing, once, and never by the person who did the work."""
    task_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, task_id, TaskStatus.VERIFIED, supervisor, worker)

    with pytest.raises(InvalidTransitionError):
        memory_app.evaluate_task(task_id, 5, actor=supervisor)
    drive(memory_app, task_id, TaskStatus.CLOSED, supervisor, worker)
    for rating in (0, 6):
        with pytest.raises(ValidationError) as caught:
            memory_app.evaluate_task(task_id, rating, actor=supervisor)
        assert "rating" == caught.value.field
    with pytest.raises(PermissionDeniedError):
        memory_app.evaluate_task(task_id, 5, actor=worker)
    with pytest.raises(RuleViolationError) as own:
        memory_app.evaluate_task(task_id, 5, actor=Actor(worker.worker_id, Role.SUPERVISOR))
    memory_app.evaluate_task(task_id, 2, actor=supervisor, comment="拖延")
    with pytest.raises(RuleViolationError) as twice:
        memory_app.evaluate_task(task_id, 5, actor=DEPUTY)

    assert "task.no-self-evaluation" == own.value.rule
    assert "task.one-evaluation-per-closure" == twice.value.rule
    assert 2 == memory_app.get_task(task_id, actor=AUDITOR).rating


# -- timers and escalation ----------------------------------------------------------------------


def test_a_task_is_overdue_only_while_the_work_is_still_to_be_done(
    memory_app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Past its deadline a task is overdue until submitted, and again once sent back."""
    due = clock.now + timedelta(hours=4)
    task_id = memory_app.create_task(TaskKind.ERRAND, "为独居老人代购药品", grid, actor=supervisor, due_at=due)
    late = due + timedelta(minutes=1)

    assert not memory_app.get_task(task_id, actor=AUDITOR).is_overdue(due)
    assert memory_app.get_task(task_id, actor=AUDITOR).is_overdue(late)
    drive(memory_app, task_id, TaskStatus.SUBMITTED, supervisor, worker)
    assert not memory_app.get_task(task_id, actor=AUDITOR).is_overdue(late)
    memory_app.send_back_task(task_id, actor=supervisor, reason="药品种类不对")
    assert memory_app.get_task(task_id, actor=AUDITOR).is_overdue(late)
    memory_app.cancel_task(task_id, actor=supervisor, reason="家属已代购")
    assert not memory_app.get_task(task_id, actor=AUDITOR).is_overdue(late)
    with pytest.raises(ValidationError) as caught:
        memory_app.get_task(task_id, actor=AUDITOR).is_overdue(datetime(2026, 11, 3, 9, 0))  # noqa: DTZ001 (naive on purpose)
    assert "now" == caught.value.field


def test_a_task_without_deadline_is_never_overdue(
    memory_app: GridApplication, clock: Clock, supervisor: Actor, grid: GridCell
) -> None:
    """No due_at, no timer."""
    task_id = new_task(memory_app, supervisor, grid)

    assert not memory_app.get_task(task_id, actor=AUDITOR).is_overdue(clock.now + timedelta(days=365))


def test_deadlines_are_aware_and_after_the_time_of_recording(
    memory_app: GridApplication, clock: Clock, supervisor: Actor, grid: GridCell
) -> None:
    """A naive or past deadline is refused naming due_at; rescheduling moves it, with a reason."""
    with pytest.raises(ValidationError) as naive:
        memory_app.create_task(TaskKind.PATROL, "巡查", grid, actor=supervisor, due_at=datetime(2026, 11, 3))  # noqa: DTZ001
    with pytest.raises(ValidationError) as past:
        memory_app.create_task(TaskKind.PATROL, "巡查", grid, actor=supervisor, due_at=clock.now - timedelta(hours=1))
    task_id = memory_app.create_task(
        TaskKind.PATROL, "巡查", grid, actor=supervisor, due_at=clock.now + timedelta(hours=1)
    )
    later = clock.now + timedelta(days=1)
    memory_app.reschedule_task(task_id, later, actor=supervisor, reason="暴雨，延期一天")

    assert "due_at" == naive.value.field
    assert "due_at" == past.value.field
    assert later == memory_app.get_task(task_id, actor=AUDITOR).due_at


def test_assigning_with_a_deadline_sets_the_timer(
    memory_app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """A deadline given on assignment replaces the one given on creation; none keeps it."""
    first = clock.now + timedelta(days=3)
    second = clock.now + timedelta(days=1)
    task_id = memory_app.create_task(TaskKind.HOUSEHOLD_VISIT, "入户摸排3幢", grid, actor=supervisor, due_at=first)

    memory_app.assign_task(task_id, worker.worker_id, actor=supervisor)
    assert first == memory_app.get_task(task_id, actor=AUDITOR).due_at
    memory_app.reassign_task(task_id, OTHER_WORKER.worker_id, actor=supervisor, reason="熟悉该楼栋", due_at=second)
    assert second == memory_app.get_task(task_id, actor=AUDITOR).due_at


def test_escalation_is_repeatable_and_keeps_the_highest_level(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """The timer and supervisors escalate an open task again and again; the level never drops."""
    task_id = app.create_task(
        TaskKind.PATROL, "污水偷排巡查", grid, actor=supervisor, due_at=clock.now + timedelta(hours=1)
    )
    drive(app, task_id, TaskStatus.ACCEPTED, supervisor, worker)
    clock.advance(hours=2)
    assert app.get_task(task_id, actor=AUDITOR).is_overdue(clock.now)

    app.escalate_task(task_id, EscalationLevel.COMMUNITY, actor=TIMER, reason="超时未处置")
    app.escalate_task(task_id, EscalationLevel.SUB_DISTRICT, actor=supervisor, reason="居民多次反映")
    app.escalate_task(task_id, EscalationLevel.COMMUNITY, actor=TIMER, reason="仍未处置")

    task = app.get_task(task_id, actor=AUDITOR)
    assert 3 == task.escalation_count
    assert EscalationLevel.SUB_DISTRICT == task.escalation_level
    assert TaskStatus.ACCEPTED == task.status
    with pytest.raises(PermissionDeniedError):
        app.escalate_task(task_id, EscalationLevel.CITY, actor=worker, reason="自己督办")
    with pytest.raises(ValidationError):
        app.escalate_task(task_id, EscalationLevel.CITY, actor=supervisor, reason="")


# -- survey calls ---------------------------------------------------------------------------------


def test_survey_calls_are_counted_by_outcome(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Each call is recorded with its outcome; the task keeps a count per outcome."""
    task_id = memory_app.create_task(TaskKind.SURVEY_CALL, "流调电话：密接人员核实", grid, actor=supervisor)
    drive(memory_app, task_id, TaskStatus.IN_PROGRESS, supervisor, worker)

    for outcome in (CallOutcome.NOT_REACHED, CallOutcome.NOT_REACHED, CallOutcome.REACHED, CallOutcome.VERIFIED):
        memory_app.record_call(task_id, outcome, actor=worker, note="第二轮")

    calls = memory_app.get_task(task_id, actor=AUDITOR).calls
    assert (1, 2, 1, 4) == (calls.reached, calls.not_reached, calls.verified, calls.total)
    assert 2 == calls.count(CallOutcome.NOT_REACHED)


def test_a_survey_call_task_is_not_submitted_without_calls(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Submitting a survey-call task with no call recorded breaks a rule."""
    task_id = memory_app.create_task(TaskKind.SURVEY_CALL, "流调电话", grid, actor=supervisor)
    drive(memory_app, task_id, TaskStatus.IN_PROGRESS, supervisor, worker)

    with pytest.raises(RuleViolationError) as caught:
        memory_app.submit_task(task_id, "已完成", actor=worker)

    assert "task.survey-call-needs-calls" == caught.value.rule


def test_calls_are_recorded_only_on_survey_calls_in_progress(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """A patrol has no calls; a survey call records them only once started."""
    patrol_id = new_task(memory_app, supervisor, grid)
    drive(memory_app, patrol_id, TaskStatus.IN_PROGRESS, supervisor, worker)
    call_id = memory_app.create_task(TaskKind.SURVEY_CALL, "流调电话", grid, actor=supervisor)
    drive(memory_app, call_id, TaskStatus.ACCEPTED, supervisor, worker)

    with pytest.raises(RuleViolationError) as wrong_kind:
        memory_app.record_call(patrol_id, CallOutcome.REACHED, actor=worker)
    with pytest.raises(InvalidTransitionError) as not_started:
        memory_app.record_call(call_id, CallOutcome.REACHED, actor=worker)

    assert "task.calls-on-survey-calls-only" == wrong_kind.value.rule
    assert "it must be started by its assignee before calls can be recorded" == not_started.value.hint


# -- what a task may hold --------------------------------------------------------------------------


def test_a_linked_resident_must_exist_and_not_be_erased(
    app: GridApplication, worker: Actor, supervisor: Actor, administrator: Actor, grid: GridCell
) -> None:
    """A task links a registered resident by id only; unknown or erased residents are refused."""
    resident_id = app.register_resident(PersonalData(name="王芳", id_number="11010519491231002X"), grid, actor=worker)
    task_id = app.create_task(
        TaskKind.RETURNEE_VERIFICATION, "返永人员信息核查", grid, actor=supervisor, resident_id=resident_id
    )
    assert resident_id == app.get_task(task_id, actor=AUDITOR).resident_id
    assert "王芳".encode() not in app.recorder.select_events(task_id)[0].state
    before = stored_count(app)

    with pytest.raises(AggregateNotFoundError):
        app.create_task(TaskKind.ERRAND, "代办", grid, actor=supervisor, resident_id=uuid.uuid4())
    with pytest.raises(AggregateNotFoundError):
        app.create_task(TaskKind.ERRAND, "代办", grid, actor=supervisor, resident_id=task_id)
    assert before == stored_count(app)
    app.erase_resident(resident_id, actor=administrator, reason="本人申请删除")
    with pytest.raises(PersonalDataErasedError):
        app.create_task(TaskKind.ERRAND, "代办", grid, actor=supervisor, resident_id=resident_id)


@pytest.mark.parametrize(
    "description",
    [
        "请联系居民 13812345678 核实行程",
        "电话 138-1234-5678",
        "身份证 11010519491231002X 的居民",
    ],
)
def test_resident_identifiers_are_refused_in_task_texts(
    memory_app: GridApplication, supervisor: Actor, grid: GridCell, description: str
) -> None:
    """ID-card and mobile numbers belong in the resident's sealed record, never in a task."""
    with pytest.raises(ValidationError) as caught:
        memory_app.create_task(TaskKind.RETURNEE_VERIFICATION, "核查", grid, actor=supervisor, description=description)

    assert "description" == caught.value.field
    assert 0 == stored_count(memory_app)


def test_work_numbers_that_are_not_identifiers_are_accepted(
    memory_app: GridApplication, supervisor: Actor, grid: GridCell
) -> None:
    """A landline, a case number or an 18-digit code without a valid check character pass."""
    task_id = memory_app.create_task(
        TaskKind.GAS_ELECTRICITY_PUBLICITY,
        "燃气安全宣传",
        grid,
        actor=supervisor,
        description="燃气公司服务电话 0579-85551234，工单号 202611020001，批次 110105194912310021",
    )

    assert Priority.NORMAL == memory_app.get_task(task_id, actor=AUDITOR).priority


def test_a_place_must_lie_in_the_task_grid(memory_app: GridApplication, supervisor: Actor, grid: GridCell) -> None:
    """A task in one grid cannot point at a place in another."""
    elsewhere = Place("金胜农贸市场", "金胜路 8 号", GridCell("江南", "金胜", "01"))

    with pytest.raises(ValidationError) as caught:
        memory_app.create_task(TaskKind.PATROL, "占道经营巡查", grid, actor=supervisor, place=elsewhere)

    assert "place" == caught.value.field


def test_inspection_kinds_are_created_with_a_checklist(
    memory_app: GridApplication, supervisor: Actor, grid: GridCell
) -> None:
    """A fire inspection or scan check cannot be created as a plain task."""
    for kind in (TaskKind.FIRE_INSPECTION, TaskKind.SCAN_CHECK):
        with pytest.raises(ValidationError) as caught:
            memory_app.create_task(kind, "检查", grid, actor=supervisor)
        assert "kind" == caught.value.field


# -- refused commands store nothing --------------------------------------------------------------

REFUSALS = [
    pytest.param(
        TaskStatus.CREATED,
        lambda a, t: a.assign_task(t, "w-li", actor=OTHER_WORKER),
        PermissionDeniedError,
        id="assign by a worker",
    ),
    pytest.param(
        TaskStatus.CREATED, lambda a, t: a.assign_task(t, " ", actor=DEPUTY), ValidationError, id="assign a blank id"
    ),
    pytest.param(
        TaskStatus.CREATED,
        lambda a, t: a.accept_task(t, actor=ASSIGNEE),
        InvalidTransitionError,
        id="accept unassigned",
    ),
    pytest.param(
        TaskStatus.ASSIGNED,
        lambda a, t: a.accept_task(t, actor=OTHER_WORKER),
        PermissionDeniedError,
        id="accept by another worker",
    ),
    pytest.param(
        TaskStatus.ASSIGNED,
        lambda a, t: a.start_task(t, actor=ASSIGNEE),
        InvalidTransitionError,
        id="start unaccepted",
    ),
    pytest.param(
        TaskStatus.IN_PROGRESS,
        lambda a, t: a.record_task_progress(t, "", actor=ASSIGNEE),
        ValidationError,
        id="blank progress note",
    ),
    pytest.param(
        TaskStatus.IN_PROGRESS,
        lambda a, t: a.record_task_progress(t, "回电 13900001111", actor=ASSIGNEE),
        ValidationError,
        id="phone number in a note",
    ),
    pytest.param(
        TaskStatus.IN_PROGRESS,
        lambda a, t: a.submit_task(t, "完成", actor=AUDITOR),
        PermissionDeniedError,
        id="submit by an auditor",
    ),
    pytest.param(
        TaskStatus.IN_PROGRESS,
        lambda a, t: a.verify_task(t, actor=DEPUTY),
        InvalidTransitionError,
        id="verify in progress",
    ),
    pytest.param(
        TaskStatus.SUBMITTED,
        lambda a, t: a.verify_task(t, actor=OTHER_WORKER),
        PermissionDeniedError,
        id="verify by a worker",
    ),
    pytest.param(
        TaskStatus.SUBMITTED,
        lambda a, t: a.verify_task(t, actor=Actor("w-li", Role.SUPERVISOR)),
        RuleViolationError,
        id="verify own work",
    ),
    pytest.param(
        TaskStatus.SUBMITTED,
        lambda a, t: a.send_back_task(t, actor=DEPUTY, reason=""),
        ValidationError,
        id="send back without reason",
    ),
    pytest.param(
        TaskStatus.SUBMITTED,
        lambda a, t: a.close_task(t, actor=DEPUTY),
        InvalidTransitionError,
        id="close unverified",
    ),
    pytest.param(
        TaskStatus.VERIFIED,
        lambda a, t: a.close_task(t, actor=TIMER),
        PermissionDeniedError,
        id="close by the system",
    ),
    pytest.param(
        TaskStatus.VERIFIED,
        lambda a, t: a.evaluate_task(t, 5, actor=DEPUTY),
        InvalidTransitionError,
        id="evaluate unclosed",
    ),
    pytest.param(
        TaskStatus.CLOSED,
        lambda a, t: a.evaluate_task(t, 9, actor=DEPUTY),
        ValidationError,
        id="evaluate out of range",
    ),
    pytest.param(
        TaskStatus.CLOSED,
        lambda a, t: a.escalate_task(t, EscalationLevel.CITY, actor=TIMER, reason="超时"),
        InvalidTransitionError,
        id="escalate closed",
    ),
    pytest.param(
        TaskStatus.ACCEPTED,
        lambda a, t: a.escalate_task(t, EscalationLevel.CITY, actor=AUDITOR, reason="超时"),
        PermissionDeniedError,
        id="escalate by an auditor",
    ),
    pytest.param(
        TaskStatus.CLOSED,
        lambda a, t: a.cancel_task(t, actor=DEPUTY, reason="重复"),
        InvalidTransitionError,
        id="cancel closed",
    ),
    pytest.param(
        TaskStatus.ASSIGNED,
        lambda a, t: a.cancel_task(t, actor=OTHER_WORKER, reason="重复"),
        PermissionDeniedError,
        id="cancel by a worker",
    ),
    pytest.param(
        TaskStatus.SUBMITTED,
        lambda a, t: a.reopen_task(t, ReopenSource.SUPERVISOR, actor=DEPUTY, reason="复核"),
        InvalidTransitionError,
        id="reopen open",
    ),
    pytest.param(
        TaskStatus.CANCELLED,
        lambda a, t: a.reopen_task(t, ReopenSource.SUPERVISOR, actor=DEPUTY, reason="复核"),
        InvalidTransitionError,
        id="reopen cancelled",
    ),
    pytest.param(
        TaskStatus.SUBMITTED,
        lambda a, t: a.reassign_task(t, "w-zhang", actor=DEPUTY, reason="调整"),
        InvalidTransitionError,
        id="reassign submitted",
    ),
    pytest.param(
        TaskStatus.IN_PROGRESS,
        lambda a, t: a.record_call(t, CallOutcome.REACHED, actor=ASSIGNEE),
        RuleViolationError,
        id="call on a patrol",
    ),
    pytest.param(
        TaskStatus.IN_PROGRESS,
        lambda a, t: a.check_item(t, "exits_clear", ItemResult.PASS, actor=ASSIGNEE),
        RuleViolationError,
        id="check an item of a patrol",
    ),
]
"""Refused commands: the status the task is driven to, the command, the error it raises."""


@pytest.mark.parametrize(("status", "command", "error"), REFUSALS)
def test_a_refused_command_stores_nothing(  # noqa: PLR0917 (pytest passes fixtures and parameters by name)
    app: GridApplication,
    worker: Actor,
    supervisor: Actor,
    grid: GridCell,
    status: TaskStatus,
    command: Command,
    error: type[GridEventsError],
) -> None:
    """Every refusal raises its typed error before any event exists: the store is unchanged."""
    task_id = new_task(app, supervisor, grid)
    drive(app, task_id, status, supervisor, worker)
    before = stored_count(app)
    version = app.get_task(task_id, actor=AUDITOR).version

    with pytest.raises(error):
        command(app, task_id)

    assert before == stored_count(app)
    assert version == app.get_task(task_id, actor=AUDITOR).version
    assert status == app.get_task(task_id, actor=AUDITOR).status


# -- stored format: upcasting and snapshots ------------------------------------------------------------


def test_a_version_1_created_event_is_upcast_to_normal_priority(
    app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Tasks stored before priorities existed read back as normal priority and carry on."""
    task_id = uuid.uuid4()
    body = {
        "actor": supervisor,
        "timestamp": datetime(2022, 4, 1, 1, 0, tzinfo=UTC),
        "originator_topic": get_topic(Task),
        "kind": TaskKind.TEST_NOTIFICATION,
        "title": "通知3幢居民核酸检测",
        "description": "",
        "grid": grid,
        "due_at": None,
        "place": None,
        "resident_id": None,
        "checklist_name": "",
        "checklist": (),
    }
    transcoder = app.mapper.transcoder
    assert isinstance(transcoder, MsgpackTranscoder)
    state = transcoder.encode((LAYOUT_VERSION, GENESIS, body))
    app.recorder.insert_events([StoredEvent(task_id, 1, get_topic(Task.Created), state)])

    task = app.get_task(task_id, actor=AUDITOR)

    assert Priority.NORMAL == task.priority
    assert TaskKind.TEST_NOTIFICATION == task.kind
    assert TaskStatus.CREATED == task.status
    app.assign_task(task_id, worker.worker_id, actor=supervisor)
    assert TaskStatus.ASSIGNED == app.get_task(task_id, actor=AUDITOR).status
    assert 2 == Task.Created.class_version


def test_new_created_events_are_stored_as_version_2(app: GridApplication, supervisor: Actor, grid: GridCell) -> None:
    """A new task's first event carries class_version 2 and its priority."""
    task_id = app.create_task(TaskKind.ERRAND, "代办", grid, actor=supervisor, priority=Priority.URGENT)
    transcoder = app.mapper.transcoder
    assert isinstance(transcoder, MsgpackTranscoder)

    _, _, body = transcoder.decode(app.recorder.select_events(task_id)[0].state)

    assert 2 == body["class_version"]
    assert Priority.URGENT == body["priority"]


def test_a_snapshot_restores_the_same_task(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, grid: GridCell
) -> None:
    """Past 50 events the task is snapshotted; reloading from the snapshot gives the same state."""
    task_id = app.create_task(
        TaskKind.SURVEY_CALL, "流调电话：同楼栋居民", grid, actor=supervisor, due_at=clock.now + timedelta(days=1)
    )
    drive(app, task_id, TaskStatus.IN_PROGRESS, supervisor, worker)
    app.escalate_task(task_id, EscalationLevel.COMMUNITY, actor=TIMER, reason="进度慢")
    for index in range(25):
        clock.advance(minutes=3)
        app.record_call(task_id, tuple(CallOutcome)[index % 3], actor=worker)
        app.record_task_progress(task_id, f"第{index + 1}户已联系", actor=worker, evidence=(PHOTO,))
    task = app.get_task(task_id, actor=AUDITOR)
    task.submit("共联系25户", actor=worker, at=clock.advance(minutes=5))
    app.save(task)
    expected = {key: value for key, value in vars(task).items() if key != "_pending_events"}

    reloaded = app.get_task(task_id, actor=AUDITOR)

    assert app.snapshots is not None
    assert [50] == [snapshot.originator_version for snapshot in app.snapshots.get(task_id)]
    assert 56 == reloaded.version
    assert expected == {key: value for key, value in vars(reloaded).items() if key != "_pending_events"}
    assert 25 == reloaded.calls.total
    assert TaskStatus.SUBMITTED == reloaded.status


def test_at_may_not_go_back_in_time(
    memory_app: GridApplication, clock: Clock, supervisor: Actor, grid: GridCell
) -> None:
    """A command recorded before the task's last event is refused naming at."""
    task_id = new_task(memory_app, supervisor, grid)
    task = memory_app.get_task(task_id, actor=AUDITOR)

    with pytest.raises(ValidationError) as caught:
        task.assign("w-li", actor=supervisor, at=clock.now - timedelta(minutes=1))

    assert "at" == caught.value.field
    assert date(2026, 11, 2) == task.created_on.date()
