"""Histories for the audit tests: built through GridApplication, or crafted where the domain refuses them.

Most histories are built with the application's commands, the hand-driven
``clock`` moving time over days and weeks, exactly as an office records them.

Some histories cannot be built that way, because the domain refuses the
commands that would make them (an agreement in effect that a party never
signed, a task closed without verification, a session recorded by a mediator
who is not the assigned one). Old or imported histories may still hold them,
and the audit must find them. :func:`crafted` builds such an event directly:
events are frozen dataclasses, so any event class can be instantiated with
the next version of the case, a timestamp, an actor and its fields, bypassing
every check. Such an event can be

* appended to the list of events that :func:`~grid_events.audit.check_case`
  takes (the rules run on events alone), or
* written to a store with :func:`append`, which puts it through the
  application's chained event store: it is chained and stored like any other,
  so verification passes and only the rule checks can tell.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

import attrs

from grid_events import (
    SMALL_VENUE_FIRE_SAFETY,
    Actor,
    Agreement,
    AgreementForm,
    CallOutcome,
    DisputeCategory,
    DisputeSource,
    EscalationLevel,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    ItemResult,
    PartyDetails,
    PartyInput,
    PartyKind,
    PerformanceStatus,
    PersonalData,
    PersonKind,
    Place,
    ReopenSource,
    ResidentTag,
    RiskLevel,
    Role,
    Route,
    SampledPerson,
    Severity,
    SignatureMethod,
    Site,
    SiteKind,
    TaskKind,
    Term,
)
from grid_events.audit import history
from grid_events.domain.base import GridAggregate
from grid_events.domain.mediation import local_date

GRID = GridCell("江南", "飞凤", "03")
SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
DEPUTY = Actor("s-zhou", Role.SUPERVISOR)
MEDIATOR = Actor("m-chen", Role.MEDIATOR)
OTHER_MEDIATOR = Actor("m-liu", Role.MEDIATOR)
WORKER = Actor("w-li", Role.GRID_WORKER)
OFFICER = Actor("so-zhao", Role.SAFETY_OFFICER)
NOODLE_SHOP = Place("吴记面馆", "飞凤路 18 号", GRID)
FIRE_BRIGADE = "义乌市消防救援大队江南中队"
POLICE = "江南派出所"

ZHANG = PersonalData(
    name="张秀英", id_number="11010519491231002X", phone="13812345678", address="飞凤小区 3 幢 2 单元 501"
)
LI = PartyDetails(name="李建国", phone="13900001111", address="飞凤小区 3 幢 2 单元 601")
ZHANG_SAYS = "楼上卫生间漏水三个月了，我家天花板发霉"
LI_SAYS = "我不知道漏水，愿意请师傅看一下"
SECRETS = (ZHANG.name, ZHANG.id_number, ZHANG.phone, LI.name, LI.phone, ZHANG_SAYS, LI_SAYS, "防水层老化的调查结论")
"""Personal data the histories hold sealed: none of it may appear in a timeline or an export."""

E = TypeVar("E", bound=GridAggregate.Event)


class Clock(Protocol):
    """The hand-driven clock of tests/conftest.py (starts Monday 2026-11-02, 09:00 China time)."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


def today(clock: Clock) -> date:
    """Return the clock's date in China."""
    return local_date(clock())


def photo(name: str) -> EvidenceRef:
    """Return a reference to a photo taken on site."""
    return EvidenceRef(EvidenceKind.PHOTO, f"evidence://2026/11/{name}.jpg", "ab" * 32, name)


# -- mediation ------------------------------------------------------------------------------------


def received(app: GridApplication, clock: Clock) -> UUID:
    """Receive the leaking-bathroom dispute: P1 the resident downstairs, P2 the neighbour upstairs."""
    resident_id = app.register_resident(ZHANG, GRID, actor=WORKER)
    return app.receive_dispute(
        DisputeSource.PARTY_APPLICATION,
        DisputeCategory.NEIGHBOUR,
        "楼上卫生间渗水至楼下",
        [
            PartyInput(PartyKind.RESIDENT, PartyDetails(name=ZHANG.name, phone=ZHANG.phone), resident_id),
            PartyInput(PartyKind.OTHER_PERSON, LI),
        ],
        GRID,
        today(clock),
        actor=SUPERVISOR,
    )


