"""Rule checks on recorded histories: each rule passes a history that keeps it and finds one that breaks it.

Histories are built through GridApplication with the hand-driven clock (the
scenarios start on Monday 2026-11-02, 09:00 China time). Where the domain
refuses to create the breach, the breaking event is crafted directly (see
``tests/audit/histories.py``): the rules run on events, not on the domain's
guarantees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import pytest

from grid_events import (
    SMALL_VENUE_FIRE_SAFETY,
    AgreementForm,
    Dispute,
    GridApplication,
    ItemResult,
    PerformanceStatus,
    ReopenSource,
    RiskLevel,
    Route,
    Severity,
    SignatureMethod,
    Task,
)
from grid_events.audit import (
    RULES,
    RuleFinding,
    RuleSettings,
    RuleSeverity,
    check_case,
    rule_by_id,
    rules_for,
    rules_markdown,
    verify_aggregate,
)
from grid_events.exceptions import ValidationError

from .histories import (
    DEPUTY,
    FIRE_BRIGADE,
    GRID,
    MEDIATOR,
    NOODLE_SHOP,
    OFFICER,
    OTHER_MEDIATOR,
    POLICE,
    SUPERVISOR,
    WORKER,
    ZHANG,
    Clock,
    accepted,
    agreed,
    agreement,
    append,
    closed_dispute,
    crafted,
    events_of,
    extended,
    hazard,
    mediating,
    photo,
    received,
    rectified_inspection,
    started_inspection,
    today,
)

ROOT = Path(__file__).resolve().parents[2]
F = TypeVar("F", bound=Callable[..., object])

BROKEN: set[str] = set()
"""The rules some test below breaks (a test at the end checks that every rule is)."""


def breaks(rule_id: str) -> Callable[[F], F]:
    """Mark a test as one that breaks *rule_id* and expects it found."""
    rule_by_id(rule_id)
    BROKEN.add(rule_id)

    def mark(test: F) -> F:
        return test

    return mark


def found(findings: Iterable[RuleFinding], rule_id: str) -> list[RuleFinding]:
    """Return the findings of *rule_id*."""
    return [finding for finding in findings if finding.rule_id == rule_id]


def the_one(findings: Iterable[RuleFinding], rule_id: str) -> RuleFinding:
    """Return the one finding of *rule_id* (fail unless there is exactly one)."""
    matching = found(findings, rule_id)
    assert 1 == len(matching), [finding.message_en for finding in findings]
    return matching[0]


# -- whole cases ------------------------------------------------------------------------------------


def test_a_mediation_followed_to_the_letter_has_no_findings(app: GridApplication, clock: Clock) -> None:
    """Agreement signed by all, performed, followed up, confirmed in time and closed: nothing to find."""
    dispute_id = closed_dispute(app, clock)

    assert [] == check_case(events_of(app, dispute_id), today(clock) + timedelta(days=90))


def test_an_inspection_followed_to_the_letter_has_no_findings(app: GridApplication, clock: Clock) -> None:
    """Hazard ordered fixed next day, re-inspected in time, verified by someone else, closed: nothing to find."""
    task_id = rectified_inspection(app, clock)

    assert [] == check_case(events_of(app, task_id), today(clock) + timedelta(days=90))


def test_a_crafted_history_stored_through_the_chain_verifies_but_breaks_the_rules(
    app: GridApplication, clock: Clock
) -> None:
    """An imported task closed without verification is chained like any other: only the rules can tell."""
    task_id, finding_id = hazard(app, clock)
    app.order_rectification(task_id, finding_id, today(clock) + timedelta(days=3), today(clock), actor=OFFICER)
    app.reinspect(task_id, finding_id, today(clock), passed=True, actor=OFFICER, evidence=(photo("fixed"),))
    app.submit_task(task_id, "隐患已整改", actor=OFFICER)
    append(app, crafted(events_of(app, task_id), Task.Closed, actor=SUPERVISOR, note="导入的旧记录"))

    assert verify_aggregate(app.recorder, task_id).ok
    finding = the_one(check_case(events_of(app, task_id), today(clock)), "task.closed-without-verification")
    assert RuleSeverity.ERROR == finding.severity


# -- mediation: the agreement ----------------------------------------------------------------------


@breaks("mediation.agreement-signed-by-all")
def test_an_agreement_in_effect_that_a_party_and_the_mediator_never_signed_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """P1 signed; the agreement was nevertheless recorded as in effect: P2 and the mediator are named."""
    dispute_id = mediating(memory_app, clock)
    memory_app.draft_agreement(dispute_id, agreement(today(clock)), actor=MEDIATOR)
    memory_app.sign_agreement(dispute_id, "P1", today(clock), SignatureMethod.SIGNATURE, actor=MEDIATOR)
    events = extended(
        events_of(memory_app, dispute_id), Dispute.AgreementTookEffect, actor=MEDIATOR, effective_on=today(clock)
    )

    finding = the_one(check_case(events, today(clock)), "mediation.agreement-signed-by-all")

    assert RuleSeverity.ERROR == finding.severity
    assert "人民调解法 Art. 29, 30" == finding.source
    assert "P2、调解员 m-chen 未有效签署" in finding.message_zh
    assert "P2, the mediator m-chen had not validly signed" in finding.message_en
    assert (6, 7, 8) == finding.versions  # draft 6, signature 7, in effect 8 (session 5)


def test_an_agreement_signed_by_every_party_and_the_mediator_passes(memory_app: GridApplication, clock: Clock) -> None:
    """The domain's own signatures make a complete agreement."""
    dispute_id = agreed(memory_app, clock)

    assert [] == found(check_case(events_of(memory_app, dispute_id), today(clock)), "mediation.agreement-signed-by-all")


