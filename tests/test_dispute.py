"""People's mediation: from a party's application to agreement, follow-up, judicial confirmation and closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID

import attrs
import pytest

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    InvalidTransitionError,
    PermissionDeniedError,
    PersonalData,
    PersonalDataErasedError,
    Role,
    RuleViolationError,
    ValidationError,
)
from grid_events.application.disputes import PartyInput
from grid_events.domain.calendar import add_months
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import (
    Agreement,
    AgreementForm,
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    PartyKind,
    PerformanceStatus,
    RiskLevel,
    Route,
    SignatureMethod,
    Term,
    local_date,
)
from grid_events.privacy.personal import PartyDetails

ZHANG = PersonalData(
    name="张秀英",
    id_number="11010519491231002X",
    phone="13812345678",
    address="飞凤小区 3 幢 2 单元 501",
)
LI = PartyDetails(name="李建国", phone="13900001111", address="飞凤小区 3 幢 2 单元 601")
WU_SHOP = PartyDetails(name="吴记面馆 吴海峰", phone="13700002222", address="飞凤路 18 号")

SHOP_PARTIES = (PartyInput(PartyKind.SHOP, WU_SHOP), PartyInput(PartyKind.OTHER_PERSON, LI))

ZHANG_SAYS = "楼上卫生间漏水三个月了，我家天花板发霉"
LI_SAYS = "我不知道漏水，愿意请师傅看一下"

AUDITOR = Actor("a-zhou", Role.AUDITOR)
OTHER_MEDIATOR = Actor("m-liu", Role.MEDIATOR)
CHEN = Actor("m-chen", Role.MEDIATOR)
"""The mediator of conftest.py's ``mediator`` fixture."""
WANG = Actor("s-wang", Role.SUPERVISOR)
"""The supervisor of conftest.py's ``supervisor`` fixture."""
GRID_WORKER = Actor("w-li", Role.GRID_WORKER)
PURPOSE = "prepare the next session"
"""Why the case's personal data is read in full (each such read is recorded)."""


class Clock(Protocol):
    """The hand-driven clock of conftest.py."""

    def __call__(self) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


def stored_count(app: GridApplication) -> int:
    """Return how many events the store holds."""
    return app.recorder.max_notification_id() or 0


def today(clock: Clock) -> date:
    """Return the clock's date in China."""
    return local_date(clock())


def written_agreement(due_on: date | None = None, *, form: AgreementForm = AgreementForm.WRITTEN) -> Agreement:
    """Return the agreement of the leaking-bathroom dispute: the upstairs neighbour repairs and pays."""
    return Agreement(
        form=form,
        facts="601 室卫生间防水层老化，渗水至 501 室天花板",
        issues="维修责任与天花板修复费用；601 室承担全部责任",
        terms=(
            Term("601 室请施工队重做卫生间防水层", "P2", due_on),
            Term("601 室赔偿 501 室天花板修复费 1500 元", "P2", due_on),
        ),
        performance="施工完成后由社区调解员现场确认；赔偿款当面付清",
        perform_by=due_on,
    )


@pytest.fixture
def resident_id(app: GridApplication, worker: Actor, grid: GridCell) -> UUID:
    """张秀英, a registered resident of 501."""
    return app.register_resident(ZHANG, grid, actor=worker)


@pytest.fixture
def receive(
    app: GridApplication, supervisor: Actor, grid: GridCell, resident_id: UUID, clock: Clock
) -> Callable[[], UUID]:
    """Receive the leaking-bathroom dispute: P1 the resident downstairs, P2 the neighbour upstairs."""

    def receive_dispute() -> UUID:
        return app.receive_dispute(
            DisputeSource.PARTY_APPLICATION,
            DisputeCategory.NEIGHBOUR,
            "楼上卫生间渗水至楼下",
            [
                PartyInput(PartyKind.RESIDENT, PartyDetails(name=ZHANG.name, phone=ZHANG.phone), resident_id),
                PartyInput(PartyKind.OTHER_PERSON, LI),
            ],
            grid,
            today(clock),
            actor=supervisor,
        )

    return receive_dispute


@pytest.fixture
def receive_shop(memory_app: GridApplication, supervisor: Actor, grid: GridCell, clock: Clock) -> UUID:
    """A consumer dispute between a noodle shop and a customer, received today (in memory)."""
    return memory_app.receive_dispute(
        DisputeSource.OWN_INITIATIVE,
        DisputeCategory.CONSUMER,
        "餐费争执",
        SHOP_PARTIES,
        grid,
        today(clock),
        actor=supervisor,
    )


@pytest.fixture
def accepted(
    app: GridApplication, receive: Callable[[], UUID], supervisor: Actor, mediator: Actor, clock: Clock
) -> UUID:
    """The dispute accepted today, with 陈 (m-chen) as its mediator."""
    dispute_id = receive()
    app.accept_dispute(dispute_id, today(clock), actor=supervisor)
    app.assign_mediator(dispute_id, mediator.worker_id, actor=supervisor)
    return dispute_id


