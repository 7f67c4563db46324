"""Helpers for the views tests: deliveries as the relay publishes them, engines, replayed aggregates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from grid_events import EventMapper, GridApplication, MsgpackTranscoder
from grid_events.transport import decode_message
from grid_events.transport.wire import encode_notification
from grid_service.scenario import DaySummary, SimulatedClock
from grid_service.views import Delivery, Projection, ProjectionEngine, VaultMasker, ViewStore, default_projections


@attrs.frozen
class Day:
    """A recorded day: the application (its vault opens the sealed data), what happened, every delivery."""

    app: GridApplication
    summary: DaySummary
    deliveries: list[Delivery]
    clock: SimulatedClock


@attrs.frozen
class Tours:
    """The tours of ``histories``: the application, the ids of their cases by tour and name, every delivery."""

    app: GridApplication
    ids: dict[str, dict[str, UUID]]
    deliveries: list[Delivery]
    now: datetime
    """The clock's time when the tours ended."""


def deliveries_of(app: GridApplication, *, after: int = 0) -> list[Delivery]:
    """Return every event of *app*'s store as delivered from the stream: the relay's own message, decoded.

    The k-th notification is stream sequence k, as the relay publishes it; the
    message is built by the relay's encoder and checked by the consumer's decoder.
    """
    notifications = app.recorder.select_notifications(None, 1_000_000)
    deliveries = []
    for sequence, notification in enumerate(notifications, start=1):
        if sequence <= after:
            continue
        outbound = encode_notification(notification)
        message = decode_message(outbound.headers, outbound.payload, subject=outbound.subject, stream_sequence=sequence)
        deliveries.append(Delivery(sequence, message))
    return deliveries


def engine_for(
    store: ViewStore, app: GridApplication, projections: Sequence[Projection] | None = None
) -> ProjectionEngine:
    """Return an engine on *store* with *projections* (default: all), masking with *app*'s vault."""
    return ProjectionEngine(
        store, list(projections) if projections is not None else default_projections(), VaultMasker(app.vault.open)
    )


def apply_in_batches(engine: ProjectionEngine, deliveries: Sequence[Delivery], size: int = 500) -> None:
    """Apply *deliveries* to every projection of *engine*, *size* at a time."""
    for name in engine.names:
        for start in range(0, len(deliveries), size):
            engine.apply(name, deliveries[start : start + size])


def aggregates(deliveries: Iterable[Delivery]) -> dict[UUID, Any]:
    """Return every aggregate as its events leave it (replayed from the deliveries, no application query)."""
    mapper = EventMapper(MsgpackTranscoder())
    found: dict[UUID, Any] = {}
    for delivery in deliveries:
        event: Any = mapper.to_domain_event(delivery.message.stored_event())
        found[delivery.message.aggregate_id] = event.mutate(found.get(delivery.message.aggregate_id))
    return found


def all_stored_text(store: ViewStore) -> str:
    """Return every value of every table of the view store, as text (to search it for personal data)."""
    with store.read() as tx:
        if tx.backend == "sqlite":
            names = [row[0] for row in tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            names = [
                row[0]
                for row in tx.fetchall(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (store.schema,)
                )
            ]
        parts: list[str] = []
        for name in names:
            for row in tx.fetchall(f"SELECT * FROM {name}"):  # noqa: S608 (table names from the catalogue)
                parts.extend(repr(value) if isinstance(value, bytes | memoryview) else str(value) for value in row)
    return "\n".join(parts)