def test_an_oral_agreement_consented_by_every_party_passes(memory_app: GridApplication, clock: Clock) -> None:
    """An oral agreement needs every party's consent and no signature of the mediator."""
    dispute_id = mediating(memory_app, clock)
    memory_app.draft_agreement(dispute_id, agreement(None, AgreementForm.ORAL), actor=MEDIATOR)
    for party in ("P1", "P2"):
        memory_app.sign_agreement(dispute_id, party, today(clock), SignatureMethod.ORAL_CONSENT, actor=MEDIATOR)

    events = events_of(memory_app, dispute_id)

    assert isinstance(events[-1], Dispute.AgreementTookEffect)
    assert [] == found(check_case(events, today(clock)), "mediation.agreement-signed-by-all")


def test_an_oral_agreement_signed_in_writing_instead_of_consented_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """A signature on an oral agreement is not the consent Art. 30 asks for."""
    dispute_id = mediating(memory_app, clock)
    memory_app.draft_agreement(dispute_id, agreement(None, AgreementForm.ORAL), actor=MEDIATOR)
    events = events_of(memory_app, dispute_id)
    day = today(clock)
    events = extended(
        events, Dispute.AgreementSigned, actor=MEDIATOR, signer_id="P1", signed_on=day, method=SignatureMethod.SIGNATURE
    )
    events = extended(
        events,
        Dispute.AgreementSigned,
        actor=MEDIATOR,
        signer_id="P2",
        signed_on=day,
        method=SignatureMethod.ORAL_CONSENT,
    )
    events = extended(events, Dispute.AgreementTookEffect, actor=MEDIATOR, effective_on=day)

    finding = the_one(check_case(events, day), "mediation.agreement-signed-by-all")

    assert "口头调解协议" in finding.message_zh
    assert "P1 未有效口头同意" in finding.message_zh


# -- mediation: the time limit -----------------------------------------------------------------------


@breaks("mediation.time-limit")
def test_a_case_still_open_after_one_month_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Accepted on 2 November: open on 2 December is in time, on 3 December one day late."""
    dispute_id = mediating(memory_app, clock)
    events = events_of(memory_app, dispute_id)

    assert [] == found(check_case(events, date(2026, 12, 2)), "mediation.time-limit")
    finding = the_one(check_case(events, date(2026, 12, 3)), "mediation.time-limit")
    assert "截至 2026-12-03 调解仍未结束，已超过期限 2026-12-02 1 天" in finding.message_zh
    assert "as of 2026-12-03 mediation has not ended, 1 day(s) past the limit 2026-12-02" in finding.message_en
    assert (2,) == finding.versions


def test_a_mediation_that_ended_after_the_limit_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """The domain lets a failure be recorded late; the audit says how late."""
    dispute_id = mediating(memory_app, clock)
    clock.advance(days=36)  # 10 December
    memory_app.record_mediation_failure(dispute_id, "双方分歧过大", [Route.LITIGATION], actor=MEDIATOR)

    finding = the_one(check_case(events_of(memory_app, dispute_id), today(clock)), "mediation.time-limit")

    assert "调解于 2026-12-10 结束，超过期限 2026-12-02 8 天" in finding.message_zh


def test_an_extension_every_party_consented_to_in_time_moves_the_limit(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Extended on 30 November to 20 December with both parties' consent, agreed on 15 December: in time."""
    dispute_id = mediating(memory_app, clock)
    clock.advance(days=26)  # 30 November
    memory_app.extend_time_limit(dispute_id, date(2026, 12, 20), ["P1", "P2"], "等待维修报价", actor=MEDIATOR)
    clock.advance(days=15)  # 15 December
    memory_app.draft_agreement(dispute_id, agreement(None), actor=MEDIATOR)
    for signer in ("P1", "P2", MEDIATOR.worker_id):
        memory_app.sign_agreement(dispute_id, signer, today(clock), SignatureMethod.SIGNATURE, actor=MEDIATOR)

    findings = check_case(events_of(memory_app, dispute_id), today(clock))

    assert [] == found(findings, "mediation.time-limit")
    assert [] == found(findings, "mediation.extension-needs-all-parties")