def hold_session(app: GridApplication, dispute_id: UUID, mediator: Actor, clock: Clock) -> None:
    """Record a session held an hour ago with both parties and the mediator."""
    app.record_session(
        dispute_id,
        clock() - timedelta(hours=1),
        "飞凤社区调解室",
        ["P1", "P2", mediator.worker_id],
        {"P1": ZHANG_SAYS, "P2": LI_SAYS},
        "双方同意由 601 室维修并赔偿",
        "起草调解协议",
        actor=mediator,
    )


@pytest.fixture
def mediating(app: GridApplication, accepted: UUID, mediator: Actor, clock: Clock) -> UUID:
    """The dispute after a first session, three days after acceptance."""
    clock.advance(days=3)
    hold_session(app, accepted, mediator, clock)
    return accepted


def sign_all(app: GridApplication, dispute_id: UUID, mediator: Actor, clock: Clock) -> None:
    """Both parties and the mediator sign the written agreement today."""
    for signer in ("P1", "P2", mediator.worker_id):
        app.sign_agreement(dispute_id, signer, today(clock), SignatureMethod.SIGNATURE, actor=mediator)


@pytest.fixture
def agreed(app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock) -> UUID:
    """The dispute whose written agreement took effect today; its terms are due in ten days."""
    app.draft_agreement(mediating, written_agreement(today(clock) + timedelta(days=10)), actor=mediator)
    sign_all(app, mediating, mediator, clock)
    return mediating


# -- the whole case ------------------------------------------------------------------------


def test_a_neighbours_dispute_runs_from_application_to_closing(
    app: GridApplication, receive: Callable[[], UUID], supervisor: Actor, mediator: Actor, clock: Clock
) -> None:
    """Application, acceptance, mediation, signed agreement, performance, follow-up, confirmation, closing."""
    received_on = today(clock)
    dispute_id = receive()
    app.accept_dispute(dispute_id, received_on, actor=supervisor)
    app.assign_mediator(dispute_id, mediator.worker_id, actor=supervisor)
    app.note_investigation(dispute_id, "现场查看：601 室卫生间地漏周边渗水", actor=mediator)
    clock.advance(days=4)
    hold_session(app, dispute_id, mediator, clock)
    due_on = today(clock) + timedelta(days=10)
    app.draft_agreement(dispute_id, written_agreement(due_on), actor=mediator)
    app.sign_agreement(dispute_id, "P1", today(clock), SignatureMethod.SIGNATURE, actor=mediator)
    app.sign_agreement(dispute_id, "P2", today(clock), SignatureMethod.FINGERPRINT, actor=mediator)
    app.sign_agreement(dispute_id, mediator.worker_id, today(clock), SignatureMethod.SIGNATURE, actor=mediator)
    effective_on = today(clock)
    clock.advance(days=3)
    app.apply_for_judicial_confirmation(dispute_id, "义乌市人民法院", today(clock), actor=mediator)
    clock.advance(days=8)
    app.record_judicial_decision(
        dispute_id, confirmed=True, decided_on=today(clock), actor=mediator, note="裁定调解协议有效"
    )
    app.record_performance(dispute_id, 0, performed=True, actor=mediator, note="防水层已重做")
    app.record_performance(dispute_id, 1, performed=True, actor=mediator, note="1500 元已付清")
    clock.advance(days=2)
    app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=mediator
    )
    app.close_dispute(dispute_id, "协议已全部履行，双方满意", actor=supervisor)

    dispute = app.get_dispute(dispute_id, actor=AUDITOR)
    assert DisputeStatus.CLOSED == dispute.status
    assert DisputeStatus.AGREED == dispute.closed_from
    assert add_months(received_on, 1) == dispute.deadline
    assert effective_on == dispute.effective_on
    assert dispute.concluded_within_limit
    assert dispute.judicial is not None
    assert dispute.judicial.confirmed
    assert frozenset({0, 1}) == dispute.performed_terms
    assert 17 == dispute.days_open(today(clock) + timedelta(days=100))
    assert dispute.follow_up_due_on is None
    assert ["现场查看：601 室卫生间地漏周边渗水"] == app.investigation_notes(dispute_id, actor=WANG, purpose=PURPOSE)


def test_accepting_starts_a_one_month_clock(
    memory_app: GridApplication, supervisor: Actor, grid: GridCell, clock: Clock
) -> None:
    """The deadline is the same day a month after acceptance; days open count from receiving."""
    received_on = today(clock)
    dispute_id = memory_app.receive_dispute(
        DisputeSource.OWN_INITIATIVE,
        DisputeCategory.CONSUMER,
        "面馆与顾客就餐具损坏赔偿争执",
        [PartyInput(PartyKind.SHOP, WU_SHOP), PartyInput(PartyKind.OTHER_PERSON, LI)],
        grid,
        received_on,
        actor=supervisor,
    )
    clock.advance(days=1)
    memory_app.accept_dispute(dispute_id, today(clock), actor=supervisor)

    dispute = memory_app.get_dispute(dispute_id, actor=AUDITOR)
    assert date(2026, 12, 3) == dispute.deadline
    assert 30 == dispute.days_left(date(2026, 11, 3))
    assert not dispute.is_past_limit(date(2026, 12, 3))
    assert dispute.is_past_limit(date(2026, 12, 4))
    assert 10 == dispute.days_open(received_on + timedelta(days=10))


