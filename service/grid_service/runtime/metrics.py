"""Prometheus metrics of the service: per view lag, throughput, dead letters and batch times; the relay's.

Each service has a registry of its own (two services in one process, as in the
tests, do not collide). Counters and the histogram are updated as batches
are applied; gauges are read from the consumers' and the relay's status when
Prometheus scrapes ``/metrics``, so they are never stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from grid_events.transport import RelayState, RelayStatus

if TYPE_CHECKING:
    from grid_service.runtime.consumer import ProjectionStatus

__all__ = ["CONTENT_TYPE", "ServiceMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text format's media type."""

_BATCH_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_VIEW_STATES = ("starting", "running", "stopped", "rebuilding")


class ServiceMetrics:
    """The service's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.applied = Counter(
            "grid_views_events_applied",
            "Events applied to each view (redeliveries skipped are not counted).",
            ["projection"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "grid_views_dead_letters",
            "Messages each view recorded as dead letters since the service started, by kind "
            "(wire: unreadable message, decode: unknown event, project: the projection failed).",
            ["projection", "kind"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "grid_views_batch_apply_seconds",
            "Time to apply one batch to a view and commit it.",
            ["projection"],
            buckets=_BATCH_SECONDS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "grid_views_batch_size",
            "Messages in each batch applied to a view.",
            ["projection"],
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500),
            registry=self.registry,
        )
        self._status = _StatusCollector()
        self.registry.register(self._status)

    def watch(
        self,
        views: Callable[[], Iterable[ProjectionStatus]],
        *,
        nats_connected: Callable[[], bool],
        relay: Callable[[], RelayStatus | None] | None = None,
    ) -> None:
        """Read gauges from *views*, *nats_connected* and (if in-process) *relay* at each scrape."""
        self._status.views = views
        self._status.nats_connected = nats_connected
        self._status.relay = relay

    def observe_batch(self, projection: str, seconds: float, size: int) -> None:
        """Record that a batch of *size* messages took *seconds* to apply to *projection*."""
        self.batch_seconds.labels(projection).observe(seconds)
        self.batch_size.labels(projection).observe(size)

    def count_applied(self, projection: str, applied: int) -> None:
        """Add *applied* events to *projection*'s count."""
        if applied:
            self.applied.labels(projection).inc(applied)

    def count_dead_letter(self, projection: str, kind: str) -> None:
        """Count one dead letter of *projection*."""
        self.dead_letters.labels(projection, kind).inc()

    def exposition(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        return generate_latest(self.registry)


class _StatusCollector(Collector):
    """Gauges read from live status objects at scrape time."""

    def __init__(self) -> None:
        self.views: Callable[[], Iterable[ProjectionStatus]] = list
        self.nats_connected: Callable[[], bool] = lambda: False
        self.relay: Callable[[], RelayStatus | None] | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        views = list(self.views())
        position = GaugeMetricFamily(
            "grid_views_position", "The last stream sequence applied to each view.", labels=["projection"]
        )
        stream_end = GaugeMetricFamily(
            "grid_views_stream_last_sequence",
            "The stream's last sequence as each view last saw it.",
            labels=["projection"],
        )
        lag = GaugeMetricFamily(
            "grid_views_lag", "Messages in the stream not yet applied to each view.", labels=["projection"]
        )
        state = GaugeMetricFamily(
            "grid_views_state", "1 for the state each view is in.", labels=["projection", "state"]
        )
        consuming = GaugeMetricFamily(
            "grid_views_consuming", "1 while a view's consumer is bound and fetching.", labels=["projection"]
        )
        recorded = GaugeMetricFamily(
            "grid_views_dead_letters_recorded",
            "Dead letters recorded by each view since the service started.",
            labels=["projection"],
        )
        retries = GaugeMetricFamily(
            "grid_views_retries", "Attempts repeated after a failure, since start.", labels=["projection"]
        )
        duplicates = GaugeMetricFamily(
            "grid_views_redeliveries_skipped",
            "Redelivered messages acknowledged without applying them again.",
            labels=["projection"],
        )
        for view in views:
            position.add_metric([view.name], view.position)
            stream_end.add_metric([view.name], view.stream_last_sequence)
            lag.add_metric([view.name], view.lag)
            consuming.add_metric([view.name], 1 if view.consuming else 0)
            recorded.add_metric([view.name], view.dead_letters)
            retries.add_metric([view.name], view.retries)
            duplicates.add_metric([view.name], view.duplicates)
            for name in _VIEW_STATES:
                state.add_metric([view.name, name], 1 if view.state == name else 0)
        yield from (position, stream_end, lag, state, consuming, recorded, retries, duplicates)
        yield GaugeMetricFamily(
            "grid_service_nats_connected",
            "1 while the service is connected to NATS.",
            value=1 if self.nats_connected() else 0,
        )
        relay = self.relay() if self.relay is not None else None
        if relay is not None:
            yield from _relay_metrics(relay)


def _relay_metrics(relay: RelayStatus) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "grid_relay_position", "The highest notification id known to be in the stream.", value=relay.position
    )
    yield GaugeMetricFamily(
        "grid_relay_latest_saved",
        "The highest notification id the application reported saving.",
        value=relay.latest_saved,
    )
    yield GaugeMetricFamily(
        "grid_relay_lag", "Saved events not yet in the stream.", value=max(0, relay.latest_saved - relay.position)
    )
    yield GaugeMetricFamily("grid_relay_published", "Messages acknowledged by NATS since start.", value=relay.published)
    yield GaugeMetricFamily("grid_relay_resyncs", "Times the relay re-read the stream's end.", value=relay.resyncs)
    yield GaugeMetricFamily(
        "grid_relay_conflicts", "Publishes refused because the stream had moved on.", value=relay.conflicts
    )
    state = GaugeMetricFamily("grid_relay_state", "1 for the state the relay is in.", labels=["state"])
    for name in RelayState:
        state.add_metric([name.value], 1 if relay.state is name else 0)
    yield state