def test_an_extension_recorded_after_the_limit_had_passed_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Mediation went on for three days without consent before the extension was recorded."""
    dispute_id = mediating(memory_app, clock)
    clock.advance(days=31)  # 5 December
    memory_app.extend_time_limit(dispute_id, date(2026, 12, 20), ["P1", "P2"], "补记延期", actor=MEDIATOR)

    finding = the_one(check_case(events_of(memory_app, dispute_id), today(clock)), "mediation.time-limit")

    assert "延期于 2026-12-05 才记录，此时期限 2026-12-02 已过 3 天" in finding.message_zh


def test_a_recorded_deadline_other_than_one_month_after_acceptance_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """An imported acceptance that gave itself two months is named."""
    dispute_id = received(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.Accepted,
        actor=SUPERVISOR,
        accepted_on=today(clock),
        deadline=date(2026, 12, 31),
    )

    finding = the_one(check_case(events, today(clock)), "mediation.time-limit")

    assert "期限应为 2026-12-02，但记录的期限是 2026-12-31" in finding.message_zh


@breaks("mediation.extension-needs-all-parties")
def test_an_extension_without_every_partys_consent_is_found_and_does_not_extend(
    memory_app: GridApplication, clock: Clock
) -> None:
    """P2 never agreed: the extension is a finding, and the one-month limit still counts."""
    dispute_id = mediating(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.TimeLimitExtended,
        actor=MEDIATOR,
        new_deadline=date(2026, 12, 31),
        consenting_party_ids=frozenset({"P1"}),
        reason="等待鉴定",
    )

    findings = check_case(events, date(2026, 12, 10))

    extension = the_one(findings, "mediation.extension-needs-all-parties")
    assert "但当事人 P2 未同意" in extension.message_zh
    assert "已超过期限 2026-12-02 8 天" in the_one(findings, "mediation.time-limit").message_zh


# -- mediation: failure, risk, police ------------------------------------------------------------------


@breaks("mediation.explain-other-routes")
def test_a_failure_without_the_other_routes_explained_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Art. 26: the parties are told of arbitration, administrative and court routes."""
    dispute_id = mediating(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.MediationFailed,
        actor=MEDIATOR,
        reason="双方分歧过大",
        routes_explained=frozenset(),
    )

    finding = the_one(check_case(events, today(clock)), "mediation.explain-other-routes")

    assert "未记录向当事人告知的其他维权途径" in finding.message_zh


def test_a_failure_with_the_routes_explained_passes(memory_app: GridApplication, clock: Clock) -> None:
    """The domain's failure records the routes."""
    dispute_id = mediating(memory_app, clock)
    memory_app.record_mediation_failure(dispute_id, "双方分歧过大", [Route.LITIGATION], actor=MEDIATOR)

    assert [] == check_case(events_of(memory_app, dispute_id), today(clock))


@breaks("mediation.preventive-steps")
def test_a_risk_flagged_without_preventive_steps_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Art. 25: a risk of escalation calls for targeted preventive steps."""
    dispute_id = mediating(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.EscalationRiskFlagged,
        actor=MEDIATOR,
        level=RiskLevel.MEDIUM,
        description="双方在楼道争吵",
        preventive_steps=(),
    )

    finding = the_one(check_case(events, today(clock)), "mediation.preventive-steps")

    assert "发现中风险的矛盾激化迹象，但未记录预防措施" in finding.message_zh


@breaks("mediation.report-high-risk")
def test_a_high_risk_not_reported_by_the_next_day_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Flagged on 4 November: unreported on the 5th is still in time, on the 6th it is a finding."""
    dispute_id = mediating(memory_app, clock)
    memory_app.flag_escalation_risk(dispute_id, RiskLevel.HIGH, "P1 家属扬言上门", ["分开调解"], actor=MEDIATOR)
    events = events_of(memory_app, dispute_id)

    assert [] == found(check_case(events, date(2026, 11, 5)), "mediation.report-high-risk")
    finding = the_one(check_case(events, date(2026, 11, 6)), "mediation.report-high-risk")
    assert "截至 2026-11-06 仍未报告公安机关（应于 2026-11-05 前）" in finding.message_zh


