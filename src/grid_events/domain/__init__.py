"""The pure domain: four aggregates, their events and value objects.

Modules here import only ``eventsourcing.domain``, attrs, the standard library
and each other (a test enforces it), so the rules can be read, tested and reused
without any database, network or clock.
"""

from __future__ import annotations

from grid_events.domain import dispute, inspection, resident, site_shift, task, values
from grid_events.domain.base import GridAggregate
from grid_events.domain.dispute import Dispute
from grid_events.domain.resident import Resident, ResidentStatus, ResidentTag
from grid_events.domain.site_shift import SiteShift
from grid_events.domain.task import Task
from grid_events.domain.values import Actor, EvidenceKind, EvidenceRef, GridCell, Place, Role, SealedData

__all__ = [
    "VALUE_TYPES",
    "Actor",
    "Dispute",
    "EvidenceKind",
    "EvidenceRef",
    "GridAggregate",
    "GridCell",
    "Place",
    "Resident",
    "ResidentStatus",
    "ResidentTag",
    "Role",
    "SealedData",
    "SiteShift",
    "Task",
]

VALUE_TYPES: tuple[type, ...] = (
    *values.VALUE_TYPES,
    *resident.VALUE_TYPES,
    *task.VALUE_TYPES,
    *inspection.VALUE_TYPES,
    *dispute.VALUE_TYPES,
    *site_shift.VALUE_TYPES,
)
"""Every enum and value object an event or snapshot of the domain may hold."""
