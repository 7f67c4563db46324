"""Findings: the hazards an inspection finds, and everything done about each until it is dealt with.

A :class:`Finding` is followed in its :class:`FindingRecord`: rectification
orders (整改通知), the owner's reports that it is fixed, re-inspections (复查)
and a report to the authority. Where it stands (:class:`FindingStatus`) is
derived from the record, never stored on its own.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Any

import attrs

from grid_events.domain.checklists import optional_code_validator
from grid_events.domain.checks import (
    Validator,
    check_text,
    date_validator,
    instance_validator,
    int_validator,
    optional_instance_validator,
    text_validator,
    tuple_validator,
)
from grid_events.domain.values import EvidenceRef
from grid_events.domain.work_text import work_text_validator
from grid_events.exceptions import ValidationError

__all__ = [
    "AuthorityReport",
    "Finding",
    "FindingRecord",
    "FindingStatus",
    "OwnerReport",
    "RectificationOrder",
    "Reinspection",
    "Severity",
]


def _evidence_validator(min_length: int = 0) -> Validator:
    return tuple_validator(EvidenceRef, min_length=min_length)


class Severity(enum.StrEnum):
    """How serious a hazard is."""

    MINOR = "minor"
    """一般隐患."""
    MAJOR = "major"
    """较大隐患."""
    SEVERE = "severe"
    """重大隐患: always reported to the fire authority."""


_FINDING_ID = re.compile(r"F[1-9][0-9]*")


def _finding_id_validator(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_text(attribute.name, value, max_length=16)
    assert isinstance(value, str)  # noqa: S101 (narrowing for the type checker)
    if not _FINDING_ID.fullmatch(value):
        raise ValidationError(attribute.name, f"{value!r} is not a finding id ('F1', 'F2', …)")


@attrs.frozen
class Finding:
    """A hazard found during an inspection, numbered ``F1``, ``F2``… within it."""

    finding_id: str = attrs.field(validator=_finding_id_validator)
    item_code: str | None = attrs.field(validator=optional_code_validator)
    """The failed checklist item, or ``None`` for a hazard outside the checklist."""
    description: str = attrs.field(validator=work_text_validator(1000))
    severity: Severity = attrs.field(validator=instance_validator(Severity))
    location: str = attrs.field(validator=work_text_validator(200))
    """Where on the premises (后厨, 二楼楼梯间)."""
    evidence: tuple[EvidenceRef, ...] = attrs.field(validator=_evidence_validator(1))
    found_on: date = attrs.field(validator=date_validator)


@attrs.frozen
class RectificationOrder:
    """A rectification notice (整改通知) served on the owner, with its deadline (整改期限)."""

    number: int = attrs.field(validator=int_validator(1))
    """1 for the first order of a finding, 2 after a failed re-inspection, …"""
    notice_served_on: date = attrs.field(validator=date_validator)
    deadline: date = attrs.field(validator=date_validator)


@attrs.frozen
class OwnerReport:
    """The owner (or operator) says the hazard is fixed."""

    order_number: int = attrs.field(validator=int_validator(1))
    reported_on: date = attrs.field(validator=date_validator)
    note: str = attrs.field(validator=work_text_validator(1000, optional=True))
    evidence: tuple[EvidenceRef, ...] = attrs.field(validator=_evidence_validator())


@attrs.frozen
class Reinspection:
    """A re-inspection (复查) after a rectification order: passed or failed."""

    order_number: int = attrs.field(validator=int_validator(1))
    inspected_on: date = attrs.field(validator=date_validator)
    passed: bool = attrs.field(validator=instance_validator(bool))
    note: str = attrs.field(validator=work_text_validator(1000, optional=True))
    evidence: tuple[EvidenceRef, ...] = attrs.field(validator=_evidence_validator())


@attrs.frozen
class AuthorityReport:
    """The hazard was reported to the authority that enforces (消防救援大队, 派出所)."""

    authority: str = attrs.field(validator=text_validator(100))
    reason: str = attrs.field(validator=work_text_validator(1000))
    reported_on: date = attrs.field(validator=date_validator)


class FindingStatus(enum.StrEnum):
    """Where a finding stands (derived from its record, never stored on its own)."""

    OPEN = "open"
    """Found; no rectification order yet."""
    RECTIFYING = "rectifying"
    """An order is served; waiting for the deadline, the owner or the re-inspection."""
    OWNER_REPORTED = "owner_reported"
    """The owner says it is fixed; waiting for the re-inspection."""
    REINSPECTION_FAILED = "reinspection_failed"
    """The last re-inspection failed; a new order or a report to the authority is due."""
    RECTIFIED = "rectified"
    """A re-inspection passed."""
    REPORTED = "reported"
    """Reported to the authority, which takes it from here."""


@attrs.frozen
class FindingRecord:
    """A finding and everything done about it since, in order."""

    finding: Finding = attrs.field(validator=instance_validator(Finding))
    orders: tuple[RectificationOrder, ...] = attrs.field(default=(), validator=tuple_validator(RectificationOrder))
    owner_reports: tuple[OwnerReport, ...] = attrs.field(default=(), validator=tuple_validator(OwnerReport))
    reinspections: tuple[Reinspection, ...] = attrs.field(default=(), validator=tuple_validator(Reinspection))
    authority_report: AuthorityReport | None = attrs.field(
        default=None, validator=optional_instance_validator(AuthorityReport)
    )

    @property
    def finding_id(self) -> str:
        """The finding's id (``F1``)."""
        return self.finding.finding_id

    @property
    def current_order(self) -> RectificationOrder | None:
        """The latest rectification order, if any."""
        return self.orders[-1] if self.orders else None

    @property
    def current_reinspection(self) -> Reinspection | None:
        """The re-inspection of the latest order, if it happened."""
        order = self.current_order
        if order is None or not self.reinspections or self.reinspections[-1].order_number != order.number:
            return None
        return self.reinspections[-1]

    @property
    def is_rectified(self) -> bool:
        """Whether a re-inspection passed."""
        return any(reinspection.passed for reinspection in self.reinspections)

    @property
    def is_reported(self) -> bool:
        """Whether the finding was reported to the authority."""
        return self.authority_report is not None

    @property
    def is_resolved(self) -> bool:
        """Whether the community's part is done: rectified, or reported to the authority."""
        return self.is_rectified or self.is_reported

    @property
    def status(self) -> FindingStatus:
        """Where the finding stands."""
        if self.is_rectified:
            return FindingStatus.RECTIFIED
        if self.is_reported:
            return FindingStatus.REPORTED
        order = self.current_order
        if order is None:
            return FindingStatus.OPEN
        if self.current_reinspection is not None:
            return FindingStatus.REINSPECTION_FAILED
        if any(report.order_number == order.number for report in self.owner_reports):
            return FindingStatus.OWNER_REPORTED
        return FindingStatus.RECTIFYING

    def missing(self) -> str:
        """Say what the finding still lacks to be resolved (for error messages)."""
        status = self.status
        order = self.current_order
        if status is FindingStatus.OPEN:
            return f"{self.finding_id}: no rectification order"
        if status is FindingStatus.REINSPECTION_FAILED:
            return f"{self.finding_id}: re-inspection failed, no new order and not reported"
        assert order is not None  # noqa: S101 (an order exists in the other unresolved states)
        return f"{self.finding_id}: order {order.number} due {order.deadline.isoformat()}, not re-inspected"


VALUE_TYPES: tuple[type, ...] = (
    Severity,
    Finding,
    RectificationOrder,
    OwnerReport,
    Reinspection,
    AuthorityReport,
    FindingStatus,
    FindingRecord,
)
"""The types of this module the codec must know."""
