"""Check a case's recorded history against the rules of mediation and of inspection.

The domain refuses most broken rules before anything is stored, but an audit
cannot rely on that: histories are imported from older systems, written by
older versions of this library, or were made while a rule was not yet
enforced, and some rules are about time passing (a follow-up that never came,
a re-inspection that is overdue) which no command can refuse. So every check
here runs on the **events** alone, never on the domain's guarantees.

:func:`check_case` takes a case's events (oldest first, as
:func:`~grid_events.audit.replay.history` returns them) and the date of the
check, and returns a :class:`RuleFinding` for every breach: which rule (its
id, source and severity), which events (their versions), and a message in
Chinese and English. :data:`RULES` lists every rule; :func:`rules_markdown`
renders them as the table in ``docs/audit.md``. The time limits are parameters
(:class:`RuleSettings`), so a sub-district with other deadlines, or China's
moved working days (调休), can be checked without changing code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, TypeVar

import attrs

from grid_events.audit.timeline import CaseKind, Language, case_kind, check_language, term
from grid_events.domain.base import GridAggregate
from grid_events.domain.calendar import add_months, add_working_days, working_days_between
from grid_events.domain.dispute import Dispute
from grid_events.domain.inspection import Severity
from grid_events.domain.mediation import (
    PARTY_WRITTEN_METHODS,
    AgreementForm,
    PerformanceStatus,
    RiskLevel,
    SignatureMethod,
    local_date,
)
from grid_events.domain.task import CREATOR_ROLES, WORKER_ROLES, Task
from grid_events.domain.values import Role
from grid_events.exceptions import ValidationError

__all__ = [
    "RULES",
    "Rule",
    "RuleFinding",
    "RuleSettings",
    "RuleSeverity",
    "check_case",
    "rule_by_id",
    "rules_for",
    "rules_markdown",
]


class RuleSeverity(enum.StrEnum):
    """How serious a breach is."""

    ERROR = "error"
    """违规: the record breaks a rule of law or of the register; ``audit check`` exits 1."""
    WARNING = "warning"
    """提示: late or incomplete; the office should explain it."""

    def name_in(self, lang: Language) -> str:
        """Return the severity's name in *lang*."""
        names = {RuleSeverity.ERROR: ("违规", "error"), RuleSeverity.WARNING: ("提示", "warning")}
        return names[self][0 if lang == "zh" else 1]


@attrs.frozen
class RuleSettings:
    """The time limits the rules count with, and the calendar of working days.

    The defaults are those of the law and of the fire-supervision procedure.
    *holidays* are weekdays that are not worked, *workdays* weekend days that
    are (调休): pass the State Council's calendar for the year to count
    working days exactly.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    mediation_months: int = 1
    """Mediation ends within this many months of acceptance unless every party agrees (令75号 Art. 33)."""
    police_report_days: int = 1
    """A high risk of escalation is reported to the police by the end of the day after it is flagged."""
    follow_up_grace_days: int = 7
    """Days after a follow-up visit falls due before its absence is a finding."""
    repeat_follow_up_days: int = 30
    """Days after a visit that found the agreement not fully performed (or signs of escalation) until the next."""
    judicial_confirmation_days: int = 30
    """Days after the agreement takes effect within which judicial confirmation is applied for (Art. 33)."""
    notice_working_days: int = 3
    """Working days after a finding (or a failed re-inspection) within which the rectification notice is served."""
    reinspection_working_days: int = 3
    """Working days after the rectification deadline within which the re-inspection follows."""
    severe_report_working_days: int = 1
    """Working days after a severe hazard is found within which it is reported to the fire authority."""

    def add_working_days(self, start: date, days: int) -> date:
        """Return the date *days* working days after *start*."""
        return add_working_days(start, days, holidays=self.holidays, workdays=self.workdays)

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days after *start* up to and including *end*."""
        return working_days_between(start, end, holidays=self.holidays, workdays=self.workdays)


@attrs.frozen
class RuleFinding:
    """A breach of one rule in one case: which rule, which events, and what is wrong."""

    rule_id: str
    severity: RuleSeverity
    source: str
    title_zh: str
    title_en: str
    versions: tuple[int, ...]
    """The versions of the events concerned, in order."""
    message_zh: str
    message_en: str

    def title(self, lang: Language = "zh") -> str:
        """Return the rule's title in *lang*."""
        return self.title_zh if lang == "zh" else self.title_en

    def message(self, lang: Language = "zh") -> str:
        """Return what is wrong, in *lang*."""
        return self.message_zh if lang == "zh" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data with stable keys."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "source": self.source,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "versions": list(self.versions),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@attrs.frozen
