"""The resident registry, masked: one row per resident.

Grid cell, status, care tags (and whether any marks the resident as
vulnerable), dates of moving in and out, the current home-isolation period,
and the masked name, ID number and phone (``张**``, ``330***********1234``,
``138****5678``) made by the engine's masker when the event is projected.
When the resident's personal data is erased (PIPL Art. 47) the masked values
are cleared: no view keeps anything of an erased resident's name, ID number
or phone, and a rebuild after the erasure never had them (the key is gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from grid_events import Resident, ResidentStatus, ResidentTag, SealedData
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.projections._common import (
    BOOL,
    DATE,
    GRID_COLUMNS,
    INT,
    JSON,
    TEXT,
    TS,
    col,
    grid_columns,
)
from grid_service.views.store import Table

__all__ = ["VULNERABLE_TAGS", "ResidentRegistry"]

VULNERABLE_TAGS = frozenset(
    {
        ResidentTag.ELDERLY_LIVING_ALONE.value,
        ResidentTag.DISABLED.value,
        ResidentTag.MINOR_UNDER_14.value,
        ResidentTag.NEEDS_CARE.value,
    }
)
"""Tags that mark a resident as vulnerable (as ``Resident.is_vulnerable`` counts them)."""

RESIDENTS = Table(
    "residents",
    (
        col("resident_id", TEXT),
        col("version", INT),
        *GRID_COLUMNS,
        col("status", TEXT),
        col("tags", JSON, default=()),
        col("vulnerable", BOOL, default=False),
        col("masked_name", TEXT),
        col("masked_id_number", TEXT),
        col("masked_phone", TEXT),
        col("moved_in_on", DATE),
        col("moved_out_on", DATE),
        col("isolation_starts_on", DATE),
        col("isolation_ends_on", DATE),
        col("past_isolations", INT, default=0),
        col("registered_at", TS),
        col("erased_at", TS),
        col("updated_at", TS),
    ),
    key=("resident_id",),
    indexes=(("community", "status"), ("grid", "vulnerable")),
    prefetch=True,
)


class ResidentRegistry(Projection):
    """Residents per grid cell, personal data masked."""

    name = "resident_registry"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (RESIDENTS,)

    @handles(Resident.Registered)
    def _on_registered(self, event: Resident.Registered, ctx: ProjectionContext) -> None:
        tags = sorted(tag.value for tag in event.tags)
        ctx.put(
            "residents",
            {
                "resident_id": ctx.aggregate_id,
                "version": event.originator_version,
                **grid_columns(event.grid),
                "status": ResidentStatus.LIVING_HERE.value,
                "tags": tags,
                "vulnerable": bool(VULNERABLE_TAGS.intersection(tags)),
                **self._masked(ctx, event.personal),
                "moved_in_on": event.moved_in_on,
                "registered_at": event.timestamp,
                "updated_at": event.timestamp,
            },
        )

    @handles(Resident.PersonalDataCorrected)
    def _on_corrected(self, event: Resident.PersonalDataCorrected, ctx: ProjectionContext) -> None:
        self._change(event, ctx, **self._masked(ctx, event.personal))

    @handles(Resident.Tagged)
    def _on_tagged(self, event: Resident.Tagged, ctx: ProjectionContext) -> None:
        tags = set(self._row(ctx)["tags"]) | {event.tag.value}
        self._change(event, ctx, **_tags(tags))

    @handles(Resident.Untagged)
    def _on_untagged(self, event: Resident.Untagged, ctx: ProjectionContext) -> None:
        tags = set(self._row(ctx)["tags"]) - {event.tag.value}
        self._change(event, ctx, **_tags(tags))

    @handles(Resident.Transferred)
    def _on_transferred(self, event: Resident.Transferred, ctx: ProjectionContext) -> None:
        self._change(event, ctx, **grid_columns(event.grid))

    @handles(Resident.MovedOut)
    def _on_moved_out(self, event: Resident.MovedOut, ctx: ProjectionContext) -> None:
        self._change(event, ctx, status=ResidentStatus.MOVED_OUT.value, moved_out_on=event.moved_out_on)

    @handles(Resident.MovedIn)
    def _on_moved_in(self, event: Resident.MovedIn, ctx: ProjectionContext) -> None:
        self._change(
            event,
            ctx,
            status=ResidentStatus.LIVING_HERE.value,
            moved_in_on=event.moved_in_on,
            moved_out_on=None,
            **grid_columns(event.grid),
        )

    @handles(Resident.HomeIsolationStarted)
    def _on_isolation_started(self, event: Resident.HomeIsolationStarted, ctx: ProjectionContext) -> None:
        self._change(event, ctx, isolation_starts_on=event.starts_on, isolation_ends_on=event.ends_on)

    @handles(Resident.HomeIsolationEnded)
    def _on_isolation_ended(self, event: Resident.HomeIsolationEnded, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        past = row["past_isolations"] + (1 if row["isolation_starts_on"] is not None else 0)
        self._change(event, ctx, isolation_starts_on=None, isolation_ends_on=None, past_isolations=past)

    @handles(Resident.PersonalDataErased)
    def _on_erased(self, event: Resident.PersonalDataErased, ctx: ProjectionContext) -> None:
        self._change(
            event,
            ctx,
            status=ResidentStatus.ERASED.value,
            masked_name=None,
            masked_id_number=None,
            masked_phone=None,
            isolation_starts_on=None,
            isolation_ends_on=None,
            past_isolations=0,
            erased_at=event.timestamp,
            **_tags(set()),
        )

    # -- helpers ------------------------------------------------------------------------------------

    @staticmethod
    def _masked(ctx: ProjectionContext, sealed: SealedData) -> dict[str, str | None]:
        masked = ctx.masker(sealed)
        if masked is None:
            return {"masked_name": None, "masked_id_number": None, "masked_phone": None}
        return {"masked_name": masked.name, "masked_id_number": masked.id_number, "masked_phone": masked.phone}

    @staticmethod
    def _row(ctx: ProjectionContext) -> Mapping[str, Any]:
        resident_id = ctx.aggregate_id
        row = ctx.get("residents", resident_id)
        if row is None:
            raise LookupError(f"no resident {resident_id} in the registry (its Registered event was not projected)")
        return row

    def _change(self, event: Any, ctx: ProjectionContext, **changes: Any) -> None:  # noqa: ANN401
        row = self._row(ctx)
        if row["status"] == ResidentStatus.ERASED.value and not isinstance(event, Resident.PersonalDataErased):
            for name in ("masked_name", "masked_id_number", "masked_phone"):
                changes[name] = None
        changes["version"] = event.originator_version
        changes["updated_at"] = event.timestamp
        ctx.update("residents", ctx.aggregate_id, changes)


def _tags(tags: set[str]) -> dict[str, Any]:
    ordered = sorted(tags)
    return {"tags": ordered, "vulnerable": bool(VULNERABLE_TAGS.intersection(ordered))}