def accepted(app: GridApplication, clock: Clock) -> UUID:
    """The dispute accepted today, with m-chen as its mediator."""
    dispute_id = received(app, clock)
    app.accept_dispute(dispute_id, today(clock), actor=SUPERVISOR)
    app.assign_mediator(dispute_id, MEDIATOR.worker_id, actor=SUPERVISOR)
    return dispute_id


def hold_session(app: GridApplication, dispute_id: UUID, clock: Clock) -> None:
    """Record a session held an hour ago, both parties and the mediator attending."""
    app.record_session(
        dispute_id,
        clock() - timedelta(hours=1),
        "飞凤社区调解室",
        ["P1", "P2", MEDIATOR.worker_id],
        {"P1": ZHANG_SAYS, "P2": LI_SAYS},
        "双方同意由 601 室维修并赔偿",
        "起草调解协议",
        actor=MEDIATOR,
    )


def mediating(app: GridApplication, clock: Clock) -> UUID:
    """The dispute two days after acceptance, after an investigation and a first session."""
    dispute_id = accepted(app, clock)
    clock.advance(days=2)
    app.note_investigation(dispute_id, "防水层老化的调查结论", actor=MEDIATOR, evidence=[photo("601-bathroom")])
    hold_session(app, dispute_id, clock)
    return dispute_id


def agreement(due_on: date | None, form: AgreementForm = AgreementForm.WRITTEN) -> Agreement:
    """The agreement of the leaking-bathroom dispute: the neighbour upstairs repairs and pays by *due_on*."""
    return Agreement(
        form=form,
        facts="601 室卫生间防水层老化，渗水至 501 室天花板",
        issues="维修责任与天花板修复费用",
        terms=(
            Term("601 室请施工队重做卫生间防水层", "P2", due_on),
            Term("601 室赔偿 501 室天花板修复费 1500 元", "P2", due_on),
        ),
        performance="施工完成后由调解员现场确认；赔偿款当面付清",
        perform_by=due_on,
    )


def agreed(app: GridApplication, clock: Clock, *, due_in_days: int = 10) -> UUID:
    """The dispute whose written agreement took effect today; its terms are due in *due_in_days* days."""
    dispute_id = mediating(app, clock)
    app.draft_agreement(dispute_id, agreement(today(clock) + timedelta(days=due_in_days)), actor=MEDIATOR)
    for signer in ("P1", "P2", MEDIATOR.worker_id):
        app.sign_agreement(dispute_id, signer, today(clock), SignatureMethod.SIGNATURE, actor=MEDIATOR)
    return dispute_id


def closed_dispute(app: GridApplication, clock: Clock) -> UUID:
    """A dispute followed all the way: agreement, performance, follow-up, judicial confirmation, closing."""
    dispute_id = agreed(app, clock)
    clock.advance(days=10)
    app.record_performance(dispute_id, 0, performed=True, actor=MEDIATOR, note="防水层已重做")
    app.record_performance(dispute_id, 1, performed=True, actor=MEDIATOR, note="赔偿款已付清")
    app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=MEDIATOR
    )
    app.apply_for_judicial_confirmation(dispute_id, "义乌市人民法院", today(clock), actor=MEDIATOR)
    clock.advance(days=5)
    app.record_judicial_decision(dispute_id, confirmed=True, decided_on=today(clock), actor=MEDIATOR)
    app.close_dispute(dispute_id, "协议已履行，双方满意，法院已确认", actor=SUPERVISOR)
    return dispute_id


# -- inspections ----------------------------------------------------------------------------------


def started_inspection(app: GridApplication) -> UUID:
    """A fire inspection of the noodle shop, assigned to the safety officer, who accepts and starts it."""
    task_id = app.create_inspection("吴记面馆消防安全检查", NOODLE_SHOP, SMALL_VENUE_FIRE_SAFETY, actor=SUPERVISOR)
    app.assign_task(task_id, OFFICER.worker_id, actor=SUPERVISOR)
    app.accept_task(task_id, actor=OFFICER)
    app.start_task(task_id, actor=OFFICER)
    return task_id


def check_all(app: GridApplication, task_id: UUID, *failed: str) -> None:
    """Check every item: *failed* ones fail, gas does not apply, the rest pass."""
    for item in SMALL_VENUE_FIRE_SAFETY.items:
        if item.code in failed:
            app.check_item(task_id, item.code, ItemResult.FAIL, actor=OFFICER)
        elif item.code == "gas_use":
            app.check_item(task_id, item.code, ItemResult.NOT_APPLICABLE, actor=OFFICER, note="电磁炉，未使用燃气")
        else:
            app.check_item(task_id, item.code, ItemResult.PASS, actor=OFFICER)


