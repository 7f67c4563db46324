"""What a case is: which aggregate its history belongs to, its kind, and a title to list it by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

import attrs

from grid_events.audit.timeline.vocabulary import Language, check_language
from grid_events.audit.timeline.words import CaseContext, Words, event_type
from grid_events.domain.base import GridAggregate
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import CHINA_TIME
from grid_events.domain.resident import Resident
from grid_events.domain.site_shift import SiteShift
from grid_events.domain.task import Task
from grid_events.exceptions import ValidationError

__all__ = ["AGGREGATE_CLASSES", "CaseKind", "CaseSummary", "case_kind", "describe_case", "event_classes"]

AGGREGATE_CLASSES: Final[tuple[type[GridAggregate], ...]] = (Resident, Task, Dispute, SiteShift)
"""The four aggregates whose histories an auditor reads."""


def event_classes(aggregate_class: type[GridAggregate]) -> tuple[type[GridAggregate.Event], ...]:
    """Return the event classes nested in *aggregate_class* that its commands record.

    eventsourcing adds an ``Event`` base to every aggregate class, and a
    ``Created`` one too when the aggregate names its first event otherwise
    (``Dispute.Received``); neither is ever recorded, so neither is returned.
    """
    nested = {
        name: value
        for name, value in vars(aggregate_class).items()
        if isinstance(value, type) and issubclass(value, GridAggregate.Event) and name != "Event"
    }
    named_creation = any(
        issubclass(value, GridAggregate.Created) for name, value in nested.items() if name != "Created"
    )
    return tuple(value for name, value in nested.items() if not (name == "Created" and named_creation))


CaseKind = Literal["dispute", "inspection", "task", "resident", "site_shift"]


def case_kind(events: Sequence[GridAggregate.Event]) -> CaseKind:
    """Return what the history is of: a dispute, an inspection, another task, a resident or a site shift."""
    if not events:
        raise ValidationError("events", "an empty history is no case")
    first = events[0]
    if isinstance(first, Task.Created):
        return "inspection" if first.checklist else "task"
    owner = type(first).__qualname__.split(".", maxsplit=1)[0]
    kinds: dict[str, CaseKind] = {
        "Dispute": "dispute",
        "Task": "task",
        "Resident": "resident",
        "SiteShift": "site_shift",
    }
    if owner not in kinds:
        raise ValidationError("events", f"{event_type(first)} is not an event of a case")
    return kinds[owner]


@attrs.frozen
class CaseSummary:
    """What a case is, in a line: its kind and a title."""

    case_id: UUID
    kind: CaseKind
    kind_name: str
    title: str
    opened_at: datetime
    """When its first event was recorded (China time)."""


_KIND_NAMES: Mapping[str, tuple[str, str]] = {
    "dispute": ("人民调解案件", "people's mediation case"),
    "inspection": ("检查任务", "inspection"),
    "task": ("任务", "task"),
    "resident": ("居民档案", "resident record"),
    "site_shift": ("站点班次", "site shift"),
}


def describe_case(events: Sequence[GridAggregate.Event], lang: Language = "zh") -> CaseSummary:
    """Return what the case of *events* is, from its first event."""
    lang = check_language(lang)
    kind = case_kind(events)
    first = events[0]
    w = Words(lang, CaseContext())
    title = event_type(first)
    if isinstance(first, Dispute.Received):
        title = f"{w.term(first.category)}：{first.summary}" if w.zh else f"{w.term(first.category)}: {first.summary}"
    elif isinstance(first, Task.Created):
        title = first.title
        if first.place is not None:
            title += w(f"，{w.place(first.place)}", f", {w.place(first.place)}")
    elif isinstance(first, Resident.Registered):
        title = w(f"居民（网格 {w.grid(first.grid)}）", f"resident (grid {w.grid(first.grid)})")
    elif isinstance(first, SiteShift.Planned):
        title = f"{first.site.name}（{w.moment(first.planned_start)}）"
    names = _KIND_NAMES[kind]
    return CaseSummary(
        case_id=first.originator_id,
        kind=kind,
        kind_name=names[0] if lang == "zh" else names[1],
        title=title,
        opened_at=first.timestamp.astimezone(CHINA_TIME),
    )
