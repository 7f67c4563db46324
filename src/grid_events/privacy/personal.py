"""Residents' personal data in the clear, and how it is masked for display.

Instances of these classes never enter an event: the application seals them
(:mod:`grid_events.privacy.vault`) under the data subject's own key first.
"""

from __future__ import annotations

import re
from datetime import date

import attrs

from grid_events.domain.checks import (
    optional_date_validator,
    optional_text_validator,
    text_validator,
)
from grid_events.exceptions import ValidationError

__all__ = [
    "MaskedPartyDetails",
    "MaskedPersonalData",
    "MaskedSampledPerson",
    "PartyDetails",
    "PersonalData",
    "SampledPerson",
    "mask_address",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "valid_id_number",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"\d{17}[\dX]")
_PHONE_PATTERN = re.compile(r"\+?[\d -]{5,20}")


def valid_id_number(number: str) -> bool:
    """Return whether *number* is a well-formed 18-character resident ID number.

    Checks the form and the ISO 7064 MOD 11-2 check character (GB 11643-1999).
    """
    if not _ID_PATTERN.fullmatch(number):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def _check_id_number(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    text_validator(32)(_, attribute, value)
    if not valid_id_number(value):
        raise ValidationError(
            attribute.name,
            "is not a valid 18-character resident ID number (check the digits and the final check character)",
        )


def _check_phone(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    optional_text_validator(32)(_, attribute, value)
    if value and not _PHONE_PATTERN.fullmatch(value):
        raise ValidationError(attribute.name, "must be a phone number: digits, spaces, '-' and a leading '+'")


@attrs.frozen
class PersonalData:
    """A resident's sensitive personal information (PIPL Art. 28).

    *health_notes* hold health information; *guardian_name* and
    *guardian_phone* are required in practice for children under 14
    (PIPL Art. 31) but the law's consent rules are the office's to follow.
    """

    name: str = attrs.field(validator=text_validator(100))
    id_number: str = attrs.field(validator=_check_id_number)
    phone: str = attrs.field(default="", validator=_check_phone)
    address: str = attrs.field(default="", validator=optional_text_validator(500))
    birth_date: date | None = attrs.field(default=None, validator=optional_date_validator)
    health_notes: str = attrs.field(default="", validator=optional_text_validator(2000))
    guardian_name: str = attrs.field(default="", validator=optional_text_validator(100))
    guardian_phone: str = attrs.field(default="", validator=_check_phone)

    def __repr__(self) -> str:
        # Never let a stray log line print the data itself.
        return f"PersonalData(name={mask_name(self.name)!r}, id_number={mask_id_number(self.id_number)!r}, …)"

    def masked(self) -> dict[str, str]:
        """Return the fields a grid worker may see: name, ID number and phone masked."""
        return {
            "name": mask_name(self.name),
            "id_number": mask_id_number(self.id_number),
            "phone": mask_phone(self.phone),
        }


def mask_name(name: str) -> str:
    """Keep the first character (the surname, for most Chinese names): ``张**``."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(number: str) -> str:
    """Keep the first three and last four characters: ``330***********1234``."""
    keep_head, keep_tail = 3, 4
    if len(number) <= keep_head + keep_tail:
        return "*" * len(number)
    return number[:keep_head] + "*" * (len(number) - keep_head - keep_tail) + number[-keep_tail:]


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits: ``138****5678``."""
    digits = "".join(c for c in phone if c.isdigit())
    keep_head, keep_tail = 3, 4
    if len(digits) <= keep_head + keep_tail:
        return "*" * len(digits)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - keep_tail) + digits[-keep_tail:]


_ADDRESS_KEEP = 6


def mask_address(address: str) -> str:
    """Keep the first six characters (district, estate) and hide the rest: ``飞凤小区 3 ****``.

    Building, unit and room numbers are what point at one household; the
    estate alone is shared by hundreds.
    """
    head = address[:_ADDRESS_KEEP]
    rest = address[_ADDRESS_KEEP:]
    return head + "".join(" " if c.isspace() else "*" for c in rest)


@attrs.frozen
class PartyDetails:
    """Who a party to a dispute is: sealed under the party's own key.

    A party may be a resident (then sealed under the resident's key, so erasing
    the resident erases this too), a shop's owner, or another person.
    """

    name: str = attrs.field(validator=text_validator(200))
    phone: str = attrs.field(default="", validator=_check_phone)
    id_number: str = attrs.field(default="", validator=optional_text_validator(32))
    address: str = attrs.field(default="", validator=optional_text_validator(500))

    def __repr__(self) -> str:
        return f"PartyDetails(name={mask_name(self.name)!r}, …)"


@attrs.frozen
class SampledPerson:
    """The person a sample was taken from, as the national sampling manual asks.

    Sealed under the person's own key (their resident id when registered).
    """

    name: str = attrs.field(validator=text_validator(100))
    id_number: str = attrs.field(default="", validator=optional_text_validator(32))
    phone: str = attrs.field(default="", validator=_check_phone)
    address: str = attrs.field(default="", validator=optional_text_validator(500))

    def __repr__(self) -> str:
        return f"SampledPerson(name={mask_name(self.name)!r}, …)"


# -- masked views: what may be shown without the unmasking right ------------------------


@attrs.frozen
class MaskedPersonalData:
    """A resident's personal data as the registry shows it: identifiers masked, health only flagged.

    Made by :meth:`of`; holds no value from which the full name, ID number,
    phone, address or health notes can be read back.
    """

    name: str
    id_number: str
    phone: str
    address: str
    birth_year: int | None
    has_health_notes: bool
    guardian_name: str
    guardian_phone: str

    @classmethod
    def of(cls, data: PersonalData) -> MaskedPersonalData:
        """Return the masked view of *data*."""
        return cls(
            name=mask_name(data.name),
            id_number=mask_id_number(data.id_number),
            phone=mask_phone(data.phone),
            address=mask_address(data.address),
            birth_year=None if data.birth_date is None else data.birth_date.year,
            has_health_notes=bool(data.health_notes.strip()),
            guardian_name=mask_name(data.guardian_name),
            guardian_phone=mask_phone(data.guardian_phone),
        )

    def as_dict(self) -> dict[str, str | int | bool | None]:
        """Return the fields by name (for views and exports)."""
        return attrs.asdict(self)


@attrs.frozen
class MaskedPartyDetails:
    """A party to a dispute as the register shows it: identifiers masked."""

    name: str
    phone: str
    id_number: str
    address: str

    @classmethod
    def of(cls, details: PartyDetails) -> MaskedPartyDetails:
        """Return the masked view of *details*."""
        return cls(
            name=mask_name(details.name),
            phone=mask_phone(details.phone),
            id_number=mask_id_number(details.id_number),
            address=mask_address(details.address),
        )

    def as_dict(self) -> dict[str, str]:
        """Return the fields by name (for views and exports)."""
        return attrs.asdict(self)


@attrs.frozen
class MaskedSampledPerson:
    """A sample record's person as a site dashboard shows it: identifiers masked."""

    name: str
    id_number: str
    phone: str
    address: str

    @classmethod
    def of(cls, person: SampledPerson) -> MaskedSampledPerson:
        """Return the masked view of *person*."""
        return cls(
            name=mask_name(person.name),
            id_number=mask_id_number(person.id_number),
            phone=mask_phone(person.phone),
            address=mask_address(person.address),
        )

    def as_dict(self) -> dict[str, str]:
        """Return the fields by name (for views and exports)."""
        return attrs.asdict(self)


def filled_fields(value: PersonalData | PartyDetails | SampledPerson) -> tuple[str, ...]:
    """Return the names of the fields of *value* that hold something (what a full view reveals)."""
    return tuple(field.name for field in attrs.fields(type(value)) if getattr(value, field.name) not in {"", None})


def identifiers_of(value: PersonalData | PartyDetails | SampledPerson) -> tuple[str, ...]:
    """Return the strings that identify the person of *value*: names, ID numbers, phones."""
    found = [value.name, value.id_number, value.phone]
    if isinstance(value, PersonalData):
        found += [value.guardian_name, value.guardian_phone]
    return tuple(item for item in found if item)
