"""Erasure and the NATS stream (PIPL Art. 47): no message, body or header, yields an erased person's data.

The relay publishes every stored event as stored: personal data sealed under
each person's key. Erasure destroys the key, so the copies already on the
stream (on other machines, in consumers' hands) are as unreadable as the
store's. The test reads back every message of a real nats-server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
import nats
import pytest
from nats.aio.client import Client

from grid_events import (
    Actor,
    DisputeCategory,
    DisputeSource,
    GridApplication,
    MsgpackTranscoder,
    PartyDetails,
    PartyInput,
    PartyKind,
    PersonalData,
    PersonalDataErasedError,
    Role,
    SampledPerson,
    SealedData,
    StoreConfig,
)
from grid_events.audit import CrossCheckVerdict, crosscheck_stream, take_checkpoint, verify_store
from grid_events.chain import split_state
from grid_events.transport import EmbeddedNatsServer, NatsSettings, OutboxRelay, RelaySettings

from .privacy_helpers import (
    GRID,
    LI,
    MEDIATOR,
    SUPERVISOR,
    WANG_FANG,
    WORKER,
    ZHANG,
    World,
    build_world,
    sample_subject,
)

ADMIN = Actor("admin", Role.ADMINISTRATOR)
ZHAO = PersonalData(name="赵敏", id_number="110105198806150024", phone="13700002222")
ZHAO_SAYS = "隔壁装修噪音太大"
LI_SAYS = "我愿意晚上不施工"
ERASED = {
    "张秀英 (resident)": (ZHANG.name, ZHANG.id_number, ZHANG.phone),
    "王芳 (sampled, no resident)": (WANG_FANG.name, WANG_FANG.id_number, WANG_FANG.phone),
}
"""What must not be found of each erased person: name, ID number, phone."""


@attrs.frozen
class Office:
    """The privacy world on SQLite, a second resident who stays, and the NATS server its stream is on."""

    world: World
    zhao_id: UUID
    server: EmbeddedNatsServer

    @property
    def app(self) -> GridApplication:
        """The office's application."""
        return self.world.app

    @property
    def nats(self) -> NatsSettings:
        """How to reach the server."""
        return NatsSettings(servers=(self.server.url,), connect_timeout=1.0, reconnect_time_wait=0.1)

    async def relay(self) -> int:
        """Publish everything stored so far; return the last notification id."""
        settings = RelaySettings(nats=self.nats, ack_timeout=2.0, poll_interval=0.2, retry_delay=0.05, stop_timeout=2.0)
        async with OutboxRelay(self.app, settings) as relay:
            return await relay.wait_caught_up(timeout=10)


@attrs.frozen
class StreamMessage:
    """One message of the stream as read back: sequence, subject, headers, body."""

    sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes

    def header_bytes(self) -> bytes:
        """The subject and every header name and value, in UTF-8."""
        return "\n".join([self.subject, *(f"{name}: {value}" for name, value in self.headers.items())]).encode()


@pytest.fixture
def office(tmp_path: Path, nats_server: EmbeddedNatsServer) -> Iterator[Office]:
    """The privacy world, plus 赵敏: a resident with a sample record who spoke in a second case, beside 李建国."""
    world = build_world(StoreConfig.sqlite(tmp_path / "events.sqlite3"))
    try:
        app = world.app
        zhao_id = app.register_resident(ZHAO, GRID, actor=WORKER)
        zhao_sampled = SampledPerson(name=ZHAO.name, id_number=ZHAO.id_number, phone=ZHAO.phone)
        app.record_sample(world.shift_id, "T-0002", zhao_sampled, actor=WORKER, resident_id=zhao_id)
        dispute_id = app.receive_dispute(
            DisputeSource.PARTY_APPLICATION,
            DisputeCategory.NEIGHBOUR,
            "装修噪音",
            [
                PartyInput(PartyKind.RESIDENT, PartyDetails(name=ZHAO.name), zhao_id),
                PartyInput(PartyKind.OTHER_PERSON, LI),
            ],
            GRID,
            app.now().date(),
            actor=SUPERVISOR,
        )
        app.accept_dispute(dispute_id, app.now().date(), actor=SUPERVISOR)
        app.assign_mediator(dispute_id, MEDIATOR.worker_id, actor=SUPERVISOR)
        app.record_session(
            dispute_id,
            app.now() - timedelta(minutes=1),
            "调解室",
            ["m-chen", "P1", "P2"],
            {"P1": ZHAO_SAYS, "P2": LI_SAYS},
            "双方陈述",
            actor=MEDIATOR,
        )
        yield Office(world, zhao_id, nats_server)
    finally:
        world.app.close()


