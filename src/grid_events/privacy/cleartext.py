"""Texts kept in the clear must not identify anyone.

Reasons, summaries, notes and purposes are stored as they are written, in
events that can never be changed or erased. Destroying a person's key erases
everything sealed under it, but not a name someone typed into a reason. So the
application refuses, before anything is stored, clear text that holds what
looks like an ID-card or mobile number, or a name, ID number or phone of the
people the command is about (whose sealed data it can open to compare).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import cast

import attrs

from grid_events.domain.checks import MAX_TEXT, check_optional_text, check_text
from grid_events.exceptions import ValidationError
from grid_events.privacy.personal import valid_id_number

__all__ = ["check_clear_text", "invalid_text_error"]

_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])")
_SEPARATORS = re.compile(r"[\s\-()]")
_MIN_NAME = 2
"""Shorter names (one character) would refuse too much ordinary text to be useful."""
_MIN_PHONE_DIGITS = 7


def check_clear_text(
    field: str,
    value: object,
    *,
    identifiers: Iterable[str] = (),
    optional: bool = False,
    max_length: int = MAX_TEXT,
) -> str:
    """Return *value* if it is text that names none of *identifiers* and holds no ID-card or mobile number.

    Raises :class:`~grid_events.ValidationError` naming *field* otherwise.
    """
    text = (check_optional_text if optional else check_text)(field, value, max_length=max_length)
    if any(valid_id_number(match.group().upper()) for match in _ID_NUMBER.finditer(text)):
        raise ValidationError(field, _refusal("an ID-card number"))
    if _MOBILE.search(text):
        raise ValidationError(field, _refusal("a mobile phone number"))
    folded = text.casefold()
    compact = _SEPARATORS.sub("", text)
    for identifier in identifiers:
        digits = "".join(c for c in identifier if c.isdigit())
        if len(identifier.strip()) >= _MIN_NAME and identifier.strip().casefold() in folded:
            raise ValidationError(field, _refusal("the name or number of a person it is about"))
        if len(digits) >= _MIN_PHONE_DIGITS and digits in compact:
            raise ValidationError(field, _refusal("the phone or ID number of a person it is about"))
    return text


def _refusal(what: str) -> str:
    return (
        f"holds {what}: this text is kept in the clear and could never be erased; "
        "refer to people by their role or party id (P1, P2) instead"
    )


_MAX_DEPTH = 12


def invalid_text_error(value: object, field: str) -> ValidationError | None:
    r"""Return a ValidationError naming the first text in *value* that is not valid Unicode, or None.

    Python strings may hold lone surrogates (``"\ud800"``), which no UTF-8
    encoder accepts; the codec would fail on them half-way through a save.
    *value* is walked through tuples, lists, sets, mappings and attrs value
    objects; *field* names it (``"personal"`` gives ``"personal.name"``).
    """
    path = _invalid_text_path(value, field, _MAX_DEPTH)
    if path is None:
        return None
    return ValidationError(path, "is not valid Unicode text (it holds a lone surrogate code point)")


def _invalid_text_path(value: object, path: str, depth: int) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if depth == 0:
        return None
    return next(
        (found for child, at in _children(value, path) if (found := _invalid_text_path(child, at, depth - 1))), None
    )


def _children(value: object, path: str) -> Iterator[tuple[object, str]]:
    """Yield the parts of a container or value object, each with its path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield key, f"{path}[{key!r}]"
            yield item, f"{path}[{key!r}]"
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield item, f"{path}[{index}]"
    elif isinstance(value, set | frozenset):
        for item in value:
            yield item, path
    elif attrs.has(type(value)):
        for attribute in attrs.fields(cast("type[attrs.AttrsInstance]", type(value))):
            yield getattr(value, attribute.name), f"{path}.{attribute.name}"
