"""GridApplication: every command and query of the four aggregates, in one application."""

from __future__ import annotations

from typing import Any, ClassVar

from grid_events.application.core import project
from grid_events.application.disputes import DisputeCommands
from grid_events.application.privacy import PrivacyCommands
from grid_events.application.residents import ResidentCommands, ResidentRecord
from grid_events.application.sites import SiteShiftCommands
from grid_events.application.tasks import TaskCommands
from grid_events.domain.dispute import Dispute
from grid_events.domain.resident import Resident
from grid_events.domain.site_shift import SiteShift
from grid_events.domain.task import Task
from grid_events.privacy.access import DataSubject

__all__ = ["GridApplication", "ResidentRecord"]


class GridApplication(ResidentCommands, TaskCommands, DisputeCommands, SiteShiftCommands, PrivacyCommands):
    """The community office's application: residents, tasks, disputes and site shifts.

    Open it on a store (SQLite by default, see :class:`~grid_events.config.StoreConfig`),
    run commands, and close it::

        with GridApplication(StoreConfig.sqlite("office.sqlite3")) as app:
            resident_id = app.register_resident(personal, grid, actor=worker)

    Every command and query first checks that its ``actor`` holds the right it
    needs (see :mod:`grid_events.privacy.permissions`), then its arguments and
    the aggregate's state, and raises a typed error (see
    :mod:`grid_events.exceptions`) before anything is stored; each successful
    command stores its events in one transaction. Personal data is shown masked
    unless asked for in full, and every look in full is recorded.
    """

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Resident: 50,
        Task: 50,
        Dispute: 50,
        SiteShift: 100,
        DataSubject: 100,
    }
    snapshotting_projectors: ClassVar[dict[type[Any], Any]] = dict.fromkeys(snapshotting_intervals, project)
