"""PLACEHOLDER: replaced by the full commands on Task."""

from __future__ import annotations

from grid_events.application.core import ApplicationCore

__all__ = ["TaskCommands"]


class TaskCommands(ApplicationCore):
    """PLACEHOLDER."""
