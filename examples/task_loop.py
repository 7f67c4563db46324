"""The closed loop of a task: assign, accept, handle, report back, verify, close, reopen on complaint.

A task is never closed without a supervisor's verification, and the verifier is
never the person who did the work. Run:  python examples/task_loop.py
"""

from __future__ import annotations

from datetime import timedelta

from grid_events import (
    Actor,
    EscalationLevel,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PermissionDeniedError,
    Priority,
    ReopenSource,
    Role,
    RuleViolationError,
    StoreConfig,
    TaskKind,
)

secretary = Actor("s-wang", Role.SUPERVISOR)
worker = Actor("w-li", Role.GRID_WORKER)
volunteer = Actor("v-sun", Role.VOLUNTEER)
cell = GridCell("稠城", "宾王", "02")

with GridApplication(StoreConfig.memory()) as app:
    task_id = app.create_task(
        TaskKind.PATROL,
        "巡查：宾王路占道经营",
        cell,
        actor=secretary,
        priority=Priority.HIGH,
        due_at=app.now() + timedelta(hours=4),
    )
    app.assign_task(task_id, worker.worker_id, actor=secretary)

    # Only the assignee accepts; a volunteer cannot even try.
    try:
        app.accept_task(task_id, actor=volunteer)
    except PermissionDeniedError as error:
        print("refused:", error)
    app.accept_task(task_id, actor=worker)
    app.start_task(task_id, actor=worker)
    app.record_task_progress(task_id, "已劝离两处流动摊贩", actor=worker)

    # Submitting is not closing: closing before verification is refused.
    app.submit_task(task_id, "占道经营已清理，沿街店铺已告知", actor=worker)
    try:
        app.close_task(task_id, actor=secretary)
    except InvalidTransitionError as error:
        print("refused:", error)

    # Four eyes: the supervisor verifies; the worker could not verify their own work.
    app.send_back_task(task_id, actor=secretary, reason="请补充整改前后照片")
    app.submit_task(task_id, "已补充照片", actor=worker)
    app.verify_task(task_id, actor=secretary, note="照片核实无误")
    app.close_task(task_id, actor=secretary)

    # A resident complains the stalls are back: reopening is a real event, and the task goes back to its worker.
    app.reopen_task(task_id, ReopenSource.RESIDENT_COMPLAINT, actor=secretary, reason="12345热线：摊贩又回来了")
    app.escalate_task(task_id, EscalationLevel.SUB_DISTRICT, actor=secretary, reason="多次反复，报街道督办")
    task = app.get_task(task_id, actor=secretary)
    print("status:", task.status, "reopened:", task.reopen_count, "escalation:", task.escalation_level)
    assert task.status == "assigned"
    assert task.reopen_count == 1

    # Rules are named when broken: a survey-call task needs calls before it is submitted.
    calls = app.create_task(TaskKind.SURVEY_CALL, "流调电话", cell, actor=secretary)
    app.assign_task(calls, worker.worker_id, actor=secretary)
    app.accept_task(calls, actor=worker)
    app.start_task(calls, actor=worker)
    try:
        app.submit_task(calls, "已完成", actor=worker)
    except RuleViolationError as error:
        print("refused:", error.rule)
        assert error.rule == "task.survey-call-needs-calls"
