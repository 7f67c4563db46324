"""Commands and queries on people's mediation cases (see :class:`~grid_events.domain.dispute.Dispute`).

Personal data is sealed here, before the aggregate sees it: a party's details
and statements under the party's own key (the resident's, for a resident
party), investigation notes under the dispute's own key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from datetime import date, datetime
from typing import Literal, TypeVar, overload
from uuid import UUID, uuid4

import attrs

from grid_events.application.core import ApplicationCore
from grid_events.domain.checks import (
    check_instance,
    check_int,
    check_text,
    instance_validator,
    optional_instance_validator,
)
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import (
    Agreement,
    DisputeCategory,
    DisputeSource,
    Party,
    PartyKind,
    PerformanceStatus,
    RiskLevel,
    Route,
    SignatureMethod,
    Statement,
)
from grid_events.domain.resident import Resident
from grid_events.domain.values import Actor, EvidenceRef, GridCell, Role, SealedData
from grid_events.exceptions import PermissionDeniedError, PersonalDataErasedError, ValidationError
from grid_events.privacy.permissions import Right, authorize, requires
from grid_events.privacy.personal import MaskedPartyDetails, PartyDetails, filled_fields, identifiers_of

__all__ = ["DisputeCommands", "PartyInput"]

T = TypeVar("T")


@attrs.frozen
class PartyInput:
    """A party as the office enters it: kind, details in the clear, and the resident if registered."""

    kind: PartyKind = attrs.field(validator=instance_validator(PartyKind))
    details: PartyDetails = attrs.field(validator=instance_validator(PartyDetails))
    resident_id: UUID | None = attrs.field(default=None, validator=optional_instance_validator(UUID))


class DisputeCommands(ApplicationCore):
    """The mediation register: receiving, mediating, agreement or failure, follow-up, closing."""

    @requires(Right.DISPUTE_RECEIVE)
    def receive_dispute(  # noqa: PLR0917 (the register's fields, in the order of the intake form)
        self,
        source: DisputeSource,
        category: DisputeCategory,
        summary: str,
        parties: Sequence[PartyInput],
        grid: GridCell,
        received_on: date,
        *,
        actor: Actor,
        referral_ref: str = "",
    ) -> UUID:
        """Register a dispute; the parties become P1, P2… in the order given, their details sealed."""
        given_parties: object = parties
        if isinstance(given_parties, str | bytes) or not isinstance(given_parties, Sequence):
            raise ValidationError("parties", "must be a sequence of PartyInput")
        for index, given in enumerate(parties):
            check_instance(f"parties[{index}]", given, PartyInput)
            if given.resident_id is not None:
                resident = self.load(Resident, given.resident_id)
                if resident.is_erased:
                    raise PersonalDataErasedError(given.resident_id)
        identifiers = [identifier for given in parties for identifier in identifiers_of(given.details)]
        self._clear_text("summary", summary, identifiers, max_length=500)
        self._clear_text("referral_ref", referral_ref, identifiers, optional=True, max_length=200)
        with ExitStack() as keys:
            sealed_parties = []
            for index, given in enumerate(parties):
                subject_id = given.resident_id or uuid4()
                keys.enter_context(self.sealing(subject_id))
                details, _ = self.vault.seal(subject_id, given.details, field=f"parties[{index}].details")
                try:
                    party = Party(f"P{index + 1}", given.kind, given.resident_id, details)
                except ValidationError as e:
                    raise ValidationError(f"parties[{index}].{e.field}", e.message) from e
                sealed_parties.append(party)
            dispute = Dispute.receive(
                source=source,
                category=category,
                summary=summary,
                parties=tuple(sealed_parties),
                grid=grid,
                received_on=received_on,
                actor=actor,
                referral_ref=referral_ref,
                at=self.now(),
            )
            self.save(dispute)
        return dispute.id

    @requires(Right.DISPUTE_RECEIVE)
    def accept_dispute(self, dispute_id: UUID, accepted_on: date, *, actor: Actor) -> None:
        """Accept a dispute for mediation: the one-month limit starts on *accepted_on*."""
        dispute = self.load(Dispute, dispute_id)
        dispute.accept(accepted_on, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_RECEIVE)
    def decline_dispute(self, dispute_id: UUID, reason: str, *, actor: Actor) -> None:
        """Decline a dispute, saying why."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, reason=reason)
        dispute.decline(reason, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_ASSIGN)
    def assign_mediator(self, dispute_id: UUID, mediator_id: str, *, actor: Actor, reason: str = "") -> None:
        """Assign the presiding mediator (a supervisor); replacing one needs a *reason*."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, reason=reason)
        dispute.assign_mediator(mediator_id, actor=actor, reason=reason, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def note_investigation(
        self, dispute_id: UUID, note: str, *, actor: Actor, evidence: Sequence[EvidenceRef] = ()
    ) -> None:
        """Record what the investigation found; the note is sealed under the dispute's own key."""
        dispute = self.load(Dispute, dispute_id)
        check_text("note", note)
        evidence_refs = _tuple_of("evidence", evidence)
        with self.sealing(dispute_id):
            sealed, _ = self.vault.seal(dispute_id, note, field="note")
            dispute.note_investigation(sealed, actor=actor, evidence=evidence_refs, at=self.now())
            self.save(dispute)

    @requires(Right.DISPUTE_RECORD_SESSION)
    def record_session(  # noqa: PLR0917 (the session record's fields, in the order of the form)
        self,
        dispute_id: UUID,
        held_at: datetime,
        place: str,
        attendees: Sequence[str],
        statements: Mapping[str, str],
        summary: str,
        next_steps: str = "",
        *,
        actor: Actor,
    ) -> None:
        """Record a mediation session; each party's statement (party id → text) is sealed under their key."""
        dispute = self.load(Dispute, dispute_id)
        if isinstance(attendees, str) or not isinstance(attendees, Sequence):
            raise ValidationError("attendees", "must be a sequence of party ids and mediator ids")
        if not isinstance(statements, Mapping):
            raise ValidationError("statements", "must map party ids to what each said")
        for party_id, text in statements.items():
            check_text(f"statements[{party_id!r}]", text, max_length=10_000)
        self._dispute_text(dispute, place=place, summary=summary, next_steps=next_steps)
        with ExitStack() as keys:
            sealed: list[Statement] = []
            for party_id, text in statements.items():
                try:
                    party = dispute.party(party_id)
                except ValidationError:
                    raise ValidationError("statements", f"{party_id!r} is not a party to this dispute") from None
                keys.enter_context(self.sealing(party.subject_id))
                text_sealed, _ = self.vault.seal(party.subject_id, text, field=f"statements[{party_id!r}]")
                sealed.append(Statement(party_id, text_sealed))
            dispute.record_session(
                held_at,
                place,
                tuple(attendees),
                tuple(sealed),
                summary,
                actor=actor,
                next_steps=next_steps,
                at=self.now(),
            )
            self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def extend_time_limit(
        self,
        dispute_id: UUID,
        new_deadline: date,
        consenting_party_ids: Iterable[str],
        reason: str,
        *,
        actor: Actor,
    ) -> None:
        """Let mediation go on until *new_deadline*, with every party's consent."""
        dispute = self.load(Dispute, dispute_id)
        consenting = _frozenset_of("consenting_party_ids", consenting_party_ids)
        self._dispute_text(dispute, reason=reason)
        dispute.extend_time_limit(new_deadline, consenting, reason, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def flag_escalation_risk(
        self,
        dispute_id: UUID,
        level: RiskLevel,
        description: str,
        preventive_steps: Sequence[str],
        *,
        actor: Actor,
    ) -> None:
        """Record a risk of escalation and the preventive steps taken."""
        dispute = self.load(Dispute, dispute_id)
        if isinstance(preventive_steps, str) or not isinstance(preventive_steps, Sequence):
            raise ValidationError("preventive_steps", "must be a sequence of steps")
        self._dispute_text(dispute, description=description, **_numbered("preventive_steps", preventive_steps))
        dispute.flag_escalation_risk(level, description, tuple(preventive_steps), actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def report_dispute_to_police(self, dispute_id: UUID, station: str, reason: str, *, actor: Actor) -> None:
        """Record that a dispute was reported to the police (or another authority)."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, station=station, reason=reason)
        dispute.report_to_police(station, reason, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def record_refusal(self, dispute_id: UUID, party_id: str, note: str, *, actor: Actor) -> None:
        """Record that a party clearly refused mediation."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, note=note)
        dispute.record_refusal(party_id, note, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def draft_agreement(self, dispute_id: UUID, agreement: Agreement, *, actor: Actor) -> None:
        """Draft the mediation agreement (again, if the parties changed it: signatures start over)."""
        dispute = self.load(Dispute, dispute_id)
        if isinstance(agreement, Agreement):
            terms = {f"agreement.terms[{index}].text": term.text for index, term in enumerate(agreement.terms)}
            self._dispute_text(
                dispute,
                **{
                    "agreement.facts": agreement.facts,
                    "agreement.issues": agreement.issues,
                    "agreement.performance": agreement.performance,
                    **terms,
                },
            )
        dispute.draft_agreement(agreement, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def sign_agreement(
        self, dispute_id: UUID, signer_id: str, signed_on: date, method: SignatureMethod, *, actor: Actor
    ) -> None:
        """Record a signature; the last one needed makes the agreement take effect."""
        dispute = self.load(Dispute, dispute_id)
        dispute.sign_agreement(signer_id, signed_on, method, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def record_mediation_failure(
        self, dispute_id: UUID, reason: str, routes_explained: Iterable[Route], *, actor: Actor
    ) -> None:
        """End mediation without agreement, recording the other routes explained."""
        dispute = self.load(Dispute, dispute_id)
        routes = _frozenset_of("routes_explained", routes_explained)
        self._dispute_text(dispute, reason=reason)
        dispute.record_failure(reason, routes, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def record_performance(
        self, dispute_id: UUID, term_index: int, performed: bool, *, actor: Actor, note: str = ""
    ) -> None:
        """Record whether a term of the agreement was performed."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, note=note)
        dispute.record_performance(term_index, performed, actor=actor, note=note, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def record_follow_up(
        self,
        dispute_id: UUID,
        visited_on: date,
        performance: PerformanceStatus,
        satisfied: bool,
        escalation_signs: bool,
        *,
        actor: Actor,
        note: str = "",
    ) -> None:
        """Record a follow-up visit (回访)."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, note=note)
        dispute.record_follow_up(
            visited_on, performance, satisfied, escalation_signs, actor=actor, note=note, at=self.now()
        )
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def apply_for_judicial_confirmation(
        self,
        dispute_id: UUID,
        court: str,
        applied_on: date,
        *,
        actor: Actor,
        applicant_party_ids: Iterable[str] | None = None,
    ) -> None:
        """Record the parties' application to a court to confirm the agreement (by default: all of them, jointly)."""
        dispute = self.load(Dispute, dispute_id)
        applicants = (
            frozenset(dispute.party_ids)
            if applicant_party_ids is None
            else _frozenset_of("applicant_party_ids", applicant_party_ids)
        )
        self._dispute_text(dispute, court=court)
        dispute.apply_for_judicial_confirmation(court, applied_on, applicants, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_MEDIATE)
    def record_judicial_decision(
        self, dispute_id: UUID, confirmed: bool, decided_on: date, *, actor: Actor, note: str = ""
    ) -> None:
        """Record whether the court confirmed the agreement."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, note=note)
        dispute.record_judicial_decision(confirmed, decided_on, actor=actor, note=note, at=self.now())
        self.save(dispute)

    @requires(Right.DISPUTE_CLOSE)
    def close_dispute(self, dispute_id: UUID, summary: str, *, actor: Actor) -> None:
        """Close a dispute's file (a supervisor)."""
        dispute = self.load(Dispute, dispute_id)
        self._dispute_text(dispute, summary=summary)
        dispute.close(summary, actor=actor, at=self.now())
        self.save(dispute)

    @requires(Right.SUBJECT_ERASE)
    def erase_dispute_party(
        self, dispute_id: UUID, party_id: str, *, actor: Actor, reason: str, request_ref: str = ""
    ) -> None:
        """Erase a party's personal data (PIPL Art. 47): their details and statements, in every case.

        A resident party is erased as the resident (everything sealed under
        their key goes); any other party's own key is destroyed after the
        erasure is recorded in their privacy record. The case itself stays.
        """
        party = self.load(Dispute, dispute_id).party(party_id)
        self._erase_subject(
            party.subject_id,
            actor=actor,
            reason=reason,
            request_ref=request_ref,
            identifiers=self._identifiers(party.details),
        )

    # -- queries ----------------------------------------------------------------------

    @requires(Right.DISPUTE_READ)
    def get_dispute(self, dispute_id: UUID, *, actor: Actor) -> Dispute:  # noqa: ARG002 (checked by @requires)
        """Return the dispute *dispute_id* (personal data still sealed)."""
        return self.load(Dispute, dispute_id)

    @overload
    def dispute_party_details(
        self, dispute_id: UUID, party_id: str, *, actor: Actor, unmasked: Literal[False] = False, purpose: str = ""
    ) -> MaskedPartyDetails: ...

    @overload
    def dispute_party_details(
        self, dispute_id: UUID, party_id: str, *, actor: Actor, unmasked: Literal[True], purpose: str
    ) -> PartyDetails: ...

    @requires(Right.DISPUTE_READ, unmasking=Right.DISPUTE_READ_PERSONAL_DATA)
    def dispute_party_details(
        self, dispute_id: UUID, party_id: str, *, actor: Actor, unmasked: bool = False, purpose: str = ""
    ) -> MaskedPartyDetails | PartyDetails:
        """Return who a party is: masked, or with *unmasked* in full (recorded, with the *purpose*).

        In full only for a supervisor or the case's assigned mediator. Raises
        :class:`PersonalDataErasedError` once the party's data was erased.
        """
        check_instance("unmasked", unmasked, bool)
        if unmasked:
            authorize(actor, Right.DISPUTE_READ_PERSONAL_DATA)
        dispute = self.load(Dispute, dispute_id)
        if unmasked:
            _require_own_case(dispute, actor)
        party = dispute.party(party_id)
        details = self.vault.open(party.details)
        assert isinstance(details, PartyDetails)  # noqa: S101 (we sealed it)
        if not unmasked:
            return MaskedPartyDetails.of(details)
        self._record_view(
            party.subject_id,
            actor=actor,
            purpose=self._check_purpose(purpose, identifiers_of(details)),
            record_kind="dispute_party",
            record_id=dispute_id,
            item=party.party_id,
            fields=filled_fields(details),
        )
        return details

    @requires(Right.DISPUTE_READ_PERSONAL_DATA)
    def session_statements(
        self, dispute_id: UUID, session_index: int, *, actor: Actor, purpose: str
    ) -> dict[str, str | None]:
        """Return what each party said at a session (party id → text; None where erased).

        Only for a supervisor or the case's assigned mediator, with a *purpose*;
        each party's statement read is recorded in that party's privacy record.
        """
        dispute = self.load(Dispute, dispute_id)
        _require_own_case(dispute, actor)
        check_int("session_index", session_index, minimum=0)
        if session_index >= len(dispute.sessions):
            raise ValidationError("session_index", f"the dispute has {len(dispute.sessions)} session(s)")
        checked_purpose = self._check_purpose(purpose, self._party_identifiers(dispute))
        statements: dict[str, str | None] = {}
        for statement in dispute.sessions[session_index].statements:
            text = self._open_text(statement.text)
            statements[statement.party_id] = text
            if text is not None:
                self._record_view(
                    statement.text.subject_id,
                    actor=actor,
                    purpose=checked_purpose,
                    record_kind="session_statement",
                    record_id=dispute_id,
                    item=f"{session_index}:{statement.party_id}",
                    fields=("statement",),
                )
        return statements

    @requires(Right.DISPUTE_READ_PERSONAL_DATA)
    def investigation_notes(self, dispute_id: UUID, *, actor: Actor, purpose: str) -> list[str | None]:
        """Return the investigation notes in the clear, in order (None where erased).

        Only for a supervisor or the case's assigned mediator, with a *purpose*;
        the read is recorded in the privacy record of the case file.
        """
        dispute = self.load(Dispute, dispute_id)
        _require_own_case(dispute, actor)
        checked_purpose = self._check_purpose(purpose, self._party_identifiers(dispute))
        notes = [self._open_text(noted.note) for noted in dispute.investigation_notes]
        if any(note is not None for note in notes):
            self._record_view(
                dispute_id,
                actor=actor,
                purpose=checked_purpose,
                record_kind="investigation_notes",
                record_id=dispute_id,
                item="",
                fields=("notes",),
            )
        return notes

    def _open_text(self, sealed: SealedData) -> str | None:
        """Return sealed text in the clear, or None once its subject's key was destroyed."""
        try:
            text = self.vault.open(sealed)
        except PersonalDataErasedError:
            return None
        assert isinstance(text, str)  # noqa: S101 (we sealed it)
        return text

    def _party_identifiers(self, dispute: Dispute) -> tuple[str, ...]:
        return self._identifiers(*(party.details for party in dispute.parties))

    def _dispute_text(self, dispute: Dispute, **texts: object) -> None:
        """Refuse clear texts of a case that hold identifiers, or name one of its parties."""
        given = {}
        for field, text in texts.items():
            if text is not None:
                given[field] = self._clear_text(field, text, optional=True, max_length=10_000)
        if any(text.strip() for text in given.values()):
            identifiers = self._party_identifiers(dispute)
            for field, text in given.items():
                self._clear_text(field, text, identifiers, optional=True, max_length=10_000)


def _require_own_case(dispute: Dispute, actor: Actor) -> None:
    """Refuse a mediator the personal data of a case they are not assigned to."""
    if actor.role is Role.MEDIATOR and actor.worker_id != dispute.mediator_id:
        raise PermissionDeniedError(
            str(actor),
            Right.DISPUTE_READ_PERSONAL_DATA.value,
            f"only the assigned mediator ({dispute.mediator_id or 'none yet'}) or a supervisor may read "
            "the personal data of this case",
        )


def _numbered(field: str, values: object) -> dict[str, object]:
    """Return ``{"field[0]": …, "field[1]": …}`` for a sequence of texts (nothing for anything else)."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        return {}
    return {f"{field}[{index}]": value for index, value in enumerate(values)}


def _tuple_of(field: str, values: Sequence[T]) -> tuple[T, ...]:
    """Return *values* as a tuple, refusing anything that is not a sequence (or is a lone string)."""
    given: object = values
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise ValidationError(field, f"must be a sequence, not {type(given).__name__}")
    return tuple(values)


def _frozenset_of(field: str, values: Iterable[T]) -> frozenset[T]:
    """Return *values* as a frozenset, refusing a lone string where a collection is meant."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(field, "must be a collection, not a single value")
    try:
        return frozenset(values)
    except TypeError as e:
        raise ValidationError(field, f"holds a value that cannot be compared: {e}") from e
