"""What a dispute's commands check before they record anything, beyond who acts and in which state.

The attendees and statements of a session, how each signer may sign the
agreement, the (possibly extended) time limit of mediation and the date of
recording; who receives a dispute, and what to do instead of a command refused
in each state. :class:`~grid_events.domain.dispute.Dispute` raises with these.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from grid_events.domain.checks import check_aware, check_text, check_tuple_of, check_unique
from grid_events.domain.mediation import (
    PARTY_WRITTEN_METHODS,
    AgreementForm,
    DisputeStatus,
    Party,
    SignatureMethod,
    Statement,
    is_party_id,
    local_date,
)
from grid_events.domain.values import Role
from grid_events.exceptions import RuleViolationError, ValidationError

__all__ = [
    "CLOSE_HINTS",
    "MEDIATOR_OR_SUPERVISOR",
    "NEXT_STEP",
    "RECEIVERS",
    "check_attendees",
    "check_signature_method",
    "check_statements",
    "check_time_limit",
    "find_party",
    "recording_date",
    "recording_time",
]

NEXT_STEP: Mapping[DisputeStatus, str] = {
    DisputeStatus.RECEIVED: "accept or decline the dispute first",
    DisputeStatus.DECLINED: "the dispute was declined; nothing more can be recorded",
    DisputeStatus.ACCEPTED: "hold and record a mediation session first",
    DisputeStatus.MEDIATING: "mediation is under way: draft an agreement or record the failure",
    DisputeStatus.REFUSED: "a party refused mediation: only the failure, with the other routes explained, can follow",
    DisputeStatus.AGREEMENT_DRAFTED: "the agreement awaits signatures: collect them, redraft it or record the failure",
    DisputeStatus.AGREED: "the agreement has taken effect: record performance and follow-ups, then close",
    DisputeStatus.FAILED: "mediation failed: a supervisor closes the dispute",
    DisputeStatus.CLOSED: "the dispute is closed; nothing more can be recorded",
}
"""What to do instead of a command a dispute refuses in each state."""

CLOSE_HINTS: Mapping[DisputeStatus, str] = {
    DisputeStatus.REFUSED: "record the failure, with the other routes explained, first",
    DisputeStatus.AGREEMENT_DRAFTED: "the agreement has not taken effect: collect the signatures or record the failure",
    DisputeStatus.MEDIATING: "mediation is under way: it ends with an agreement or a failure",
    DisputeStatus.ACCEPTED: "mediation has not ended: it ends with an agreement or a failure",
}
"""What to do first when a dispute in one of these states cannot be closed yet."""

RECEIVERS = (Role.SUPERVISOR, Role.MEDIATOR)
"""Roles that receive a dispute, and accept or decline it."""

MEDIATOR_OR_SUPERVISOR = (Role.MEDIATOR, Role.SUPERVISOR)
"""Roles that record escalation risks, reports to the police and judicial confirmation."""


def recording_date(at: datetime | None) -> date:
    """Return the date in China of *at* (the recording time), or of now."""
    return local_date(recording_time(at))


def recording_time(at: datetime | None) -> datetime:
    """Return *at* (the recording time) once checked to be aware, or now."""
    return datetime.now(UTC) if at is None else check_aware("at", at)


def find_party(parties: tuple[Party, ...], party_id: str) -> Party:
    """Return the party *party_id* of *parties*; raise :class:`ValidationError` if there is none."""
    for party in parties:
        if party.party_id == party_id:
            return party
    raise ValidationError("party_id", f"{party_id!r} is not a party to this dispute")


def check_time_limit(deadline: date | None, day: date, action: str) -> None:
    """Refuse mediation work on *day* after the (possibly extended) *deadline*."""
    if deadline is not None and day > deadline:
        raise RuleViolationError(
            "mediation.time-limit",
            f"cannot {action} on {day}, after the deadline {deadline}: mediation normally ends within "
            "one month; it can go on only when both parties agree — record the extension first",
        )


def check_attendees(attendees: object, party_ids: tuple[str, ...], mediator_id: str | None) -> None:
    """Raise :class:`ValidationError` unless *attendees* are the presiding mediator, parties and others, each once."""
    check_tuple_of("attendees", attendees, str, min_length=1)
    assert isinstance(attendees, tuple)  # noqa: S101 (narrowing for the type checker)
    for index, attendee in enumerate(attendees):
        check_text(f"attendees[{index}]", attendee, max_length=64)
        if is_party_id(attendee) and attendee not in party_ids:
            raise ValidationError(f"attendees[{index}]", f"{attendee!r} is not a party to this dispute")
    check_unique("attendees", attendees)
    if mediator_id not in attendees:
        raise ValidationError("attendees", f"the presiding mediator {mediator_id!r} must attend the session")
    if not any(attendee in party_ids for attendee in attendees):
        raise ValidationError("attendees", "at least one party attends a mediation session")


def check_statements(statements: object, attendees: tuple[str, ...], parties: tuple[Party, ...]) -> None:
    """Raise :class:`ValidationError` unless each of *statements* is by a party who attended, sealed under its key."""
    check_tuple_of("statements", statements, Statement)
    assert isinstance(statements, tuple)  # noqa: S101 (narrowing for the type checker)
    for index, statement in enumerate(statements):
        if statement.party_id not in attendees:
            raise ValidationError(f"statements[{index}]", f"{statement.party_id!r} did not attend the session")
        if statement.text.subject_id != find_party(parties, statement.party_id).subject_id:
            raise ValidationError(f"statements[{index}].text", "must be sealed under the party's own key")
    check_unique("statements", (statement.party_id for statement in statements))


def check_signature_method(
    form: AgreementForm, signer_id: str, method: SignatureMethod, party_ids: tuple[str, ...], mediator_id: str | None
) -> None:
    """Raise :class:`ValidationError` unless *signer_id* may sign an agreement of *form* by *method* (Art. 29, 30)."""
    is_party = signer_id in party_ids
    if not is_party and signer_id != mediator_id:
        raise ValidationError(
            "signer_id", f"{signer_id!r} is neither a party nor the assigned mediator ({mediator_id})"
        )
    if form is AgreementForm.ORAL:
        if not is_party:
            raise ValidationError("signer_id", "the parties consent to an oral agreement; the mediator records it")
        if method is not SignatureMethod.ORAL_CONSENT:
            raise ValidationError("method", "a party consents to an oral agreement (oral_consent, Art. 30)")
    elif is_party and method not in PARTY_WRITTEN_METHODS:
        raise ValidationError("method", "a party signs, seals or fingerprints a written agreement (Art. 29)")
    elif not is_party and method is not SignatureMethod.SIGNATURE:
        raise ValidationError("method", "the mediator signs a written agreement (Art. 29)")
