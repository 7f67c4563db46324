"""The msgpack codec: round trips, determinism, the documented byte layout, clear errors."""

from __future__ import annotations

import enum
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grid_events import Actor, CodecError, GridCell, MsgpackTranscoder, Role, TypeRegistry, ValidationError
from grid_events.codec import ExtCode, default_registry
from strategies import int64s, same_value, values

CODEC = MsgpackTranscoder()


@given(values)
def test_every_supported_value_round_trips_with_its_type(value: Any) -> None:
    """Decoding the encoding gives back an equal value of the same types, all the way down."""
    assert same_value(value, CODEC.decode(CODEC.encode(value)))


@given(st.dictionaries(st.text(max_size=5), int64s, max_size=8), st.randoms())
def test_maps_encode_the_same_whatever_their_insertion_order(mapping: dict[str, int], rng: Any) -> None:
    """Equal dicts built in different orders give identical bytes."""
    items = list(mapping.items())
    rng.shuffle(items)
    assert CODEC.encode(mapping) == CODEC.encode(dict(items))


@given(st.frozensets(int64s | st.text(max_size=5), max_size=8))
def test_sets_encode_the_same_whatever_their_iteration_order(items: frozenset[Any]) -> None:
    """A set's bytes depend on its members only, not on hash order."""
    rebuilt = frozenset(reversed(list(items)))
    assert CODEC.encode(items) == CODEC.encode(rebuilt)
    assert CODEC.encode(set(items)) == CODEC.encode(set(rebuilt))


@given(values)
def test_encoding_is_a_function_of_the_value(value: Any) -> None:
    """Encoding a decoded value again gives the same bytes (a fixed point)."""
    encoded = CODEC.encode(value)
    assert encoded == CODEC.encode(CODEC.decode(encoded))


def _str(text: str) -> bytes:
    """A msgpack fixstr (the layout test only uses strings under 32 bytes)."""
    data = text.encode()
    assert len(data) < 32
    return bytes([0xA0 | len(data)]) + data


def _ext(code: int, payload: bytes) -> bytes:
    """A msgpack extension: fixext for 1/2/4/8/16 bytes, else ext 8."""
    fixext = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if len(payload) in fixext:
        return bytes([fixext[len(payload)], code]) + payload
    assert len(payload) < 256
    return bytes([0xC7, len(payload), code]) + payload


def _enum(name: str, value: str) -> bytes:
    return _ext(9, b"\x92" + _str(name) + _str(value))


def test_the_byte_layout_is_the_documented_one() -> None:
    """The bytes of a known value match docs/codec.md, written here from the spec, not the codec."""
    value = {
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "at": datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        "on": date(2026, 11, 2),
        "amount": Decimal("12.50"),
        "role": Role.SUPERVISOR,
        "actor": Actor("w-1", Role.GRID_WORKER),
        "items": ("a", 1),
    }
    micros = int(datetime(2026, 11, 2, 1, 30, tzinfo=UTC).timestamp()) * 10**6
    days = (date(2026, 11, 2) - date(1970, 1, 1)).days
    actor_fields = b"\x82" + _str("role") + _enum("Role", "grid_worker") + _str("worker_id") + _str("w-1")

    expected = (
        b"\x87"  # a map of 7 entries, keys in sorted order
        + _str("actor")
        + _ext(10, b"\x92" + _str("Actor") + actor_fields)
        + _str("amount")
        + _ext(4, b"12.50")
        + _str("at")
        + _ext(2, micros.to_bytes(8, "big", signed=True) + (8 * 3600).to_bytes(4, "big", signed=True))
        + _str("id")
        + _ext(1, bytes.fromhex("12345678123456781234567812345678"))
        + _str("items")
        + b"\x92"
        + _str("a")
        + b"\x01"
        + _str("on")
        + _ext(3, days.to_bytes(4, "big", signed=True))
        + _str("role")
        + _enum("Role", "supervisor")
    )

    assert expected.hex() == CODEC.encode(value).hex()


def test_arrays_decode_as_tuples_and_lists_keep_their_type() -> None:
    """A plain msgpack array is a tuple; a Python list travels as the LIST extension."""
    assert (1, 2) == CODEC.decode(msgpack.packb([1, 2]))
    assert [1, 2] == CODEC.decode(CODEC.encode([1, 2]))
    assert ExtCode.LIST == msgpack.unpackb(CODEC.encode([1]), ext_hook=lambda code, _: code)