def hazard(app: GridApplication, clock: Clock, severity: Severity = Severity.MAJOR) -> tuple[UUID, str]:
    """An inspection started today whose blocked back exit is a finding found today; return the task and finding."""
    task_id = started_inspection(app)
    check_all(app, task_id, "exits_clear")
    finding_id = app.record_finding(
        task_id,
        "exits_clear",
        "后门安全出口被纸箱和食材堵塞",
        severity=severity,
        location="后厨后门",
        found_on=today(clock),
        actor=OFFICER,
        evidence=(photo("back-exit"),),
    )
    return task_id, finding_id


def rectified_inspection(app: GridApplication, clock: Clock) -> UUID:
    """An inspection whose hazard was ordered fixed, re-inspected in time and passed; verified and closed."""
    task_id, finding_id = hazard(app, clock)
    clock.advance(days=1)
    app.order_rectification(task_id, finding_id, today(clock) + timedelta(days=3), today(clock), actor=OFFICER)
    clock.advance(days=3)
    app.record_owner_report(task_id, finding_id, today(clock), actor=OFFICER, note="店主称已清理")
    app.reinspect(task_id, finding_id, today(clock), passed=True, actor=OFFICER, evidence=(photo("back-exit-clear"),))
    app.submit_task(task_id, "隐患已整改，复查合格", actor=OFFICER)
    app.verify_task(task_id, actor=SUPERVISOR, note="照片与现场一致")
    app.close_task(task_id, actor=SUPERVISOR)
    return task_id


# -- crafted events -------------------------------------------------------------------------------


def crafted(
    events: list[GridAggregate.Event],
    event_class: type[E],
    *,
    actor: Actor,
    after: timedelta = timedelta(0),
    **fields: Any,
) -> E:
    """Return a new *event_class* event that follows *events*, bypassing every check of the domain.

    It gets the next version, a timestamp *after* the last event's, *actor*
    and *fields*. Add it to the list, or store it with :func:`append`.
    """
    last = events[-1]
    make = cast("Callable[..., E]", event_class)  # events are dataclasses: their fields are keywords
    return make(
        originator_id=last.originator_id,
        originator_version=last.originator_version + 1,
        timestamp=last.timestamp + after,
        actor=actor,
        **fields,
    )


def extended(
    events: list[GridAggregate.Event],
    event_class: type[GridAggregate.Event],
    *,
    actor: Actor,
    after: timedelta = timedelta(0),
    **fields: Any,
) -> list[GridAggregate.Event]:
    """Return *events* followed by a crafted *event_class* event (see :func:`crafted`)."""
    return [*events, crafted(events, event_class, actor=actor, after=after, **fields)]


def append(app: GridApplication, event: GridAggregate.Event) -> None:
    """Store a crafted *event* through the application's chained event store, as an import would."""
    app.events.put([event])


def events_of(app: GridApplication, case_id: UUID) -> list[GridAggregate.Event]:
    """Return the case's history (through the audit's replay, never the application's queries)."""
    return history(app, case_id)


# -- a tour of every event ----------------------------------------------------------------------------

ADMIN = Actor("admin", Role.ADMINISTRATOR)
VOLUNTEER = Actor("v-sun", Role.VOLUNTEER)
SAMPLED = SampledPerson(name="王芳", id_number="110101199003072316", phone="13912345678", address="飞凤小区 5 幢 301")
SAMPLING_POINT = Site("FF-03-P1", "飞凤小区东门核酸采样点", SiteKind.SAMPLING_POINT, GRID, "飞凤路 88 号东门")
TOUR_SECRETS = (*SECRETS, SAMPLED.name, SAMPLED.phone, SAMPLED.id_number, "密切接触者，居家观察")


