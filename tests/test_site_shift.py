"""Site shifts: a sampling point from set-up to a reconciled close, batches, supplies, sealed sample records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol, cast
from uuid import UUID

import pytest

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PermissionDeniedError,
    PersonalData,
    PersonalDataErasedError,
    Role,
    RuleViolationError,
    ValidationError,
)
from grid_events.domain.site_shift import (
    Batch,
    BatchStatus,
    PersonKind,
    ShiftStatus,
    Site,
    SiteKind,
    SiteShift,
)
from grid_events.privacy.personal import SampledPerson


class Clock(Protocol):
    """The hand-driven clock of the ``clock`` fixture."""

    now: datetime

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward."""
        ...


CHINA = timezone(timedelta(hours=8))
GRID = GridCell("江南", "飞凤", "03")
SAMPLING_POINT = Site("FF-03-P1", "飞凤小区东门核酸采样点", SiteKind.SAMPLING_POINT, GRID, "飞凤路 88 号东门")
CHILD_CARE = Site("FF-CC-1", "平安助苗暑托班", SiteKind.CHILD_CARE_CLASS, GRID, "飞凤社区活动中心二楼")
SUPPLIES = {"采样管": 40, "咽拭子": 400, "防护服": 6, "消毒液": 4}
THRESHOLDS = {"采样管": 10, "防护服": 2}

WANG_FANG = SampledPerson(name="王芳", id_number="11010519491231002X", phone="13912345678", address="飞凤小区 5 幢 301")
ZHANG = PersonalData(name="张秀英", id_number="110101199003072316", phone="13812345678", address="飞凤小区 3 幢 501")

AUDITOR = Actor("a-zhou", Role.AUDITOR)
OUTSIDER = Actor("w-zhao", Role.GRID_WORKER)
COLLEAGUE = Actor("w-chen", Role.LIAISON)
SECRETARY = Actor("s-wang", Role.SUPERVISOR)
"""May see a sample record in full, saying why."""
PURPOSE = "trace a positive pool"
SECOND_VOLUNTEER = "v-qian"


def stored_count(app: GridApplication) -> int:
    """Return how many events the store holds."""
    return app.recorder.max_notification_id() or 0


def plan(app: GridApplication, clock: Clock, lead: Actor, site: Site = SAMPLING_POINT) -> UUID:
    """Plan an eight-hour shift at *site* starting now, led by *lead*."""
    return app.plan_shift(site, clock.now, clock.now + timedelta(hours=8), lead.worker_id, actor=lead)


def open_sampling_shift(app: GridApplication, clock: Clock, lead: Actor) -> UUID:
    """Plan and open a sampling shift led by *lead*, set up and stocked."""
    shift_id = plan(app, clock, lead)
    clock.advance(minutes=20)
    app.open_shift(
        shift_id,
        actor=lead,
        cordon_set_up=True,
        disinfected=True,
        supplies=SUPPLIES,
        low_thresholds=THRESHOLDS,
    )
    return shift_id


