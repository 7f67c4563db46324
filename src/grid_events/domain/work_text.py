"""Work text without personal data: what the texts of tasks and inspections may say.

Titles, notes, summaries and findings describe the work; a resident is linked
by id, never named in them. :func:`check_work_text` refuses an ID-card or
mobile phone number in such a text, :func:`work_text_validator` does so for an
attrs field.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from grid_events.domain.checks import MAX_TEXT, Validator, check_optional_text, check_text
from grid_events.exceptions import ValidationError

__all__ = ["check_work_text", "work_text_validator"]

_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARACTERS = "10X98765432"


def _is_id_number(candidate: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(candidate[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARACTERS[total % 11] == candidate[17].upper()


def check_work_text(field: str, value: object, *, max_length: int = MAX_TEXT, optional: bool = False) -> str:
    """Return *value* if it is work text holding no ID-card or mobile phone number.

    Tasks are read by many people and their events can never be erased, so a
    resident's identifiers must not be written into them (PIPL Art. 6, 28, 47):
    they belong in the resident's sealed record, linked by ``resident_id``.
    """
    text = (check_optional_text if optional else check_text)(field, value, max_length=max_length)
    if any(_is_id_number(match.group()) for match in _ID_NUMBER.finditer(text)):
        raise ValidationError(
            field,
            "holds what looks like an ID-card number: personal data must not be written into a task "
            "(link the resident instead)",
        )
    if _MOBILE.search(text):
        raise ValidationError(
            field,
            "holds what looks like a mobile phone number: personal data must not be written into a task "
            "(link the resident instead)",
        )
    return text


def work_text_validator(max_length: int = MAX_TEXT, *, optional: bool = False) -> Validator:
    """Return an attrs validator refusing what :func:`check_work_text` refuses."""

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check_work_text(attribute.name, value, max_length=max_length, optional=optional)

    return validate
