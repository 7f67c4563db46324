"""Inspections of small venues: checklist, findings, rectification, re-inspection and reporting to the authority."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Protocol

import pytest

from grid_events import (
    Actor,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PermissionDeniedError,
    Place,
    Role,
    RuleViolationError,
    ValidationError,
)
from grid_events.domain.calendar import working_days_between
from grid_events.domain.inspection import (
    SMALL_VENUE_FIRE_SAFETY,
    VENUE_SCAN_CHECK,
    ChecklistItem,
    ChecklistTemplate,
    FindingStatus,
    ItemResult,
    Severity,
)
from grid_events.domain.task import ReopenSource, TaskKind, TaskStatus


class Clock(Protocol):
    """The hand-driven clock of conftest.py."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


DEPUTY = Actor("s-zhou", Role.SUPERVISOR)
"""The community's deputy secretary, a second supervisor."""
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""
FIRE_BRIGADE = "义乌市消防救援大队江南中队"
NOODLE_SHOP = Place("吴记面馆", "飞凤路 18 号", GridCell("江南", "飞凤", "03"))
"""A small eatery (三小场所) in the grid cell of the scenarios."""
FOUND_ON = date(2026, 11, 2)
"""The Monday of the first visit."""


def photo(name: str) -> EvidenceRef:
    """Return a reference to a photo taken on site."""
    return EvidenceRef(EvidenceKind.PHOTO, f"evidence://2026/11/{name}.jpg", description=name)


def stored_count(app: GridApplication) -> int:
    """Return how many events the store holds."""
    return app.recorder.max_notification_id() or 0


def started_inspection(app: GridApplication, supervisor: Actor, officer: Actor) -> uuid.UUID:
    """Create a fire inspection of the noodle shop, assigned to *officer*, who accepts and starts it."""
    task_id = app.create_inspection("吴记面馆消防安全检查", NOODLE_SHOP, SMALL_VENUE_FIRE_SAFETY, actor=supervisor)
    app.assign_task(task_id, officer.worker_id, actor=supervisor)
    app.accept_task(task_id, actor=officer)
    app.start_task(task_id, actor=officer)
    return task_id


def check_all(app: GridApplication, task_id: uuid.UUID, officer: Actor, *failed: str) -> None:
    """Check every item of the fire checklist: *failed* ones fail, gas does not apply, the rest pass."""
    for item in SMALL_VENUE_FIRE_SAFETY.items:
        if item.code in failed:
            app.check_item(task_id, item.code, ItemResult.FAIL, actor=officer)
        elif item.code == "gas_use":
            app.check_item(task_id, item.code, ItemResult.NOT_APPLICABLE, actor=officer, note="电磁炉，未使用燃气")
        else:
            app.check_item(task_id, item.code, ItemResult.PASS, actor=officer)


def blocked_exit(app: GridApplication, task_id: uuid.UUID, officer: Actor, severity: Severity = Severity.MAJOR) -> str:
    """Record the blocked back exit of the noodle shop as a finding; return its id."""
    return app.record_finding(
        task_id,
        "exits_clear",
        "后门安全出口被纸箱和食材堵塞",
        severity=severity,
        location="后厨后门",
        found_on=FOUND_ON,
        actor=officer,
        evidence=(photo("back-exit"),),
    )


# -- the whole inspection --------------------------------------------------------------------------


