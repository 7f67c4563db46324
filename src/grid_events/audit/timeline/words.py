"""How one event is phrased: the words of one language, what a phrasing says, and the tables of phrasings.

A phrasing is a function of an event and :class:`Words` returning what it
:class:`Said`; each aggregate's phrasings are in a :class:`Phrasings` table
(:mod:`~grid_events.audit.timeline.residents`, ``tasks``, ``disputes``,
``site_shifts``). :class:`Words` never opens sealed data: it shows a
:class:`Sealed` placeholder instead.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from grid_events.audit.timeline.vocabulary import Language, term
from grid_events.domain.base import GridAggregate
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import CHINA_TIME
from grid_events.domain.task import Task
from grid_events.domain.values import GridCell, Place

__all__ = ["CaseContext", "Phrasing", "Phrasings", "Said", "Sealed", "Words", "event_type"]


class Sealed(enum.Enum):
    """What a sealed value holds, to say so without opening it."""

    PARTY = ("[当事人信息已加密]", "[party details sealed]")
    STATEMENT = ("[当事人陈述已加密]", "[statement sealed]")
    INVESTIGATION = ("[调查记录已加密]", "[investigation note sealed]")
    RESIDENT = ("[居民个人信息已加密]", "[resident's personal data sealed]")
    HEALTH = ("[健康信息已加密]", "[health details sealed]")
    SAMPLED_PERSON = ("[受检者信息已加密]", "[sampled person's data sealed]")
    OTHER = ("[个人信息已加密]", "[personal data sealed]")


class Words:
    """The words of one language, for phrasing one event; remembers the sealed values it mentioned."""

    def __init__(self, lang: Language, context: CaseContext) -> None:
        self.lang = lang
        self.context = context
        self.sealed_mentioned: list[str] = []

    @property
    def zh(self) -> bool:
        """Whether the words are Chinese."""
        return self.lang == "zh"

    def __call__(self, zh: str, en: str) -> str:
        """Pick the Chinese or the English text."""
        return zh if self.lang == "zh" else en

    @property
    def sep(self) -> str:
        """The separator of a list."""
        return "、" if self.zh else ", "

    @property
    def semi(self) -> str:
        """The separator of clauses."""
        return "；" if self.zh else "; "

    def term(self, member: enum.Enum) -> str:
        """Return the word for an enum value."""
        return term(member, self.lang)

    def terms(self, members: Iterable[enum.Enum]) -> str:
        """Return the words for several enum values, sorted, or a dash for none."""
        words = sorted(self.term(member) for member in members)
        return self.sep.join(words) if words else self.none

    @property
    def none(self) -> str:
        """What stands for nothing."""
        return self("无", "none")

    def join(self, items: Iterable[str]) -> str:
        """Items joined as a list, or a dash for none."""
        listed = [item for item in items if item]
        return self.sep.join(listed) if listed else self.none

    @staticmethod
    def day(value: date | None) -> str:
        """Return a date, ISO (``2026-11-02``), or a dash."""
        return value.isoformat() if value is not None else "—"

    @staticmethod
    def moment(value: datetime | None) -> str:
        """Return a moment in China time (``2026-11-02 09:30``), or a dash."""
        if value is None:
            return "—"
        return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")

    def yes_no(self, value: bool, zh: tuple[str, str], en: tuple[str, str]) -> str:
        """Pick the first word of the pair when *value* is true, the second otherwise."""
        pair = zh if self.zh else en
        return pair[0] if value else pair[1]

    def sealed(self, kind: Sealed) -> str:
        """Return a placeholder for a sealed value (never its content)."""
        text = kind.value[0] if self.zh else kind.value[1]
        self.sealed_mentioned.append(text)
        return text

    def quoted(self, text: str) -> str:
        """Text quoted in the language's quotation marks."""
        return f"「{text}」" if self.zh else f"“{text}”"

    def note(self, label_zh: str, label_en: str, text: str) -> str:
        """Return a labelled clause (``；备注：…``), or nothing when *text* is empty."""
        if not text.strip():
            return ""
        return f"{self.semi}{self(label_zh, label_en)}{self(f'：{text}', f': {text}')}"

    def signer(self, signer_id: str) -> str:
        """Return a signer: a party id as it is, a worker id as the mediator."""
        if signer_id.startswith("P") and signer_id[1:].isdigit():
            return signer_id
        return self(f"调解员 {signer_id}", f"mediator {signer_id}")

    def item(self, code: str | None) -> str:
        """Return a checklist item by its text (from the task's checklist) and code."""
        if code is None:
            return self("检查表外", "outside the checklist")
        text = self.context.checklist.get(code)
        if not text:
            return self.quoted(code)
        return f"{self.quoted(text)}（{code}）" if self.zh else f"{code} ({text})"

    @staticmethod
    def grid(cell: GridCell) -> str:
        """Return a grid cell by its code (``江南/飞凤/03``)."""
        return cell.code

    def place(self, place: Place | None) -> str:
        """Return a place by name and address."""
        if place is None:
            return self.none
        return f"{place.name}（{place.address}）" if self.zh else f"{place.name} ({place.address})"


@attrs.define
class CaseContext:
    """What earlier events of the case told: the checklist's items, the parties."""

    checklist: dict[str, str] = attrs.field(factory=dict)
    mediator_id: str | None = None

    def learn(self, event: GridAggregate.Event) -> None:
        """Remember what *event* tells of the case."""
        if isinstance(event, Task.Created):
            self.checklist = {item.code: item.text for item in event.checklist}
        elif isinstance(event, Dispute.MediatorAssigned):
            self.mediator_id = event.mediator_id


@attrs.frozen
class Said:
    """What a phrasing says of one event: what happened, and why."""

    what: str
    why: str = ""


E = TypeVar("E", bound=GridAggregate.Event)
Phrasing = Callable[[Any, Words], Said]


class Phrasings(dict[type[GridAggregate.Event], Phrasing]):
    """The phrasings of one aggregate's events, by event class; :meth:`says` adds one."""

    def says(self, event_class: type[E]) -> Callable[[Callable[[E, Words], Said]], Callable[[E, Words], Said]]:
        """Return a decorator that makes the function it decorates the phrasing of *event_class*."""

        def register(function: Callable[[E, Words], Said]) -> Callable[[E, Words], Said]:
            self[event_class] = function
            return function

        return register


def event_type(event: GridAggregate.Event | type[GridAggregate.Event]) -> str:
    """Return an event's type as the records name it: ``Dispute.AgreementSigned``."""
    cls = event if isinstance(event, type) else type(event)
    return cls.__qualname__
