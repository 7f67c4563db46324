"""How to reach NATS: servers, credentials, TLS, reconnection; and connecting.

:class:`NatsSettings` holds everything; its ``repr`` (and every log line of this
package) shows whether a secret is set, never the secret. Credentials come from
arguments or the environment (:meth:`NatsSettings.from_environ`), never from
the command line, where other users of the machine could read them.

=================================  ==============================================
variable                           meaning
=================================  ==============================================
``GRID_EVENTS_NATS_URL``           server URLs, comma-separated (``nats://127.0.0.1:4222``)
``GRID_EVENTS_NATS_USER``          user name …
``GRID_EVENTS_NATS_PASSWORD``      … and password (or ``…_PASSWORD_FILE``: a file holding it)
``GRID_EVENTS_NATS_TOKEN``         an authentication token (or ``…_TOKEN_FILE``)
``GRID_EVENTS_NATS_CREDS``         a ``.creds`` file (JWT and NKey seed; needs ``nkeys``)
``GRID_EVENTS_NATS_NKEY_SEED``     a file holding an NKey seed (needs ``nkeys``)
``GRID_EVENTS_NATS_TLS``           ``1`` to use TLS with the system's CAs
``GRID_EVENTS_NATS_TLS_CA``        a CA bundle to verify the server with (implies TLS)
``GRID_EVENTS_NATS_TLS_CERT``      a client certificate …
``GRID_EVENTS_NATS_TLS_KEY``       … and its key (mutual TLS)
``GRID_EVENTS_NATS_TLS_HOSTNAME``  the name to expect in the server's certificate
=================================  ==============================================
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import nats.errors
from nats.aio.client import Client

from grid_events.exceptions import ConfigurationError
from grid_events.transport.errors import NatsAuthenticationError

__all__ = ["DEFAULT_NATS_URL", "NatsSettings", "close_quietly", "connect", "redact_url"]

logger = logging.getLogger("grid_events.transport")

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})
_TRUE = frozenset({"1", "true", "yes", "on"})

Callback = Callable[[], Awaitable[None]]
ErrorCallback = Callable[[Exception], Awaitable[None]]


def redact_url(url: str) -> str:
    """Return *url* without any user name, password or token in it."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _redacted_servers(servers: tuple[str, ...]) -> str:
    return repr(tuple(redact_url(server) for server in servers))


def _secret(value: str) -> str:
    return "'***'" if value else "''"


def _servers(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item.strip())


def _optional_path(value: str | Path | None) -> Path | None:
    return Path(value) if value else None


