"""The rules of the closed loop of a task: verified before it is closed, and never by its own assignee."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from grid_events.audit.rules.core import Breach, CaseHistory, Rule, RuleBook, RuleSeverity, breach
from grid_events.domain.task import Task

__all__ = ["RULES"]

_BOOK = RuleBook()
_rule = _BOOK.rule
_TASKS = frozenset({"task", "inspection"})


@_rule(
    "task.closed-without-verification",
    applies_to=_TASKS,
    severity=RuleSeverity.ERROR,
    title_zh="任务须经核查后方可结案",
    title_en="A task is closed only after a supervisor verified the work",
    source="practice: the closed loop 反馈 → 核查 → 结案",
)
def _closed_without_verification(case: CaseHistory) -> Iterator[Breach]:
    verified = False
    for event in case.events:
        if isinstance(event, Task.Verified):
            verified = True
        elif isinstance(event, Task.Submitted | Task.SentBack | Task.Reopened):
            verified = False
        elif isinstance(event, Task.Closed):
            if not verified:
                yield breach(
                    [event.originator_version],
                    f"任务于 {case.day(event)} 结案，但最近一次反馈之后没有核查记录",
                    f"the task was closed on {case.day(event)} with no verification since the work was last submitted",
                )
            verified = False


@_rule(
    "task.four-eyes",
    applies_to=_TASKS,
    severity=RuleSeverity.ERROR,
    title_zh="核查或退回任务的人不是任务承办人",
    title_en="Whoever verifies or sends back a task is not its assignee",
    source="practice: four eyes (双人把关)",
    refused_by_domain=True,
)
def _four_eyes(case: CaseHistory) -> Iterator[Breach]:
    assignee: str | None = None
    for event in case.events:
        if isinstance(event, Task.Assigned | Task.Reassigned):
            assignee = event.assignee
        elif isinstance(event, Task.Verified | Task.SentBack) and event.actor.worker_id == assignee:
            what_zh, what_en = ("核查", "verified") if isinstance(event, Task.Verified) else ("退回", "sent back")
            yield breach(
                [event.originator_version],
                f"任务由承办人 {assignee} 本人{what_zh}",
                f"the task was {what_en} by its own assignee {assignee}",
            )


RULES: Final[tuple[Rule, ...]] = tuple(_BOOK.rules)
"""The rules of tasks (inspections included), in the order findings are reported."""
