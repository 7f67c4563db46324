"""Histories for the views tests, recorded through GridApplication's commands at hand-driven times.

Each tour takes every path its view must show: a task reassigned, escalated,
sent back, reopened and cancelled; an inspection whose hazards are rectified
after a failed re-inspection, reported to the fire authority, or still
awaiting their deadline; disputes extended, escalated to the police, agreed,
confirmed by a court, followed up, declined, refused and failed; a site with
people on it, supplies running low, a late batch and a tube missing; residents
tagged, moved, isolated, corrected and erased.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID

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
    Priority,
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
from grid_service.views.projections._common import CHINA_TIME

GRID = GridCell("江南", "飞凤", "03")
OTHER_GRID = GridCell("江南", "飞凤", "05")
ELSEWHERE = GridCell("稠城", "宾王", "01")

SECRETARY = Actor("s-wang", Role.SUPERVISOR)
WORKER = Actor("w-li", Role.GRID_WORKER)
SECOND_WORKER = Actor("w-zhou", Role.GRID_WORKER)
OFFICER = Actor("so-zhao", Role.SAFETY_OFFICER)
MEDIATOR = Actor("m-chen", Role.MEDIATOR)
SECOND_MEDIATOR = Actor("m-he", Role.MEDIATOR)
LEAD = Actor("w-lead", Role.GRID_WORKER)
VOLUNTEER = Actor("v-sun", Role.VOLUNTEER)
ADMINISTRATOR = Actor("admin", Role.ADMINISTRATOR)
TIMER = Actor("timer", Role.SYSTEM)

ZHANG = PersonalData(name="张秀英", id_number="11010519491231002X", phone="13812345678", address="飞凤小区3幢2单元501")
LIU = PersonalData(name="刘建国", id_number="330782195805170018", phone="13905791234", address="飞凤小区5幢1单元302")
CHILD = PersonalData(name="王小明", id_number="330782201503010017", phone="", guardian_name="王丽娟")
NEIGHBOUR = PartyDetails(name="陈志强", phone="13588886666")


class Clock(Protocol):
    """The hand-driven clock of the tests."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


def today(clock: Clock) -> date:
    """Return the China date of the clock's time."""
    return clock().astimezone(CHINA_TIME).date()


def photo(name: str) -> EvidenceRef:
    """Return a photo's evidence reference."""
    return EvidenceRef(EvidenceKind.PHOTO, f"evidence://views/{name}.jpg", "ab" * 32, f"照片：{name}")


# -- tasks -------------------------------------------------------------------------------------------