class _Breach:
    versions: tuple[int, ...]
    zh: str
    en: str


def _breach(versions: Iterable[int], zh: str, en: str) -> _Breach:
    return _Breach(tuple(sorted(set(versions))), zh, en)


E = TypeVar("E", bound=GridAggregate.Event)


class CaseHistory:
    """The events of one case up to the day of the check, with what the checks ask of them."""

    def __init__(self, events: Sequence[GridAggregate.Event], as_of: date, settings: RuleSettings) -> None:
        self.events = events
        self.as_of = as_of
        self.settings = settings
        self.kind: CaseKind = case_kind(events)
        first = events[0]
        self.parties: frozenset[str] = (
            frozenset(party.party_id for party in first.parties) if isinstance(first, Dispute.Received) else frozenset()
        )

    def of(self, event_class: type[E]) -> list[E]:
        """Return the events of *event_class*, in order."""
        return [event for event in self.events if isinstance(event, event_class)]

    def first(self, event_class: type[E], *, after: int = 0) -> E | None:
        """Return the first event of *event_class* after version *after*, or None."""
        return next(
            (e for e in self.events if isinstance(e, event_class) and e.originator_version > after),
            None,
        )

    def last(self, event_class: type[E], *, before: int | None = None) -> E | None:
        """Return the last event of *event_class* before version *before* (default: of all), or None."""
        found = None
        for event in self.events:
            if before is not None and event.originator_version >= before:
                break
            if isinstance(event, event_class):
                found = event
        return found

    @staticmethod
    def day(event: GridAggregate.Event) -> date:
        """Return the date in China the event was recorded."""
        return local_date(event.timestamp)


Check = Callable[[CaseHistory], Iterable[_Breach]]


