"""Value objects shared by the four aggregates.

All are frozen attrs classes that check their fields when built, so an event can
only ever carry valid values. The codec (:mod:`grid_events.codec`) encodes them
by their class name, which is therefore part of the stored format: renaming one
needs an alias in the codec.
"""

from __future__ import annotations

import enum
from uuid import UUID

import attrs

from grid_events.domain.checks import (
    instance_validator,
    optional_text_validator,
    text_validator,
)
from grid_events.exceptions import ValidationError

__all__ = [
    "Actor",
    "EvidenceKind",
    "EvidenceRef",
    "GridCell",
    "Place",
    "Role",
    "SealedData",
]


class Role(enum.StrEnum):
    """The roles a person acts in. One person may hold several."""

    GRID_WORKER = "grid_worker"
    """网格员: owns the residents and places of one grid cell."""
    MEDIATOR = "mediator"
    """调解员: handles disputes."""
    SAFETY_OFFICER = "safety_officer"
    """安全员: fire, gas and electricity safety inspections."""
    PUBLICITY_OFFICER = "publicity_officer"
    """宣传员: notices and campaigns."""
    LIAISON = "liaison"
    """联络员: links residents, volunteers, organisations and agencies."""
    SUPERVISOR = "supervisor"
    """社区书记 / 副书记: assigns, verifies, closes."""
    AUDITOR = "auditor"
    """民政局 / 街道 staff who replay and check the records."""
    VOLUNTEER = "volunteer"
    """志愿者: helps at sites; not a worker."""
    ADMINISTRATOR = "administrator"
    """Runs the installation: accounts, keys, erasure requests."""
    SYSTEM = "system"
    """The software itself, e.g. a timer escalating an overdue task."""


@attrs.frozen
class Actor:
    """Who acted, and in which role: recorded on every event."""

    worker_id: str = attrs.field(validator=text_validator(64))
    role: Role = attrs.field(validator=instance_validator(Role))

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.role.value})"


@attrs.frozen
class GridCell:
    """A grid cell (网格) within a community (社区) within a sub-district (街道)."""

    sub_district: str = attrs.field(validator=text_validator(64))
    community: str = attrs.field(validator=text_validator(64))
    cell: str = attrs.field(validator=text_validator(64))

    @property
    def code(self) -> str:
        """A path naming the cell, e.g. ``江南/飞凤/03``."""
        return f"{self.sub_district}/{self.community}/{self.cell}"

    @classmethod
    def parse(cls, code: str) -> GridCell:
        """Build a cell from its :attr:`code` (``sub-district/community/cell``)."""
        parts = code.split("/")
        if len(parts) != 3:  # noqa: PLR2004 (the three levels of the code)
            raise ValidationError("grid", f"{code!r} is not 'sub-district/community/cell'")
        return cls(*parts)

    def __str__(self) -> str:
        return self.code


@attrs.frozen
class Place:
    """A place where work happens: a shop, a venue, a building, a street.

    Places are businesses and public spaces, not people; a resident's home
    address is personal data and lives in their sealed record instead.
    """

    name: str = attrs.field(validator=text_validator(200))
    address: str = attrs.field(validator=text_validator(500))
    grid: GridCell = attrs.field(validator=instance_validator(GridCell))


class EvidenceKind(enum.StrEnum):
    """What kind of thing an evidence reference points at."""

    PHOTO = "photo"
    DOCUMENT = "document"
    AUDIO = "audio"
    VIDEO = "video"
    NOTE = "note"
    SIGNATURE = "signature"


def _check_sha256(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):  # noqa: PLR2004
        raise ValidationError(attribute.name, "must be 64 lowercase hex digits (a SHA-256) or empty")


@attrs.frozen
class EvidenceRef:
    """A reference to evidence kept elsewhere (a photo, a signed form…).

    The file itself is not in the event store; *sha256* pins its content so an
    auditor can tell whether the file they are shown is the one recorded.
    """

    kind: EvidenceKind = attrs.field(validator=instance_validator(EvidenceKind))
    uri: str = attrs.field(validator=text_validator(1000))
    sha256: str = attrs.field(default="", validator=_check_sha256)
    description: str = attrs.field(default="", validator=optional_text_validator(500))


@attrs.frozen
class SealedData:
    """Personal data encrypted under the key of one data subject.

    Events carry only this ciphertext, never the plain data, so destroying the
    subject's key (crypto-shredding) erases the data everywhere while the bytes,
    and the audit hash chain over them, stay as they were. The domain treats it
    as opaque; :mod:`grid_events.privacy` seals and opens it.
    """

    subject_id: UUID = attrs.field(validator=instance_validator(UUID))
    scheme: str = attrs.field(validator=text_validator(32))
    nonce: bytes = attrs.field(validator=instance_validator(bytes), repr=False)
    ciphertext: bytes = attrs.field(validator=instance_validator(bytes), repr=False)

    def __repr__(self) -> str:
        return f"SealedData(subject_id={self.subject_id}, scheme={self.scheme!r}, {len(self.ciphertext)} bytes)"


VALUE_TYPES: tuple[type, ...] = (Role, Actor, GridCell, Place, EvidenceKind, EvidenceRef, SealedData)
"""The types of this module the codec must know."""
