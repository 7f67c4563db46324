"""What a site shift's commands check before they record anything, beyond who acts and in which status.

Names of people and supplies, counts of supplies, times given on site (never
in the future beyond :data:`~grid_events.domain.shift_values.CLOCK_SKEW`),
whether someone acts as a volunteer, and what to do about a command refused
in each status. :class:`~grid_events.domain.site_shift.SiteShift` raises with
these.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from grid_events.domain.checks import check_int, check_text
from grid_events.domain.shift_values import CLOCK_SKEW, PersonKind, ShiftStatus, SitePresence
from grid_events.domain.values import Actor, Role
from grid_events.exceptions import ValidationError

__all__ = [
    "STATUS_HINTS",
    "acts_as_volunteer",
    "check_counts",
    "check_not_future",
    "check_person_id",
    "check_supply_item",
]

STATUS_HINTS = {
    ShiftStatus.PLANNED: "open the shift first",
    ShiftStatus.OPEN: "an open shift is closed, not opened or cancelled",
    ShiftStatus.CLOSED: "the shift is closed: plan a new one",
    ShiftStatus.CANCELLED: "the shift was cancelled: plan a new one",
}
"""What to do instead of a command a shift refuses in each status."""


def acts_as_volunteer(actor: Actor, presence: SitePresence) -> bool:
    """Return whether *actor*, on site as *presence*, acts as a volunteer (in role or in person)."""
    return actor.role is Role.VOLUNTEER or presence.kind is PersonKind.VOLUNTEER


def check_person_id(field: str, person_id: str) -> None:
    """Raise :class:`ValidationError` unless *person_id* is a worker's or volunteer's id (at most 64 characters)."""
    check_text(field, person_id, max_length=64)


def check_supply_item(item: str, field: str = "item") -> None:
    """Raise :class:`ValidationError` unless *item* names a supply (no spaces around it)."""
    check_text(field, item, max_length=100)
    if item != item.strip():
        raise ValidationError(field, f"{item!r} starts or ends with spaces")


def check_counts(field: str, counts: object) -> dict[str, int]:
    """Return a copy of *counts* if it maps item names to whole numbers of at least zero."""
    if not isinstance(counts, Mapping):
        raise ValidationError(field, f"must map items to counts, not {type(counts).__name__}")
    checked: dict[str, int] = {}
    for item, count in counts.items():
        check_supply_item(item, f"{field}[{item!r}]")
        checked[item] = check_int(f"{field}[{item!r}]", count, minimum=0)
    return checked


def check_not_future(field: str, value: datetime, at: datetime | None) -> None:
    """Raise :class:`ValidationError` if *value* is later than *at* (the time of recording) by more than the skew."""
    if at is not None and value > at + CLOCK_SKEW:
        raise ValidationError(field, f"{value.isoformat()} is in the future (it is now {at.isoformat()})")
