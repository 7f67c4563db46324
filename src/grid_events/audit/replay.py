"""Replay a case as it stood at any moment (by version or by time), and find the cases in a store."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import AggregateNotFoundError as ESAggregateNotFoundError
from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from grid_events.application.core import project
from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import check_aware
from grid_events.domain.dispute import Dispute
from grid_events.domain.resident import Resident
from grid_events.domain.site_shift import SiteShift
from grid_events.domain.task import Task
from grid_events.exceptions import AggregateNotFoundError, ValidationError

__all__ = ["CASE_KINDS", "CaseRef", "aggregate_as_of", "find_case", "history", "list_cases", "replay"]


def history(app: Application[UUID], aggregate_id: UUID) -> list[GridAggregate.Event]:
    """Return every event of one aggregate, oldest first (personal data still sealed)."""
    events = [event for event in app.events.get(aggregate_id) if isinstance(event, GridAggregate.Event)]
    if not events:
        raise AggregateNotFoundError("case", aggregate_id)
    return events


def aggregate_as_of(
    app: Application[UUID],
    aggregate_id: UUID,
    *,
    at: datetime | None = None,
    version: int | None = None,
) -> Any:  # noqa: ANN401 (whichever aggregate the id names)
    """Return the aggregate as it stood at time *at*, or after event *version*.

    Raises :class:`AggregateNotFoundError` if the aggregate did not exist yet
    at that moment, and :class:`ValidationError` if neither or both of *at*
    and *version* are given.
    """
    if (at is None) == (version is None):
        raise ValidationError("at", "give exactly one of a time (at) or a version")
    if at is not None:
        check_aware("at", at)
        versions = [event.originator_version for event in history(app, aggregate_id) if event.timestamp <= at]
        if not versions:
            raise AggregateNotFoundError("case (at that time)", aggregate_id)
        version = versions[-1]
    if version is not None and version < 1:
        raise ValidationError("version", f"must be 1 or more, not {version}")
    try:
        return app.repository.get(aggregate_id, version=version, projector_func=project)
    except ESAggregateNotFoundError:
        raise AggregateNotFoundError("case", aggregate_id) from None


def replay(
    events: Sequence[GridAggregate.Event],
    *,
    at: datetime | None = None,
    version: int | None = None,
) -> Any:  # noqa: ANN401 (whichever aggregate the events are of)
    """Fold a case's *events* (from :func:`history`) into the aggregate as it stood then; no snapshot is read.

    Every value of the result comes from the events themselves, the ones
    :func:`~grid_events.audit.verify.verify_aggregate` vouches for, never from
    a snapshot (derived data outside the hash chain). With *at*, the case as
    it stood at that moment (after the last event recorded at or before it);
    with *version*, right after that event; with neither, as it is now.

    Raises :class:`AggregateNotFoundError` if the case did not exist yet at
    *at*, and :class:`ValidationError` for a version it never had or a history
    with a version missing (verify the store: events were removed).
    """
    if at is not None and version is not None:
        raise ValidationError("at", "give at most one of a time (at) or a version")
    if not events:
        raise ValidationError("events", "an empty history is no case")
    if at is not None:
        check_aware("at", at)
        versions = [event.originator_version for event in events if event.timestamp <= at]
        if not versions:
            raise AggregateNotFoundError("case (at that time)", events[0].originator_id)
        version = versions[-1]
    last = events[-1].originator_version
    if version is not None and not 1 <= version <= last:
        raise ValidationError("version", f"the case has versions 1 to {last}, not {version}")
    chosen = [event for event in events if version is None or event.originator_version <= version]
    for expected, event in enumerate(chosen, 1):
        if event.originator_version != expected:
            raise ValidationError(
                "events",
                f"version {event.originator_version} follows version {expected - 1}: the history is not whole "
                "(verify the store)",
            )
    return project(None, chosen)


# -- finding cases ---------------------------------------------------------------------------------------

CaseKindName = str
"""``dispute``, ``inspection``, ``task``, ``resident`` or ``site_shift``."""

CASE_KINDS: tuple[CaseKindName, ...] = ("dispute", "inspection", "task", "resident", "site_shift")
"""Every kind of case :func:`list_cases` can find."""

_CREATION_EVENTS: tuple[type[GridAggregate.Event], ...] = (
    Dispute.Received,
    Task.Created,
    Resident.Registered,
    SiteShift.Planned,
)
_PAGE = 1000
_MIN_PREFIX = 4


@attrs.frozen
class CaseRef:
    """A case found in the store: its id, its kind and its first event (personal data still sealed)."""

    case_id: UUID
    kind: CaseKindName
    first_event: GridAggregate.Event
    notification_id: int
    """The first event's position in the store's log."""


def _kind_of(event: GridAggregate.Event) -> CaseKindName:
    if isinstance(event, Task.Created):
        return "inspection" if event.checklist else "task"
    if isinstance(event, Dispute.Received):
        return "dispute"
    if isinstance(event, Resident.Registered):
        return "resident"
    return "site_shift"


def list_cases(
    app: Application[UUID], kinds: Collection[CaseKindName] = ("dispute", "inspection")
) -> Iterator[CaseRef]:
    """Yield the cases of *kinds* in the store, in the order they were opened.

    Reads only the first event of each aggregate, from the store's log (no
    query of the application). *kinds* are among :data:`CASE_KINDS`.
    """
    unknown = set(kinds) - set(CASE_KINDS)
    if unknown:
        raise ValidationError("kinds", f"{', '.join(sorted(unknown))}: not kinds of case ({', '.join(CASE_KINDS)})")
    classes = [
        event_class
        for event_class in _CREATION_EVENTS
        if (event_class is Task.Created and {"task", "inspection"} & set(kinds))
        or (event_class is not Task.Created and _kind_of_class(event_class) in kinds)
    ]
    topics = [get_topic(event_class) for event_class in classes]
    if not topics:
        return
    last = 0
    while True:
        page = app.recorder.select_notifications(last, _PAGE, topics=topics, inclusive_of_start=False)
        if not page:
            return
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if not isinstance(event, GridAggregate.Event):
                continue
            kind = _kind_of(event)
            if kind in kinds:
                yield CaseRef(
                    case_id=event.originator_id, kind=kind, first_event=event, notification_id=notification.id
                )
        last = page[-1].id


def _kind_of_class(event_class: type[GridAggregate.Event]) -> CaseKindName:
    names: dict[type[GridAggregate.Event], CaseKindName] = {
        Dispute.Received: "dispute",
        Resident.Registered: "resident",
        SiteShift.Planned: "site_shift",
    }
    return names.get(event_class, "task")


def find_case(app: Application[UUID], text: str) -> UUID:
    """Return the id of the case *text* names: a whole id, or the start of one (at least 4 characters).

    Raises :class:`AggregateNotFoundError` if no case matches and
    :class:`ValidationError` if the text is no id, or the start of several.
    """
    cleaned = text.strip().lower()
    with contextlib.suppress(ValueError):
        return UUID(cleaned)  # a whole id
    prefix = cleaned.replace("-", "")
    if len(prefix) < _MIN_PREFIX or any(character not in "0123456789abcdef" for character in prefix):
        raise ValidationError("case_id", f"{text!r} is not a case id (a UUID, or at least its first 4 hex digits)")
    matches = [ref.case_id for ref in list_cases(app, CASE_KINDS) if ref.case_id.hex.startswith(prefix)]
    if not matches:
        raise AggregateNotFoundError("case", text)
    if len(matches) > 1:
        shown = ", ".join(str(match) for match in matches[:5])
        raise ValidationError(
            "case_id", f"{text!r} is the start of {len(matches)} case ids ({shown}…): give more of it"
        )
    return matches[0]