def task_tour(app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """Record tasks that take every step of the closed loop; return their ids by name."""
    ids: dict[str, UUID] = {}
    soon = clock() + timedelta(hours=2)
    ids["reopened"] = looped = app.create_task(
        TaskKind.HOUSEHOLD_VISIT, "入户走访独居老人", GRID, actor=SECRETARY, priority=Priority.HIGH, due_at=soon
    )
    app.assign_task(looped, WORKER.worker_id, actor=SECRETARY)
    app.accept_task(looped, actor=WORKER)
    app.start_task(looped, actor=WORKER)
    app.record_task_progress(looped, "已上门，老人身体状况良好", actor=WORKER, evidence=(photo("visit"),))
    app.submit_task(looped, "走访完成", actor=WORKER)
    app.send_back_task(looped, actor=SECRETARY, reason="缺少走访照片")
    clock.advance(minutes=30)
    app.submit_task(looped, "补充照片后提交", actor=WORKER, evidence=(photo("visit-2"),))
    app.verify_task(looped, actor=SECRETARY, note="照片齐全")
    app.close_task(looped, actor=SECRETARY)
    app.evaluate_task(looped, 4, actor=SECRETARY, comment="及时")
    clock.advance(hours=1)
    app.reopen_task(
        looped,
        ReopenSource.RESIDENT_COMPLAINT,
        actor=SECRETARY,
        reason="居民反映未上门",
        due_at=clock() + timedelta(days=1),
    )

    ids["overdue"] = late = app.create_task(
        TaskKind.PATROL, "巡查占道经营", GRID, actor=SECRETARY, due_at=clock() + timedelta(hours=1)
    )
    app.assign_task(late, WORKER.worker_id, actor=SECRETARY)
    app.accept_task(late, actor=WORKER)
    clock.advance(hours=2)
    app.escalate_task(late, EscalationLevel.COMMUNITY, actor=TIMER, reason="超时未办结")
    app.escalate_task(late, EscalationLevel.CITY, actor=SECRETARY, reason="多次投诉")
    app.escalate_task(late, EscalationLevel.SUB_DISTRICT, actor=SECRETARY, reason="街道督办")

    ids["reassigned"] = moved = app.create_task(TaskKind.ERRAND, "代购药品", GRID, actor=SECRETARY)
    app.assign_task(moved, WORKER.worker_id, actor=SECRETARY, due_at=clock() + timedelta(hours=4))
    app.accept_task(moved, actor=WORKER)
    app.reassign_task(moved, SECOND_WORKER.worker_id, actor=SECRETARY, reason="原网格员请假")
    app.reschedule_task(moved, clock() + timedelta(days=2), actor=SECRETARY, reason="药店缺货")

    ids["cancelled"] = dropped = app.create_task(TaskKind.PATROL, "巡查污水偷排", OTHER_GRID, actor=SECRETARY)
    app.assign_task(dropped, SECOND_WORKER.worker_id, actor=SECRETARY)
    app.cancel_task(dropped, actor=SECRETARY, reason="已由城管处理")

    ids["calls"] = calls = app.create_task(TaskKind.SURVEY_CALL, "流调电话", OTHER_GRID, actor=SECRETARY)
    app.assign_task(calls, SECOND_WORKER.worker_id, actor=SECRETARY)
    app.accept_task(calls, actor=SECOND_WORKER)
    app.start_task(calls, actor=SECOND_WORKER)
    for outcome in (CallOutcome.REACHED, CallOutcome.NOT_REACHED, CallOutcome.VERIFIED, CallOutcome.REACHED):
        app.record_call(calls, outcome, actor=SECOND_WORKER)
    app.submit_task(calls, "四个电话已拨打", actor=SECOND_WORKER)

    ids["unassigned"] = app.create_task(TaskKind.ERRAND, "送菜上门", ELSEWHERE, actor=SECRETARY)
    return ids


def inspection_tour(app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """Record an inspection with a rectified, a reported and an open hazard, and one that found nothing."""
    shop = Place("飞凤小吃店", "飞凤路12号", GRID)
    ids: dict[str, UUID] = {}
    ids["hazards"] = task_id = app.create_inspection(
        "飞凤小吃店消防检查", shop, SMALL_VENUE_FIRE_SAFETY, actor=SECRETARY
    )
    app.assign_task(task_id, OFFICER.worker_id, actor=SECRETARY)
    app.accept_task(task_id, actor=OFFICER)
    app.start_task(task_id, actor=OFFICER)
    failing = {"exits_clear", "wiring_in_conduit"}
    for item in SMALL_VENUE_FIRE_SAFETY.items:
        if item.code == "gas_use":
            app.check_item(task_id, item.code, ItemResult.NOT_APPLICABLE, actor=OFFICER, note="不使用燃气")
        else:
            result = ItemResult.FAIL if item.code in failing else ItemResult.PASS
            app.check_item(task_id, item.code, result, actor=OFFICER)
    day = today(clock)
    exit_f = app.record_finding(
        task_id, "exits_clear", "后门被纸箱堵塞", severity=Severity.MAJOR, location="后厨后门", found_on=day,
        actor=OFFICER, evidence=(photo("exit"),),
    )  # fmt: skip
    wiring = app.record_finding(
        task_id, "wiring_in_conduit", "电线私拉乱接", severity=Severity.SEVERE, location="二楼", found_on=day,
        actor=OFFICER, evidence=(photo("wiring"),),
    )  # fmt: skip
    app.order_rectification(task_id, exit_f, day + timedelta(days=3), day, actor=OFFICER)
    app.report_to_authority(task_id, (wiring,), "义乌市消防救援大队", "重大火灾隐患，移交执法", day, actor=OFFICER)
    clock.advance(days=2)
    app.record_owner_report(task_id, exit_f, today(clock), actor=OFFICER, note="店主称已清理")
    clock.advance(days=2)
    app.reinspect(task_id, exit_f, today(clock), passed=False, actor=OFFICER, note="仍有杂物")
    app.order_rectification(task_id, exit_f, today(clock) + timedelta(days=2), today(clock), actor=OFFICER)
    clock.advance(days=2)
    app.reinspect(task_id, exit_f, today(clock), passed=True, actor=OFFICER, evidence=(photo("exit-clear"),))
    other = app.record_finding(
        task_id, None, "灭火器摆放位置不当", severity=Severity.MINOR, location="前厅", found_on=today(clock),
        actor=OFFICER, evidence=(photo("extinguisher"),),
    )  # fmt: skip
    app.order_rectification(task_id, other, today(clock) + timedelta(days=5), today(clock), actor=OFFICER)

    ids["clean"] = clean = app.create_inspection(
        "金胜超市一扫三查", Place("金胜超市", "金胜路1号", OTHER_GRID), SMALL_VENUE_FIRE_SAFETY, actor=SECRETARY
    )
    app.assign_task(clean, OFFICER.worker_id, actor=SECRETARY)
    app.accept_task(clean, actor=OFFICER)
    app.start_task(clean, actor=OFFICER)
    for item in SMALL_VENUE_FIRE_SAFETY.items:
        app.check_item(clean, item.code, ItemResult.PASS, actor=OFFICER)
    app.submit_task(clean, "未发现隐患", actor=OFFICER)
    app.verify_task(clean, actor=SECRETARY)
    app.close_task(clean, actor=SECRETARY)
    return ids


# -- disputes ------------------------------------------------------------------------------------------


def dispute_tour(app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """Record disputes that take every path of the register; return their ids by name."""
    ids: dict[str, UUID] = {}
    zhang = app.register_resident(ZHANG, GRID, actor=WORKER)
    parties = [PartyInput(PartyKind.RESIDENT, PartyDetails(name=ZHANG.name, phone=ZHANG.phone), zhang),
               PartyInput(PartyKind.OTHER_PERSON, NEIGHBOUR)]  # fmt: skip
    ids["agreed"] = case = app.receive_dispute(
        DisputeSource.POLICE_REFERRAL, DisputeCategory.NEIGHBOUR, "楼上漏水引发纠纷", parties, GRID, today(clock),
        actor=MEDIATOR, referral_ref="飞凤派出所移送函〔2026〕12号",
    )  # fmt: skip
    app.accept_dispute(case, today(clock), actor=MEDIATOR)
    app.assign_mediator(case, MEDIATOR.worker_id, actor=SECRETARY)
    app.assign_mediator(case, SECOND_MEDIATOR.worker_id, actor=SECRETARY, reason="原调解员回避")
    app.note_investigation(case, "张秀英称漏水已持续两个月", actor=SECOND_MEDIATOR, evidence=(photo("leak"),))
    clock.advance(days=3)
    app.record_session(
        case, clock(), "社区调解室", (SECOND_MEDIATOR.worker_id, "P1", "P2"),
        {"P1": "我家天花板被泡坏了，电话13812345678随时找我", "P2": "愿意维修"}, "双方同意先维修再协商赔偿",
        actor=SECOND_MEDIATOR,
    )  # fmt: skip
    clock.advance(days=25)
    app.extend_time_limit(case, today(clock) + timedelta(days=20), ("P1", "P2"), "等待维修结果", actor=SECOND_MEDIATOR)
    app.flag_escalation_risk(case, RiskLevel.MEDIUM, "双方争吵", ("分开约谈",), actor=SECOND_MEDIATOR)
    app.flag_escalation_risk(case, RiskLevel.HIGH, "一方扬言动手", ("通知民警",), actor=SECOND_MEDIATOR)
    app.report_dispute_to_police(case, "飞凤派出所", "有治安案件风险", actor=SECOND_MEDIATOR)
    signed_on = today(clock)
    agreement = Agreement(
        form=AgreementForm.WRITTEN,
        facts="楼上卫生间漏水",
        issues="维修及赔偿",
        terms=(Term("P2 一周内完成维修", "P2", signed_on + timedelta(days=7)), Term("P2 赔偿 500 元", "P2", None)),
        performance="维修后由调解员回访",
        perform_by=signed_on + timedelta(days=7),
    )
    app.draft_agreement(case, agreement, actor=SECOND_MEDIATOR)
    app.draft_agreement(case, agreement, actor=SECOND_MEDIATOR)
    for signer in ("P1", "P2"):
        app.sign_agreement(case, signer, signed_on, SignatureMethod.SIGNATURE, actor=SECOND_MEDIATOR)
    app.sign_agreement(case, SECOND_MEDIATOR.worker_id, signed_on, SignatureMethod.SIGNATURE, actor=SECOND_MEDIATOR)
    app.apply_for_judicial_confirmation(case, "义乌市人民法院", signed_on, actor=SECOND_MEDIATOR)
    clock.advance(days=7)
    app.record_performance(case, 0, performed=True, actor=SECOND_MEDIATOR, note="已维修")
    app.record_performance(case, 1, performed=False, actor=SECOND_MEDIATOR, note="尚未赔偿")
    app.record_follow_up(
        case, today(clock), PerformanceStatus.PARTLY, satisfied=False, escalation_signs=False, actor=SECOND_MEDIATOR
    )
    app.record_judicial_decision(case, confirmed=True, decided_on=today(clock), actor=SECOND_MEDIATOR, note="裁定有效")

    ids["past_limit"] = late = app.receive_dispute(
        DisputeSource.PARTY_APPLICATION, DisputeCategory.PROPERTY_MANAGEMENT, "物业费纠纷",
        [PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="周杰")), PartyInput(PartyKind.ORGANISATION,
         PartyDetails(name="飞凤物业"))], OTHER_GRID, today(clock) - timedelta(days=45), actor=MEDIATOR,
    )  # fmt: skip
    app.accept_dispute(late, today(clock) - timedelta(days=44), actor=MEDIATOR)
    app.assign_mediator(late, MEDIATOR.worker_id, actor=SECRETARY)

    ids["declined"] = declined = app.receive_dispute(
        DisputeSource.PARTY_APPLICATION, DisputeCategory.LABOUR, "工资纠纷", _strangers(), GRID, today(clock),
        actor=MEDIATOR,
    )  # fmt: skip
    app.decline_dispute(declined, "已申请劳动仲裁", actor=MEDIATOR)

    ids["failed"] = failed = app.receive_dispute(
        DisputeSource.OWN_INITIATIVE, DisputeCategory.FAMILY, "赡养纠纷", _strangers(), ELSEWHERE, today(clock),
        actor=MEDIATOR,
    )  # fmt: skip
    app.accept_dispute(failed, today(clock), actor=MEDIATOR)
    app.assign_mediator(failed, MEDIATOR.worker_id, actor=SECRETARY)
    app.record_session(failed, clock(), "当事人家中", (MEDIATOR.worker_id, "P1"), {}, "一方拒绝调解", actor=MEDIATOR)
    app.record_refusal(failed, "P2", "明确拒绝调解", actor=MEDIATOR)
    app.record_mediation_failure(
        failed, "一方拒绝", frozenset({Route.LITIGATION, Route.ADMINISTRATIVE}), actor=MEDIATOR
    )
    app.close_dispute(failed, "调解不成，已告知诉讼途径", actor=SECRETARY)
    return ids


def close_agreed(app: GridApplication, clock: Clock, case: UUID) -> None:
    """Follow the agreed case up once more (fully performed) and close it."""
    clock.advance(days=3)
    app.record_performance(case, 1, performed=True, actor=SECOND_MEDIATOR, note="已赔偿")
    app.record_follow_up(
        case, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=SECOND_MEDIATOR
    )
    app.close_dispute(case, "协议履行完毕", actor=SECRETARY)


def _strangers() -> list[PartyInput]:
    return [PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="甲某")),
            PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="乙某"))]  # fmt: skip