def test_a_sampling_shift_runs_from_plan_to_a_reconciled_close(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor, volunteer: Actor
) -> None:
    """Set-up, volunteers, supplies, tallies and three half-hourly batches reconcile at closing."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.check_in(shift_id, worker.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=worker)
    app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)
    app.check_in(shift_id, SECOND_VOLUNTEER, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=worker)

    for batch_no, people in (("B1", 95), ("B2", 120), ("B3", 80)):
        clock.advance(minutes=30)
        app.tally_sampled(shift_id, people, actor=volunteer)
        app.use_supplies(shift_id, "咽拭子", people, actor=volunteer)
        app.use_supplies(shift_id, "采样管", 10, actor=volunteer)
        app.seal_batch(shift_id, batch_no, 10, actor=worker)
        clock.advance(minutes=5)
        app.dispatch_batch(shift_id, batch_no, "转运专车 浙G·1234", actor=worker)
    app.restock_supplies(shift_id, "采样管", 30, actor=supervisor)
    app.hand_over_shift(shift_id, "w-chen", actor=worker, note="B3 已送出, 咽拭子还剩一箱")
    app.check_out(shift_id, SECOND_VOLUNTEER, actor=volunteer)
    app.check_out(shift_id, volunteer.worker_id, actor=volunteer)
    app.check_out(shift_id, worker.worker_id, actor=worker)
    clock.advance(minutes=40)
    for batch_no in ("B1", "B2", "B3"):
        app.receive_batch(shift_id, batch_no, "金华迪安医学检验所", 10, actor=supervisor)
    app.close_shift(shift_id, 295, actor=COLLEAGUE)

    shift = app.get_shift(shift_id, actor=AUDITOR)
    assert ShiftStatus.CLOSED == shift.status
    assert 295 == shift.final_tally == shift.tally
    assert {"采样管": 40, "咽拭子": 105, "防护服": 6, "消毒液": 4} == shift.supplies
    assert ("B1", "B2", "B3") == tuple(record.batch_no for record in shift.batches_in_order())
    assert {BatchStatus.RECEIVED} == {record.status for record in shift.batches.values()}
    assert () == shift.batches_not_received()
    assert 30 == shift.tubes_sealed
    assert "w-chen" == shift.lead_id
    assert {} == shift.on_site


def test_who_is_on_site_is_shown_with_kind_and_role(
    app: GridApplication, clock: Clock, worker: Actor, volunteer: Actor
) -> None:
    """The dashboard lists the people on site now, workers and volunteers apart."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.check_in(shift_id, worker.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=worker)
    app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=worker)

    shift = app.get_shift(shift_id, actor=AUDITOR)
    assert ("v-sun", "w-li") == shift.people_on_site()
    assert ("v-sun",) == shift.people_on_site(PersonKind.VOLUNTEER)
    assert Role.VOLUNTEER == shift.on_site["v-sun"].role
    assert clock.now == shift.on_site["w-li"].checked_in_at


@pytest.mark.parametrize(
    ("set_up", "named"),
    [((False, True), "cordon"), ((True, False), "disinfection"), ((False, False), "cordon and disinfection")],
)
def test_a_sampling_point_does_not_open_before_its_set_up(
    app: GridApplication, clock: Clock, worker: Actor, set_up: tuple[bool, bool], named: str
) -> None:
    """Opening a sampling point without its cordon or disinfection is refused, naming what is missing."""
    cordon_set_up, disinfected = set_up
    shift_id = plan(app, clock, worker)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.open_shift(shift_id, actor=worker, cordon_set_up=cordon_set_up, disinfected=disinfected, supplies=SUPPLIES)

    assert "site.setup-before-opening" == caught.value.rule
    assert f"{named} not done" in caught.value.message
    assert before == stored_count(app)
    assert ShiftStatus.PLANNED == app.get_shift(shift_id, actor=AUDITOR).status


