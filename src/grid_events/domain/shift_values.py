"""What a site shift records: the site, the people on site, the batches of samples, and the limits it keeps.

These are the enums and attrs value objects a shift's events and state hold
(listed in :data:`VALUE_TYPES` for the codec), the roles people serve in on
site, and the time limits of a shift. The aggregate itself is
:class:`~grid_events.domain.site_shift.SiteShift`.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs

from grid_events.domain.checks import (
    aware_validator,
    check_int,
    check_text,
    instance_validator,
    int_validator,
    optional_aware_validator,
    optional_text_validator,
    text_validator,
)
from grid_events.domain.values import GridCell, Role
from grid_events.exceptions import ValidationError

__all__ = [
    "BATCH_INTERVAL",
    "CLOCK_SKEW",
    "MAX_SHIFT",
    "ON_SITE_ROLES",
    "WORKER_ROLES",
    "Batch",
    "BatchRecord",
    "BatchStatus",
    "PersonKind",
    "ShiftStatus",
    "Site",
    "SiteKind",
    "SitePresence",
    "sample_number",
]

BATCH_INTERVAL = timedelta(minutes=30)
"""How often samples are sealed and sent: a batch sealed longer ago and not yet dispatched is late."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far a time given by a phone on site may run ahead of the office clock."""

MAX_SHIFT = timedelta(hours=24)
"""The longest a planned shift may last (a longer one is a typing mistake)."""

WORKER_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.MEDIATOR,
        Role.SAFETY_OFFICER,
        Role.PUBLICITY_OFFICER,
        Role.LIAISON,
        Role.SUPERVISOR,
    }
)
"""Roles of community workers: they may lead a shift and keep the chain of custody of batches."""

ON_SITE_ROLES = WORKER_ROLES | {Role.VOLUNTEER}
"""Roles a person serves in on site; auditors, administrators and the system change nothing here."""


class SiteKind(enum.StrEnum):
    """What kind of site a shift staffs."""

    SAMPLING_POINT = "sampling_point"
    """核酸采样点: a nucleic-acid sampling point."""
    SERVICE_POINT = "service_point"
    """便民服务点: a service point."""
    CHILD_CARE_CLASS = "child_care_class"
    """平安助苗暑托班: the free summer child-care class."""
    DUTY_POST = "duty_post"
    """值守点: a duty post."""


class PersonKind(enum.StrEnum):
    """Who a person on site is."""

    WORKER = "worker"
    """A community worker."""
    VOLUNTEER = "volunteer"
    """志愿者: not a worker, but in the shift's records."""


class ShiftStatus(enum.StrEnum):
    """Where a shift is in its life."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class BatchStatus(enum.StrEnum):
    """Where a batch of sample tubes is."""

    SEALED = "sealed"
    DISPATCHED = "dispatched"
    RECEIVED = "received"


@attrs.frozen
class Site:
    """A site that shifts are planned for."""

    site_id: str = attrs.field(validator=text_validator(64))
    name: str = attrs.field(validator=text_validator(200))
    kind: SiteKind = attrs.field(validator=instance_validator(SiteKind))
    grid: GridCell = attrs.field(validator=instance_validator(GridCell))
    address: str = attrs.field(validator=text_validator(500))


@attrs.frozen
class SitePresence:
    """Someone on site now: a worker or a volunteer, in which role, since when."""

    kind: PersonKind = attrs.field(validator=instance_validator(PersonKind))
    role: Role = attrs.field(validator=instance_validator(Role))
    checked_in_at: datetime = attrs.field(validator=aware_validator)


@attrs.frozen
class Batch:
    """A sealed batch of sample tubes: its number, how many tubes, when it was sealed."""

    batch_no: str = attrs.field(validator=text_validator(64))
    tube_count: int = attrs.field(validator=int_validator(1))
    sealed_at: datetime = attrs.field(validator=aware_validator)


def _optional_count(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        check_int(attribute.name, value, minimum=0)


@attrs.frozen
class BatchRecord:
    """A batch and how far it got: sealed, dispatched (carrier, time), received (lab, time, tubes)."""

    batch: Batch = attrs.field(validator=instance_validator(Batch))
    status: BatchStatus = attrs.field(default=BatchStatus.SEALED, validator=instance_validator(BatchStatus))
    carrier: str = attrs.field(default="", validator=optional_text_validator(200))
    dispatched_at: datetime | None = attrs.field(default=None, validator=optional_aware_validator)
    lab: str = attrs.field(default="", validator=optional_text_validator(200))
    received_at: datetime | None = attrs.field(default=None, validator=optional_aware_validator)
    tubes_received: int | None = attrs.field(default=None, validator=_optional_count)

    @property
    def batch_no(self) -> str:
        """The batch number."""
        return self.batch.batch_no

    @property
    def discrepancy(self) -> int:
        """Tubes the lab received minus tubes sealed (0 until received): negative means tubes missing."""
        if self.tubes_received is None:
            return 0
        return self.tubes_received - self.batch.tube_count


def sample_number(sample_id: str) -> int:
    """Return the number of the sample id ``"S<n>"`` that :meth:`SiteShift.record_sample` assigned."""
    check_text("sample_id", sample_id, max_length=16)
    digits = sample_id[1:]
    if not sample_id.startswith("S") or not digits.isdecimal() or not digits.isascii() or int(digits) < 1:
        raise ValidationError("sample_id", f"{sample_id!r} is not a sample id such as 'S1'")
    return int(digits)


VALUE_TYPES: tuple[type, ...] = (
    SiteKind,
    PersonKind,
    ShiftStatus,
    BatchStatus,
    Site,
    SitePresence,
    Batch,
    BatchRecord,
)
"""The types of this module the codec must know."""
