"""Random command sequences against a resident agree with a small model of the rules."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    GridEventsError,
    PersonalData,
    Resident,
    ResidentStatus,
    ResidentTag,
    Role,
    StoreConfig,
)

WORKER = Actor("w-li", Role.GRID_WORKER)
ADMIN = Actor("admin", Role.ADMINISTRATOR)
PERSON = PersonalData(name="周桂兰", id_number="11010519491231002X", phone="13600003333")
CELLS = [GridCell("江南", "飞凤", f"{n:02d}") for n in range(4)]
START = date(2026, 11, 2)

cells = st.sampled_from(CELLS)
tags = st.sampled_from(ResidentTag)
days = st.integers(min_value=-3, max_value=40).map(lambda offset: START + timedelta(days=offset))


class ResidentMachine(RuleBasedStateMachine):
    """Drives one resident through random commands; the model says which must be refused."""

    def __init__(self) -> None:
        super().__init__()
        self.app = GridApplication(StoreConfig.memory())
        self.resident_id: UUID | None = None
        self.status = ResidentStatus.LIVING_HERE
        self.tags: set[ResidentTag] = set()
        self.grid = CELLS[0]
        self.isolation: tuple[date, date] | None = None
        self.moved_out_on: date | None = None
        self.moved_in_on = START

    def teardown(self) -> None:
        """Close the application after each example."""
        self.app.close()

    def stored(self) -> int:
        """Return how many events are stored."""
        return self.app.recorder.max_notification_id() or 0

    def attempt(self, *, allowed: bool, command: object) -> None:
        """Run *command*; if the model refuses it, expect an error and no new event."""
        before = self.stored()
        if allowed:
            command()  # type: ignore[operator]
            assert before + 1 == self.stored()
            return
        try:
            command()  # type: ignore[operator]
        except GridEventsError:
            assert before == self.stored()
        else:
            raise AssertionError("the model expected this command to be refused")

    @initialize()
    def register(self) -> None:
        """Every example starts with a registered resident."""
        self.resident_id = self.app.register_resident(PERSON, CELLS[0], actor=WORKER, moved_in_on=START)

    @property
    def living(self) -> bool:
        """Whether the model says the resident lives here and is not erased."""
        return self.status is ResidentStatus.LIVING_HERE

    @rule(tag=tags)
    def tag(self, tag: ResidentTag) -> None:
        """Tagging is refused for an erased resident or a tag already held."""
        allowed = self.status is not ResidentStatus.ERASED and tag not in self.tags
        assert self.resident_id is not None
        self.attempt(allowed=allowed, command=lambda: self.app.tag_resident(self.resident_id, tag, actor=WORKER))
        if allowed:
            self.tags.add(tag)

    @rule(tag=tags)
    def untag(self, tag: ResidentTag) -> None:
        """Untagging is refused for an erased resident or a tag not held."""
        allowed = self.status is not ResidentStatus.ERASED and tag in self.tags
        assert self.resident_id is not None
        self.attempt(allowed=allowed, command=lambda: self.app.untag_resident(self.resident_id, tag, actor=WORKER))
        if allowed:
            self.tags.discard(tag)

    @rule(cell=cells)
    def transfer(self, cell: GridCell) -> None:
        """Transfers need a living resident and another cell."""
        allowed = self.living and cell != self.grid
        assert self.resident_id is not None
        self.attempt(
            allowed=allowed,
            command=lambda: self.app.transfer_resident(self.resident_id, cell, actor=WORKER, reason="moved"),
        )
        if allowed:
            self.grid = cell

    @rule(day=days)
    def move_out(self, day: date) -> None:
        """Moving out needs a living resident and a date not before moving in."""
        allowed = self.living and day >= self.moved_in_on
        assert self.resident_id is not None
        self.attempt(allowed=allowed, command=lambda: self.app.move_resident_out(self.resident_id, day, actor=WORKER))
        if allowed:
            self.status = ResidentStatus.MOVED_OUT
            self.moved_out_on = day

    @rule(cell=cells, day=days)
    def move_in(self, cell: GridCell, day: date) -> None:
        """Moving back in needs a resident who moved out, on or after that date."""
        allowed = self.status is ResidentStatus.MOVED_OUT and self.moved_out_on is not None and day >= self.moved_out_on
        assert self.resident_id is not None
        self.attempt(
            allowed=allowed, command=lambda: self.app.move_resident_in(self.resident_id, cell, day, actor=WORKER)
        )
        if allowed:
            self.status = ResidentStatus.LIVING_HERE
            self.grid = cell
            self.moved_in_on = day
            self.moved_out_on = None

    @rule(start=days, length=st.integers(min_value=-2, max_value=14))
    def start_isolation(self, start: date, length: int) -> None:
        """Isolation needs a living resident, none running, and an end not before the start."""
        end = start + timedelta(days=length)
        allowed = self.living and self.isolation is None and end >= start
        assert self.resident_id is not None
        self.attempt(
            allowed=allowed,
            command=lambda: self.app.start_home_isolation(self.resident_id, start, end, actor=WORKER, reason="密接"),
        )
        if allowed:
            self.isolation = (start, end)

    @rule(day=days)
    def end_isolation(self, day: date) -> None:
        """Ending needs a running isolation and a date not before its start."""
        allowed = self.status is not ResidentStatus.ERASED and self.isolation is not None and day >= self.isolation[0]
        assert self.resident_id is not None
        self.attempt(allowed=allowed, command=lambda: self.app.end_home_isolation(self.resident_id, day, actor=WORKER))
        if allowed:
            self.isolation = None

    @precondition(lambda self: self.status is not ResidentStatus.ERASED)
    @rule()
    def erase(self) -> None:
        """Erasure is always allowed once; afterwards nothing else is."""
        assert self.resident_id is not None
        self.attempt(
            allowed=True, command=lambda: self.app.erase_resident(self.resident_id, actor=ADMIN, reason="request")
        )
        self.status = ResidentStatus.ERASED
        self.tags.clear()
        self.isolation = None

    @invariant()
    def agrees_with_the_model(self) -> None:
        """The stored resident's status, tags, cell and isolation are the model's."""
        if self.resident_id is None:
            return
        resident: object = self.app.repository.get(self.resident_id)
        assert isinstance(resident, Resident)
        assert self.status == resident.status
        assert frozenset(self.tags) == resident.tags
        assert self.grid == resident.grid
        assert self.isolation == resident.isolation
        assert (self.status is ResidentStatus.ERASED) == self.app.vault.is_erased(self.resident_id)


ResidentMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
test_resident_commands_agree_with_the_model = ResidentMachine.TestCase