# -- receiving ---------------------------------------------------------------------------------


def test_party_details_and_statements_are_not_stored_in_the_clear(app: GridApplication, mediating: UUID) -> None:
    """Names, phones, addresses and statements reach the store only sealed, yet read back in the clear."""
    stored = b"".join(event.state for event in app.recorder.select_events(mediating))

    for secret in (ZHANG.name, ZHANG.phone, LI.name, LI.phone, LI.address, ZHANG_SAYS, LI_SAYS):
        assert secret.encode() not in stored
    assert LI == app.dispute_party_details(mediating, "P2", actor=WANG, unmasked=True, purpose=PURPOSE)
    assert {"P1": ZHANG_SAYS, "P2": LI_SAYS} == app.session_statements(mediating, 0, actor=WANG, purpose=PURPOSE)


def test_a_resident_party_is_sealed_under_the_residents_own_key(
    memory_app: GridApplication, worker: Actor, supervisor: Actor, grid: GridCell, clock: Clock
) -> None:
    """A resident party's details use the resident's key; any other party gets a key of its own."""
    resident_id = memory_app.register_resident(ZHANG, grid, actor=worker)
    dispute_id = memory_app.receive_dispute(
        DisputeSource.PARTY_APPLICATION,
        DisputeCategory.NEIGHBOUR,
        "渗水",
        [
            PartyInput(PartyKind.RESIDENT, PartyDetails(name=ZHANG.name), resident_id),
            PartyInput(PartyKind.SHOP, WU_SHOP),
        ],
        grid,
        today(clock),
        actor=supervisor,
    )

    first, second = memory_app.get_dispute(dispute_id, actor=AUDITOR).parties
    assert resident_id == first.subject_id
    assert second.subject_id not in {resident_id, dispute_id}
    assert ("P1", "P2") == memory_app.get_dispute(dispute_id, actor=AUDITOR).party_ids


def test_erasing_a_resident_party_erases_their_details_and_statements_but_not_the_case(
    app: GridApplication, mediating: UUID, resident_id: UUID, administrator: Actor
) -> None:
    """After erasure the resident's details and words cannot be opened; the other party's still can."""
    app.erase_resident(resident_id, actor=administrator, reason="本人申请删除 (PIPL Art. 47)")

    with pytest.raises(PersonalDataErasedError):
        app.dispute_party_details(mediating, "P1", actor=WANG, unmasked=True, purpose=PURPOSE)
    assert DisputeStatus.MEDIATING == app.get_dispute(mediating, actor=AUDITOR).status
    assert {"P1": None, "P2": LI_SAYS} == app.session_statements(mediating, 0, actor=WANG, purpose=PURPOSE)
    assert LI == app.dispute_party_details(mediating, "P2", actor=WANG, unmasked=True, purpose=PURPOSE)


def test_a_dispute_needs_two_parties_and_refuses_a_resident_party_without_the_resident(
    memory_app: GridApplication, supervisor: Actor, grid: GridCell, clock: Clock
) -> None:
    """A lone party, or a resident party naming no resident, is refused naming the field; nothing is stored."""
    before = stored_count(memory_app)
    keys_before = len(memory_app.vault.keystore._rows)  # type: ignore[attr-defined]

    with pytest.raises(ValidationError) as lone:
        memory_app.receive_dispute(
            DisputeSource.PARTY_APPLICATION,
            DisputeCategory.NEIGHBOUR,
            "渗水",
            [PartyInput(PartyKind.OTHER_PERSON, LI)],
            grid,
            today(clock),
            actor=supervisor,
        )
    with pytest.raises(ValidationError) as nameless:
        memory_app.receive_dispute(
            DisputeSource.PARTY_APPLICATION,
            DisputeCategory.NEIGHBOUR,
            "渗水",
            [PartyInput(PartyKind.OTHER_PERSON, LI), PartyInput(PartyKind.RESIDENT, LI)],
            grid,
            today(clock),
            actor=supervisor,
        )

    assert "parties" == lone.value.field
    assert "parties[1].resident_id" == nameless.value.field
    assert before == stored_count(memory_app)
    assert keys_before == len(memory_app.vault.keystore._rows)  # type: ignore[attr-defined]


def test_a_referred_dispute_names_its_referral_document(
    memory_app: GridApplication, supervisor: Actor, grid: GridCell, clock: Clock
) -> None:
    """A police referral without the referral's reference is refused; with it, it is received."""
    parties = [PartyInput(PartyKind.SHOP, WU_SHOP), PartyInput(PartyKind.OTHER_PERSON, LI)]
    args = (DisputeSource.POLICE_REFERRAL, DisputeCategory.DAMAGES, "就餐口角致餐具损坏", parties, grid, today(clock))

    with pytest.raises(ValidationError) as caught:
        memory_app.receive_dispute(*args, actor=supervisor)
    dispute_id = memory_app.receive_dispute(*args, actor=supervisor, referral_ref="稠城派出所移送〔2026〕118 号")

    assert "referral_ref" == caught.value.field
    assert "稠城派出所移送〔2026〕118 号" == memory_app.get_dispute(dispute_id, actor=AUDITOR).referral_ref


