"""The wire format: subjects, headers and bodies of event messages, and checking them on receipt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from eventsourcing.persistence import Notification

from grid_events import GridApplication, StoreConfig
from grid_events.chain import GENESIS, link_hash
from grid_events.transport import CONTENT_TYPE, ChainVerifier, Header, WireFormatError, decode_message, kind_of_topic
from grid_events.transport.wire import OutboundMessage, encode_notification

from .transport_helpers import CELLS, PERSON, WORKER, all_notifications


@pytest.fixture
def resident_log(tmp_path: Path) -> Iterator[list[Notification]]:
    """The notifications of one resident registered, then transferred twice."""
    app = GridApplication(StoreConfig.sqlite(tmp_path / "events.sqlite3"))
    try:
        resident_id = app.register_resident(PERSON, CELLS[0], actor=WORKER)
        app.transfer_resident(resident_id, CELLS[1], actor=WORKER, reason="moved")
        app.transfer_resident(resident_id, CELLS[0], actor=WORKER, reason="moved back")
        yield all_notifications(app.recorder)
    finally:
        app.close()


def receive(message: OutboundMessage, **changes: str) -> dict[str, str]:
    """Return the headers a consumer would see, with *changes*."""
    return {**message.headers, **changes}


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("grid_events.domain.resident:Resident.Registered", "resident"),
        ("grid_events.domain.task:Task.Assigned", "task"),
        ("grid_events.domain.dispute:Dispute.SessionHeld", "dispute"),
        ("grid_events.domain.site_shift:SiteShift.Opened", "site_shift"),
        ("grid_events.domain.site_shift:SiteShift.Snapshot", "site_shift"),
        ("grid_events.domain.inspection:HTTPCheck.Done", "http_check"),
        ("grid_events.domain.task:Assigned", "task"),
    ],
)
def test_the_subject_token_is_the_aggregate_class_in_snake_case(topic: str, kind: str) -> None:
    """The kind in the subject comes from the event's owning class (or, failing that, its module)."""
    assert kind == kind_of_topic(topic)


def test_a_topic_without_a_class_is_refused() -> None:
    """A topic that names no class cannot give a subject."""
    with pytest.raises(WireFormatError):
        kind_of_topic("grid_events.domain.resident")


def test_a_message_carries_the_stored_state_and_says_which_event_it_is(resident_log: list[Notification]) -> None:
    """The body is the state as stored; the headers name the event, its position and its hash."""
    first = resident_log[0]
    message = encode_notification(first)

    assert first.state == message.payload
    assert f"grid.events.resident.{first.originator_id}" == message.subject
    assert f"{first.originator_id}:1" == message.headers[Header.MSG_ID]
    assert CONTENT_TYPE == message.headers[Header.CONTENT_TYPE]
    assert "1" == message.headers[Header.LAYOUT_VERSION]
    assert str(first.id) == message.headers[Header.NOTIFICATION_ID]
    assert first.topic == message.headers[Header.TOPIC]
    expected_hash = link_hash(first.originator_id, 1, first.topic, first.state)  # type: ignore[arg-type]
    assert expected_hash.hex() == message.headers[Header.LINK_HASH]


def test_a_received_message_decodes_to_the_event_with_its_chain(resident_log: list[Notification]) -> None:
    """Decoding gives the event's identity, position, body and its link to the previous event."""
    messages = [encode_notification(n) for n in resident_log]

    events = [decode_message(m.headers, m.payload, subject=m.subject) for m in messages]

    assert [1, 2, 3] == [e.aggregate_version for e in events]
    assert GENESIS == events[0].prev
    assert events[0].link_hash == events[1].prev
    assert events[1].link_hash == events[2].prev
    assert "resident" == events[0].kind
    assert CELLS[1] == events[1].body()["grid"]
    assert resident_log[2].state == events[2].stored_event().state


def test_the_body_never_shows_in_the_repr(resident_log: list[Notification]) -> None:
    """Printing or logging a message shows its identity, never its (possibly personal) body."""
    message = encode_notification(resident_log[0])
    event = decode_message(message.headers, message.payload)

    assert repr(resident_log[0].state) not in repr(event)
    assert "payload" not in repr(message)


def test_a_body_altered_in_transit_is_detected(resident_log: list[Notification]) -> None:
    """A body that does not hash to the header's link hash is refused."""
    message = encode_notification(resident_log[1])
    altered = message.payload.replace(b"moved", b"MOVED")

    with pytest.raises(WireFormatError, match="link hash"):
        decode_message(message.headers, altered)


@pytest.mark.parametrize(
    ("header", "value", "complaint"),
    [
        (Header.CONTENT_TYPE, "application/json", "content type"),
        (Header.LAYOUT_VERSION, "2", "layout version"),
        (Header.AGGREGATE_VERSION, "two", "malformed"),
        (Header.NOTIFICATION_ID, "", "missing"),
        (Header.MSG_ID, "someone-else:1", "message id"),
        (Header.LINK_HASH, "00", "out of range"),
    ],
)
def test_malformed_headers_are_refused_naming_the_problem(
    resident_log: list[Notification], header: str, value: str, complaint: str
) -> None:
    """Each header is checked; a bad one is refused with a message saying which."""
    message = encode_notification(resident_log[0])

    with pytest.raises(WireFormatError, match=complaint):
        decode_message(receive(message, **{header: value}), message.payload)


def test_a_message_on_the_wrong_subject_is_refused(resident_log: list[Notification]) -> None:
    """The subject must name the event's own aggregate."""
    message = encode_notification(resident_log[0])

    with pytest.raises(WireFormatError, match="subject"):
        decode_message(message.headers, message.payload, subject="grid.events.task.0000")


def test_a_message_without_headers_is_not_a_grid_event() -> None:
    """Plain messages are refused."""
    with pytest.raises(WireFormatError, match="no headers"):
        decode_message(None, b"\x93\x01")


def test_the_chain_verifier_accepts_a_history_and_spots_redeliveries(resident_log: list[Notification]) -> None:
    """Each next version is accepted once; a redelivered one is reported as already seen."""
    events = [decode_message(m.headers, m.payload) for m in map(encode_notification, resident_log)]
    verifier = ChainVerifier()

    assert [True, True, False, True, False] == [
        verifier.check(events[0]),
        verifier.check(events[1]),
        verifier.check(events[1]),
        verifier.check(events[2]),
        verifier.check(events[0]),
    ]


def test_the_chain_verifier_refuses_gaps_and_broken_links(resident_log: list[Notification]) -> None:
    """A skipped version, or an event whose prev is not its predecessor's hash, is refused."""
    events = [decode_message(m.headers, m.payload) for m in map(encode_notification, resident_log)]
    skipping = ChainVerifier()
    skipping.check(events[0])
    with pytest.raises(WireFormatError, match="follows"):
        skipping.check(events[2])

    forged = ChainVerifier()
    forged.check(events[0])
    with pytest.raises(WireFormatError, match="does not chain"):
        forged.check(attrs.evolve(events[1], prev=bytes(32)))
