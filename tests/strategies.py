"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from grid_events import Actor, EvidenceKind, EvidenceRef, GridCell, Place, Role

# Text msgpack can carry: valid Unicode scalar values (no lone surrogates).
text = st.text(st.characters(codec="utf-8"), max_size=40)
names = st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=20)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timedelta(minutes=minutes))
timezones = st.one_of(st.just(UTC), offsets.map(timezone))
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1),  # noqa: DTZ001 (hypothesis adds the timezone)
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=timezones,
)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1))
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None)
timedeltas = st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6))
uuids = st.uuids()
int64s = st.integers(min_value=-(2**63), max_value=2**64 - 1)
floats = st.floats(allow_nan=False)

actors = st.builds(Actor, worker_id=names, role=st.sampled_from(Role))
grid_cells = st.builds(GridCell, names, names, names)
places = st.builds(Place, names, names, grid_cells)
evidence = st.builds(
    EvidenceRef,
    kind=st.sampled_from(EvidenceKind),
    uri=names,
    sha256=st.one_of(st.just(""), st.binary(min_size=32, max_size=32).map(bytes.hex)),
    description=text,
)

hashable_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    int64s,
    text,
    st.binary(max_size=40),
    uuids,
    dates,
    aware_datetimes,
    decimals,
    timedeltas,
    st.sampled_from(Role),
    st.sampled_from(EvidenceKind),
    actors,
    grid_cells,
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(children, children),
        st.lists(children, max_size=4).map(tuple),
        st.lists(children, max_size=4),
        st.dictionaries(text, children, max_size=4),
        st.dictionaries(hashable_scalars, children, max_size=3),
        st.frozensets(hashable_scalars, max_size=4),
        st.sets(hashable_scalars, max_size=4),
    )


values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(hashable_scalars, floats, places, evidence),
    _containers,
    max_leaves=12,
)
"""Any value the codec promises to round-trip."""


def same_value(left: Any, right: Any) -> bool:  # noqa: PLR0911 (one return per kind of value)
    """Return whether two decoded values are equal and of the same types, all the way down."""
    if type(left) is not type(right):
        return False
    if isinstance(left, datetime):
        return bool(left == right and left.utcoffset() == right.utcoffset())
    if isinstance(left, Decimal):
        return bool(left.as_tuple() == right.as_tuple())
    if isinstance(left, tuple | list):
        return len(left) == len(right) and all(same_value(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_value(left[key], right[key]) for key in left)
    if isinstance(left, enum.Enum | UUID):
        return left is right or left == right
    return bool(left == right)
