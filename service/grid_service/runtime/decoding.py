"""Reading each message once for every view: a small cache of decoded messages, keyed by stream sequence.

Every view's consumer receives every message of the stream and must check it
(headers, link hash) before its engine applies it. The views of one service
read the same stream, usually close behind each other, so the first consumer
to read a message keeps the result for the others. A cached message is used
only for a message with the very same subject, headers and body bytes.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping

from nats.aio.msg import Msg

from grid_events.transport import EventMessage, decode_nats_msg

__all__ = ["MessageReader"]


class MessageReader:
    """Decodes messages with :func:`grid_events.transport.decode_nats_msg`, remembering the last *size* of them.

    Raises what ``decode_nats_msg`` raises (:class:`~grid_events.transport.WireFormatError` for a message
    that is not a well-formed grid event); failures are not remembered.
    """

    def __init__(self, size: int = 8192) -> None:
        self._size = size
        self._read: collections.OrderedDict[int, tuple[str, Mapping[str, str] | None, bytes, EventMessage]] = (
            collections.OrderedDict()
        )

    def read(self, msg: Msg, sequence: int) -> EventMessage:
        """Return the event *msg* (at stream *sequence*) carries, checked."""
        found = self._read.get(sequence)
        if found is not None:
            subject, headers, data, message = found
            if data == msg.data and headers == msg.headers and subject == msg.subject:
                return message
        message = decode_nats_msg(msg)
        if self._size > 0:
            self._read[sequence] = (msg.subject, msg.headers, msg.data, message)
            if len(self._read) > self._size:
                self._read.popitem(last=False)
        return message
