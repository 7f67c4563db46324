"""Random sequences of site-shift commands, valid and invalid, checked against a small model of the rules.

The model knows the shift's status, the supplies, who is on site, the tally,
the sample records and each batch's progress. Every command's outcome is
predicted from it: accepted (the model moves on) or refused with a given error
(the store must be unchanged). After every step the shift must agree with the
model: supplies never negative, the same people on site, the same batches, the
same late batches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, precondition, rule

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PermissionDeniedError,
    Role,
    RuleViolationError,
    StoreConfig,
    ValidationError,
)
from grid_events.domain.site_shift import BATCH_INTERVAL, BatchStatus, PersonKind, ShiftStatus, Site, SiteKind
from grid_events.privacy.personal import SampledPerson

START = datetime(2026, 7, 14, 0, 30, tzinfo=UTC)
SITE = Site("JS-01-P2", "金胜社区广场采样点", SiteKind.SAMPLING_POINT, GridCell("东城", "金胜", "01"), "金胜广场")
LEAD = Actor("w-lead", Role.GRID_WORKER)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""
UNAUTHORISED = {
    "auditor": Actor("a-audit", Role.AUDITOR),
    "outsider": Actor("w-elsewhere", Role.GRID_WORKER),
    "volunteer": Actor("v-1", Role.VOLUNTEER),
}
PEOPLE = {"w-zhang": PersonKind.WORKER, "v-1": PersonKind.VOLUNTEER, "v-2": PersonKind.VOLUNTEER}
ITEMS = ("采样管", "咽拭子", "手套")
PERSON = SampledPerson(name="李四", id_number="110101199003072316", phone="13700000000")

people = st.sampled_from(sorted(PEOPLE))
items = st.sampled_from(ITEMS)
supplies = st.dictionaries(items, st.integers(0, 20))
quantities = st.integers(min_value=1, max_value=15)
new_batch_numbers = st.sampled_from(("B1", "B2", "B3", "B4"))


class ManualClock:
    """A clock the machine moves forward by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@attrs.define
class ModelBatch:
    """What the model remembers of a batch."""

    tubes: int
    sealed_at: datetime
    status: BatchStatus = BatchStatus.SEALED


Outcome = type[Exception] | None


