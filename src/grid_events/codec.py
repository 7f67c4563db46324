"""A deterministic msgpack codec for events, snapshots and messages.

:class:`MsgpackTranscoder` is an eventsourcing ``Transcoder``: it turns the
values events carry into bytes and back. Equal values always give the same bytes
(map keys and set items are sorted), which the audit hash chain relies on. The
byte layout is specified in ``docs/codec.md`` so that a program in another
language can decode it; the constants below are that specification's numbers.
"""

from __future__ import annotations

import enum
import keyword
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import msgpack
from eventsourcing.persistence import Transcoder

from grid_events.exceptions import GridEventsError

__all__ = [
    "CODEC_VERSION",
    "CodecError",
    "ExtCode",
    "MsgpackTranscoder",
    "TypeRegistry",
    "default_registry",
]

CODEC_VERSION = 1
"""Version of the byte layout described in ``docs/codec.md``."""


class ExtCode(enum.IntEnum):
    """msgpack extension type codes used by layout version 1."""

    UUID = 1
    """16 bytes, the UUID in network order."""
    DATETIME = 2
    """12 bytes: int64 microseconds since 1970-01-01T00:00Z, int32 UTC offset in seconds (big-endian)."""
    DATE = 3
    """4 bytes: int32 days since 1970-01-01 (big-endian)."""
    DECIMAL = 4
    """The decimal's canonical string (Python ``str(Decimal)``), UTF-8."""
    TIMEDELTA = 5
    """8 bytes: int64 microseconds (big-endian)."""
    LIST = 6
    """A msgpack array (arrays outside this extension decode as tuples)."""
    SET = 7
    """A msgpack array of the items, sorted by their encoded bytes."""
    FROZENSET = 8
    """As SET, decoded as an immutable set."""
    ENUM = 9
    """A msgpack array ``[type name, value]``."""
    RECORD = 10
    """A msgpack array ``[type name, map of field name to value]``: a value object."""


