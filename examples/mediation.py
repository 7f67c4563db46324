"""People's mediation of a neighbours' dispute: application, session, signed agreement, follow-up.

The one-month limit (司法部令第75号 Art. 33) is enforced: after it, mediation
goes on only with every party's consent. Run:  python examples/mediation.py
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from grid_events import (
    Actor,
    Agreement,
    AgreementForm,
    DisputeCategory,
    DisputeSource,
    GridApplication,
    GridCell,
    PartyDetails,
    PartyInput,
    PartyKind,
    PerformanceStatus,
    Role,
    RuleViolationError,
    SignatureMethod,
    StoreConfig,
    Term,
)


class Clock:
    """The office clock, moved by hand so the example can span six weeks."""

    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        """Return the office time."""
        return self.now


clock = Clock()
secretary = Actor("s-wang", Role.SUPERVISOR)
mediator = Actor("m-chen", Role.MEDIATOR)
cell = GridCell("稠城", "金胜", "04")
day = date(2026, 11, 2)

with GridApplication(StoreConfig.memory(), clock=clock) as app:
    case = app.receive_dispute(
        DisputeSource.PARTY_APPLICATION,
        DisputeCategory.NEIGHBOUR,
        "楼上空调冷凝水滴落，夜间噪音",
        [
            PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="王海燕", phone="13700001234")),
            PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="刘志强", phone="13600005678")),
        ],
        cell,
        day,
        actor=mediator,
    )
    app.accept_dispute(case, day, actor=mediator)
    app.assign_mediator(case, mediator.worker_id, actor=secretary)

    clock.now += timedelta(days=2)
    app.record_session(
        case,
        clock.now,
        "社区调解室",
        (mediator.worker_id, "P1", "P2"),
        {"P1": "冷凝水滴到我家阳台", "P2": "愿意加装冷凝水管"},
        "双方同意加装冷凝水管，夜间注意噪音",
        actor=mediator,
    )
    terms = (Term("P2 一周内加装冷凝水管", "P2", day + timedelta(days=9)), Term("P2 晚十点后避免噪音", "P2", None))
    agreement = Agreement(
        AgreementForm.WRITTEN, "冷凝水滴落", "冷凝水与噪音", terms, "调解员回访确认", day + timedelta(days=9)
    )
    app.draft_agreement(case, agreement, actor=mediator)
    signed_on = day + timedelta(days=2)
    for signer in ("P1", "P2", mediator.worker_id):  # effective only once every party and the mediator signed
        app.sign_agreement(case, signer, signed_on, SignatureMethod.SIGNATURE, actor=mediator)
    print("status:", app.get_dispute(case, actor=secretary).status)

    # Closing an agreed case needs a follow-up visit (回访) first.
    try:
        app.close_dispute(case, "结案", actor=secretary)
    except RuleViolationError as error:
        print("refused:", error.rule)

    clock.now += timedelta(days=10)
    app.record_performance(case, 0, performed=True, actor=mediator, note="已加装")
    app.record_follow_up(
        case, day + timedelta(days=12), PerformanceStatus.FULLY, satisfied=True, escalation_signs=False, actor=mediator
    )
    app.close_dispute(case, "协议已履行，回访满意", actor=secretary)
    dispute = app.get_dispute(case, actor=secretary)
    print("status:", dispute.status, "within the limit:", dispute.concluded_within_limit)
    assert dispute.status == "closed"