@attrs.frozen
class Rule:
    """A rule an audit checks: its id, what it says, where it comes from, how serious a breach is."""

    rule_id: str
    applies_to: frozenset[str]
    """The kinds of case it applies to: ``dispute``, ``inspection``, ``task``."""
    severity: RuleSeverity
    title_zh: str
    title_en: str
    source: str
    """The law article or the practice the rule comes from."""
    refused_by_domain: bool
    """Whether the domain also refuses commands that break it (then it has this id in ``docs/rules.md``)."""
    check: Check = attrs.field(repr=False, eq=False)

    def title(self, lang: Language = "zh") -> str:
        """Return the rule's title in *lang*."""
        return self.title_zh if lang == "zh" else self.title_en

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as JSON-ready data."""
        return {
            "rule_id": self.rule_id,
            "applies_to": sorted(self.applies_to),
            "severity": self.severity.value,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "source": self.source,
            "refused_by_domain": self.refused_by_domain,
        }


_REGISTRY: list[Rule] = []
_DISPUTE = frozenset({"dispute"})
_INSPECTION = frozenset({"inspection"})
_TASKS = frozenset({"task", "inspection"})
_CASES = frozenset({"dispute", "task", "inspection"})


def _rule(
    rule_id: str,
    *,
    applies_to: frozenset[str],
    severity: RuleSeverity,
    title_zh: str,
    title_en: str,
    source: str,
    refused_by_domain: bool = False,
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        _REGISTRY.append(Rule(rule_id, applies_to, severity, title_zh, title_en, source, refused_by_domain, check))
        return check

    return register


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


# -- people's mediation -------------------------------------------------------------------------


@_rule(
    "mediation.agreement-signed-by-all",
    applies_to=_DISPUTE,
    severity=RuleSeverity.ERROR,
    title_zh="生效的调解协议经全体当事人和调解员签署（口头协议经全体当事人同意）",
    title_en="An agreement in effect is signed by every party and the mediator (an oral one consented by every party)",
    source="人民调解法 Art. 29, 30",
)
def _agreement_signed_by_all(case: CaseHistory) -> Iterator[_Breach]:
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
) -> Iterator[_Breach]:
    version = effect.originator_version
    if draft is None:
        yield _breach(
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
    yield _breach(
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
def _time_limit(case: CaseHistory) -> Iterator[_Breach]:
    accepted = case.first(Dispute.Accepted)
    if accepted is None:
        return
    deadline = add_months(accepted.accepted_on, case.settings.mediation_months)
    versions = [accepted.originator_version]
    if accepted.deadline != deadline:
        yield _breach(
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
            yield _breach(
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
            yield _breach(
                [*versions, event.originator_version],
                f"调解于 {ended_on} 结束，超过期限 {deadline} {_days(deadline, ended_on)} 天，且无全体当事人同意的延期",
                f"mediation ended on {ended_on}, {_days(deadline, ended_on)} day(s) after the limit {deadline}, "
                "with no extension every party consented to",
            )
    elif case.first(Dispute.Closed) is None and case.as_of > deadline:
        yield _breach(
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
def _extension_consent(case: CaseHistory) -> Iterator[_Breach]:
    for extension in case.of(Dispute.TimeLimitExtended):
        missing = case.parties - extension.consenting_party_ids
        if missing:
            names = "、".join(sorted(missing))
            yield _breach(
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
def _explain_other_routes(case: CaseHistory) -> Iterator[_Breach]:
    for failure in case.of(Dispute.MediationFailed):
        if not failure.routes_explained:
            yield _breach(
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
def _preventive_steps(case: CaseHistory) -> Iterator[_Breach]:
    for risk in case.of(Dispute.EscalationRiskFlagged):
        if not any(step.strip() for step in risk.preventive_steps):
            yield _breach(
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
def _report_high_risk(case: CaseHistory) -> Iterator[_Breach]:
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
                yield _breach(
                    [version, report.originator_version],
                    f"{flagged} 发现高风险，{reported} 才报告公安机关（应于 {due} 前）",
                    f"a high risk flagged on {flagged} was reported to the police only on {reported} (due by {due})",
                )
        elif closed is not None:
            yield _breach(
                [version, closed.originator_version],
                f"{flagged} 发现高风险，未报告公安机关即于 {case.day(closed)} 结案",
                f"a high risk flagged on {flagged} was never reported to the police; the case closed on "
                f"{case.day(closed)}",
            )
        elif case.as_of > due:
            yield _breach(
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
def _follow_up_due(case: CaseHistory) -> Iterator[_Breach]:
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
                yield _breach(
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
def _follow_up_before_closing(case: CaseHistory) -> Iterator[_Breach]:
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
            yield _breach(
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
def _judicial_30_days(case: CaseHistory) -> Iterator[_Breach]:
    for applied in case.of(Dispute.JudicialConfirmationApplied):
        took = case.last(Dispute.AgreementTookEffect, before=applied.originator_version)
        if took is None:
            yield _breach(
                [applied.originator_version],
                f"{applied.applied_on} 申请司法确认，但此前没有生效的调解协议",
                f"judicial confirmation was applied for on {applied.applied_on} with no agreement in effect",
            )
            continue
        last_day = took.effective_on + timedelta(days=case.settings.judicial_confirmation_days)
        if applied.applied_on > last_day:
            late = _days(last_day, applied.applied_on)
            yield _breach(
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
def _judicial_joint(case: CaseHistory) -> Iterator[_Breach]:
    for applied in case.of(Dispute.JudicialConfirmationApplied):
        missing = case.parties - applied.applicant_party_ids
        if missing:
            yield _breach(
                [applied.originator_version],
                f"司法确认申请缺少当事人 {'、'.join(sorted(missing))}",
                f"{', '.join(sorted(missing))} did not join the application for judicial confirmation",
            )


# -- inspections ------------------------------------------------------------------------------------


@attrs.frozen
class _Trail:
    """One hazard and what was done about it, as recorded."""

    found: Task.FindingRecorded
    orders: tuple[Task.RectificationOrdered, ...]
    reinspections: tuple[Task.Reinspected, ...]
    report: Task.ReportedToAuthority | None

    @property
    def finding_id(self) -> str:
        return self.found.finding.finding_id

    @property
    def found_on(self) -> date:
        return self.found.finding.found_on

    def reinspection_of(self, order: Task.RectificationOrdered) -> Task.Reinspected | None:
        return next((r for r in self.reinspections if r.order_number == order.order_number), None)

    def reported_after(self, version: int) -> bool:
        return self.report is not None and self.report.originator_version > version


def _trails(case: CaseHistory) -> list[_Trail]:
    trails = []
    for found in case.of(Task.FindingRecorded):
        finding_id = found.finding.finding_id
        trails.append(
            _Trail(
                found,
                tuple(order for order in case.of(Task.RectificationOrdered) if order.finding_id == finding_id),
                tuple(r for r in case.of(Task.Reinspected) if r.finding_id == finding_id),
                next((r for r in case.of(Task.ReportedToAuthority) if finding_id in r.finding_ids), None),
            )
        )
    return trails


def _submitted_after(case: CaseHistory, version: int) -> Task.Submitted | None:
    return case.first(Task.Submitted, after=version)


@_rule(
    "inspection.rectification-order",
    applies_to=_INSPECTION,
    severity=RuleSeverity.ERROR,
    title_zh="发现的隐患须送达整改通知书（或报告主管部门）",
    title_en="A hazard found gets a rectification notice (or is reported to the authority)",
    source="fire-supervision procedure (责令限期改正 → 复查)",
)
def _rectification_order(case: CaseHistory) -> Iterator[_Breach]:
    settings = case.settings
    for trail in _trails(case):
        if trail.orders or trail.report is not None:
            continue
        due = settings.add_working_days(trail.found_on, settings.notice_working_days)
        version = trail.found.originator_version
        submitted = _submitted_after(case, version)
        if submitted is not None:
            yield _breach(
                [version, submitted.originator_version],
                f"隐患 {trail.finding_id} 于 {trail.found_on} 发现，未送达整改通知书也未报告主管部门，"
                f"即于 {case.day(submitted)} 提交核查",
                f"hazard {trail.finding_id} found on {trail.found_on} got no rectification notice and was not "
                f"reported, yet the inspection was submitted on {case.day(submitted)}",
            )
        elif case.as_of > due:
            yield _breach(
                [version],
                f"隐患 {trail.finding_id} 于 {trail.found_on} 发现，截至 {case.as_of} 未送达整改通知书"
                f"（应于 {due} 前）",
                f"hazard {trail.finding_id} found on {trail.found_on} has no rectification notice as of "
                f"{case.as_of} (due by {due})",
            )


@_rule(
    "inspection.notice-within-3-working-days",
    applies_to=_INSPECTION,
    severity=RuleSeverity.WARNING,
    title_zh="发现隐患（或复查不合格）后 3 个工作日内送达整改通知书",
    title_en="The rectification notice is served within 3 working days of the finding (or of a failed re-inspection)",
    source="fire-supervision procedure",
)
def _notice_in_time(case: CaseHistory) -> Iterator[_Breach]:
    settings = case.settings
    for trail in _trails(case):
        base, base_version = trail.found_on, trail.found.originator_version
        for order in trail.orders:
            limit = settings.add_working_days(base, settings.notice_working_days)
            served = order.notice_served_on
            if served > limit:
                days = settings.working_days_between(base, served)
                yield _breach(
                    [base_version, order.originator_version],
                    f"隐患 {trail.finding_id} 的第 {order.order_number} 份整改通知书于 {served} 送达，"
                    f"距 {base} 已 {days} 个工作日（应于 {limit} 前）",
                    f"rectification notice {order.order_number} for hazard {trail.finding_id} was served on "
                    f"{served}, {days} working day(s) after {base} (due by {limit})",
                )
            failed = trail.reinspection_of(order)
            if failed is None:
                break
            base, base_version = failed.inspected_on, failed.originator_version


@_rule(
    "inspection.reinspection-missing",
    applies_to=_INSPECTION,
    severity=RuleSeverity.ERROR,
    title_zh="整改期限届满后须复查",
    title_en="A rectification order is followed by a re-inspection",
    source="fire-supervision procedure (复查)",
)
def _reinspection_missing(case: CaseHistory) -> Iterator[_Breach]:
    settings = case.settings
    for trail in _trails(case):
        for order in trail.orders:
            if trail.reinspection_of(order) is not None or trail.reported_after(order.originator_version):
                continue
            limit = settings.add_working_days(order.deadline, settings.reinspection_working_days)
            if case.as_of > limit:
                yield _breach(
                    [order.originator_version],
                    f"隐患 {trail.finding_id} 的整改期限为 {order.deadline}，截至 {case.as_of} 未复查"
                    f"（应于 {limit} 前）",
                    f"hazard {trail.finding_id} was due to be fixed by {order.deadline}; no re-inspection as of "
                    f"{case.as_of} (due by {limit})",
                )


@_rule(
    "inspection.reinspection-within-3-working-days",
    applies_to=_INSPECTION,
    severity=RuleSeverity.WARNING,
    title_zh="整改期限届满后 3 个工作日内复查",
    title_en="The re-inspection follows within 3 working days after the rectification deadline",
    source="fire-supervision procedure",
)
def _reinspection_in_time(case: CaseHistory) -> Iterator[_Breach]:
    settings = case.settings
    for trail in _trails(case):
        for order in trail.orders:
            reinspection = trail.reinspection_of(order)
            if reinspection is None:
                continue
            limit = settings.add_working_days(order.deadline, settings.reinspection_working_days)
            if reinspection.inspected_on > limit:
                days = settings.working_days_between(order.deadline, reinspection.inspected_on)
                yield _breach(
                    [order.originator_version, reinspection.originator_version],
                    f"隐患 {trail.finding_id} 的整改期限为 {order.deadline}，{reinspection.inspected_on} 才复查，"
                    f"已过 {days} 个工作日（应于 {limit} 前）",
                    f"hazard {trail.finding_id} was due to be fixed by {order.deadline} but re-inspected only on "
                    f"{reinspection.inspected_on}, {days} working day(s) later (due by {limit})",
                )


@_rule(
    "inspection.severe-not-reported",
    applies_to=_INSPECTION,
    severity=RuleSeverity.ERROR,
    title_zh="重大火灾隐患及时报告消防救援机构",
    title_en="A severe hazard is reported to the fire authority without delay",
    source="消防法 Art. 53, 54; 浙江省消防条例 Art. 13",
    refused_by_domain=True,
)
def _severe_reported(case: CaseHistory) -> Iterator[_Breach]:
    settings = case.settings
    for trail in _trails(case):
        if trail.found.finding.severity is not Severity.SEVERE:
            continue
        due = settings.add_working_days(trail.found_on, settings.severe_report_working_days)
        version = trail.found.originator_version
        if trail.report is not None:
            if trail.report.reported_on > due:
                yield _breach(
                    [version, trail.report.originator_version],
                    f"重大隐患 {trail.finding_id} 于 {trail.found_on} 发现，{trail.report.reported_on} 才报告"
                    f"{trail.report.authority}（应于 {due} 前）",
                    f"severe hazard {trail.finding_id} found on {trail.found_on} was reported to "
                    f"{trail.report.authority} only on {trail.report.reported_on} (due by {due})",
                )
            continue
        submitted = _submitted_after(case, version)
        if submitted is not None or case.as_of > due:
            when_zh = f"即于 {case.day(submitted)} 提交核查" if submitted else f"截至 {case.as_of}"
            when_en = f"the inspection was submitted on {case.day(submitted)}" if submitted else f"as of {case.as_of}"
            yield _breach(
                [version, *([submitted.originator_version] if submitted else [])],
                f"重大隐患 {trail.finding_id} 于 {trail.found_on} 发现，未报告消防救援机构，{when_zh}",
                f"severe hazard {trail.finding_id} found on {trail.found_on} was not reported to the fire "
                f"authority; {when_en}",
            )


# -- tasks -----------------------------------------------------------------------------------------------


@_rule(
    "task.closed-without-verification",
    applies_to=_TASKS,
    severity=RuleSeverity.ERROR,
    title_zh="任务须经核查后方可结案",
    title_en="A task is closed only after a supervisor verified the work",
    source="practice: the closed loop 反馈 → 核查 → 结案",
)
def _closed_without_verification(case: CaseHistory) -> Iterator[_Breach]:
    verified = False
    for event in case.events:
        if isinstance(event, Task.Verified):
            verified = True
        elif isinstance(event, Task.Submitted | Task.SentBack | Task.Reopened):
            verified = False
        elif isinstance(event, Task.Closed):
            if not verified:
                yield _breach(
                    [event.originator_version],
                    f"任务于 {case.day(event)} 结案，但最近一次反馈之后没有核查记录",
                    f"the task was closed on {case.day(event)} with no verification since the work was last submitted",
                )
            verified = False


@_rule(
    "task.four-eyes",
    applies_to=_TASKS,
    severity=RuleSeverity.ERROR,
    title_zh="核查或退回任务的人不是任务承办人",
    title_en="Whoever verifies or sends back a task is not its assignee",
    source="practice: four eyes (双人把关)",
    refused_by_domain=True,
)
def _four_eyes(case: CaseHistory) -> Iterator[_Breach]:
    assignee: str | None = None
    for event in case.events:
        if isinstance(event, Task.Assigned | Task.Reassigned):
            assignee = event.assignee
        elif isinstance(event, Task.Verified | Task.SentBack) and event.actor.worker_id == assignee:
            what_zh, what_en = ("核查", "verified") if isinstance(event, Task.Verified) else ("退回", "sent back")
            yield _breach(
                [event.originator_version],
                f"任务由承办人 {assignee} 本人{what_zh}",
                f"the task was {what_en} by its own assignee {assignee}",
            )


# -- every case -------------------------------------------------------------------------------------------

_SUPERVISOR = frozenset({Role.SUPERVISOR})
_SUPERVISOR_OR_SYSTEM = frozenset({Role.SUPERVISOR, Role.SYSTEM})
_RECEIVERS = frozenset({Role.SUPERVISOR, Role.MEDIATOR})

WHO_MAY_RECORD: Final[dict[type[GridAggregate.Event], tuple[frozenset[Role], bool]]] = {}
"""Per event class: the roles that may record it, and whether a mediator or worker must be the assigned one."""


def _may(roles: Iterable[Role], *event_classes: type[GridAggregate.Event], assigned: bool = False) -> None:
    for event_class in event_classes:
        WHO_MAY_RECORD[event_class] = (frozenset(roles), assigned)


_may(_RECEIVERS, Dispute.Received, Dispute.Accepted, Dispute.Declined)
_may(_SUPERVISOR, Dispute.MediatorAssigned, Dispute.Closed)
_may(
    _RECEIVERS,
    Dispute.EscalationRiskFlagged,
    Dispute.ReportedToPolice,
    Dispute.JudicialConfirmationApplied,
    Dispute.JudicialConfirmationDecided,
    assigned=True,
)
_may(
    {Role.MEDIATOR},
    Dispute.InvestigationNoted,
    Dispute.SessionRecorded,
    Dispute.TimeLimitExtended,
    Dispute.PartyRefused,
    Dispute.AgreementDrafted,
    Dispute.AgreementSigned,
    Dispute.AgreementTookEffect,
    Dispute.MediationFailed,
    Dispute.PerformanceRecorded,
    Dispute.FollowUpRecorded,
    assigned=True,
)
_may(CREATOR_ROLES, Task.Created)
_may(
    _SUPERVISOR,
    Task.Assigned,
    Task.Reassigned,
    Task.Rescheduled,
    Task.Verified,
    Task.SentBack,
    Task.Closed,
    Task.Cancelled,
)
_may(_SUPERVISOR_OR_SYSTEM, Task.Evaluated, Task.Escalated, Task.Reopened)
_may(
    WORKER_ROLES,
    Task.Accepted,
    Task.Started,
    Task.ProgressRecorded,
    Task.CallRecorded,
    Task.Submitted,
    Task.ItemChecked,
    Task.FindingRecorded,
    Task.RectificationOrdered,
    Task.OwnerReported,
    Task.Reinspected,
    Task.ReportedToAuthority,
    assigned=True,
)


@_rule(
    "record.actor-role",
    applies_to=_CASES,
    severity=RuleSeverity.ERROR,
    title_zh="每一步由有权的人以相应角色记录（调解由指定调解员记录，任务由承办人办理）",
    title_en="Each step is recorded by someone with the right, in the right role (the assigned mediator, the assignee)",
    source="人民调解法 Art. 19–22; practice (the roles in docs/rules.md)",
)
def _actor_role(case: CaseHistory) -> Iterator[_Breach]:
    holder: str | None = None  # the assigned mediator, or the task's assignee
    for event in case.events:
        if isinstance(event, Dispute.MediatorAssigned):
            holder_next: str | None = event.mediator_id
        elif isinstance(event, Task.Assigned | Task.Reassigned):
            holder_next = event.assignee
        else:
            holder_next = holder
        rights = WHO_MAY_RECORD.get(type(event))
        if rights is not None:
            yield from _check_actor(event, rights, holder)
        holder = holder_next


def _check_actor(
    event: GridAggregate.Event, rights: tuple[frozenset[Role], bool], holder: str | None
) -> Iterator[_Breach]:
    roles, assigned = rights
    actor = event.actor
    version = event.originator_version
    step = type(event).__qualname__
    if actor.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        yield _breach(
            [version],
            f"第 {version} 版（{step}）由 {actor.worker_id} 以 {actor.role.value} 角色记录，无权记录此步骤"
            f"（有权角色：{allowed}）",
            f"version {version} ({step}) was recorded by {actor.worker_id} as {actor.role.value}, a role without "
            f"the right (allowed: {allowed})",
        )
        return
    must_hold = assigned and (actor.role is Role.MEDIATOR or isinstance(event, Task.Event))
    if must_hold and actor.worker_id != holder:
        who_zh = "指定调解员" if isinstance(event, Dispute.Event) else "承办人"
        who_en = "assigned mediator" if isinstance(event, Dispute.Event) else "assignee"
        yield _breach(
            [version],
            f"第 {version} 版（{step}）由 {actor.worker_id} 记录，但{who_zh}是 {holder or '（无）'}",
            f"version {version} ({step}) was recorded by {actor.worker_id}, not the {who_en} ({holder or 'none'})",
        )


@_rule(
    "record.time-order",
    applies_to=_CASES,
    severity=RuleSeverity.WARNING,
    title_zh="事件按记录时间先后排列（否则无法准确还原某一时刻的状态）",
    title_en="Events are recorded in time order (otherwise the case cannot be replayed as of a moment)",
    source="audit integrity: replay as of a moment",
)
def _time_order(case: CaseHistory) -> Iterator[_Breach]:
    for previous, event in zip(case.events, case.events[1:], strict=False):
        if event.timestamp < previous.timestamp:
            yield _breach(
                [previous.originator_version, event.originator_version],
                f"第 {event.originator_version} 版的记录时间早于第 {previous.originator_version} 版",
                f"version {event.originator_version} is recorded earlier than version {previous.originator_version}",
            )


RULES: Final[tuple[Rule, ...]] = tuple(_REGISTRY)
"""Every rule an audit checks, in the order findings are reported."""


def rule_by_id(rule_id: str) -> Rule:
    """Return the rule *rule_id*; raise :class:`ValidationError` if there is none."""
    for rule in RULES:
        if rule.rule_id == rule_id:
            return rule
    raise ValidationError("rule_id", f"no audit rule {rule_id!r}")


def rules_for(kind: str) -> tuple[Rule, ...]:
    """Return the rules that apply to a case of *kind* (``dispute``, ``inspection``, ``task``…)."""
    return tuple(rule for rule in RULES if kind in rule.applies_to)


def check_case(
    events: Iterable[GridAggregate.Event],
    as_of: date | None = None,
    *,
    settings: RuleSettings | None = None,
) -> list[RuleFinding]:
    """Check a case's history against every rule that applies to it, as it stood on *as_of*.

    *events* are the case's events, oldest first. Only those recorded on or
    before *as_of* (a date in China; default today) count: the findings are
    those an auditor would have made that day. Returns the findings ordered by
    the first event concerned, then by rule; none for residents and site
    shifts, which no rule here covers.
    """
    day = as_of if as_of is not None else local_date(datetime.now(UTC))
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError("as_of", f"must be a date, not {day!r}")
    recorded = [event for event in events if local_date(event.timestamp) <= day]
    if not recorded:
        return []
    case = CaseHistory(recorded, day, settings or RuleSettings())
    findings: list[tuple[int, int, RuleFinding]] = []
    for order, rule in enumerate(RULES):
        if case.kind not in rule.applies_to:
            continue
        for breach in rule.check(case):
            finding = RuleFinding(
                rule_id=rule.rule_id,
                severity=rule.severity,
                source=rule.source,
                title_zh=rule.title_zh,
                title_en=rule.title_en,
                versions=breach.versions,
                message_zh=breach.zh,
                message_en=breach.en,
            )
            findings.append((breach.versions[0] if breach.versions else 0, order, finding))
    findings.sort(key=lambda item: (item[0], item[1]))
    return [finding for _, _, finding in findings]


def rules_markdown(lang: Language = "en") -> str:
    """Return the table of every rule, in Markdown (the one in ``docs/audit.md``)."""
    lang = check_language(lang)
    if lang == "zh":
        lines = ["| 规则 | 内容 | 依据 | 严重程度 | 适用 |", "| --- | --- | --- | --- | --- |"]
    else:
        lines = ["| rule | what | source | severity | checked on |", "| --- | --- | --- | --- | --- |"]
    for rule in RULES:
        kinds = ", ".join(sorted(rule.applies_to))
        lines.append(
            f"| `{rule.rule_id}` | {rule.title(lang)} | {rule.source} | {rule.severity.name_in(lang)} | {kinds} |"
        )
    return "\n".join(lines) + "\n"