def test_a_naive_datetime_is_refused() -> None:
    """Events record instants: a datetime without a timezone is a mistake, refused clearly."""
    with pytest.raises(CodecError, match="naive datetime"):
        CODEC.encode(datetime(2026, 1, 1))  # noqa: DTZ001 (the point of the test)


def test_an_unregistered_type_is_refused_naming_it() -> None:
    """Encoding an unknown class says which class and how to fix it."""

    @attrs.frozen
    class Unknown:
        x: int

    with pytest.raises(CodecError, match=r"Unknown.*register it"):
        CODEC.encode(Unknown(1))


def test_a_registered_type_of_your_own_round_trips() -> None:
    """Developers register their own value objects and enums by name."""

    class Colour(enum.Enum):
        RED = "red"

    @attrs.frozen
    class Sign:
        colour: Colour
        text: str

    registry = default_registry()
    registry.register(Colour)
    registry.register(Sign, name="StreetSign")
    codec = MsgpackTranscoder(registry)

    assert Sign(Colour.RED, "停") == codec.decode(codec.encode(Sign(Colour.RED, "停")))


def test_a_renamed_type_still_decodes_through_an_alias() -> None:
    """Old bytes stored under a former class name decode after registering an alias."""
    old = TypeRegistry([Role])
    old.register(GridCell, name="Cell")
    stored = MsgpackTranscoder(old).encode(GridCell("江南", "飞凤", "03"))

    registry = default_registry()
    registry.alias("Cell", GridCell)

    assert GridCell("江南", "飞凤", "03") == MsgpackTranscoder(registry).decode(stored)


def test_two_types_cannot_share_a_name() -> None:
    """Registering a second class under a taken name is refused."""

    @attrs.frozen
    class Actor:  # same name as the domain's Actor
        x: int

    with pytest.raises(ValueError, match="already registered"):
        default_registry().register(Actor)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\xc1", b"\xd8\x63" + bytes(16), b"\xc7\x03\x0a\x91\xa1x"],
    ids=["empty", "reserved byte", "unknown extension", "truncated record"],
)
def test_garbage_bytes_raise_a_codec_error(garbage: bytes) -> None:
    """Bytes that are not a valid encoding raise CodecError, never something obscure."""
    with pytest.raises(CodecError):
        CODEC.decode(garbage)


def test_a_record_with_an_invalid_field_is_refused_on_decoding() -> None:
    """Decoding rebuilds value objects through their validators, so corrupt data is caught."""
    fields = {"role": msgpack.ExtType(ExtCode.ENUM, msgpack.packb(["Role", "mediator"])), "worker_id": ""}
    corrupt = msgpack.packb(msgpack.ExtType(ExtCode.RECORD, msgpack.packb(["Actor", fields])))
    with pytest.raises(CodecError, match="Actor"):
        CODEC.decode(corrupt)


def test_an_integer_beyond_64_bits_is_refused() -> None:
    """Msgpack integers are 64-bit; a larger one is refused with a CodecError, not an overflow."""
    with pytest.raises(CodecError, match="integer"):
        CODEC.encode({"n": 2**64})


@given(st.lists(values, max_size=4))
def test_encoding_items_is_encoding_their_tuple(items: list[Any]) -> None:
    """encode_items(*items) gives the bytes of encode(tuple(items))."""
    assert CODEC.encode(tuple(items)) == CODEC.encode_items(*items)


def test_the_same_instant_in_two_offsets_encodes_each_offset_after_the_other() -> None:
    """Remembering the last datetime encoded never confuses equal datetimes of different offsets."""
    codec = MsgpackTranscoder()
    utc = datetime(2026, 11, 2, 1, tzinfo=UTC)
    beijing = utc.astimezone(timezone(timedelta(hours=8)))
    assert utc == beijing

    first, second, again = codec.encode(utc), codec.encode(beijing), codec.encode(utc)

    assert first != second
    assert first == again == MsgpackTranscoder().encode(utc)
    assert codec.decode(second).utcoffset() == timedelta(hours=8)


