"""A world for the privacy tests: one of each aggregate, with personal data in every place it can be."""

from __future__ import annotations

import inspect
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
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
    Priority,
    ReopenSource,
    ResidentRecord,
    ResidentTag,
    RiskLevel,
    Role,
    Route,
    SampledPerson,
    Severity,
    SignatureMethod,
    Site,
    SiteKind,
    SiteShift,
    StoreConfig,
    TaskKind,
    Term,
)
from grid_events.privacy.permissions import guard_of, rights_of

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
GRID = GridCell("江南", "飞凤", "03")
SHOP = Place("吴记面馆", "飞凤路 18 号", GRID)
SITE = Site("FF-03-P1", "飞凤社区采样点", SiteKind.SAMPLING_POINT, GRID, "飞凤广场")
ZHANG = PersonalData(
    name="张秀英", id_number="11010519491231002X", phone="13812345678", address="飞凤小区 3 幢 2 单元 501"
)
LI = PartyDetails(name="李建国", phone="13900001111")
WANG_FANG = SampledPerson(name="王芳", id_number="110101199003072316", phone="13600003333")
ZHANG_SAMPLED = SampledPerson(name=ZHANG.name, id_number=ZHANG.id_number, phone=ZHANG.phone)
HEALTH_NOTE = "密接，居家观察"
ZHANG_SAYS = "楼上卫生间漏水三个月了"
SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
WORKER = Actor("w-li", Role.GRID_WORKER)
SAFETY = Actor("so-zhao", Role.SAFETY_OFFICER)
MEDIATOR = Actor("m-chen", Role.MEDIATOR)
ADMIN = Actor("admin", Role.ADMINISTRATOR)
WORKER_IDS = ("s-wang", "w-li", "so-zhao", "m-chen", "v-sun", "a-zhou", "admin", "timer", "w-zhang")


@attrs.define
class World:
    """One application holding one of each aggregate, in a state where most commands can apply."""

    app: GridApplication
    resident_id: UUID
    task_id: UUID
    inspection_id: UUID
    dispute_id: UUID
    shift_id: UUID
    subject_id: UUID


def build_world(config: StoreConfig | None = None) -> World:
    """Register a resident, start a task and an inspection, mediate a dispute, open a sampling shift.

    The resident 张秀英 is everywhere her data can be: registered, isolating
    (the reason sealed), linked to a survey-call task, party P1 of the dispute
    (with a statement), and sample S2 of the shift; 王芳 (S1) and 李建国 (P2)
    are not residents.
    """
    ticks = itertools.count()
    app = GridApplication(config or StoreConfig.memory(), clock=lambda: START + timedelta(seconds=next(ticks)))
    today = date(2026, 11, 2)
    resident_id = app.register_resident(ZHANG, GRID, actor=WORKER, tags=frozenset({ResidentTag.NEEDS_CARE}))
    app.start_home_isolation(resident_id, today, today + timedelta(days=7), actor=WORKER, reason=HEALTH_NOTE)
    task_id = app.create_task(TaskKind.SURVEY_CALL, "流调电话", GRID, actor=SUPERVISOR, resident_id=resident_id)
    app.assign_task(task_id, WORKER.worker_id, actor=SUPERVISOR)
    app.accept_task(task_id, actor=WORKER)
    app.start_task(task_id, actor=WORKER)
    inspection_id = app.create_inspection("消防检查", SHOP, SMALL_VENUE_FIRE_SAFETY, actor=SUPERVISOR)
    app.assign_task(inspection_id, SAFETY.worker_id, actor=SUPERVISOR)
    app.accept_task(inspection_id, actor=SAFETY)
    app.start_task(inspection_id, actor=SAFETY)
    first_item = SMALL_VENUE_FIRE_SAFETY.items[0].code
    app.check_item(inspection_id, first_item, ItemResult.FAIL, actor=SAFETY)
    app.record_finding(
        inspection_id,
        first_item,
        "后厨有人住宿",
        severity=Severity.MINOR,
        location="后厨",
        found_on=today,
        actor=SAFETY,
        evidence=(EvidenceRef(EvidenceKind.PHOTO, "photo://0"),),
    )
    dispute_id = app.receive_dispute(
        DisputeSource.PARTY_APPLICATION,
        DisputeCategory.NEIGHBOUR,
        "楼上渗水",
        [
            PartyInput(PartyKind.RESIDENT, PartyDetails(name=ZHANG.name), resident_id),
            PartyInput(PartyKind.OTHER_PERSON, LI),
        ],
        GRID,
        today,
        actor=SUPERVISOR,
    )
    app.accept_dispute(dispute_id, today, actor=SUPERVISOR)
    app.assign_mediator(dispute_id, MEDIATOR.worker_id, actor=SUPERVISOR)
    app.record_session(
        dispute_id, app.now(), "调解室", ["m-chen", "P1", "P2"], {"P1": ZHANG_SAYS}, "双方陈述", actor=MEDIATOR
    )
    shift_id = app.plan_shift(SITE, START, START + timedelta(hours=8), WORKER.worker_id, actor=WORKER)
    app.open_shift(shift_id, actor=WORKER, cordon_set_up=True, disinfected=True, supplies={"采样管": 100})
    app.record_sample(shift_id, "T-0001", WANG_FANG, actor=WORKER)
    app.record_sample(shift_id, "T-0001", ZHANG_SAMPLED, actor=WORKER, resident_id=resident_id)
    app.check_in(shift_id, "v-sun", PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=WORKER)
    app.seal_batch(shift_id, "B1", 1, actor=WORKER)
    subject_id = app.get_dispute(dispute_id, actor=SUPERVISOR).party("P2").subject_id
    return World(app, resident_id, task_id, inspection_id, dispute_id, shift_id, subject_id)


