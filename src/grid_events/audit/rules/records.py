"""The rules of every case's record: each step recorded by someone with the right to, and in time order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from grid_events.audit.rules.core import Breach, CaseHistory, Rule, RuleBook, RuleSeverity, breach
from grid_events.domain.base import GridAggregate
from grid_events.domain.dispute import Dispute
from grid_events.domain.task import Task
from grid_events.domain.task_values import CREATOR_ROLES, WORKER_ROLES
from grid_events.domain.values import Role

__all__ = ["RULES", "WHO_MAY_RECORD"]

_BOOK = RuleBook()
_rule = _BOOK.rule
_CASES = frozenset({"dispute", "task", "inspection"})

_SUPERVISOR = frozenset({Role.SUPERVISOR})
_SUPERVISOR_OR_SYSTEM = frozenset({Role.SUPERVISOR, Role.SYSTEM})
_RECEIVERS = frozenset({Role.SUPERVISOR, Role.MEDIATOR})

WHO_MAY_RECORD: Final[dict[type[GridAggregate.Event], tuple[frozenset[Role], bool]]] = {}
"""Per event class: the roles that may record it, and whether a mediator or worker must be the assigned one."""


def _may(roles: Iterable[Role], *event_classes: type[GridAggregate.Event], assigned: bool = False) -> None:
    for event_class in event_classes:
        WHO_MAY_RECORD[event_class] = (frozenset(roles), assigned)


_may(_RECEIVERS, Dispute.Received, Dispute.Accepted, Dispute.Declined)
_may(_SUPERVISOR, Dispute.MediatorAssigned, Dispute.Closed)
_may(
    _RECEIVERS,
    Dispute.EscalationRiskFlagged,
    Dispute.ReportedToPolice,
    Dispute.JudicialConfirmationApplied,
    Dispute.JudicialConfirmationDecided,
    assigned=True,
)
_may(
    {Role.MEDIATOR},
    Dispute.InvestigationNoted,
    Dispute.SessionRecorded,
    Dispute.TimeLimitExtended,
    Dispute.PartyRefused,
    Dispute.AgreementDrafted,
    Dispute.AgreementSigned,
    Dispute.AgreementTookEffect,
    Dispute.MediationFailed,
    Dispute.PerformanceRecorded,
    Dispute.FollowUpRecorded,
    assigned=True,
)
_may(CREATOR_ROLES, Task.Created)
_may(
    _SUPERVISOR,
    Task.Assigned,
    Task.Reassigned,
    Task.Rescheduled,
    Task.Verified,
    Task.SentBack,
    Task.Closed,
    Task.Cancelled,
)
_may(_SUPERVISOR_OR_SYSTEM, Task.Evaluated, Task.Escalated, Task.Reopened)
_may(
    WORKER_ROLES,
    Task.Accepted,
    Task.Started,
    Task.ProgressRecorded,
    Task.CallRecorded,
    Task.Submitted,
    Task.ItemChecked,
    Task.FindingRecorded,
    Task.RectificationOrdered,
    Task.OwnerReported,
    Task.Reinspected,
    Task.ReportedToAuthority,
    assigned=True,
)


@_rule(
    "record.actor-role",
    applies_to=_CASES,
    severity=RuleSeverity.ERROR,
    title_zh="每一步由有权的人以相应角色记录（调解由指定调解员记录，任务由承办人办理）",
    title_en="Each step is recorded by someone with the right, in the right role (the assigned mediator, the assignee)",
    source="人民调解法 Art. 19–22; practice (the roles in docs/rules.md)",
)
def _actor_role(case: CaseHistory) -> Iterator[Breach]:
    holder: str | None = None  # the assigned mediator, or the task's assignee
    for event in case.events:
        if isinstance(event, Dispute.MediatorAssigned):
            holder_next: str | None = event.mediator_id
        elif isinstance(event, Task.Assigned | Task.Reassigned):
            holder_next = event.assignee
        else:
            holder_next = holder
        rights = WHO_MAY_RECORD.get(type(event))
        if rights is not None:
            yield from _check_actor(event, rights, holder)
        holder = holder_next


def _check_actor(
    event: GridAggregate.Event, rights: tuple[frozenset[Role], bool], holder: str | None
) -> Iterator[Breach]:
    roles, assigned = rights
    actor = event.actor
    version = event.originator_version
    step = type(event).__qualname__
    if actor.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        yield breach(
            [version],
            f"第 {version} 版（{step}）由 {actor.worker_id} 以 {actor.role.value} 角色记录，无权记录此步骤"
            f"（有权角色：{allowed}）",
            f"version {version} ({step}) was recorded by {actor.worker_id} as {actor.role.value}, a role without "
            f"the right (allowed: {allowed})",
        )
        return
    must_hold = assigned and (actor.role is Role.MEDIATOR or isinstance(event, Task.Event))
    if must_hold and actor.worker_id != holder:
        who_zh = "指定调解员" if isinstance(event, Dispute.Event) else "承办人"
        who_en = "assigned mediator" if isinstance(event, Dispute.Event) else "assignee"
        yield breach(
            [version],
            f"第 {version} 版（{step}）由 {actor.worker_id} 记录，但{who_zh}是 {holder or '（无）'}",
            f"version {version} ({step}) was recorded by {actor.worker_id}, not the {who_en} ({holder or 'none'})",
        )


@_rule(
    "record.time-order",
    applies_to=_CASES,
    severity=RuleSeverity.WARNING,
    title_zh="事件按记录时间先后排列（否则无法准确还原某一时刻的状态）",
    title_en="Events are recorded in time order (otherwise the case cannot be replayed as of a moment)",
    source="audit integrity: replay as of a moment",
)
def _time_order(case: CaseHistory) -> Iterator[Breach]:
    for previous, event in zip(case.events, case.events[1:], strict=False):
        if event.timestamp < previous.timestamp:
            yield breach(
                [previous.originator_version, event.originator_version],
                f"第 {event.originator_version} 版的记录时间早于第 {previous.originator_version} 版",
                f"version {event.originator_version} is recorded earlier than version {previous.originator_version}",
            )


RULES: Final[tuple[Rule, ...]] = tuple(_BOOK.rules)
"""The rules of every case's record, in the order findings are reported."""