def test_a_declined_dispute_is_final(
    app: GridApplication, receive: Callable[[], UUID], supervisor: Actor, mediator: Actor, clock: Clock
) -> None:
    """A declined dispute keeps its reason and accepts nothing more."""
    dispute_id = receive()
    app.decline_dispute(dispute_id, "已由人民法院受理", actor=mediator)
    before = stored_count(app)

    with pytest.raises(InvalidTransitionError):
        app.accept_dispute(dispute_id, today(clock), actor=supervisor)
    with pytest.raises(InvalidTransitionError):
        app.assign_mediator(dispute_id, mediator.worker_id, actor=supervisor)

    dispute = app.get_dispute(dispute_id, actor=AUDITOR)
    assert DisputeStatus.DECLINED == dispute.status
    assert "已由人民法院受理" == dispute.decline_reason
    assert before == stored_count(app)


# -- who may act ---------------------------------------------------------------------------------


def test_a_mediator_not_assigned_cannot_record_a_session(app: GridApplication, accepted: UUID, clock: Clock) -> None:
    """Only the assigned mediator records sessions; another mediator is refused and nothing is stored."""
    before = stored_count(app)

    with pytest.raises(PermissionDeniedError):
        hold_session(app, accepted, OTHER_MEDIATOR, clock)

    assert before == stored_count(app)
    assert () == app.get_dispute(accepted, actor=AUDITOR).sessions


@pytest.mark.parametrize("outsider", [AUDITOR, Actor("v-sun", Role.VOLUNTEER), GRID_WORKER], ids=str)
def test_auditors_volunteers_and_grid_workers_change_nothing(
    memory_app: GridApplication, receive_shop: UUID, grid: GridCell, clock: Clock, outsider: Actor
) -> None:
    """Receiving, accepting, declining, assigning and flagging risks are refused to those outside mediation."""
    dispute_id = receive_shop
    before = stored_count(memory_app)

    with pytest.raises(PermissionDeniedError):
        memory_app.receive_dispute(
            DisputeSource.OWN_INITIATIVE,
            DisputeCategory.CONSUMER,
            "餐费争执",
            SHOP_PARTIES,
            grid,
            today(clock),
            actor=outsider,
        )
    with pytest.raises(PermissionDeniedError):
        memory_app.accept_dispute(dispute_id, today(clock), actor=outsider)
    with pytest.raises(PermissionDeniedError):
        memory_app.flag_escalation_risk(dispute_id, RiskLevel.LOW, "口角", ["劝离"], actor=outsider)
    with pytest.raises(PermissionDeniedError):
        memory_app.assign_mediator(dispute_id, CHEN.worker_id, actor=outsider)
    with pytest.raises(PermissionDeniedError):
        memory_app.decline_dispute(dispute_id, "不受理", actor=outsider)

    assert before == stored_count(memory_app)
    assert DisputeStatus.RECEIVED == memory_app.get_dispute(dispute_id, actor=AUDITOR).status


def test_only_a_supervisor_assigns_the_mediator(memory_app: GridApplication, receive_shop: UUID) -> None:
    """A mediator cannot assign a case to themselves."""
    before = stored_count(memory_app)

    with pytest.raises(PermissionDeniedError):
        memory_app.assign_mediator(receive_shop, CHEN.worker_id, actor=CHEN)

    assert before == stored_count(memory_app)


def test_replacing_the_mediator_needs_a_reason(
    app: GridApplication, accepted: UUID, supervisor: Actor, mediator: Actor
) -> None:
    """Replacing the mediator without a reason is refused; with one, the new mediator takes over."""
    before = stored_count(app)

    with pytest.raises(ValidationError) as caught:
        app.assign_mediator(accepted, OTHER_MEDIATOR.worker_id, actor=supervisor)
    assert "reason" == caught.value.field
    assert before == stored_count(app)

    app.assign_mediator(accepted, OTHER_MEDIATOR.worker_id, actor=supervisor, reason="当事人申请调解员回避")
    dispute = app.get_dispute(accepted, actor=AUDITOR)
    assert OTHER_MEDIATOR.worker_id == dispute.mediator_id
    assert (mediator.worker_id,) == dispute.past_mediator_ids


# -- the one-month limit -------------------------------------------------------------------------


def test_a_session_after_the_deadline_is_refused(
    app: GridApplication, accepted: UUID, mediator: Actor, clock: Clock
) -> None:
    """A month and a day after acceptance, a session is refused by the time limit; nothing is stored."""
    clock.advance(days=31)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        hold_session(app, accepted, mediator, clock)

    assert "mediation.time-limit" == caught.value.rule
    assert "record the extension first" in caught.value.message
    assert before == stored_count(app)
    assert app.get_dispute(accepted, actor=AUDITOR).is_past_limit(today(clock))


def test_a_session_on_the_deadline_itself_is_allowed(
    app: GridApplication, accepted: UUID, mediator: Actor, clock: Clock
) -> None:
    """The deadline day is still within the month."""
    clock.advance(days=30)
    assert app.get_dispute(accepted, actor=AUDITOR).deadline == today(clock)

    hold_session(app, accepted, mediator, clock)

    assert 1 == len(app.get_dispute(accepted, actor=AUDITOR).sessions)


