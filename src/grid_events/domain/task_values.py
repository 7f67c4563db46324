"""The words and values of a task: its kinds, priorities and statuses, survey-call tallies, progress notes.

These are the enums and attrs value objects a task's events and state hold
(listed in :data:`VALUE_TYPES` for the codec), and the roles that may create a
task or do its work. The aggregate itself is
:class:`~grid_events.domain.task.Task`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from grid_events.domain.checks import aware_validator, int_validator, text_validator, tuple_validator
from grid_events.domain.values import EvidenceRef, Role

__all__ = [
    "CREATOR_ROLES",
    "ESCALATION_ORDER",
    "INSPECTION_KINDS",
    "WORKER_ROLES",
    "CallOutcome",
    "CallTally",
    "EscalationLevel",
    "Priority",
    "ProgressNote",
    "ReopenSource",
    "TaskKind",
    "TaskStatus",
]


class TaskKind(enum.StrEnum):
    """The kinds of work community workers are given."""

    SURVEY_CALL = "survey_call"
    """流调电话: an epidemiological survey call."""
    TEST_NOTIFICATION = "test_notification"
    """通知核酸检测: telling residents to come for a test."""
    RETURNEE_VERIFICATION = "returnee_verification"
    """返永人员核查: verifying a returnee's information."""
    HOME_ISOLATION_ARRANGEMENT = "home_isolation_arrangement"
    """居家隔离安排: arranging home isolation for someone transferred back."""
    SCAN_CHECK = "scan_check"
    """一扫三查 at a key venue (an inspection)."""
    FIRE_INSPECTION = "fire_inspection"
    """消防安全隐患排查 (an inspection)."""
    GAS_ELECTRICITY_PUBLICITY = "gas_electricity_publicity"
    """燃气用电安全宣传 at shops."""
    HOUSEHOLD_VISIT = "household_visit"
    """入户摸排, by day or evening."""
    ERRAND = "errand"
    """跑腿代办: an errand to a resident's door."""
    PATROL = "patrol"
    """巡查: illegal parking, sewage discharge, street occupation."""


INSPECTION_KINDS = frozenset({TaskKind.FIRE_INSPECTION, TaskKind.SCAN_CHECK})
"""Kinds of task that are inspections, with a checklist."""


class Priority(enum.StrEnum):
    """How urgent a task is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TaskStatus(enum.StrEnum):
    """Where a task stands in the closed loop."""

    CREATED = "created"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class CallOutcome(enum.StrEnum):
    """The outcome of one survey call."""

    REACHED = "reached"
    """打通: the person answered."""
    NOT_REACHED = "not_reached"
    """未打通: no answer, wrong number, switched off."""
    VERIFIED = "verified"
    """已核实: reached and the information confirmed."""


class EscalationLevel(enum.StrEnum):
    """Who supervises an escalated task (督办), from the lowest level up."""

    COMMUNITY = "community"
    """社区督办."""
    SUB_DISTRICT = "sub_district"
    """街道督办."""
    CITY = "city"
    """市级督办."""


ESCALATION_ORDER = tuple(EscalationLevel)
"""The escalation levels, from the lowest up."""


class ReopenSource(enum.StrEnum):
    """Why a closed task was reopened."""

    RESIDENT_COMPLAINT = "resident_complaint"
    """群众投诉: a resident says the work was not done."""
    SUPERVISOR = "supervisor"
    """A supervisor found it not done (督查)."""


@attrs.frozen
class CallTally:
    """How many survey calls had each outcome."""

    reached: int = attrs.field(default=0, validator=int_validator(0))
    not_reached: int = attrs.field(default=0, validator=int_validator(0))
    verified: int = attrs.field(default=0, validator=int_validator(0))

    @property
    def total(self) -> int:
        """All calls made."""
        return self.reached + self.not_reached + self.verified

    def count(self, outcome: CallOutcome) -> int:
        """Return the number of calls with *outcome*."""
        return int(getattr(self, outcome.value))

    def plus(self, outcome: CallOutcome) -> CallTally:
        """Return the tally with one more call of *outcome*."""
        changes: dict[str, Any] = {outcome.value: self.count(outcome) + 1}
        return attrs.evolve(self, **changes)


@attrs.frozen
class ProgressNote:
    """A note of work done, with evidence, by whom and when."""

    note: str = attrs.field(validator=text_validator())
    evidence: tuple[EvidenceRef, ...] = attrs.field(validator=tuple_validator(EvidenceRef))
    recorded_by: str = attrs.field(validator=text_validator(64))
    recorded_at: datetime = attrs.field(validator=aware_validator)


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
"""Roles in which a person can do the work of a task."""

CREATOR_ROLES = (*sorted(WORKER_ROLES), Role.SYSTEM)
"""Roles that may create a task (volunteers, auditors and administrators create none)."""


VALUE_TYPES: tuple[type, ...] = (
    TaskKind,
    Priority,
    TaskStatus,
    CallOutcome,
    EscalationLevel,
    ReopenSource,
    CallTally,
    ProgressNote,
)
"""The types of this module the codec must know."""
