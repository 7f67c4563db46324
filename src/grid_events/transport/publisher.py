"""Pipelined JetStream publishing whose every outcome reaches its future.

nats-py's ``js.publish_async`` leaves a future pending for ever when the server
answers with an error (nats.py issue 985), which is exactly the answer the
relay relies on to detect that the stream moved on. :class:`AckPipeline` does
the same request/reply dance itself: each message goes out with a reply subject
under one inbox, and the answer — an acknowledgement, an error, or "no stream
here" — completes that message's future. Futures that are never answered
(lost in a disconnection) are failed by :meth:`AckPipeline.fail_all`; callers
bound their waits as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import attrs
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from grid_events.transport.errors import PublishRejectedError, TransportError

__all__ = ["AckPipeline", "PubAck"]

_NO_RESPONDERS = "503"


@attrs.frozen(slots=True)
class PubAck:
    """JetStream's acknowledgement: the message is stored in *stream* at *seq*."""

    stream: str
    seq: int
    duplicate: bool = False


class AckPipeline:
    """Publishes to JetStream without waiting, and matches each answer to its message.

    Open it on a connected client, :meth:`publish` as fast as the caller likes
    (the caller bounds how many are in flight), and :meth:`close` it.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._futures: dict[str, asyncio.Future[PubAck]] = {}
        self._counter = itertools.count(1)
        self._prefix = ""
        self._subscription: Subscription | None = None

    @property
    def in_flight(self) -> int:
        """How many messages await their answer."""
        return len(self._futures)

    async def open(self) -> None:
        """Subscribe to the inbox the answers come to."""
        self._prefix = self._client.new_inbox() + "."
        self._subscription = await self._client.subscribe(self._prefix + "*", cb=self._on_reply)

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
        """Send one message; return the future of its acknowledgement.

        The future fails with :class:`PublishRejectedError` if JetStream refuses
        the message, or with what :meth:`fail_all` is given.
        """
        if self._subscription is None:
            raise TransportError("the pipeline is not open")
        token = str(next(self._counter))
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        self._futures[token] = future
        try:
            await self._client.publish(subject, payload, reply=self._prefix + token, headers=headers)
        except BaseException:
            del self._futures[token]
            raise
        return future

    def fail_all(self, error: BaseException) -> None:
        """Fail every outstanding future with *error*; later answers to them are ignored."""
        futures, self._futures = self._futures, {}
        for future in futures.values():
            if not future.done():
                future.set_exception(error)
                # Whoever abandons these may never look at them again: mark the error as seen.
                future.exception()

    async def close(self) -> None:
        """Stop listening for answers and cancel what is outstanding."""
        futures, self._futures = self._futures, {}
        for future in futures.values():
            future.cancel()
        subscription, self._subscription = self._subscription, None
        if subscription is not None and not self._client.is_closed:
            with contextlib.suppress(Exception):  # the connection is going away: nothing to clean
                await subscription.unsubscribe()

    async def _on_reply(self, msg: Msg) -> None:
        future = self._futures.pop(msg.subject[len(self._prefix) :], None)
        if future is None or future.done():
            return
        try:
            future.set_result(_parse_answer(msg))
        except PublishRejectedError as e:
            future.set_exception(e)
        except Exception as e:  # noqa: BLE001 (a malformed answer must still settle the future)
            future.set_exception(TransportError(f"unreadable JetStream answer: {e}"))


def _parse_answer(msg: Msg) -> PubAck:
    headers = msg.headers or {}
    if headers.get("Status") == _NO_RESPONDERS:
        raise PublishRejectedError(503, 0, "no stream captures this subject (no responders)")
    answer: dict[str, Any] = json.loads(msg.data)
    error = answer.get("error")
    if error is not None:
        raise PublishRejectedError(
            int(error.get("code", 0)), int(error.get("err_code", 0)), str(error.get("description", ""))
        )
    return PubAck(stream=str(answer["stream"]), seq=int(answer["seq"]), duplicate=bool(answer.get("duplicate")))