def test_mediation_goes_on_after_an_extension_every_party_consented_to(
    app: GridApplication, accepted: UUID, mediator: Actor, clock: Clock
) -> None:
    """After all parties agreed to go on, a session past the first month is recorded."""
    deadline = app.get_dispute(accepted, actor=AUDITOR).deadline
    assert deadline is not None
    clock.advance(days=31)
    new_deadline = deadline + timedelta(days=15)

    app.extend_time_limit(accepted, new_deadline, ["P1", "P2"], "等待房屋检测报告", actor=mediator)
    hold_session(app, accepted, mediator, clock)

    dispute = app.get_dispute(accepted, actor=AUDITOR)
    assert new_deadline == dispute.deadline
    assert 1 == len(dispute.extensions)
    assert deadline == dispute.extensions[0].previous_deadline
    assert DisputeStatus.MEDIATING == dispute.status


def test_an_extension_missing_a_party_is_refused(
    app: GridApplication, accepted: UUID, mediator: Actor, clock: Clock
) -> None:
    """One party's consent is not enough to go on past the limit; nothing is stored."""
    deadline = app.get_dispute(accepted, actor=AUDITOR).deadline
    assert deadline is not None
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.extend_time_limit(accepted, deadline + timedelta(days=15), ["P1"], "等待检测", actor=mediator)

    assert "mediation.extension-needs-all-parties" == caught.value.rule
    assert "P2" in caught.value.message
    assert before == stored_count(app)
    assert () == app.get_dispute(accepted, actor=AUDITOR).extensions


# -- sessions -----------------------------------------------------------------------------------


def test_a_session_before_acceptance_or_in_the_future_is_refused(
    app: GridApplication, receive: Callable[[], UUID], supervisor: Actor, mediator: Actor, clock: Clock
) -> None:
    """Sessions wait for acceptance; a session time in the future is refused naming held_at."""
    dispute_id = receive()
    app.assign_mediator(dispute_id, mediator.worker_id, actor=supervisor)
    with pytest.raises(InvalidTransitionError) as early:
        hold_session(app, dispute_id, mediator, clock)
    app.accept_dispute(dispute_id, today(clock), actor=supervisor)
    before = stored_count(app)

    with pytest.raises(ValidationError) as future:
        app.record_session(
            dispute_id, clock() + timedelta(hours=2), "调解室", ["P1", "m-chen"], {}, "约谈", actor=mediator
        )

    assert "accept" in early.value.hint
    assert "held_at" == future.value.field
    assert before == stored_count(app)


def test_a_statement_comes_from_a_party_who_attended(
    app: GridApplication, accepted: UUID, mediator: Actor, clock: Clock
) -> None:
    """A statement of a party who was not there, or of no party at all, is refused."""
    before = stored_count(app)

    with pytest.raises(ValidationError) as absent:
        app.record_session(accepted, clock(), "调解室", ["P1", "m-chen"], {"P2": LI_SAYS}, "单独约谈", actor=mediator)
    with pytest.raises(ValidationError) as stranger:
        app.record_session(accepted, clock(), "调解室", ["P1", "m-chen"], {"P7": "?"}, "单独约谈", actor=mediator)

    assert "statements[0]" == absent.value.field
    assert "statements" == stranger.value.field
    assert before == stored_count(app)


# -- refusal and failure -----------------------------------------------------------------------


def test_after_a_party_refuses_only_the_failure_can_be_recorded(
    app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock
) -> None:
    """A clear refusal stops mediation: no session, no agreement; the failure, with routes, ends it."""
    app.record_refusal(mediating, "P2", "明确表示不再参加调解", actor=mediator)
    before = stored_count(app)

    with pytest.raises(InvalidTransitionError):
        hold_session(app, mediating, mediator, clock)
    with pytest.raises(InvalidTransitionError):
        app.draft_agreement(mediating, written_agreement(), actor=mediator)
    assert before == stored_count(app)

    app.record_mediation_failure(mediating, "一方拒绝调解", {Route.LITIGATION, Route.ADMINISTRATIVE}, actor=mediator)
    dispute = app.get_dispute(mediating, actor=AUDITOR)
    assert DisputeStatus.FAILED == dispute.status
    assert "P2" == dispute.refused_by
    assert frozenset({Route.LITIGATION, Route.ADMINISTRATIVE}) == dispute.routes_explained


def test_a_failure_must_explain_the_other_routes(
    app: GridApplication, mediating: UUID, mediator: Actor, supervisor: Actor
) -> None:
    """A failure without the routes explained is refused; with them, the supervisor can close the case."""
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.record_mediation_failure(mediating, "双方分歧过大", [], actor=mediator)
    assert "mediation.explain-other-routes" == caught.value.rule
    assert before == stored_count(app)

    app.record_mediation_failure(mediating, "双方分歧过大", [Route.LITIGATION], actor=mediator)
    app.close_dispute(mediating, "调解不成，已告知诉讼途径", actor=supervisor)
    assert DisputeStatus.FAILED == app.get_dispute(mediating, actor=AUDITOR).closed_from


# -- agreement and signatures -------------------------------------------------------------------------