class CodecError(GridEventsError, ValueError):
    """Raised when bytes cannot be decoded, or a value has no encoding."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DATETIME = struct.Struct(">qi")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
_ONE_MICROSECOND = timedelta(microseconds=1)
_SCALARS = frozenset({str, int, float, bool, type(None), bytes})
"""Types msgpack encodes natively and deterministically, passed through as they are."""
_CACHE_SIZE = 4096
_STR_ONLY = {str}
_NOTHING = object()


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    """Return ``msgpack.ExtType(code, data)`` without its argument checks (ours are always valid)."""
    return tuple.__new__(msgpack.ExtType, (code, data))


class _Packers(threading.local):
    """One reusable msgpack Packer per thread (a Packer keeps a buffer, so it is not shared)."""

    def __init__(self) -> None:
        self.packer = msgpack.Packer(use_bin_type=True, strict_types=True, autoreset=True)


_PACKERS = _Packers()
_EMPTY_ARRAY = b"\x90"
_EMPTY_SET = _ext(ExtCode.SET, _EMPTY_ARRAY)
_EMPTY_FROZENSET = _ext(ExtCode.FROZENSET, _EMPTY_ARRAY)


class TypeRegistry:
    """The enums and attrs value classes a codec may encode, by stable name.

    The name, not the Python module path, is what is stored, so classes can move
    between modules freely. Renaming a class needs :meth:`alias` for old data.
    """

    def __init__(self, types: Iterable[type] = ()) -> None:
        self._by_name: dict[str, type] = {}
        self._by_type: dict[type, str] = {}
        self._fields: dict[type, tuple[str, ...]] = {}
        self._cached: set[type] = set()
        for kind in types:
            self.register(kind)

    def register(self, kind: type, name: str | None = None, *, cache: bool = False) -> None:
        """Register *kind* (an Enum or an attrs class) under *name* (default: its class name).

        With *cache*, codecs remember the encodings of recently seen instances
        (the class must be frozen and hashable): worth it for small values that
        recur in many events, such as the actor or the grid cell.
        """
        if not (issubclass(kind, enum.Enum) or attrs.has(kind)):
            msg = f"{kind!r} is neither an Enum nor an attrs class"
            raise TypeError(msg)
        name = name or kind.__name__
        existing = self._by_name.get(name)
        if existing is not None and existing is not kind:
            msg = f"type name {name!r} is already registered for {existing!r}"
            raise ValueError(msg)
        self._by_name[name] = kind
        self._by_type[kind] = name
        if attrs.has(kind):
            fields = attrs.fields(kind)
            self._fields[kind] = tuple(sorted(f.name for f in fields if f.init))
        if cache:
            self._cached.add(kind)

    def is_cached(self, kind: type) -> bool:
        """Return whether instances of *kind* may be cached by value."""
        return kind in self._cached

    def alias(self, old_name: str, kind: type) -> None:
        """Decode values stored under *old_name* as *kind* (after a rename)."""
        self._by_name[old_name] = kind

    def name_of(self, kind: type) -> str | None:
        """Return the registered name of *kind*, or None."""
        return self._by_type.get(kind)

    def type_named(self, name: str) -> type:
        """Return the type registered under *name*."""
        try:
            return self._by_name[name]
        except KeyError:
            raise CodecError(f"unknown type name {name!r}: register it with the codec") from None

    def field_names(self, kind: type) -> tuple[str, ...]:
        """Return the sorted init field names of the attrs class *kind*."""
        return self._fields[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._by_type


def default_registry() -> TypeRegistry:
    """Return a registry of every value type of the grid_events domain."""
    from grid_events.domain import VALUE_TYPES  # noqa: PLC0415 (the domain imports nothing of ours)
    from grid_events.domain.values import Actor, GridCell, Place  # noqa: PLC0415

    registry = TypeRegistry(VALUE_TYPES)
    for kind in (Actor, GridCell, Place):
        registry.register(kind, cache=True)
    return registry


class MsgpackTranscoder(Transcoder):
    """Encode values as deterministic msgpack bytes (layout version 1).

    Native msgpack types map as usual (nil, bool, int, float, str, bin, map);
    arrays decode as tuples. UUIDs, aware datetimes, dates, Decimals,
    timedeltas, lists, sets, frozensets, enums and attrs value objects use the
    extension types of :class:`ExtCode`.
    """

    def __init__(self, registry: TypeRegistry | None = None) -> None:
        self.registry = registry if registry is not None else default_registry()
        self._encoders: dict[type, Callable[[Any], Any]] = {
            tuple: self._encode_tuple,
            dict: self._encode_dict,
            list: self._encode_list,
            set: self._encode_set,
            frozenset: self._encode_frozenset,
            UUID: _encode_uuid,
            datetime: self._encode_datetime,
            date: _encode_date,
            Decimal: _encode_decimal,
            timedelta: _encode_timedelta,
        }
        # The last datetime encoded and its encoding: the events of one save often share a time.
        self._last_datetime: tuple[datetime | None, msgpack.ExtType | None] = (None, None)
        # Payload bytes -> decoded value, for enums and cached (immutable) value classes.
        self._decoded: dict[bytes, Any] = {}
        self._decoders: dict[int, Callable[[bytes], Any]] = {
            ExtCode.UUID: _decode_uuid,
            ExtCode.DATETIME: _decode_datetime,
            ExtCode.DATE: _decode_date,
            ExtCode.DECIMAL: _decode_decimal,
            ExtCode.TIMEDELTA: _decode_timedelta,
            ExtCode.LIST: self._decode_list,
            ExtCode.SET: self._decode_set,
            ExtCode.FROZENSET: self._decode_frozenset,
            ExtCode.ENUM: self._decode_enum,
            ExtCode.RECORD: self._decode_record,
        }

    # -- the Transcoder interface -------------------------------------------------

    def encode(self, obj: Any) -> bytes:
        """Return the msgpack bytes of *obj*.

        Raises :class:`CodecError` for a value with no encoding: an unregistered
        type, a naive datetime, an integer outside -2**63 … 2**64-1.
        """
        try:
            return self._pack(self._native(obj))
        except OverflowError as e:
            raise CodecError(f"cannot encode an integer outside -2**63 … 2**64-1: {e}") from e

    def encode_items(self, *items: Any) -> bytes:
        """Return the msgpack bytes of the array of *items*: ``encode(items)``, with less dispatch."""
        try:
            return self._pack(self._encode_tuple(items))
        except OverflowError as e:
            raise CodecError(f"cannot encode an integer outside -2**63 … 2**64-1: {e}") from e

    def layout_encoder(
        self, keys: Iterable[str], constants: Mapping[str, Any] | None = None
    ) -> Callable[[int, bytes, Mapping[str, Any]], bytes]:
        """Return ``encode(version, prev, fields)``, compiled for one layout of *fields*.

        It returns the same bytes as ``encode_items(version, prev, body)``,
        where *body* maps each of *keys* (strings) to its value in *fields*,
        plus the *constants*. *version* must be an int and *prev* bytes.
        Encoding a batch of events of one class this way skips sorting each
        one's fields and dispatching on each value's type from scratch.
        """
        build = self._map_builder(keys, constants=constants)
        packer = _PACKERS

        def encode(version: int, prev: bytes, fields: Mapping[str, Any]) -> bytes:
            try:
                return packer.packer.pack([version, prev, build(fields)])
            except OverflowError as e:
                raise CodecError(f"cannot encode an integer outside -2**63 … 2**64-1: {e}") from e

        return encode

    def decode(self, data: bytes) -> Any:
        """Return the value encoded in *data*."""
        try:
            return msgpack.unpackb(
                data,
                use_list=False,
                raw=False,
                strict_map_key=False,
                ext_hook=self._ext_hook,
            )
        except CodecError:
            raise
        except Exception as e:
            raise CodecError(f"cannot decode {len(data)} bytes: {e}") from e

    # -- encoding --------------------------------------------------------------------

    @staticmethod
    def _pack(native: Any) -> bytes:
        # The same bytes as msgpack.packb(native, use_bin_type=True, strict_types=True),
        # without building a Packer each time.
        return _PACKERS.packer.pack(native)

    def _native(self, obj: Any) -> Any:
        """Return *obj* as msgpack-native values and ExtTypes, maps sorted."""
        kind = type(obj)
        if kind in _SCALARS:
            return obj
        encoder = self._encoders.get(kind)
        if encoder is None:
            encoder = self._encoder_for(kind)
        return encoder(obj)

    def _encoder_for(self, kind: type) -> Callable[[Any], Any]:
        """Build, remember and return the encoder of a registered enum or value class."""
        name = self.registry.name_of(kind)
        if name is None:
            msg = f"cannot encode a {kind.__module__}.{kind.__qualname__}: register it with the codec's TypeRegistry"
            raise CodecError(msg)
        if issubclass(kind, enum.Enum):
            # Members are singletons: encode each once.
            members = {member: _ext(ExtCode.ENUM, self._pack([name, self._native(member.value)])) for member in kind}
            encoder: Callable[[Any], Any] = members.__getitem__
        else:
            field_names = self.registry.field_names(kind)
            to_map = self._map_builder(field_names, by_attribute=True)

            def encoder(obj: Any) -> msgpack.ExtType:
                # [name, fields] packs as the array header, the name and the map: the payload.
                return _ext(ExtCode.RECORD, _PACKERS.packer.pack([name, to_map(obj)]))

            if self.registry.is_cached(kind):
                encoder = _remembering(encoder)

        self._encoders[kind] = encoder
        return encoder

    def _map_builder(
        self,
        keys: Iterable[str],
        *,
        by_attribute: bool = False,
        constants: Mapping[str, Any] | None = None,
    ) -> Callable[[Any], dict[str, Any]]:
        """Return a function of an object giving the native map of its *keys*, as :meth:`_encode_dict` would.

        The function reads each key as an item of the object (a mapping), or
        with *by_attribute* as an attribute (attrs fields, always identifiers),
        and returns the values native, in the keys' sorted order; *constants*
        are entries of the map with a fixed value (they win over *keys*). It
        is compiled once for its keys: one dict display instead of a sort, a
        loop and an insertion a key, which made up most of the cost of
        encoding a value object or an event.
        """
        fixed = dict(constants or {})
        names = sorted({*keys, *fixed})
        if not all(type(name) is str for name in names) or (
            by_attribute and not all(name.isidentifier() and not keyword.iskeyword(name) for name in names)
        ):
            raise TypeError(f"cannot compile a map builder for the keys {names!r}")
        namespace: dict[str, Any] = {"scalars": _SCALARS, "native": self._native, "encoder": self._encoders.get}
        lines = ["def build(obj):"]
        entries = []
        for index, name in enumerate(names):
            if name in fixed:
                namespace[f"c{index}"] = self._native(fixed[name])
                entries.append(f"{name!r}: c{index}")
            else:
                lines.append(f"    v{index} = obj.{name}" if by_attribute else f"    v{index} = obj[{name!r}]")
                # Scalars as they are; other values by their type's encoder (native finds and keeps it).
                entries.append(
                    f"{name!r}: v{index} if (t := type(v{index})) in scalars else encoder(t, native)(v{index})"
                )
        lines.append(f"    return {{{', '.join(entries)}}}")
        exec("\n".join(lines), namespace)  # noqa: S102 (source built here from identifiers and reprs of str)
        build: Callable[[Any], dict[str, Any]] = namespace["build"]
        return build

    def _encode_datetime(self, obj: datetime) -> msgpack.ExtType:
        last, encoded = self._last_datetime
        if obj is last and encoded is not None:  # the very same (immutable) object
            return encoded
        encoded = _encode_datetime(obj)
        self._last_datetime = (obj, encoded)
        return encoded

    def _encode_tuple(self, obj: tuple[Any, ...]) -> list[Any]:
        native = self._native
        return [item if type(item) in _SCALARS else native(item) for item in obj]

    def _encode_list(self, obj: list[Any]) -> msgpack.ExtType:
        return _ext(ExtCode.LIST, self._pack([self._native(item) for item in obj]))

    def _encode_dict(self, obj: dict[Any, Any]) -> dict[Any, Any]:
        if set(map(type, obj)) == _STR_ONLY:
            native = self._native
            encoders = self._encoders
            result = {}
            for key in sorted(obj):
                value = obj[key]
                kind = type(value)
                if kind in _SCALARS:
                    result[key] = value
                else:
                    # _native(value), without a call for the types already known.
                    encoder = encoders.get(kind)
                    result[key] = native(value) if encoder is None else encoder(value)
            return result
        items = [(self._native(key), self._native(value)) for key, value in obj.items()]
        items.sort(key=lambda item: self._pack(item[0]))
        return dict(items)

    def _sorted_items(self, obj: Iterable[Any]) -> bytes:
        packed = sorted(self._pack(self._native(item)) for item in obj)
        header = self._pack_array_header(len(packed))
        return header + b"".join(packed)

    @staticmethod
    def _pack_array_header(length: int) -> bytes:
        return _PACKERS.packer.pack_array_header(length)

    def _encode_set(self, obj: set[Any]) -> msgpack.ExtType:
        return _ext(ExtCode.SET, self._sorted_items(obj)) if obj else _EMPTY_SET

    def _encode_frozenset(self, obj: frozenset[Any]) -> msgpack.ExtType:
        return _ext(ExtCode.FROZENSET, self._sorted_items(obj)) if obj else _EMPTY_FROZENSET

    # -- decoding --------------------------------------------------------------------

    def _ext_hook(self, code: int, payload: bytes) -> Any:
        decoder = self._decoders.get(code)
        if decoder is None:
            raise CodecError(f"unknown msgpack extension type {code}")
        return decoder(payload)

    def _unpack(self, payload: bytes) -> Any:
        return msgpack.unpackb(
            payload,
            use_list=False,
            raw=False,
            strict_map_key=False,
            ext_hook=self._ext_hook,
        )

    def _decode_list(self, payload: bytes) -> list[Any]:
        return list(self._unpack(payload))

    def _decode_set(self, payload: bytes) -> set[Any]:
        return set(self._unpack(payload))

    def _decode_frozenset(self, payload: bytes) -> frozenset[Any]:
        return frozenset(self._unpack(payload))

    def _decode_enum(self, payload: bytes) -> enum.Enum:
        member = self._decoded.get(payload)
        if member is not None:
            return member  # type: ignore[no-any-return]
        name, value = self._unpack(payload)
        kind = self.registry.type_named(name)
        if not issubclass(kind, enum.Enum):
            raise CodecError(f"type name {name!r} is not an enum")
        try:
            member = kind(value)
        except ValueError as e:
            raise CodecError(f"{value!r} is not a member of {name}") from e
        if len(self._decoded) >= _CACHE_SIZE:
            self._decoded.clear()
        self._decoded[payload] = member
        return member

    def _decode_record(self, payload: bytes) -> Any:
        cached = self._decoded.get(payload)
        if cached is not None:
            return cached
        name, fields = self._unpack(payload)
        kind = self.registry.type_named(name)
        if not attrs.has(kind):
            raise CodecError(f"type name {name!r} is not a value object")
        try:
            value = kind(**fields)
        except (TypeError, ValueError) as e:
            raise CodecError(f"cannot rebuild a {name}: {e}") from e
        if self.registry.is_cached(kind):
            if len(self._decoded) >= _CACHE_SIZE:
                self._decoded.clear()
            self._decoded[payload] = value
        return value


def _encode_uuid(obj: UUID) -> msgpack.ExtType:
    return _ext(ExtCode.UUID, obj.bytes)


def _decode_uuid(payload: bytes) -> UUID:
    return UUID(bytes=payload)


def _encode_datetime(obj: datetime) -> msgpack.ExtType:
    offset = obj.utcoffset()
    if offset is None:
        msg = f"cannot encode a naive datetime ({obj.isoformat()}): give it a timezone"
        raise CodecError(msg)
    micros = (obj - _EPOCH) // _ONE_MICROSECOND
    return _ext(ExtCode.DATETIME, _DATETIME.pack(micros, int(offset.total_seconds())))


def _decode_datetime(payload: bytes) -> datetime:
    micros, offset_seconds = _DATETIME.unpack(payload)
    tz = UTC if offset_seconds == 0 else timezone(timedelta(seconds=offset_seconds))
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(tz)


def _encode_date(obj: date) -> msgpack.ExtType:
    return _ext(ExtCode.DATE, _INT32.pack(obj.toordinal() - _EPOCH_ORDINAL))


def _decode_date(payload: bytes) -> date:
    (days,) = _INT32.unpack(payload)
    return date.fromordinal(days + _EPOCH_ORDINAL)


def _encode_decimal(obj: Decimal) -> msgpack.ExtType:
    return _ext(ExtCode.DECIMAL, str(obj).encode())


def _decode_decimal(payload: bytes) -> Decimal:
    return Decimal(payload.decode())


def _encode_timedelta(obj: timedelta) -> msgpack.ExtType:
    return _ext(ExtCode.TIMEDELTA, _INT64.pack(obj // _ONE_MICROSECOND))


def _decode_timedelta(payload: bytes) -> timedelta:
    (micros,) = _INT64.unpack(payload)
    return timedelta(microseconds=micros)


def _remembering(encoder: Callable[[Any], msgpack.ExtType]) -> Callable[[Any], msgpack.ExtType]:
    """Wrap *encoder* with a bounded cache keyed by the (hashable, immutable) value.

    The last value encoded is also kept by identity: the events of one save
    often carry the very same object (the actor), whose hash costs more than
    the check.
    """
    cache: dict[Any, msgpack.ExtType] = {}
    last: tuple[object, msgpack.ExtType | None] = (_NOTHING, None)

    def encode(obj: Any) -> msgpack.ExtType:
        nonlocal last
        last_obj, encoded = last
        if obj is last_obj and encoded is not None:
            return encoded
        encoded = cache.get(obj)
        if encoded is None:
            encoded = encoder(obj)
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[obj] = encoded
        last = (obj, encoded)
        return encoded

    return encode
