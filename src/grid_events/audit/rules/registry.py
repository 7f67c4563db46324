"""Every rule of the audit, in the order findings are reported, and checking a case against them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Final

from grid_events.audit.rules import inspection, mediation, records, tasks
from grid_events.audit.rules.core import CaseHistory, Rule, RuleFinding, RuleSettings
from grid_events.audit.timeline import Language, check_language
from grid_events.domain.base import GridAggregate
from grid_events.domain.mediation import local_date
from grid_events.exceptions import ValidationError

__all__ = ["RULES", "check_case", "rule_by_id", "rules_for", "rules_markdown"]

RULES: Final[tuple[Rule, ...]] = (*mediation.RULES, *inspection.RULES, *tasks.RULES, *records.RULES)
"""Every rule an audit checks, in the order findings are reported."""


def rule_by_id(rule_id: str) -> Rule:
    """Return the rule *rule_id*; raise :class:`ValidationError` if there is none."""
    for rule in RULES:
        if rule.rule_id == rule_id:
            return rule
    raise ValidationError("rule_id", f"no audit rule {rule_id!r}")


def rules_for(kind: str) -> tuple[Rule, ...]:
    """Return the rules that apply to a case of *kind* (``dispute``, ``inspection``, ``task``…)."""
    return tuple(rule for rule in RULES if kind in rule.applies_to)


def check_case(
    events: Iterable[GridAggregate.Event],
    as_of: date | None = None,
    *,
    settings: RuleSettings | None = None,
) -> list[RuleFinding]:
    """Check a case's history against every rule that applies to it, as it stood on *as_of*.

    *events* are the case's events, oldest first. Only those recorded on or
    before *as_of* (a date in China; default today) count: the findings are
    those an auditor would have made that day. Returns the findings ordered by
    the first event concerned, then by rule; none for residents and site
    shifts, which no rule here covers.
    """
    day = as_of if as_of is not None else local_date(datetime.now(UTC))
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError("as_of", f"must be a date, not {day!r}")
    recorded = [event for event in events if local_date(event.timestamp) <= day]
    if not recorded:
        return []
    case = CaseHistory(recorded, day, settings or RuleSettings())
    findings: list[tuple[int, int, RuleFinding]] = []
    for order, rule in enumerate(RULES):
        if case.kind not in rule.applies_to:
            continue
        for breach in rule.check(case):
            finding = RuleFinding(
                rule_id=rule.rule_id,
                severity=rule.severity,
                source=rule.source,
                title_zh=rule.title_zh,
                title_en=rule.title_en,
                versions=breach.versions,
                message_zh=breach.zh,
                message_en=breach.en,
            )
            findings.append((breach.versions[0] if breach.versions else 0, order, finding))
    findings.sort(key=lambda item: (item[0], item[1]))
    return [finding for _, _, finding in findings]


def rules_markdown(lang: Language = "en") -> str:
    """Return the table of every rule, in Markdown (the one in ``docs/audit.md``)."""
    lang = check_language(lang)
    if lang == "zh":
        lines = ["| 规则 | 内容 | 依据 | 严重程度 | 适用 |", "| --- | --- | --- | --- | --- |"]
    else:
        lines = ["| rule | what | source | severity | checked on |", "| --- | --- | --- | --- | --- |"]
    for rule in RULES:
        kinds = ", ".join(sorted(rule.applies_to))
        lines.append(
            f"| `{rule.rule_id}` | {rule.title(lang)} | {rule.source} | {rule.severity.name_in(lang)} | {kinds} |"
        )
    return "\n".join(lines) + "\n"
