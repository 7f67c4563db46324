"""Replay a case as it stood at any moment: by version or by time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError as ESAggregateNotFoundError
from eventsourcing.application import Application

from grid_events.application.core import project
from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import check_aware
from grid_events.exceptions import AggregateNotFoundError, ValidationError

__all__ = ["aggregate_as_of", "history"]


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
