"""Helpers the projections share: column types, China dates, grid columns, counters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from grid_events import GridCell
from grid_service.views.base import ProjectionContext
from grid_service.views.store import Column, ColumnType

__all__ = [
    "BOOL",
    "CHINA_TIME",
    "DATE",
    "INT",
    "JSON",
    "TEXT",
    "TS",
    "GridEvent",
    "aggregate_id",
    "bump",
    "china_date",
    "col",
    "grid_columns",
    "grid_of_row",
]

TEXT = ColumnType.TEXT
INT = ColumnType.INT
BOOL = ColumnType.BOOL
TS = ColumnType.TIMESTAMP
DATE = ColumnType.DATE
JSON = ColumnType.JSON

CHINA_TIME = timezone(timedelta(hours=8), "UTC+08:00")
"""China Standard Time: the calendar the views count days in."""

GridEvent = Any
"""A decoded event of one of the four aggregates (typed per handler)."""


def col(name: str, kind: ColumnType, default: object = None) -> Column:
    """Return a column."""
    return Column(name, kind, default)


def china_date(moment: datetime) -> date:
    """Return the date in China (UTC+8) of the aware datetime *moment*."""
    return moment.astimezone(CHINA_TIME).date()


def aggregate_id(event: GridEvent) -> str:
    """Return the id of the aggregate *event* belongs to, as text."""
    return str(event.originator_id)


GRID_COLUMNS = (col("sub_district", TEXT), col("community", TEXT), col("grid", TEXT))
"""Where something is: sub-district (街道), community (社区) and the grid cell's code (``江南/飞凤/03``)."""


def grid_columns(grid: GridCell) -> dict[str, str]:
    """Return the values of :data:`GRID_COLUMNS` for *grid*."""
    return {"sub_district": grid.sub_district, "community": grid.community, "grid": grid.code}


def grid_of_row(row: Mapping[str, Any]) -> tuple[str, str]:
    """Return (sub-district, community) of a row with grid columns."""
    return str(row["sub_district"]), str(row["community"])


def bump(ctx: ProjectionContext, table: str, key: Mapping[str, Any], **deltas: int) -> None:
    """Add *deltas* to counters of the row of the table of counters *table* with *key* (its columns, in order)."""
    ctx.add(table, tuple(key.values()), **deltas)
