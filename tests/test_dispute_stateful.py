"""Random sequences of mediation commands, valid and not, checked against a small model of the rules.

The model knows who may act, in which state, and the dated rules (the one-month
limit and its extensions, signatures, the 30 days for judicial confirmation,
closing). Each step predicts success or the error class; a refused command must
store nothing. Three "proceed" rules take the next proper step, so that runs
reach agreements, follow-ups and closing rather than stopping at the door; run
with ``--hypothesis-show-statistics`` to see the states reached and the refusals met.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import attrs
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PermissionDeniedError,
    Role,
    RuleViolationError,
    StoreConfig,
    ValidationError,
)
from grid_events.application.disputes import PartyInput
from grid_events.domain.calendar import add_months
from grid_events.domain.mediation import (
    Agreement,
    AgreementForm,
    DisputeCategory,
    DisputeSource,
    PartyKind,
    PerformanceStatus,
    RiskLevel,
    Route,
    SignatureMethod,
    Term,
    local_date,
)
from grid_events.privacy.personal import PartyDetails

SUPERVISOR = Actor("s-wang", Role.SUPERVISOR)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
"""Reads every case, masked, and changes nothing: the reader of these tests' checks."""
MEDIATOR = Actor("m-chen", Role.MEDIATOR)
OTHER_MEDIATOR = Actor("m-liu", Role.MEDIATOR)
ACTORS = (
    SUPERVISOR,
    MEDIATOR,
    OTHER_MEDIATOR,
    Actor("a-zhou", Role.AUDITOR),
    Actor("v-sun", Role.VOLUNTEER),
    Actor("w-li", Role.GRID_WORKER),
)
actors = st.sampled_from((SUPERVISOR, MEDIATOR, MEDIATOR, *ACTORS))
"""Anyone may try anything; the supervisor and m-chen, who do the work, try more often."""

RECEIVERS = (Role.SUPERVISOR, Role.MEDIATOR)
MEDIATOR_ONLY = (Role.MEDIATOR,)
MEDIATOR_OR_SUPERVISOR = (Role.MEDIATOR, Role.SUPERVISOR)
SUPERVISOR_ONLY = (Role.SUPERVISOR,)

MEDIATING = frozenset({"accepted", "mediating", "agreement_drafted"})
OPEN = frozenset({"received", "accepted", "mediating", "refused", "agreement_drafted", "agreed", "failed"})

Outcome = type[Exception] | None


@attrs.define
class Model:
    """What the rules say the dispute is, kept by hand."""

    parties: tuple[str, ...]
    received_on: date
    status: str = "received"
    mediator: str | None = None
    accepted_on: date | None = None
    deadline: date | None = None
    form: AgreementForm | None = None
    drafted_on: date | None = None
    signed: dict[str, date] = attrs.Factory(dict)
    effective_on: date | None = None
    performed: set[int] = attrs.Factory(set)
    follow_ups: int = 0
    judicial: str | None = None
    report_due: bool = False

    def check(
        self,
        actor: Actor,
        roles: tuple[Role, ...],
        states: Collection[str],
        *,
        assigned: bool = True,
    ) -> Outcome:
        """Predict the refusal for who acts and when: role, state, then the assigned mediator."""
        if actor.role not in roles:
            return PermissionDeniedError
        if self.status not in states:
            return InvalidTransitionError
        if assigned and actor.role is Role.MEDIATOR:
            if self.mediator is None:
                return InvalidTransitionError
            if actor.worker_id != self.mediator:
                return PermissionDeniedError
        return None

    def past_deadline(self, day: date) -> bool:
        """Whether *day* is after the (possibly extended) deadline."""
        return self.deadline is not None and day > self.deadline

    @property
    def required_signers(self) -> set[str]:
        """Every party, and the mediator for a written agreement."""
        required = set(self.parties)
        if self.form is AgreementForm.WRITTEN and self.mediator is not None:
            required.add(self.mediator)
        return required


