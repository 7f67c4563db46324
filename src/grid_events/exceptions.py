"""The errors grid_events raises, each named for what went wrong.

Every command checks its input and the state of its aggregate before any event
exists, and raises one of these. Nothing is stored when one is raised.
"""

from __future__ import annotations

__all__ = [
    "AggregateNotFoundError",
    "ConcurrentChangeError",
    "ConfigurationError",
    "GridEventsError",
    "InvalidTransitionError",
    "PermissionDeniedError",
    "PersonalDataErasedError",
    "RuleViolationError",
    "ValidationError",
]


class GridEventsError(Exception):
    """Base class of every error this library raises on purpose."""


class ValidationError(GridEventsError, ValueError):
    """Raised when a value given to a command is not acceptable.

    *field* names the offending argument or attribute (dotted for nested values,
    e.g. ``"finding.severity"``); *message* says what is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidTransitionError(GridEventsError):
    """Raised when a command is not allowed in the aggregate's current state.

    For example: ``task 3f2a… is 'created': it must be assigned before it can be
    started``.
    """

    def __init__(
        self,
        aggregate: str,
        aggregate_id: object,
        state: str,
        command: str,
        hint: str = "",
    ) -> None:
        text = f"{aggregate} {aggregate_id} is {state!r}: cannot {command}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)
        self.aggregate = aggregate
        self.aggregate_id = aggregate_id
        self.state = state
        self.command = command
        self.hint = hint


class RuleViolationError(GridEventsError):
    """Raised when a command would break a rule of the domain.

    *rule* is a short stable identifier of the rule (for example
    ``"mediation.time-limit"``, see docs/rules.md); the message says why.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"[{rule}] {message}")
        self.rule = rule
        self.message = message


class PermissionDeniedError(GridEventsError):
    """Raised when the acting person lacks the right a command or query needs."""

    def __init__(self, actor: str, right: str, message: str = "") -> None:
        text = f"{actor} lacks the right {right!r}"
        if message:
            text += f": {message}"
        super().__init__(text)
        self.actor = actor
        self.right = right


class AggregateNotFoundError(GridEventsError, LookupError):
    """Raised when no aggregate of the asked kind exists with the given id."""

    def __init__(self, aggregate: str, aggregate_id: object) -> None:
        super().__init__(f"no {aggregate} with id {aggregate_id}")
        self.aggregate = aggregate
        self.aggregate_id = aggregate_id


class ConcurrentChangeError(GridEventsError):
    """Raised when another change to the same aggregate was saved first.

    Nothing of this change was stored. Load the aggregate again and retry the
    command if it still makes sense.
    """

    def __init__(self, aggregate_id: object, version: int) -> None:
        super().__init__(
            f"aggregate {aggregate_id} was changed by someone else "
            f"(version {version} is already stored): reload it and retry"
        )
        self.aggregate_id = aggregate_id
        self.version = version


class PersonalDataErasedError(GridEventsError):
    """Raised when personal data is asked for after it was erased (its key destroyed)."""

    def __init__(self, subject_id: object) -> None:
        super().__init__(f"the personal data of {subject_id} has been erased")
        self.subject_id = subject_id


class ConfigurationError(GridEventsError):
    """Raised when the configuration is incomplete or contradictory."""
