"""Consume the event stream from your own NATS client: a durable pull consumer, the headers, the msgpack body.

The outbox relay publishes every stored event to the JetStream stream GRID_EVENTS, one message per event,
on ``grid.events.<kind>.<aggregate id>`` (docs/transport.md). Any NATS client can read it: here plain
nats-py does, and decodes each body twice, with the library and as a client in another language would,
with a bare msgpack library (docs/codec.md). Run:  python examples/nats_consumer.py
"""

from __future__ import annotations

import asyncio
import struct
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import msgpack
import nats
from nats.js.api import AckPolicy, ConsumerConfig

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    PersonalData,
    ResidentTag,
    Role,
    SealedData,
    StoreConfig,
    TaskKind,
)
from grid_events.transport import (
    CONTENT_TYPE,
    EmbeddedNatsServer,
    Header,
    NatsSettings,
    OutboxRelay,
    RelaySettings,
    decode_nats_msg,
)

worker = Actor("w-li", Role.GRID_WORKER)
secretary = Actor("s-wang", Role.SUPERVISOR)
cell = GridCell("江南", "飞凤", "03")
zhang = PersonalData(name="张秀英", id_number="330782194203151237", phone="13812345678")


def record_a_visit(app: GridApplication) -> None:
    """Register a resident and give her grid worker a household visit: five events."""
    resident_id = app.register_resident(zhang, cell, actor=worker, tags=frozenset({ResidentTag.ELDERLY_LIVING_ALONE}))
    task_id = app.create_task(TaskKind.HOUSEHOLD_VISIT, "独居老人走访", cell, actor=secretary, resident_id=resident_id)
    app.assign_task(task_id, worker.worker_id, actor=secretary)
    app.accept_task(task_id, actor=worker)
    app.start_task(task_id, actor=worker)


async def publish(app: GridApplication, url: str) -> None:
    """Run the relay beside the application until the stream holds every stored event."""
    async with OutboxRelay(app, RelaySettings(nats=NatsSettings(servers=(url,)))) as relay:
        # Commands are synchronous (they write to the database): keep them off the event loop.
        await asyncio.to_thread(record_a_visit, app)
        await relay.wait_caught_up(timeout=10)


def ext_hook(code: int, data: bytes) -> Any:  # noqa: ANN401 (whatever the extension holds)
    """Decode one extension type, as a client without grid_events would (docs/codec.md, "Values")."""
    if code == 1:  # UUID: 16 bytes
        return UUID(bytes=data)
    if code == 2:  # datetime: microseconds since the epoch, then the UTC offset in seconds
        micros, offset = struct.unpack(">qi", data)
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
        return moment.astimezone(timezone(timedelta(seconds=offset)))
    if code in {6, 7, 8, 9, 10}:  # list, set, frozenset, enum member, value object: msgpack inside
        return msgpack.unpackb(data, ext_hook=ext_hook)
    return msgpack.ExtType(code, data)  # date, Decimal, timedelta: decode them the same way if you need them


async def consume(url: str) -> list[str]:
    """Read the stream with a durable pull consumer, acknowledging each message; return the kinds seen."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        # Durable: the server remembers what this consumer acknowledged, across reconnections and restarts.
        subscription = await js.pull_subscribe(
            "grid.events.>",
            durable="my-consumer",
            stream="GRID_EVENTS",
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT),
        )
        kinds = []
        for msg in await subscription.fetch(100, timeout=5):
            headers = msg.headers or {}
            # A client in any language: check the content type and layout, then unpack [layout, prev, fields].
            assert CONTENT_TYPE == headers[Header.CONTENT_TYPE]
            assert "1" == headers[Header.LAYOUT_VERSION] == headers[Header.CODEC_VERSION]
            layout, prev, fields = msgpack.unpackb(msg.data, ext_hook=ext_hook)
            assert (1, 32) == (layout, len(prev))  # prev: the link hash of the aggregate's previous event

            # With grid_events: decode_nats_msg checks headers, subject and link hash; body() gives typed values.
            event = decode_nats_msg(msg)
            body = event.body()
            assert event.msg_id == headers[Header.MSG_ID]
            assert isinstance(body["actor"], Actor)

            if event.topic.endswith("Resident.Registered"):
                # (Nats-Expected-* are the relay's checks for JetStream: consumers ignore them.)
                print("headers:", {name: value for name, value in headers.items() if "Expected" not in name})
                # A value object arrives as [type name, {field: value}]; her personal data is ciphertext.
                print(
                    "plain msgpack sees:", fields["actor"], "and", fields["personal"][0], sorted(fields["personal"][1])
                )
                print("grid_events gives:", repr(body["actor"]), "and", type(body["personal"]).__name__)
                assert isinstance(body["personal"], SealedData)
            assert zhang.name.encode() not in msg.data
            assert zhang.id_number.encode() not in msg.data
            print(event.notification_id, event.topic, event.aggregate_id, "by", fields["actor"][1]["worker_id"])

            await msg.ack_sync()  # waits until the server has the ack (msg.ack() does not wait)
            kinds.append(event.kind)

        info = await js.consumer_info("GRID_EVENTS", "my-consumer")
        print("consumer:", info.num_pending, "left to deliver,", info.num_ack_pending, "awaiting an ack")
        assert 0 == info.num_pending == info.num_ack_pending
        return kinds
    finally:
        await client.close()


with tempfile.TemporaryDirectory() as directory, EmbeddedNatsServer(Path(directory) / "nats") as server:
    with GridApplication(StoreConfig.sqlite(Path(directory) / "events.sqlite3")) as app:
        asyncio.run(publish(app, server.url))
    kinds = asyncio.run(consume(server.url))
    print("her name appears in no message; kinds seen:", kinds)
    assert ["resident", "task", "task", "task", "task"] == kinds
