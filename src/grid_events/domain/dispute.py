"""PLACEHOLDER: replaced by the full Dispute aggregate."""

from __future__ import annotations

from grid_events.domain.base import GridAggregate

__all__ = ["Dispute"]


class Dispute(GridAggregate):
    """PLACEHOLDER."""

    KIND = "dispute"

    class Created(GridAggregate.Created):
        """PLACEHOLDER."""


VALUE_TYPES: tuple[type, ...] = ()
