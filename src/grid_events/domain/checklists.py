"""Checklists: the items an inspection checks, the templates they are copied from, and the result of each.

An inspection (:class:`~grid_events.domain.inspection.Inspection`) copies the
items of a :class:`ChecklistTemplate`; each item is then checked as passed,
failed or not applicable (:class:`ItemCheck`). Items are named by codes
(``blocked_exits``), which findings refer to.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

from grid_events.domain.checks import (
    check_text,
    check_unique,
    instance_validator,
    optional_instance_validator,
    text_validator,
    tuple_validator,
)
from grid_events.domain.work_text import work_text_validator
from grid_events.exceptions import ValidationError

__all__ = [
    "SMALL_VENUE_FIRE_SAFETY",
    "VENUE_SCAN_CHECK",
    "ChecklistItem",
    "ChecklistTemplate",
    "ItemCheck",
    "ItemResult",
    "check_code",
    "optional_code_validator",
]

_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def check_code(field: str, value: object) -> str:
    """Return *value* if it is a checklist item code (``blocked_exits``)."""
    check_text(field, value, max_length=64)
    assert isinstance(value, str)  # noqa: S101 (narrowing for the type checker)
    if not _CODE.fullmatch(value):
        raise ValidationError(field, f"{value!r} is not a code (lower-case letters, digits, '_', '.', '-')")
    return value


def _code_validator(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_code(attribute.name, value)


def optional_code_validator(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Check an attrs field that holds a checklist item code or ``None``."""
    if value is not None:
        check_code(attribute.name, value)


@attrs.frozen
class ChecklistItem:
    """One thing to check, phrased so that "pass" means "as it should be"."""

    code: str = attrs.field(validator=_code_validator)
    text: str = attrs.field(validator=text_validator(300))


def _unique_item_codes(_: object, attribute: attrs.Attribute[Any], value: tuple[ChecklistItem, ...]) -> None:
    check_unique(attribute.name, (item.code for item in value))


@attrs.frozen
class ChecklistTemplate:
    """A named checklist that inspections copy when they are created."""

    name: str = attrs.field(validator=text_validator(100))
    items: tuple[ChecklistItem, ...] = attrs.field(
        validator=[tuple_validator(ChecklistItem, min_length=1), _unique_item_codes]
    )


SMALL_VENUE_FIRE_SAFETY = ChecklistTemplate(
    "三小场所消防安全检查",
    (
        ChecklistItem("no_sleeping_on_premises", "场所内无人员住宿（住人）"),
        ChecklistItem("extinguishers", "灭火器按要求配置，压力正常、在有效期内"),
        ChecklistItem("exit_signs", "疏散指示标志、应急照明完好有效"),
        ChecklistItem("exits_clear", "安全出口、疏散通道畅通，未堵塞、未锁闭"),
        ChecklistItem("wiring_in_conduit", "电线穿管保护，无私拉乱接"),
        ChecklistItem("gas_use", "燃气使用规范，无违规用气"),
        ChecklistItem("power_use", "用电规范，无违规用电，电动自行车未在室内停放、充电"),
    ),
)
"""The fire-safety checklist for small shops, workshops and eateries (三小场所)."""

VENUE_SCAN_CHECK = ChecklistTemplate(
    "重点场所一扫三查",
    (
        ChecklistItem("venue_code_posted", "场所码在入口醒目位置张贴"),
        ChecklistItem("scan_enforced", "进入人员逐一扫码"),
        ChecklistItem("health_code_checked", "查验健康码"),
        ChecklistItem("travel_card_checked", "查验行程卡"),
        ChecklistItem("temperature_checked", "测量体温"),
    ),
)
"""The "one scan, three checks" (一扫三查) checklist for key venues."""


class ItemResult(enum.StrEnum):
    """The result of checking one checklist item."""

    PASS = "pass"  # noqa: S105 (a check result, not a password)
    """合格."""
    FAIL = "fail"
    """不合格: a hazard, to be recorded as a finding."""
    NOT_APPLICABLE = "not_applicable"
    """不适用 (e.g. no gas used on the premises): the note says why."""


@attrs.frozen
class ItemCheck:
    """A checklist item of one inspection, with its result once checked."""

    item: ChecklistItem = attrs.field(validator=instance_validator(ChecklistItem))
    result: ItemResult | None = attrs.field(default=None, validator=optional_instance_validator(ItemResult))
    note: str = attrs.field(default="", validator=work_text_validator(500, optional=True))


VALUE_TYPES: tuple[type, ...] = (ChecklistItem, ChecklistTemplate, ItemResult, ItemCheck)
"""The types of this module the codec must know."""
