"""A people's mediation case (人民调解), from application to follow-up.

The case follows the People's Mediation Law (人民调解法) and the Ministry of
Justice's rules on mediation work (司法部令第75号):

* it is **received** (a party's application, the committee's own initiative, or
  a referral by the police, a court or the government; Art. 17, 18), then
  **accepted** or **declined** with a reason;
* a supervisor **assigns** the presiding mediator (Art. 19), who notes the
  **investigation** and records every **session** (Art. 27);
* mediation normally ends within one month of acceptance (令75号 Art. 33); it
  goes on longer only after every party agreed to an **extension**;
* a risk of escalation calls for preventive steps, and a risk of a public-security
  or criminal case for a **report to the police** (Art. 25);
* if a party clearly **refuses**, mediation cannot go on (Art. 17, 26);
* an **agreement** (written or oral, Art. 28) takes effect when every party and
  the mediator have signed it (Art. 29), or, oral, when every party has
  consented (Art. 30); otherwise mediation **fails** and the other routes are
  explained (Art. 26);
* the committee supervises **performance** (Art. 31) and **follows up** (回访);
  the parties may jointly apply for **judicial confirmation** within 30 days
  of the agreement taking effect (Art. 33);
* a supervisor **closes** the file.

Who may act: a supervisor or a mediator receives, accepts and declines; only a
supervisor assigns the mediator and closes; only the assigned mediator records
the mediation itself; escalation risks, police reports and judicial confirmation
may be recorded by the assigned mediator or a supervisor. Auditors, volunteers
and other workers change nothing. Checks run in this order: the actor's role,
the state, that the mediator is the assigned one, the input, the rules.

What people said or are is sealed (see :mod:`grid_events.domain.mediation`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Self
from uuid import UUID

from grid_events.domain.base import GridAggregate
from grid_events.domain.calendar import add_months
from grid_events.domain.checks import (
    check_aware,
    check_date,
    check_frozenset_of,
    check_instance,
    check_int,
    check_optional_text,
    check_text,
    check_tuple_of,
    check_unique,
)
from grid_events.domain.dispute_checks import (
    CLOSE_HINTS,
    MEDIATOR_OR_SUPERVISOR,
    NEXT_STEP,
    RECEIVERS,
    check_attendees,
    check_signature_method,
    check_statements,
    check_time_limit,
    find_party,
    recording_date,
    recording_time,
)
from grid_events.domain.mediation import (
    FINAL_STATES,
    MEDIATING_STATES,
    REFERRED_SOURCES,
    Agreement,
    AgreementForm,
    AgreementSignature,
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    EscalationRisk,
    FollowUpVisit,
    InvestigationNote,
    JudicialConfirmation,
    MediationSession,
    Party,
    PerformanceStatus,
    PoliceReport,
    RiskLevel,
    Route,
    SignatureMethod,
    Statement,
    TermPerformance,
    TimeLimitExtension,
    is_party_id,
    local_date,
)
from grid_events.domain.mediation import VALUE_TYPES as MEDIATION_VALUE_TYPES
from grid_events.domain.values import Actor, EvidenceRef, GridCell, Role, SealedData
from grid_events.exceptions import PermissionDeniedError, RuleViolationError, ValidationError

__all__ = ["JUDICIAL_CONFIRMATION_DAYS", "REPEAT_FOLLOW_UP_DAYS", "Dispute"]

JUDICIAL_CONFIRMATION_DAYS = 30
"""Days after the agreement takes effect within which the parties may apply for judicial confirmation.