def test_a_high_risk_reported_the_same_day_passes(memory_app: GridApplication, clock: Clock) -> None:
    """Reported to the police station at once."""
    dispute_id = mediating(memory_app, clock)
    memory_app.flag_escalation_risk(dispute_id, RiskLevel.HIGH, "P1 家属扬言上门", ["分开调解"], actor=MEDIATOR)
    memory_app.report_dispute_to_police(dispute_id, POLICE, "可能引发治安案件", actor=MEDIATOR)

    assert [] == check_case(events_of(memory_app, dispute_id), date(2026, 11, 20))


def test_a_high_risk_reported_late_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Reported three days after it was flagged."""
    dispute_id = mediating(memory_app, clock)
    memory_app.flag_escalation_risk(dispute_id, RiskLevel.HIGH, "P1 家属扬言上门", ["分开调解"], actor=MEDIATOR)
    clock.advance(days=3)
    memory_app.report_dispute_to_police(dispute_id, POLICE, "可能引发治安案件", actor=MEDIATOR)

    finding = the_one(check_case(events_of(memory_app, dispute_id), today(clock)), "mediation.report-high-risk")

    assert "2026-11-04 发现高风险，2026-11-07 才报告公安机关（应于 2026-11-05 前）" in finding.message_zh


def test_a_case_closed_with_a_high_risk_never_reported_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """The domain refuses to close it; an imported history did anyway."""
    dispute_id = mediating(memory_app, clock)
    memory_app.flag_escalation_risk(dispute_id, RiskLevel.HIGH, "P1 家属扬言上门", ["分开调解"], actor=MEDIATOR)
    memory_app.record_mediation_failure(dispute_id, "双方分歧过大", [Route.LITIGATION], actor=MEDIATOR)
    events = extended(events_of(memory_app, dispute_id), Dispute.Closed, actor=SUPERVISOR, summary="调解不成，结案")

    finding = the_one(check_case(events, today(clock)), "mediation.report-high-risk")

    assert "未报告公安机关即于 2026-11-04 结案" in finding.message_zh


# -- mediation: after the agreement -----------------------------------------------------------------------


@breaks("mediation.follow-up-due")
def test_a_follow_up_missing_a_week_after_it_fell_due_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """The terms fell due on 14 November: a week's grace, then a warning."""
    dispute_id = agreed(memory_app, clock)
    events = events_of(memory_app, dispute_id)

    assert [] == found(check_case(events, date(2026, 11, 21)), "mediation.follow-up-due")
    finding = the_one(check_case(events, date(2026, 11, 22)), "mediation.follow-up-due")
    assert RuleSeverity.WARNING == finding.severity
    assert "应自 2026-11-14 起回访，截至 2026-11-22 未见回访记录" in finding.message_zh


def test_a_follow_up_on_the_due_date_finding_it_all_performed_passes(memory_app: GridApplication, clock: Clock) -> None:
    """One visit once the terms fell due, all performed and no sign of escalation: nothing more is due."""
    dispute_id = agreed(memory_app, clock)
    clock.advance(days=10)
    memory_app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=MEDIATOR
    )

    assert [] == check_case(events_of(memory_app, dispute_id), date(2027, 3, 1))


