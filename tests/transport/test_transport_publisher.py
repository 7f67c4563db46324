"""Pipelined publishing: every answer of JetStream, good or bad, reaches its message's future at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client
from nats.js.api import StreamConfig

from grid_events.transport import EmbeddedNatsServer, PublishRejectedError
from grid_events.transport.publisher import AckPipeline, PubAck
from grid_events.transport.wire import Header


@pytest_asyncio.fixture
async def client(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    """A connection to the test server, with a stream S on s.>."""
    connection = await nats.connect(nats_server.url)
    try:
        await connection.jetstream().add_stream(StreamConfig(name="S", subjects=["s.>"]))
        yield connection
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def pipeline(client: Client) -> AsyncIterator[AckPipeline]:
    """An open pipeline on the client."""
    opened = AckPipeline(client)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.asyncio
async def test_many_messages_in_flight_are_acknowledged_in_order(pipeline: AckPipeline) -> None:
    """A thousand messages sent without waiting are each acknowledged with their own sequence."""
    futures = [await pipeline.publish("s.a", b"x", {Header.MSG_ID: f"m{i}"}) for i in range(1000)]

    acks = await asyncio.gather(*futures)

    assert [PubAck("S", seq) for seq in range(1, 1001)] == acks
    assert 0 == pipeline.in_flight


@pytest.mark.asyncio
async def test_a_refused_message_fails_its_future_at_once(pipeline: AckPipeline) -> None:
    """A wrong expected sequence is refused, and the future says so without waiting for a timeout."""
    await (await pipeline.publish("s.a", b"first", {Header.EXPECTED_LAST_SEQUENCE: "0"}))
    started = time.monotonic()

    refused = await pipeline.publish("s.a", b"again", {Header.EXPECTED_LAST_SEQUENCE: "0"})
    with pytest.raises(PublishRejectedError) as caught:
        await asyncio.wait_for(refused, timeout=5)

    assert caught.value.is_sequence_conflict
    assert time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_a_subject_no_stream_captures_is_refused(pipeline: AckPipeline) -> None:
    """Publishing where no stream listens fails with 'no responders' instead of hanging."""
    future = await pipeline.publish("nowhere.a", b"x", {})

    with pytest.raises(PublishRejectedError, match="no stream"):
        await asyncio.wait_for(future, timeout=2)


@pytest.mark.asyncio
async def test_failing_all_settles_every_outstanding_future(pipeline: AckPipeline, client: Client) -> None:
    """When the connection drops, every outstanding future is failed and later answers are ignored."""
    await client.flush()
    futures = [await pipeline.publish("s.a", b"x", {}) for _ in range(5)]

    pipeline.fail_all(ConnectionError("gone"))
    await asyncio.sleep(0.1)

    assert all(future.done() for future in futures)
    assert 0 == pipeline.in_flight
