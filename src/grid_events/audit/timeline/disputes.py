"""How the timeline phrases the events of a people's mediation case."""

from __future__ import annotations

from grid_events.audit.timeline.words import Phrasings, Said, Sealed, Words
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import Party, Term

__all__ = ["PHRASINGS", "agreement_term_text", "party_text"]

PHRASINGS = Phrasings()
"""How the timeline phrases the events of a people's mediation case, by event class."""

_says = PHRASINGS.says


def party_text(party: Party, w: Words) -> str:
    """Return a party: its id, its kind, and a placeholder for who it is."""
    kind = w(f"（{w.term(party.kind)}）", f" ({w.term(party.kind)}) ")
    return f"{party.party_id}{kind}{w.sealed(Sealed.PARTY)}"


@_says(Dispute.Received)
def _received(e: Dispute.Received, w: Words) -> Said:
    referral = w.note("来文", "document", e.referral_ref)
    parties = w.join(party_text(party, w) for party in e.parties)
    return Said(
        w(
            f"登记纠纷：{w.term(e.category)}，来源：{w.term(e.source)}{referral}；收到日期 {w.day(e.received_on)}；"
            f"网格 {w.grid(e.grid)}；当事人：{parties}；概要：{e.summary}",
            f"received a {w.term(e.category)} by {w.term(e.source)}{referral}; received on {w.day(e.received_on)}; "
            f"grid {w.grid(e.grid)}; parties: {parties}; summary: {e.summary}",
        )
    )


@_says(Dispute.Accepted)
def _dispute_accepted(e: Dispute.Accepted, w: Words) -> Said:
    return Said(
        w(
            f"受理调解，受理日期 {w.day(e.accepted_on)}，调解期限至 {w.day(e.deadline)}",
            f"accepted the dispute for mediation on {w.day(e.accepted_on)}; to end by {w.day(e.deadline)}",
        )
    )


@_says(Dispute.Declined)
def _declined(e: Dispute.Declined, w: Words) -> Said:
    return Said(w("不予受理", "declined the dispute"), e.reason)


@_says(Dispute.MediatorAssigned)
def _mediator_assigned(e: Dispute.MediatorAssigned, w: Words) -> Said:
    return Said(w(f"指定调解员 {e.mediator_id}", f"assigned the mediator {e.mediator_id}"), e.reason)


@_says(Dispute.InvestigationNoted)
def _investigation(_: Dispute.InvestigationNoted, w: Words) -> Said:
    sealed = w.sealed(Sealed.INVESTIGATION)
    return Said(w(f"记录调查核实情况 {sealed}", f"noted the investigation {sealed}"))


@_says(Dispute.SessionRecorded)
def _session(e: Dispute.SessionRecorded, w: Words) -> Said:
    statements = w.join(f"{statement.party_id} {w.sealed(Sealed.STATEMENT)}" for statement in e.statements)
    return Said(
        w(
            f"召开调解会，时间 {w.moment(e.held_at)}，地点 {e.place}；参加人员：{w.join(e.attendees)}；"
            f"当事人陈述：{statements}；调解情况：{e.summary}",
            f"held a mediation session at {w.moment(e.held_at)} in {e.place}; attending: {w.join(e.attendees)}; "
            f"statements: {statements}; summary: {e.summary}",
        )
        + w.note("下一步", "next steps", e.next_steps)
    )


@_says(Dispute.TimeLimitExtended)
def _extended(e: Dispute.TimeLimitExtended, w: Words) -> Said:
    consenting = w.join(sorted(e.consenting_party_ids))
    return Said(
        w(
            f"经当事人 {consenting} 同意，调解期限延长至 {w.day(e.new_deadline)}",
            f"extended the time limit to {w.day(e.new_deadline)} with the consent of {consenting}",
        ),
        e.reason,
    )


@_says(Dispute.EscalationRiskFlagged)
def _risk(e: Dispute.EscalationRiskFlagged, w: Words) -> Said:
    return Said(
        w(
            f"发现矛盾激化风险（{w.term(e.level)}）：{e.description}；预防措施：{w.join(e.preventive_steps)}",
            f"flagged a {w.term(e.level)} risk of escalation: {e.description}; "
            f"preventive steps: {w.join(e.preventive_steps)}",
        )
    )


@_says(Dispute.ReportedToPolice)
def _police(e: Dispute.ReportedToPolice, w: Words) -> Said:
    return Said(w(f"向 {e.station} 报告", f"reported the dispute to {e.station}"), e.reason)


@_says(Dispute.PartyRefused)
def _refused(e: Dispute.PartyRefused, w: Words) -> Said:
    return Said(w(f"当事人 {e.party_id} 明确拒绝调解", f"party {e.party_id} clearly refused mediation"), e.note)


