"""Waking the relay when another process saves to a PostgreSQL store.

eventsourcing's PostgreSQL recorder sends ``NOTIFY <channel>`` in every
transaction that inserts events. :class:`PostgresNotifyWaker` keeps one
connection listening on that channel and calls the relay's ``wake`` for each
notification, and once after each (re)connection for anything saved while it
was not listening. It only shortens the wait: the relay polls anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Self

__all__ = ["PostgresNotifyWaker"]

logger = logging.getLogger("grid_events.transport")

_CONNECTION_KEYS = ("dbname", "host", "port", "user", "password")


class PostgresNotifyWaker:
    """Calls *wake* whenever the PostgreSQL store's notification channel fires."""

    def __init__(
        self,
        connection_params: dict[str, Any],
        channel: str,
        wake: Callable[[], None],
        *,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
    ) -> None:
        self._params = connection_params
        self.channel = channel
        self._wake = wake
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def __repr__(self) -> str:
        return f"PostgresNotifyWaker(channel={self.channel!r}, host={self._params.get('host')!r})"

    @classmethod
    def for_recorder(cls, recorder: object, wake: Callable[[], None]) -> Self | None:
        """Return a waker for an eventsourcing PostgreSQL recorder, or ``None`` for other stores."""
        channel = getattr(recorder, "channel_name", None)
        pool = getattr(getattr(recorder, "datastore", None), "pool", None)
        kwargs = getattr(pool, "kwargs", None)
        if not isinstance(channel, str) or not channel or not isinstance(kwargs, dict):
            return None
        return cls({key: kwargs[key] for key in _CONNECTION_KEYS if kwargs.get(key) is not None}, channel, wake)

    def start(self) -> None:
        """Start listening in a task of the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="grid-events-postgres-notify")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.listening.clear()

    async def _listen(self) -> None:
        import psycopg  # noqa: PLC0415 (only with the postgres extra, only for PostgreSQL stores)
        from psycopg import sql  # noqa: PLC0415

        delay = self._retry_delay
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(autocommit=True, connect_timeout=10, **self._params)
                async with connection:
                    await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    delay = self._retry_delay
                    self.listening.set()
                    logger.debug("listening for new events on PostgreSQL channel %s", self.channel)
                    self._wake()
                    async for _ in connection.notifies():
                        self._wake()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 (listening is an optimisation: the relay also polls)
                self.listening.clear()
                logger.warning(
                    "cannot listen on PostgreSQL channel %s (%s); polling only, retrying in %.0f s",
                    self.channel,
                    type(e).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(self._max_retry_delay, delay * 2)
