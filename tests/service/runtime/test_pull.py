"""The puller: batches from a pull consumer, what is there at once, the first to come, nothing lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from grid_events.transport import EmbeddedNatsServer
from grid_service.runtime.pull import PullConflictError, Puller


@pytest_asyncio.fixture
async def client(nats_server: EmbeddedNatsServer) -> AsyncIterator[Client]:
    """A connection with a stream of seven messages and a durable pull consumer on it."""
    connection = await nats.connect(nats_server.url)
    try:
        js = connection.jetstream()
        await js.add_stream(name="S", subjects=["s.>"])
        for number in range(7):
            await js.publish("s.x", f"m{number}".encode())
        await js.add_consumer("S", ConsumerConfig(durable_name="c", ack_policy=AckPolicy.EXPLICIT))
        yield connection
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def puller(client: Client) -> AsyncIterator[Puller]:
    """A puller on the consumer."""
    opened = Puller(client, "S", "c")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def bodies(messages: list[Msg]) -> list[bytes]:
    """The messages' bodies."""
    return [message.data for message in messages]


@pytest.mark.asyncio
async def test_what_is_there_comes_at_once_in_order_a_batch_at_a_time(puller: Puller) -> None:
    """Seven messages, batches of five: five, then two, at once; then nothing after the timeout."""
    started = time.monotonic()
    assert [b"m0", b"m1", b"m2", b"m3", b"m4"] == bodies(await puller.fetch(5, timeout=1))
    assert [b"m5", b"m6"] == bodies(await puller.fetch(5, timeout=1))
    assert time.monotonic() - started < 0.5
    assert [] == await puller.fetch(5, timeout=0.3)


@pytest.mark.asyncio
async def test_a_message_published_while_waiting_comes_at_once(client: Client, puller: Puller) -> None:
    """Waiting for messages, the first one to arrive is handed over without waiting for a full batch."""
    await puller.fetch(10, timeout=1)

    async def later() -> None:
        await asyncio.sleep(0.2)
        await client.jetstream().publish("s.x", b"late")

    publishing = asyncio.create_task(later())
    started = time.monotonic()
    assert [b"late"] == bodies(await puller.fetch(10, timeout=5))
    assert time.monotonic() - started < 1.0
    await publishing


@pytest.mark.asyncio
async def test_draining_takes_what_the_open_request_delivers(client: Client, puller: Puller) -> None:
    """A stopping consumer gets what its open request still delivers, and asks for nothing more."""
    await puller.fetch(10, timeout=1)
    js = client.jetstream()

    async def two() -> None:
        await asyncio.sleep(0.1)
        await js.publish("s.x", b"a")
        await asyncio.sleep(0.05)
        await js.publish("s.x", b"b")

    publishing = asyncio.create_task(two())
    first = bodies(await puller.fetch(10, timeout=0.5))
    await publishing
    assert [b"a", b"b"] == first + bodies(await puller.drain(1.0))
    info = await js.consumer_info("S", "c")
    assert 0 == info.num_waiting


@pytest.mark.asyncio
async def test_a_deleted_consumer_is_a_conflict(client: Client, puller: Puller) -> None:
    """When the consumer is gone the puller says so rather than waiting for ever."""
    await client.jetstream().delete_consumer("S", "c")
    with pytest.raises(PullConflictError):
        await puller.fetch(5, timeout=1)
