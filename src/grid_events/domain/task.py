"""PLACEHOLDER: replaced by the full Task aggregate."""

from __future__ import annotations

from grid_events.domain.base import GridAggregate

__all__ = ["Task"]


class Task(GridAggregate):
    """PLACEHOLDER."""

    KIND = "task"

    class Created(GridAggregate.Created):
        """PLACEHOLDER."""


VALUE_TYPES: tuple[type, ...] = ()
