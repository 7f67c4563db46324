"""The views half of the service: read models kept from the event stream, exactly once.

* :class:`ViewStore` (``store``): a SQLite file (the default) or a PostgreSQL schema;
* :class:`ProjectionEngine` (``engine``): applies deliveries to projections, rebuilds them;
* the projections (``projections``): task board, mediation register, site dashboards,
  resident registry, workload and daily statistics, audit trail;
* ``queries``: one read function per view, with filters and pagination, for the API.

``docs/service-design.md`` is the contract with the runtime; ``docs/views.md``
describes every view. Importing this package connects to nothing.
"""

from __future__ import annotations

from grid_service.views.base import (
    DeadLetter,
    Delivery,
    MaskedPerson,
    Masker,
    Projection,
    ProjectionContext,
    ProjectionFailed,
    ProjectionOutdatedError,
    ProjectionState,
    RebuildError,
    RunState,
    UnknownProjectionError,
    VaultMasker,
    ViewsError,
    handles,
    mask_nothing,
)
from grid_service.views.engine import ProjectionEngine
from grid_service.views.feed import deliveries_from_store, notification_deliveries
from grid_service.views.projections import PROJECTION_CLASSES, default_projections
from grid_service.views.store import Column, ColumnType, Table, Transaction, ViewStore, ViewStoreError

__all__ = [
    "PROJECTION_CLASSES",
    "Column",
    "ColumnType",
    "DeadLetter",
    "Delivery",
    "MaskedPerson",
    "Masker",
    "Projection",
    "ProjectionContext",
    "ProjectionEngine",
    "ProjectionFailed",
    "ProjectionOutdatedError",
    "ProjectionState",
    "RebuildError",
    "RunState",
    "Table",
    "Transaction",
    "UnknownProjectionError",
    "VaultMasker",
    "ViewStore",
    "ViewStoreError",
    "ViewsError",
    "default_projections",
    "deliveries_from_store",
    "handles",
    "mask_nothing",
    "notification_deliveries",
]
