"""PLACEHOLDER: replaced by the full commands on Dispute."""

from __future__ import annotations

from grid_events.application.core import ApplicationCore

__all__ = ["DisputeCommands"]


class DisputeCommands(ApplicationCore):
    """PLACEHOLDER."""
