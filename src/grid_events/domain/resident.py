"""A person in the community's registry.

The resident's name, ID number, phone, address and health notes are sensitive
(PIPL Art. 28): they reach this aggregate only sealed under the resident's own
key (:class:`~grid_events.domain.values.SealedData` whose subject is the
resident), so erasing them is destroying that key. What stays in the clear is
what the work needs and cannot identify anyone once the key is gone: the grid
cell, care tags, dates of moving and of home isolation.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from typing import Self
from uuid import UUID

from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import (
    check_aware,
    check_date,
    check_frozenset_of,
    check_instance,
    check_optional_text,
    check_text,
)
from grid_events.domain.values import Actor, GridCell, SealedData
from grid_events.exceptions import ValidationError

__all__ = ["Resident", "ResidentStatus", "ResidentTag"]


class ResidentTag(enum.StrEnum):
    """Care tags that decide who gets visited first."""

    ELDERLY_LIVING_ALONE = "elderly_living_alone"
    """独居老人."""
    DISABLED = "disabled"
    """残疾人."""
    MINOR_UNDER_14 = "minor_under_14"
    """未满十四周岁: a child, whose data needs a guardian's consent (PIPL Art. 31)."""
    RETURNEE = "returnee"
    """返永人员: back in the city, to be verified."""
    NEEDS_CARE = "needs_care"
    """需要关爱: any other reason for regular visits."""


VULNERABLE_TAGS = frozenset(
    {
        ResidentTag.ELDERLY_LIVING_ALONE,
        ResidentTag.DISABLED,
        ResidentTag.MINOR_UNDER_14,
        ResidentTag.NEEDS_CARE,
    }
)
"""Tags that mark a resident as vulnerable on the registry views."""


class ResidentStatus(enum.StrEnum):
    """Whether the resident lives in the community."""

    LIVING_HERE = "living_here"
    MOVED_OUT = "moved_out"
    ERASED = "erased"