def tour(app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """Record at least one event of every class of the four aggregates; return the cases by name."""
    return {
        "resident": _resident_tour(app, clock),
        "survey": _survey_call_tour(app, clock),
        "cancelled": _cancelled_task(app),
        "inspection": _inspection_tour(app, clock),
        "dispute": _dispute_tour(app, clock),
        "refused": _refused_dispute(app, clock),
        "declined": _declined_dispute(app, clock),
        "shift": _shift_tour(app, clock),
        "cancelled_shift": _cancelled_shift(app, clock),
    }


def _resident_tour(app: GridApplication, clock: Clock) -> UUID:
    resident_id = app.register_resident(ZHANG, GRID, actor=WORKER, moved_in_on=date(2019, 5, 1))
    app.correct_personal_data(resident_id, attrs.evolve(ZHANG, phone="13812345679"), actor=WORKER, reason="号码更正")
    app.tag_resident(resident_id, ResidentTag.ELDERLY_LIVING_ALONE, actor=WORKER, reason="子女在外地")
    app.untag_resident(resident_id, ResidentTag.ELDERLY_LIVING_ALONE, actor=WORKER, reason="子女已回家同住")
    app.start_home_isolation(
        resident_id, today(clock), today(clock) + timedelta(days=7), actor=WORKER, reason="密切接触者，居家观察"
    )
    app.end_home_isolation(resident_id, today(clock) + timedelta(days=7), actor=WORKER, reason="解除隔离")
    app.transfer_resident(resident_id, GridCell("江南", "飞凤", "04"), actor=WORKER, reason="搬到 04 网格")
    app.move_resident_out(resident_id, today(clock), actor=WORKER, reason="投靠子女")
    app.move_resident_in(resident_id, GRID, today(clock), actor=WORKER)
    app.erase_resident(resident_id, actor=ADMIN, reason="本人申请删除", request_ref="PIPL-2026-001")
    return resident_id


def _survey_call_tour(app: GridApplication, clock: Clock) -> UUID:
    task_id = app.create_task(TaskKind.SURVEY_CALL, "流调电话：11 月 2 日批次", GRID, actor=SUPERVISOR)
    app.assign_task(task_id, WORKER.worker_id, actor=SUPERVISOR, due_at=clock() + timedelta(hours=4))
    app.reassign_task(task_id, "w-chen", actor=SUPERVISOR, reason="w-li 外出入户")
    app.reschedule_task(task_id, clock() + timedelta(hours=8), actor=SUPERVISOR, reason="名单延后下发")
    colleague = Actor("w-chen", Role.GRID_WORKER)
    app.accept_task(task_id, actor=colleague)
    app.start_task(task_id, actor=colleague)
    app.record_task_progress(task_id, "已拨打 10 人", actor=colleague, evidence=(photo("call-list"),))
    app.record_call(task_id, CallOutcome.REACHED, actor=colleague, note="已告知核酸检测时间")
    app.submit_task(task_id, "10 人均已联系", actor=colleague)
    app.send_back_task(task_id, actor=SUPERVISOR, reason="缺少未接通人员的补打记录")
    app.submit_task(task_id, "已补打", actor=colleague)
    app.verify_task(task_id, actor=SUPERVISOR, note="抽查 3 人无误")
    app.close_task(task_id, actor=SUPERVISOR)
    app.evaluate_task(task_id, 5, actor=SUPERVISOR, comment="及时")
    app.reopen_task(task_id, ReopenSource.RESIDENT_COMPLAINT, actor=SUPERVISOR, reason="居民称未接到电话")
    app.escalate_task(task_id, EscalationLevel.COMMUNITY, actor=SUPERVISOR, reason="居民投诉")
    return task_id


def _cancelled_task(app: GridApplication) -> UUID:
    task_id = app.create_task(TaskKind.PATROL, "巡查占道经营", GRID, actor=SUPERVISOR)
    app.cancel_task(task_id, actor=SUPERVISOR, reason="<script>alert('重复任务')</script>")
    return task_id


def _inspection_tour(app: GridApplication, clock: Clock) -> UUID:
    task_id, finding_id = hazard(app, clock, Severity.SEVERE)
    app.order_rectification(task_id, finding_id, today(clock) + timedelta(days=3), today(clock), actor=OFFICER)
    app.record_owner_report(
        task_id, finding_id, today(clock), actor=OFFICER, note="店主称已清理", evidence=(photo("owner"),)
    )
    app.reinspect(task_id, finding_id, today(clock), passed=False, actor=OFFICER, note="后门仍上锁")
    app.report_to_authority(task_id, (finding_id,), FIRE_BRIGADE, "重大火灾隐患", today(clock), actor=OFFICER)
    return task_id


def _dispute_tour(app: GridApplication, clock: Clock) -> UUID:
    dispute_id = mediating(app, clock)
    app.flag_escalation_risk(
        dispute_id, RiskLevel.HIGH, "P1 家属扬言上门", ["分开调解", "网格员每日走访"], actor=MEDIATOR
    )
    app.report_dispute_to_police(dispute_id, POLICE, "可能引发治安案件", actor=MEDIATOR)
    app.extend_time_limit(dispute_id, today(clock) + timedelta(days=45), ["P1", "P2"], "等待维修报价", actor=MEDIATOR)
    app.draft_agreement(dispute_id, agreement(today(clock) + timedelta(days=10)), actor=MEDIATOR)
    for signer in ("P1", "P2", MEDIATOR.worker_id):
        app.sign_agreement(
            dispute_id,
            signer,
            today(clock),
            SignatureMethod.SEAL if signer == "P2" else SignatureMethod.SIGNATURE,
            actor=MEDIATOR,
        )
    clock.advance(days=10)
    app.record_performance(dispute_id, 0, performed=True, actor=MEDIATOR, note="防水层已重做")
    app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=MEDIATOR
    )
    app.apply_for_judicial_confirmation(dispute_id, "义乌市人民法院", today(clock), actor=MEDIATOR)
    app.record_judicial_decision(dispute_id, confirmed=True, decided_on=today(clock), actor=MEDIATOR)
    app.close_dispute(dispute_id, "协议已履行，法院已确认", actor=SUPERVISOR)
    return dispute_id


