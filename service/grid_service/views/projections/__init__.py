"""The projections of the service, one module per view family.

* :class:`TaskBoard` (``task_board``): tasks, inspections and their findings;
* :class:`MediationRegister` (``mediation_register``): the mediation register (台账);
* :class:`SiteDashboard` (``site_dashboard``): shifts, people on site, batches, supplies;
* :class:`ResidentRegistry` (``resident_registry``): residents, personal data masked;
* :class:`Statistics` (``statistics``): workload per worker, daily statistics per community;
* :class:`AuditTrail` (``audit_trail``): every step of every mediation and inspection.

``docs/views.md`` describes each table.
"""

from __future__ import annotations

from grid_service.views.base import Projection
from grid_service.views.projections.audit_trail import AuditTrail
from grid_service.views.projections.mediation import MediationRegister
from grid_service.views.projections.residents import ResidentRegistry
from grid_service.views.projections.sites import SiteDashboard
from grid_service.views.projections.statistics import Statistics
from grid_service.views.projections.tasks import TaskBoard

__all__ = [
    "PROJECTION_CLASSES",
    "AuditTrail",
    "MediationRegister",
    "ResidentRegistry",
    "SiteDashboard",
    "Statistics",
    "TaskBoard",
    "default_projections",
]

PROJECTION_CLASSES: tuple[type[Projection], ...] = (
    TaskBoard,
    MediationRegister,
    SiteDashboard,
    ResidentRegistry,
    Statistics,
    AuditTrail,
)
"""Every projection of the service, in the order the API lists them."""


def default_projections() -> list[Projection]:
    """Return one instance of every projection of the service."""
    return [cls() for cls in PROJECTION_CLASSES]
