"""Deliveries read straight from an event store are the messages the relay publishes, byte for byte."""

from __future__ import annotations

from grid_events.transport.wire import encode_notification
from grid_service.views import ViewStore, deliveries_from_store, notification_deliveries
from grid_service.views.feed import relay_headers

from .helpers import Day, engine_for


def test_the_feed_builds_the_relays_headers_and_bodies(community_day: Day) -> None:
    """Every header and body equals the relay's own encoding of the same notification."""
    notifications = community_day.app.recorder.select_notifications(None, 10_000)

    for notification, delivery in zip(notifications, notification_deliveries(notifications), strict=True):
        outbound = encode_notification(notification)
        assert outbound.headers == relay_headers(notification)
        assert (outbound.payload, outbound.subject) == (delivery.message.state, delivery.message.subject)


def test_the_feed_numbers_the_store_as_the_stream_does(community_day: Day) -> None:
    """The k-th event is stream sequence k, in batches, from any point; the messages equal the test's deliveries."""
    whole = [d for batch in deliveries_from_store(community_day.app.recorder, batch_size=25) for d in batch]
    tail = [d for batch in deliveries_from_store(community_day.app.recorder, after=100, batch_size=7) for d in batch]

    assert community_day.deliveries == whole
    assert community_day.deliveries[100:] == tail
    assert [25] * 7 == [len(batch) for batch in deliveries_from_store(community_day.app.recorder, batch_size=25)][:7]


def test_views_fed_from_the_store_equal_views_fed_from_the_wire(
    community_day: Day, sqlite_view_store: ViewStore
) -> None:
    """Feeding an engine from the store (an offline rebuild) gives the views the stream gives."""
    from_store = engine_for(sqlite_view_store, community_day.app)
    for batch in deliveries_from_store(community_day.app.recorder):
        for name in from_store.names:
            from_store.apply(name, batch)
    generation = {name: from_store.begin_rebuild(name) for name in from_store.names}
    for name in from_store.names:
        from_store.apply_to_generation(name, generation[name], community_day.deliveries)

    for name in from_store.names:
        assert from_store.contents(name, generation[name]) == from_store.contents(name)
