"""PLACEHOLDER: replaced by the full commands on SiteShift."""

from __future__ import annotations

from grid_events.application.core import ApplicationCore

__all__ = ["SiteShiftCommands"]


class SiteShiftCommands(ApplicationCore):
    """PLACEHOLDER."""