async def read_every_message(url: str, stream: str = "GRID_EVENTS") -> list[StreamMessage]:
    """Read every sequence of the stream one by one, headers and all (independently of the cross-check)."""
    client: Client = await nats.connect(url)
    try:
        js = client.jetstream()
        last = (await js.stream_info(stream)).state.last_seq
        messages = []
        for sequence in range(1, last + 1):
            raw = await js.get_msg(stream, seq=sequence)
            messages.append(StreamMessage(sequence, raw.subject or "", dict(raw.headers or {}), raw.data or b""))
        return messages
    finally:
        await client.close()


def walk(value: Any) -> Iterator[Any]:
    """Yield *value* and everything inside it (containers and value objects)."""
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key)
            yield from walk(item)
    elif isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from walk(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from walk(getattr(value, field.name))


def decoded_values(messages: list[StreamMessage]) -> list[Any]:
    """Every value inside every message's body, decoded with the domain's codec."""
    codec = MsgpackTranscoder()
    values: list[Any] = []
    for message in messages:
        _, body = split_state(codec, message.data)
        values.extend(walk(body))
    return values


@pytest.mark.asyncio
async def test_after_erasure_no_stream_message_yields_an_erased_persons_name_id_number_or_phone(
    office: Office,
) -> None:
    """Every body and header in UTF-8, every decoded value; the sealed copies do not open; both checks still pass."""
    app = office.app
    wang_subject = sample_subject(app, office.world.shift_id, "S1")
    await office.relay()  # everything, personal data sealed, is on the stream before anyone is erased
    checkpoint = take_checkpoint(app.recorder)

    app.erase_resident(
        office.world.resident_id, actor=ADMIN, reason="本人申请删除（PIPL 第47条）", request_ref="2026-11-001"
    )
    app.erase_sampled_person(office.world.shift_id, "S1", actor=ADMIN, reason="本人申请删除", request_ref="2026-11-002")
    last = await office.relay()

    messages = await read_every_message(office.server.url)
    assert last == len(messages) == app.recorder.max_notification_id()
    for person, secrets in ERASED.items():
        for secret in secrets:
            needle = secret.encode()
            found = [m.sequence for m in messages if needle in m.data or needle in m.header_bytes()]
            assert [] == found, f"{person}: {secret} in stream messages {found}"
    values = decoded_values(messages)
    texts = [value for value in values if isinstance(value, str)]
    blobs = [value for value in values if isinstance(value, bytes)]
    for person, secrets in ERASED.items():
        for secret in secrets:
            assert [] == [text for text in texts if secret in text], person
            assert not any(secret.encode() in blob for blob in blobs), person

    # The controls: the search sees clear text where there is some, and the sealed copies are real data.
    assert any("楼上渗水".encode() in m.data for m in messages)
    assert "楼上渗水" in texts
    sealed = [value for value in values if isinstance(value, SealedData)]
    erased_subjects = {office.world.resident_id, wang_subject}
    assert len([s for s in sealed if s.subject_id in erased_subjects]) >= 6
    for value in sealed:
        if value.subject_id in erased_subjects:
            with pytest.raises(PersonalDataErasedError):
                app.vault.open(value)
    opened = [app.vault.open(value) for value in sealed if value.subject_id == office.zhao_id]
    assert ZHAO in opened
    assert ZHAO_SAYS in opened

    report = await crosscheck_stream(app.recorder, office.nats)
    assert CrossCheckVerdict.CONSISTENT == report.verdict
    assert last == report.stream_notification_id
    assert verify_store(app.recorder, checkpoints=[checkpoint]).ok
