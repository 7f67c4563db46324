"""grid_events: event-sourced task tracking for community workers.

The public API is what this module exports (``__all__``); everything else is
private and may change. See the README for a tour and ``docs/`` for the rest.
"""

from __future__ import annotations

from grid_events.application import GridApplication, ResidentRecord
from grid_events.application.disputes import PartyInput
from grid_events.codec import CodecError, MsgpackTranscoder, TypeRegistry
from grid_events.config import StoreConfig, decode_master_key, encode_master_key, new_master_key
from grid_events.domain.base import GridAggregate
from grid_events.domain.dispute import Dispute
from grid_events.domain.inspection import (
    SMALL_VENUE_FIRE_SAFETY,
    VENUE_SCAN_CHECK,
    ChecklistItem,
    ChecklistTemplate,
    Finding,
    FindingStatus,
    ItemResult,
    Severity,
)
from grid_events.domain.mediation import (
    Agreement,
    AgreementForm,
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    PartyKind,
    PerformanceStatus,
    RiskLevel,
    Route,
    SignatureMethod,
    Term,
)
from grid_events.domain.resident import Resident, ResidentStatus, ResidentTag
from grid_events.domain.site_shift import (
    Batch,
    BatchStatus,
    PersonKind,
    ShiftStatus,
    Site,
    SiteKind,
    SiteShift,
)
from grid_events.domain.task import (
    CallOutcome,
    EscalationLevel,
    Priority,
    ReopenSource,
    Task,
    TaskKind,
    TaskStatus,
)
from grid_events.domain.values import Actor, EvidenceKind, EvidenceRef, GridCell, Place, Role, SealedData
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
from grid_events.privacy.personal import (
    PartyDetails,
    PersonalData,
    SampledPerson,
    mask_id_number,
    mask_name,
    mask_phone,
)

__all__ = [
    "SMALL_VENUE_FIRE_SAFETY",
    "VENUE_SCAN_CHECK",
    "Actor",
    "AggregateNotFoundError",
    "Agreement",
    "AgreementForm",
    "Batch",
    "BatchStatus",
    "CallOutcome",
    "ChecklistItem",
    "ChecklistTemplate",
    "CodecError",
    "ConcurrentChangeError",
    "ConfigurationError",
    "Dispute",
    "DisputeCategory",
    "DisputeSource",
    "DisputeStatus",
    "EscalationLevel",
    "EvidenceKind",
    "EvidenceRef",
    "Finding",
    "FindingStatus",
    "GridAggregate",
    "GridApplication",
    "GridCell",
    "GridEventsError",
    "InvalidTransitionError",
    "ItemResult",
    "MsgpackTranscoder",
    "PartyDetails",
    "PartyInput",
    "PartyKind",
    "PerformanceStatus",
    "PermissionDeniedError",
    "PersonKind",
    "PersonalData",
    "PersonalDataErasedError",
    "Place",
    "Priority",
    "ReopenSource",
    "Resident",
    "ResidentRecord",
    "ResidentStatus",
    "ResidentTag",
    "RiskLevel",
    "Role",
    "Route",
    "RuleViolationError",
    "SampledPerson",
    "SealedData",
    "Severity",
    "ShiftStatus",
    "SignatureMethod",
    "Site",
    "SiteKind",
    "SiteShift",
    "StoreConfig",
    "Task",
    "TaskKind",
    "TaskStatus",
    "Term",
    "TypeRegistry",
    "ValidationError",
    "decode_master_key",
    "encode_master_key",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "new_master_key",
]