def test_an_agreement_needs_a_session_first(app: GridApplication, accepted: UUID, mediator: Actor) -> None:
    """Drafting before any session is refused with a hint to hold one."""
    before = stored_count(app)

    with pytest.raises(InvalidTransitionError) as caught:
        app.draft_agreement(accepted, written_agreement(), actor=mediator)

    assert "session" in caught.value.hint
    assert before == stored_count(app)


def test_a_written_agreement_takes_effect_only_when_every_party_and_the_mediator_signed(
    app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock
) -> None:
    """Until the mediator's signature, the agreement waits; the last signature and the effect are stored together."""
    app.draft_agreement(mediating, written_agreement(), actor=mediator)
    app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.SIGNATURE, actor=mediator)
    clock.advance(days=1)
    app.sign_agreement(mediating, "P2", today(clock), SignatureMethod.SEAL, actor=mediator)
    waiting = app.get_dispute(mediating, actor=AUDITOR)
    assert DisputeStatus.AGREEMENT_DRAFTED == waiting.status
    assert frozenset({mediator.worker_id}) == waiting.signatures_outstanding
    before = stored_count(app)

    app.sign_agreement(mediating, mediator.worker_id, today(clock), SignatureMethod.SIGNATURE, actor=mediator)

    dispute = app.get_dispute(mediating, actor=AUDITOR)
    assert DisputeStatus.AGREED == dispute.status
    assert today(clock) == dispute.effective_on
    assert frozenset() == dispute.signatures_outstanding
    assert before + 2 == stored_count(app)


def test_an_oral_agreement_takes_effect_when_every_party_consented(
    app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock
) -> None:
    """For an oral agreement the parties consent and the mediator records it; a mediator's signature is refused."""
    app.draft_agreement(mediating, written_agreement(form=AgreementForm.ORAL), actor=mediator)
    before = stored_count(app)
    with pytest.raises(ValidationError) as by_mediator:
        app.sign_agreement(mediating, mediator.worker_id, today(clock), SignatureMethod.SIGNATURE, actor=mediator)
    with pytest.raises(ValidationError) as written_way:
        app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.SIGNATURE, actor=mediator)
    assert "signer_id" == by_mediator.value.field
    assert "method" == written_way.value.field
    assert before == stored_count(app)

    app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.ORAL_CONSENT, actor=mediator)
    app.sign_agreement(mediating, "P2", today(clock), SignatureMethod.ORAL_CONSENT, actor=mediator)

    assert DisputeStatus.AGREED == app.get_dispute(mediating, actor=AUDITOR).status


def test_signing_twice_or_for_a_stranger_is_refused(
    app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock
) -> None:
    """A second signature of the same signer, or one of somebody outside the case, stores nothing."""
    app.draft_agreement(mediating, written_agreement(), actor=mediator)
    app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.SIGNATURE, actor=mediator)
    before = stored_count(app)

    with pytest.raises(ValidationError) as twice:
        app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.FINGERPRINT, actor=mediator)
    with pytest.raises(ValidationError) as stranger:
        app.sign_agreement(mediating, OTHER_MEDIATOR.worker_id, today(clock), SignatureMethod.SIGNATURE, actor=mediator)

    assert "signer_id" == twice.value.field
    assert "signer_id" == stranger.value.field
    assert before == stored_count(app)


def test_redrafting_the_agreement_needs_every_signature_again(
    app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock
) -> None:
    """Signatures given to an earlier draft do not carry over to a changed one."""
    app.draft_agreement(mediating, written_agreement(), actor=mediator)
    app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.SIGNATURE, actor=mediator)

    app.draft_agreement(mediating, written_agreement(today(clock) + timedelta(days=5)), actor=mediator)

    dispute = app.get_dispute(mediating, actor=AUDITOR)
    assert () == dispute.signatures
    assert frozenset({"P1", "P2", mediator.worker_id}) == dispute.signatures_outstanding


def test_signing_after_the_deadline_is_refused(
    app: GridApplication, mediating: UUID, mediator: Actor, clock: Clock
) -> None:
    """Signatures are mediation work too: after the deadline they wait for an extension."""
    app.draft_agreement(mediating, written_agreement(), actor=mediator)
    clock.advance(days=30)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.sign_agreement(mediating, "P1", today(clock), SignatureMethod.SIGNATURE, actor=mediator)

    assert "mediation.time-limit" == caught.value.rule
    assert before == stored_count(app)


# -- after the agreement ---------------------------------------------------------------------------


def test_closing_an_agreed_dispute_without_a_follow_up_is_refused(
    app: GridApplication, agreed: UUID, supervisor: Actor, mediator: Actor, clock: Clock
) -> None:
    """The file of an agreement closes only after a follow-up visit."""
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.close_dispute(agreed, "已达成协议", actor=supervisor)
    assert "mediation.follow-up-before-closing" == caught.value.rule
    assert before == stored_count(app)

    app.record_follow_up(
        agreed, today(clock), PerformanceStatus.PARTLY, satisfied=True, escalation_signs=False, actor=mediator
    )
    with pytest.raises(PermissionDeniedError):
        app.close_dispute(agreed, "已回访", actor=mediator)
    app.close_dispute(agreed, "已回访", actor=supervisor)
    assert DisputeStatus.CLOSED == app.get_dispute(agreed, actor=AUDITOR).status


