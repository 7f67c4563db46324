"""The JetStream stream the events go to, and its last message: the relay's cursor.

:class:`StreamSettings` describes the stream (``GRID_EVENTS`` on
``grid.events.>`` by default, file storage, de-duplication window, deletes and
purges denied). :func:`ensure_stream` creates it if missing and checks an
existing one. :func:`read_stream_head` returns the stream's last sequence and
the event store position its last message carries: where a relay resumes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import attrs
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from grid_events.exceptions import ConfigurationError
from grid_events.transport.errors import StreamMismatchError, WireFormatError
from grid_events.transport.wire import DEFAULT_SUBJECT_PREFIX, Header, decode_message

__all__ = ["DEFAULT_STREAM_NAME", "StreamHead", "StreamSettings", "ensure_stream", "read_stream_head"]

logger = logging.getLogger("grid_events.transport")

DEFAULT_STREAM_NAME = "GRID_EVENTS"
_STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_SUBJECT_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_MAX_REPLICAS = 5
_STREAM_NOT_FOUND = 10059


def _check_name(_: object, __: attrs.Attribute[str], value: str) -> None:
    if not _STREAM_NAME.fullmatch(value):
        raise ConfigurationError(f"stream name {value!r}: use letters, digits, '-' and '_' only")


def _check_prefix(_: object, __: attrs.Attribute[str], value: str) -> None:
    if not all(_SUBJECT_TOKEN.fullmatch(token) for token in value.split(".")):
        raise ConfigurationError(f"subject prefix {value!r}: dot-separated tokens of letters, digits, '-' and '_'")


def _check_replicas(_: object, __: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= _MAX_REPLICAS:
        raise ConfigurationError(f"replicas must be between 1 and {_MAX_REPLICAS}, not {value}")


def _check_window(_: object, __: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ConfigurationError(f"the de-duplication window must be positive, not {value}")


@attrs.frozen
class StreamSettings:
    """The stream the relay fills.

    *duplicate_window* is in seconds: JetStream drops a message whose
    ``Nats-Msg-Id`` it stored that recently. *replicas* is 1 on a single server;
    use 3 (or 5) on a cluster spread over failure domains.
    """

    name: str = attrs.field(default=DEFAULT_STREAM_NAME, validator=_check_name)
    subject_prefix: str = attrs.field(default=DEFAULT_SUBJECT_PREFIX, validator=_check_prefix)
    duplicate_window: float = attrs.field(default=120.0, validator=_check_window)
    replicas: int = attrs.field(default=1, validator=_check_replicas)
    description: str = "grid_events: every event of the event store, in notification order"

    @property
    def subjects(self) -> str:
        """The stream's one subject filter: ``<prefix>.>``."""
        return f"{self.subject_prefix}.>"

    def stream_config(self) -> StreamConfig:
        """Return the JetStream configuration of the stream."""
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=[self.subjects],
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            storage=StorageType.FILE,
            num_replicas=self.replicas,
            duplicate_window=self.duplicate_window,
            deny_delete=True,
            deny_purge=True,
            allow_rollup_hdrs=False,
            allow_direct=True,
        )


async def ensure_stream(js: JetStreamContext, settings: StreamSettings) -> None:
    """Create the stream if it does not exist; check it if it does.

    An existing stream must capture exactly ``<prefix>.>`` and keep every
    message (no limits, deletes and purges denied): the relay reads its cursor
    from the last message, and a stream that other subjects also write to, or
    that drops old messages, cannot carry it. Raises
    :class:`StreamMismatchError` otherwise. A different de-duplication window or
    replica count is only logged: the operator may have tuned them.
    """
    wanted = settings.stream_config()
    try:
        info = await js.stream_info(settings.name)
    except NotFoundError as e:
        if getattr(e, "err_code", None) not in {None, _STREAM_NOT_FOUND}:
            raise
        await js.add_stream(wanted)
        logger.info(
            "created stream %s on %s (replicas %d, de-duplication window %.0f s)",
            settings.name,
            settings.subjects,
            settings.replicas,
            settings.duplicate_window,
        )
        return
    config = info.config
    problems = []
    if list(config.subjects or []) != [settings.subjects]:
        problems.append(f"subjects are {config.subjects}, not [{settings.subjects!r}]")
    if config.retention not in {None, RetentionPolicy.LIMITS}:
        problems.append(f"retention is {config.retention}, not limits")
    for limit in ("max_msgs", "max_bytes", "max_age", "max_msgs_per_subject"):
        value = getattr(config, limit)
        if value not in {None, -1, 0}:
            problems.append(f"{limit} is {value}: old events would be dropped")
    if problems:
        raise StreamMismatchError(f"stream {settings.name} cannot carry the events: " + "; ".join(problems))
    _log_differences(settings, config)


def _log_differences(settings: StreamSettings, config: StreamConfig) -> None:
    differences: dict[str, tuple[Any, Any]] = {}
    if config.num_replicas not in {None, settings.replicas}:
        differences["replicas"] = (config.num_replicas, settings.replicas)
    if config.duplicate_window and abs(config.duplicate_window - settings.duplicate_window) > 1e-3:  # noqa: PLR2004
        differences["duplicate_window"] = (config.duplicate_window, settings.duplicate_window)
    if not config.deny_delete or not config.deny_purge:
        differences["deny_delete/deny_purge"] = ((config.deny_delete, config.deny_purge), (True, True))
    for name, (actual, configured) in differences.items():
        logger.warning("stream %s has %s %s; the relay is configured for %s", settings.name, name, actual, configured)


@attrs.frozen
class StreamHead:
    """The stream's last sequence and the event store position of its last message."""

    last_sequence: int
    notification_id: int
    msg_id: str

    @classmethod
    def empty(cls) -> StreamHead:
        """Return the head of a stream with nothing in it."""
        return cls(0, 0, "")


async def read_stream_head(js: JetStreamContext, settings: StreamSettings) -> StreamHead:
    """Return where the stream ends: its last sequence and the notification id of that message.

    Raises :class:`StreamMismatchError` if the last message is not a grid
    event, or is gone (so the position is lost).
    """
    info = await js.stream_info(settings.name)
    last = int(info.state.last_seq or 0)
    if last == 0:
        return StreamHead.empty()
    try:
        raw = await js.get_msg(settings.name, seq=last)
    except NotFoundError as e:
        raise StreamMismatchError(
            f"stream {settings.name}: its last message (sequence {last}) is gone, so the relay's position is lost"
        ) from e
    try:
        message = decode_message(raw.headers, raw.data or b"", subject=raw.subject, verify=False)
    except WireFormatError as e:
        raise StreamMismatchError(
            f"stream {settings.name}: its last message (sequence {last}) is not a grid event: {e}"
        ) from e
    msg_id = (raw.headers or {}).get(Header.MSG_ID, message.msg_id)
    return StreamHead(last, message.notification_id, msg_id)