def _refused_dispute(app: GridApplication, clock: Clock) -> UUID:
    dispute_id = mediating(app, clock)
    app.record_refusal(dispute_id, "P2", "P2 表示不再参加调解", actor=MEDIATOR)
    app.record_mediation_failure(dispute_id, "一方拒绝调解", [Route.LITIGATION, Route.ADMINISTRATIVE], actor=MEDIATOR)
    return dispute_id


def _declined_dispute(app: GridApplication, clock: Clock) -> UUID:
    dispute_id = received(app, clock)
    app.decline_dispute(dispute_id, "已向法院起诉", actor=SUPERVISOR)
    return dispute_id


def _shift_tour(app: GridApplication, clock: Clock) -> UUID:
    shift_id = app.plan_shift(SAMPLING_POINT, clock(), clock() + timedelta(hours=8), WORKER.worker_id, actor=WORKER)
    clock.advance(minutes=20)
    app.open_shift(shift_id, actor=WORKER, cordon_set_up=True, disinfected=True, supplies={"采样管": 40, "咽拭子": 400})
    app.check_in(shift_id, WORKER.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=WORKER)
    app.check_in(shift_id, VOLUNTEER.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=VOLUNTEER)
    app.tally_sampled(shift_id, 1, actor=VOLUNTEER)
    app.record_sample(shift_id, "T0001", SAMPLED, actor=WORKER)
    app.use_supplies(shift_id, "咽拭子", 1, actor=VOLUNTEER)
    app.count_supplies(shift_id, "采样管", 39, actor=WORKER)
    app.restock_supplies(shift_id, "采样管", 10, actor=WORKER)
    app.seal_batch(shift_id, "B1", 1, actor=WORKER)
    clock.advance(minutes=5)
    app.dispatch_batch(shift_id, "B1", "转运专车 浙G·1234", actor=WORKER)
    app.hand_over_shift(shift_id, "w-chen", actor=WORKER, note="B1 已送出")
    app.check_out(shift_id, VOLUNTEER.worker_id, actor=VOLUNTEER)
    app.check_out(shift_id, WORKER.worker_id, actor=WORKER)
    clock.advance(minutes=40)
    app.receive_batch(shift_id, "B1", "金华迪安医学检验所", 1, actor=SUPERVISOR)
    app.close_shift(shift_id, 1, actor=Actor("w-chen", Role.GRID_WORKER))
    return shift_id


def _cancelled_shift(app: GridApplication, clock: Clock) -> UUID:
    shift_id = app.plan_shift(
        SAMPLING_POINT,
        clock() + timedelta(days=1),
        clock() + timedelta(days=1, hours=8),
        WORKER.worker_id,
        actor=WORKER,
    )
    app.cancel_shift(shift_id, actor=WORKER, reason="改为上门采样")
    return shift_id
