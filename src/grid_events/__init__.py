"""grid_events: event-sourced task tracking for community workers.

The public API is what this module exports; everything else is private and
may change. See the README for a tour.
"""

from __future__ import annotations

from grid_events.application import GridApplication, ResidentRecord
from grid_events.codec import CodecError, MsgpackTranscoder, TypeRegistry
from grid_events.config import StoreConfig
from grid_events.domain import (
    Actor,
    Dispute,
    EvidenceKind,
    EvidenceRef,
    GridCell,
    Place,
    Resident,
    ResidentStatus,
    ResidentTag,
    Role,
    SealedData,
    SiteShift,
    Task,
)
from grid_events.exceptions import (
    AggregateNotFoundError,
    ConcurrentChangeError,
    ConfigurationError,
    GridEventsError,
    InvalidTransitionError,
    PermissionDeniedError,
    PersonalDataErasedError,
    RuleViolationError,
    ValidationError,
)
from grid_events.privacy.personal import PersonalData

__all__ = [
    "Actor",
    "AggregateNotFoundError",
    "CodecError",
    "ConcurrentChangeError",
    "ConfigurationError",
    "Dispute",
    "EvidenceKind",
    "EvidenceRef",
    "GridApplication",
    "GridCell",
    "GridEventsError",
    "InvalidTransitionError",
    "MsgpackTranscoder",
    "PermissionDeniedError",
    "PersonalData",
    "PersonalDataErasedError",
    "Place",
    "Resident",
    "ResidentRecord",
    "ResidentStatus",
    "ResidentTag",
    "Role",
    "RuleViolationError",
    "SealedData",
    "SiteShift",
    "StoreConfig",
    "Task",
    "TypeRegistry",
    "ValidationError",
]
