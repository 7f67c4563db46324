"""The views hold what the aggregates say, in the words supervisors and auditors read them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from conftest import Clock
from grid_events import (
    CallOutcome,
    Dispute,
    GridApplication,
    PersonKind,
    Resident,
    SiteShift,
    StoreConfig,
    Task,
    TaskKind,
)
from grid_service.scenario import DAY_START
from grid_service.views import ProjectionEngine, ViewStore, queries
from grid_service.views.projections._common import china_date

from . import histories
from .conftest import StoreFactory
from .helpers import Day, Tours, aggregates, all_stored_text, apply_in_batches, deliveries_of, engine_for

# -- the views agree with the aggregates ---------------------------------------------------------------


def iso(value: date | datetime | None) -> str | None:
    """Return a date or time as the views show it (times in UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def enum_value(value: Any) -> Any:
    """Return an enum member's value, or None."""
    return None if value is None else value.value


def check_task(store: ViewStore, task: Task, now: datetime) -> None:
    """The board's row of *task* says what the task says."""
    item = queries.task(store, str(task.id), now=now)
    assert item is not None
    expected = {
        "version": task.version,
        "kind": task.kind.value,
        "priority": task.priority.value,
        "grid": task.grid.code,
        "status": task.status.value,
        "assignee": task.assignee,
        "assigned_at": iso(task.assigned_at),
        "accepted_at": iso(task.accepted_at),
        "started_at": iso(task.started_at),
        "submitted_at": iso(task.submitted_at),
        "verified_at": iso(task.verified_at),
        "verified_by": task.verified_by,
        "closed_at": iso(task.closed_at),
        "cancelled_at": iso(task.cancelled_at),
        "due_at": iso(task.due_at),
        "escalation_level": enum_value(task.escalation_level),
        "escalation_count": task.escalation_count,
        "reopen_count": task.reopen_count,
        "sent_back_count": task.sent_back_count,
        "calls_made": task.calls.total,
        "calls_reached": task.calls.reached,
        "calls_not_reached": task.calls.not_reached,
        "calls_verified": task.calls.verified,
        "rating": task.rating,
        "waiting_verification": task.status.value == "submitted",
        "overdue": task.is_open and task.due_at is not None and task.due_at < now,
        "is_inspection": task.is_inspection,
    }
    assert expected == {name: item[name] for name in expected}
    if task.inspection is not None:
        check_inspection(store, task, now)


def check_inspection(store: ViewStore, task: Task, now: datetime) -> None:
    """The inspection list's row of *task* has its checklist and every finding as the inspection records it."""
    item = queries.inspection(store, str(task.id), now=now)
    assert item is not None
    inspection = task.the_inspection
    records = inspection.findings
    assert {check.item.code: enum_value(check.result) for check in inspection.checks} == item["items"]
    assert {record.finding_id: record.status.value for record in records} == {
        finding["finding_id"]: finding["status"] for finding in item["findings"]
    }
    assert (len(records), len(inspection.unresolved), sum(r.is_rectified for r in records)) == (
        item["findings_total"], item["findings_open"], item["findings_rectified"],
    )  # fmt: skip
    assert sum(r.is_reported for r in records) == item["findings_reported"]
    for finding, record in zip(item["findings"], records, strict=True):
        order = record.current_order
        assert (iso(record.finding.found_on), order.number if order else 0, iso(order.deadline) if order else None) == (
            finding["found_on"], finding["order_number"], finding["deadline"],
        )  # fmt: skip


def check_dispute(store: ViewStore, dispute: Dispute, now: datetime) -> None:
    """The register's row of *dispute* says what the case says, counted against today."""
    today = china_date(now)
    item = queries.dispute(store, str(dispute.id), now=now)
    assert item is not None
    expected = {
        "version": dispute.version,
        "status": dispute.status.value,
        "source": dispute.source.value,
        "category": dispute.category.value,
        "parties": len(dispute.parties),
        "received_on": iso(dispute.received_on),
        "accepted_on": iso(dispute.accepted_on),
        "deadline": iso(dispute.deadline),
        "extension_count": len(dispute.extensions),
        "mediator_id": dispute.mediator_id,
        "sessions": len(dispute.sessions),
        "risk_level": enum_value(dispute.risk_level),
        "police_reported": bool(dispute.police_reports),
        "police_report_due": dispute.police_report_due,
        "effective_on": iso(dispute.effective_on),
        "concluded_on": iso(dispute.concluded_on),
        "terms_performed": len(dispute.performed_terms),
        "follow_ups": len(dispute.follow_ups),
        "follow_up_due_on": iso(dispute.follow_up_due_on),
        "follow_up_due": dispute.follow_up_due(today),
        "judicial_deadline": iso(dispute.judicial_confirmation_deadline),
        "closed_on": iso(dispute.closed_on),
        "closed_from": enum_value(dispute.closed_from),
        "days_open": dispute.days_open(today),
        "days_left": dispute.days_left(today),
        "past_limit": dispute.is_past_limit(today),
        "signatures_collected": len(dispute.signatures),
    }
    assert expected == {name: item[name] for name in expected}


def check_shift(store: ViewStore, shift: SiteShift, now: datetime) -> None:
    """The dashboard of *shift* shows who is on site, its batches and supplies as the shift records them."""
    item = queries.shift(store, str(shift.id), now=now)
    assert item is not None
    expected = {
        "version": shift.version,
        "status": shift.status.value,
        "lead_id": shift.lead_id,
        "tally": shift.tally,
        "final_tally": shift.final_tally,
        "samples_recorded": shift.samples_recorded,
        "people_on_site": len(shift.on_site),
        "volunteers_on_site": len(shift.people_on_site(kind=PersonKind.VOLUNTEER)),
        "batches_sealed": len(shift.batches),
        "batches_undispatched": len(shift.undispatched_batches()),
        "tubes_sealed": shift.tubes_sealed,
        "late_batches": len(shift.late_batches(now)),
        "minutes_since_last_seal": shift.minutes_since_last_seal(now),
        "opened_at": iso(shift.opened_at),
        "closed_at": iso(shift.closed_at),
    }
    assert expected == {name: item[name] for name in expected}
    assert len(shift.batches_not_received()) == item["batches_undispatched"] + item["batches_in_transit"]
    assert sorted(shift.on_site) == [person["person_id"] for person in item["people"]]
    assert set(shift.low_supplies()) == {supply["item"] for supply in item["supplies"] if supply["low"]}
    assert {name: shift.supply(name) for name in {*shift.supplies, *shift.low_thresholds}} == {
        supply["item"]: supply["quantity"] for supply in item["supplies"]
    }
    assert {record.batch_no: record.status.value for record in shift.batches.values()} == {
        batch["batch_no"]: batch["status"] for batch in item["batches"]
    }


def check_resident(store: ViewStore, resident: Resident, now: datetime) -> None:
    """The registry's row of *resident* has its cell, status, tags and isolation."""
    item = queries.resident(store, str(resident.id), now=now)
    assert item is not None
    expected = {
        "version": resident.version,
        "grid": resident.grid.code,
        "status": resident.status.value,
        "tags": sorted(tag.value for tag in resident.tags),
        "vulnerable": resident.is_vulnerable,
        "isolating": resident.isolating_on(china_date(now)),
        "moved_in_on": iso(resident.moved_in_on),
        "moved_out_on": iso(resident.moved_out_on),
        "personal_data_erased": resident.is_erased,
    }
    assert expected == {name: item[name] for name in expected}


CHECKS: dict[type, Callable[[ViewStore, Any, datetime], None]] = {
    Task: check_task,
    Dispute: check_dispute,
    SiteShift: check_shift,
    Resident: check_resident,
}


def check_every_aggregate(store: ViewStore, found: dict[UUID, Any], moments: list[datetime]) -> int:
    """Check every aggregate of *found* against its view at each of *moments*; return how many were checked."""
    checked = 0
    for aggregate in found.values():
        check = CHECKS.get(type(aggregate))
        if check is not None:
            for now in moments:
                check(store, aggregate, now)
            checked += 1
    return checked


def test_a_day_in_the_views_is_the_day_of_the_aggregates(community_day: Day, day_engine: ProjectionEngine) -> None:
    """Every task, inspection, dispute, shift and resident of a simulated day reads as its aggregate, at any hour."""
    apply_in_batches(day_engine, community_day.deliveries)
    end = community_day.clock()
    moments = [end - timedelta(days=8), end - timedelta(hours=30), end, end + timedelta(days=40)]

    checked = check_every_aggregate(day_engine.store, aggregates(community_day.deliveries), moments)

    assert 40 + 1 + 1 + 3 == checked


def test_every_tour_in_the_views_is_what_its_aggregates_say(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Every path of every tour (reopened, escalated, extended, erased…) reads as its aggregate."""
    moments = [
        tours.now - timedelta(days=30),
        tours.now,
        tours.now + timedelta(hours=1),
        tours.now + timedelta(days=31),
    ]

    checked = check_every_aggregate(tour_engine.store, aggregates(tours.deliveries), moments)

    assert 6 + 2 + 4 + 3 + 4 == checked


def test_the_views_at_every_point_of_a_history_are_the_aggregates_then(
    tours: Tours, new_view_store: StoreFactory
) -> None:
    """Applied one delivery at a time, the views match the aggregates after each step."""
    engine = engine_for(new_view_store("sqlite", synchronous="normal"), tours.app)
    for index, delivery in enumerate(tours.deliveries):
        for name in ("task_board", "mediation_register", "site_dashboard", "resident_registry"):
            engine.apply(name, [delivery])
        if index % 7 == 0 or index == len(tours.deliveries) - 1:
            found = aggregates(tours.deliveries[: index + 1])
            check_every_aggregate(engine.store, {delivery.message.aggregate_id: found[delivery.message.aggregate_id]},
                                  [tours.now])  # fmt: skip


# -- each view in its own words ---------------------------------------------------------------------------


def test_the_board_shows_reopened_overdue_escalated_and_waiting_tasks(
    tours: Tours, tour_engine: ProjectionEngine
) -> None:
    """A reopened task is back with its assignee; an overdue one is flagged and escalated to the city."""
    ids = tours.ids["tasks"]
    store = tour_engine.store
    reopened = queries.task(store, str(ids["reopened"]), now=tours.now)
    overdue = queries.task(store, str(ids["overdue"]), now=tours.now)
    calls = queries.task(store, str(ids["calls"]), now=tours.now)
    assert reopened is not None
    assert overdue is not None
    assert calls is not None

    assert ("assigned", "w-li", 1, 1, None, None, None) == (
        reopened["status"], reopened["assignee"], reopened["reopen_count"], reopened["sent_back_count"],
        reopened["verified_at"], reopened["closed_at"], reopened["rating"],
    )  # fmt: skip
    assert (True, "city", 3, "accepted") == (
        overdue["overdue"], overdue["escalation_level"], overdue["escalation_count"], overdue["status"],
    )  # fmt: skip
    assert overdue["overdue_minutes"] > 0
    assert (True, 4, 2, 1, 1) == (
        calls["waiting_verification"], calls["calls_made"], calls["calls_reached"], calls["calls_not_reached"],
        calls["calls_verified"],
    )  # fmt: skip


def test_the_inspection_list_counts_findings_open_rectified_and_reported(
    tours: Tours, tour_engine: ProjectionEngine
) -> None:
    """A hazard rectified after a failed re-inspection, a severe one reported, a minor one awaiting its deadline."""
    item = queries.inspection(tour_engine.store, str(tours.ids["inspections"]["hazards"]), now=tours.now)
    assert item is not None
    findings = {finding["finding_id"]: finding for finding in item["findings"]}

    assert (3, 1, 1, 1, 1) == (
        item["findings_total"], item["findings_open"], item["findings_rectified"], item["findings_reported"],
        item["findings_severe"],
    )  # fmt: skip
    assert ("rectified", 2, True) == (
        findings["F1"]["status"],
        findings["F1"]["order_number"],
        findings["F1"]["rectified"],
    )
    assert ("reported", "义乌市消防救援大队") == (findings["F2"]["status"], findings["F2"]["authority"])
    assert ("rectifying", findings["F3"]["deadline"]) == (findings["F3"]["status"], item["next_deadline"])
    assert (7, 7, 2) == (item["items_total"], item["items_checked"], item["items_failed"])
    assert "not_applicable" == item["items"]["gas_use"]


def test_the_register_counts_days_against_the_extended_limit(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """The agreed case: extended once, reported to the police, confirmed by a court, a follow-up due 30 days on."""
    ids = tours.ids["disputes"]
    store = tour_engine.store
    agreed = queries.dispute(store, str(ids["agreed"]), now=tours.now)
    late = queries.dispute(store, str(ids["past_limit"]), now=tours.now)
    declined = queries.dispute(store, str(ids["declined"]), now=tours.now)
    assert agreed is not None
    assert late is not None
    assert declined is not None
    today = china_date(tours.now)

    assert ("agreed", 1, "high", True, False, "confirmed", 1, 2, "written", 3, 3) == (
        agreed["status"], agreed["extension_count"], agreed["risk_level"], agreed["police_reported"],
        agreed["police_report_due"], agreed["judicial_status"], agreed["terms_performed"], agreed["terms_total"],
        agreed["agreement_form"], agreed["signatures_required"], agreed["signatures_collected"],
    )  # fmt: skip
    assert agreed["original_deadline"] < agreed["deadline"]
    assert (today + timedelta(days=30)).isoformat() == agreed["follow_up_due_on"]
    assert (None, None, False) == (agreed["days_left"], agreed["days_past_limit"], agreed["past_limit"])
    assert "m-he" == agreed["mediator_id"]
    assert 1 == agreed["mediator_changes"]
    assert (True, (today - date.fromisoformat(late["deadline"])).days, 45) == (
        late["past_limit"], late["days_past_limit"], late["days_open"],
    )  # fmt: skip
    assert ("declined", today.isoformat(), 0) == (declined["status"], declined["closed_on"], declined["days_open"])


def test_closing_the_agreed_case_ends_the_follow_ups(tours: Tours, new_view_store: StoreFactory) -> None:
    """A follow-up finding the agreement fully performed clears the next follow-up; closing fixes days open."""
    clock = Clock()
    with GridApplication(StoreConfig.memory(), clock=clock) as app:
        case = histories.dispute_tour(app, clock)["agreed"]
        histories.close_agreed(app, clock, case)
        engine = engine_for(new_view_store("sqlite"), app)
        engine.apply("mediation_register", deliveries_of(app))
        later = clock() + timedelta(days=100)
        item = queries.dispute(engine.store, str(case), now=later)

    assert item is not None
    assert ("closed", "agreed", None, False, 2) == (
        item["status"], item["closed_from"], item["follow_up_due_on"], item["follow_up_due"], item["terms_performed"],
    )  # fmt: skip
    assert (date.fromisoformat(item["closed_on"]) - date.fromisoformat(item["received_on"])).days == item["days_open"]


def test_the_dashboard_shows_people_low_supplies_and_late_batches(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Two people on site, two items low, one batch sealed forty minutes ago and not sent, one tube missing."""
    item = queries.shift(tour_engine.store, str(tours.ids["shifts"]["open"]), now=tours.now)
    assert item is not None
    supplies = {supply["item"]: supply for supply in item["supplies"]}

    assert (2, 1, 1, ["v-qian", "w-lead"]) == (
        item["people_on_site"], item["workers_on_site"], item["volunteers_on_site"],
        sorted(person["person_id"] for person in item["people"]),
    )  # fmt: skip
    assert (2, 1, 1, 1, 1, -1) == (
        item["batches_sealed"], item["batches_dispatched"], item["batches_received"], item["batches_undispatched"],
        item["late_batches"], item["tube_discrepancy"],
    )  # fmt: skip
    assert [True, False] == [batch["late"] for batch in sorted(item["batches"], key=lambda b: b["batch_no"])[::-1]]
    assert (2, True, True, False, -2) == (
        item["low_supplies"], supplies["采样管"]["low"], supplies["防护服"]["low"], supplies["拭子"]["low"],
        supplies["拭子"]["discrepancy"],
    )  # fmt: skip
    assert ("w-zhou", 50, 1) == (item["lead_id"], item["tally"], item["samples_recorded"])
    early = queries.shift(tour_engine.store, str(tours.ids["shifts"]["open"]), now=tours.now - timedelta(minutes=15))
    assert early is not None
    assert 0 == early["late_batches"]


def test_the_registry_masks_and_isolates(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """The registry shows masked identifiers only, the corrected phone, and who is isolating today."""
    store = tour_engine.store
    liu = queries.resident(store, str(tours.ids["residents"]["liu"]), now=tours.now)
    assert liu is not None

    assert ("刘**", "330***********0018", "137****1111") == (
        liu["masked_name"], liu["masked_id_number"], liu["masked_phone"],
    )  # fmt: skip
    assert (["needs_care"], True, True, 1, histories.OTHER_GRID.code) == (
        liu["tags"], liu["vulnerable"], liu["isolating"], liu["past_isolations"], liu["grid"],
    )  # fmt: skip
    text = all_stored_text(store)
    for identifier in (histories.LIU.name, histories.LIU.id_number, histories.LIU.phone, "13700001111"):
        assert identifier not in text


def test_an_erased_resident_leaves_nothing_personal_in_any_view(tours: Tours, view_store: ViewStore) -> None:
    """After erasure, the registry keeps no masked data for the child, and no table holds their identifiers."""
    engine = engine_for(view_store, tours.app)
    for name in engine.names:
        engine.apply(name, tours.deliveries)
    child = queries.resident(view_store, str(tours.ids["residents"]["child"]), now=tours.now)
    assert child is not None

    assert ("erased", None, None, None, [], False, True) == (
        child["status"], child["masked_name"], child["masked_id_number"], child["masked_phone"], child["tags"],
        child["vulnerable"], child["personal_data_erased"],
    )  # fmt: skip
    text = all_stored_text(view_store)
    masked_id = "330***********0017"
    for identifier in (histories.CHILD.name, histories.CHILD.id_number, masked_id, histories.CHILD.guardian_name):
        assert identifier not in text
    generation = engine.begin_rebuild("resident_registry")
    engine.apply_to_generation("resident_registry", generation, tours.deliveries)
    engine.finish_rebuild("resident_registry", generation)
    assert masked_id not in all_stored_text(view_store)
    assert "330***********0018" in all_stored_text(view_store)


def test_erasing_a_projected_resident_clears_what_the_registry_showed(
    clock: Any,
    sqlite_view_store: ViewStore,
) -> None:
    """A resident projected while their key existed loses the masked values when the erasure is projected."""
    with GridApplication(StoreConfig.memory(), clock=clock) as app:
        engine = engine_for(sqlite_view_store, app)
        resident_id = app.register_resident(histories.ZHANG, histories.GRID, actor=histories.WORKER)
        engine.apply("resident_registry", deliveries_of(app))
        before = queries.resident(sqlite_view_store, str(resident_id), now=clock())
        app.erase_resident(resident_id, actor=histories.ADMINISTRATOR, reason="本人申请删除")
        engine.apply("resident_registry", deliveries_of(app))
        after = queries.resident(sqlite_view_store, str(resident_id), now=clock())

    assert before is not None
    assert after is not None
    assert "138****5678" == before["masked_phone"]
    assert (None, None, None, "erased") == (
        after["masked_name"], after["masked_id_number"], after["masked_phone"], after["status"],
    )  # fmt: skip
    text = all_stored_text(sqlite_view_store)
    assert "138****5678" not in text
    assert "110***********002X" not in text


def test_workload_and_daily_statistics_count_the_day(community_day: Day, day_engine: ProjectionEngine) -> None:
    """Daily statistics add up to what the day did; each caller's calls and closed tasks are counted on the day."""
    apply_in_batches(day_engine, community_day.deliveries)
    counts = community_day.summary.counts
    days = queries.daily_statistics(day_engine.store).items
    totals = {name: sum(day[name] for day in days) for name in days[0] if isinstance(days[0][name], int)}

    assert (
        counts["calls made"], counts["residents notified"], counts["hazards found"], counts["hazards rectified"],
        counts["disputes resolved"], counts["people sampled"], counts["batches sealed"],
    ) == (
        totals["calls_made"], totals["residents_notified"], totals["hazards_found"], totals["hazards_rectified"],
        totals["disputes_resolved"], totals["samples_tallied"], totals["batches_sealed"],
    )  # fmt: skip
    noon = DAY_START + timedelta(hours=6)
    workload = queries.workload(day_engine.store, now=noon).items
    callers = [item for item in workload if item["calls_made_today"]]
    assert counts["calls made"] == sum(item["calls_made_today"] for item in callers)
    assert 2 == len(callers)
    assert all(item["day"] == "2026-11-02" for item in workload)
    assert all(0 == item["open_tasks"] for item in workload)


def test_workload_follows_tasks_between_workers_and_steps(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Open tasks count for their current assignee, by step; overdue ones are counted against now."""
    workload = {
        item["worker_id"]: item for item in queries.workload(tour_engine.store, now=tours.now, community="飞凤").items
    }

    assert (2, 1, 1, 0, 2) == (
        workload["w-li"]["open_tasks"], workload["w-li"]["assigned"], workload["w-li"]["in_progress"],
        workload["w-li"]["submitted"], workload["w-li"]["overdue"],
    )  # fmt: skip
    assert (2, 1, 1) == (
        workload["w-zhou"]["open_tasks"],
        workload["w-zhou"]["assigned"],
        workload["w-zhou"]["submitted"],
    )
    assert (1, 1) == (workload["so-zhao"]["open_tasks"], workload["so-zhao"]["in_progress"])


def test_the_audit_trail_has_every_step_and_no_personal_data(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """Each dispute and inspection has one step per event, who and in which role, with evidence; sealed stays sealed."""
    store = tour_engine.store
    found = aggregates(tours.deliveries)
    cases = queries.audit_cases(store, limit=100).items
    agreed = tours.ids["disputes"]["agreed"]
    steps = queries.audit_trail(store, str(agreed)).items
    by_event = {step["event"]: step for step in steps}

    assert {str(i) for kind in ("disputes", "inspections") for i in tours.ids[kind].values()} == {
        case["case_id"] for case in cases
    }
    for case in cases:
        assert found[UUID(case["case_id"])].version == case["steps"]
    assert list(range(1, found[agreed].version + 1)) == [step["version"] for step in steps]
    assert ("[sealed]", "[sealed]") == (
        by_event["Dispute.InvestigationNoted"]["details"]["note"],
        by_event["Dispute.SessionRecorded"]["details"]["statements"][0]["text"],
    )  # fmt: skip
    assert ("m-he", "mediator") == (
        by_event["Dispute.SessionRecorded"]["actor_id"],
        by_event["Dispute.SessionRecorded"]["role"],
    )
    assert "原调解员回避" in [step["reason"] for step in steps]
    assert ["evidence://views/leak.jpg"] == [ref["uri"] for ref in by_event["Dispute.InvestigationNoted"]["evidence"]]
    inspection = queries.audit_trail(store, str(tours.ids["inspections"]["hazards"])).items
    assert ["evidence://views/exit-clear.jpg"] == [
        ref["uri"] for step in inspection if step["event"] == "Task.Reinspected" for ref in step["evidence"]
    ]
    text = all_stored_text(store)
    for secret in ("张秀英", "13812345678", "陈志强", "漏水已持续两个月", "我家天花板", "11010519491231002X"):
        assert secret not in text


def test_the_trail_as_it_stood(tours: Tours, tour_engine: ProjectionEngine) -> None:
    """With as_of, the trail shows only the steps recorded by then."""
    agreed = str(tours.ids["disputes"]["agreed"])
    steps = queries.audit_trail(tour_engine.store, agreed).items
    middle = datetime.fromisoformat(steps[6]["recorded_at"])

    earlier = queries.audit_trail(tour_engine.store, agreed, as_of=middle)

    assert [step for step in steps if datetime.fromisoformat(step["recorded_at"]) <= middle] == earlier.items
    assert 0 < earlier.total < len(steps)


def test_days_are_counted_in_china_time(clock: Clock, sqlite_view_store: ViewStore) -> None:
    """A call made at 23:30 UTC counts on the next day, the date in China, for the community and the caller."""
    clock.now = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    with GridApplication(StoreConfig.memory(), clock=clock) as app:
        task_id = app.create_task(TaskKind.SURVEY_CALL, "流调电话", histories.GRID, actor=histories.SECRETARY)
        app.assign_task(task_id, histories.WORKER.worker_id, actor=histories.SECRETARY)
        app.accept_task(task_id, actor=histories.WORKER)
        app.start_task(task_id, actor=histories.WORKER)
        app.record_call(task_id, CallOutcome.VERIFIED, actor=histories.WORKER)
        engine = engine_for(sqlite_view_store, app)
        engine.apply("statistics", deliveries_of(app))

    (day,) = queries.daily_statistics(sqlite_view_store).items
    late_evening = queries.workload(sqlite_view_store, now=clock.now).items
    next_evening = queries.workload(sqlite_view_store, now=clock.now + timedelta(days=1)).items

    assert ("2026-11-03", 1, 1, 1) == (day["day"], day["calls_made"], day["residents_notified"], day["tasks_created"])
    assert [(1, 1, 1)] == [(i["calls_made_today"], i["calls_reached_today"], i["in_progress"]) for i in late_evening]
    assert [(0, 1)] == [(i["calls_made_today"], i["open_tasks"]) for i in next_evening]
