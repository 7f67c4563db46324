"""Who may do what: named rights, the role → rights policy, and the check every command makes.

Every command and query of :class:`~grid_events.GridApplication` needs one
:class:`Right` (and so does every route of the HTTP service, which checks the
same policy for the account calling it), checked before anything else happens (before the aggregate is
even loaded, so an unauthorised caller learns nothing about it). A query that
can show personal data in full needs a second, *unmasking* right on top, and
records the look (see :mod:`grid_events.privacy.access`).

:data:`POLICY` grants each :class:`~grid_events.domain.values.Role` the fewest
rights its work needs (PIPL Art. 51: least privilege). The application's
check is coarse, by role; the aggregates keep their own finer checks (only the
assignee submits a task, only the assigned mediator records a session, only
someone checked in records on site): both must agree before anything happens.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ParamSpec, TypeVar

import attrs

from grid_events.domain.checks import check_instance
from grid_events.domain.values import Actor, Role
from grid_events.exceptions import PermissionDeniedError

__all__ = [
    "POLICY",
    "Guard",
    "Right",
    "authorize",
    "commands_table",
    "guard_of",
    "may",
    "policy_table",
    "requires",
    "rights_of",
]

P = ParamSpec("P")
R = TypeVar("R")


class Right(enum.StrEnum):
    """A named permission: ``area.action``."""

    RESIDENT_REGISTER = "resident.register"
    RESIDENT_CORRECT = "resident.correct"
    RESIDENT_UPDATE = "resident.update"
    RESIDENT_ISOLATE = "resident.isolate"
    RESIDENT_READ = "resident.read"
    RESIDENT_READ_PERSONAL_DATA = "resident.read_personal_data"
    TASK_CREATE = "task.create"
    TASK_ASSIGN = "task.assign"
    TASK_WORK = "task.work"
    TASK_VERIFY = "task.verify"
    TASK_CLOSE = "task.close"
    TASK_ESCALATE = "task.escalate"
    TASK_REOPEN = "task.reopen"
    TASK_EVALUATE = "task.evaluate"
    TASK_READ = "task.read"
    INSPECTION_RECORD = "inspection.record"
    DISPUTE_RECEIVE = "dispute.receive"
    DISPUTE_ASSIGN = "dispute.assign"
    DISPUTE_MEDIATE = "dispute.mediate"
    DISPUTE_RECORD_SESSION = "dispute.record_session"
    DISPUTE_CLOSE = "dispute.close"
    DISPUTE_READ = "dispute.read"
    DISPUTE_READ_PERSONAL_DATA = "dispute.read_personal_data"
    SITE_PLAN = "site.plan"
    SITE_LEAD = "site.lead"
    SITE_RECORD = "site.record"
    SITE_READ = "site.read"
    SITE_READ_SAMPLES = "site.read_samples"
    SITE_READ_PERSONAL_DATA = "site.read_personal_data"
    AUDIT_READ = "audit.read"
    VIEWS_MASK = "views.mask"
    SUBJECT_ERASE = "subject.erase"
    KEYS_ROTATE = "keys.rotate"
    SERVICE_OPERATE = "service.operate"

    @property
    def description(self) -> str:
        """What the right lets its holder do, in a few words."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Mapping[Right, str] = MappingProxyType(
    {
        Right.RESIDENT_REGISTER: "register and import residents, with the personal data collected",
        Right.RESIDENT_CORRECT: "correct a resident's personal data (PIPL Art. 46)",
        Right.RESIDENT_UPDATE: "tag and untag residents, transfer them, record moves out and in",
        Right.RESIDENT_ISOLATE: "arrange and end home isolation (health data, sealed)",
        Right.RESIDENT_READ: "read residents: cell, tags, status, personal data masked",
        Right.RESIDENT_READ_PERSONAL_DATA: "read a resident's personal data in full (each look recorded)",
        Right.TASK_CREATE: "create tasks and inspections",
        Right.TASK_ASSIGN: "assign, reassign and reschedule tasks",
        Right.TASK_WORK: "accept, start, record progress and calls, submit (the assignee)",
        Right.TASK_VERIFY: "verify or send back submitted work (never one's own)",
        Right.TASK_CLOSE: "close verified tasks, cancel open ones",
        Right.TASK_ESCALATE: "escalate open tasks (督办)",
        Right.TASK_REOPEN: "reopen closed tasks",
        Right.TASK_EVALUATE: "rate closed tasks",
        Right.TASK_READ: "read tasks and inspections",
        Right.INSPECTION_RECORD: "check items, record findings, rectification, re-inspections, reports (the assignee)",
        Right.DISPUTE_RECEIVE: "receive, accept and decline disputes",
        Right.DISPUTE_ASSIGN: "assign the mediator of a dispute",
        Right.DISPUTE_MEDIATE: "investigate, extend, flag risks, draft and sign, record failure and follow-up",
        Right.DISPUTE_RECORD_SESSION: "record mediation sessions (the assigned mediator)",
        Right.DISPUTE_CLOSE: "close a dispute's file",
        Right.DISPUTE_READ: "read the mediation register: cases, parties masked",
        Right.DISPUTE_READ_PERSONAL_DATA: (
            "read parties, statements and investigation notes in full "
            "(a mediator: only of their own cases; each look recorded)"
        ),
        Right.SITE_PLAN: "plan site shifts",
        Right.SITE_LEAD: "open, hand over, close and cancel a shift (its lead)",
        Right.SITE_RECORD: "record on site: people, supplies, tallies, samples, batches (when on site)",
        Right.SITE_READ: "read site shifts and dashboards (no sample records)",
        Right.SITE_READ_SAMPLES: "read sample records, masked",
        Right.SITE_READ_PERSONAL_DATA: "read sample records in full (each look recorded)",
        Right.AUDIT_READ: (
            "read the audit trail: who did what, who saw whose personal data, erasures (PIPL Art. 45, 55)"
        ),
        Right.VIEWS_MASK: "mask sealed records for the service's read views (never in full)",
        Right.SUBJECT_ERASE: "erase a data subject's personal data (PIPL Art. 47)",
        Right.KEYS_ROTATE: "rotate the master key",
        Right.SERVICE_OPERATE: (
            "operate the read service: view states, dead letters (personal data sealed), resume, skip, rebuild"
        ),
    }
)

