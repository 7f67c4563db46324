"""Small checks shared by value objects and commands.

Each raises :class:`~grid_events.exceptions.ValidationError` naming the field, so
a bad value is refused before any event exists. The ``*_validator`` factories
adapt them to attrs validators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from grid_events.exceptions import ValidationError

T = TypeVar("T")

MAX_TEXT = 2000
"""Longest free text a field accepts (characters)."""


def _check_encodable(field: str, value: str) -> None:
    # A lone surrogate is not a character: it cannot be stored as UTF-8.
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValidationError(field, "contains an invalid character (a lone surrogate)") from None


def check_text(field: str, value: object, *, max_length: int = MAX_TEXT) -> str:
    """Return *value* if it is a non-blank string of at most *max_length* characters.

    Plain ``str`` only: a subclass (an enum member, say) would be stored as its own type, so two equal values
    could encode differently, and the encoding must be deterministic for the hash chain.
    """
    if type(value) is not str:
        raise ValidationError(field, f"must be text (str), not {type(value).__name__}")
    _check_encodable(field, value)
    if not value.strip():
        raise ValidationError(field, "must not be blank")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value


def check_optional_text(field: str, value: object, *, max_length: int = MAX_TEXT) -> str:
    """Return *value* if it is a plain string (possibly empty) of at most *max_length* characters."""
    if type(value) is not str:
        raise ValidationError(field, f"must be text (str), not {type(value).__name__}")
    _check_encodable(field, value)
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value


def check_instance(field: str, value: object, kind: type[T]) -> T:
    """Return *value* if it is an instance of *kind*."""
    if not isinstance(value, kind):
        raise ValidationError(field, f"must be a {kind.__name__}, not {type(value).__name__}")
    return value


def check_int(field: str, value: object, *, minimum: int | None = None) -> int:
    """Return *value* if it is an int (not a bool) no smaller than *minimum*."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be a whole number, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValidationError(field, f"must be at least {minimum}, not {value}")
    return value


def check_aware(field: str, value: object) -> datetime:
    """Return *value* if it is a timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise ValidationError(field, f"must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (e.g. datetime.now(UTC))")
    return value


def check_date(field: str, value: object) -> date:
    """Return *value* if it is a calendar date (and not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(field, f"must be a date, not {type(value).__name__}")
    return value


def check_tuple_of(field: str, value: object, kind: type[T], *, min_length: int = 0) -> tuple[T, ...]:
    """Return *value* if it is a tuple whose items are all instances of *kind*."""
    if not isinstance(value, tuple):
        raise ValidationError(field, f"must be a tuple, not {type(value).__name__}")
    for index, item in enumerate(value):
        check_instance(f"{field}[{index}]", item, kind)
    if len(value) < min_length:
        raise ValidationError(field, f"must hold at least {min_length} item(s)")
    return value


def check_frozenset_of(field: str, value: object, kind: type[T]) -> frozenset[T]:
    """Return *value* if it is a frozenset whose items are all instances of *kind*."""
    if not isinstance(value, frozenset):
        raise ValidationError(field, f"must be a frozenset, not {type(value).__name__}")
    for item in value:
        check_instance(field, item, kind)
    return value


def check_unique(field: str, values: Iterable[Any]) -> None:
    """Raise if *values* holds the same item twice."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValidationError(field, f"holds {value!r} twice")
        seen.add(value)


Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def text_validator(max_length: int = MAX_TEXT) -> Validator:
    """Attrs validator: non-blank text of at most *max_length* characters."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_text(attribute.name, value, max_length=max_length)

    return validate


def optional_text_validator(max_length: int = MAX_TEXT) -> Validator:
    """Attrs validator: text, possibly empty, of at most *max_length* characters."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_optional_text(attribute.name, value, max_length=max_length)

    return validate


def instance_validator(kind: type[Any]) -> Validator:
    """Attrs validator: an instance of *kind*."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_instance(attribute.name, value, kind)

    return validate


def optional_instance_validator(kind: type[Any]) -> Validator:
    """Attrs validator: ``None`` or an instance of *kind*."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check_instance(attribute.name, value, kind)

    return validate


def int_validator(minimum: int | None = None) -> Validator:
    """Attrs validator: a whole number no smaller than *minimum*."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_int(attribute.name, value, minimum=minimum)

    return validate


def tuple_validator(kind: type[Any], *, min_length: int = 0) -> Validator:
    """Attrs validator: a tuple of instances of *kind*."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_tuple_of(attribute.name, value, kind, min_length=min_length)

    return validate


def frozenset_validator(kind: type[Any]) -> Validator:
    """Attrs validator: a frozenset of instances of *kind*."""

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_frozenset_of(attribute.name, value, kind)

    return validate


def aware_validator(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: a timezone-aware datetime."""
    check_aware(attribute.name, value)


def optional_aware_validator(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: ``None`` or a timezone-aware datetime."""
    if value is not None:
        check_aware(attribute.name, value)


def date_validator(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: a calendar date."""
    check_date(attribute.name, value)


def optional_date_validator(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: ``None`` or a calendar date."""
    if value is not None:
        check_date(attribute.name, value)
