"""Site dashboards: one row per shift, with who is on site, its batches and its supplies.

The shift row carries the counts a supervisor watches (people on site, the
tally, batches sealed, dispatched, received, sealed but not yet dispatched,
dispatched but not yet received, supplies running low); the child tables hold
the people on site now (kind and role), every batch, and every supply item
with its low flag. Whether a sealed batch is late (sealed more than 30 minutes
ago and not dispatched) depends on *now*: the queries work it out.
Individual sample records are sealed personal data: only their count is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from grid_events import BatchStatus, PersonKind, ShiftStatus, SiteShift
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.projections._common import (
    BOOL,
    GRID_COLUMNS,
    INT,
    TEXT,
    TS,
    col,
    grid_columns,
)
from grid_service.views.store import Table

__all__ = ["BATCH_INTERVAL_MINUTES", "SiteDashboard"]

BATCH_INTERVAL_MINUTES = 30
"""A batch sealed longer ago than this and not yet dispatched is late."""

SHIFTS = Table(
    "shifts",
    (
        col("shift_id", TEXT),
        col("version", INT),
        col("site_id", TEXT),
        col("site_name", TEXT),
        col("site_kind", TEXT),
        *GRID_COLUMNS,
        col("address", TEXT),
        col("status", TEXT),
        col("lead_id", TEXT),
        col("planned_start", TS),
        col("planned_end", TS),
        col("opened_at", TS),
        col("closed_at", TS),
        col("cordon_set_up", BOOL, default=False),
        col("disinfected", BOOL, default=False),
        col("tally", INT, default=0),
        col("final_tally", INT),
        col("samples_recorded", INT, default=0),
        col("people_on_site", INT, default=0),
        col("workers_on_site", INT, default=0),
        col("volunteers_on_site", INT, default=0),
        col("batches_sealed", INT, default=0),
        col("batches_dispatched", INT, default=0),
        col("batches_received", INT, default=0),
        col("batches_undispatched", INT, default=0),
        col("batches_in_transit", INT, default=0),
        col("tubes_sealed", INT, default=0),
        col("tubes_received", INT, default=0),
        col("tube_discrepancy", INT, default=0),
        col("last_sealed_at", TS),
        col("oldest_undispatched_at", TS),
        col("low_supplies", INT, default=0),
        col("updated_at", TS),
    ),
    key=("shift_id",),
    indexes=(("community", "status"), ("grid", "status"), ("status", "oldest_undispatched_at")),
    prefetch=True,
)

PEOPLE = Table(
    "shift_people",
    (
        col("shift_id", TEXT),
        col("person_id", TEXT),
        col("kind", TEXT),
        col("role", TEXT),
        col("checked_in_at", TS),
    ),
    key=("shift_id", "person_id"),
    prefetch=True,
)

BATCHES = Table(
    "shift_batches",
    (
        col("shift_id", TEXT),
        col("batch_no", TEXT),
        col("tube_count", INT),
        col("status", TEXT),
        col("sealed_at", TS),
        col("carrier", TEXT),
        col("dispatched_at", TS),
        col("lab", TEXT),
        col("received_at", TS),
        col("tubes_received", INT),
    ),
    key=("shift_id", "batch_no"),
    indexes=(("status", "sealed_at"),),
    prefetch=True,
)

SUPPLIES = Table(
    "shift_supplies",
    (
        col("shift_id", TEXT),
        col("item", TEXT),
        col("quantity", INT, default=0),
        col("low_threshold", INT),
        col("low", BOOL, default=False),
        col("discrepancy", INT, default=0),
    ),
    key=("shift_id", "item"),
    prefetch=True,
)


def _is_low(quantity: int, threshold: int | None) -> bool:
    return threshold is not None and quantity <= threshold


class SiteDashboard(Projection):
    """One row per shift, with people on site, batches and supplies."""

    name = "site_dashboard"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (SHIFTS, PEOPLE, BATCHES, SUPPLIES)

    @handles(SiteShift.Planned)
    def _on_planned(self, event: SiteShift.Planned, ctx: ProjectionContext) -> None:
        site = event.site
        ctx.put(
            "shifts",
            {
                "shift_id": ctx.aggregate_id,
                "version": event.originator_version,
                "site_id": site.site_id,
                "site_name": site.name,
                "site_kind": site.kind.value,
                **grid_columns(site.grid),
                "address": site.address,
                "status": ShiftStatus.PLANNED.value,
                "lead_id": event.lead_id,
                "planned_start": event.planned_start,
                "planned_end": event.planned_end,
                "updated_at": event.timestamp,
            },
        )

    @handles(SiteShift.Opened)
    def _on_opened(self, event: SiteShift.Opened, ctx: ProjectionContext) -> None:
        shift_id = ctx.aggregate_id
        for item in sorted(set(event.supplies) | set(event.low_thresholds)):
            quantity = event.supplies.get(item, 0)
            threshold = event.low_thresholds.get(item)
            ctx.put(
                "shift_supplies",
                {
                    "shift_id": shift_id,
                    "item": item,
                    "quantity": quantity,
                    "low_threshold": threshold,
                    "low": _is_low(quantity, threshold),
                },
            )
        self._change(
            event,
            ctx,
            status=ShiftStatus.OPEN.value,
            opened_at=event.opened_at,
            cordon_set_up=event.cordon_set_up,
            disinfected=event.disinfected,
            low_supplies=self._low_count(ctx, shift_id),
        )

    @handles(SiteShift.Cancelled)
    def _on_cancelled(self, event: SiteShift.Cancelled, ctx: ProjectionContext) -> None:
        self._change(event, ctx, status=ShiftStatus.CANCELLED.value)

    @handles(SiteShift.HandedOver)
    def _on_handed_over(self, event: SiteShift.HandedOver, ctx: ProjectionContext) -> None:
        self._change(event, ctx, lead_id=event.to_lead_id)

    @handles(SiteShift.Closed)
    def _on_closed(self, event: SiteShift.Closed, ctx: ProjectionContext) -> None:
        self._change(
            event, ctx, status=ShiftStatus.CLOSED.value, closed_at=event.closed_at, final_tally=event.final_tally
        )

    # -- people ------------------------------------------------------------------------------------

    @handles(SiteShift.PersonCheckedIn)
    def _on_checked_in(self, event: SiteShift.PersonCheckedIn, ctx: ProjectionContext) -> None:
        shift_id = ctx.aggregate_id
        ctx.put(
            "shift_people",
            {
                "shift_id": shift_id,
                "person_id": event.person_id,
                "kind": event.kind.value,
                "role": event.role.value,
                "checked_in_at": event.checked_in_at,
            },
        )
        self._people_changed(event, ctx)

    @handles(SiteShift.PersonCheckedOut)
    def _on_checked_out(self, event: SiteShift.PersonCheckedOut, ctx: ProjectionContext) -> None:
        ctx.delete("shift_people", (ctx.aggregate_id, event.person_id))
        self._people_changed(event, ctx)

    def _people_changed(self, event: Any, ctx: ProjectionContext) -> None:  # noqa: ANN401 (a shift event)
        people = ctx.select("shift_people", ctx.aggregate_id)
        volunteers = sum(row["kind"] == PersonKind.VOLUNTEER.value for row in people)
        self._change(
            event,
            ctx,
            people_on_site=len(people),
            volunteers_on_site=volunteers,
            workers_on_site=len(people) - volunteers,
        )

    # -- supplies ------------------------------------------------------------------------------------

    @handles(SiteShift.SuppliesCounted)
    def _on_supplies_counted(self, event: SiteShift.SuppliesCounted, ctx: ProjectionContext) -> None:
        supply = self._supply(ctx, event.item)
        discrepancy = supply["discrepancy"] + event.counted - event.expected
        self._set_supply(event, ctx, supply, event.counted, discrepancy=discrepancy)

    @handles(SiteShift.SuppliesUsed)
    def _on_supplies_used(self, event: SiteShift.SuppliesUsed, ctx: ProjectionContext) -> None:
        supply = self._supply(ctx, event.item)
        self._set_supply(event, ctx, supply, supply["quantity"] - event.quantity)

    @handles(SiteShift.SuppliesRestocked)
    def _on_supplies_restocked(self, event: SiteShift.SuppliesRestocked, ctx: ProjectionContext) -> None:
        supply = self._supply(ctx, event.item)
        self._set_supply(event, ctx, supply, supply["quantity"] + event.quantity)

    @staticmethod
    def _supply(ctx: ProjectionContext, item: str) -> Mapping[str, Any]:
        shift_id = ctx.aggregate_id
        row = ctx.get("shift_supplies", (shift_id, item))
        if row is None:
            row = ctx.put("shift_supplies", {"shift_id": shift_id, "item": item})
        return row

    def _set_supply(
        self,
        event: Any,  # noqa: ANN401
        ctx: ProjectionContext,
        supply: Mapping[str, Any],
        quantity: int,
        **changes: Any,  # noqa: ANN401
    ) -> None:
        shift_id = ctx.aggregate_id
        low = _is_low(quantity, supply["low_threshold"])
        ctx.update("shift_supplies", (shift_id, supply["item"]), quantity=quantity, low=low, **changes)
        self._change(event, ctx, low_supplies=self._low_count(ctx, shift_id))

    @staticmethod
    def _low_count(ctx: ProjectionContext, shift_id: str) -> int:
        return sum(bool(row["low"]) for row in ctx.select("shift_supplies", shift_id))

    # -- sampling and batches ----------------------------------------------------------------------------

    @handles(SiteShift.PeopleSampled)
    def _on_people_sampled(self, event: SiteShift.PeopleSampled, ctx: ProjectionContext) -> None:
        self._change(event, ctx, tally=self._row(ctx)["tally"] + event.count)

    @handles(SiteShift.SampleRecorded)
    def _on_sample_recorded(self, event: SiteShift.SampleRecorded, ctx: ProjectionContext) -> None:
        self._change(event, ctx, samples_recorded=self._row(ctx)["samples_recorded"] + 1)

    @handles(SiteShift.BatchSealed)
    def _on_batch_sealed(self, event: SiteShift.BatchSealed, ctx: ProjectionContext) -> None:
        batch = event.batch
        ctx.put(
            "shift_batches",
            {
                "shift_id": ctx.aggregate_id,
                "batch_no": batch.batch_no,
                "tube_count": batch.tube_count,
                "status": BatchStatus.SEALED.value,
                "sealed_at": batch.sealed_at,
            },
        )
        self._batches_changed(event, ctx)

    @handles(SiteShift.BatchDispatched)
    def _on_batch_dispatched(self, event: SiteShift.BatchDispatched, ctx: ProjectionContext) -> None:
        ctx.update(
            "shift_batches",
            (ctx.aggregate_id, event.batch_no),
            status=BatchStatus.DISPATCHED.value,
            carrier=event.carrier,
            dispatched_at=event.dispatched_at,
        )
        self._batches_changed(event, ctx)

    @handles(SiteShift.BatchReceived)
    def _on_batch_received(self, event: SiteShift.BatchReceived, ctx: ProjectionContext) -> None:
        ctx.update(
            "shift_batches",
            (ctx.aggregate_id, event.batch_no),
            status=BatchStatus.RECEIVED.value,
            lab=event.lab,
            received_at=event.received_at,
            tubes_received=event.tubes_received,
        )
        self._batches_changed(event, ctx)

    def _batches_changed(self, event: Any, ctx: ProjectionContext) -> None:  # noqa: ANN401
        batches = ctx.select("shift_batches", ctx.aggregate_id)
        sealed = [row for row in batches if row["status"] == BatchStatus.SEALED.value]
        received = [row for row in batches if row["status"] == BatchStatus.RECEIVED.value]
        self._change(
            event,
            ctx,
            batches_sealed=len(batches),
            batches_dispatched=len(batches) - len(sealed),
            batches_received=len(received),
            batches_undispatched=len(sealed),
            batches_in_transit=len(batches) - len(sealed) - len(received),
            tubes_sealed=sum(row["tube_count"] for row in batches),
            tubes_received=sum(row["tubes_received"] for row in received),
            tube_discrepancy=sum(row["tubes_received"] - row["tube_count"] for row in received),
            last_sealed_at=max((row["sealed_at"] for row in batches), default=None),
            oldest_undispatched_at=min((row["sealed_at"] for row in sealed), default=None),
        )

    # -- helpers ----------------------------------------------------------------------------------------

    @staticmethod
    def _row(ctx: ProjectionContext) -> Mapping[str, Any]:
        shift_id = ctx.aggregate_id
        row = ctx.get("shifts", shift_id)
        if row is None:
            raise LookupError(f"no shift {shift_id} on the dashboard (its Planned event was not projected)")
        return row

    def _change(self, event: Any, ctx: ProjectionContext, **changes: Any) -> None:  # noqa: ANN401
        changes["version"] = event.originator_version
        changes["updated_at"] = event.timestamp
        ctx.update("shifts", ctx.aggregate_id, changes)