def sample_subject(app: GridApplication, shift_id: UUID, sample_id: str) -> UUID:
    """Return the data subject of sample *sample_id* of a shift (whose key sealed the record)."""
    return next(
        event.person.subject_id
        for event in app.events.get(shift_id)
        if isinstance(event, SiteShift.SampleRecorded) and event.sample_id == sample_id
    )


def live_wrapped_key(app: GridApplication, subject_id: UUID) -> bytes:
    """Return the wrapped key of *subject_id* as stored (it must be live)."""
    row = app.vault.keystore._select(subject_id)
    assert row is not None
    assert row[0] is not None
    return bytes(row[0])


def stored_count(app: GridApplication) -> int:
    """Return how many events the store holds."""
    return app.recorder.max_notification_id() or 0


# -- arguments that commands accept ---------------------------------------------------------------------

TEXTS = ["核实情况后处理", "已到现场", "入户走访，一切正常"]
PAST = [START - timedelta(minutes=m) for m in (5, 1, 90, 300)]
ON_SITE = [START + timedelta(minutes=m) for m in (2, 1, 3)]
"""Times on site: after the shift opened, within the five minutes ahead of the office clock allowed."""
FUTURE = [START + timedelta(minutes=m) for m in (24 * 60, 30, 3 * 24 * 60)]
DAYS = [date(2026, 11, 2) - timedelta(days=d) for d in (0, 1, 2)]
LATER_DAYS = [date(2026, 11, 2) + timedelta(days=d) for d in (20, 1, 40)]
EVIDENCE = [(EvidenceRef(EvidenceKind.PHOTO, "photo://1"),), ()]
COUNTS = [3, 0, 1, 20]
WORLD_ACTORS = (
    Actor("timer", Role.SYSTEM),
    SUPERVISOR,
    WORKER,
    SAFETY,
    MEDIATOR,
    ADMIN,
    Actor("a-zhou", Role.AUDITOR),
    Actor("v-sun", Role.VOLUNTEER),
)


