"""What the audit's rules are made of: a rule, the history it checks, what it finds, and the limits it counts with.

A rule's check takes a :class:`CaseHistory` and yields a :class:`Breach` for
everything wrong; :func:`~grid_events.audit.rules.check_case` turns those into
:class:`RuleFinding` objects. Each family of rules declares its rules in a
:class:`RuleBook`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

import attrs

from grid_events.audit.timeline import CaseKind, Language, case_kind
from grid_events.domain.base import GridAggregate
from grid_events.domain.calendar import add_working_days, working_days_between
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import local_date

__all__ = [
    "Breach",
    "CaseHistory",
    "Check",
    "Rule",
    "RuleBook",
    "RuleFinding",
    "RuleSettings",
    "RuleSeverity",
    "breach",
]


class RuleSeverity(enum.StrEnum):
    """How serious a breach is."""

    ERROR = "error"
    """违规: the record breaks a rule of law or of the register; ``audit check`` exits 1."""
    WARNING = "warning"
    """提示: late or incomplete; the office should explain it."""

    def name_in(self, lang: Language) -> str:
        """Return the severity's name in *lang*."""
        names = {RuleSeverity.ERROR: ("违规", "error"), RuleSeverity.WARNING: ("提示", "warning")}
        return names[self][0 if lang == "zh" else 1]


@attrs.frozen
class RuleSettings:
    """The time limits the rules count with, and the calendar of working days.

    The defaults are those of the law and of the fire-supervision procedure.
    *holidays* are weekdays that are not worked, *workdays* weekend days that
    are (调休): pass the State Council's calendar for the year to count
    working days exactly.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    mediation_months: int = 1
    """Mediation ends within this many months of acceptance unless every party agrees (令75号 Art. 33)."""
    police_report_days: int = 1
    """A high risk of escalation is reported to the police by the end of the day after it is flagged."""
    follow_up_grace_days: int = 7
    """Days after a follow-up visit falls due before its absence is a finding."""
    repeat_follow_up_days: int = 30
    """Days after a visit that found the agreement not fully performed (or signs of escalation) until the next."""
    judicial_confirmation_days: int = 30
    """Days after the agreement takes effect within which judicial confirmation is applied for (Art. 33)."""
    notice_working_days: int = 3
    """Working days after a finding (or a failed re-inspection) within which the rectification notice is served."""
    reinspection_working_days: int = 3
    """Working days after the rectification deadline within which the re-inspection follows."""
    severe_report_working_days: int = 1
    """Working days after a severe hazard is found within which it is reported to the fire authority."""

    def add_working_days(self, start: date, days: int) -> date:
        """Return the date *days* working days after *start*."""
        return add_working_days(start, days, holidays=self.holidays, workdays=self.workdays)

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days after *start* up to and including *end*."""
        return working_days_between(start, end, holidays=self.holidays, workdays=self.workdays)


@attrs.frozen
class RuleFinding:
    """A breach of one rule in one case: which rule, which events, and what is wrong."""

    rule_id: str
    severity: RuleSeverity
    source: str
    title_zh: str
    title_en: str
    versions: tuple[int, ...]
    """The versions of the events concerned, in order."""
    message_zh: str
    message_en: str

    def title(self, lang: Language = "zh") -> str:
        """Return the rule's title in *lang*."""
        return self.title_zh if lang == "zh" else self.title_en

    def message(self, lang: Language = "zh") -> str:
        """Return what is wrong, in *lang*."""
        return self.message_zh if lang == "zh" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data with stable keys."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "source": self.source,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "versions": list(self.versions),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@attrs.frozen
class Breach:
    """What one check found wrong: the versions of the events concerned, and what, in Chinese and English."""

    versions: tuple[int, ...]
    zh: str
    en: str


def breach(versions: Iterable[int], zh: str, en: str) -> Breach:
    """Return the breach of *versions* (each once, in order) described by *zh* and *en*."""
    return Breach(tuple(sorted(set(versions))), zh, en)


E = TypeVar("E", bound=GridAggregate.Event)


class CaseHistory:
    """The events of one case up to the day of the check, with what the checks ask of them."""

    def __init__(self, events: Sequence[GridAggregate.Event], as_of: date, settings: RuleSettings) -> None:
        self.events = events
        self.as_of = as_of
        self.settings = settings
        self.kind: CaseKind = case_kind(events)
        first = events[0]
        self.parties: frozenset[str] = (
            frozenset(party.party_id for party in first.parties) if isinstance(first, Dispute.Received) else frozenset()
        )

    def of(self, event_class: type[E]) -> list[E]:
        """Return the events of *event_class*, in order."""
        return [event for event in self.events if isinstance(event, event_class)]

    def first(self, event_class: type[E], *, after: int = 0) -> E | None:
        """Return the first event of *event_class* after version *after*, or None."""
        return next(
            (e for e in self.events if isinstance(e, event_class) and e.originator_version > after),
            None,
        )

    def last(self, event_class: type[E], *, before: int | None = None) -> E | None:
        """Return the last event of *event_class* before version *before* (default: of all), or None."""
        found = None
        for event in self.events:
            if before is not None and event.originator_version >= before:
                break
            if isinstance(event, event_class):
                found = event
        return found

    @staticmethod
    def day(event: GridAggregate.Event) -> date:
        """Return the date in China the event was recorded."""
        return local_date(event.timestamp)


Check = Callable[[CaseHistory], Iterable[Breach]]


@attrs.frozen
class Rule:
    """A rule an audit checks: its id, what it says, where it comes from, how serious a breach is."""

    rule_id: str
    applies_to: frozenset[str]
    """The kinds of case it applies to: ``dispute``, ``inspection``, ``task``."""
    severity: RuleSeverity
    title_zh: str
    title_en: str
    source: str
    """The law article or the practice the rule comes from."""
    refused_by_domain: bool
    """Whether the domain also refuses commands that break it (then it has this id in ``docs/rules.md``)."""
    check: Check = attrs.field(repr=False, eq=False)

    def title(self, lang: Language = "zh") -> str:
        """Return the rule's title in *lang*."""
        return self.title_zh if lang == "zh" else self.title_en

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as JSON-ready data."""
        return {
            "rule_id": self.rule_id,
            "applies_to": sorted(self.applies_to),
            "severity": self.severity.value,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "source": self.source,
            "refused_by_domain": self.refused_by_domain,
        }


class RuleBook:
    """The rules of one family, in the order they are declared (by decorating their checks with :meth:`rule`)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def rule(
        self,
        rule_id: str,
        *,
        applies_to: frozenset[str],
        severity: RuleSeverity,
        title_zh: str,
        title_en: str,
        source: str,
        refused_by_domain: bool = False,
    ) -> Callable[[Check], Check]:
        """Return a decorator that declares the check it decorates as the rule *rule_id*."""

        def register(check: Check) -> Check:
            self.rules.append(Rule(rule_id, applies_to, severity, title_zh, title_en, source, refused_by_domain, check))
            return check

        return register
