"""PLACEHOLDER: replaced by the full SiteShift aggregate."""

from __future__ import annotations

from grid_events.domain.base import GridAggregate

__all__ = ["SiteShift"]


class SiteShift(GridAggregate):
    """PLACEHOLDER."""

    KIND = "site_shift"

    class Created(GridAggregate.Created):
        """PLACEHOLDER."""


VALUE_TYPES: tuple[type, ...] = ()
