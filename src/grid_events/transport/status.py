"""How far the stream got: the relay's state, its counters, and waiting for a position.

:class:`PublishedPosition` holds the highest notification id known to be in the
stream and wakes the tasks waiting for it to reach theirs.
:class:`RelayState` and :class:`RelayStatus` describe the relay for health
checks and metrics; neither ever holds a secret or an event body.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools

import attrs

__all__ = ["PublishedPosition", "RelayState", "RelayStatus"]


class RelayState(enum.StrEnum):
    """What the relay is doing."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    SYNCING = "syncing"
    """Reading the stream's last message to find where to continue."""
    PUBLISHING = "publishing"
    IDLE = "idle"
    """Caught up: waiting for a save, a notification or the next poll."""
    RETRYING = "retrying"
    """Waiting after an error before trying again."""
    FAILED = "failed"
    """Stopped for good: the stream does not belong to this store (see ``last_error``)."""


@attrs.frozen
class RelayStatus:
    """A snapshot of the relay, for health checks and metrics."""

    state: RelayState
    position: int
    """The highest notification id known to be in the stream (0: none yet)."""
    latest_saved: int
    """The highest notification id the application reported saving (0: none seen)."""
    published: int
    """Messages acknowledged since start."""
    resyncs: int
    conflicts: int
    """Publishes refused because the stream had moved on (a retry that had landed, or another relay)."""
    last_error: str


class PublishedPosition:
    """The highest notification id known to be in the stream, and who waits for it."""

    def __init__(self) -> None:
        self.value = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def advance(self, notification_id: int) -> bool:
        """Move forward to *notification_id* (never back); wake whoever waited for it. Return whether it moved."""
        moved = notification_id > self.value
        if moved:
            self.value = notification_id
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.value:
            _, _, future = heapq.heappop(waiters)
            if not future.done():
                future.set_result(None)
        return moved

    def fall_back(self, notification_id: int) -> None:
        """Move back to *notification_id*: the stream lost what it had acknowledged beyond it."""
        self.value = min(self.value, notification_id)

    async def wait(self, notification_id: int, timeout: float | None) -> None:  # noqa: ASYNC109 (a deadline is the point)
        """Wait until the position reaches *notification_id*; ``TimeoutError`` after *timeout* seconds."""
        if notification_id <= self.value:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (notification_id, next(self._order), future))
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            if not future.done():
                future.cancel()

    def fail(self, error: BaseException) -> None:
        """Fail every waiter with *error* (the relay stopped)."""
        waiters, self._waiters = self._waiters, []
        for _, _, future in waiters:
            if not future.done():
                future.set_exception(error)