class HandClock:
    """A clock the machine moves forward only."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def first(*outcomes: Outcome) -> Outcome:
    """Return the first refusal predicted, in the order the checks run."""
    return next((outcome for outcome in outcomes if outcome is not None), None)


def when(condition: bool, error: type[Exception]) -> Outcome:
    """Return *error* if *condition* holds."""
    return error if condition else None


AGREEMENT_TERMS = (Term("赔偿餐具损失 200 元", "P2"),)


class DisputeMachine(RuleBasedStateMachine):
    """Drives one dispute through random commands by random actors at random times."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = HandClock()
        self.app = GridApplication(StoreConfig.memory(), clock=self.clock)
        self.model = Model(parties=(), received_on=self.today)
        self.dispute_id = uuid4()
        self.confirmation_tried = False

    @initialize(party_count=st.integers(2, 3))
    def receive(self, party_count: int) -> None:
        """A supervisor receives a dispute between a shop and one or two customers."""
        parties = [PartyInput(PartyKind.SHOP, PartyDetails(name="吴记面馆"))]
        parties += [PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name=f"顾客{n}")) for n in range(1, party_count)]
        self.dispute_id = self.app.receive_dispute(
            DisputeSource.OWN_INITIATIVE,
            DisputeCategory.CONSUMER,
            "餐具损坏赔偿争执",
            parties,
            GridCell("江南", "飞凤", "03"),
            self.today,
            actor=SUPERVISOR,
        )
        self.model = Model(parties=tuple(f"P{n}" for n in range(1, party_count + 1)), received_on=self.today)

    def teardown(self) -> None:
        """Close the application."""
        self.app.close()

    @property
    def today(self) -> date:
        """The clock's date in China."""
        return local_date(self.clock.now)

    def attempt(self, expected: Outcome, command: Callable[[], None]) -> bool:
        """Run *command*; check it succeeds or raises *expected* storing nothing; return whether it succeeded."""
        before = self.app.recorder.max_notification_id()
        # Label the statistics with the calling rule's name (the rules call each other).
        event(f"{sys._getframe(1).f_code.co_name}: {'done' if expected is None else expected.__name__}")
        if expected is None:
            command()
            return True
        with pytest.raises(expected):
            command()
        assert before == self.app.recorder.max_notification_id()
        return False

    # -- time ----------------------------------------------------------------------------

    @rule(days=st.sampled_from([0, 1, 2, 5, 10, 20, 32]), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        """Hours, days or weeks go by (mediation spans weeks; 32 days passes any one-month limit)."""
        self.clock.now += timedelta(days=days, hours=hours)

    # -- receiving ---------------------------------------------------------------------------

    @rule(actor=actors, offset=st.integers(-3, 1))
    def accept(self, actor: Actor, offset: int) -> None:
        """Accept, dated today or a few days back (maybe before receiving) or, wrongly, tomorrow."""
        m = self.model
        accepted_on = self.today + timedelta(days=offset)
        expected = first(
            m.check(actor, RECEIVERS, {"received"}, assigned=False),
            when(accepted_on < m.received_on or accepted_on > self.today, ValidationError),
        )
        if self.attempt(expected, lambda: self.app.accept_dispute(self.dispute_id, accepted_on, actor=actor)):
            m.status, m.accepted_on, m.deadline = "accepted", accepted_on, add_months(accepted_on, 1)

    @rule(actor=actors)
    def decline(self, actor: Actor) -> None:
        """Decline the dispute."""
        expected = self.model.check(actor, RECEIVERS, {"received"}, assigned=False)
        if self.attempt(expected, lambda: self.app.decline_dispute(self.dispute_id, "已由法院受理", actor=actor)):
            self.model.status = "declined"

    @rule(actor=actors, mediator=st.sampled_from([MEDIATOR, OTHER_MEDIATOR]), with_reason=st.booleans())
    def assign(self, actor: Actor, mediator: Actor, with_reason: bool) -> None:
        """Assign (or replace) the mediator."""
        m = self.model
        reason = "调解员回避" if with_reason else ""
        expected = first(
            m.check(actor, SUPERVISOR_ONLY, OPEN),
            when(mediator.worker_id == m.mediator or (m.mediator is not None and not with_reason), ValidationError),
        )
        if self.attempt(
            expected, lambda: self.app.assign_mediator(self.dispute_id, mediator.worker_id, actor=actor, reason=reason)
        ):
            m.mediator = mediator.worker_id

    # -- mediating ---------------------------------------------------------------------------------

    @rule(actor=actors, hours_back=st.integers(-2, 96), with_mediator=st.booleans())
    def record_session(self, actor: Actor, hours_back: int, with_mediator: bool) -> None:
        """A session of every party, with or (wrongly) without the mediator, held hours ago (or, wrongly, ahead)."""
        m = self.model
        attendees = [*m.parties, m.mediator or MEDIATOR.worker_id] if with_mediator else list(m.parties)
        held_at = self.clock.now - timedelta(hours=hours_back)
        held_on = local_date(held_at)
        accepted_on = m.accepted_on or held_on
        expected = first(
            m.check(actor, MEDIATOR_ONLY, MEDIATING),
            when(not with_mediator or held_at > self.clock.now or held_on < accepted_on, ValidationError),
            when(m.past_deadline(held_on), RuleViolationError),
        )
        statements = {party_id: f"{party_id} 的陈述" for party_id in m.parties}

        def command() -> None:
            self.app.record_session(self.dispute_id, held_at, "调解室", attendees, statements, "调解", actor=actor)

        if self.attempt(expected, command) and m.status == "accepted":
            m.status = "mediating"

    @rule(actor=actors, everyone=st.booleans(), days=st.integers(-3, 30))
    def extend(self, actor: Actor, everyone: bool, days: int) -> None:
        """Extend the limit, with every party's consent or one missing, to a date maybe not later."""
        m = self.model
        new_deadline = (m.deadline or self.today) + timedelta(days=days)
        consenting = m.parties if everyone else m.parties[:-1]
        expected = first(
            m.check(actor, MEDIATOR_ONLY, MEDIATING),
            when(days <= 0 or new_deadline < self.today, ValidationError),
            when(not everyone, RuleViolationError),
        )
        if self.attempt(
            expected,
            lambda: self.app.extend_time_limit(self.dispute_id, new_deadline, consenting, "双方同意", actor=actor),
        ):
            m.deadline = new_deadline

    @rule(actor=actors)
    def refuse(self, actor: Actor) -> None:
        """The last party clearly refuses mediation."""
        m = self.model
        expected = m.check(actor, MEDIATOR_ONLY, MEDIATING)
        if self.attempt(expected, lambda: self.app.record_refusal(self.dispute_id, m.parties[-1], "拒绝", actor=actor)):
            m.status = "refused"

    @rule(actor=actors, level=st.sampled_from(RiskLevel), with_steps=st.booleans())
    def flag_risk(self, actor: Actor, level: RiskLevel, with_steps: bool) -> None:
        """Flag a risk of escalation, with or (wrongly) without preventive steps."""
        m = self.model
        steps = ["分开约谈"] if with_steps else []
        expected = first(m.check(actor, MEDIATOR_OR_SUPERVISOR, OPEN), when(not with_steps, RuleViolationError))
        if (
            self.attempt(
                expected, lambda: self.app.flag_escalation_risk(self.dispute_id, level, "争吵", steps, actor=actor)
            )
            and level is RiskLevel.HIGH
        ):
            m.report_due = True

    @rule(actor=actors)
    def report(self, actor: Actor) -> None:
        """Report the dispute to the police."""
        expected = self.model.check(actor, MEDIATOR_OR_SUPERVISOR, OPEN)
        if self.attempt(
            expected, lambda: self.app.report_dispute_to_police(self.dispute_id, "稠城派出所", "可能激化", actor=actor)
        ):
            self.model.report_due = False

    # -- agreement or failure ------------------------------------------------------------------------

    @rule(actor=actors, form=st.sampled_from(AgreementForm))
    def draft(self, actor: Actor, form: AgreementForm) -> None:
        """Draft (or redraft) an agreement today."""
        m = self.model
        expected = first(
            m.check(actor, MEDIATOR_ONLY, {"mediating", "agreement_drafted"}),
            when(m.past_deadline(self.today), RuleViolationError),
        )
        agreement = Agreement(form, "事实", "争议", AGREEMENT_TERMS, "当面付清")
        if self.attempt(expected, lambda: self.app.draft_agreement(self.dispute_id, agreement, actor=actor)):
            m.status, m.form, m.drafted_on, m.signed = "agreement_drafted", form, self.today, {}

    @rule(
        actor=actors,
        signer=st.sampled_from(["P1", "P2", MEDIATOR.worker_id, OTHER_MEDIATOR.worker_id]),
        right_method=st.booleans(),
        days_back=st.integers(-1, 3),
    )
    def sign(self, actor: Actor, signer: str, right_method: bool, days_back: int) -> None:
        """A party or a mediator signs, the right way or not, on a date maybe too early or late."""
        m = self.model
        signed_on = self.today - timedelta(days=days_back)
        oral = m.form is AgreementForm.ORAL
        method = (
            (SignatureMethod.ORAL_CONSENT if oral else SignatureMethod.SIGNATURE)
            if right_method
            else (SignatureMethod.SIGNATURE if oral else SignatureMethod.ORAL_CONSENT)
        )
        is_party = signer in m.parties
        expected = first(
            m.check(actor, MEDIATOR_ONLY, {"agreement_drafted"}),
            when(
                (not is_party and signer != m.mediator)
                or (oral and not is_party)
                or not right_method
                or signer in m.signed
                or signed_on < (m.drafted_on or signed_on)
                or signed_on > self.today,
                ValidationError,
            ),
            when(m.past_deadline(signed_on), RuleViolationError),
        )
        if self.attempt(
            expected, lambda: self.app.sign_agreement(self.dispute_id, signer, signed_on, method, actor=actor)
        ):
            m.signed[signer] = signed_on
            if m.required_signers <= set(m.signed):
                m.status, m.effective_on = "agreed", max(m.signed.values())

    @rule(actor=actors, with_routes=st.booleans())
    def fail(self, actor: Actor, with_routes: bool) -> None:
        """Record the failure, with or (wrongly) without the other routes explained."""
        m = self.model
        routes = [Route.LITIGATION] if with_routes else []
        expected = first(
            m.check(actor, MEDIATOR_ONLY, MEDIATING | {"refused"}), when(not with_routes, RuleViolationError)
        )
        if self.attempt(
            expected, lambda: self.app.record_mediation_failure(self.dispute_id, "未达成", routes, actor=actor)
        ):
            m.status = "failed"

    # -- after the agreement ----------------------------------------------------------------------------

    @rule(actor=actors, term_index=st.integers(0, 1))
    def performance(self, actor: Actor, term_index: int) -> None:
        """Record a term performed (the agreement has one)."""
        m = self.model
        expected = first(
            m.check(actor, MEDIATOR_ONLY, {"agreed"}),
            when(term_index >= len(AGREEMENT_TERMS) or term_index in m.performed, ValidationError),
        )
        if self.attempt(
            expected, lambda: self.app.record_performance(self.dispute_id, term_index, performed=True, actor=actor)
        ):
            m.performed.add(term_index)

    @rule(actor=actors, days_back=st.integers(-1, 3))
    def follow_up(self, actor: Actor, days_back: int) -> None:
        """A follow-up visit, dated maybe before the effect or ahead."""
        m = self.model
        visited_on = self.today - timedelta(days=days_back)
        expected = first(
            m.check(actor, MEDIATOR_ONLY, {"agreed"}),
            when(visited_on < (m.effective_on or visited_on) or visited_on > self.today, ValidationError),
        )

        def command() -> None:
            self.app.record_follow_up(
                self.dispute_id,
                visited_on,
                PerformanceStatus.FULLY,
                satisfied=True,
                escalation_signs=False,
                actor=actor,
            )

        if self.attempt(expected, command):
            m.follow_ups += 1

    @rule(actor=actors, jointly=st.booleans(), days_back=st.integers(-1, 2))
    def apply_for_confirmation(self, actor: Actor, jointly: bool, days_back: int) -> None:
        """Apply for judicial confirmation, jointly or not, maybe after the 30 days."""
        m = self.model
        applied_on = self.today - timedelta(days=days_back)
        effective_on = m.effective_on or applied_on
        expected = first(
            m.check(actor, MEDIATOR_OR_SUPERVISOR, {"agreed"}),
            when(m.judicial is not None, InvalidTransitionError),
            when(applied_on < effective_on or applied_on > self.today, ValidationError),
            when(applied_on > effective_on + timedelta(days=30) or not jointly, RuleViolationError),
        )
        applicants = m.parties if jointly else m.parties[:1]

        def command() -> None:
            self.app.apply_for_judicial_confirmation(
                self.dispute_id, "义乌市人民法院", applied_on, actor=actor, applicant_party_ids=applicants
            )

        if self.attempt(expected, command):
            m.judicial = "pending"

    @rule(actor=actors, confirmed=st.booleans())
    def court_decides(self, actor: Actor, confirmed: bool) -> None:
        """Record the court's decision today."""
        m = self.model
        expected = first(
            m.check(actor, MEDIATOR_OR_SUPERVISOR, {"agreed"}), when(m.judicial != "pending", InvalidTransitionError)
        )
        if self.attempt(
            expected,
            lambda: self.app.record_judicial_decision(
                self.dispute_id, confirmed=confirmed, decided_on=self.today, actor=actor
            ),
        ):
            m.judicial = "decided"

    @rule(actor=actors)
    def close(self, actor: Actor) -> None:
        """Close the file."""
        m = self.model
        expected = first(
            m.check(actor, SUPERVISOR_ONLY, {"agreed", "failed"}),
            when(
                (m.status == "agreed" and not m.follow_ups) or m.judicial == "pending" or m.report_due,
                RuleViolationError,
            ),
        )
        if self.attempt(expected, lambda: self.app.close_dispute(self.dispute_id, "结案", actor=actor)):
            m.status = "closed"

    # -- by the book: weight the walk toward the next proper step, so it reaches the late states ---------

    @rule()
    def proceed(self) -> None:
        """Take the next step a diligent office would take."""
        self.next_step()

    @rule()
    def proceed_further(self) -> None:
        """Take the next step again (a second rule doubles the weight of the proper path)."""
        self.next_step()

    @rule()
    def proceed_to_the_end(self) -> None:
        """Take the next step once more."""
        self.next_step()

    def next_step(self) -> None:  # noqa: C901 (one branch per state of the case)
        """Run the rule a diligent (if hurried) office would run next, by the right person, dated today.

        Past the deadline it first tries to go on, which the time limit refuses, then records the
        parties' consent to an extension; past the 30 days it still tries judicial confirmation once.
        """
        m = self.model
        mediator = Actor(m.mediator or MEDIATOR.worker_id, Role.MEDIATOR)
        if m.status == "received":
            self.accept(SUPERVISOR, 0)
        elif m.status in MEDIATING and m.mediator is None:
            self.assign(SUPERVISOR, MEDIATOR, with_reason=False)
        elif m.status in MEDIATING:
            late = m.deadline is not None and m.past_deadline(self.today)
            self.mediate(mediator)
            if late and m.deadline is not None:
                self.extend(mediator, everyone=True, days=(self.today - m.deadline).days + 10)
        elif m.report_due:
            self.report(SUPERVISOR)
        elif m.status == "refused":
            self.fail(mediator, with_routes=True)
        elif m.status == "agreed" and m.judicial is None and not self.confirmation_tried:
            self.confirmation_tried = True
            self.apply_for_confirmation(SUPERVISOR, jointly=True, days_back=0)
        elif m.status == "agreed" and m.judicial == "pending":
            self.court_decides(SUPERVISOR, confirmed=True)
        elif m.status == "agreed" and not m.follow_ups:
            self.follow_up(mediator, days_back=0)
        elif m.status in {"agreed", "failed"}:
            self.close(SUPERVISOR)

    def mediate(self, mediator: Actor) -> None:
        """The next step of mediation itself: a session, a draft, a signature."""
        m = self.model
        if m.status == "accepted":
            self.record_session(mediator, hours_back=0, with_mediator=True)
        elif m.status == "mediating":
            self.draft(mediator, AgreementForm.ORAL if len(m.parties) > 2 else AgreementForm.WRITTEN)
        else:
            signer = min(m.required_signers - set(m.signed))
            self.sign(mediator, signer, right_method=True, days_back=0)

    # -- the aggregate agrees with the model ----------------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        """Status, deadline, mediator, signatures and effect are what the model says."""
        dispute = self.app.get_dispute(self.dispute_id, actor=AUDITOR)
        m = self.model
        event(f"reached {m.status}")
        assert m.status == dispute.status.value
        assert m.deadline == dispute.deadline
        assert m.mediator == dispute.mediator_id
        assert m.effective_on == dispute.effective_on
        assert m.report_due == dispute.police_report_due
        if m.status == "agreement_drafted":
            assert frozenset(m.required_signers - set(m.signed)) == dispute.signatures_outstanding


DisputeMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None, database=None)
TestDisputeStateful = DisputeMachine.TestCase