Counted from the day after the effective date (民法典 Art. 201), so the last
day is the effective date plus 30 days.
"""

REPEAT_FOLLOW_UP_DAYS = 30
"""Days after a follow-up that found the agreement not fully performed, or signs of escalation, until the next."""

OPEN_STATES = frozenset(DisputeStatus) - FINAL_STATES
"""States in which the case is still open."""


class Dispute(GridAggregate):
    """A people's mediation case: parties, sessions, agreement or failure, follow-up."""

    KIND = "dispute"

    class Received(GridAggregate.Created):
        """The committee received the dispute (申请, 主动调解, 移送, 委托, 交办)."""

        source: DisputeSource
        category: DisputeCategory
        summary: str
        parties: tuple[Party, ...]
        grid: GridCell
        received_on: date
        referral_ref: str

    class Accepted(GridAggregate.Event):
        """The dispute was accepted for mediation; the one-month limit runs to *deadline*."""

        accepted_on: date
        deadline: date

        def apply(self, aggregate: Dispute) -> None:
            aggregate.status = DisputeStatus.ACCEPTED
            aggregate.accepted_on = self.accepted_on
            aggregate.deadline = self.deadline

    class Declined(GridAggregate.Event):
        """The dispute was not accepted for mediation (final)."""

        reason: str

        def apply(self, aggregate: Dispute) -> None:
            aggregate.status = DisputeStatus.DECLINED
            aggregate.decline_reason = self.reason
            aggregate.closed_on = local_date(self.timestamp)

    class MediatorAssigned(GridAggregate.Event):
        """A supervisor assigned the presiding mediator (or a new one, saying why)."""

        mediator_id: str
        reason: str

        def apply(self, aggregate: Dispute) -> None:
            if aggregate.mediator_id is not None:
                aggregate.past_mediator_ids = (*aggregate.past_mediator_ids, aggregate.mediator_id)
            aggregate.mediator_id = self.mediator_id

    class InvestigationNoted(GridAggregate.Event):
        """The mediator noted what the investigation found (sealed under the dispute's key)."""

        note: SealedData
        evidence: tuple[EvidenceRef, ...]

        def apply(self, aggregate: Dispute) -> None:
            noted = InvestigationNote(self.note, self.evidence, local_date(self.timestamp))
            aggregate.investigation_notes = (*aggregate.investigation_notes, noted)

    class SessionRecorded(GridAggregate.Event):
        """A mediation session was held: who attended, what each party said (sealed)."""

        held_at: datetime
        place: str
        attendees: tuple[str, ...]
        statements: tuple[Statement, ...]
        summary: str
        next_steps: str

        def apply(self, aggregate: Dispute) -> None:
            session = MediationSession(
                self.held_at, self.place, self.attendees, self.statements, self.summary, self.next_steps
            )
            aggregate.sessions = (*aggregate.sessions, session)
            if aggregate.status is DisputeStatus.ACCEPTED:
                aggregate.status = DisputeStatus.MEDIATING

    class TimeLimitExtended(GridAggregate.Event):
        """Every party agreed that mediation goes on until *new_deadline*."""

        new_deadline: date
        consenting_party_ids: frozenset[str]
        reason: str

        def apply(self, aggregate: Dispute) -> None:
            previous = aggregate.deadline or self.new_deadline
            extension = TimeLimitExtension(previous, self.new_deadline, self.consenting_party_ids, self.reason)
            aggregate.extensions = (*aggregate.extensions, extension)
            aggregate.deadline = self.new_deadline

    class EscalationRiskFlagged(GridAggregate.Event):
        """A risk of escalation was seen, and targeted preventive steps taken (Art. 25)."""

        level: RiskLevel
        description: str
        preventive_steps: tuple[str, ...]

        def apply(self, aggregate: Dispute) -> None:
            risk = EscalationRisk(self.level, self.description, self.preventive_steps, local_date(self.timestamp))
            aggregate.risks = (*aggregate.risks, risk)
            if self.level is RiskLevel.HIGH:
                aggregate.police_report_due = True

    class ReportedToPolice(GridAggregate.Event):
        """The dispute was reported to the police station or another authority (Art. 25)."""

        station: str
        reason: str

        def apply(self, aggregate: Dispute) -> None:
            report = PoliceReport(self.station, self.reason, local_date(self.timestamp))
            aggregate.police_reports = (*aggregate.police_reports, report)
            aggregate.police_report_due = False

    class PartyRefused(GridAggregate.Event):
        """A party clearly refused mediation: it cannot go on (Art. 17, 26)."""

        party_id: str
        note: str

        def apply(self, aggregate: Dispute) -> None:
            aggregate.status = DisputeStatus.REFUSED
            aggregate.refused_by = self.party_id
            aggregate.refusal_note = self.note

    class AgreementDrafted(GridAggregate.Event):
        """The mediator drafted the agreement (a redraft discards the signatures given so far)."""

        agreement: Agreement

        def apply(self, aggregate: Dispute) -> None:
            aggregate.status = DisputeStatus.AGREEMENT_DRAFTED
            aggregate.agreement = self.agreement
            aggregate.agreement_drafted_on = local_date(self.timestamp)
            aggregate.signatures = ()

    class AgreementSigned(GridAggregate.Event):
        """A party or the mediator signed the agreement (or a party consented to an oral one)."""

        signer_id: str
        signed_on: date
        method: SignatureMethod

        def apply(self, aggregate: Dispute) -> None:
            signature = AgreementSignature(self.signer_id, self.signed_on, self.method)
            aggregate.signatures = (*aggregate.signatures, signature)

    class AgreementTookEffect(GridAggregate.Event):
        """Every signature the agreement needs was given: it is binding (Art. 29–31)."""

        effective_on: date

        def apply(self, aggregate: Dispute) -> None:
            aggregate.status = DisputeStatus.AGREED
            aggregate.effective_on = self.effective_on

    class MediationFailed(GridAggregate.Event):
        """Mediation ended without agreement; the other routes were explained (Art. 26)."""

        reason: str
        routes_explained: frozenset[Route]

        def apply(self, aggregate: Dispute) -> None:
            aggregate.status = DisputeStatus.FAILED
            aggregate.failure_reason = self.reason
            aggregate.routes_explained = self.routes_explained
            aggregate.failed_on = local_date(self.timestamp)

    class PerformanceRecorded(GridAggregate.Event):
        """Whether a term of the agreement was performed (Art. 31)."""

        term_index: int
        performed: bool
        note: str

        def apply(self, aggregate: Dispute) -> None:
            record = TermPerformance(self.term_index, self.performed, self.note, local_date(self.timestamp))
            aggregate.performance_records = (*aggregate.performance_records, record)

    class FollowUpRecorded(GridAggregate.Event):
        """A follow-up visit (回访): performance, satisfaction, signs of escalation."""

        visited_on: date
        performance: PerformanceStatus
        satisfied: bool
        escalation_signs: bool
        note: str

        def apply(self, aggregate: Dispute) -> None:
            visit = FollowUpVisit(self.visited_on, self.performance, self.satisfied, self.escalation_signs, self.note)
            aggregate.follow_ups = (*aggregate.follow_ups, visit)

    class JudicialConfirmationApplied(GridAggregate.Event):
        """The parties jointly applied to a court to confirm the agreement (Art. 33)."""

        court: str
        applied_on: date
        applicant_party_ids: frozenset[str]

        def apply(self, aggregate: Dispute) -> None:
            aggregate.judicial = JudicialConfirmation(self.court, self.applied_on, self.applicant_party_ids)

    class JudicialConfirmationDecided(GridAggregate.Event):
        """The court confirmed the agreement, or refused to."""

        confirmed: bool
        decided_on: date
        note: str

        def apply(self, aggregate: Dispute) -> None:
            assert aggregate.judicial is not None  # noqa: S101 (the command checked it)
            aggregate.judicial = JudicialConfirmation(
                aggregate.judicial.court,
                aggregate.judicial.applied_on,
                aggregate.judicial.applicant_party_ids,
                confirmed=self.confirmed,
                decided_on=self.decided_on,
                note=self.note,
            )

    class Closed(GridAggregate.Event):
        """A supervisor closed the file."""

        summary: str

        def apply(self, aggregate: Dispute) -> None:
            aggregate.closed_from = aggregate.status
            aggregate.status = DisputeStatus.CLOSED
            aggregate.closing_summary = self.summary
            aggregate.closed_on = local_date(self.timestamp)

    def __init__(
        self,
        *,
        source: DisputeSource,
        category: DisputeCategory,
        summary: str,
        parties: tuple[Party, ...],
        grid: GridCell,
        received_on: date,
        referral_ref: str,
    ) -> None:
        self.source = source
        self.category = category
        self.summary = summary
        self.parties = parties
        self.grid = grid
        self.received_on = received_on
        self.referral_ref = referral_ref
        self.status = DisputeStatus.RECEIVED
        self.accepted_on: date | None = None
        self.deadline: date | None = None
        self.decline_reason = ""
        self.mediator_id: str | None = None
        self.past_mediator_ids: tuple[str, ...] = ()
        self.investigation_notes: tuple[InvestigationNote, ...] = ()
        self.sessions: tuple[MediationSession, ...] = ()
        self.extensions: tuple[TimeLimitExtension, ...] = ()
        self.risks: tuple[EscalationRisk, ...] = ()
        self.police_reports: tuple[PoliceReport, ...] = ()
        self.police_report_due = False
        self.refused_by: str | None = None
        self.refusal_note = ""
        self.agreement: Agreement | None = None
        self.agreement_drafted_on: date | None = None
        self.signatures: tuple[AgreementSignature, ...] = ()
        self.effective_on: date | None = None
        self.failure_reason = ""
        self.routes_explained: frozenset[Route] = frozenset()
        self.failed_on: date | None = None
        self.performance_records: tuple[TermPerformance, ...] = ()
        self.follow_ups: tuple[FollowUpVisit, ...] = ()
        self.judicial: JudicialConfirmation | None = None
        self.closing_summary = ""
        self.closed_from: DisputeStatus | None = None
        self.closed_on: date | None = None

    # -- queries ---------------------------------------------------------------

    @property
    def party_ids(self) -> tuple[str, ...]:
        """The parties' ids, in order (``P1``, ``P2``…)."""
        return tuple(party.party_id for party in self.parties)

    def party(self, party_id: str) -> Party:
        """Return the party *party_id*; raise :class:`ValidationError` if there is none."""
        return find_party(self.parties, party_id)

    @property
    def is_final(self) -> bool:
        """Whether the case was declined or closed: nothing more can be recorded."""
        return self.status in FINAL_STATES

    @property
    def risk_level(self) -> RiskLevel | None:
        """The level of the latest escalation risk flagged, or None."""
        return self.risks[-1].level if self.risks else None

    @property
    def concluded_on(self) -> date | None:
        """When mediation ended: the agreement took effect, or the failure was recorded."""
        return self.effective_on or self.failed_on

    @property
    def concluded_within_limit(self) -> bool | None:
        """Whether mediation ended by its (possibly extended) deadline; None while it goes on."""
        if self.concluded_on is None or self.deadline is None:
            return None
        return self.concluded_on <= self.deadline

    def days_open(self, today: date) -> int:
        """Days from receiving the dispute to *today*, or to the day it was closed or declined."""
        end = self.closed_on if self.closed_on is not None else today
        return max(0, (end - self.received_on).days)

    def days_left(self, today: date) -> int | None:
        """Days from *today* to the deadline (negative once past); None when no clock runs."""
        if self.deadline is None or self.concluded_on is not None or self.is_final:
            return None
        return (self.deadline - today).days

    def is_past_limit(self, today: date) -> bool:
        """Whether mediation is still going on after its (possibly extended) deadline."""
        left = self.days_left(today)
        return left is not None and left < 0

    @property
    def required_signers(self) -> frozenset[str]:
        """Who must sign for the agreement to take effect: every party, and the mediator if it is written."""
        if self.agreement is None:
            return frozenset()
        signers = set(self.party_ids)
        if self.agreement.form is AgreementForm.WRITTEN and self.mediator_id is not None:
            signers.add(self.mediator_id)
        return frozenset(signers)

    @property
    def signatures_outstanding(self) -> frozenset[str]:
        """Who has yet to sign the drafted agreement (empty once it took effect or when there is none)."""
        if self.status is not DisputeStatus.AGREEMENT_DRAFTED:
            return frozenset()
        return self.required_signers - {signature.signer_id for signature in self.signatures}

    @property
    def performed_terms(self) -> frozenset[int]:
        """Indexes of the agreement's terms recorded as performed."""
        return frozenset(record.term_index for record in self.performance_records if record.performed)

    def overdue_terms(self, today: date) -> tuple[int, ...]:
        """Indexes of terms due before *today* and not recorded as performed."""
        if self.agreement is None or self.effective_on is None:
            return ()
        return tuple(
            index
            for index, term in enumerate(self.agreement.terms)
            if term.due_on is not None and term.due_on < today and index not in self.performed_terms
        )

    @property
    def follow_up_due_on(self) -> date | None:
        """When the next follow-up visit (回访) is due, or None when none is.

        While the agreement is in effect and the case open: the first is due on
        the latest due date of the agreement (its terms' and its perform-by date;
        the effective date if none is set), and only a visit on or after that day
        counts. If the latest such visit found the agreement not fully performed,
        or signs of escalation, another is due :data:`REPEAT_FOLLOW_UP_DAYS` later.
        """
        if self.status is not DisputeStatus.AGREED or self.agreement is None or self.effective_on is None:
            return None
        first = max(self.effective_on, self.agreement.last_due_on or self.effective_on)
        counted = [visit for visit in self.follow_ups if visit.visited_on >= first]
        if not counted:
            return first
        last = max(counted, key=lambda visit: visit.visited_on)
        if last.performance is PerformanceStatus.FULLY and not last.escalation_signs:
            return None
        return last.visited_on + timedelta(days=REPEAT_FOLLOW_UP_DAYS)

    def follow_up_due(self, today: date) -> bool:
        """Whether a follow-up visit is due on *today* (or overdue)."""
        due_on = self.follow_up_due_on
        return due_on is not None and due_on <= today

    @property
    def judicial_confirmation_deadline(self) -> date | None:
        """The last day the parties may apply for judicial confirmation (Art. 33), or None."""
        if self.effective_on is None:
            return None
        return self.effective_on + timedelta(days=JUDICIAL_CONFIRMATION_DAYS)

    # -- commands: receiving ----------------------------------------------------

    @classmethod
    def receive(
        cls,
        *,
        source: DisputeSource,
        category: DisputeCategory,
        summary: str,
        parties: tuple[Party, ...],
        grid: GridCell,
        received_on: date,
        actor: Actor,
        referral_ref: str = "",
        at: datetime | None = None,
        dispute_id: UUID | None = None,
    ) -> Self:
        """Register a dispute between at least two *parties*; *summary* must not identify anyone."""
        cls._require_role(actor, Role.SUPERVISOR, Role.MEDIATOR, action="receive a dispute")
        check_instance("source", source, DisputeSource)
        check_instance("category", category, DisputeCategory)
        check_text("summary", summary, max_length=500)
        check_tuple_of("parties", parties, Party)
        if len(parties) < 2:  # noqa: PLR2004 (a dispute is between two parties at least)
            raise ValidationError("parties", "a dispute has at least two parties")
        check_unique("parties", (party.party_id for party in parties))
        check_unique("parties", (party.resident_id for party in parties if party.resident_id is not None))
        check_unique("parties", (party.subject_id for party in parties))
        check_instance("grid", grid, GridCell)
        check_date("received_on", received_on)
        if received_on > recording_date(at):
            raise ValidationError("received_on", f"{received_on} is in the future")
        check_optional_text("referral_ref", referral_ref, max_length=200)
        if source in REFERRED_SOURCES and not referral_ref.strip():
            raise ValidationError("referral_ref", f"a {source.value} names its document (移送函, 委托函, 交办单)")
        if dispute_id is not None:
            check_instance("dispute_id", dispute_id, UUID)
        return cls._create_with(
            cls.Received,
            aggregate_id=dispute_id,
            actor=actor,
            at=at,
            source=source,
            category=category,
            summary=summary,
            parties=parties,
            grid=grid,
            received_on=received_on,
            referral_ref=referral_ref,
        )

    def accept(self, accepted_on: date, *, actor: Actor, at: datetime | None = None) -> None:
        """Accept the dispute for mediation on *accepted_on*: the one-month limit starts."""
        self._guard(actor, "accept the dispute", {DisputeStatus.RECEIVED}, roles=RECEIVERS, assigned=False)
        check_date("accepted_on", accepted_on)
        if accepted_on < self.received_on:
            raise ValidationError(
                "accepted_on", f"{accepted_on} is before the dispute was received on {self.received_on}"
            )
        if accepted_on > recording_date(at):
            raise ValidationError("accepted_on", f"{accepted_on} is in the future")
        deadline = add_months(accepted_on, 1)
        self._trigger(self.Accepted, actor=actor, at=at, accepted_on=accepted_on, deadline=deadline)

    def decline(self, reason: str, *, actor: Actor, at: datetime | None = None) -> None:
        """Decline the dispute, saying why (e.g. already before a court, or only an authority may decide it)."""
        self._guard(actor, "decline the dispute", {DisputeStatus.RECEIVED}, roles=RECEIVERS, assigned=False)
        check_text("reason", reason)
        self._trigger(self.Declined, actor=actor, at=at, reason=reason)

    def assign_mediator(self, mediator_id: str, *, actor: Actor, reason: str = "", at: datetime | None = None) -> None:
        """Assign the presiding mediator; replacing one needs a *reason*."""
        self._guard(actor, "assign a mediator", OPEN_STATES, roles=(Role.SUPERVISOR,))
        check_text("mediator_id", mediator_id, max_length=64)
        check_optional_text("reason", reason)
        if is_party_id(mediator_id):
            raise ValidationError("mediator_id", f"{mediator_id!r} is a party id, not a worker id")
        if mediator_id == self.mediator_id:
            raise ValidationError("mediator_id", f"{mediator_id!r} is already the assigned mediator")
        if self.mediator_id is not None and not reason.strip():
            raise ValidationError("reason", f"replacing the mediator {self.mediator_id!r} needs a reason")
        self._trigger(self.MediatorAssigned, actor=actor, at=at, mediator_id=mediator_id, reason=reason)

    # -- commands: mediating ------------------------------------------------------

    def note_investigation(
        self,
        note: SealedData,
        *,
        actor: Actor,
        evidence: tuple[EvidenceRef, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Record what the investigation found; *note* is sealed under the dispute's own key."""
        self._guard(actor, "note the investigation", MEDIATING_STATES)
        check_instance("note", note, SealedData)
        if note.subject_id != self.id:
            raise ValidationError("note", "must be sealed under this dispute's own key")
        check_tuple_of("evidence", evidence, EvidenceRef)
        self._trigger(self.InvestigationNoted, actor=actor, at=at, note=note, evidence=evidence)

    def record_session(
        self,
        held_at: datetime,
        place: str,
        attendees: tuple[str, ...],
        statements: tuple[Statement, ...],
        summary: str,
        *,
        actor: Actor,
        next_steps: str = "",
        at: datetime | None = None,
    ) -> None:
        """Record a mediation session held at *held_at*, within the time limit."""
        action = "record a mediation session"
        self._guard(actor, action, MEDIATING_STATES)
        check_aware("held_at", held_at)
        check_text("place", place, max_length=200)
        check_attendees(attendees, self.party_ids, self.mediator_id)
        check_statements(statements, attendees, self.parties)
        check_text("summary", summary)
        check_optional_text("next_steps", next_steps)
        if held_at > recording_time(at):
            raise ValidationError("held_at", f"{held_at.isoformat()} is in the future: record a session once held")
        held_on = local_date(held_at)
        accepted_on = self.accepted_on or held_on
        if held_on < accepted_on:
            raise ValidationError("held_at", f"{held_on} is before the dispute was accepted on {accepted_on}")
        check_time_limit(self.deadline, held_on, action)
        self._trigger(
            self.SessionRecorded,
            actor=actor,
            at=at,
            held_at=held_at,
            place=place,
            attendees=attendees,
            statements=statements,
            summary=summary,
            next_steps=next_steps,
        )

    def extend_time_limit(
        self,
        new_deadline: date,
        consenting_party_ids: frozenset[str],
        reason: str,
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Let mediation go on until *new_deadline*: every party must consent (令75号 Art. 33)."""
        self._guard(actor, "extend the time limit", MEDIATING_STATES)
        check_date("new_deadline", new_deadline)
        check_frozenset_of("consenting_party_ids", consenting_party_ids, str)
        check_text("reason", reason)
        strangers = consenting_party_ids - set(self.party_ids)
        if strangers:
            raise ValidationError(
                "consenting_party_ids", f"{', '.join(sorted(strangers))}: not parties to this dispute"
            )
        deadline = self.deadline or new_deadline
        if new_deadline <= deadline:
            raise ValidationError("new_deadline", f"{new_deadline} is not after the current deadline {deadline}")
        if new_deadline < recording_date(at):
            raise ValidationError("new_deadline", f"{new_deadline} has already passed")
        missing = set(self.party_ids) - consenting_party_ids
        if missing:
            raise RuleViolationError(
                "mediation.extension-needs-all-parties",
                f"mediation goes on past its time limit only when every party agrees: "
                f"{', '.join(sorted(missing))} did not consent",
            )
        self._trigger(
            self.TimeLimitExtended,
            actor=actor,
            at=at,
            new_deadline=new_deadline,
            consenting_party_ids=consenting_party_ids,
            reason=reason,
        )

    def flag_escalation_risk(
        self,
        level: RiskLevel,
        description: str,
        preventive_steps: tuple[str, ...],
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record a risk of escalation and the preventive steps taken; a HIGH risk must be reported."""
        self._guard(actor, "flag a risk of escalation", OPEN_STATES, roles=MEDIATOR_OR_SUPERVISOR)
        check_instance("level", level, RiskLevel)
        check_text("description", description)
        check_tuple_of("preventive_steps", preventive_steps, str)
        for index, step in enumerate(preventive_steps):
            check_text(f"preventive_steps[{index}]", step, max_length=500)
        if not preventive_steps:
            raise RuleViolationError(
                "mediation.preventive-steps",
                "a dispute that may escalate calls for targeted preventive steps (人民调解法 Art. 25): record them",
            )
        self._trigger(
            self.EscalationRiskFlagged,
            actor=actor,
            at=at,
            level=level,
            description=description,
            preventive_steps=preventive_steps,
        )

    def report_to_police(self, station: str, reason: str, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that the dispute was reported to the police (or another authority), Art. 25."""
        self._guard(actor, "report the dispute to the police", OPEN_STATES, roles=MEDIATOR_OR_SUPERVISOR)
        check_text("station", station, max_length=200)
        check_text("reason", reason)
        self._trigger(self.ReportedToPolice, actor=actor, at=at, station=station, reason=reason)

    def record_refusal(self, party_id: str, note: str, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that *party_id* clearly refused mediation: only the failure can follow."""
        self._guard(actor, "record a party's refusal", MEDIATING_STATES)
        check_text("party_id", party_id, max_length=8)
        self.party(party_id)
        check_text("note", note)
        self._trigger(self.PartyRefused, actor=actor, at=at, party_id=party_id, note=note)

    # -- commands: agreement or failure ----------------------------------------------------

    def draft_agreement(self, agreement: Agreement, *, actor: Actor, at: datetime | None = None) -> None:
        """Draft the agreement reached at the sessions (a redraft needs every signature again)."""
        action = "draft an agreement"
        self._guard(actor, action, {DisputeStatus.MEDIATING, DisputeStatus.AGREEMENT_DRAFTED})
        check_instance("agreement", agreement, Agreement)
        for index, term in enumerate(agreement.terms):
            if term.obligor_party_id not in self.party_ids:
                raise ValidationError(
                    f"agreement.terms[{index}].obligor_party_id",
                    f"{term.obligor_party_id!r} is not a party to this dispute",
                )
        check_time_limit(self.deadline, recording_date(at), action)
        self._trigger(self.AgreementDrafted, actor=actor, at=at, agreement=agreement)

    def sign_agreement(
        self,
        signer_id: str,
        signed_on: date,
        method: SignatureMethod,
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record a signature; the one that completes the agreement also makes it take effect."""
        action = "sign the agreement"
        self._guard(actor, action, {DisputeStatus.AGREEMENT_DRAFTED})
        agreement, drafted_on = self.agreement, self.agreement_drafted_on
        assert agreement is not None  # noqa: S101 (a drafted agreement exists in this state)
        assert drafted_on is not None  # noqa: S101
        check_text("signer_id", signer_id, max_length=64)
        check_date("signed_on", signed_on)
        check_instance("method", method, SignatureMethod)
        check_signature_method(agreement.form, signer_id, method, self.party_ids, self.mediator_id)
        if signer_id in {signature.signer_id for signature in self.signatures}:
            raise ValidationError("signer_id", f"{signer_id!r} has already signed this agreement")
        if signed_on < drafted_on:
            raise ValidationError("signed_on", f"{signed_on} is before the agreement was drafted on {drafted_on}")
        if signed_on > recording_date(at):
            raise ValidationError("signed_on", f"{signed_on} is in the future")
        check_time_limit(self.deadline, signed_on, action)
        signed = {signature.signer_id for signature in self.signatures} | {signer_id}
        complete = self.required_signers <= signed
        effective_on = max([signed_on, *(signature.signed_on for signature in self.signatures)])
        self._trigger(self.AgreementSigned, actor=actor, at=at, signer_id=signer_id, signed_on=signed_on, method=method)
        if complete:
            self._trigger(self.AgreementTookEffect, actor=actor, at=at, effective_on=effective_on)

    def record_failure(
        self,
        reason: str,
        routes_explained: frozenset[Route],
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """End mediation without agreement, recording which other routes were explained (Art. 26)."""
        self._guard(actor, "record the failure of mediation", MEDIATING_STATES | {DisputeStatus.REFUSED})
        check_text("reason", reason)
        check_frozenset_of("routes_explained", routes_explained, Route)
        if not routes_explained:
            raise RuleViolationError(
                "mediation.explain-other-routes",
                "when mediation fails the parties must be told they may pursue their rights by arbitration, "
                "administrative or judicial routes (人民调解法 Art. 26): record the routes explained",
            )
        self._trigger(self.MediationFailed, actor=actor, at=at, reason=reason, routes_explained=routes_explained)

    # -- commands: after the agreement ------------------------------------------------------

    def record_performance(
        self, term_index: int, performed: bool, *, actor: Actor, note: str = "", at: datetime | None = None
    ) -> None:
        """Record whether term *term_index* of the agreement was performed (Art. 31)."""
        self._guard(actor, "record performance", {DisputeStatus.AGREED})
        assert self.agreement is not None  # noqa: S101 (an agreement is in effect in this state)
        check_int("term_index", term_index, minimum=0)
        if term_index >= len(self.agreement.terms):
            raise ValidationError("term_index", f"the agreement has {len(self.agreement.terms)} term(s)")
        check_instance("performed", performed, bool)
        check_optional_text("note", note)
        if term_index in self.performed_terms:
            raise ValidationError("term_index", f"term {term_index} was already recorded as performed")
        self._trigger(
            self.PerformanceRecorded, actor=actor, at=at, term_index=term_index, performed=performed, note=note
        )

    def record_follow_up(
        self,
        visited_on: date,
        performance: PerformanceStatus,
        satisfied: bool,
        escalation_signs: bool,
        *,
        actor: Actor,
        note: str = "",
        at: datetime | None = None,
    ) -> None:
        """Record a follow-up visit (回访) made on *visited_on*."""
        self._guard(actor, "record a follow-up visit", {DisputeStatus.AGREED})
        check_date("visited_on", visited_on)
        check_instance("performance", performance, PerformanceStatus)
        check_instance("satisfied", satisfied, bool)
        check_instance("escalation_signs", escalation_signs, bool)
        check_optional_text("note", note)
        if escalation_signs and not note.strip():
            raise ValidationError("note", "describe the signs of escalation seen")
        effective_on = self.effective_on or visited_on
        if visited_on < effective_on:
            raise ValidationError("visited_on", f"{visited_on} is before the agreement took effect on {effective_on}")
        if visited_on > recording_date(at):
            raise ValidationError("visited_on", f"{visited_on} is in the future")
        self._trigger(
            self.FollowUpRecorded,
            actor=actor,
            at=at,
            visited_on=visited_on,
            performance=performance,
            satisfied=satisfied,
            escalation_signs=escalation_signs,
            note=note,
        )

    def apply_for_judicial_confirmation(
        self,
        court: str,
        applied_on: date,
        applicant_party_ids: frozenset[str],
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record the parties' joint application to *court*, within 30 days of the effective date (Art. 33)."""
        action = "apply for judicial confirmation"
        self._guard(actor, action, {DisputeStatus.AGREED}, roles=MEDIATOR_OR_SUPERVISOR)
        if self.judicial is not None:
            self._refuse(
                f"agreed, judicial confirmation applied for on {self.judicial.applied_on}",
                action,
                "an agreement is put to a court once: record the court's decision",
            )
        check_text("court", court, max_length=200)
        check_date("applied_on", applied_on)
        check_frozenset_of("applicant_party_ids", applicant_party_ids, str)
        strangers = applicant_party_ids - set(self.party_ids)
        if strangers:
            raise ValidationError("applicant_party_ids", f"{', '.join(sorted(strangers))}: not parties to this dispute")
        effective_on, last_day = self.effective_on, self.judicial_confirmation_deadline
        assert effective_on is not None  # noqa: S101 (an agreement is in effect in this state)
        assert last_day is not None  # noqa: S101
        if applied_on < effective_on:
            raise ValidationError("applied_on", f"{applied_on} is before the agreement took effect on {effective_on}")
        if applied_on > recording_date(at):
            raise ValidationError("applied_on", f"{applied_on} is in the future")
        if applied_on > last_day:
            raise RuleViolationError(
                "mediation.judicial-confirmation-30-days",
                f"judicial confirmation is applied for within 30 days of the agreement taking effect "
                f"(人民调解法 Art. 33): the last day was {last_day}",
            )
        missing = set(self.party_ids) - applicant_party_ids
        if missing:
            raise RuleViolationError(
                "mediation.judicial-confirmation-joint",
                f"the parties apply for judicial confirmation jointly (人民调解法 Art. 33): "
                f"{', '.join(sorted(missing))} did not join",
            )
        self._trigger(
            self.JudicialConfirmationApplied,
            actor=actor,
            at=at,
            court=court,
            applied_on=applied_on,
            applicant_party_ids=applicant_party_ids,
        )

    def record_judicial_decision(
        self, confirmed: bool, decided_on: date, *, actor: Actor, note: str = "", at: datetime | None = None
    ) -> None:
        """Record whether the court confirmed the agreement."""
        action = "record the court's decision"
        self._guard(actor, action, {DisputeStatus.AGREED}, roles=MEDIATOR_OR_SUPERVISOR)
        judicial = self.judicial
        if judicial is None:
            self._refuse("agreed, no judicial confirmation applied for", action, "record the application first")
        if not judicial.is_pending:
            self._refuse(f"agreed, the court decided on {judicial.decided_on}", action, "the decision is recorded")
        check_instance("confirmed", confirmed, bool)
        check_date("decided_on", decided_on)
        check_optional_text("note", note)
        if decided_on < judicial.applied_on:
            raise ValidationError("decided_on", f"{decided_on} is before the application on {judicial.applied_on}")
        if decided_on > recording_date(at):
            raise ValidationError("decided_on", f"{decided_on} is in the future")
        self._trigger(
            self.JudicialConfirmationDecided, actor=actor, at=at, confirmed=confirmed, decided_on=decided_on, note=note
        )

    def close(self, summary: str, *, actor: Actor, at: datetime | None = None) -> None:
        """Close the file: after a follow-up if agreed, or after the failure."""
        self._guard(
            actor,
            "close the dispute",
            {DisputeStatus.AGREED, DisputeStatus.FAILED},
            roles=(Role.SUPERVISOR,),
            hints=CLOSE_HINTS,
        )
        check_text("summary", summary)
        if self.status is DisputeStatus.AGREED and not self.follow_ups:
            raise RuleViolationError(
                "mediation.follow-up-before-closing",
                "a dispute settled by agreement is closed only after a follow-up visit (回访) checked its performance",
            )
        if self.judicial is not None and self.judicial.is_pending:
            raise RuleViolationError(
                "mediation.judicial-decision-before-closing",
                f"the application for judicial confirmation of {self.judicial.applied_on} awaits the court's "
                "decision: record it first",
            )
        if self.police_report_due:
            raise RuleViolationError(
                "mediation.report-high-risk",
                "a dispute that may lead to a public-security or criminal case must be reported to the police "
                "(人民调解法 Art. 25): record the report first",
            )
        self._trigger(self.Closed, actor=actor, at=at, summary=summary)

    # -- checks ---------------------------------------------------------------------

    def _guard(
        self,
        actor: Actor,
        action: str,
        states: Collection[DisputeStatus],
        *,
        roles: tuple[Role, ...] = (Role.MEDIATOR,),
        assigned: bool = True,
        hints: Mapping[DisputeStatus, str] | None = None,
    ) -> None:
        """Check the actor's role, then the state, then (for a mediator) that they are the assigned one."""
        self._require_role(actor, *roles, action=action)
        if self.status not in states:
            hint = (hints or {}).get(self.status, NEXT_STEP[self.status])
            self._refuse(self.status.value, action, hint)
        if assigned and actor.role is Role.MEDIATOR:
            if self.mediator_id is None:
                self._refuse(self.status.value, action, "no mediator is assigned yet: a supervisor assigns one first")
            if actor.worker_id != self.mediator_id:
                raise PermissionDeniedError(
                    str(actor), action, f"only the assigned mediator ({self.mediator_id}) may {action}"
                )


VALUE_TYPES: tuple[type, ...] = MEDIATION_VALUE_TYPES
"""The enums and value objects of a dispute (defined in :mod:`grid_events.domain.mediation`)."""
