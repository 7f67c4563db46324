"""The rules of fire-safety inspections: each hazard found is noticed, re-inspected or reported in time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

import attrs

from grid_events.audit.rules.core import Breach, CaseHistory, Rule, RuleBook, RuleSeverity, breach
from grid_events.domain.inspection import Severity
from grid_events.domain.task import Task

__all__ = ["RULES"]

_BOOK = RuleBook()
_rule = _BOOK.rule
_INSPECTION = frozenset({"inspection"})


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
def _rectification_order(case: CaseHistory) -> Iterator[Breach]:
    settings = case.settings
    for trail in _trails(case):
        if trail.orders or trail.report is not None:
            continue
        due = settings.add_working_days(trail.found_on, settings.notice_working_days)
        version = trail.found.originator_version
        submitted = _submitted_after(case, version)
        if submitted is not None:
            yield breach(
                [version, submitted.originator_version],
                f"隐患 {trail.finding_id} 于 {trail.found_on} 发现，未送达整改通知书也未报告主管部门，"
                f"即于 {case.day(submitted)} 提交核查",
                f"hazard {trail.finding_id} found on {trail.found_on} got no rectification notice and was not "
                f"reported, yet the inspection was submitted on {case.day(submitted)}",
            )
        elif case.as_of > due:
            yield breach(
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
def _notice_in_time(case: CaseHistory) -> Iterator[Breach]:
    settings = case.settings
    for trail in _trails(case):
        base, base_version = trail.found_on, trail.found.originator_version
        for order in trail.orders:
            limit = settings.add_working_days(base, settings.notice_working_days)
            served = order.notice_served_on
            if served > limit:
                days = settings.working_days_between(base, served)
                yield breach(
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
def _reinspection_missing(case: CaseHistory) -> Iterator[Breach]:
    settings = case.settings
    for trail in _trails(case):
        for order in trail.orders:
            if trail.reinspection_of(order) is not None or trail.reported_after(order.originator_version):
                continue
            limit = settings.add_working_days(order.deadline, settings.reinspection_working_days)
            if case.as_of > limit:
                yield breach(
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
def _reinspection_in_time(case: CaseHistory) -> Iterator[Breach]:
    settings = case.settings
    for trail in _trails(case):
        for order in trail.orders:
            reinspection = trail.reinspection_of(order)
            if reinspection is None:
                continue
            limit = settings.add_working_days(order.deadline, settings.reinspection_working_days)
            if reinspection.inspected_on > limit:
                days = settings.working_days_between(order.deadline, reinspection.inspected_on)
                yield breach(
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
def _severe_reported(case: CaseHistory) -> Iterator[Breach]:
    settings = case.settings
    for trail in _trails(case):
        if trail.found.finding.severity is not Severity.SEVERE:
            continue
        due = settings.add_working_days(trail.found_on, settings.severe_report_working_days)
        version = trail.found.originator_version
        if trail.report is not None:
            if trail.report.reported_on > due:
                yield breach(
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
            yield breach(
                [version, *([submitted.originator_version] if submitted else [])],
                f"重大隐患 {trail.finding_id} 于 {trail.found_on} 发现，未报告消防救援机构，{when_zh}",
                f"severe hazard {trail.finding_id} found on {trail.found_on} was not reported to the fire "
                f"authority; {when_en}",
            )


RULES: Final[tuple[Rule, ...]] = tuple(_BOOK.rules)
"""The rules of inspections, in the order findings are reported."""