def test_a_hazard_is_followed_through_a_failed_reinspection_to_rectification(
    app: GridApplication, clock: Clock, supervisor: Actor, safety_officer: Actor
) -> None:
    """Failed item, finding, order, owner's report, failed re-inspection, new order, pass; verified and closed."""
    task_id = started_inspection(app, supervisor, safety_officer)
    check_all(app, task_id, safety_officer, "exits_clear")
    finding_id = blocked_exit(app, task_id, safety_officer)
    clock.advance(days=1)
    app.order_rectification(task_id, finding_id, date(2026, 11, 6), date(2026, 11, 3), actor=safety_officer)
    clock.advance(days=2)
    app.record_owner_report(
        task_id, finding_id, date(2026, 11, 5), actor=safety_officer, note="店主称已清理", evidence=(photo("owner"),)
    )
    clock.advance(days=4)
    app.reinspect(
        task_id, finding_id, date(2026, 11, 9), passed=False, actor=safety_officer, note="纸箱移走，但后门仍上锁"
    )
    app.order_rectification(task_id, finding_id, date(2026, 11, 12), date(2026, 11, 9), actor=safety_officer)
    clock.advance(days=4)
    app.reinspect(
        task_id,
        finding_id,
        date(2026, 11, 13),
        passed=True,
        actor=safety_officer,
        note="后门畅通，已改为推闩",
        evidence=(photo("back-exit-clear"),),
    )
    app.submit_task(task_id, "检查7项，发现1处隐患，经两次复查已整改", actor=safety_officer)
    app.verify_task(task_id, actor=supervisor, note="查看复查照片属实")
    app.close_task(task_id, actor=supervisor)

    task = app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.CLOSED == task.status
    inspection = task.the_inspection
    assert "三小场所消防安全检查" == inspection.template_name
    assert () == inspection.unchecked_codes
    (record,) = inspection.findings
    assert "F1" == record.finding_id
    assert FindingStatus.RECTIFIED == record.status
    assert [(1, date(2026, 11, 3), date(2026, 11, 6)), (2, date(2026, 11, 9), date(2026, 11, 12))] == [
        (order.number, order.notice_served_on, order.deadline) for order in record.orders
    ]
    assert [(1, False), (2, True)] == [(r.order_number, r.passed) for r in record.reinspections]
    assert [1] == [report.order_number for report in record.owner_reports]
    assert record.authority_report is None


def test_the_dates_needed_for_the_timeliness_audit_are_recorded(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """Notice within 3 working days of the finding, re-inspection within 3 after the deadline: checkable later."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    check_all(memory_app, task_id, safety_officer, "exits_clear")
    finding_id = blocked_exit(memory_app, task_id, safety_officer)
    # Served late on purpose: the domain records it; the audit flags it.
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 13), date(2026, 11, 9), actor=safety_officer)
    memory_app.reinspect(
        task_id, finding_id, date(2026, 11, 16), passed=True, actor=safety_officer, evidence=(photo("fixed"),)
    )

    record = memory_app.get_task(task_id, actor=AUDITOR).the_inspection.record_of(finding_id)
    order = record.orders[0]
    assert 5 == working_days_between(record.finding.found_on, order.notice_served_on)
    assert 1 == working_days_between(order.deadline, record.reinspections[0].inspected_on)


def test_reporting_to_the_authority_resolves_findings(
    app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """Hazards the owner will not fix are reported to the fire brigade; then the inspection can be submitted."""
    task_id = started_inspection(app, supervisor, safety_officer)
    check_all(app, task_id, safety_officer, "exits_clear", "no_sleeping_on_premises")
    exit_id = blocked_exit(app, task_id, safety_officer)
    sleeping_id = app.record_finding(
        task_id,
        "no_sleeping_on_premises",
        "阁楼设员工宿舍，2人住宿",
        severity=Severity.MAJOR,
        location="二楼阁楼",
        found_on=FOUND_ON,
        actor=safety_officer,
        evidence=(photo("loft"),),
    )
    app.order_rectification(task_id, exit_id, date(2026, 11, 5), FOUND_ON, actor=safety_officer)
    app.reinspect(task_id, exit_id, date(2026, 11, 6), passed=False, actor=safety_officer, note="店主拒不整改")

    app.report_to_authority(
        task_id, (exit_id, sleeping_id), FIRE_BRIGADE, "店主拒不整改，需执法", date(2026, 11, 6), actor=safety_officer
    )

    inspection = app.get_task(task_id, actor=AUDITOR).the_inspection
    assert [FindingStatus.REPORTED, FindingStatus.REPORTED] == [record.status for record in inspection.findings]
    assert FIRE_BRIGADE == inspection.findings[1].authority_report.authority  # type: ignore[union-attr]
    before = stored_count(app)
    with pytest.raises(RuleViolationError) as resolved:
        app.order_rectification(task_id, exit_id, date(2026, 11, 10), date(2026, 11, 7), actor=safety_officer)
    with pytest.raises(RuleViolationError) as again:
        app.report_to_authority(task_id, (sleeping_id,), "派出所", "再次报告", date(2026, 11, 7), actor=safety_officer)
    assert "inspection.finding-resolved" == resolved.value.rule
    assert "inspection.already-reported" == again.value.rule
    assert before == stored_count(app)
    app.submit_task(task_id, "发现2处隐患，已移交消防救援大队", actor=safety_officer)
    assert app.get_task(task_id, actor=AUDITOR).waiting_for_verification


def test_a_severe_hazard_is_reported_even_when_rectified(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """A severe (重大) hazard must reach the fire authority before the inspection is submitted."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    check_all(memory_app, task_id, safety_officer, "exits_clear")
    finding_id = blocked_exit(memory_app, task_id, safety_officer, Severity.SEVERE)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 3), FOUND_ON, actor=safety_officer)
    memory_app.reinspect(
        task_id, finding_id, date(2026, 11, 3), passed=True, actor=safety_officer, evidence=(photo("fixed"),)
    )

    with pytest.raises(RuleViolationError) as caught:
        memory_app.submit_task(task_id, "已整改", actor=safety_officer)
    memory_app.report_to_authority(
        task_id, (finding_id,), FIRE_BRIGADE, "重大隐患，已当场整改，报备", date(2026, 11, 3), actor=safety_officer
    )
    memory_app.submit_task(task_id, "已整改并报备", actor=safety_officer)

    assert "inspection.severe-not-reported" == caught.value.rule
    assert "F1" in caught.value.message
    assert FindingStatus.RECTIFIED == memory_app.get_task(task_id, actor=AUDITOR).the_inspection.findings[0].status


