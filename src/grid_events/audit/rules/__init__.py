"""Check a case's recorded history against the rules of mediation and of inspection.

The domain refuses most broken rules before anything is stored, but an audit
cannot rely on that: histories are imported from older systems, written by
older versions of this library, or were made while a rule was not yet
enforced, and some rules are about time passing (a follow-up that never came,
a re-inspection that is overdue) which no command can refuse. So every check
here runs on the **events** alone, never on the domain's guarantees.

:func:`check_case` takes a case's events (oldest first, as
:func:`~grid_events.audit.replay.history` returns them) and the date of the
check, and returns a :class:`RuleFinding` for every breach: which rule (its
id, source and severity), which events (their versions), and a message in
Chinese and English. :data:`RULES` lists every rule; :func:`rules_markdown`
renders them as the table in ``docs/audit.md``. The time limits are parameters
(:class:`RuleSettings`), so a sub-district with other deadlines, or China's
moved working days (调休), can be checked without changing code.

The rules are kept by family, one module each:
:mod:`~grid_events.audit.rules.mediation`,
:mod:`~grid_events.audit.rules.inspection`,
:mod:`~grid_events.audit.rules.tasks` and
:mod:`~grid_events.audit.rules.records` (every case's record), built on
:mod:`~grid_events.audit.rules.core`; :mod:`~grid_events.audit.rules.registry`
lists them all and checks a case.
"""

from __future__ import annotations

from grid_events.audit.rules.core import CaseHistory as CaseHistory
from grid_events.audit.rules.core import Check as Check
from grid_events.audit.rules.core import Rule, RuleFinding, RuleSettings, RuleSeverity
from grid_events.audit.rules.records import WHO_MAY_RECORD as WHO_MAY_RECORD
from grid_events.audit.rules.registry import RULES, check_case, rule_by_id, rules_for, rules_markdown

__all__ = [
    "RULES",
    "Rule",
    "RuleFinding",
    "RuleSettings",
    "RuleSeverity",
    "check_case",
    "rule_by_id",
    "rules_for",
    "rules_markdown",
]