def test_a_visit_finding_the_agreement_partly_performed_calls_for_another(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Partly performed on 14 November: the next visit is due on 14 December."""
    dispute_id = agreed(memory_app, clock)
    clock.advance(days=10)
    memory_app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.PARTLY, satisfied=False, escalation_signs=False, actor=MEDIATOR
    )
    events = events_of(memory_app, dispute_id)

    assert [] == found(check_case(events, date(2026, 12, 21)), "mediation.follow-up-due")
    finding = the_one(check_case(events, date(2026, 12, 22)), "mediation.follow-up-due")
    assert "应自 2026-12-14 起回访" in finding.message_zh
    assert events[-1].originator_version in finding.versions


def test_a_visit_before_the_terms_fell_due_does_not_count(memory_app: GridApplication, clock: Clock) -> None:
    """A visit on 10 November cannot say whether terms due on the 14th were performed."""
    dispute_id = agreed(memory_app, clock)
    clock.advance(days=6)
    memory_app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.PARTLY, satisfied=True, escalation_signs=False, actor=MEDIATOR
    )

    assert 1 == len(found(check_case(events_of(memory_app, dispute_id), date(2026, 11, 22)), "mediation.follow-up-due"))


@breaks("mediation.follow-up-before-closing")
def test_a_case_closed_without_any_follow_up_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """The domain refuses it; an imported history closed straight after the agreement."""
    dispute_id = agreed(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id), Dispute.Closed, actor=SUPERVISOR, summary="已结案", after=timedelta(days=2)
    )

    findings = check_case(events, date(2027, 1, 1))

    finding = the_one(findings, "mediation.follow-up-before-closing")
    assert "2026-11-06 结案前未作任何回访" in finding.message_zh
    assert [] == found(findings, "mediation.follow-up-due")


@breaks("mediation.judicial-confirmation-30-days")
def test_judicial_confirmation_applied_for_on_day_31_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """In effect on 4 November: the last day to apply is 4 December."""
    dispute_id = agreed(memory_app, clock)
    events = events_of(memory_app, dispute_id)
    on_time = extended(
        events,
        Dispute.JudicialConfirmationApplied,
        actor=MEDIATOR,
        court="义乌市人民法院",
        applied_on=date(2026, 12, 4),
        applicant_party_ids=frozenset({"P1", "P2"}),
    )
    late = extended(
        events,
        Dispute.JudicialConfirmationApplied,
        actor=MEDIATOR,
        court="义乌市人民法院",
        applied_on=date(2026, 12, 5),
        applicant_party_ids=frozenset({"P1", "P2"}),
    )

    assert [] == found(check_case(on_time, today(clock)), "mediation.judicial-confirmation-30-days")
    finding = the_one(check_case(late, today(clock)), "mediation.judicial-confirmation-30-days")
    assert "超过三十日期限（2026-12-04）1 天" in finding.message_zh


@breaks("mediation.judicial-confirmation-joint")
def test_judicial_confirmation_applied_for_by_one_party_alone_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Art. 33: the parties apply jointly."""
    dispute_id = agreed(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.JudicialConfirmationApplied,
        actor=MEDIATOR,
        court="义乌市人民法院",
        applied_on=today(clock),
        applicant_party_ids=frozenset({"P1"}),
    )

    finding = the_one(check_case(events, today(clock)), "mediation.judicial-confirmation-joint")

    assert "司法确认申请缺少当事人 P2" in finding.message_zh


# -- inspections -------------------------------------------------------------------------------------------


@breaks("inspection.rectification-order")
def test_a_hazard_left_without_a_rectification_notice_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Found Monday 2 November: by Thursday the 5th the notice is due; on Friday it is missing."""
    task_id, _ = hazard(memory_app, clock)
    events = events_of(memory_app, task_id)

    assert [] == found(check_case(events, date(2026, 11, 5)), "inspection.rectification-order")
    finding = the_one(check_case(events, date(2026, 11, 6)), "inspection.rectification-order")
    assert "隐患 F1 于 2026-11-02 发现，截至 2026-11-06 未送达整改通知书（应于 2026-11-05 前）" in finding.message_zh


def test_a_hazard_reported_to_the_authority_needs_no_notice(memory_app: GridApplication, clock: Clock) -> None:
    """The fire authority takes it from here."""
    task_id, finding_id = hazard(memory_app, clock)
    memory_app.report_to_authority(task_id, (finding_id,), FIRE_BRIGADE, "堵塞安全出口", today(clock), actor=OFFICER)

    assert [] == check_case(events_of(memory_app, task_id), date(2026, 12, 1))


def test_an_inspection_submitted_with_a_hazard_never_followed_up_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """The domain refuses the submission; an imported history holds it."""
    task_id, _ = hazard(memory_app, clock)
    events = extended(events_of(memory_app, task_id), Task.Submitted, actor=OFFICER, summary="检查完毕", evidence=())

    finding = the_one(check_case(events, today(clock)), "inspection.rectification-order")

    assert "即于 2026-11-02 提交核查" in finding.message_zh


@breaks("inspection.notice-within-3-working-days")
def test_a_notice_served_four_working_days_after_the_finding_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Found Monday, served Friday: four working days; Thursday would have been in time."""
    task_id, finding_id = hazard(memory_app, clock)
    clock.advance(days=4)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 13), date(2026, 11, 6), actor=OFFICER)
    events = events_of(memory_app, task_id)

    finding = the_one(check_case(events, today(clock)), "inspection.notice-within-3-working-days")

    assert RuleSeverity.WARNING == finding.severity
    assert "于 2026-11-06 送达，距 2026-11-02 已 4 个工作日（应于 2026-11-05 前）" in finding.message_zh


