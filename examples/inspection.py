"""A fire-safety inspection of a small eatery: checklist, a blocked exit, rectification, re-inspection.

Community workers check and report; enforcement belongs to the fire authority
(消防法 Art. 32, 53, 54). Run:  python examples/inspection.py
"""

from __future__ import annotations

from datetime import date, timedelta

from grid_events import (
    SMALL_VENUE_FIRE_SAFETY,
    Actor,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    ItemResult,
    Place,
    Role,
    RuleViolationError,
    Severity,
    StoreConfig,
)
from grid_events.audit import build_timeline, check_case, history

secretary = Actor("s-wang", Role.SUPERVISOR)
officer = Actor("so-zhao", Role.SAFETY_OFFICER)
eatery = Place("阿强小吃店", "高镇路18号", GridCell("江南", "高镇", "05"))
day = date(2026, 11, 2)
photo = EvidenceRef(EvidenceKind.PHOTO, "evidence://gaozhen/18/back-exit.jpg")

with GridApplication(StoreConfig.memory()) as app:
    task_id = app.create_inspection("阿强小吃店消防安全隐患排查", eatery, SMALL_VENUE_FIRE_SAFETY, actor=secretary)
    app.assign_task(task_id, officer.worker_id, actor=secretary)
    app.accept_task(task_id, actor=officer)
    app.start_task(task_id, actor=officer)

    for item in SMALL_VENUE_FIRE_SAFETY.items:
        result = ItemResult.FAIL if item.code == "exits_clear" else ItemResult.PASS
        app.check_item(task_id, item.code, result, actor=officer)
    finding = app.record_finding(
        task_id,
        "exits_clear",
        "后门安全出口被纸箱和液化气钢瓶堵塞",
        severity=Severity.MAJOR,
        location="后厨后门",
        found_on=day,
        actor=officer,
        evidence=(photo,),
    )

    # The hazard is open: the inspection cannot be submitted yet, and the rule says why.
    try:
        app.submit_task(task_id, "排查完毕", actor=officer)
    except RuleViolationError as error:
        print("refused:", error)

    # Deadline notice (整改期限), the owner's report, then the re-inspection (复查).
    app.order_rectification(task_id, finding, day + timedelta(days=3), day, actor=officer)
    app.record_owner_report(task_id, finding, day + timedelta(days=2), actor=officer, note="店主称已清理")
    app.reinspect(
        task_id, finding, day + timedelta(days=3), passed=True, actor=officer, note="出口畅通", evidence=(photo,)
    )

    app.submit_task(task_id, "隐患已整改，复查通过", actor=officer)
    app.verify_task(task_id, actor=secretary)
    app.close_task(task_id, actor=secretary)

    events = history(app, task_id)
    for step in build_timeline(events, "zh"):
        print(step.time_text, step.actor_text, step.what)
    findings = check_case(events, as_of=day + timedelta(days=10))
    print("audit findings:", [finding.rule_id for finding in findings])
    assert not findings
