"""The service's one connection to NATS: made on demand, remade after it closes, never given up on.

nats-py reconnects by itself once connected (``max_reconnect_attempts=-1`` in
:class:`~grid_events.transport.NatsSettings`); what it does not do is make
the *first* connection again and again while NATS is away. :class:`NatsLink`
does: :meth:`NatsLink.jetstream` waits (with a capped, doubling delay) until a
connection exists, or until the service stops.
"""

from __future__ import annotations

import asyncio
import logging
import random

from nats.aio.client import Client
from nats.js import JetStreamContext

from grid_events.transport import NatsAuthenticationError, NatsSettings, connect

__all__ = ["NatsLink", "StoppingError", "sleep_unless"]

logger = logging.getLogger("grid_service.runtime")


class StoppingError(Exception):
    """The service is stopping: give up what you are waiting for."""


async def sleep_unless(stop: asyncio.Event, delay: float) -> None:
    """Sleep *delay* seconds, or raise :class:`StoppingError` as soon as *stop* is set."""
    if stop.is_set():
        raise StoppingError
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return
    raise StoppingError


class NatsLink:
    """One NATS connection shared by every consumer of the service."""

    def __init__(
        self, settings: NatsSettings, stop: asyncio.Event, *, retry_delay: float = 0.2, max_retry_delay: float = 10.0
    ) -> None:
        self.settings = settings
        self._stop = stop
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self.last_error = ""

    @property
    def connected(self) -> bool:
        """Whether the connection is up right now."""
        return self._client is not None and self._client.is_connected

    @property
    def client(self) -> Client | None:
        """The connection, if one was made (it may be reconnecting)."""
        return self._client

    async def connection(self) -> Client:
        """Return the connection, connecting first if need be (retries until the service stops)."""
        async with self._lock:
            client = self._client
            if client is None or client.is_closed:
                client = self._client = await self._connect()
            return client

    async def jetstream(self) -> JetStreamContext:
        """Return a JetStream context, connecting first if need be (retries until the service stops)."""
        return (await self.connection()).jetstream()

    async def _connect(self) -> Client:
        failures = 0
        while True:
            if self._stop.is_set():
                raise StoppingError
            try:
                client = await connect(self.settings)
            except NatsAuthenticationError as e:
                # Retrying cannot cure refused credentials, but an operator may fix them on the server: keep
                # trying, slowly, and say so loudly.
                failures += 1
                self.last_error = str(e)
                logger.error(  # noqa: TRY400 (the message says it all: no traceback)
                    "%s; fix the credentials (GRID_EVENTS_NATS_*): retrying every %.0f s", e, self._max_retry_delay
                )
                await sleep_unless(self._stop, self._max_retry_delay)
            except (OSError, TimeoutError, Exception) as e:  # noqa: BLE001 (nats-py raises many types; all mean "not yet")
                failures += 1
                self.last_error = f"{type(e).__name__}: {e}"
                delay = min(self._max_retry_delay, self._retry_delay * 2 ** min(failures - 1, 16))
                delay *= random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)
                level = logging.WARNING if failures in {1, 10} or failures % 100 == 0 else logging.DEBUG
                logger.log(
                    level, "cannot reach NATS (%s); attempt %d, retrying in %.1f s", self.last_error, failures, delay
                )
                await sleep_unless(self._stop, delay)
            else:
                self.last_error = ""
                if failures:
                    logger.info("connected to NATS after %d failed attempts", failures)
                return client

    async def close(self) -> None:
        """Close the connection, sending what is buffered first; give up after a few seconds."""
        client, self._client = self._client, None
        if client is None or client.is_closed:
            return
        try:
            # Closing flushes what is buffered (acknowledgements among it) before it disconnects.
            await asyncio.wait_for(client.close(), timeout=5.0)
        except Exception:
            logger.warning("closing the NATS connection failed", exc_info=True)