# -- sites ---------------------------------------------------------------------------------------------


def site(number: int, grid: GridCell = GRID, kind: SiteKind = SiteKind.SAMPLING_POINT) -> Site:
    """Return a site of *grid*."""
    return Site(f"site-{number}", f"{grid.community}采样点{number}", kind, grid, f"{grid.community}广场{number}号")


def shift_tour(app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """Record an open shift (people, low supplies, a late batch, a missing tube), a closed and a cancelled one."""
    ids: dict[str, UUID] = {}
    start = clock()
    ids["open"] = live = app.plan_shift(site(1), start, start + timedelta(hours=8), LEAD.worker_id, actor=SECRETARY)
    app.open_shift(
        live, actor=LEAD, cordon_set_up=True, disinfected=True, supplies={"采样管": 20, "拭子": 50},
        low_thresholds={"采样管": 15, "拭子": 10, "防护服": 2},
    )  # fmt: skip
    app.check_in(live, LEAD.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=LEAD)
    app.check_in(live, VOLUNTEER.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=VOLUNTEER)
    app.check_in(live, "v-qian", PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=LEAD)
    app.use_supplies(live, "采样管", 6, actor=LEAD)
    app.restock_supplies(live, "采样管", 20, actor=LEAD)
    app.use_supplies(live, "采样管", 20, actor=LEAD)
    app.count_supplies(live, "拭子", 48, actor=LEAD)
    app.tally_sampled(live, 30, actor=LEAD)
    app.record_sample(live, "T0001", SampledPerson(name=LIU.name, id_number=LIU.id_number, phone=LIU.phone), actor=LEAD)
    clock.advance(minutes=30)
    app.seal_batch(live, "B01", 3, actor=LEAD)
    clock.advance(minutes=10)
    app.dispatch_batch(live, "B01", "转运车 浙G·7K312", actor=LEAD)
    clock.advance(minutes=20)
    app.tally_sampled(live, 20, actor=LEAD)
    app.seal_batch(live, "B02", 2, actor=LEAD)
    clock.advance(minutes=40)
    app.receive_batch(live, "B01", "义乌市疾控中心实验室", 2, actor=LEAD)
    app.hand_over_shift(live, SECOND_WORKER.worker_id, actor=LEAD, note="交接给周")
    app.check_out(live, VOLUNTEER.worker_id, actor=VOLUNTEER)

    ids["closed"] = done = app.plan_shift(
        site(2, OTHER_GRID), clock(), clock() + timedelta(hours=4), LEAD.worker_id, actor=SECRETARY
    )
    app.open_shift(done, actor=LEAD, cordon_set_up=True, disinfected=True, supplies={"采样管": 10})
    app.check_in(done, LEAD.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=LEAD)
    app.tally_sampled(done, 12, actor=LEAD)
    app.seal_batch(done, "B01", 2, actor=LEAD)
    app.dispatch_batch(done, "B01", "转运车", actor=LEAD)
    app.check_out(done, LEAD.worker_id, actor=LEAD)
    app.close_shift(done, 12, actor=LEAD)
    app.receive_batch(done, "B01", "义乌市疾控中心实验室", 2, actor=LEAD)

    ids["cancelled"] = cancelled = app.plan_shift(
        site(3, ELSEWHERE, SiteKind.SERVICE_POINT), clock(), clock() + timedelta(hours=2), LEAD.worker_id,
        actor=SECRETARY,
    )  # fmt: skip
    app.cancel_shift(cancelled, actor=SECRETARY, reason="下雨")
    return ids


# -- residents ------------------------------------------------------------------------------------------


def resident_tour(app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """Record residents tagged, transferred, isolated, corrected, moved out and in, and one erased."""
    ids: dict[str, UUID] = {}
    ids["liu"] = liu = app.register_resident(
        LIU, GRID, actor=WORKER, tags=frozenset({ResidentTag.ELDERLY_LIVING_ALONE})
    )
    app.tag_resident(liu, ResidentTag.NEEDS_CARE, actor=WORKER, reason="行动不便")
    app.untag_resident(liu, ResidentTag.ELDERLY_LIVING_ALONE, actor=WORKER, reason="子女已同住")
    app.transfer_resident(liu, OTHER_GRID, actor=WORKER, reason="网格调整")
    day = today(clock)
    app.start_home_isolation(liu, day - timedelta(days=10), day - timedelta(days=3), actor=WORKER, reason="密接")
    app.end_home_isolation(liu, day - timedelta(days=3), actor=WORKER)
    app.start_home_isolation(liu, day - timedelta(days=1), day + timedelta(days=6), actor=WORKER)
    app.correct_personal_data(liu, PersonalData(name=LIU.name, id_number=LIU.id_number, phone="13700001111"),
                              actor=WORKER, reason="电话号码变更")  # fmt: skip

    ids["mover"] = mover = app.register_resident(ZHANG, GRID, actor=WORKER, moved_in_on=day - timedelta(days=400))
    app.move_resident_out(mover, day - timedelta(days=30), actor=WORKER, reason="搬离")
    app.move_resident_in(mover, ELSEWHERE, day - timedelta(days=2), actor=WORKER)

    ids["child"] = child = app.register_resident(
        CHILD, GRID, actor=WORKER, tags=frozenset({ResidentTag.MINOR_UNDER_14})
    )
    app.erase_resident(child, actor=ADMINISTRATOR, reason="监护人申请删除", request_ref="删除申请〔2026〕3号")
    return ids