class Resident(GridAggregate):
    """A resident of one grid cell, with sealed personal data."""

    KIND = "resident"

    class Registered(GridAggregate.Created):
        """A grid worker registered the resident."""

        grid: GridCell
        personal: SealedData
        tags: frozenset[ResidentTag]
        moved_in_on: date | None

    class PersonalDataCorrected(GridAggregate.Event):
        """The sealed personal data was replaced by a corrected version (PIPL Art. 46)."""

        personal: SealedData
        reason: str

        def apply(self, aggregate: Resident) -> None:
            aggregate.personal = self.personal

    class Tagged(GridAggregate.Event):
        """A care tag was added."""

        tag: ResidentTag
        reason: str

        def apply(self, aggregate: Resident) -> None:
            aggregate.tags = aggregate.tags | {self.tag}

    class Untagged(GridAggregate.Event):
        """A care tag was removed."""

        tag: ResidentTag
        reason: str

        def apply(self, aggregate: Resident) -> None:
            aggregate.tags = aggregate.tags - {self.tag}

    class Transferred(GridAggregate.Event):
        """The resident now belongs to another grid cell (e.g. moved within the city)."""

        grid: GridCell
        reason: str

        def apply(self, aggregate: Resident) -> None:
            aggregate.grid = self.grid

    class MovedOut(GridAggregate.Event):
        """The resident moved out of the community."""

        moved_out_on: date
        reason: str

        def apply(self, aggregate: Resident) -> None:
            aggregate.status = ResidentStatus.MOVED_OUT
            aggregate.moved_out_on = self.moved_out_on

    class MovedIn(GridAggregate.Event):
        """A resident who had moved out lives here again."""

        grid: GridCell
        moved_in_on: date

        def apply(self, aggregate: Resident) -> None:
            aggregate.status = ResidentStatus.LIVING_HERE
            aggregate.grid = self.grid
            aggregate.moved_in_on = self.moved_in_on
            aggregate.moved_out_on = None

    class HomeIsolationStarted(GridAggregate.Event):
        """A home isolation period was arranged; its reason is sealed (health data)."""

        starts_on: date
        ends_on: date
        details: SealedData | None

        def apply(self, aggregate: Resident) -> None:
            aggregate.isolation = (self.starts_on, self.ends_on)

    class HomeIsolationEnded(GridAggregate.Event):
        """The home isolation period ended."""

        ended_on: date
        reason: str

        def apply(self, aggregate: Resident) -> None:
            if aggregate.isolation is not None:
                starts_on = aggregate.isolation[0]
                aggregate.past_isolations = (*aggregate.past_isolations, (starts_on, self.ended_on))
            aggregate.isolation = None

    class PersonalDataErased(GridAggregate.Event):
        """The resident's personal data was erased on request (PIPL Art. 47).

        The application destroys the resident's key right after recording this;
        the sealed data in earlier events can no longer be opened.
        """

        reason: str
        request_ref: str

        def apply(self, aggregate: Resident) -> None:
            aggregate.status = ResidentStatus.ERASED
            aggregate.tags = frozenset()
            aggregate.isolation = None
            aggregate.past_isolations = ()

    def __init__(
        self,
        grid: GridCell,
        personal: SealedData,
        tags: frozenset[ResidentTag],
        moved_in_on: date | None,
    ) -> None:
        self.grid = grid
        self.personal = personal
        self.tags = tags
        self.moved_in_on = moved_in_on
        self.moved_out_on: date | None = None
        self.status = ResidentStatus.LIVING_HERE
        self.isolation: tuple[date, date] | None = None
        self.past_isolations: tuple[tuple[date, date], ...] = ()

    # -- queries ---------------------------------------------------------------

    @property
    def is_vulnerable(self) -> bool:
        """Whether any care tag marks the resident as vulnerable."""
        return bool(self.tags & VULNERABLE_TAGS)

    @property
    def is_erased(self) -> bool:
        """Whether the resident's personal data was erased."""
        return self.status is ResidentStatus.ERASED

    def isolating_on(self, day: date) -> bool:
        """Return whether *day* falls in the current home isolation period."""
        return self.isolation is not None and self.isolation[0] <= day <= self.isolation[1]

    # -- commands --------------------------------------------------------------

    @classmethod
    def register(
        cls,
        resident_id: UUID,
        *,
        grid: GridCell,
        personal: SealedData,
        actor: Actor,
        tags: frozenset[ResidentTag] = frozenset(),
        moved_in_on: date | None = None,
        at: datetime | None = None,
    ) -> Self:
        """Register a resident whose personal data is sealed under *resident_id*'s key."""
        check_instance("resident_id", resident_id, UUID)
        _check_registration(resident_id, grid, personal, tags, moved_in_on)
        return cls._create_with(
            cls.Registered,
            aggregate_id=resident_id,
            actor=actor,
            at=at,
            grid=grid,
            personal=personal,
            tags=tags,
            moved_in_on=moved_in_on,
        )

    @classmethod
    def register_many(
        cls,
        registrations: Sequence[Registration],
        *,
        actor: Actor,
        at: datetime,
        field: str = "registrations",
    ) -> list[Self]:
        """Register many residents at once: each as :meth:`register` would, with the same checks.

        Each registration is ``(resident id, grid, sealed personal data, tags,
        moved-in date or None)``. Every one is checked before any resident is
        made; an error names the registration, e.g. ``registrations[3].grid``
        (*field* replaces ``registrations``). The events and aggregates are the
        ones :meth:`register` makes: the first by eventsourcing's generic
        construction, the others directly, as it made the first. The generic
        construction inspects the event's and ``__init__``'s signatures anew
        for each aggregate, which cost more than anything else a bulk import
        did per resident.
        """
        check_instance("actor", actor, Actor)
        check_aware("at", at)
        for index, registration in enumerate(registrations):
            check_instance(f"{field}[{index}]", registration, tuple)
            if len(registration) != _REGISTRATION_FIELDS:
                raise ValidationError(f"{field}[{index}]", f"must hold {_REGISTRATION_FIELDS} items")
            try:
                check_instance("resident_id", registration[0], UUID)
                _check_registration(*registration)
            except ValidationError as e:
                # Name the registration too (built only on failure: an import checks thousands).
                raise ValidationError(f"{field}[{index}].{e.field}", e.message) from None
        if not registrations:
            return []
        # The first by eventsourcing's own construction; the others as it made that one.
        resident_id, grid, personal, tags, moved_in_on = registrations[0]
        first = cls._create_with(
            cls.Registered,
            aggregate_id=resident_id,
            actor=actor,
            at=at,
            grid=grid,
            personal=personal,
            tags=tags,
            moved_in_on=moved_in_on,
        )
        event_class = cls.Registered
        first_event = first.pending_events[0]
        assert isinstance(first_event, event_class)  # noqa: S101 (narrowing for the type checker)
        topic = first_event.originator_topic
        residents = [first]
        for resident_id, grid, personal, tags, moved_in_on in registrations[1:]:
            # The fields of the frozen dataclass, in its order, as its __init__ would set them.
            event = object.__new__(event_class)
            object.__setattr__(
                event,
                "__dict__",
                {
                    "originator_id": resident_id,
                    "originator_version": cls.INITIAL_VERSION,
                    "timestamp": at,
                    "originator_topic": topic,
                    "actor": actor,
                    "grid": grid,
                    "personal": personal,
                    "tags": tags,
                    "moved_in_on": moved_in_on,
                },
            )
            # What the event's mutate() does, without its signature inspection.
            resident = cls.__new__(cls)
            resident.__base_init__(resident_id, cls.INITIAL_VERSION, at)
            cls.__init__(resident, grid=grid, personal=personal, tags=tags, moved_in_on=moved_in_on)
            event.apply(resident)
            resident._pending_events.append(event)  # noqa: SLF001 (as eventsourcing's _create does)
            residents.append(resident)
        return residents

    def correct_personal_data(
        self, personal: SealedData, *, actor: Actor, reason: str, at: datetime | None = None
    ) -> None:
        """Replace the sealed personal data with a corrected version."""
        self._check_not_erased("correct personal data")
        _check_sealed_for("personal", personal, self.id)
        check_text("reason", reason)
        self._trigger(self.PersonalDataCorrected, actor=actor, at=at, personal=personal, reason=reason)

    def tag(self, tag: ResidentTag, *, actor: Actor, reason: str = "", at: datetime | None = None) -> None:
        """Add the care tag *tag*."""
        self._check_not_erased("tag")
        check_instance("tag", tag, ResidentTag)
        check_optional_text("reason", reason)
        if tag in self.tags:
            raise ValidationError("tag", f"the resident is already tagged {tag.value!r}")
        self._trigger(self.Tagged, actor=actor, at=at, tag=tag, reason=reason)

    def untag(self, tag: ResidentTag, *, actor: Actor, reason: str = "", at: datetime | None = None) -> None:
        """Remove the care tag *tag*."""
        self._check_not_erased("untag")
        check_instance("tag", tag, ResidentTag)
        check_optional_text("reason", reason)
        if tag not in self.tags:
            raise ValidationError("tag", f"the resident is not tagged {tag.value!r}")
        self._trigger(self.Untagged, actor=actor, at=at, tag=tag, reason=reason)

    def transfer(self, grid: GridCell, *, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """Move the resident to another grid cell."""
        self._check_not_erased("transfer")
        if self.status is ResidentStatus.MOVED_OUT:
            self._refuse(self.status.value, "transfer", "record moving back in instead")
        check_instance("grid", grid, GridCell)
        check_text("reason", reason)
        if grid == self.grid:
            raise ValidationError("grid", f"the resident already belongs to {grid}")
        self._trigger(self.Transferred, actor=actor, at=at, grid=grid, reason=reason)

    def move_out(self, moved_out_on: date, *, actor: Actor, reason: str = "", at: datetime | None = None) -> None:
        """Record that the resident moved out of the community."""
        self._check_not_erased("move out")
        if self.status is ResidentStatus.MOVED_OUT:
            self._refuse(self.status.value, "move out", "the resident has already moved out")
        check_date("moved_out_on", moved_out_on)
        check_optional_text("reason", reason)
        if self.moved_in_on is not None and moved_out_on < self.moved_in_on:
            raise ValidationError("moved_out_on", f"is before moving in on {self.moved_in_on}")
        self._trigger(self.MovedOut, actor=actor, at=at, moved_out_on=moved_out_on, reason=reason)

    def move_in(self, grid: GridCell, moved_in_on: date, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that a resident who had moved out lives here again, in *grid*."""
        self._check_not_erased("move in")
        if self.status is not ResidentStatus.MOVED_OUT:
            self._refuse(self.status.value, "move in", "only a resident who moved out can move back in")
        check_instance("grid", grid, GridCell)
        check_date("moved_in_on", moved_in_on)
        if self.moved_out_on is not None and moved_in_on < self.moved_out_on:
            raise ValidationError("moved_in_on", f"is before moving out on {self.moved_out_on}")
        self._trigger(self.MovedIn, actor=actor, at=at, grid=grid, moved_in_on=moved_in_on)

    def start_home_isolation(
        self,
        starts_on: date,
        ends_on: date,
        *,
        actor: Actor,
        details: SealedData | None = None,
        at: datetime | None = None,
    ) -> None:
        """Arrange home isolation from *starts_on* to *ends_on* (inclusive)."""
        self._check_not_erased("start home isolation")
        if self.status is ResidentStatus.MOVED_OUT:
            self._refuse(self.status.value, "start home isolation", "the resident has moved out")
        if self.isolation is not None:
            self._refuse("isolating", "start home isolation", f"the current period runs until {self.isolation[1]}")
        check_date("starts_on", starts_on)
        check_date("ends_on", ends_on)
        if ends_on < starts_on:
            raise ValidationError("ends_on", f"{ends_on} is before the start {starts_on}")
        if details is not None:
            _check_sealed_for("details", details, self.id)
        self._trigger(
            self.HomeIsolationStarted,
            actor=actor,
            at=at,
            starts_on=starts_on,
            ends_on=ends_on,
            details=details,
        )

    def end_home_isolation(self, ended_on: date, *, actor: Actor, reason: str = "", at: datetime | None = None) -> None:
        """End the current home isolation on *ended_on*."""
        self._check_not_erased("end home isolation")
        if self.isolation is None:
            self._refuse("not isolating", "end home isolation")
        check_date("ended_on", ended_on)
        check_optional_text("reason", reason)
        if ended_on < self.isolation[0]:
            raise ValidationError("ended_on", f"{ended_on} is before the start {self.isolation[0]}")
        self._trigger(self.HomeIsolationEnded, actor=actor, at=at, ended_on=ended_on, reason=reason)

    def erase_personal_data(
        self, *, actor: Actor, reason: str, request_ref: str = "", at: datetime | None = None
    ) -> None:
        """Record the erasure of the resident's personal data (the caller destroys the key)."""
        self._check_not_erased("erase personal data")
        check_text("reason", reason)
        check_optional_text("request_ref", request_ref, max_length=200)
        self._trigger(self.PersonalDataErased, actor=actor, at=at, reason=reason, request_ref=request_ref)

    def _check_not_erased(self, command: str) -> None:
        if self.status is ResidentStatus.ERASED:
            self._refuse(self.status.value, command, "the resident's personal data was erased")


Registration = tuple[UUID, GridCell, SealedData, frozenset[ResidentTag], date | None]
"""One resident for :meth:`Resident.register_many`: id, grid, sealed personal data, tags, moved-in date."""
_REGISTRATION_FIELDS = 5


def _check_registration(resident_id: UUID, grid: object, personal: object, tags: object, moved_in_on: object) -> None:
    """Check what registering a resident takes (the resident's id is checked already)."""
    check_instance("grid", grid, GridCell)
    _check_sealed_for("personal", personal, resident_id)
    check_frozenset_of("tags", tags, ResidentTag)
    if moved_in_on is not None:
        check_date("moved_in_on", moved_in_on)


def _check_sealed_for(field: str, sealed: object, subject_id: UUID) -> None:
    check_instance(field, sealed, SealedData)
    assert isinstance(sealed, SealedData)  # noqa: S101 (narrowing for the type checker)
    if sealed.subject_id != subject_id:
        raise ValidationError(field, "must be sealed under this resident's own key")


VALUE_TYPES: tuple[type, ...] = (ResidentTag, ResidentStatus)