_WORK = frozenset({Right.TASK_CREATE, Right.TASK_WORK, Right.TASK_READ})
"""What every community worker does with tasks assigned to them."""
_ON_SITE = frozenset({Right.SITE_LEAD, Right.SITE_RECORD, Right.SITE_READ})
"""What every community worker may do on a site shift (the shift itself says who leads and who is on site)."""

POLICY: Mapping[Role, frozenset[Right]] = MappingProxyType(
    {
        Role.GRID_WORKER: _WORK
        | _ON_SITE
        | {
            Right.RESIDENT_REGISTER,
            Right.RESIDENT_CORRECT,
            Right.RESIDENT_UPDATE,
            Right.RESIDENT_ISOLATE,
            Right.RESIDENT_READ,
            Right.INSPECTION_RECORD,
            Right.SITE_PLAN,
            Right.SITE_READ_SAMPLES,
        },
        Role.MEDIATOR: _WORK
        | _ON_SITE
        | {
            Right.DISPUTE_RECEIVE,
            Right.DISPUTE_MEDIATE,
            Right.DISPUTE_RECORD_SESSION,
            Right.DISPUTE_READ,
            Right.DISPUTE_READ_PERSONAL_DATA,
        },
        Role.SAFETY_OFFICER: _WORK | _ON_SITE | {Right.INSPECTION_RECORD},
        Role.PUBLICITY_OFFICER: _WORK | _ON_SITE,
        Role.LIAISON: _WORK | _ON_SITE | {Right.RESIDENT_READ},
        Role.SUPERVISOR: frozenset(Right)
        - {
            Right.DISPUTE_RECORD_SESSION,
            Right.AUDIT_READ,
            Right.VIEWS_MASK,
            Right.SUBJECT_ERASE,
            Right.KEYS_ROTATE,
            Right.SERVICE_OPERATE,
        },
        Role.AUDITOR: frozenset(
            {
                Right.RESIDENT_READ,
                Right.TASK_READ,
                Right.DISPUTE_READ,
                Right.SITE_READ,
                Right.SITE_READ_SAMPLES,
                Right.AUDIT_READ,
            }
        ),
        Role.VOLUNTEER: frozenset({Right.SITE_RECORD, Right.SITE_READ}),
        Role.ADMINISTRATOR: frozenset(
            {Right.AUDIT_READ, Right.SUBJECT_ERASE, Right.KEYS_ROTATE, Right.SERVICE_OPERATE}
        ),
        Role.SYSTEM: frozenset(
            {
                Right.TASK_CREATE,
                Right.TASK_ESCALATE,
                Right.TASK_REOPEN,
                Right.TASK_EVALUATE,
                Right.TASK_READ,
                Right.VIEWS_MASK,
            }
        ),
    }
)
"""The rights of each role: the fewest its work needs (PIPL Art. 51)."""