@attrs.frozen
class NatsSettings:
    """Where NATS is and how to prove who we are to it.

    Give at most one way to authenticate: *user* and *password*, *token*,
    *credentials_file* (JWT) or *nkey_seed_file*. TLS is used when *tls* is
    true, a ``tls://`` URL is given, or any TLS file is: *tls_ca_file* to verify
    the server (the system's CAs otherwise), *tls_cert_file* and *tls_key_file*
    for mutual TLS. The relay never gives up reconnecting
    (*max_reconnect_attempts* ``-1``).
    """

    servers: tuple[str, ...] = attrs.field(default=(DEFAULT_NATS_URL,), converter=_servers, repr=_redacted_servers)
    name: str = "grid-events"
    user: str = ""
    password: str = attrs.field(default="", repr=_secret)
    token: str = attrs.field(default="", repr=_secret)
    credentials_file: Path | None = attrs.field(default=None, converter=_optional_path)
    nkey_seed_file: Path | None = attrs.field(default=None, converter=_optional_path)
    tls: bool = False
    tls_ca_file: Path | None = attrs.field(default=None, converter=_optional_path)
    tls_cert_file: Path | None = attrs.field(default=None, converter=_optional_path)
    tls_key_file: Path | None = attrs.field(default=None, converter=_optional_path)
    tls_hostname: str = ""
    tls_handshake_first: bool = False
    connect_timeout: float = 2.0
    reconnect_time_wait: float = 0.5
    max_reconnect_attempts: int = -1
    ping_interval: float = 10.0
    max_outstanding_pings: int = 3
    pending_size: int = 8 * 1024 * 1024
    """Bytes buffered while reconnecting; publishes beyond it fail at once (and are retried)."""

    def __attrs_post_init__(self) -> None:
        if not self.servers:
            raise ConfigurationError("give at least one NATS server URL")
        for server in self.servers:
            scheme = urlsplit(server).scheme if "://" in server else "nats"
            if scheme not in _SCHEMES:
                raise ConfigurationError(
                    f"NATS URL {redact_url(server)!r}: the scheme must be one of {sorted(_SCHEMES)}"
                )
        methods = [
            name
            for name, given in (
                ("user and password", self.user or self.password),
                ("token", self.token),
                ("credentials file", self.credentials_file),
                ("NKey seed file", self.nkey_seed_file),
            )
            if given
        ]
        if len(methods) > 1:
            raise ConfigurationError(f"choose one way to authenticate to NATS, not {' and '.join(methods)}")
        if bool(self.user) != bool(self.password):
            raise ConfigurationError("NATS user and password go together")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ConfigurationError("a TLS client certificate needs its key, and a key its certificate")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> NatsSettings:  # noqa: ANN401
        """Read the ``GRID_EVENTS_NATS_*`` variables (see the module docstring); *overrides* win."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(f"GRID_EVENTS_NATS_{name}", "").strip()

        def secret(name: str) -> str:
            file = get(f"{name}_FILE")
            return Path(file).read_text().strip() if file else get(name)

        values: dict[str, Any] = {
            "servers": get("URL") or DEFAULT_NATS_URL,
            "user": get("USER"),
            "password": secret("PASSWORD"),
            "token": secret("TOKEN"),
            "credentials_file": get("CREDS") or None,
            "nkey_seed_file": get("NKEY_SEED") or None,
            "tls": get("TLS").lower() in _TRUE,
            "tls_ca_file": get("TLS_CA") or None,
            "tls_cert_file": get("TLS_CERT") or None,
            "tls_key_file": get("TLS_KEY") or None,
            "tls_hostname": get("TLS_HOSTNAME"),
        }
        if get("NAME"):
            values["name"] = get("NAME")
        values.update(overrides)
        return cls(**values)

    @property
    def uses_tls(self) -> bool:
        """Whether connections are made over TLS."""
        return (
            self.tls
            or any(server.startswith(("tls://", "wss://")) for server in self.servers)
            or any((self.tls_ca_file, self.tls_cert_file, self.tls_key_file))
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """Return the TLS context to connect with, or ``None`` without TLS."""
        if not self.uses_tls:
            return None
        cafile = str(self.tls_ca_file) if self.tls_ca_file else None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.tls_cert_file and self.tls_key_file:
            context.load_cert_chain(str(self.tls_cert_file), str(self.tls_key_file))
        return context

    def connect_options(self) -> dict[str, Any]:
        """Return the keyword arguments of ``nats.aio.client.Client.connect`` (they hold secrets: never log them)."""
        options: dict[str, Any] = {
            "servers": list(self.servers),
            "name": self.name,
            "connect_timeout": self.connect_timeout,
            "reconnect_time_wait": self.reconnect_time_wait,
            "max_reconnect_attempts": self.max_reconnect_attempts,
            "ping_interval": self.ping_interval,
            "max_outstanding_pings": self.max_outstanding_pings,
            "pending_size": self.pending_size,
            "allow_reconnect": True,
        }
        if self.user:
            options["user"] = self.user
            options["password"] = self.password
        if self.token:
            options["token"] = self.token
        if self.credentials_file or self.nkey_seed_file:
            if importlib.util.find_spec("nkeys") is None:
                raise ConfigurationError("NATS credentials and NKeys need the nkeys package: pip install nkeys")
            if self.credentials_file:
                options["user_credentials"] = str(self.credentials_file)
            else:
                options["nkeys_seed"] = str(self.nkey_seed_file)
        context = self.ssl_context()
        if context is not None:
            options["tls"] = context
            options["tls_handshake_first"] = self.tls_handshake_first
            if self.tls_hostname:
                options["tls_hostname"] = self.tls_hostname
        return options


def _is_authorization_failure(error: BaseException) -> bool:
    return isinstance(error, nats.errors.AuthorizationError) or "authorization violation" in str(error).lower()


class _ConnectionLog:
    """Logs a connection's changes (never its credentials), then calls the caller's callbacks."""

    def __init__(
        self,
        where: str,
        disconnected_cb: Callback | None,
        reconnected_cb: Callback | None,
        error_cb: ErrorCallback | None,
    ) -> None:
        self.where = where
        self.client: Client | None = None
        self.connected = False
        self.last_error: Exception | None = None
        self.refused: Exception | None = None
        self.hopeless = asyncio.Event()
        """Set on an error retrying cannot cure (refused credentials, a certificate that does not verify)."""
        self._last_text = ""
        self._disconnected_cb = disconnected_cb
        self._reconnected_cb = reconnected_cb
        self._error_cb = error_cb

    async def disconnected(self) -> None:
        if self.client is not None and self.client.is_closed:
            logger.debug("disconnected from NATS (%s): closing", self.where)
        else:
            logger.warning("disconnected from NATS (%s); reconnecting", self.where)
        if self._disconnected_cb is not None:
            await self._disconnected_cb()

    async def reconnected(self) -> None:
        self._last_text = ""
        url = self.client.connected_url if self.client is not None else None
        logger.info("reconnected to NATS at %s", redact_url(url.geturl()) if url else self.where)
        if self._reconnected_cb is not None:
            await self._reconnected_cb()

    async def error(self, error: Exception) -> None:
        text = f"{type(error).__name__}: {error}"
        self.last_error = error
        if _is_authorization_failure(error):
            self.refused = error
        if not self.connected and (self.refused is not None or isinstance(error, ssl.SSLError)):
            self.hopeless.set()
        if self.connected:
            # nats-py reports every failed reconnection attempt: log a repeated error once.
            level = logging.DEBUG if text == self._last_text else logging.WARNING
            logger.log(level, "NATS connection error: %s", text)
        self._last_text = text
        if self._error_cb is not None:
            await self._error_cb(error)

    async def closed(self) -> None:
        logger.info("NATS connection to %s closed", self.where)


async def connect(
    settings: NatsSettings,
    *,
    disconnected_cb: Callback | None = None,
    reconnected_cb: Callback | None = None,
    error_cb: ErrorCallback | None = None,
    retries: int = 1,
) -> Client:
    """Connect to NATS as *settings* say, logging connection changes on ``grid_events.transport``.

    Each server is tried ``1 + retries`` times (at least twice: nats-py would
    otherwise retry the first connection forever, even with a wrong password);
    if none accepts, the last error is raised, for the caller to retry later.
    Once connected, the client reconnects by itself as *settings* say (for
    ever, by default). The extra callbacks run after the logging ones.
    """
    client = Client()
    log = _ConnectionLog(
        ", ".join(redact_url(server) for server in settings.servers), disconnected_cb, reconnected_cb, error_cb
    )
    log.client = client
    options = settings.connect_options()
    options["max_reconnect_attempts"] = max(1, retries)
    attempts = len(settings.servers) * (max(1, retries) + 1)
    deadline = attempts * 2 * (settings.connect_timeout + settings.reconnect_time_wait) + 1.0
    connecting = asyncio.create_task(
        client.connect(
            **options,
            disconnected_cb=log.disconnected,
            reconnected_cb=log.reconnected,
            error_cb=log.error,
            closed_cb=log.closed,
        )
    )
    hopeless = asyncio.create_task(log.hopeless.wait())
    try:
        # nats-py can hang for ever closing a connection whose TLS handshake failed, and would retry refused
        # credentials: bound the attempt, and give up at the first error retrying cannot cure.
        await asyncio.wait((connecting, hopeless), timeout=deadline, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await _abandon(connecting)
        await close_quietly(client, timeout=0.5)
        raise
    finally:
        hopeless.cancel()
    if connecting.done() and connecting.exception() is None:
        # From now on reconnect as configured (nats-py reads this option at each reconnection).
        client.options["max_reconnect_attempts"] = settings.max_reconnect_attempts
        log.connected = True
        return client
    failure = connecting.exception() if connecting.done() else None
    await _abandon(connecting)
    await close_quietly(client, timeout=0.5)
    raise _connect_error(log, failure, deadline)


def _connect_error(log: _ConnectionLog, failure: BaseException | None, deadline: float) -> BaseException:
    """Return the error that best explains why connecting failed."""
    refusal = log.refused or (failure if failure is not None and _is_authorization_failure(failure) else None)
    if refusal is not None:
        error = NatsAuthenticationError(f"NATS at {log.where} refused the credentials: {refusal}")
        error.__cause__ = refusal
        return error
    return log.last_error or failure or TimeoutError(f"no NATS server at {log.where} answered within {deadline:.0f} s")


async def _abandon(task: asyncio.Task[None]) -> None:
    """Cancel *task* and give it a moment to finish (nats-py may not let it)."""
    if not task.done():
        task.cancel()
        await asyncio.wait((task,), timeout=0.5)
    if task.done() and not task.cancelled():
        task.exception()  # seen: the caller reports the error it cares about


async def close_quietly(client: Client, timeout: float = 2.0) -> None:  # noqa: ASYNC109 (closing must not hang)
    """Close *client*, giving up after *timeout* seconds and ignoring errors: it is being dropped."""
    if client.is_closed:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), timeout=timeout)