def test_cached_value_objects_encode_alike_whether_the_same_object_or_an_equal_one() -> None:
    """The actor or cell last encoded is remembered by identity; an equal object gives the same bytes."""
    codec = MsgpackTranscoder()
    actor = Actor("w-li", Role.GRID_WORKER)
    other = Actor("w-zhao", Role.GRID_WORKER)
    encoded = [codec.encode(value) for value in (actor, actor, other, Actor("w-li", Role.GRID_WORKER), actor)]
    assert encoded[0] == encoded[1] == encoded[3] == encoded[4] != encoded[2]
    assert encoded[0] == MsgpackTranscoder().encode(Actor("w-li", Role.GRID_WORKER))


def test_extension_values_are_packed_exactly_as_msgpack_packs_them() -> None:
    """The codec's ExtTypes (made without msgpack's checks) pack to msgpack's own bytes."""
    value = {"when": datetime(2026, 1, 1, tzinfo=UTC), "id": UUID(int=7), "tags": frozenset(), "set": set()}
    expected = msgpack.packb(
        {
            "id": msgpack.ExtType(ExtCode.UUID, UUID(int=7).bytes),
            "set": msgpack.ExtType(ExtCode.SET, b"\x90"),
            "tags": msgpack.ExtType(ExtCode.FROZENSET, b"\x90"),
            "when": msgpack.ExtType(ExtCode.DATETIME, bytes.fromhex("000647484620400000000000")),
        },
        use_bin_type=True,
    )
    assert expected == CODEC.encode(value)


def test_threads_encoding_at_once_get_the_bytes_each_would_alone() -> None:
    """Each thread packs with a Packer of its own: concurrent encodes never mix their bytes."""
    codec = MsgpackTranscoder()
    samples = [{"n": n, "cell": GridCell("江南", "飞凤", f"{n:02}"), "text": "x" * n} for n in range(1, 60)]
    alone = [codec.encode(sample) for sample in samples]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(20):
            assert alone == list(pool.map(codec.encode, samples))


@given(
    st.dictionaries(st.text(max_size=6), values, max_size=6),
    st.dictionaries(st.text(max_size=6), int64s, max_size=2),
    st.binary(max_size=32),
)
def test_a_layout_encoder_gives_the_bytes_of_encode_items(
    fields: dict[str, Any], constants: dict[str, int], prev: bytes
) -> None:
    """layout_encoder(keys, constants)(1, prev, fields) is encode_items(1, prev, those fields plus the constants)."""
    encode = CODEC.layout_encoder(fields, constants)
    assert CODEC.encode_items(1, prev, fields | constants) == encode(1, prev, fields)
    reordered = dict(reversed(fields.items()))
    assert encode(1, prev, fields) == CODEC.layout_encoder(reordered, constants)(1, prev, reordered)


def test_a_value_object_packs_as_its_name_and_sorted_fields() -> None:
    """A registered attrs value is the RECORD extension of ``[name, {field: value, ...}]``, fields sorted."""
    cell = GridCell("江南", "飞凤", "03")
    codec = MsgpackTranscoder()
    payload = msgpack.packb(["GridCell", {f: getattr(cell, f) for f in sorted(attrs.fields_dict(GridCell))}])
    assert msgpack.packb(msgpack.ExtType(ExtCode.RECORD, payload), use_bin_type=True) == codec.encode(cell)
    assert [codec.encode(cell)] * 2 == [codec.encode(cell), MsgpackTranscoder().encode(GridCell("江南", "飞凤", "03"))]


def test_a_layout_encoder_refuses_an_integer_beyond_64_bits() -> None:
    """The compiled layout refuses a too-large integer as encode does: a CodecError."""
    with pytest.raises(CodecError, match="integer"):
        CODEC.layout_encoder(["n"])(1, b"", {"n": 2**64})


def test_text_must_be_a_plain_str_so_equal_values_encode_alike() -> None:
    """A str subclass (an enum member) equals its text but would encode as its own type: refused by name."""
    with pytest.raises(ValidationError) as raised:
        Actor(Role.SUPERVISOR, Role.SUPERVISOR)
    assert "worker_id" == raised.value.field
    assert CODEC.encode(Actor("supervisor", Role.SUPERVISOR)) == CODEC.encode(
        Actor(str(Role.SUPERVISOR), Role.SUPERVISOR)
    )
