"""The audit trail: for every dispute and every inspection, one row per step.

Each step says which case, which version of it, when it was recorded, who
recorded it and in which role, what happened (the event's name), why (its
reason, note or summary), the other facts it records, and the evidence it
cites (references and SHA-256 digests, never the files). Personal data is
never opened here: every sealed field (a party's details, a statement, an
investigation note) reads ``"[sealed]"``. Each step also keeps its place in
the event store's log and its link hash, so an auditor can check the trail
against the store (``grid_events.audit``).

Steps are kept as recorded, so the trail "as it stood" at any moment is the
steps recorded up to then.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import attrs

from grid_events import Dispute, EvidenceRef, SealedData, Task
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.projections._common import (
    GRID_COLUMNS,
    INT,
    JSON,
    TEXT,
    TS,
    col,
    grid_columns,
)
from grid_service.views.store import Table, utc_text

__all__ = ["SEALED", "AuditTrail", "render"]

SEALED = "[sealed]"
"""What a sealed field reads in the trail."""

CASES = Table(
    "audit_cases",
    (
        col("case_id", TEXT),
        col("case_kind", TEXT),
        *GRID_COLUMNS,
        col("title", TEXT),
        col("opened_at", TS),
        col("last_step_at", TS),
        col("steps", INT, default=0),
        col("last_event", TEXT),
    ),
    key=("case_id",),
    indexes=(("case_kind", "community"), ("last_step_at",)),
    prefetch=True,
)

STEPS = Table(
    "audit_steps",
    (
        col("case_id", TEXT),
        col("version", INT),
        col("case_kind", TEXT),
        col("recorded_at", TS),
        col("actor_id", TEXT),
        col("role", TEXT),
        col("event", TEXT),
        col("reason", TEXT),
        col("details", JSON),
        col("evidence", JSON),
        col("notification_id", INT),
        col("link_hash", TEXT),
    ),
    key=("case_id", "version"),
    indexes=(("recorded_at",), ("actor_id",)),
)

_REASON_FIELDS = ("reason", "note", "summary", "description", "comment")
_SKIPPED_FIELDS = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp", "actor"})


@functools.singledispatch
def render(value: object) -> object:
    """Return *value* as JSON-ready data for the trail: sealed data reads ``"[sealed]"``, evidence is left out."""
    kind = type(value)
    if attrs.has(kind):
        return {
            field.name: render(getattr(value, field.name)) for field in attrs.fields(kind) if field.name != "evidence"
        }
    return repr(value)


@render.register
def _render_sealed(value: SealedData) -> object:  # noqa: ARG001 (never opened)
    return SEALED


@render.register
def _render_enum(value: enum.Enum) -> object:
    return render(value.value)


@render.register(type(None))
@render.register(str)
@render.register(int)
@render.register(float)
def _render_plain(value: object) -> object:
    return value


@render.register
def _render_datetime(value: datetime) -> object:
    return utc_text(value)


@render.register
def _render_date(value: date) -> object:
    return value.isoformat()


@render.register(UUID)
@render.register(Decimal)
def _render_text(value: object) -> object:
    return str(value)


@render.register
def _render_bytes(value: bytes) -> object:
    return value.hex()


@render.register
def _render_mapping(value: Mapping) -> object:  # type: ignore[type-arg]
    return {str(key): render(item) for key, item in value.items()}


@render.register(frozenset)
@render.register(set)
def _render_set(value: frozenset[object]) -> object:
    return sorted((render(item) for item in value), key=repr)


@render.register(tuple)
@render.register(list)
def _render_sequence(value: tuple[object, ...]) -> object:
    return [render(item) for item in value]


def evidence_of(value: object) -> list[dict[str, str]]:
    """Return every evidence reference inside *value* (an event's fields), in order, as JSON-ready data."""
    found: list[dict[str, str]] = []

    def walk(item: object) -> None:
        if isinstance(item, EvidenceRef):
            found.append(
                {"kind": item.kind.value, "uri": item.uri, "sha256": item.sha256, "description": item.description}
            )
        elif isinstance(item, SealedData):
            return
        elif attrs.has(kind := type(item)):
            for field in attrs.fields(kind):
                walk(getattr(item, field.name))
        elif isinstance(item, Mapping):
            for element in item.values():
                walk(element)
        elif isinstance(item, tuple | list):
            for element in item:
                walk(element)

    walk(value)
    return found


def _events_of(aggregate: type, *, exclude: tuple[type, ...] = ()) -> tuple[type, ...]:
    """Return the event classes defined in *aggregate* (not its base ``Event`` class, nor *exclude*)."""
    base: type = aggregate.Event  # type: ignore[attr-defined]
    return tuple(
        value
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, base) and name != "Event" and value not in exclude
    )


_TASK_EVENTS = _events_of(Task, exclude=(Task.CallRecorded,))
"""Every task event but survey calls (never on an inspection): the steps of an inspection."""
_DISPUTE_EVENTS = _events_of(Dispute)
"""Every dispute event: the steps of a mediation."""


class AuditTrail(Projection):
    """Every step of every mediation and inspection, without personal data."""

    name = "audit_trail"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (CASES, STEPS)

    @handles(*_DISPUTE_EVENTS)
    def _on_dispute_step(self, event: Any, ctx: ProjectionContext) -> None:  # noqa: ANN401 (any dispute event)
        if isinstance(event, Dispute.Received):
            self._open_case(event, ctx, "dispute", event.grid, event.category.value)
        self._step(event, ctx, "dispute")

    @handles(*_TASK_EVENTS)
    def _on_task_step(self, event: Any, ctx: ProjectionContext) -> None:  # noqa: ANN401 (any task event)
        if isinstance(event, Task.Created):
            if not event.checklist:
                return
            self._open_case(event, ctx, "inspection", event.grid, event.title)
        elif ctx.get("audit_cases", ctx.aggregate_id) is None:
            return  # not an inspection
        self._step(event, ctx, "inspection")

    @staticmethod
    def _open_case(event: Any, ctx: ProjectionContext, kind: str, grid: Any, title: str) -> None:  # noqa: ANN401
        ctx.put(
            "audit_cases",
            {
                "case_id": ctx.aggregate_id,
                "case_kind": kind,
                **grid_columns(grid),
                "title": title,
                "opened_at": event.timestamp,
            },
        )

    @staticmethod
    def _step(event: Any, ctx: ProjectionContext, kind: str) -> None:  # noqa: ANN401
        fields = {name: value for name, value in vars(event).items() if name not in _SKIPPED_FIELDS}
        reason = next((fields[name] for name in _REASON_FIELDS if isinstance(fields.get(name), str)), "")
        details = {name: render(value) for name, value in sorted(fields.items()) if name != "evidence"}
        message = ctx.message
        case_id = ctx.aggregate_id
        name = type(event).__qualname__
        ctx.put(
            "audit_steps",
            {
                "case_id": case_id,
                "version": event.originator_version,
                "case_kind": kind,
                "recorded_at": event.timestamp,
                "actor_id": event.actor.worker_id,
                "role": event.actor.role.value,
                "event": name,
                "reason": reason,
                "details": details,
                "evidence": evidence_of(fields),
                "notification_id": message.notification_id,
                "link_hash": message.link_hash.hex(),
            },
        )
        case = ctx.get("audit_cases", case_id)
        if case is None:
            raise LookupError(f"no case {case_id} in the audit trail (its first event was not projected)")
        ctx.update("audit_cases", case_id, last_step_at=event.timestamp, steps=case["steps"] + 1, last_event=name)