def test_a_follow_up_is_due_after_the_last_term_falls_due(
    app: GridApplication, agreed: UUID, mediator: Actor, clock: Clock
) -> None:
    """A visit before the terms fall due does not count; a visit finding partial performance calls for another."""
    due_on = today(clock) + timedelta(days=10)
    assert due_on == app.get_dispute(agreed, actor=AUDITOR).follow_up_due_on
    app.record_follow_up(
        agreed, today(clock), PerformanceStatus.NOT_PERFORMED, satisfied=True, escalation_signs=False, actor=mediator
    )
    assert due_on == app.get_dispute(agreed, actor=AUDITOR).follow_up_due_on

    clock.advance(days=11)
    dispute = app.get_dispute(agreed, actor=AUDITOR)
    assert dispute.follow_up_due(today(clock))
    assert (0, 1) == dispute.overdue_terms(today(clock))
    app.record_follow_up(
        agreed,
        today(clock),
        PerformanceStatus.PARTLY,
        satisfied=False,
        escalation_signs=True,
        actor=mediator,
        note="赔偿款未付，双方又起口角",
    )
    assert today(clock) + timedelta(days=30) == app.get_dispute(agreed, actor=AUDITOR).follow_up_due_on

    clock.advance(days=5)
    app.record_performance(agreed, 1, performed=True, actor=mediator)
    app.record_follow_up(
        agreed, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=mediator
    )
    assert app.get_dispute(agreed, actor=AUDITOR).follow_up_due_on is None


def test_judicial_confirmation_after_30_days_is_refused(
    app: GridApplication, agreed: UUID, mediator: Actor, clock: Clock
) -> None:
    """The parties apply within 30 days of the agreement taking effect; on day 31 it is refused."""
    effective_on = today(clock)
    clock.advance(days=31)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as late:
        app.apply_for_judicial_confirmation(agreed, "义乌市人民法院", today(clock), actor=mediator)
    assert "mediation.judicial-confirmation-30-days" == late.value.rule
    assert before == stored_count(app)

    app.apply_for_judicial_confirmation(agreed, "义乌市人民法院", effective_on + timedelta(days=30), actor=mediator)
    assert app.get_dispute(agreed, actor=AUDITOR).judicial is not None


def test_judicial_confirmation_is_applied_for_jointly_and_decided_before_closing(
    app: GridApplication, agreed: UUID, mediator: Actor, supervisor: Actor, clock: Clock
) -> None:
    """One party alone cannot apply; a pending application holds the file open until the court decides."""
    with pytest.raises(RuleViolationError) as alone:
        app.apply_for_judicial_confirmation(
            agreed, "义乌市人民法院", today(clock), actor=mediator, applicant_party_ids=["P1"]
        )
    assert "mediation.judicial-confirmation-joint" == alone.value.rule
    app.apply_for_judicial_confirmation(agreed, "义乌市人民法院", today(clock), actor=supervisor)
    app.record_follow_up(
        agreed, today(clock), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=mediator
    )
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as pending:
        app.close_dispute(agreed, "结案", actor=supervisor)
    with pytest.raises(InvalidTransitionError):
        app.apply_for_judicial_confirmation(agreed, "义乌市人民法院", today(clock), actor=supervisor)
    assert "mediation.judicial-decision-before-closing" == pending.value.rule
    assert before == stored_count(app)

    clock.advance(days=10)
    app.record_judicial_decision(
        agreed, confirmed=False, decided_on=today(clock), actor=supervisor, note="协议内容违反法律规定"
    )
    app.close_dispute(agreed, "结案", actor=supervisor)
    dispute = app.get_dispute(agreed, actor=AUDITOR)
    assert DisputeStatus.CLOSED == dispute.status
    assert dispute.judicial is not None
    assert dispute.judicial.confirmed is False


def test_performance_is_recorded_once_per_term(app: GridApplication, agreed: UUID, mediator: Actor) -> None:
    """A performed term cannot be recorded as performed again; an unknown term is refused."""
    app.record_performance(agreed, 0, performed=True, actor=mediator)
    before = stored_count(app)

    with pytest.raises(ValidationError) as again:
        app.record_performance(agreed, 0, performed=True, actor=mediator)
    with pytest.raises(ValidationError) as unknown:
        app.record_performance(agreed, 5, performed=True, actor=mediator)

    assert "term_index" == again.value.field
    assert "term_index" == unknown.value.field
    assert before == stored_count(app)


# -- escalation ------------------------------------------------------------------------------


def test_a_high_risk_must_be_reported_to_the_police_before_closing(
    app: GridApplication, mediating: UUID, mediator: Actor, supervisor: Actor
) -> None:
    """A risk of a criminal case is reported (Art. 25); the file cannot close until it is."""
    app.flag_escalation_risk(
        mediating, RiskLevel.HIGH, "一方扬言报复", ["分开约谈", "通知网格员每日走访"], actor=mediator
    )
    app.record_mediation_failure(mediating, "矛盾激化", [Route.LITIGATION], actor=mediator)
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.close_dispute(mediating, "调解不成", actor=supervisor)
    assert "mediation.report-high-risk" == caught.value.rule
    assert before == stored_count(app)

    app.report_dispute_to_police(mediating, "稠城派出所", "一方扬言报复，可能引发治安案件", actor=supervisor)
    app.close_dispute(mediating, "调解不成，已报告派出所", actor=supervisor)
    dispute = app.get_dispute(mediating, actor=AUDITOR)
    assert RiskLevel.HIGH == dispute.risk_level
    assert "稠城派出所" == dispute.police_reports[0].station


