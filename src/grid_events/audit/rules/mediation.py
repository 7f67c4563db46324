"""The rules of people's mediation (人民调解法, 司法部令第75号), checked on a dispute's events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Final

from grid_events.audit.rules.core import Breach, CaseHistory, Rule, RuleBook, RuleSeverity, breach
from grid_events.audit.timeline import term
from grid_events.domain.base import GridAggregate
from grid_events.domain.calendar import add_months
from grid_events.domain.dispute import Dispute
from grid_events.domain.mediation import (
    PARTY_WRITTEN_METHODS,
    AgreementForm,
    PerformanceStatus,
    RiskLevel,
    SignatureMethod,
)

__all__ = ["RULES"]

_BOOK = RuleBook()
_rule = _BOOK.rule
_DISPUTE = frozenset({"dispute"})


def _days(start: date, end: date) -> int:
    return (end - start).days


def _names(ids: Iterable[str], mediator: str | None = None) -> tuple[str, str]:
    """Name signers in Chinese and English: parties by id, the mediator as such."""
    zh, en = [], []
    for signer in sorted(ids):
        if signer == mediator:
            zh.append(f"调解员 {signer}")
            en.append(f"the mediator {signer}")
        else:
            zh.append(signer)
            en.append(signer)
    return "、".join(zh), ", ".join(en)


@_rule(
    "mediation.agreement-signed-by-all",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="生效的调解协议经全体当事人和调解员签署（口头协议经全体当事人同意）",
    title_en="An agreement in effect is signed by every party and the mediator (an oral one consented by every party)",
    source="人民调解法 Art. 29, 30",
)
def _agreement_signed_by_all(case: CaseHistory) -> Iterator[Breach]:
    draft: Dispute.AgreementDrafted | None = None
    signatures: list[Dispute.AgreementSigned] = []
    mediator: str | None = None
    for event in case.events:
        if isinstance(event, Dispute.MediatorAssigned):
            mediator = event.mediator_id
        elif isinstance(event, Dispute.AgreementDrafted):
            draft, signatures = event, []
        elif isinstance(event, Dispute.AgreementSigned):
            signatures.append(event)
        elif isinstance(event, Dispute.AgreementTookEffect):
            yield from _check_signatures(case, event, draft, signatures, mediator)


def _check_signatures(
    case: CaseHistory,
    effect: Dispute.AgreementTookEffect,
    draft: Dispute.AgreementDrafted | None,
    signatures: list[Dispute.AgreementSigned],
    mediator: str | None,
) -> Iterator[Breach]:
    version = effect.originator_version
    if draft is None:
        yield breach(
            [version],
            f"协议于 {effect.effective_on} 生效，但此前没有起草任何调解协议",
            f"an agreement took effect on {effect.effective_on}, but none was ever drafted",
        )
        return
    form = draft.agreement.form
    required = set(case.parties)
    if form is AgreementForm.WRITTEN:
        required.add(mediator or "?")
    valid = {
        signature.signer_id
        for signature in signatures
        if _valid_signature(form, signature.method, is_party=signature.signer_id in case.parties)
    }
    missing = required - valid
    if not missing:
        return
    zh_names, en_names = _names(missing, mediator)
    how_zh, how_en = ("签署", "signed") if form is AgreementForm.WRITTEN else ("口头同意", "consented to")
    yield breach(
        [version, draft.originator_version, *(signature.originator_version for signature in signatures)],
        f"{'书面' if form is AgreementForm.WRITTEN else '口头'}调解协议于 {effect.effective_on} 记为生效，"
        f"但 {zh_names} 未有效{how_zh}",
        f"the {form.value} agreement was recorded as in effect on {effect.effective_on}, "
        f"but {en_names} had not validly {how_en} it",
    )


def _valid_signature(form: AgreementForm, method: SignatureMethod, *, is_party: bool) -> bool:
    if form is AgreementForm.ORAL:
        return is_party and method is SignatureMethod.ORAL_CONSENT
    if is_party:
        return method in PARTY_WRITTEN_METHODS
    return method is SignatureMethod.SIGNATURE


@_rule(
    "mediation.time-limit",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="调解自受理之日起一个月内结束，延长须经全体当事人同意",
    title_en="Mediation ends within one month of acceptance unless every party agreed to go on longer",
    source="司法部令第75号 Art. 33",
    refused_by_domain=True,
)
def _time_limit(case: CaseHistory) -> Iterator[Breach]:
    accepted = case.first(Dispute.Accepted)
    if accepted is None:
        return
    deadline = add_months(accepted.accepted_on, case.settings.mediation_months)
    versions = [accepted.originator_version]
    if accepted.deadline != deadline:
        yield breach(
            versions,
            f"受理日期为 {accepted.accepted_on}，期限应为 {deadline}，但记录的期限是 {accepted.deadline}",
            f"accepted on {accepted.accepted_on}, so the limit is {deadline}, but {accepted.deadline} was recorded",
        )
    end = _mediation_end(case)
    end_version = end[0].originator_version if end else None
    for extension in case.of(Dispute.TimeLimitExtended):
        if end_version is not None and extension.originator_version > end_version:
            break
        if not case.parties <= extension.consenting_party_ids or extension.new_deadline <= deadline:
            continue  # not a valid extension (see mediation.extension-needs-all-parties)
        recorded = case.day(extension)
        if recorded > deadline:
            yield breach(
                [*versions, extension.originator_version],
                f"延期于 {recorded} 才记录，此时期限 {deadline} 已过 {_days(deadline, recorded)} 天："
                "期间的调解未经全体当事人同意",
                f"the extension was recorded on {recorded}, {_days(deadline, recorded)} day(s) after the limit "
                f"{deadline} had passed: mediation went on meanwhile without every party's consent",
            )
        deadline = extension.new_deadline
        versions.append(extension.originator_version)
    if end is not None:
        event, ended_on = end
        if ended_on > deadline:
            yield breach(
                [*versions, event.originator_version],
                f"调解于 {ended_on} 结束，超过期限 {deadline} {_days(deadline, ended_on)} 天，且无全体当事人同意的延期",
                f"mediation ended on {ended_on}, {_days(deadline, ended_on)} day(s) after the limit {deadline}, "
                "with no extension every party consented to",
            )
    elif case.first(Dispute.Closed) is None and case.as_of > deadline:
        yield breach(
            versions,
            f"截至 {case.as_of} 调解仍未结束，已超过期限 {deadline} {_days(deadline, case.as_of)} 天，"
            "且无全体当事人同意的延期",
            f"as of {case.as_of} mediation has not ended, {_days(deadline, case.as_of)} day(s) past the limit "
            f"{deadline}, with no extension every party consented to",
        )


def _mediation_end(case: CaseHistory) -> tuple[GridAggregate.Event, date] | None:
    """Return the event that ended mediation (refusal, agreement, failure) and the day it ended."""
    for event in case.events:
        if isinstance(event, Dispute.AgreementTookEffect):
            return event, event.effective_on
        if isinstance(event, Dispute.PartyRefused | Dispute.MediationFailed):
            return event, case.day(event)
    return None


@_rule(
    "mediation.extension-needs-all-parties",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="延长调解期限须经全体当事人同意",
    title_en="An extension of the time limit needs every party's consent",
    source="司法部令第75号 Art. 33",
    refused_by_domain=True,
)
def _extension_consent(case: CaseHistory) -> Iterator[Breach]:
    for extension in case.of(Dispute.TimeLimitExtended):
        missing = case.parties - extension.consenting_party_ids
        if missing:
            names = "、".join(sorted(missing))
            yield breach(
                [extension.originator_version],
                f"调解期限延长至 {extension.new_deadline}，但当事人 {names} 未同意",
                f"the time limit was extended to {extension.new_deadline} without the consent of "
                f"{', '.join(sorted(missing))}",
            )


@_rule(
    "mediation.explain-other-routes",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="调解不成的，告知当事人可通过仲裁、行政、司法等途径维权",
    title_en="A failed mediation records the other routes (arbitration, administrative, court) explained",
    source="人民调解法 Art. 26",
    refused_by_domain=True,
)
def _explain_other_routes(case: CaseHistory) -> Iterator[Breach]:
    for failure in case.of(Dispute.MediationFailed):
        if not failure.routes_explained:
            yield breach(
                [failure.originator_version],
                f"{case.day(failure)} 记录调解不成，但未记录向当事人告知的其他维权途径",
                f"mediation was recorded as failed on {case.day(failure)} without the other routes explained",
            )


@_rule(
    "mediation.preventive-steps",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="发现矛盾激化风险的，记录所采取的针对性预防措施",
    title_en="A risk of escalation is recorded with the preventive steps taken",
    source="人民调解法 Art. 25",
    refused_by_domain=True,
)
def _preventive_steps(case: CaseHistory) -> Iterator[Breach]:
    for risk in case.of(Dispute.EscalationRiskFlagged):
        if not any(step.strip() for step in risk.preventive_steps):
            yield breach(
                [risk.originator_version],
                f"{case.day(risk)} 发现{term(risk.level, 'zh')}风险的矛盾激化迹象，但未记录预防措施",
                f"a {risk.level.value} risk of escalation was flagged on {case.day(risk)} with no preventive steps",
            )


@_rule(
    "mediation.report-high-risk",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="可能引发治安案件、刑事案件的纠纷及时报告公安机关",
    title_en="A dispute that may lead to a public-security or criminal case is reported to the police without delay",
    source="人民调解法 Art. 25",
    refused_by_domain=True,
)
def _report_high_risk(case: CaseHistory) -> Iterator[Breach]:
    for risk in case.of(Dispute.EscalationRiskFlagged):
        if risk.level is not RiskLevel.HIGH:
            continue
        flagged = case.day(risk)
        due = flagged + timedelta(days=case.settings.police_report_days)
        version = risk.originator_version
        report = case.first(Dispute.ReportedToPolice, after=version)
        closed = case.first(Dispute.Closed, after=version)
        if report is not None:
            reported = case.day(report)
            if reported > due:
                yield breach(
                    [version, report.originator_version],
                    f"{flagged} 发现高风险，{reported} 才报告公安机关（应于 {due} 前）",
                    f"a high risk flagged on {flagged} was reported to the police only on {reported} (due by {due})",
                )
        elif closed is not None:
            yield breach(
                [version, closed.originator_version],
                f"{flagged} 发现高风险，未报告公安机关即于 {case.day(closed)} 结案",
                f"a high risk flagged on {flagged} was never reported to the police; the case closed on "
                f"{case.day(closed)}",
            )
        elif case.as_of > due:
            yield breach(
                [version],
                f"{flagged} 发现高风险，截至 {case.as_of} 仍未报告公安机关（应于 {due} 前）",
                f"a high risk flagged on {flagged} is still not reported to the police as of {case.as_of} "
                f"(due by {due})",
            )


@_rule(
    "mediation.follow-up-due",
    applies_to=_DISPUTE,
    severity=RuleSeverity.WARNING,
    title_zh="协议履行期届满后及时回访；履行不完全或有激化迹象的再次回访",
    title_en="A follow-up visit once the agreement falls due, and again while it is not fully performed",
    source="人民调解法 Art. 31; practice (回访)",
)
def _follow_up_due(case: CaseHistory) -> Iterator[Breach]:
    took = case.last(Dispute.AgreementTookEffect)
    if took is None:
        return
    draft = case.last(Dispute.AgreementDrafted, before=took.originator_version)
    last_due = draft.agreement.last_due_on if draft is not None else None
    due = max(took.effective_on, last_due or took.effective_on)
    visits = sorted(
        (visit for visit in case.of(Dispute.FollowUpRecorded) if visit.originator_version > took.originator_version),
        key=lambda visit: visit.visited_on,
    )
    closed = case.first(Dispute.Closed, after=took.originator_version)
    if closed is not None and not visits:
        return  # closing without any follow-up: mediation.follow-up-before-closing
    horizon = min(case.as_of, case.day(closed)) if closed is not None else case.as_of
    grace = timedelta(days=case.settings.follow_up_grace_days)
    versions = [took.originator_version]
    while True:
        visit = next((visit for visit in visits if visit.visited_on >= due), None)
        if visit is None:
            if horizon > due + grace:
                yield breach(
                    versions,
                    f"应自 {due} 起回访，截至 {horizon} 未见回访记录（已逾 {_days(due, horizon)} 天）",
                    f"a follow-up visit was due from {due}; none is recorded as of {horizon} "
                    f"({_days(due, horizon)} day(s))",
                )
            return
        versions.append(visit.originator_version)
        if visit.performance is PerformanceStatus.FULLY and not visit.escalation_signs:
            return
        due = visit.visited_on + timedelta(days=case.settings.repeat_follow_up_days)


@_rule(
    "mediation.follow-up-before-closing",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="达成协议的案件经回访后方可结案",
    title_en="A case settled by agreement closes only after a follow-up visit",
    source="人民调解法 Art. 31",
    refused_by_domain=True,
)
def _follow_up_before_closing(case: CaseHistory) -> Iterator[Breach]:
    for closed in case.of(Dispute.Closed):
        took = case.last(Dispute.AgreementTookEffect, before=closed.originator_version)
        if took is None:
            continue
        visits = [
            visit
            for visit in case.of(Dispute.FollowUpRecorded)
            if took.originator_version < visit.originator_version < closed.originator_version
        ]
        if not visits:
            yield breach(
                [took.originator_version, closed.originator_version],
                f"协议于 {took.effective_on} 生效，{case.day(closed)} 结案前未作任何回访",
                f"the agreement took effect on {took.effective_on}; the case closed on {case.day(closed)} "
                "with no follow-up visit",
            )


@_rule(
    "mediation.judicial-confirmation-30-days",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="自调解协议生效之日起三十日内申请司法确认",
    title_en="Judicial confirmation is applied for within 30 days of the agreement taking effect",
    source="人民调解法 Art. 33",
    refused_by_domain=True,
)
def _judicial_30_days(case: CaseHistory) -> Iterator[Breach]:
    for applied in case.of(Dispute.JudicialConfirmationApplied):
        took = case.last(Dispute.AgreementTookEffect, before=applied.originator_version)
        if took is None:
            yield breach(
                [applied.originator_version],
                f"{applied.applied_on} 申请司法确认，但此前没有生效的调解协议",
                f"judicial confirmation was applied for on {applied.applied_on} with no agreement in effect",
            )
            continue
        last_day = took.effective_on + timedelta(days=case.settings.judicial_confirmation_days)
        if applied.applied_on > last_day:
            late = _days(last_day, applied.applied_on)
            yield breach(
                [took.originator_version, applied.originator_version],
                f"协议于 {took.effective_on} 生效，{applied.applied_on} 才申请司法确认，"
                f"超过三十日期限（{last_day}）{late} 天",
                f"the agreement took effect on {took.effective_on}; judicial confirmation was applied for on "
                f"{applied.applied_on}, {late} day(s) after the last day {last_day}",
            )


@_rule(
    "mediation.judicial-confirmation-joint",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="司法确认由双方当事人共同申请",
    title_en="Every party joins the application for judicial confirmation",
    source="人民调解法 Art. 33",
    refused_by_domain=True,
)
def _judicial_joint(case: CaseHistory) -> Iterator[Breach]:
    for applied in case.of(Dispute.JudicialConfirmationApplied):
        missing = case.parties - applied.applicant_party_ids
        if missing:
            yield breach(
                [applied.originator_version],
                f"司法确认申请缺少当事人 {'、'.join(sorted(missing))}",
                f"{', '.join(sorted(missing))} did not join the application for judicial confirmation",
            )


RULES: Final[tuple[Rule, ...]] = tuple(_BOOK.rules)
"""The rules of people's mediation, in the order findings are reported."""