def choices(world: World) -> dict[str, list[Any]]:
    """Return, by parameter name, values of the right type that a command may well accept (the first most)."""
    ids = [world.resident_id, world.task_id, world.inspection_id, world.dispute_id, world.shift_id, world.subject_id]
    agreement = Agreement(AgreementForm.ORAL, "渗水", "维修", (Term("修好", "P2"),), "当面")
    simple: dict[str, list[Any]] = {
        "resident_id": [world.resident_id, *ids],
        "task_id": [world.task_id, world.inspection_id, *ids],
        "dispute_id": [world.dispute_id, *ids],
        "shift_id": [world.shift_id, *ids],
        "subject_id": [world.subject_id, *ids],
        "personal": [ZHANG],
        "person": [WANG_FANG],
        "records": [[ResidentRecord(ZHANG, GRID)]],
        "grid": [GRID],
        "place": [SHOP, *TEXTS],
        "site": [SITE],
        "template": [SMALL_VENUE_FIRE_SAFETY],
        "agreement": [agreement],
        "parties": [[PartyInput(PartyKind.OTHER_PERSON, LI), PartyInput(PartyKind.SHOP, PartyDetails(name="吴海峰"))]],
        "statements": [{"P2": "我愿意修"}],
        "attendees": [["m-chen", "P2"]],
        "preventive_steps": [["劝导双方"]],
        "routes_explained": [[Route.LITIGATION]],
        "consenting_party_ids": [["P1", "P2"]],
        "applicant_party_ids": [["P1", "P2"]],
        "finding_ids": [("F1",)],
        "tags": [frozenset({ResidentTag.DISABLED})],
        "supplies": [{"采样管": 10}],
        "low_thresholds": [{"采样管": 5}],
        "batch_no": ["B1", "B2"],
        "sample_id": ["S1", "S2"],
        "party_id": ["P2", "P1", "P3"],
        "signer_id": ["P1", "P2", "m-chen"],
        "finding_id": ["F1", "F2"],
        "code": [item.code for item in SMALL_VENUE_FIRE_SAFETY.items],
        "item_code": [SMALL_VENUE_FIRE_SAFETY.items[0].code, None],
        "evidence": EVIDENCE,
        "kind": [TaskKind.HOUSEHOLD_VISIT, *TaskKind, *PersonKind],
        "role": [Role.GRID_WORKER, *Role],
        "new_key": [bytes(range(32, 64)), bytes(32)],
        "session_index": [0, 1],
        "term_index": [0, 1],
        "unmasked": [False, True],
        "version": [1, 2, 5],
        "rating": [4, 1, 5],
        "tag": [ResidentTag.DISABLED, *ResidentTag],
        "outcome": list(CallOutcome),
        "level": [*RiskLevel, *EscalationLevel],
        "source": [*ReopenSource, *DisputeSource],
        "category": list(DisputeCategory),
        "priority": list(Priority),
        "result": list(ItemResult),
        "severity": list(Severity),
        "method": list(SignatureMethod),
        "performance": list(PerformanceStatus),
        "planned_end": [START + timedelta(hours=6)],
    }
    flags = ("cordon_set_up", "disinfected", "passed", "performed", "satisfied", "escalation_signs", "confirmed")
    names = ("assignee", "mediator_id", "person_id", "lead_id", "to_lead_id")
    labels = ("tube_no", "carrier", "lab", "court", "station", "authority", "item", "location", "request_ref")
    return {
        **simple,
        **{name: [True, False] for name in flags},
        **{name: ["w-zhang", *WORKER_IDS] for name in names},
        **{name: ["采样管", "T-0001", "义乌市人民法院", "江南派出所"] for name in labels},
        **dict.fromkeys(("count", "counted", "quantity", "tube_count", "tubes_received", "final_tally"), COUNTS),
        **dict.fromkeys(
            ("reason", "note", "summary", "description", "title", "comment", "purpose", "next_steps", "referral_ref"),
            TEXTS,
        ),
        **dict.fromkeys(("held_at", "planned_start"), PAST),
        **dict.fromkeys(
            ("opened_at", "sealed_at", "closed_at", "dispatched_at", "received_at", "checked_in_at", "checked_out_at"),
            ON_SITE,
        ),
        **dict.fromkeys(("due_at",), FUTURE),
        **dict.fromkeys(
            (
                "received_on",
                "accepted_on",
                "found_on",
                "starts_on",
                "moved_out_on",
                "moved_in_on",
                "notice_served_on",
                "reported_on",
                "inspected_on",
                "signed_on",
                "visited_on",
                "applied_on",
                "decided_on",
                "ended_on",
            ),
            DAYS,
        ),
        **dict.fromkeys(("ends_on", "deadline", "new_deadline"), LATER_DAYS),
    }


INSPECTION_COMMANDS = {
    "check_item",
    "record_finding",
    "order_rectification",
    "record_owner_report",
    "reinspect",
    "report_to_authority",
}
PREFERRED = (WORKER, MEDIATOR, SAFETY, SUPERVISOR, ADMIN, Actor("a-zhou", Role.AUDITOR), Actor("timer", Role.SYSTEM))


OVERRIDES: dict[tuple[str, str], Any] = {
    ("check_in", "kind"): PersonKind.WORKER,
    ("check_in", "role"): Role.GRID_WORKER,
    ("check_out", "person_id"): "v-sun",
    ("seal_batch", "batch_no"): "B2",
    ("record_session", "place"): "调解室",
    ("transfer_resident", "grid"): GridCell("江南", "飞凤", "04"),
    ("untag_resident", "tag"): ResidentTag.NEEDS_CARE,
    ("extend_time_limit", "new_deadline"): date(2026, 12, 20),
    ("order_rectification", "deadline"): date(2026, 11, 20),
    ("create_inspection", "kind"): TaskKind.FIRE_INSPECTION,
    ("record_sample", "tube_no"): "T-0002",
    ("flag_escalation_risk", "level"): RiskLevel.LOW,
    ("escalate_task", "level"): EscalationLevel.COMMUNITY,
    ("reopen_task", "source"): ReopenSource.SUPERVISOR,
    ("receive_dispute", "source"): DisputeSource.PARTY_APPLICATION,
}
"""Values that only some commands take for a parameter name that others use differently."""


def valid_arguments(world: World, name: str) -> dict[str, Any]:
    """Return arguments for *name* that are each acceptable on their own (the first plausible value)."""
    method = getattr(GridApplication, name)
    guard = guard_of(method)
    assert guard is not None
    known = choices(world)
    inspection = name in INSPECTION_COMMANDS
    actor = SAFETY if inspection else next(a for a in PREFERRED if guard.right in rights_of(a.role))
    arguments: dict[str, Any] = {}
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.name == "actor":
            arguments["actor"] = actor
        elif parameter.name == "task_id":
            arguments["task_id"] = world.inspection_id if inspection else world.task_id
        elif parameter.name in {"resident_id", "dispute_id", "shift_id", "subject_id"}:
            arguments[parameter.name] = getattr(world, parameter.name)
        elif (name, parameter.name) in OVERRIDES:
            arguments[parameter.name] = OVERRIDES[name, parameter.name]
        elif parameter.name in known:
            arguments[parameter.name] = known[parameter.name][0]
        elif parameter.default is inspect.Parameter.empty:
            arguments[parameter.name] = "x"
    return arguments
