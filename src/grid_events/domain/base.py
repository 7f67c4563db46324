"""The base of the four aggregates and their events.

Every event records who acted (:class:`~grid_events.domain.values.Actor`: worker
id and role) and when (``timestamp``, supplied by the application's clock). The
persistence layer adds to each stored event the hash of its predecessor (see
:mod:`grid_events.chain`); the domain never sees it, so it stays pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn, Self
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from grid_events.domain.checks import check_aware, check_instance
from grid_events.domain.values import Actor, Role
from grid_events.exceptions import (
    InvalidTransitionError,
    PermissionDeniedError,
    ValidationError,
)

__all__ = ["GridAggregate"]


class GridAggregate(Aggregate):
    """Base class of Resident, Task, Dispute and SiteShift.

    Subclasses define nested, past-tense event classes deriving from
    :class:`GridAggregate.Event` (or :class:`GridAggregate.Created`), each with an
    ``apply`` method, and imperative command methods that check everything first,
    then call :meth:`_trigger`.
    """

    KIND = "aggregate"
    """A lower-case word naming the aggregate in messages (``"task"``)."""

    class Event(Aggregate.Event):
        """An event of a grid aggregate: says who acted, in which role."""

        actor: Actor

    class Created(Event, Aggregate.Created):
        """The first event of a grid aggregate."""

    @classmethod
    def _create_with(
        cls,
        event_class: type[GridAggregate.Created],
        *,
        actor: Actor,
        at: datetime | None,
        aggregate_id: UUID | None = None,
        **fields: object,
    ) -> Self:
        """Create the aggregate with its first event, after checking *actor* and *at*."""
        check_instance("actor", actor, Actor)
        if at is not None:
            check_aware("at", at)
        return cls._create(
            event_class,
            id=aggregate_id or uuid4(),
            actor=actor,
            timestamp=at,
            **fields,
        )

    def _trigger(
        self,
        event_class: type[GridAggregate.Event],
        *,
        actor: Actor,
        at: datetime | None,
        **fields: object,
    ) -> None:
        """Record *event_class* with *fields*, after checking *actor* and *at*.

        *at* (the time of recording) may not be earlier than the aggregate's
        last event: an aggregate's history reads forward in time, which is what
        lets an auditor replay it "as of" any moment.
        """
        check_instance("actor", actor, Actor)
        if at is not None:
            check_aware("at", at)
            if at < self.modified_on:
                raise ValidationError(
                    "at",
                    f"{at.isoformat()} is before the last recorded event of this "
                    f"{self.KIND} ({self.modified_on.isoformat()})",
                )
        self.trigger_event(event_class, actor=actor, timestamp=at, **fields)

    def _refuse(self, state: str, command: str, hint: str = "") -> NoReturn:
        """Raise :class:`InvalidTransitionError` for *command* in *state*."""
        raise InvalidTransitionError(self.KIND, self.id, state, command, hint)

    @staticmethod
    def _require_role(actor: Actor, *roles: Role, action: str) -> None:
        """Raise :class:`PermissionDeniedError` unless *actor* acts in one of *roles*."""
        check_instance("actor", actor, Actor)
        if actor.role not in roles:
            names = " or ".join(role.value for role in roles)
            raise PermissionDeniedError(str(actor), f"{action}", f"only a {names} may {action}")
