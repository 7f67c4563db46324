"""grid_events: event-sourced task tracking for community workers.

The public API is what this module exports (``__all__``); everything else is
private and may change. See the README for a tour and ``docs/`` for the rest.
"""

from __future__ import annotations

from grid_events.application import GridApplication, ResidentRecord
from grid_events.application.core import LoggedEvent
from grid_events.application.disputes import PartyInput
from grid_events.chain import EventMapper, link_hash
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
from grid_events.privacy.access import AccessRecord, DataSubject, PrivacyHistory
from grid_events.privacy.keyring import KeyRing
from grid_events.privacy.permissions import POLICY, Right, authorize, may, rights_of
from grid_events.privacy.personal import (
    MaskedPartyDetails,
    MaskedPersonalData,
    MaskedSampledPerson,
    PartyDetails,
    PersonalData,
    SampledPerson,
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
)

__all__ = [
    "POLICY",
    "SMALL_VENUE_FIRE_SAFETY",
    "VENUE_SCAN_CHECK",
    "AccessRecord",
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
    "DataSubject",
    "Dispute",
    "DisputeCategory",
    "DisputeSource",
    "DisputeStatus",
    "EscalationLevel",
    "EventMapper",
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
    "KeyRing",
    "LoggedEvent",
    "MaskedPartyDetails",
    "MaskedPersonalData",
    "MaskedSampledPerson",
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
    "PrivacyHistory",
    "ReopenSource",
    "Resident",
    "ResidentRecord",
    "ResidentStatus",
    "ResidentTag",
    "Right",
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
    "authorize",
    "decode_master_key",
    "encode_master_key",
    "link_hash",
    "mask_address",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "may",
    "new_master_key",
    "rights_of",
]
