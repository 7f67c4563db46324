"""Random command sequences on one task, by anyone, checked against a small model of the closed loop."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    GridEventsError,
    InvalidTransitionError,
    PermissionDeniedError,
    Role,
    RuleViolationError,
    StoreConfig,
    ValidationError,
)
from grid_events.domain.task import (
    WORKER_ROLES,
    CallOutcome,
    EscalationLevel,
    ReopenSource,
    TaskKind,
    TaskStatus,
)

GRID = GridCell("江南", "飞凤", "03")
SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""
ACTORS = (
    SUPERVISOR,
    Actor("s-zhou", Role.SUPERVISOR),
    Actor("w-li", Role.GRID_WORKER),
    Actor("w-zhang", Role.GRID_WORKER),
    Actor("w-li", Role.VOLUNTEER),
    Actor("so-zhao", Role.SAFETY_OFFICER),
    Actor("v-sun", Role.VOLUNTEER),
    Actor("a-qian", Role.AUDITOR),
    Actor("timer", Role.SYSTEM),
)
"""Everyone who may try a command: supervisors, workers, a worker acting as a volunteer, auditors, the timer."""
ASSIGNEES = ("w-li", "w-zhang", "s-wang", " ")
"""Worker ids a supervisor may assign to; the supervisor themself, and a blank (invalid) id."""
TEXTS = ("核实情况后处理", "已到现场", "", "  ", "请回电 13812345678")
"""Free text: two valid, one empty, one blank, one holding a mobile number (refused)."""
RIGHT = "the right person"
"""Stands for whoever the rules let do the command: the assignee, or a supervisor who did not do the work."""

actors: st.SearchStrategy[Actor | str] = st.one_of(st.just(RIGHT), st.sampled_from(ACTORS))
texts = st.sampled_from(TEXTS)

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
OPEN = frozenset(TaskStatus) - {TaskStatus.CLOSED, TaskStatus.CANCELLED}
Expected = type[GridEventsError] | None


def valid_text(text: str) -> bool:
    """Whether the domain accepts *text* as work text."""
    return bool(text.strip()) and not _MOBILE.search(text)


@attrs.define
class Model:
    """What the rules say the task should be."""

    kind: TaskKind
    status: TaskStatus = TaskStatus.CREATED
    assignee: str | None = None
    calls: int = 0
    rated: bool = False
    verified: bool = False
    reopened: int = 0
    escalated: int = 0
    sent_back: int = 0

    def role(self, actor: Actor, *roles: Role) -> Expected:
        """PermissionDenied unless *actor* acts in one of *roles*."""
        return None if actor.role in roles else PermissionDeniedError

    def work_right(self, actor: Actor) -> Expected:
        """PermissionDenied unless *actor* holds the right task.work (checked before anything else)."""
        return self.role(actor, *WORKER_ROLES)

    def state(self, *allowed: TaskStatus) -> Expected:
        """InvalidTransition unless the task is in one of *allowed*."""
        return None if self.status in allowed else InvalidTransitionError

    def assignee_only(self, actor: Actor) -> Expected:
        """PermissionDenied unless *actor* is the assignee acting as a worker."""
        return None if actor.worker_id == self.assignee and actor.role in WORKER_ROLES else PermissionDeniedError

    def four_eyes(self, actor: Actor) -> Expected:
        """RuleViolation if *actor* did the work."""
        return RuleViolationError if actor.worker_id == self.assignee else None

    @staticmethod
    def text(value: str) -> Expected:
        """Validation unless *value* is acceptable work text."""
        return None if valid_text(value) else ValidationError


def first(*checks: Callable[[], Expected]) -> Expected:
    """Return the first refusal among *checks*, in the order the aggregate checks them."""
    for check in checks:
        refusal = check()
        if refusal is not None:
            return refusal
    return None


class TaskMachine(RuleBasedStateMachine):
    """Drive one task with random commands by random people; compare with :class:`Model`."""

    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
        self.app = GridApplication(StoreConfig.memory(), clock=lambda: self.now)
        self.model = Model(TaskKind.PATROL)
        self.task_id: Any = None

    def teardown(self) -> None:
        """Close the application."""
        self.app.close()

    def worker(self, actor: Actor | str) -> Actor:
        """Return *actor*, or the assignee acting as a worker for RIGHT."""
        if isinstance(actor, Actor):
            return actor
        assignee = self.model.assignee or "w-li"
        return Actor(assignee, Role.SUPERVISOR if assignee == SUPERVISOR.worker_id else Role.GRID_WORKER)

    def checker(self, actor: Actor | str) -> Actor:
        """Return *actor*, or a supervisor who did not do the work for RIGHT."""
        if isinstance(actor, Actor):
            return actor
        return Actor("s-zhou", Role.SUPERVISOR) if self.model.assignee == SUPERVISOR.worker_id else SUPERVISOR

    def stored(self) -> int:
        """How many events the store holds."""
        return self.app.recorder.max_notification_id() or 0

    def attempt(self, expected: Expected, command: Callable[[], object], change: Callable[[], None]) -> None:
        """Run *command*; it must raise *expected* and store nothing, or succeed and *change* the model."""
        self.now += timedelta(minutes=1)
        before = self.stored()
        refusal: GridEventsError | None = None
        try:
            command()
        except GridEventsError as error:
            refusal = error
        if refusal is not None:
            assert expected is not None, f"refused unexpectedly: {refusal!r}"
            assert isinstance(refusal, expected), f"expected {expected.__name__}, got {refusal!r}"
            assert before == self.stored()
        else:
            assert expected is None, f"expected {expected.__name__}, but the command succeeded"
            assert before < self.stored()
            change()

    @initialize(creator=st.sampled_from(ACTORS), kind=st.sampled_from([TaskKind.PATROL, TaskKind.SURVEY_CALL]))
    def create(self, creator: Actor, kind: TaskKind) -> None:
        """Someone tries to create the task; volunteers and auditors cannot, so a supervisor does."""
        self.model = Model(kind)
        allowed = creator.role in {*WORKER_ROLES, Role.SYSTEM}
        try:
            self.task_id = self.app.create_task(kind, "占道经营巡查", GRID, actor=creator)
        except PermissionDeniedError:
            assert not allowed
            assert 0 == self.stored()
            self.task_id = self.app.create_task(kind, "占道经营巡查", GRID, actor=SUPERVISOR)
        else:
            assert allowed

    # -- the supervisor's steps -------------------------------------------------------------

    @rule(actor=actors, assignee=st.sampled_from(ASSIGNEES))
    def assign(self, actor: Actor | str, assignee: str) -> None:
        """Assign the task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR),
            lambda: m.state(TaskStatus.CREATED),
            lambda: m.text(assignee),
        )

        def change() -> None:
            m.status, m.assignee = TaskStatus.ASSIGNED, assignee

        self.attempt(expected, lambda: self.app.assign_task(self.task_id, assignee, actor=actor), change)

    @rule(actor=actors, assignee=st.sampled_from(ASSIGNEES), reason=texts)
    def reassign(self, actor: Actor | str, assignee: str, reason: str) -> None:
        """Reassign the task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR),
            lambda: m.state(TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS),
            lambda: m.text(assignee) or (ValidationError if assignee == m.assignee else None),
            lambda: m.text(reason),
        )

        def change() -> None:
            m.status, m.assignee = TaskStatus.ASSIGNED, assignee

        self.attempt(
            expected, lambda: self.app.reassign_task(self.task_id, assignee, actor=actor, reason=reason), change
        )

    @rule(actor=actors)
    def verify(self, actor: Actor | str) -> None:
        """Verify the submitted work."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR),
            lambda: m.state(TaskStatus.SUBMITTED),
            lambda: m.four_eyes(actor),
        )

        def change() -> None:
            m.status, m.verified = TaskStatus.VERIFIED, True

        self.attempt(expected, lambda: self.app.verify_task(self.task_id, actor=actor), change)

    @rule(actor=actors, reason=texts)
    def send_back(self, actor: Actor | str, reason: str) -> None:
        """Send the submitted work back."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR),
            lambda: m.state(TaskStatus.SUBMITTED),
            lambda: m.four_eyes(actor),
            lambda: m.text(reason),
        )

        def change() -> None:
            m.status = TaskStatus.IN_PROGRESS
            m.sent_back += 1

        self.attempt(expected, lambda: self.app.send_back_task(self.task_id, actor=actor, reason=reason), change)

    @rule(actor=actors)
    def close(self, actor: Actor | str) -> None:
        """Close the verified task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(lambda: m.role(actor, Role.SUPERVISOR), lambda: m.state(TaskStatus.VERIFIED))

        def change() -> None:
            m.status = TaskStatus.CLOSED

        self.attempt(expected, lambda: self.app.close_task(self.task_id, actor=actor), change)

    @rule(actor=actors, rating=st.integers(min_value=0, max_value=6))
    def evaluate(self, actor: Actor | str, rating: int) -> None:
        """Rate the closed task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR, Role.SYSTEM),
            lambda: m.state(TaskStatus.CLOSED),
            lambda: RuleViolationError if m.rated else None,
            lambda: m.four_eyes(actor),
            lambda: None if 1 <= rating <= 5 else ValidationError,
        )

        def change() -> None:
            m.rated = True

        self.attempt(expected, lambda: self.app.evaluate_task(self.task_id, rating, actor=actor), change)

    @rule(actor=actors, level=st.sampled_from(EscalationLevel), reason=texts)
    def escalate(self, actor: Actor | str, level: EscalationLevel, reason: str) -> None:
        """Escalate the open task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR, Role.SYSTEM),
            lambda: m.state(*OPEN),
            lambda: m.text(reason),
        )

        def change() -> None:
            m.escalated += 1

        self.attempt(expected, lambda: self.app.escalate_task(self.task_id, level, actor=actor, reason=reason), change)

    @rule(actor=actors, reason=texts)
    def cancel(self, actor: Actor | str, reason: str) -> None:
        """Cancel the task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR),
            lambda: m.state(*OPEN),
            lambda: m.text(reason),
        )

        def change() -> None:
            m.status = TaskStatus.CANCELLED

        self.attempt(expected, lambda: self.app.cancel_task(self.task_id, actor=actor, reason=reason), change)

    @rule(actor=actors, source=st.sampled_from(ReopenSource), reason=texts)
    def reopen(self, actor: Actor | str, source: ReopenSource, reason: str) -> None:
        """Reopen the closed task."""
        actor = self.checker(actor)
        m = self.model
        expected = first(
            lambda: m.role(actor, Role.SUPERVISOR, Role.SYSTEM),
            lambda: m.state(TaskStatus.CLOSED),
            lambda: m.text(reason),
        )

        def change() -> None:
            m.status, m.rated, m.verified = TaskStatus.ASSIGNED, False, False
            m.reopened += 1

        self.attempt(expected, lambda: self.app.reopen_task(self.task_id, source, actor=actor, reason=reason), change)

    # -- the assignee's steps ---------------------------------------------------------------

    @rule(actor=actors)
    def accept(self, actor: Actor | str) -> None:
        """Accept the task."""
        actor = self.worker(actor)
        m = self.model
        expected = first(
            lambda: m.work_right(actor), lambda: m.state(TaskStatus.ASSIGNED), lambda: m.assignee_only(actor)
        )

        def change() -> None:
            m.status = TaskStatus.ACCEPTED

        self.attempt(expected, lambda: self.app.accept_task(self.task_id, actor=actor), change)

    @rule(actor=actors)
    def start(self, actor: Actor | str) -> None:
        """Start the work."""
        actor = self.worker(actor)
        m = self.model
        expected = first(
            lambda: m.work_right(actor), lambda: m.state(TaskStatus.ACCEPTED), lambda: m.assignee_only(actor)
        )

        def change() -> None:
            m.status = TaskStatus.IN_PROGRESS

        self.attempt(expected, lambda: self.app.start_task(self.task_id, actor=actor), change)

    @rule(actor=actors, note=texts)
    def record_progress(self, actor: Actor | str, note: str) -> None:
        """Record progress."""
        actor = self.worker(actor)
        m = self.model
        expected = first(
            lambda: m.work_right(actor),
            lambda: m.state(TaskStatus.IN_PROGRESS),
            lambda: m.assignee_only(actor),
            lambda: m.text(note),
        )
        self.attempt(expected, lambda: self.app.record_task_progress(self.task_id, note, actor=actor), lambda: None)

    @rule(actor=actors, outcome=st.sampled_from(CallOutcome))
    def record_call(self, actor: Actor | str, outcome: CallOutcome) -> None:
        """Record a survey call."""
        actor = self.worker(actor)
        m = self.model
        expected = first(
            lambda: m.work_right(actor),
            lambda: m.state(TaskStatus.IN_PROGRESS),
            lambda: m.assignee_only(actor),
            lambda: None if m.kind is TaskKind.SURVEY_CALL else RuleViolationError,
        )

        def change() -> None:
            m.calls += 1

        self.attempt(expected, lambda: self.app.record_call(self.task_id, outcome, actor=actor), change)

    @rule(actor=actors, summary=texts)
    def submit(self, actor: Actor | str, summary: str) -> None:
        """Submit the work."""
        actor = self.worker(actor)
        m = self.model
        expected = first(
            lambda: m.work_right(actor),
            lambda: m.state(TaskStatus.IN_PROGRESS),
            lambda: m.assignee_only(actor),
            lambda: m.text(summary),
            lambda: RuleViolationError if m.kind is TaskKind.SURVEY_CALL and m.calls == 0 else None,
        )

        def change() -> None:
            m.status = TaskStatus.SUBMITTED

        self.attempt(expected, lambda: self.app.submit_task(self.task_id, summary, actor=actor), change)

    # -- the loop moving on --------------------------------------------------------------------

    @rule(assignee=st.sampled_from(ASSIGNEES[:3]), rating=st.integers(min_value=1, max_value=5), accept=st.booleans())
    def advance(self, assignee: str, rating: int, accept: bool) -> None:
        """The right person takes the next step of the closed loop, with valid input.

        Submitted work is verified if *accept*, else sent back.
        """
        m = self.model
        calls_first = m.kind is TaskKind.SURVEY_CALL and not m.calls
        steps: dict[TaskStatus, Callable[[], None]] = {
            TaskStatus.CREATED: lambda: self.assign(RIGHT, assignee),
            TaskStatus.ASSIGNED: lambda: self.accept(RIGHT),
            TaskStatus.ACCEPTED: lambda: self.start(RIGHT),
            TaskStatus.IN_PROGRESS: lambda: (
                self.record_call(RIGHT, CallOutcome.REACHED) if calls_first else self.submit(RIGHT, TEXTS[0])
            ),
            TaskStatus.SUBMITTED: lambda: self.verify(RIGHT) if accept else self.send_back(RIGHT, TEXTS[1]),
            TaskStatus.VERIFIED: lambda: self.close(RIGHT),
            TaskStatus.CLOSED: lambda: (
                self.reopen(RIGHT, ReopenSource.RESIDENT_COMPLAINT, TEXTS[0])
                if m.rated
                else self.evaluate(RIGHT, rating)
            ),
            TaskStatus.CANCELLED: lambda: self.accept(RIGHT),
        }
        steps[m.status]()

    @rule(assignee=st.sampled_from(ASSIGNEES[:3]), rating=st.integers(min_value=1, max_value=5), accept=st.booleans())
    def advance_again(self, assignee: str, rating: int, accept: bool) -> None:
        """The loop moves on more often than it is disturbed."""
        self.advance(assignee, rating, accept)

    # -- what must always hold -------------------------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        """The stored task is where the model says it is."""
        if self.task_id is None:
            return
        task = self.app.get_task(self.task_id, actor=AUDITOR)
        m = self.model
        assert m.status == task.status
        assert m.assignee == task.assignee
        assert m.calls == task.calls.total
        assert m.rated == task.is_evaluated
        assert m.reopened == task.reopen_count
        assert m.escalated == task.escalation_count
        assert m.sent_back == task.sent_back_count
        assert m.verified == (task.verified_by is not None)
        if task.verified_by is not None:
            assert task.verified_by != task.assignee


TaskMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestTaskStateful = TaskMachine.TestCase