def rights_of(role: Role) -> frozenset[Right]:
    """Return the rights *role* holds."""
    return POLICY.get(role, frozenset())


def may(actor: Actor, right: Right) -> bool:
    """Return whether *actor*, in the role they act in, holds *right*."""
    return right in rights_of(actor.role)


def authorize(actor: object, right: Right, *, message: str = "") -> Actor:
    """Return *actor* if it is an :class:`Actor` whose role holds *right*.

    Raises :class:`~grid_events.ValidationError` (field ``actor``) for anything
    that is not an actor, and :class:`~grid_events.PermissionDeniedError`
    naming the right otherwise.
    """
    checked = check_instance("actor", actor, Actor)
    if not may(checked, right):
        raise PermissionDeniedError(str(checked), right.value, message or _who_may(right))
    return checked


def _who_may(right: Right) -> str:
    holders = [role.value for role in Role if right in rights_of(role)]
    if not holders:
        return f"nobody may {right.description}"
    names = holders[0] if len(holders) == 1 else ", ".join(holders[:-1]) + " or " + holders[-1]
    return f"only a {names} may {right.description}"


@attrs.frozen
class Guard:
    """The rights a command or query needs: *right* always, *unmasking* to see personal data in full."""

    right: Right
    unmasking: Right | None = None


_GUARD_ATTRIBUTE = "__grid_guard__"


def requires(right: Right, *, unmasking: Right | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a command or query: check that its keyword argument ``actor`` holds *right* first.

    *unmasking* documents the further right the method itself checks before it
    shows personal data in full. :func:`guard_of` reads both back, which is how
    the documentation's tables are generated from the code.
    """
    guard = Guard(right, unmasking)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            authorize(kwargs.get("actor"), right)
            return function(*args, **kwargs)

        setattr(guarded, _GUARD_ATTRIBUTE, guard)
        return guarded

    return decorate


def guard_of(function: object) -> Guard | None:
    """Return the :class:`Guard` a method was decorated with by :func:`requires`, or None."""
    guard = getattr(function, _GUARD_ATTRIBUTE, None)
    return guard if isinstance(guard, Guard) else None


def policy_table() -> str:
    """Return the role → rights policy as a Markdown table (one row a right, one column a role)."""
    roles = list(Role)
    lines = [
        "| right | what it allows | " + " | ".join(role.value for role in roles) + " |",
        "| --- | --- | " + " | ".join(":-:" for _ in roles) + " |",
    ]
    lines.extend(
        f"| `{right.value}` | {right.description} | "
        + " | ".join("✓" if right in rights_of(role) else "" for role in roles)
        + " |"
        for right in Right
    )
    return "\n".join(lines) + "\n"


def commands_table(application: type) -> str:
    """Return, as a Markdown table, the right each command and query of *application* needs."""
    rows = []
    for name in sorted(dir(application)):
        guard = guard_of(getattr(application, name, None))
        if guard is not None:
            unmasking = f"`{guard.unmasking.value}`" if guard.unmasking else ""
            rows.append((guard.right.value, name, unmasking))
    lines = ["| right | commands and queries | in full also needs |", "| --- | --- | --- |"]
    for right in Right:
        names = [name for needed, name, _ in rows if needed == right.value]
        if names:
            extras = sorted({extra for needed, _, extra in rows if needed == right.value and extra})
            lines.append(f"| `{right.value}` | {', '.join(f'`{n}`' for n in names)} | {', '.join(extras)} |")
    return "\n".join(lines) + "\n"
