"""The event store against its copy on the NATS stream: agreement, tampering on either side, lag, the command."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import attrs
import nats
import pytest
from click.testing import CliRunner, Result
from nats.aio.client import Client

from grid_events import GridApplication, GridCell, PersonalData, ResidentRecord, StoreConfig
from grid_events.audit import (
    CrossCheckError,
    CrossCheckReport,
    CrossCheckVerdict,
    Discrepancy,
    DiscrepancyKind,
    ProblemKind,
    crosscheck_stream,
    verify_store,
)
from grid_events.chain import link_hash
from grid_events.transport import EmbeddedNatsServer, Header, NatsSettings, OutboxRelay, RelaySettings, StreamSettings
from grid_events.transport.wire import encode_notification
from grid_service.cli import main

from .histories import WORKER, Clock, mediating

ZHAO = PersonalData(name="赵敏", id_number="11010519491231002X", phone="13700002222")


@attrs.frozen
class Office:
    """A SQLite store with residents and a mediation case, and a NATS server for its stream."""

    app: GridApplication
    path: Path
    server: EmbeddedNatsServer
    residents: tuple[UUID, ...]

    @property
    def nats(self) -> NatsSettings:
        """How to reach the office's NATS server."""
        return NatsSettings(servers=(self.server.url,), connect_timeout=1.0, reconnect_time_wait=0.1)

    def write(self, residents: int = 2) -> tuple[UUID, ...]:
        """Register *residents* more residents and move each once (two events each)."""
        ids = []
        for _ in range(residents):
            resident_id = self.app.register_resident(ZHAO, GridCell("江南", "飞凤", "03"), actor=WORKER)
            self.app.transfer_resident(resident_id, GridCell("江南", "飞凤", "04"), actor=WORKER, reason="搬家")
            ids.append(resident_id)
        return tuple(ids)

    async def relay(self) -> int:
        """Publish every stored event to the stream; return the last notification id published."""
        settings = RelaySettings(
            nats=self.nats, ack_timeout=2.0, poll_interval=0.2, retry_delay=0.05, max_retry_delay=0.5, stop_timeout=2.0
        )
        async with OutboxRelay(self.app, settings) as relay:
            return await relay.wait_caught_up(timeout=10)

    async def crosscheck(self) -> CrossCheckReport:
        """Cross-check the store with the stream."""
        return await crosscheck_stream(self.app.recorder, self.nats, timeout=2.0)

    def sql(self, statement: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Run one statement on the SQLite file behind the application's back."""
        connection = sqlite3.connect(self.path)
        try:
            with connection:
                return list(connection.execute(statement, parameters))
        finally:
            connection.close()

    def row(self, aggregate_id: UUID, version: int) -> tuple[int, str, bytes]:
        """Return (log position, topic, state) of one stored event."""
        ((rowid, topic, state),) = self.sql(
            "SELECT rowid, topic, state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            (aggregate_id.hex, version),
        )
        assert isinstance(rowid, int)
        assert isinstance(topic, str)
        assert isinstance(state, bytes)
        return rowid, topic, state

    def run(self, *args: str) -> Result:
        """Run ``grid-events audit crosscheck ARGS`` on this store."""
        return CliRunner().invoke(
            main, ["audit", "crosscheck", *args, "--sqlite-path", str(self.path)], catch_exceptions=False
        )


@pytest.fixture
def office(tmp_path: Path, clock: Clock, nats_server: EmbeddedNatsServer) -> Iterator[Office]:
    """Two residents and a mediation case in a SQLite store (nothing relayed yet)."""
    path = tmp_path / "events.sqlite3"
    app = GridApplication(StoreConfig.sqlite(path), clock=clock)
    try:
        mediating(app, clock)
        office = Office(app, path, nats_server, ())
        office = attrs.evolve(office, residents=office.write())
        yield office
    finally:
        app.close()


async def publish(url: str, subject: str, payload: bytes, headers: dict[str, str] | None) -> None:
    """Publish one message into the stream, as someone with access to NATS could."""
    client: Client = await nats.connect(url)
    try:
        await client.jetstream().publish(subject, payload, headers=headers)
    finally:
        await client.close()


def kinds(report: CrossCheckReport) -> list[tuple[DiscrepancyKind, UUID | None, int | None, int | None]]:
    """Each discrepancy as (kind, aggregate, version, log position)."""
    return [(d.kind, d.aggregate_id, d.version, d.notification_id) for d in report.discrepancies]


def only(report: CrossCheckReport) -> Discrepancy:
    """The report's single discrepancy."""
    assert 1 == len(report.discrepancies), report.discrepancies
    return report.discrepancies[0]


# -- agreement ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_untouched_store_and_its_stream_agree(office: Office) -> None:
    """Every stored event is on the stream, in order, byte for byte, and nothing else."""
    last = await office.relay()
    progress: list[tuple[int, int]] = []

    report = await crosscheck_stream(office.app.recorder, office.nats, progress=lambda *seen: progress.append(seen))

    assert report.ok
    assert CrossCheckVerdict.CONSISTENT == report.verdict
    assert (last, last, last, last, last, 0) == (
        report.stream_messages,
        report.stream_last_sequence,
        report.store_events,
        report.store_notification_id,
        report.stream_notification_id,
        report.pending,
    )
    assert (last, last) == progress[-1]
    assert report.stream_denies_deletes
    assert report.stream_created is not None
    assert "流与事件库一致" in report.verdict_text("zh")
    assert {"ok": True, "verdict": "consistent", "discrepancies": []}.items() <= report.to_dict().items()


@pytest.mark.asyncio
async def test_the_postgresql_store_and_its_stream_agree(
    postgres_store: StoreConfig, clock: Clock, nats_server: EmbeddedNatsServer
) -> None:
    """The same on PostgreSQL: the relay's copy and the store agree."""
    app = GridApplication(postgres_store, clock=clock)
    try:
        mediating(app, clock)
        office = Office(app, Path("unused"), nats_server, ())
        office.write()
        last = await office.relay()

        report = await office.crosscheck()

        assert CrossCheckVerdict.CONSISTENT == report.verdict
        assert (last, last, last) == (report.stream_messages, report.store_events, report.stream_notification_id)
    finally:
        app.close()


# -- lag ---------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_stream_behind_the_store_is_lag_not_tampering(office: Office) -> None:
    """Events stored after the relay stopped are counted as not yet published, and caught up later."""
    published = await office.relay()
    office.write(residents=2)  # the relay has stopped: four more events wait
    stored = office.app.recorder.max_notification_id()

    behind = await office.crosscheck()

    assert behind.ok
    assert CrossCheckVerdict.BEHIND == behind.verdict
    assert (published, stored, 4) == (behind.stream_notification_id, behind.store_notification_id, behind.pending)
    assert "落后 4 个事件" in behind.verdict_text("zh")
    assert "lag, not tampering" in behind.verdict_text("en")

    await office.relay()
    assert CrossCheckVerdict.CONSISTENT == (await office.crosscheck()).verdict


@pytest.mark.asyncio
async def test_a_relay_stopped_midway_through_a_backlog_leaves_lag_not_tampering(office: Office) -> None:
    """Stopped while publishing a thousand imported residents: what it published agrees, the rest is pending."""
    office.app.import_residents([ResidentRecord(ZHAO, GridCell("江南", "飞凤", "03"))] * 1000, actor=WORKER)
    stored = office.app.recorder.max_notification_id()
    assert stored is not None
    settings = RelaySettings(nats=office.nats, batch_size=20, max_in_flight=20, stop_timeout=2.0)
    async with OutboxRelay(office.app, settings) as relay:
        await relay.wait_published(100, timeout=10)

    report = await office.crosscheck()

    assert report.ok
    assert 100 <= report.stream_notification_id <= stored
    assert stored == report.stream_notification_id + report.pending
    assert report.stream_notification_id == report.stream_messages
    expected = CrossCheckVerdict.BEHIND if report.pending else CrossCheckVerdict.CONSISTENT
    assert expected == report.verdict


# -- the store tampered with -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_altered_stored_event_is_named_even_where_the_chain_cannot_see_it(office: Office) -> None:
    """The newest event of a chain has no successor to vouch for it; its copy on the stream does."""
    await office.relay()
    resident_id = office.residents[0]
    position, _, state = office.row(resident_id, 2)
    office.sql(
        "UPDATE stored_events SET state = ? WHERE rowid = ?",
        (state.replace("搬家".encode(), "出租".encode()), position),
    )

    report = await office.crosscheck()

    assert verify_store(office.app.recorder).ok  # the chain alone cannot tell
    discrepancy = only(report)
    assert (DiscrepancyKind.BODY_MISMATCH, resident_id, 2, position, position) == (
        discrepancy.kind,
        discrepancy.aggregate_id,
        discrepancy.version,
        discrepancy.notification_id,
        discrepancy.stream_sequence,
    )
    assert discrepancy.message.startswith(
        f"Resident.Transferred v2 of {resident_id} (log position {position}, stream sequence {position}): "
        "the message's body differs from the stored state"
    )
    assert discrepancy.message_zh.startswith(
        f"记录 {resident_id} 的第 2 版（日志位置 {position}，流序号 {position}）："
    )
    assert CrossCheckVerdict.DISCREPANT == report.verdict


@pytest.mark.asyncio
async def test_a_state_rewritten_as_text_by_sqlite_is_still_compared(office: Office) -> None:
    """SQL's replace() turns the state into text, which eventsourcing cannot read back; the cross-check still can."""
    await office.relay()
    resident_id = office.residents[1]
    position, _, _ = office.row(resident_id, 2)
    office.sql(
        "UPDATE stored_events SET state = replace(state, CAST('搬家' AS BLOB), CAST('出租' AS BLOB)) WHERE rowid = ?",
        (position,),
    )
    assert [("text",)] == office.sql("SELECT typeof(state) FROM stored_events WHERE rowid = ?", (position,))

    report = await office.crosscheck()

    assert [(DiscrepancyKind.BODY_MISMATCH, resident_id, 2, position)] == kinds(report)


@pytest.mark.asyncio
async def test_a_deleted_stored_event_is_named_from_its_copy_on_the_stream(office: Office) -> None:
    """A row removed from the store is still on the stream: the message names the event the store lacks."""
    await office.relay()
    resident_id = office.residents[1]
    position, _, _ = office.row(resident_id, 1)
    office.sql("DELETE FROM stored_events WHERE rowid = ?", (position,))

    report = await office.crosscheck()

    assert [(DiscrepancyKind.NOT_IN_STORE, resident_id, 1, position)] == kinds(report)
    assert "removed from the store, or forged on the stream" in report.discrepancies[0].message
    assert {ProblemKind.LOG_GAP, ProblemKind.BAD_GENESIS} & {p.kind for p in verify_store(office.app.recorder).problems}


@pytest.mark.asyncio
async def test_an_event_inserted_into_the_store_after_the_relay_passed_is_missing_then_out_of_order(
    office: Office,
) -> None:
    """The stream went past a position the store did not hold then; a copy published late is out of order."""
    resident_id = office.residents[0]
    position, topic, state = office.row(resident_id, 2)
    office.sql("DELETE FROM stored_events WHERE rowid = ?", (position,))
    await office.relay()  # the relay never sees it
    office.sql(
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
        (position, resident_id.hex, 2, topic, state),
    )

    missing = await office.crosscheck()

    assert [(DiscrepancyKind.MISSING_FROM_STREAM, resident_id, 2, position)] == kinds(missing)
    assert "inserted into the store after it was relayed" in missing.discrepancies[0].message

    (notification,) = office.app.recorder.select_notifications(position, 1)
    late = encode_notification(notification)
    await publish(office.server.url, late.subject, late.payload, late.headers)

    reordered = await office.crosscheck()

    assert [(DiscrepancyKind.OUT_OF_ORDER, resident_id, 2, position)] == kinds(reordered)


# -- the stream tampered with ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_forged_message_on_the_stream_is_named(office: Office) -> None:
    """A well-made message of an event the store never held, and a message that is no event at all."""
    last = await office.relay()
    resident_id = office.residents[0]
    _, topic, state = office.row(resident_id, 2)
    forged_topic = topic.replace("Transferred", "MovedOut")
    forged_state = state[:4] + link_hash(resident_id, 2, topic, state) + state[36:]
    headers = {
        Header.MSG_ID: f"{resident_id}:3",
        Header.CONTENT_TYPE: "application/vnd.grid-events.event+msgpack",
        Header.LAYOUT_VERSION: "1",
        Header.CODEC_VERSION: "1",
        Header.NOTIFICATION_ID: str(last + 1),
        Header.TOPIC: forged_topic,
        Header.AGGREGATE_ID: str(resident_id),
        Header.AGGREGATE_VERSION: "3",
        Header.LINK_HASH: link_hash(resident_id, 3, forged_topic, forged_state).hex(),
    }
    await publish(office.server.url, f"grid.events.resident.{resident_id}", forged_state, headers)
    await publish(office.server.url, "grid.events.resident.x", b"hello", None)

    report = await office.crosscheck()

    assert [
        (DiscrepancyKind.NOT_IN_STORE, resident_id, 3, last + 1),
        (DiscrepancyKind.MALFORMED, None, None, None),
    ] == kinds(report)
    forged, stray = report.discrepancies
    assert (last + 1, last + 2) == (forged.stream_sequence, stray.stream_sequence)
    assert f"beyond its newest event (log position {last})" in forged.message
    assert "it has no headers" in stray.message
    assert last == report.stream_notification_id
    assert 0 == report.pending


@pytest.mark.asyncio
async def test_an_altered_copy_of_a_message_published_again_is_a_duplicate_with_a_false_body(office: Office) -> None:
    """Duplicate, body and headers (its link hash and message id) are each named."""
    await office.relay()
    resident_id = office.residents[1]
    position, _, _ = office.row(resident_id, 2)
    (notification,) = office.app.recorder.select_notifications(position, 1)
    copy = encode_notification(notification)
    headers = {name: value for name, value in copy.headers.items() if name != Header.MSG_ID}
    await publish(office.server.url, copy.subject, copy.payload.replace("搬家".encode(), "出租".encode()), headers)

    report = await office.crosscheck()

    assert [
        (DiscrepancyKind.DUPLICATE, resident_id, 2, position),
        (DiscrepancyKind.BODY_MISMATCH, resident_id, 2, position),
        (DiscrepancyKind.HEADER_MISMATCH, resident_id, 2, position),
    ] == kinds(report)
    header_problem = report.discrepancies[2].message
    assert "Grid-Link-Hash is not the hash of the body" in header_problem
    assert "Nats-Msg-Id is None" in header_problem


@pytest.mark.asyncio
async def test_a_message_deleted_from_the_stream_leaves_a_gap_and_its_event_missing(office: Office) -> None:
    """On a stream someone created allowing deletes, a deleted message is a gap, and its event is named."""
    client: Client = await nats.connect(office.server.url)
    try:
        js = client.jetstream()
        await js.add_stream(dataclasses.replace(StreamSettings().stream_config(), deny_delete=False))
        await office.relay()
        await js.delete_msg("GRID_EVENTS", 3)
    finally:
        await client.close()
    (third,) = office.app.recorder.select_notifications(3, 1)

    report = await office.crosscheck()

    assert [
        (DiscrepancyKind.STREAM_GAP, None, None, None),
        (DiscrepancyKind.MISSING_FROM_STREAM, third.originator_id, third.originator_version, 3),
    ] == kinds(report)
    assert 3 == report.discrepancies[0].stream_sequence
    assert not report.stream_denies_deletes
    assert "stream sequence(s) 3: no message any more" in report.discrepancies[0].message


RELAY_PASSWORD = "relay-secret"  # noqa: S105 (a test server's password)
AUDITOR_PASSWORD = "auditor-secret"  # noqa: S105 (a test server's password)
READ_ONLY = f"""
authorization {{
  users = [
    {{ user: relay, password: {RELAY_PASSWORD} }}
    {{
      user: auditor, password: {AUDITOR_PASSWORD}
      permissions: {{
        publish: {{ allow: ["$JS.API.STREAM.INFO.GRID_EVENTS", "$JS.API.STREAM.MSG.GET.GRID_EVENTS"] }}
        subscribe: {{ allow: ["_INBOX.>"] }}
      }}
    }}
  ]
}}
"""
"""The relay may do anything; the auditor may read the stream's messages one by one, and create no consumer."""


@pytest.mark.asyncio
async def test_an_auditor_who_may_only_read_messages_cross_checks_too(tmp_path: Path, clock: Clock) -> None:
    """An account without the right to create consumers reads the stream message by message."""
    config = tmp_path / "nats.conf"
    config.write_text(READ_ONLY)
    path = tmp_path / "events.sqlite3"
    with EmbeddedNatsServer(tmp_path / "nats-ro", config_file=config) as server:
        app = GridApplication(StoreConfig.sqlite(path), clock=clock)
        try:
            office = Office(app, path, server, ())
            resident_id, _ = office.write()
            position, _, state = office.row(resident_id, 2)
            relay = NatsSettings(servers=(server.url,), user="relay", password=RELAY_PASSWORD)
            async with OutboxRelay(app, RelaySettings(nats=relay)) as running:
                await running.wait_caught_up(timeout=10)
            office.sql(
                "UPDATE stored_events SET state = ? WHERE rowid = ?", (state[:-1] + bytes([state[-1] ^ 1]), position)
            )
            auditor = NatsSettings(servers=(server.url,), user="auditor", password=AUDITOR_PASSWORD)

            report = await crosscheck_stream(app.recorder, auditor, timeout=1.0)

            assert [(DiscrepancyKind.BODY_MISMATCH, resident_id, 2, position)] == kinds(report)
            assert (4, 4) == (report.stream_messages, report.store_events)
        finally:
            app.close()


@pytest.mark.asyncio
async def test_no_stream_or_no_server_is_an_error_saying_what_is_missing(office: Office) -> None:
    """Before the relay ran there is no stream; with the server gone, nothing to connect to."""
    with pytest.raises(CrossCheckError, match="has no stream GRID_EVENTS"):
        await office.crosscheck()
    office.server.stop()
    with pytest.raises(CrossCheckError, match=r"cannot reach NATS at nats://127\.0\.0\.1"):
        await office.crosscheck()


# -- the command ---------------------------------------------------------------------------------------------


def test_the_command_reports_agreement_and_lag(office: Office) -> None:
    """Exit 0; how much was compared, how far the stream got, the verdict."""
    published = asyncio.run(office.relay())
    office.write(residents=1)

    result = office.run("--nats-url", office.server.url)

    assert 0 == result.exit_code, result.output
    assert f"流已到日志位置 {published}，尚有 2 个事件未发布。" in result.output
    assert "流创建于 " in result.output
    assert "允许删除" not in result.output
    assert "✔ 流与事件库一致" in result.output


def test_the_command_names_each_discrepancy_and_exits_1(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of what disagrees, with the event's id, version and positions; NATS from the environment."""
    asyncio.run(office.relay())
    resident_id = office.residents[0]
    position, _, state = office.row(resident_id, 2)
    office.sql(
        "UPDATE stored_events SET state = ? WHERE rowid = ?",
        (state.replace("搬家".encode(), "出租".encode()), position),
    )
    monkeypatch.setenv("GRID_EVENTS_NATS_URL", office.server.url)

    result = office.run("--lang", "en", "--stream", "GRID_EVENTS")

    assert 1 == result.exit_code, result.output
    assert "body differs" in result.output
    assert str(resident_id) in result.output
    assert "the message's body differs from the stored state (first difference at byte" in result.output
    assert "✘ The stream and the store disagree: 1 discrepancy." in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--stream", "OTHER"), "has no stream OTHER"),
        (("--stream", "no spaces"), "stream name 'no spaces'"),
        (("--nats-url", "http://example.org"), "the scheme must be one of"),
    ],
)
def test_the_command_exits_2_saying_what_to_do(office: Office, args: tuple[str, ...], message: str) -> None:
    """A missing stream, a bad stream name, a bad URL: exit 2 and what to do."""
    asyncio.run(office.relay())

    result = office.run("--nats-url", office.server.url, *args)

    assert 2 == result.exit_code, result.output
    assert message in result.output