class SiteShiftMachine(RuleBasedStateMachine):
    """Drives one sampling shift of an in-memory GridApplication and a model side by side."""

    sealed = Bundle("sealed")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.app = GridApplication(StoreConfig.memory(), clock=self.clock)
        self.shift_id = self.app.plan_shift(SITE, START, START + timedelta(hours=10), LEAD.worker_id, actor=LEAD)
        self.status = ShiftStatus.PLANNED
        self.opened_at: datetime | None = None
        self.supplies: dict[str, int] = {}
        self.on_site: dict[str, PersonKind] = {}
        self.tally = 0
        self.samples = 0
        self.batches: dict[str, ModelBatch] = {}

    def teardown(self) -> None:
        self.app.close()

    # -- the harness -------------------------------------------------------------------

    def attempt(self, expected: Outcome, command: Callable[[], object]) -> bool:
        """Run *command*; return True if it stored one event, else check it raised *expected* and stored nothing."""
        before = self.app.recorder.max_notification_id() or 0
        if expected is None:
            command()
            assert before + 1 == self.app.recorder.max_notification_id()
            return True
        with pytest.raises(expected):
            command()
        assert before == (self.app.recorder.max_notification_id() or 0)
        return False

    def unless_open(self, otherwise: Outcome = None) -> Outcome:
        """Expect a refused transition unless the shift is open; else *otherwise*."""
        return InvalidTransitionError if self.status is not ShiftStatus.OPEN else otherwise

    def problems(self, final_tally: int) -> list[str]:
        """Return the fragments the reconciliation error must name: one for each problem."""
        found = []
        if final_tally != self.tally:
            found.append(f"final tally {final_tally} differs")
        if self.samples > self.tally:
            found.append(f"{self.samples} sample records")
        found += [number for number, batch in self.batches.items() if batch.status is BatchStatus.SEALED]
        found += list(self.on_site)
        return found

    # -- the shift's life ----------------------------------------------------------------

    @initialize(opened=st.sampled_from([True, True, True, False]), counts=supplies)
    def most_shifts_open_at_once(self, opened: bool, counts: dict[str, int]) -> None:
        if opened:
            self.open_shift(cordon=True, disinfected=True, counts=counts)

    @rule(minutes=st.sampled_from([0, 1, 10, 15, 29, 30, 45]))
    def time_passes(self, minutes: int) -> None:
        """The clock moves in steps that often land exactly on the 30-minute batch interval."""
        self.clock.now += timedelta(minutes=minutes)

    @rule(cordon=st.booleans(), disinfected=st.booleans(), counts=supplies)
    def open_shift(self, cordon: bool, disinfected: bool, counts: dict[str, int]) -> None:
        expected: Outcome = None
        if self.status is not ShiftStatus.PLANNED:
            expected = InvalidTransitionError
        elif not (cordon and disinfected):
            expected = RuleViolationError
        if self.attempt(
            expected,
            lambda: self.app.open_shift(
                self.shift_id, actor=LEAD, cordon_set_up=cordon, disinfected=disinfected, supplies=counts
            ),
        ):
            self.status = ShiftStatus.OPEN
            self.opened_at = self.clock.now
            self.supplies = dict(counts)

    @rule()
    def cancel_shift(self) -> None:
        expected = InvalidTransitionError if self.status is not ShiftStatus.PLANNED else None
        if self.attempt(expected, lambda: self.app.cancel_shift(self.shift_id, actor=LEAD, reason="改期")):
            self.status = ShiftStatus.CANCELLED

    @rule(offset=st.sampled_from([0, 0, 0, 1, -1]))
    def close_shift(self, offset: int) -> None:
        final_tally = max(0, self.tally + offset)
        problems = self.problems(final_tally)
        expected = self.unless_open(RuleViolationError if problems else None)
        if expected is RuleViolationError:
            with pytest.raises(RuleViolationError) as caught:
                self.app.close_shift(self.shift_id, final_tally, actor=LEAD)
            assert all(problem in caught.value.message for problem in problems)
        elif self.attempt(expected, lambda: self.app.close_shift(self.shift_id, final_tally, actor=LEAD)):
            self.status = ShiftStatus.CLOSED

    @precondition(lambda self: self.status is ShiftStatus.OPEN and self.batches)
    @rule(leave=st.sampled_from(["nothing", "nothing", "people", "batches", "records", "tally over", "tally under"]))
    def tidy_up_then_close(self, leave: str) -> None:
        """Fix everything that stops closing but the one problem to *leave*, then close."""
        if leave != "people":
            for person in list(self.on_site):
                self.check_out(person)
        elif not self.on_site:
            self.check_in("v-2", before_opening=False)
        if leave != "batches":
            for number, batch in list(self.batches.items()):
                if batch.status is BatchStatus.SEALED:
                    self.dispatch_batch(number)
        if self.samples > self.tally or (leave == "tally under" and not self.tally):
            self.tally_sampled(max(1, self.samples - self.tally))
        if leave == "records":
            while self.samples <= self.tally:
                self.record_sample()
        self.close_shift({"tally over": 1, "tally under": -1}.get(leave, 0))

    # -- people on site ---------------------------------------------------------------------

    @rule(person=people, before_opening=st.sampled_from([False, False, False, True]))
    def check_in(self, person: str, before_opening: bool) -> None:
        kind = PEOPLE[person]
        role = Role.VOLUNTEER if kind is PersonKind.VOLUNTEER else Role.GRID_WORKER
        when = self.clock.now
        if before_opening and self.opened_at is not None:
            when = self.opened_at - timedelta(minutes=1)
        invalid = person in self.on_site or when != self.clock.now
        expected = self.unless_open(ValidationError if invalid else None)
        if self.attempt(
            expected,
            lambda: self.app.check_in(self.shift_id, person, kind, role, actor=LEAD, checked_in_at=when),
        ):
            self.on_site[person] = kind

    @rule(person=people)
    def check_out(self, person: str) -> None:
        expected = self.unless_open(ValidationError if person not in self.on_site else None)
        if self.attempt(expected, lambda: self.app.check_out(self.shift_id, person, actor=LEAD)):
            del self.on_site[person]

    @rule(who=st.sampled_from(sorted(UNAUTHORISED)), number=new_batch_numbers)
    def someone_without_the_right_tries(self, who: str, number: str) -> None:
        """Auditors change nothing; outsiders record nothing; volunteers do not seal batches."""
        actor = UNAUTHORISED[who]
        expected = PermissionDeniedError if who == "auditor" else self.unless_open(PermissionDeniedError)
        self.attempt(expected, lambda: self.app.seal_batch(self.shift_id, number, 1, actor=actor))

    # -- supplies and tallies ------------------------------------------------------------

    @rule(item=items, beyond_stock=st.sampled_from([-5, -1, 0, 1, 2]))
    def use_supplies(self, item: str, beyond_stock: int) -> None:
        """Use about what is in stock: exactly all of it, one more, or a little less."""
        quantity = max(1, self.supplies.get(item, 0) + beyond_stock)
        expected = self.unless_open(RuleViolationError if quantity > self.supplies.get(item, 0) else None)
        if self.attempt(expected, lambda: self.app.use_supplies(self.shift_id, item, quantity, actor=LEAD)):
            self.supplies[item] -= quantity

    @rule(item=items, quantity=quantities)
    def restock_supplies(self, item: str, quantity: int) -> None:
        if self.attempt(
            self.unless_open(), lambda: self.app.restock_supplies(self.shift_id, item, quantity, actor=LEAD)
        ):
            self.supplies[item] = self.supplies.get(item, 0) + quantity

    @rule(item=items, counted=st.integers(0, 30))
    def count_supplies(self, item: str, counted: int) -> None:
        if self.attempt(self.unless_open(), lambda: self.app.count_supplies(self.shift_id, item, counted, actor=LEAD)):
            self.supplies[item] = counted

    @rule(count=st.integers(1, 5))
    def tally_sampled(self, count: int) -> None:
        if self.attempt(self.unless_open(), lambda: self.app.tally_sampled(self.shift_id, count, actor=LEAD)):
            self.tally += count

    @rule()
    def record_sample(self) -> None:
        if self.attempt(self.unless_open(), lambda: self.app.record_sample(self.shift_id, "T-1", PERSON, actor=LEAD)):
            self.samples += 1

    # -- batches -------------------------------------------------------------------------

    @rule(target=sealed, number=new_batch_numbers, tubes=st.integers(1, 10))
    def seal_batch(self, number: str, tubes: int) -> object:
        expected = self.unless_open(ValidationError if number in self.batches else None)
        if self.attempt(expected, lambda: self.app.seal_batch(self.shift_id, number, tubes, actor=LEAD)):
            self.batches[number] = ModelBatch(tubes, self.clock.now)
            return multiple(number)
        return multiple()

    @rule(number=st.one_of(sealed, sealed, st.just("B9")))
    def dispatch_batch(self, number: str) -> None:
        batch = self.batches.get(number)
        expected: Outcome = ValidationError if batch is None else None
        if batch is not None and batch.status is not BatchStatus.SEALED:
            expected = InvalidTransitionError
        expected = self.unless_open(expected)
        if self.attempt(expected, lambda: self.app.dispatch_batch(self.shift_id, number, "转运员", actor=LEAD)):
            self.batches[number].status = BatchStatus.DISPATCHED

    @rule(number=sealed, tubes=st.integers(0, 10))
    def receive_batch(self, number: str, tubes: int) -> None:
        batch = self.batches.get(number)
        expected: Outcome = ValidationError if batch is None else None
        if batch is not None and batch.status is not BatchStatus.DISPATCHED:
            expected = InvalidTransitionError
        if self.status not in {ShiftStatus.OPEN, ShiftStatus.CLOSED}:
            expected = InvalidTransitionError
        if self.attempt(expected, lambda: self.app.receive_batch(self.shift_id, number, "检验所", tubes, actor=LEAD)):
            self.batches[number].status = BatchStatus.RECEIVED
            record = self.app.get_shift(self.shift_id, actor=AUDITOR).batches[number]
            assert tubes - self.batches[number].tubes == record.discrepancy

    # -- agreement with the model ---------------------------------------------------

    @invariant()
    def shift_agrees_with_the_model(self) -> None:
        shift = self.app.get_shift(self.shift_id, actor=AUDITOR)
        assert self.status == shift.status
        assert all(count >= 0 for count in shift.supplies.values())
        assert self.supplies == shift.supplies
        assert self.on_site == {person: presence.kind for person, presence in shift.on_site.items()}
        assert (self.tally, self.samples) == (shift.tally, shift.samples_recorded)
        assert {number: batch.status for number, batch in self.batches.items()} == {
            number: record.status for number, record in shift.batches.items()
        }
        late = {
            number
            for number, batch in self.batches.items()
            if batch.status is BatchStatus.SEALED and self.clock.now - batch.sealed_at > BATCH_INTERVAL
        }
        assert late == {record.batch_no for record in shift.late_batches(self.clock.now)}
        for number, batch in self.batches.items():
            due = batch.sealed_at + BATCH_INTERVAL
            assert number not in {record.batch_no for record in shift.late_batches(due)}
            overdue = {record.batch_no for record in shift.late_batches(due + timedelta(microseconds=1))}
            assert (batch.status is BatchStatus.SEALED) == (number in overdue)


SiteShiftMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestSiteShiftStateful = SiteShiftMachine.TestCase
