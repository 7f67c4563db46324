"""A shift at a nucleic-acid sampling point: set-up, staff in and out, supplies, sealed batches, reconciliation.

Batches are sealed about every 30 minutes and handed to transport; at close the
tally must reconcile. Run:  python examples/sampling_shift.py
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    PersonKind,
    Role,
    RuleViolationError,
    SampledPerson,
    Site,
    SiteKind,
    StoreConfig,
)


class Clock:
    """The office clock, moved by hand through the morning."""

    now = datetime(2026, 11, 2, 22, 30, tzinfo=UTC)  # 06:30 in Yiwu

    def __call__(self) -> datetime:
        """Return the office time."""
        return self.now


clock = Clock()
secretary = Actor("s-wang", Role.SUPERVISOR)
lead = Actor("w-li", Role.GRID_WORKER)
volunteer = Actor("v-sun", Role.VOLUNTEER)
site = Site(
    "江南-飞凤-1", "飞凤社区核酸采样点", SiteKind.SAMPLING_POINT, GridCell("江南", "飞凤", "03"), "飞凤社区文化广场"
)

with GridApplication(StoreConfig.memory(), clock=clock) as app:
    shift = app.plan_shift(
        site, clock.now + timedelta(minutes=30), clock.now + timedelta(hours=12), lead.worker_id, actor=secretary
    )

    # A sampling point opens only with its cordon set up and disinfection done.
    try:
        app.open_shift(shift, actor=lead, cordon_set_up=True, disinfected=False, supplies={"采样管": 50})
    except RuleViolationError as error:
        print("refused:", error.rule)
    clock.now += timedelta(minutes=30)
    app.open_shift(
        shift,
        actor=lead,
        cordon_set_up=True,
        disinfected=True,
        supplies={"采样管": 50, "拭子": 200},
        low_thresholds={"拭子": 40},
    )
    app.check_in(shift, lead.worker_id, PersonKind.WORKER, Role.GRID_WORKER, actor=lead)
    app.check_in(shift, volunteer.worker_id, PersonKind.VOLUNTEER, Role.VOLUNTEER, actor=volunteer)

    tally = 0
    for batch in range(1, 4):
        clock.now += timedelta(minutes=25)
        people = 30 + batch
        app.use_supplies(shift, "拭子", people, actor=lead)
        app.tally_sampled(shift, people, actor=lead)
        tally += people
        # One sample record in full, as the national manual asks: sealed under the person's own key.
        app.record_sample(shift, f"T2026110200{batch}", SampledPerson(name="赵敏", phone="13700002222"), actor=lead)
        clock.now += timedelta(minutes=5)
        app.seal_batch(shift, f"B{batch:02d}", 4, actor=lead)
        app.dispatch_batch(shift, f"B{batch:02d}", "转运车 浙G·7K312", actor=lead)

    # Supplies never go negative.
    try:
        app.use_supplies(shift, "拭子", 500, actor=lead)
    except RuleViolationError as error:
        print("refused:", error.rule)

    app.check_out(shift, volunteer.worker_id, actor=volunteer)
    app.check_out(shift, lead.worker_id, actor=lead)
    try:  # a final tally that does not reconcile is refused, naming what is off
        app.close_shift(shift, tally + 1, actor=lead)
    except RuleViolationError as error:
        print("refused:", error)
    app.close_shift(shift, tally, actor=lead)

    view = app.get_shift(shift, actor=secretary)
    print("status:", view.status, "tally:", view.tally, "low supplies:", view.low_supplies())
    assert view.status == "closed"
    assert tally == view.tally
