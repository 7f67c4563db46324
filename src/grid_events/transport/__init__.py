"""Every stored event, in order and each once, to NATS JetStream: the outbox relay.

The event store is the record of truth and the outbox; the stream is a
transport that can always be refilled from it. ``docs/transport.md`` explains
the wire format, the guarantees and how to run it.

* :class:`OutboxRelay` / :class:`RelaySettings`: the relay, in-process
  (``async with OutboxRelay(app, settings) as relay``) or as a process
  (:func:`run_relay`, :func:`main`).
* :class:`NatsSettings`: servers, credentials, TLS, reconnection.
* :class:`StreamSettings`: the stream's name, subjects, de-duplication window, replicas.
* :func:`decode_message`, :func:`decode_nats_msg`, :class:`EventMessage`,
  :class:`ChainVerifier`: for consumers.
* :class:`EmbeddedNatsServer`: a nats-server child process for development and tests.

Importing this package starts nothing.
"""

from __future__ import annotations

from grid_events.transport.cli import EventStoreReader, main, open_event_store, run_relay
from grid_events.transport.connection import NatsSettings, connect
from grid_events.transport.errors import (
    NatsAuthenticationError,
    NatsServerError,
    NatsServerNotFoundError,
    NatsServerPortInUseError,
    PublishRejectedError,
    RelayStoppedError,
    StreamMismatchError,
    TransportError,
    WireFormatError,
)
from grid_events.transport.relay import OutboxRelay, RelaySettings
from grid_events.transport.server import EmbeddedNatsServer, find_nats_server
from grid_events.transport.status import RelayState, RelayStatus
from grid_events.transport.stream import StreamSettings, ensure_stream
from grid_events.transport.wire import (
    CONTENT_TYPE,
    ChainVerifier,
    EventMessage,
    Header,
    decode_message,
    decode_nats_msg,
    kind_of_topic,
)

__all__ = [
    "CONTENT_TYPE",
    "ChainVerifier",
    "EmbeddedNatsServer",
    "EventMessage",
    "EventStoreReader",
    "Header",
    "NatsAuthenticationError",
    "NatsServerError",
    "NatsServerNotFoundError",
    "NatsServerPortInUseError",
    "NatsSettings",
    "OutboxRelay",
    "PublishRejectedError",
    "RelaySettings",
    "RelayState",
    "RelayStatus",
    "RelayStoppedError",
    "StreamMismatchError",
    "StreamSettings",
    "TransportError",
    "WireFormatError",
    "connect",
    "decode_message",
    "decode_nats_msg",
    "ensure_stream",
    "find_nats_server",
    "kind_of_topic",
    "main",
    "open_event_store",
    "run_relay",
]