def test_a_risk_without_preventive_steps_is_refused(app: GridApplication, mediating: UUID, mediator: Actor) -> None:
    """Flagging a risk of escalation means recording the targeted steps taken."""
    before = stored_count(app)

    with pytest.raises(RuleViolationError) as caught:
        app.flag_escalation_risk(mediating, RiskLevel.MEDIUM, "双方争吵", [], actor=mediator)

    assert "mediation.preventive-steps" == caught.value.rule
    assert before == stored_count(app)


# -- every refusal stores nothing --------------------------------------------------------------------


@attrs.frozen
class Attempt:
    """A command tried on the mediating dispute by its mediator or the supervisor, today."""

    app: GridApplication
    dispute_id: UUID
    day: date


REFUSED_ATTEMPTS: dict[str, tuple[Callable[[Attempt], object], type[Exception]]] = {
    "accept-twice": (lambda a: a.app.accept_dispute(a.dispute_id, a.day, actor=WANG), InvalidTransitionError),
    "decline-accepted": (lambda a: a.app.decline_dispute(a.dispute_id, "改变主意", actor=WANG), InvalidTransitionError),
    "close-mediating": (lambda a: a.app.close_dispute(a.dispute_id, "结案", actor=WANG), InvalidTransitionError),
    "sign-nothing": (
        lambda a: a.app.sign_agreement(a.dispute_id, "P1", a.day, SignatureMethod.SIGNATURE, actor=CHEN),
        InvalidTransitionError,
    ),
    "follow-up-early": (
        lambda a: a.app.record_follow_up(
            a.dispute_id, a.day, PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=CHEN
        ),
        InvalidTransitionError,
    ),
    "auditor-notes": (
        lambda a: a.app.note_investigation(a.dispute_id, "走访记录", actor=AUDITOR),
        PermissionDeniedError,
    ),
    "supervisor-notes": (
        lambda a: a.app.note_investigation(a.dispute_id, "走访记录", actor=WANG),
        PermissionDeniedError,
    ),
    "refusal-of-stranger": (lambda a: a.app.record_refusal(a.dispute_id, "P9", "拒绝", actor=CHEN), ValidationError),
    "extension-not-later": (
        lambda a: a.app.extend_time_limit(a.dispute_id, a.day, ["P1", "P2"], "延期", actor=CHEN),
        ValidationError,
    ),
    "blank-station": (lambda a: a.app.report_dispute_to_police(a.dispute_id, " ", "报告", actor=CHEN), ValidationError),
}


@pytest.mark.parametrize("attempt", list(REFUSED_ATTEMPTS))
def test_a_refused_command_stores_nothing(app: GridApplication, mediating: UUID, clock: Clock, attempt: str) -> None:
    """Each refused command raises its typed error and leaves the store as it was."""
    command, error = REFUSED_ATTEMPTS[attempt]
    before = stored_count(app)
    version = app.get_dispute(mediating, actor=AUDITOR).version

    with pytest.raises(error):
        command(Attempt(app, mediating, today(clock)))

    assert before == stored_count(app)
    assert version == app.get_dispute(mediating, actor=AUDITOR).version


def test_a_snapshot_of_a_closed_case_loads_as_the_case_itself(
    app: GridApplication, agreed: UUID, mediator: Actor, supervisor: Actor, clock: Clock
) -> None:
    """Every value the case holds survives the snapshot codec (snapshots store the aggregate's state)."""
    app.flag_escalation_risk(agreed, RiskLevel.HIGH, "口角升级", ["分开约谈"], actor=mediator)
    app.report_dispute_to_police(agreed, "稠城派出所", "可能引发治安案件", actor=mediator)
    app.record_performance(agreed, 0, performed=True, actor=mediator)
    app.record_follow_up(
        agreed, today(clock), PerformanceStatus.PARTLY, satisfied=True, escalation_signs=False, actor=mediator
    )
    app.close_dispute(agreed, "结案", actor=supervisor)
    replayed = app.get_dispute(agreed, actor=AUDITOR)

    app.take_snapshot(agreed)

    assert app.snapshots is not None
    assert 1 == len(list(app.snapshots.get(agreed)))
    assert vars(replayed) == vars(app.get_dispute(agreed, actor=AUDITOR))


def test_an_auditor_replays_the_case_as_it_stood_before_the_signatures(app: GridApplication, agreed: UUID) -> None:
    """Loading an earlier version shows the drafted agreement with no signature yet."""
    received, accepted, assigned, session, drafted = range(1, 6)

    then = app.load(Dispute, agreed, version=drafted)

    assert DisputeStatus.AGREEMENT_DRAFTED == then.status
    assert () == then.signatures
    assert DisputeStatus.ACCEPTED == app.load(Dispute, agreed, version=assigned).status
    assert (received, accepted, session) == (1, 2, 4)
