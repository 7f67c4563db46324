"""Fetching from a JetStream pull consumer in batches: what ``PullSubscription.fetch`` does, more cheaply.

nats-py 2.16's ``fetch`` hands over each message through ``Subscription.next_msg``, which makes a UUID and
two asyncio tasks per message; at catch-up rates that costs more than everything the service does with the
message. :class:`Puller` speaks the same pull protocol on a plain subscription: it asks the consumer for a
batch (``$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>``), and collects what comes back in a list.

One request is outstanding at a time, so every message that arrives answers it. :meth:`Puller.fetch` first
asks for what is there (``no_wait``, without an expiry — the server ignores ``no_wait`` when one is given
— answered at once with the messages it has, then a 404 status if they were fewer than asked); if there is
nothing, it asks again with an expiry and returns as soon as the first message arrives. The rest of that
batch is kept for the next fetch, in the order the server delivered it. A 409 status (the consumer was
deleted, a leader changed) raises :class:`PullConflictError`, for the caller to start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

__all__ = ["PullConflictError", "Puller"]

_STATUS = "Status"
_DESCRIPTION = "Description"
_FINISHED = frozenset({"404", "408"})
"""No messages (for ``no_wait``), request expired."""
_HEARTBEAT = "100"
_NANOSECONDS = 1_000_000_000
_RECONNECT_CHECK = 0.25
"""Seconds between looks at whether the connection was re-established while waiting (the request then is lost)."""
_ANSWER_MARGIN = 5.0
"""Seconds past its expiry after which a request that got no answer is taken as lost (a reconnection)."""


class PullConflictError(Exception):
    """The server refused to deliver (a 409 status: the consumer was deleted, a leader changed, …)."""


class Puller:
    """Fetches batches from one JetStream pull consumer over *client* (open with :meth:`open`)."""

    def __init__(self, client: Client, stream: str, consumer: str, *, api_prefix: str = "$JS.API") -> None:
        self._client = client
        self._subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._received: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._requests = 0
        self._outstanding = ""
        """The reply subject of the request being answered ('' when none is)."""
        self._left = 0
        self._lost_after = 0.0
        self._reconnects = 0
        self._conflict = ""

    async def open(self) -> None:
        """Subscribe to the inbox the batches come to."""
        self._inbox = self._client.new_inbox()
        self._subscription = await self._client.subscribe(f"{self._inbox}.*", cb=self._on_message)

    async def close(self) -> None:
        """Stop listening; messages not handed over stay unacknowledged (the server delivers them again)."""
        subscription, self._subscription = self._subscription, None
        self._received.clear()
        if subscription is not None and not self._client.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(subscription.unsubscribe(), timeout=2.0)

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:  # noqa: ASYNC109 (a pull request's expiry)
        """Return up to *batch* messages: those there now, else the first to come within *timeout* s ([] if none)."""
        if self._subscription is None:
            raise RuntimeError("open the puller first")
        self._forget_lost_request()
        if not self._received and not self._outstanding:
            await self._request(batch, expires=None)
            await self._wait(lambda: not self._outstanding, _ANSWER_MARGIN)
        if not self._received:
            if not self._outstanding:
                await self._request(batch, expires=timeout)
            await self._wait(lambda: bool(self._received) or not self._outstanding, timeout + _ANSWER_MARGIN)
        return self._take(batch)

    async def drain(self, timeout: float) -> list[Msg]:  # noqa: ASYNC109 (the request's expiry)
        """Wait (*timeout* s at most) for the request still open to end; return everything it delivered.

        Asks for nothing more: what the server has handed over is taken, so that a stopping consumer can
        apply and acknowledge it rather than leave it to be delivered again.
        """
        self._forget_lost_request()
        if self._outstanding:
            await self._wait(lambda: not self._outstanding, timeout)
        return self._take(len(self._received))

    def _take(self, count: int) -> list[Msg]:
        if self._conflict and not self._received:
            conflict, self._conflict = self._conflict, ""
            raise PullConflictError(conflict)
        return [self._received.popleft() for _ in range(min(count, len(self._received)))]

    async def _request(self, batch: int, *, expires: float | None) -> None:
        self._requests += 1
        reply = f"{self._inbox}.{self._requests}"
        request: dict[str, object] = {"batch": batch}
        if expires is None:
            request["no_wait"] = True
        else:
            request["expires"] = int(expires * _NANOSECONDS)
        self._outstanding, self._left = reply, batch
        self._lost_after = asyncio.get_running_loop().time() + (expires or 0.0) + _ANSWER_MARGIN
        self._reconnects = self._client.stats["reconnects"]
        await self._client.publish(self._subject, json.dumps(request).encode(), reply=reply)

    def _forget_lost_request(self) -> None:
        # A request sent before a reconnection, or unanswered long past its expiry, is not coming back.
        if self._outstanding and (
            asyncio.get_running_loop().time() > self._lost_after or self._client.stats["reconnects"] != self._reconnects
        ):
            self._outstanding = ""

    async def _wait(self, condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        """Wait until *condition*, a conflict, a reconnection (the request is lost) or *timeout* seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition() and not self._conflict:
            if self._outstanding and self._client.stats["reconnects"] != self._reconnects:
                self._outstanding = ""
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout=min(remaining, _RECONNECT_CHECK))

    async def _on_message(self, msg: Msg) -> None:
        headers = msg.headers
        status = headers.get(_STATUS) if headers and not msg.data else None
        if status is None:
            self._received.append(msg)
            self._left -= 1
            if self._left <= 0:
                self._outstanding = ""
        elif status == _HEARTBEAT:
            return
        elif msg.subject == self._outstanding:
            if status not in _FINISHED:
                description = headers.get(_DESCRIPTION, "") if headers else ""
                self._conflict = f"{status} {description}".strip()
            self._outstanding = ""
        self._arrived.set()