def test_the_command_exits_2_without_a_server(office: Office, tmp_path: Path) -> None:
    """Nothing listens at the URL: say so, and where to configure it."""
    office.server.stop()

    result = office.run("--nats-url", office.server.url)
    missing_store = CliRunner().invoke(
        main, ["audit", "crosscheck", "--sqlite-path", str(tmp_path / "nowhere.sqlite3")], catch_exceptions=False
    )

    assert 2 == result.exit_code, result.output
    assert "cannot reach NATS" in result.output
    assert "GRID_EVENTS_NATS_URL" in result.output
    assert 2 == missing_store.exit_code
    assert "no event store at" in missing_store.output


def test_the_command_exits_2_when_the_store_cannot_be_read(office: Office, tmp_path: Path) -> None:
    """A file that is no event store: say so, and where to look."""
    asyncio.run(office.relay())
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()

    result = CliRunner().invoke(
        main,
        ["audit", "crosscheck", "--sqlite-path", str(empty), "--nats-url", office.server.url],
        catch_exceptions=False,
    )

    assert 2 == result.exit_code, result.output
    assert "cannot read the event store" in result.output
    assert "--sqlite-path" in result.output


def test_the_command_has_help() -> None:
    """``--help`` explains the command and its options."""
    result = CliRunner().invoke(main, ["audit", "crosscheck", "--help"])

    assert 0 == result.exit_code
    assert "--nats-url" in result.output
    assert "GRID_EVENTS_NATS_" in result.output