# -- what submission needs --------------------------------------------------------------------------


def test_submitting_names_the_items_not_checked(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """An inspection with unchecked items is refused, naming them."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "extinguishers", ItemResult.PASS, actor=safety_officer)

    with pytest.raises(RuleViolationError) as caught:
        memory_app.submit_task(task_id, "已检查", actor=safety_officer)

    assert "inspection.unchecked-items" == caught.value.rule
    assert "exits_clear" in caught.value.message
    assert "extinguishers" not in caught.value.message


def test_a_failed_item_needs_a_finding(memory_app: GridApplication, supervisor: Actor, safety_officer: Actor) -> None:
    """Every failed item must be described by a finding before submitting."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    check_all(memory_app, task_id, safety_officer, "wiring_in_conduit")

    with pytest.raises(RuleViolationError) as caught:
        memory_app.submit_task(task_id, "已检查", actor=safety_officer)

    assert "inspection.failed-item-without-finding" == caught.value.rule
    assert "wiring_in_conduit" in caught.value.message


def test_unresolved_findings_block_submission_and_say_what_is_missing(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """Each finding must be rectified or reported; the refusal names each one and what it lacks."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    check_all(memory_app, task_id, safety_officer, "exits_clear", "power_use")
    exit_id = blocked_exit(memory_app, task_id, safety_officer)
    memory_app.record_finding(
        task_id,
        "power_use",
        "电动自行车在店内充电",
        severity=Severity.MAJOR,
        location="店堂",
        found_on=FOUND_ON,
        actor=safety_officer,
        evidence=(photo("ebike"),),
    )
    memory_app.order_rectification(task_id, exit_id, date(2026, 11, 5), FOUND_ON, actor=safety_officer)

    with pytest.raises(RuleViolationError) as caught:
        memory_app.submit_task(task_id, "已检查", actor=safety_officer)

    assert "inspection.unresolved-findings" == caught.value.rule
    assert "F1: order 1 due 2026-11-05, not re-inspected" in caught.value.message
    assert "F2: no rectification order" in caught.value.message


# -- checking items and recording findings ---------------------------------------------------------------


def test_findings_are_numbered_in_order_including_hazards_outside_the_checklist(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """The aggregate numbers findings F1, F2…; a hazard outside the checklist has no item code."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)

    first = blocked_exit(memory_app, task_id, safety_officer)
    second = memory_app.record_finding(
        task_id,
        None,
        "后厨堆放大量纸箱等可燃物",
        severity=Severity.MINOR,
        location="后厨",
        found_on=FOUND_ON,
        actor=safety_officer,
        evidence=(photo("boxes"),),
    )

    assert ("F1", "F2") == (first, second)
    assert [None, "exits_clear"] == sorted(
        (record.finding.item_code for record in memory_app.get_task(task_id, actor=AUDITOR).the_inspection.findings),
        key=lambda code: code or "",
    )


def test_a_finding_needs_a_failed_item_and_evidence(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """No finding on a passed or unchecked item, on an unknown item, or without a photo or other evidence."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "extinguishers", ItemResult.PASS, actor=safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)

    def record(item_code: str, evidence: tuple[EvidenceRef, ...] = (photo("x"),)) -> str:
        return memory_app.record_finding(
            task_id,
            item_code,
            "隐患",
            severity=Severity.MINOR,
            location="店堂",
            found_on=FOUND_ON,
            actor=safety_officer,
            evidence=evidence,
        )

    with pytest.raises(RuleViolationError) as passed:
        record("extinguishers")
    with pytest.raises(RuleViolationError) as unchecked:
        record("exit_signs")
    with pytest.raises(ValidationError) as unknown:
        record("sprinklers")
    with pytest.raises(ValidationError) as no_evidence:
        record("exits_clear", ())

    assert "inspection.finding-on-failed-item" == passed.value.rule
    assert "not checked yet" in unchecked.value.message
    assert "item_code" == unknown.value.field
    assert "evidence" == no_evidence.value.field
    assert () == memory_app.get_task(task_id, actor=AUDITOR).the_inspection.findings


def test_not_applicable_needs_a_reason(memory_app: GridApplication, supervisor: Actor, safety_officer: Actor) -> None:
    """An item marked not applicable must say why, so a checklist is not waved through."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)

    with pytest.raises(ValidationError) as caught:
        memory_app.check_item(task_id, "gas_use", ItemResult.NOT_APPLICABLE, actor=safety_officer)
    with pytest.raises(ValidationError) as unknown:
        memory_app.check_item(task_id, "gas", ItemResult.PASS, actor=safety_officer)

    assert "note" == caught.value.field
    assert "code" == unknown.value.field


def test_an_item_with_findings_stays_failed(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """Re-checking a failed item as passed would hide its finding: the re-inspection records the fix instead."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)
    blocked_exit(memory_app, task_id, safety_officer)
    memory_app.check_item(task_id, "extinguishers", ItemResult.FAIL, actor=safety_officer)

    with pytest.raises(RuleViolationError) as caught:
        memory_app.check_item(task_id, "exits_clear", ItemResult.PASS, actor=safety_officer)
    memory_app.check_item(task_id, "extinguishers", ItemResult.PASS, actor=safety_officer, note="看错了，在有效期内")

    assert "inspection.item-has-findings" == caught.value.rule
    check = memory_app.get_task(task_id, actor=AUDITOR).the_inspection.check_of("extinguishers")
    assert check is not None
    assert ItemResult.PASS == check.result


# -- rectification orders and re-inspections ---------------------------------------------------------------


def test_order_dates_follow_the_finding(memory_app: GridApplication, supervisor: Actor, safety_officer: Actor) -> None:
    """The notice is not before the finding, and the deadline is after the notice."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)
    finding_id = blocked_exit(memory_app, task_id, safety_officer)

    with pytest.raises(ValidationError) as early:
        memory_app.order_rectification(task_id, finding_id, date(2026, 11, 5), date(2026, 11, 1), actor=safety_officer)
    with pytest.raises(ValidationError) as same_day:
        memory_app.order_rectification(task_id, finding_id, FOUND_ON, FOUND_ON, actor=safety_officer)
    with pytest.raises(ValidationError) as unknown:
        memory_app.order_rectification(task_id, "F9", date(2026, 11, 5), FOUND_ON, actor=safety_officer)

    assert "notice_served_on" == early.value.field
    assert "deadline" == same_day.value.field
    assert "finding_id" == unknown.value.field


def test_one_order_at_a_time_and_a_new_one_only_after_a_failed_reinspection(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """A pending order must be re-inspected first; after a failure, a new notice is served on or after that day."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)
    finding_id = blocked_exit(memory_app, task_id, safety_officer)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 5), FOUND_ON, actor=safety_officer)

    with pytest.raises(RuleViolationError) as pending:
        memory_app.order_rectification(task_id, finding_id, date(2026, 11, 9), date(2026, 11, 3), actor=safety_officer)
    memory_app.reinspect(task_id, finding_id, date(2026, 11, 6), passed=False, actor=safety_officer)
    with pytest.raises(RuleViolationError) as no_new_order:
        memory_app.reinspect(task_id, finding_id, date(2026, 11, 7), passed=False, actor=safety_officer)
    with pytest.raises(ValidationError) as before_failure:
        memory_app.order_rectification(task_id, finding_id, date(2026, 11, 9), date(2026, 11, 5), actor=safety_officer)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 9), date(2026, 11, 6), actor=safety_officer)

    assert "inspection.order-pending" == pending.value.rule
    assert "inspection.order-first" == no_new_order.value.rule
    assert "notice_served_on" == before_failure.value.field
    record = memory_app.get_task(task_id, actor=AUDITOR).the_inspection.record_of(finding_id)
    assert FindingStatus.RECTIFYING == record.status
    assert 2 == len(record.orders)


def test_a_reinspection_needs_an_order_and_a_passed_one_needs_evidence(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """Re-inspecting without an order, before the notice, or passing without evidence is refused."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)
    finding_id = blocked_exit(memory_app, task_id, safety_officer)

    with pytest.raises(RuleViolationError) as no_order:
        memory_app.reinspect(task_id, finding_id, date(2026, 11, 3), passed=True, actor=safety_officer)
    with pytest.raises(RuleViolationError) as no_order_report:
        memory_app.record_owner_report(task_id, finding_id, date(2026, 11, 3), actor=safety_officer)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 6), date(2026, 11, 3), actor=safety_officer)
    with pytest.raises(ValidationError) as before_notice:
        memory_app.reinspect(
            task_id, finding_id, FOUND_ON, passed=True, actor=safety_officer, evidence=(photo("fixed"),)
        )
    with pytest.raises(ValidationError) as no_evidence:
        memory_app.reinspect(task_id, finding_id, date(2026, 11, 6), passed=True, actor=safety_officer)
    with pytest.raises(ValidationError) as report_before_notice:
        memory_app.record_owner_report(task_id, finding_id, FOUND_ON, actor=safety_officer)

    assert "inspection.order-first" == no_order.value.rule
    assert "inspection.order-first" == no_order_report.value.rule
    assert "inspected_on" == before_notice.value.field
    assert "evidence" == no_evidence.value.field
    assert "reported_on" == report_before_notice.value.field


def test_the_owners_report_is_kept_until_the_reinspection(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """After the owner says it is fixed the finding waits for the re-inspection; a rectified one takes no more steps."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    memory_app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)
    finding_id = blocked_exit(memory_app, task_id, safety_officer)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 6), date(2026, 11, 3), actor=safety_officer)

    memory_app.record_owner_report(task_id, finding_id, date(2026, 11, 4), actor=safety_officer, note="微信发来照片")
    assert (
        FindingStatus.OWNER_REPORTED
        == memory_app.get_task(task_id, actor=AUDITOR).the_inspection.record_of(finding_id).status
    )
    memory_app.reinspect(
        task_id, finding_id, date(2026, 11, 6), passed=True, actor=safety_officer, evidence=(photo("ok"),)
    )
    with pytest.raises(RuleViolationError) as caught:
        memory_app.reinspect(
            task_id, finding_id, date(2026, 11, 7), passed=True, actor=safety_officer, evidence=(photo("ok"),)
        )

    assert "inspection.finding-resolved" == caught.value.rule


# -- who and when ---------------------------------------------------------------------------------------


def test_only_the_assignee_records_inspection_steps_while_in_progress(
    app: GridApplication, supervisor: Actor, safety_officer: Actor, worker: Actor
) -> None:
    """Another worker, or the assignee before starting, is refused; nothing is stored."""
    task_id = app.create_inspection("吴记面馆消防安全检查", NOODLE_SHOP, SMALL_VENUE_FIRE_SAFETY, actor=supervisor)
    app.assign_task(task_id, safety_officer.worker_id, actor=supervisor)
    app.accept_task(task_id, actor=safety_officer)
    before = stored_count(app)

    with pytest.raises(InvalidTransitionError) as caught:
        app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=safety_officer)
    app.start_task(task_id, actor=safety_officer)
    started = stored_count(app)
    with pytest.raises(PermissionDeniedError):
        app.check_item(task_id, "exits_clear", ItemResult.FAIL, actor=worker)

    assert "it must be started by its assignee before items can be checked" == caught.value.hint
    assert before + 1 == started
    assert started == stored_count(app)


def test_a_refused_inspection_step_stores_nothing(
    app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """Refused findings, orders, reports and submissions leave the store unchanged."""
    task_id = started_inspection(app, supervisor, safety_officer)
    check_all(app, task_id, safety_officer, "exits_clear")
    finding_id = blocked_exit(app, task_id, safety_officer)
    before = stored_count(app)

    with pytest.raises(RuleViolationError):
        app.submit_task(task_id, "已检查", actor=safety_officer)
    with pytest.raises(ValidationError):
        app.order_rectification(task_id, finding_id, FOUND_ON, FOUND_ON, actor=safety_officer)
    with pytest.raises(RuleViolationError):
        app.reinspect(task_id, finding_id, FOUND_ON, passed=False, actor=safety_officer)
    with pytest.raises(ValidationError):
        app.report_to_authority(task_id, (), FIRE_BRIGADE, "拒不整改", FOUND_ON, actor=safety_officer)
    with pytest.raises(ValidationError):
        app.report_to_authority(task_id, ("F1", "F1"), FIRE_BRIGADE, "拒不整改", FOUND_ON, actor=safety_officer)
    with pytest.raises(ValidationError):
        app.report_to_authority(
            task_id, (finding_id,), FIRE_BRIGADE, "拒不整改", date(2026, 11, 1), actor=safety_officer
        )
    with pytest.raises(ValidationError):
        app.record_finding(
            task_id,
            "exits_clear",
            "店主手机13812345678",
            severity=Severity.MINOR,
            location="门口",
            found_on=FOUND_ON,
            actor=safety_officer,
            evidence=(photo("x"),),
        )

    assert before == stored_count(app)


def test_a_reopened_inspection_keeps_its_findings(
    memory_app: GridApplication, supervisor: Actor, safety_officer: Actor
) -> None:
    """A complaint reopens a closed inspection; its checklist and findings stay for the follow-up."""
    task_id = started_inspection(memory_app, supervisor, safety_officer)
    check_all(memory_app, task_id, safety_officer)
    memory_app.submit_task(task_id, "全部合格", actor=safety_officer)
    memory_app.verify_task(task_id, actor=DEPUTY)
    memory_app.close_task(task_id, actor=DEPUTY)
    memory_app.reopen_task(task_id, ReopenSource.RESIDENT_COMPLAINT, actor=supervisor, reason="邻居反映晚上有人住")

    task = memory_app.get_task(task_id, actor=AUDITOR)
    assert TaskStatus.ASSIGNED == task.status
    assert () == task.the_inspection.unchecked_codes
    memory_app.accept_task(task_id, actor=safety_officer)
    memory_app.start_task(task_id, actor=safety_officer)
    memory_app.check_item(task_id, "no_sleeping_on_premises", ItemResult.FAIL, actor=safety_officer, note="夜查")
    assert ("no_sleeping_on_premises",) == memory_app.get_task(
        task_id, actor=AUDITOR
    ).the_inspection.failed_codes_without_finding


# -- creating inspections and templates ---------------------------------------------------------------


def test_an_inspection_copies_its_template(memory_app: GridApplication, supervisor: Actor) -> None:
    """The checklist is a copy of the template's items, none checked, in the place's grid."""
    task_id = memory_app.create_inspection(
        "吴记面馆一扫三查", NOODLE_SHOP, VENUE_SCAN_CHECK, actor=supervisor, kind=TaskKind.SCAN_CHECK
    )

    task = memory_app.get_task(task_id, actor=AUDITOR)
    assert TaskKind.SCAN_CHECK == task.kind
    assert NOODLE_SHOP.grid == task.grid
    assert NOODLE_SHOP == task.place
    assert VENUE_SCAN_CHECK.items == tuple(check.item for check in task.the_inspection.checks)
    assert VENUE_SCAN_CHECK.name == task.the_inspection.template_name
    assert all(check.result is None for check in task.the_inspection.checks)


def test_the_small_venue_template_covers_the_fire_hazards_of_small_venues() -> None:
    """住人, extinguishers, exit signs, blocked exits, wiring, gas and power: seven items, unique codes."""
    assert [
        "no_sleeping_on_premises",
        "extinguishers",
        "exit_signs",
        "exits_clear",
        "wiring_in_conduit",
        "gas_use",
        "power_use",
    ] == [item.code for item in SMALL_VENUE_FIRE_SAFETY.items]


def test_a_template_needs_items_with_unique_codes() -> None:
    """An empty template, a repeated code or a code that is not a code is refused."""
    item = ChecklistItem("exits_clear", "安全出口畅通")

    with pytest.raises(ValidationError) as empty:
        ChecklistTemplate("空模板", ())
    with pytest.raises(ValidationError) as repeated:
        ChecklistTemplate("重复", (item, item))
    with pytest.raises(ValidationError) as bad_code:
        ChecklistItem("Exits Clear", "安全出口畅通")

    assert "items" == empty.value.field
    assert "items" == repeated.value.field
    assert "code" == bad_code.value.field


def test_only_inspection_kinds_get_a_checklist(memory_app: GridApplication, supervisor: Actor) -> None:
    """A patrol cannot be created as an inspection."""
    with pytest.raises(ValidationError) as caught:
        memory_app.create_inspection(
            "巡查", NOODLE_SHOP, SMALL_VENUE_FIRE_SAFETY, actor=supervisor, kind=TaskKind.PATROL
        )

    assert "kind" == caught.value.field


def test_the_overdue_timer_applies_to_inspections(memory_app: GridApplication, clock: Clock, supervisor: Actor) -> None:
    """An inspection due tomorrow is overdue the day after if not submitted."""
    due = clock.now + timedelta(days=1)
    task_id = memory_app.create_inspection(
        "吴记面馆消防安全检查", NOODLE_SHOP, SMALL_VENUE_FIRE_SAFETY, actor=supervisor, due_at=due
    )

    assert memory_app.get_task(task_id, actor=AUDITOR).is_overdue(due + timedelta(hours=1))


def test_a_snapshot_restores_an_inspection_with_its_findings(
    app: GridApplication, clock: Clock, supervisor: Actor, safety_officer: Actor
) -> None:
    """Past 50 events the inspection is snapshotted; checklist, findings, orders and reports come back equal."""
    task_id = started_inspection(app, supervisor, safety_officer)
    check_all(app, task_id, safety_officer, "exits_clear")
    exit_id = blocked_exit(app, task_id, safety_officer)
    boxes_id = app.record_finding(
        task_id,
        None,
        "后厨堆放大量纸箱",
        severity=Severity.MINOR,
        location="后厨",
        found_on=FOUND_ON,
        actor=safety_officer,
        evidence=(photo("boxes"),),
    )
    app.order_rectification(task_id, exit_id, date(2026, 11, 5), FOUND_ON, actor=safety_officer)
    app.record_owner_report(task_id, exit_id, date(2026, 11, 4), actor=safety_officer, evidence=(photo("owner"),))
    app.reinspect(task_id, exit_id, date(2026, 11, 5), passed=False, actor=safety_officer)
    app.order_rectification(task_id, exit_id, date(2026, 11, 9), date(2026, 11, 5), actor=safety_officer)
    app.reinspect(task_id, exit_id, date(2026, 11, 9), passed=True, actor=safety_officer, evidence=(photo("ok"),))
    app.report_to_authority(task_id, (boxes_id,), FIRE_BRIGADE, "店主拒不清理", date(2026, 11, 9), actor=safety_officer)
    while app.get_task(task_id, actor=AUDITOR).version < 55:  # past the snapshot interval of 50
        clock.advance(minutes=1)
        app.record_task_progress(task_id, "跟进整改情况", actor=safety_officer, evidence=(photo("visit"),))
    task = app.get_task(task_id, actor=AUDITOR)
    task.submit("发现2处隐患：1处整改，1处移交", actor=safety_officer, at=clock.advance(minutes=5))
    app.save(task)
    expected = {key: value for key, value in vars(task).items() if key != "_pending_events"}

    reloaded = app.get_task(task_id, actor=AUDITOR)

    assert app.snapshots is not None
    assert [50] == [snapshot.originator_version for snapshot in app.snapshots.get(task_id)]
    assert expected == {key: value for key, value in vars(reloaded).items() if key != "_pending_events"}
    assert [FindingStatus.RECTIFIED, FindingStatus.REPORTED] == [
        record.status for record in reloaded.the_inspection.findings
    ]