def test_a_child_care_class_opens_without_a_cordon_but_takes_no_samples(
    memory_app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """The cordon rule is for sampling points; tallies and batches belong to sampling points only."""
    shift_id = plan(memory_app, clock, worker, CHILD_CARE)
    memory_app.open_shift(shift_id, actor=worker, cordon_set_up=False, disinfected=True, supplies={"绘本": 30})

    with pytest.raises(RuleViolationError) as caught:
        memory_app.tally_sampled(shift_id, 3, actor=worker)

    assert "site.sampling-only" == caught.value.rule
    with pytest.raises(RuleViolationError):
        memory_app.seal_batch(shift_id, "B1", 1, actor=worker)


def test_using_more_supplies_than_the_site_has_is_refused(app: GridApplication, clock: Clock, worker: Actor) -> None:
    """Supplies never go below zero: the refusal says how many are left and stores nothing."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.use_supplies(shift_id, "防护服", 5, actor=worker)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.use_supplies(shift_id, "防护服", 2, actor=worker)
    with pytest.raises(RuleViolationError):
        app.use_supplies(shift_id, "护目镜", 1, actor=worker)

    assert "site.supplies-never-negative" == caught.value.rule
    assert "has 1" in caught.value.message
    assert before == stored_count(app)
    assert 1 == app.get_shift(shift_id, actor=AUDITOR).supply("防护服")


def test_a_recount_keeps_the_discrepancy_against_the_records(
    memory_app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """A recount sets the count and adds up the differences from what the records expected."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    memory_app.use_supplies(shift_id, "咽拭子", 100, actor=worker)
    memory_app.count_supplies(shift_id, "咽拭子", 290, actor=worker)
    memory_app.count_supplies(shift_id, "消毒液", 4, actor=worker)
    memory_app.count_supplies(shift_id, "咽拭子", 288, actor=worker)

    shift = memory_app.get_shift(shift_id, actor=AUDITOR)
    assert 288 == shift.supply("咽拭子")
    assert {"咽拭子": -12} == shift.supply_discrepancies
    stored = list(memory_app.events.get(shift_id))[-1]
    assert isinstance(stored, SiteShift.SuppliesCounted)
    assert (288, 290) == (stored.counted, stored.expected)


def test_low_supplies_lists_items_at_or_below_their_threshold(
    memory_app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """Items at or below their low threshold appear on the dashboard until restocked."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    memory_app.use_supplies(shift_id, "采样管", 30, actor=worker)
    memory_app.use_supplies(shift_id, "防护服", 3, actor=worker)

    assert {"采样管": 10} == memory_app.get_shift(shift_id, actor=AUDITOR).low_supplies()
    memory_app.restock_supplies(shift_id, "采样管", 50, actor=worker)
    memory_app.use_supplies(shift_id, "防护服", 1, actor=worker)
    assert {"防护服": 2} == memory_app.get_shift(shift_id, actor=AUDITOR).low_supplies()


def test_checking_in_twice_is_refused(app: GridApplication, clock: Clock, worker: Actor, volunteer: Actor) -> None:
    """Someone already on site cannot check in again; someone not on site cannot check out."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)
    before = stored_count(app)

    with pytest.raises(ValidationError) as caught:
        app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=worker)
    with pytest.raises(ValidationError) as not_there:
        app.check_out(shift_id, SECOND_VOLUNTEER, actor=worker)

    assert "person_id" == caught.value.field
    assert "already on site" in caught.value.message
    assert "person_id" == not_there.value.field
    assert before == stored_count(app)


def test_someone_may_check_in_again_after_checking_out(
    memory_app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """A break is a check-out and a new check-in."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    memory_app.check_in(shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker)
    clock.advance(hours=1)
    memory_app.check_out(shift_id, "w-li", actor=worker)
    clock.advance(minutes=30)
    memory_app.check_in(shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker)

    assert clock.now == memory_app.get_shift(shift_id, actor=AUDITOR).on_site["w-li"].checked_in_at


@pytest.mark.parametrize(
    ("kind", "role"),
    [(PersonKind.VOLUNTEER, Role.GRID_WORKER), (PersonKind.WORKER, Role.VOLUNTEER), (PersonKind.WORKER, Role.AUDITOR)],
)
def test_a_check_in_role_must_fit_the_person(
    memory_app: GridApplication, clock: Clock, worker: Actor, kind: PersonKind, role: Role
) -> None:
    """Volunteers serve as volunteers, workers in a worker's role on site."""
    shift_id = open_sampling_shift(memory_app, clock, worker)

    with pytest.raises(ValidationError) as caught:
        memory_app.check_in(shift_id, "p-1", kind, role, actor=worker)

    assert "role" == caught.value.field


def test_reconciliation_failures_are_each_named(
    app: GridApplication, clock: Clock, worker: Actor, volunteer: Actor
) -> None:
    """Closing with a wrong tally, an unsent batch, people on site and extra records names all four."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)
    app.tally_sampled(shift_id, 1, actor=volunteer)
    app.record_sample(shift_id, "T-0001", WANG_FANG, actor=volunteer)
    app.record_sample(shift_id, "T-0001", WANG_FANG, actor=volunteer)
    app.seal_batch(shift_id, "B1", 1, actor=worker)
    app.seal_batch(shift_id, "B2", 1, actor=worker)
    app.dispatch_batch(shift_id, "B1", "转运员 刘师傅", actor=worker)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.close_shift(shift_id, 5, actor=worker)

    message = caught.value.message
    assert "site.reconciliation" == caught.value.rule
    assert "final tally 5 differs from the 1 people tallied" in message
    assert "2 sample records but only 1 people tallied" in message
    assert "not dispatched: B2" in message
    assert "B1" not in message
    assert "still checked in: v-sun" in message
    assert before == stored_count(app)
    assert ShiftStatus.OPEN == app.get_shift(shift_id, actor=AUDITOR).status


@pytest.mark.parametrize("problem", ["tally", "batch", "person"])
def test_each_reconciliation_problem_alone_stops_closing(
    memory_app: GridApplication, clock: Clock, worker: Actor, problem: str
) -> None:
    """Any one problem is enough to refuse closing; fixing it lets the shift close."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    memory_app.tally_sampled(shift_id, 12, actor=worker)
    final = 11 if problem == "tally" else 12
    if problem == "batch":
        memory_app.seal_batch(shift_id, "B1", 2, actor=worker)
    if problem == "person":
        memory_app.check_in(shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker)

    with pytest.raises(RuleViolationError) as caught:
        memory_app.close_shift(shift_id, final, actor=worker)
    assert 1 == caught.value.message.count(";") + 1
    if problem == "batch":
        memory_app.dispatch_batch(shift_id, "B1", "转运员", actor=worker)
    if problem == "person":
        memory_app.check_out(shift_id, "w-li", actor=worker)
    memory_app.close_shift(shift_id, 12, actor=worker)

    assert ShiftStatus.CLOSED == memory_app.get_shift(shift_id, actor=AUDITOR).status


def test_batches_not_sent_within_half_an_hour_are_late(
    memory_app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """A batch sealed over 30 minutes ago and not dispatched is late; minutes since the last seal are shown."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    assert memory_app.get_shift(shift_id, actor=AUDITOR).minutes_since_last_seal(clock.now) is None
    memory_app.seal_batch(shift_id, "B1", 10, actor=worker)
    clock.advance(minutes=20)
    memory_app.seal_batch(shift_id, "B2", 10, actor=worker)
    clock.advance(minutes=10)

    shift = memory_app.get_shift(shift_id, actor=AUDITOR)
    assert () == shift.late_batches(clock.now)
    assert ("B1",) == tuple(record.batch_no for record in shift.late_batches(clock.now + timedelta(seconds=1)))
    assert 10 == shift.minutes_since_last_seal(clock.now)
    assert ("B1", "B2") == tuple(record.batch_no for record in shift.late_batches(clock.now + timedelta(minutes=21)))
    memory_app.dispatch_batch(shift_id, "B1", "转运员", actor=worker)
    assert () == memory_app.get_shift(shift_id, actor=AUDITOR).late_batches(clock.now + timedelta(minutes=1))


def test_a_tube_count_differing_at_the_lab_is_recorded_as_a_discrepancy(
    app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """The lab's count is recorded as it is; the difference from the sealed count is kept."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.seal_batch(shift_id, "B1", 10, actor=worker)
    app.dispatch_batch(shift_id, "B1", "转运员 刘师傅", actor=worker)
    clock.advance(minutes=50)
    app.receive_batch(shift_id, "B1", "金华迪安医学检验所", 9, actor=worker)

    record = app.get_shift(shift_id, actor=AUDITOR).batches["B1"]
    assert BatchStatus.RECEIVED == record.status
    assert -1 == record.discrepancy
    assert (9, "金华迪安医学检验所", clock.now) == (record.tubes_received, record.lab, record.received_at)


def test_a_batch_goes_sealed_then_dispatched_then_received(app: GridApplication, clock: Clock, worker: Actor) -> None:
    """Batch numbers are unique; only a sealed batch is dispatched, only a dispatched one received."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.seal_batch(shift_id, "B1", 10, actor=worker)
    before = stored_count(app)

    with pytest.raises(ValidationError) as duplicate:
        app.seal_batch(shift_id, "B1", 4, actor=worker)
    with pytest.raises(ValidationError) as unknown:
        app.dispatch_batch(shift_id, "B9", "转运员", actor=worker)
    with pytest.raises(InvalidTransitionError) as early:
        app.receive_batch(shift_id, "B1", "检验所", 10, actor=worker)
    app.dispatch_batch(shift_id, "B1", "转运员", actor=worker)
    with pytest.raises(InvalidTransitionError):
        app.dispatch_batch(shift_id, "B1", "转运员", actor=worker)

    assert "batch.batch_no" == duplicate.value.field
    assert "batch_no" == unknown.value.field
    assert "dispatch it first" == early.value.hint
    assert before + 1 == stored_count(app)


def test_the_lab_may_confirm_receipt_after_the_shift_closed(
    app: GridApplication, clock: Clock, worker: Actor, volunteer: Actor
) -> None:
    """The last batch leaves at closing; its receipt is recorded later by the lead, not by others."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.seal_batch(shift_id, "B1", 3, actor=worker)
    app.dispatch_batch(shift_id, "B1", "转运员", actor=worker)
    app.close_shift(shift_id, 0, actor=worker)
    clock.advance(hours=1)

    with pytest.raises(PermissionDeniedError):
        app.receive_batch(shift_id, "B1", "检验所", 3, actor=volunteer)
    app.receive_batch(shift_id, "B1", "检验所", 3, actor=worker)

    assert () == app.get_shift(shift_id, actor=AUDITOR).batches_not_received()


def test_caller_times_must_be_aware_after_opening_and_not_in_the_future(
    app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """A check-in before the shift opened, a naive time or one from the future is refused, naming the field."""
    shift_id = open_sampling_shift(app, clock, worker)
    opened_at = clock.now
    before = stored_count(app)
    bad_times = (
        opened_at - timedelta(minutes=1),
        datetime(2026, 11, 2, 9, 30),  # noqa: DTZ001 (the naive time under test)
        opened_at.astimezone(CHINA) + timedelta(hours=1),
    )

    for bad in bad_times:
        with pytest.raises(ValidationError) as caught:
            app.check_in(shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker, checked_in_at=bad)
        assert "checked_in_at" == caught.value.field
    with pytest.raises(ValidationError) as sealed:
        app.seal_batch(shift_id, "B1", 2, actor=worker, sealed_at=opened_at - timedelta(seconds=1))

    assert "batch.sealed_at" == sealed.value.field
    assert before == stored_count(app)
    app.check_in(
        shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker, checked_in_at=opened_at.astimezone(CHINA)
    )


def test_a_planned_shift_may_be_cancelled_but_an_open_one_is_closed(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor
) -> None:
    """Cancelling works only before opening; a cancelled shift refuses everything with a hint."""
    planned = plan(app, clock, worker)
    opened = open_sampling_shift(app, clock, worker)

    app.cancel_shift(planned, actor=supervisor, reason="暴雨, 改期")
    with pytest.raises(InvalidTransitionError) as cancelled:
        app.open_shift(planned, actor=worker, cordon_set_up=True, disinfected=True, supplies={})
    with pytest.raises(InvalidTransitionError) as open_shift:
        app.cancel_shift(opened, actor=worker, reason="不需要了")

    assert ShiftStatus.CANCELLED == app.get_shift(planned, actor=AUDITOR).status
    assert "plan a new one" in cancelled.value.hint
    assert "open" == open_shift.value.state


def test_recording_before_opening_is_refused_with_a_hint(app: GridApplication, clock: Clock, worker: Actor) -> None:
    """Nothing happens on site before the shift opens."""
    shift_id = plan(app, clock, worker)
    before = stored_count(app)

    with pytest.raises(InvalidTransitionError) as caught:
        app.check_in(shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker)

    assert "open the shift first" == caught.value.hint
    assert before == stored_count(app)


def test_planning_checks_times_and_who_plans(memory_app: GridApplication, clock: Clock, worker: Actor) -> None:
    """The end is after the start, within 24 hours; only a supervisor or grid worker plans."""
    start = clock.now
    with pytest.raises(ValidationError) as backwards:
        memory_app.plan_shift(SAMPLING_POINT, start, start, "w-li", actor=worker)
    with pytest.raises(ValidationError) as too_long:
        memory_app.plan_shift(SAMPLING_POINT, start, start + timedelta(hours=25), "w-li", actor=worker)
    with pytest.raises(PermissionDeniedError):
        memory_app.plan_shift(SAMPLING_POINT, start, start + timedelta(hours=2), "w-li", actor=COLLEAGUE)

    assert "planned_end" == backwards.value.field == too_long.value.field
    assert 0 == stored_count(memory_app)


def test_a_bad_site_or_batch_is_refused_naming_the_field() -> None:
    """Value objects check their fields when built."""
    with pytest.raises(ValidationError) as site:
        Site("P1", " ", SiteKind.SAMPLING_POINT, GRID, "飞凤路")
    with pytest.raises(ValidationError) as batch:
        Batch("B1", 0, datetime(2026, 11, 2, 9, 0, tzinfo=CHINA))

    assert "name" == site.value.field
    assert "tube_count" == batch.value.field


def test_handing_over_moves_the_right_to_close(
    app: GridApplication, clock: Clock, worker: Actor, supervisor: Actor
) -> None:
    """After a handover the new lead closes the shift; the old lead no longer may."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.hand_over_shift(shift_id, COLLEAGUE.worker_id, actor=worker, note="交接: 无异常")

    with pytest.raises(PermissionDeniedError):
        app.close_shift(shift_id, 0, actor=worker)
    with pytest.raises(ValidationError):
        app.hand_over_shift(shift_id, COLLEAGUE.worker_id, actor=supervisor)
    app.close_shift(shift_id, 0, actor=COLLEAGUE)

    assert ShiftStatus.CLOSED == app.get_shift(shift_id, actor=AUDITOR).status


def test_a_volunteer_cannot_take_over_as_lead(memory_app: GridApplication, clock: Clock, worker: Actor) -> None:
    """Someone on site as a volunteer is not handed the shift."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    memory_app.check_in(shift_id, "v-sun", PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=worker)

    with pytest.raises(ValidationError) as caught:
        memory_app.hand_over_shift(shift_id, "v-sun", actor=worker)

    assert "to_lead_id" == caught.value.field


def test_who_may_record_what(
    app: GridApplication, clock: Clock, worker: Actor, volunteer: Actor, supervisor: Actor
) -> None:
    """Auditors change nothing; outsiders record nothing; volunteers record volunteers, not batches."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)
    app.seal_batch(shift_id, "B1", 5, actor=supervisor)
    before = stored_count(app)
    refused: list[Callable[[], object]] = [
        lambda: app.tally_sampled(shift_id, 1, actor=AUDITOR),
        lambda: app.close_shift(shift_id, 0, actor=AUDITOR),
        lambda: app.use_supplies(shift_id, "咽拭子", 1, actor=OUTSIDER),
        lambda: app.check_in(shift_id, "v-zhou", PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=OUTSIDER),
        lambda: app.check_in(shift_id, "w-zhang", PersonKind.WORKER, Role.GRID_WORKER, actor=volunteer),
        lambda: app.dispatch_batch(shift_id, "B1", "转运员", actor=volunteer),
        lambda: app.close_shift(shift_id, 0, actor=volunteer),
        lambda: app.hand_over_shift(shift_id, "w-zhao", actor=OUTSIDER),
    ]

    for command in refused:
        with pytest.raises(PermissionDeniedError):
            command()

    assert before == stored_count(app)
    app.check_in(shift_id, SECOND_VOLUNTEER, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)
    app.use_supplies(shift_id, "咽拭子", 1, actor=volunteer)


def test_sample_records_are_sealed_not_stored_in_plain_text(
    app: GridApplication, clock: Clock, worker: Actor, volunteer: Actor
) -> None:
    """The name, ID number, phone and address of a sampled person never appear in the stored bytes."""
    shift_id = open_sampling_shift(app, clock, worker)
    resident_id = app.register_resident(ZHANG, GRID, actor=worker)
    resident_sample = SampledPerson(name=ZHANG.name, id_number=ZHANG.id_number, phone=ZHANG.phone)
    app.check_in(shift_id, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)

    first = app.record_sample(shift_id, "T-0001", WANG_FANG, actor=volunteer)
    second = app.record_sample(shift_id, "T-0001", resident_sample, actor=volunteer, resident_id=resident_id)

    assert ("S1", "S2") == (first, second)
    assert WANG_FANG == app.sampled_person(shift_id, "S1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    assert resident_sample == app.sampled_person(shift_id, "S2", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    assert 2 == app.get_shift(shift_id, actor=AUDITOR).samples_recorded
    stored = b"".join(event.state for event in app.recorder.select_events(shift_id))
    for secret in ("王芳", "11010519491231002X", "13912345678", "飞凤小区 5 幢", "张秀英", "13812345678"):
        assert secret.encode() not in stored
    with pytest.raises(ValidationError):
        app.sampled_person(shift_id, "S3", actor=SECRETARY, unmasked=True, purpose=PURPOSE)


def test_sample_records_of_an_erased_resident_are_unreadable(
    app: GridApplication, clock: Clock, worker: Actor, administrator: Actor
) -> None:
    """Erasing a resident erases their sample records too; others stay readable; no new record is taken."""
    shift_id = open_sampling_shift(app, clock, worker)
    resident_id = app.register_resident(ZHANG, GRID, actor=worker)
    app.record_sample(shift_id, "T-0001", SampledPerson(name=ZHANG.name), actor=worker, resident_id=resident_id)
    app.record_sample(shift_id, "T-0001", WANG_FANG, actor=worker)

    app.erase_resident(resident_id, actor=administrator, reason="本人申请删除 (PIPL Art. 47)")
    assert WANG_FANG == app.sampled_person(shift_id, "S2", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    before = stored_count(app)

    with pytest.raises(PersonalDataErasedError):
        app.sampled_person(shift_id, "S1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    with pytest.raises(PersonalDataErasedError):
        app.record_sample(shift_id, "T-0002", SampledPerson(name=ZHANG.name), actor=worker, resident_id=resident_id)
    assert before == stored_count(app)


def test_a_refused_sample_record_leaves_no_key_behind(app: GridApplication, clock: Clock, worker: Actor) -> None:
    """A sample refused before the shift opens stores no event and keeps no key for the unsaved record."""
    shift_id = plan(app, clock, worker)
    keys_before = len(list(app.vault.keystore._live_keys()))
    before = stored_count(app)

    with pytest.raises(InvalidTransitionError):
        app.record_sample(shift_id, "T-0001", WANG_FANG, actor=worker)

    assert before == stored_count(app)
    assert keys_before == len(list(app.vault.keystore._live_keys()))


def test_closing_before_the_last_activity_is_refused(memory_app: GridApplication, clock: Clock, worker: Actor) -> None:
    """A shift cannot be closed at a time before someone checked out or a batch was dispatched."""
    shift_id = open_sampling_shift(memory_app, clock, worker)
    clock.advance(hours=2)
    memory_app.check_in(shift_id, "w-li", PersonKind.WORKER, Role.GRID_WORKER, actor=worker)
    memory_app.check_out(shift_id, "w-li", actor=worker)

    with pytest.raises(ValidationError) as caught:
        memory_app.close_shift(shift_id, 0, actor=worker, closed_at=clock.now - timedelta(hours=1))

    assert "closed_at" == caught.value.field


def test_a_snapshot_round_trip_past_100_events_keeps_the_state(
    app: GridApplication, clock: Clock, worker: Actor
) -> None:
    """A shift of 130 events loads from its snapshot exactly as replaying every event gives it."""
    shift_id = open_sampling_shift(app, clock, worker)
    app.check_in(shift_id, "v-sun", PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=worker)
    app.count_supplies(shift_id, "咽拭子", 390, actor=worker)
    for minute in range(1, 121):
        clock.advance(minutes=1)
        if minute % 30 == 0:
            app.seal_batch(shift_id, f"B{minute // 30}", 10, actor=worker)
        elif minute % 7 == 0:
            app.record_sample(shift_id, f"T-{minute:04d}", WANG_FANG, actor=worker)
        else:
            app.tally_sampled(shift_id, 1, actor=worker)
    app.dispatch_batch(shift_id, "B1", "转运员", actor=worker)
    app.receive_batch(shift_id, "B1", "检验所", 11, actor=worker)

    assert app.snapshots is not None
    assert [100] == [snapshot.originator_version for snapshot in app.snapshots.get(shift_id)]
    replayed: SiteShift | None = None
    for event in app.events.get(shift_id):
        replayed = cast("SiteShift", cast("SiteShift.Event", event).mutate(replayed))
    loaded = app.get_shift(shift_id, actor=AUDITOR)
    assert replayed is not None
    assert 126 == loaded.version
    assert vars(replayed) == vars(loaded)
    assert 1 == loaded.batches["B1"].discrepancy
    assert WANG_FANG == app.sampled_person(shift_id, "S16", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