def agreement_term_text(index: int, term_: Term, w: Words) -> str:
    """Return the term numbered *index* of an agreement: what, by whom, by when."""
    due = w(f"，{w.day(term_.due_on)} 前", f", by {w.day(term_.due_on)}") if term_.due_on else ""
    return w(
        f"{index}. {term_.text}（{term_.obligor_party_id} 履行{due}）",
        f"{index}. {term_.text} ({term_.obligor_party_id}{due})",
    )


@_says(Dispute.AgreementDrafted)
def _drafted(e: Dispute.AgreementDrafted, w: Words) -> Said:
    a = e.agreement
    terms = " ".join(agreement_term_text(index, term_, w) for index, term_ in enumerate(a.terms, 1))
    perform_by = (
        w(f"；履行期限 {w.day(a.perform_by)}", f"; to be performed by {w.day(a.perform_by)}") if a.perform_by else ""
    )
    return Said(
        w(
            f"起草{w.term(a.form)}：事实：{a.facts}；争议事项：{a.issues}；条款：{terms}；履行方式：{a.performance}"
            f"{perform_by}",
            f"drafted a {w.term(a.form)}: facts: {a.facts}; issues: {a.issues}; terms: {terms}; "
            f"performance: {a.performance}{perform_by}",
        )
    )


@_says(Dispute.AgreementSigned)
def _signed(e: Dispute.AgreementSigned, w: Words) -> Said:
    return Said(
        w(
            f"{w.signer(e.signer_id)} 以{w.term(e.method)}方式签署协议，日期 {w.day(e.signed_on)}",
            f"{w.signer(e.signer_id)} signed the agreement by {w.term(e.method)} on {w.day(e.signed_on)}",
        )
    )


@_says(Dispute.AgreementTookEffect)
def _took_effect(e: Dispute.AgreementTookEffect, w: Words) -> Said:
    return Said(
        w(f"调解协议生效，生效日期 {w.day(e.effective_on)}", f"the agreement took effect on {w.day(e.effective_on)}")
    )


@_says(Dispute.MediationFailed)
def _failed(e: Dispute.MediationFailed, w: Words) -> Said:
    routes = w.terms(e.routes_explained)
    return Said(
        w(f"调解不成；已告知当事人可通过以下途径维权：{routes}", f"mediation failed; other routes explained: {routes}"),
        e.reason,
    )


@_says(Dispute.PerformanceRecorded)
def _performance(e: Dispute.PerformanceRecorded, w: Words) -> Said:
    done = w.yes_no(e.performed, ("已履行", "未履行"), ("performed", "not performed"))
    return Said(
        w(f"协议第 {e.term_index + 1} 项条款：{done}", f"term {e.term_index + 1} of the agreement: {done}")
        + w.note("说明", "note", e.note)
    )


@_says(Dispute.FollowUpRecorded)
def _follow_up(e: Dispute.FollowUpRecorded, w: Words) -> Said:
    satisfied = w.yes_no(e.satisfied, ("满意", "不满意"), ("satisfied", "not satisfied"))
    signs = w.yes_no(e.escalation_signs, ("有激化迹象", "无激化迹象"), ("signs of escalation", "no sign of escalation"))
    return Said(
        w(
            f"回访，日期 {w.day(e.visited_on)}：{w.term(e.performance)}，当事人{satisfied}，{signs}",
            f"follow-up visit on {w.day(e.visited_on)}: {w.term(e.performance)}, parties {satisfied}, {signs}",
        )
        + w.note("说明", "note", e.note)
    )


@_says(Dispute.JudicialConfirmationApplied)
def _judicial_applied(e: Dispute.JudicialConfirmationApplied, w: Words) -> Said:
    applicants = w.join(sorted(e.applicant_party_ids))
    return Said(
        w(
            f"当事人 {applicants} 向{e.court}申请司法确认，申请日期 {w.day(e.applied_on)}",
            f"{applicants} applied to {e.court} for judicial confirmation on {w.day(e.applied_on)}",
        )
    )


@_says(Dispute.JudicialConfirmationDecided)
def _judicial_decided(e: Dispute.JudicialConfirmationDecided, w: Words) -> Said:
    outcome = w.yes_no(
        e.confirmed, ("确认调解协议有效", "不予确认"), ("confirmed the agreement", "refused to confirm it")
    )
    return Said(
        w(f"法院{outcome}，日期 {w.day(e.decided_on)}", f"the court {outcome} on {w.day(e.decided_on)}")
        + w.note("说明", "note", e.note)
    )


@_says(Dispute.Closed)
def _dispute_closed(e: Dispute.Closed, w: Words) -> Said:
    return Said(w(f"结案：{e.summary}", f"closed the file: {e.summary}"))