def test_a_public_holiday_does_not_count_as_a_working_day(memory_app: GridApplication, clock: Clock) -> None:
    """With Wednesday 4 November a holiday, a notice served on Friday is within 3 working days."""
    task_id, finding_id = hazard(memory_app, clock)
    clock.advance(days=4)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 13), date(2026, 11, 6), actor=OFFICER)
    settings = RuleSettings(holidays=frozenset({date(2026, 11, 4)}))

    findings = check_case(events_of(memory_app, task_id), today(clock), settings=settings)

    assert [] == found(findings, "inspection.notice-within-3-working-days")


def test_a_new_notice_after_a_failed_reinspection_is_timed_from_the_reinspection(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Re-inspection failed Monday 9 November; the second notice on Friday the 13th is late."""
    task_id, finding_id = hazard(memory_app, clock)
    clock.advance(days=1)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 6), date(2026, 11, 3), actor=OFFICER)
    clock.advance(days=6)
    memory_app.reinspect(task_id, finding_id, date(2026, 11, 9), passed=False, actor=OFFICER, note="仍堵塞")
    clock.advance(days=4)
    memory_app.order_rectification(task_id, finding_id, date(2026, 11, 20), date(2026, 11, 13), actor=OFFICER)

    finding = the_one(
        check_case(events_of(memory_app, task_id), today(clock)), "inspection.notice-within-3-working-days"
    )

    assert "第 2 份整改通知书于 2026-11-13 送达，距 2026-11-09 已 4 个工作日" in finding.message_zh


def ordered(app: GridApplication, clock: Clock) -> tuple[UUID, str]:
    """A hazard found Monday 2 November, notice served Tuesday, to be fixed by Friday 6 November."""
    task_id, finding_id = hazard(app, clock)
    clock.advance(days=1)
    app.order_rectification(task_id, finding_id, date(2026, 11, 6), date(2026, 11, 3), actor=OFFICER)
    return task_id, finding_id


@breaks("inspection.reinspection-missing")
def test_no_reinspection_three_working_days_after_the_deadline_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Due Friday 6 November: re-inspection due by Wednesday the 11th; on Thursday it is missing."""
    task_id, _ = ordered(memory_app, clock)
    events = events_of(memory_app, task_id)

    assert [] == found(check_case(events, date(2026, 11, 11)), "inspection.reinspection-missing")
    finding = the_one(check_case(events, date(2026, 11, 12)), "inspection.reinspection-missing")
    assert "整改期限为 2026-11-06，截至 2026-11-12 未复查（应于 2026-11-11 前）" in finding.message_zh


def test_a_hazard_reported_after_its_notice_needs_no_reinspection(memory_app: GridApplication, clock: Clock) -> None:
    """The owner ignored the notice; the officer reported it to the fire brigade instead."""
    task_id, finding_id = ordered(memory_app, clock)
    clock.advance(days=4)
    memory_app.report_to_authority(
        task_id,
        (finding_id,),
        FIRE_BRIGADE,
        "逾期未整改",
        today(clock),
        actor=OFFICER,
    )

    assert [] == check_case(events_of(memory_app, task_id), date(2026, 12, 1))


@breaks("inspection.reinspection-within-3-working-days")
def test_a_reinspection_four_working_days_after_the_deadline_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Due Friday 6 November, re-inspected Thursday the 12th: four working days later."""
    task_id, finding_id = ordered(memory_app, clock)
    clock.advance(days=9)
    memory_app.reinspect(
        task_id,
        finding_id,
        date(2026, 11, 12),
        passed=True,
        actor=OFFICER,
        evidence=(photo("fixed"),),
    )
    findings = check_case(events_of(memory_app, task_id), today(clock))

    finding = the_one(findings, "inspection.reinspection-within-3-working-days")
    assert "2026-11-12 才复查，已过 4 个工作日（应于 2026-11-11 前）" in finding.message_zh
    assert [] == found(findings, "inspection.reinspection-missing")


@breaks("inspection.severe-not-reported")
def test_a_severe_hazard_not_reported_by_the_next_working_day_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Found Monday: unreported on Tuesday is still in time, on Wednesday it is a finding."""
    task_id, _ = hazard(memory_app, clock, Severity.SEVERE)
    events = events_of(memory_app, task_id)

    assert [] == found(check_case(events, date(2026, 11, 3)), "inspection.severe-not-reported")
    finding = the_one(check_case(events, date(2026, 11, 4)), "inspection.severe-not-reported")
    assert "重大隐患 F1 于 2026-11-02 发现，未报告消防救援机构，截至 2026-11-04" in finding.message_zh


def test_a_severe_hazard_reported_the_same_day_passes(memory_app: GridApplication, clock: Clock) -> None:
    """Reported to the fire brigade at once, then followed up as any hazard."""
    task_id, finding_id = hazard(memory_app, clock, Severity.SEVERE)
    memory_app.report_to_authority(task_id, (finding_id,), FIRE_BRIGADE, "重大火灾隐患", today(clock), actor=OFFICER)

    assert [] == check_case(events_of(memory_app, task_id), date(2026, 12, 1))


def test_a_severe_hazard_reported_late_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """Reported on Wednesday, a day after it was due."""
    task_id, finding_id = hazard(memory_app, clock, Severity.SEVERE)
    clock.advance(days=2)
    memory_app.report_to_authority(task_id, (finding_id,), FIRE_BRIGADE, "重大火灾隐患", today(clock), actor=OFFICER)

    finding = the_one(check_case(events_of(memory_app, task_id), today(clock)), "inspection.severe-not-reported")

    assert "2026-11-04 才报告义乌市消防救援大队江南中队（应于 2026-11-03 前）" in finding.message_zh


# -- tasks ------------------------------------------------------------------------------------------------------


@breaks("task.closed-without-verification")
def test_a_task_closed_again_after_reopening_without_a_new_verification_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Reopened on a resident's complaint, then closed with no new submission and verification."""
    task_id = rectified_inspection(memory_app, clock)
    memory_app.reopen_task(task_id, ReopenSource.RESIDENT_COMPLAINT, actor=SUPERVISOR, reason="居民反映后门又被堵")
    events = extended(events_of(memory_app, task_id), Task.Closed, actor=SUPERVISOR, note="")

    finding = the_one(check_case(events, today(clock)), "task.closed-without-verification")

    assert "最近一次反馈之后没有核查记录" in finding.message_zh
    assert (events[-1].originator_version,) == finding.versions


@breaks("task.four-eyes")
def test_a_task_verified_by_its_own_assignee_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """The deputy secretary did the inspection herself, and an imported record has her verify it too."""
    task_id = memory_app.create_inspection(
        "吴记面馆消防安全检查", NOODLE_SHOP, SMALL_VENUE_FIRE_SAFETY, actor=SUPERVISOR
    )
    memory_app.assign_task(task_id, DEPUTY.worker_id, actor=SUPERVISOR)
    memory_app.accept_task(task_id, actor=DEPUTY)
    memory_app.start_task(task_id, actor=DEPUTY)
    for item in SMALL_VENUE_FIRE_SAFETY.items:
        memory_app.check_item(task_id, item.code, ItemResult.PASS, actor=DEPUTY)
    memory_app.submit_task(task_id, "无隐患", actor=DEPUTY)
    events = extended(events_of(memory_app, task_id), Task.Verified, actor=DEPUTY, note="")

    findings = check_case(events, today(clock))

    assert "任务由承办人 s-zhou 本人核查" in the_one(findings, "task.four-eyes").message_zh
    assert [] == found(findings, "record.actor-role")


# -- every case ---------------------------------------------------------------------------------------------------


@breaks("record.actor-role")
def test_a_session_recorded_by_a_mediator_who_is_not_the_assigned_one_is_found(
    memory_app: GridApplication, clock: Clock
) -> None:
    """Only the assigned mediator records the mediation (Art. 19–22)."""
    dispute_id = mediating(memory_app, clock)
    events = events_of(memory_app, dispute_id)
    session = events[-1]
    assert isinstance(session, Dispute.SessionRecorded)
    forged = crafted(
        events,
        Dispute.SessionRecorded,
        actor=OTHER_MEDIATOR,
        held_at=session.held_at,
        place=session.place,
        attendees=session.attendees,
        statements=(),
        summary="第二次调解",
        next_steps="",
    )

    finding = the_one(check_case([*events, forged], today(clock)), "record.actor-role")

    assert "由 m-liu 记录，但指定调解员是 m-chen" in finding.message_zh
    assert (forged.originator_version,) == finding.versions


def test_a_step_recorded_in_a_role_without_the_right_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """A mediator closed the file, and a grid worker checked an item of someone else's inspection."""
    dispute_id = mediating(memory_app, clock)
    memory_app.record_mediation_failure(dispute_id, "双方分歧过大", [Route.LITIGATION], actor=MEDIATOR)
    dispute_events = extended(events_of(memory_app, dispute_id), Dispute.Closed, actor=MEDIATOR, summary="结案")
    task_id = started_inspection(memory_app)
    task_events = extended(
        events_of(memory_app, task_id),
        Task.ItemChecked,
        actor=WORKER,
        code="extinguishers",
        result=ItemResult.PASS,
        note="",
    )

    closing = the_one(check_case(dispute_events, today(clock)), "record.actor-role")
    checking = the_one(check_case(task_events, today(clock)), "record.actor-role")

    assert "以 mediator 角色记录，无权记录此步骤（有权角色：supervisor）" in closing.message_zh
    assert "由 w-li 记录，但承办人是 so-zhao" in checking.message_zh


@breaks("record.time-order")
def test_an_event_recorded_before_its_predecessor_is_found(memory_app: GridApplication, clock: Clock) -> None:
    """An imported history out of time order cannot be replayed as of a moment."""
    dispute_id = mediating(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.ReportedToPolice,
        actor=MEDIATOR,
        station=POLICE,
        reason="补录",
        after=-timedelta(hours=3),
    )

    finding = the_one(check_case(events, today(clock)), "record.time-order")

    assert RuleSeverity.WARNING == finding.severity
    assert (5, 6) == finding.versions


# -- checking as of a date -------------------------------------------------------------------------------------------


def test_the_check_sees_only_what_was_recorded_by_its_date(memory_app: GridApplication, clock: Clock) -> None:
    """A breach recorded on 20 November is not in a check as of the 19th."""
    dispute_id = agreed(memory_app, clock)
    events = extended(
        events_of(memory_app, dispute_id),
        Dispute.Closed,
        actor=SUPERVISOR,
        summary="结案",
        after=timedelta(days=16),
    )

    assert [] == found(check_case(events, date(2026, 11, 19)), "mediation.follow-up-before-closing")
    assert 1 == len(found(check_case(events, date(2026, 11, 20)), "mediation.follow-up-before-closing"))


def test_findings_are_ordered_by_the_first_event_concerned(memory_app: GridApplication, clock: Clock) -> None:
    """The report reads in the order of the history."""
    dispute_id = mediating(memory_app, clock)
    memory_app.flag_escalation_risk(dispute_id, RiskLevel.HIGH, "扬言上门", ["分开调解"], actor=MEDIATOR)

    findings = check_case(events_of(memory_app, dispute_id), date(2027, 1, 1))

    assert ["mediation.time-limit", "mediation.report-high-risk"] == [finding.rule_id for finding in findings]
    assert [2, 6] == [finding.versions[0] for finding in findings]


def test_the_date_of_a_check_is_a_date(memory_app: GridApplication, clock: Clock) -> None:
    """A moment is refused: a check is as of a day in China."""
    dispute_id = accepted(memory_app, clock)

    with pytest.raises(ValidationError, match="as_of"):
        check_case(events_of(memory_app, dispute_id), datetime(2026, 11, 2, tzinfo=UTC))


def test_residents_have_no_rules_to_break(memory_app: GridApplication, clock: Clock) -> None:
    """The rules cover mediation cases, inspections and tasks."""
    resident_id = memory_app.register_resident(ZHANG, GRID, actor=WORKER)

    assert [] == check_case(events_of(memory_app, resident_id), today(clock))
    assert () == rules_for("resident")


# -- the registry ---------------------------------------------------------------------------------------------------


def test_every_rule_is_broken_by_some_test() -> None:
    """Each rule in the registry has a test above with a history that breaks it."""
    assert {rule.rule_id for rule in RULES} == BROKEN


def test_every_rule_names_its_source_severity_and_titles() -> None:
    """Ids are unique dotted names; titles exist in both languages; a source is given."""
    ids = [rule.rule_id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+\.[a-z0-9-]+", rule.rule_id), rule.rule_id
        assert rule.title_zh
        assert rule.title_en
        assert rule.source
        assert rule.applies_to <= {"dispute", "inspection", "task"}


def test_rules_the_domain_also_refuses_share_their_id_with_docs_rules_md() -> None:
    """Where the audit checks a rule the domain enforces, it uses the id docs/rules.md gives it."""
    documented = set(re.findall(r"`([a-z]+\.[a-z0-9-]+)`", (ROOT / "docs" / "rules.md").read_text()))

    assert {rule.rule_id for rule in RULES if rule.refused_by_domain} <= documented
    assert set() == {rule.rule_id for rule in RULES if not rule.refused_by_domain} & documented


def test_the_audit_guide_shows_the_registry_as_it_is() -> None:
    """docs/audit.md holds the table rules_markdown() renders (regenerate it when a rule changes)."""
    guide = (ROOT / "docs" / "audit.md").read_text()

    assert rules_markdown() in guide


def test_an_unknown_rule_id_is_refused() -> None:
    """Looking up a rule that does not exist says so."""
    with pytest.raises(ValidationError, match="no audit rule"):
        rule_by_id("mediation.no-such-rule")
