"""Inspections: checklists, findings, and following each hazard until it is dealt with.

An inspection is a :class:`~grid_events.domain.task.Task` (a fire-safety
inspection or a "one scan, three checks" visit) whose checklist is copied from a
:class:`ChecklistTemplate`. Each checklist item is checked as passed, failed or
not applicable; each failed item leads to a :class:`Finding` (a hazard, with
its severity, location and evidence). A finding is then followed in its
:class:`FindingRecord`: a rectification order (整改通知: notice served, deadline),
the owner's report that it is fixed, a re-inspection (复查) that passes or
fails — after a failure, a new order — or a report to the authority.

Community workers check and report; enforcement (ordering a venue closed,
fines) belongs to the fire authority and the police (消防法 Art. 32, 53, 54;
浙江省消防条例 Art. 9, 13). So an inspection is complete when every finding
is either rectified (a re-inspection passed) or reported to the authority.

The fire-supervision timeliness rules (a deadline notice within 3 working days
of the finding; the re-inspection within 3 working days after the deadline) are
not enforced here — real inspections are sometimes late — but every date they
need is recorded (``found_on``, ``notice_served_on``, ``deadline``,
``inspected_on``) so the audit can check them with
:mod:`grid_events.domain.calendar`.

Everything here is an immutable value: :class:`Inspection` methods named
``with_…`` return a changed copy (the task's events apply them), methods named
``check_…`` raise before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import attrs

from grid_events.domain.checklists import (
    SMALL_VENUE_FIRE_SAFETY,
    VENUE_SCAN_CHECK,
    ChecklistItem,
    ChecklistTemplate,
    ItemCheck,
    ItemResult,
    check_code,
)
from grid_events.domain.checklists import VALUE_TYPES as CHECKLIST_VALUE_TYPES
from grid_events.domain.checks import (
    check_date,
    check_instance,
    check_text,
    check_tuple_of,
    check_unique,
    text_validator,
    tuple_validator,
)
from grid_events.domain.findings import VALUE_TYPES as FINDING_VALUE_TYPES
from grid_events.domain.findings import (
    AuthorityReport,
    Finding,
    FindingRecord,
    FindingStatus,
    OwnerReport,
    RectificationOrder,
    Reinspection,
    Severity,
)
from grid_events.domain.values import EvidenceRef
from grid_events.domain.work_text import check_work_text
from grid_events.exceptions import RuleViolationError, ValidationError

__all__ = [
    "SMALL_VENUE_FIRE_SAFETY",
    "VENUE_SCAN_CHECK",
    "AuthorityReport",
    "ChecklistItem",
    "ChecklistTemplate",
    "Finding",
    "FindingRecord",
    "FindingStatus",
    "Inspection",
    "ItemCheck",
    "ItemResult",
    "OwnerReport",
    "RectificationOrder",
    "Reinspection",
    "Severity",
    "check_code",
    "check_work_text",
]


def _unique_check_codes(_: object, attribute: attrs.Attribute[Any], value: tuple[ItemCheck, ...]) -> None:
    check_unique(attribute.name, (check.item.code for check in value))


@attrs.frozen
class Inspection:
    """The checklist and findings of an inspection task."""

    template_name: str = attrs.field(validator=text_validator(100))
    checks: tuple[ItemCheck, ...] = attrs.field(
        validator=[tuple_validator(ItemCheck, min_length=1), _unique_check_codes]
    )
    findings: tuple[FindingRecord, ...] = attrs.field(default=(), validator=tuple_validator(FindingRecord))

    @classmethod
    def from_checklist(cls, template_name: str, items: tuple[ChecklistItem, ...]) -> Inspection:
        """Return a new inspection of *items*, none checked yet."""
        return cls(template_name, tuple(ItemCheck(item) for item in items))

    # -- queries ----------------------------------------------------------------------

    def check_of(self, code: str) -> ItemCheck | None:
        """Return the check of item *code*, or ``None`` if the checklist has no such item."""
        return next((check for check in self.checks if check.item.code == code), None)

    def record_of(self, finding_id: str) -> FindingRecord:
        """Return the record of *finding_id*, or raise :class:`ValidationError` naming ``finding_id``."""
        check_text("finding_id", finding_id, max_length=16)
        for record in self.findings:
            if record.finding_id == finding_id:
                return record
        known = ", ".join(record.finding_id for record in self.findings) or "none yet"
        raise ValidationError("finding_id", f"no finding {finding_id!r} in this inspection (findings: {known})")

    @property
    def next_finding_id(self) -> str:
        """The id the next finding gets."""
        return f"F{len(self.findings) + 1}"

    @property
    def unchecked_codes(self) -> tuple[str, ...]:
        """Codes of the items not checked yet."""
        return tuple(check.item.code for check in self.checks if check.result is None)

    @property
    def failed_codes_without_finding(self) -> tuple[str, ...]:
        """Codes of failed items that no finding describes."""
        described = {record.finding.item_code for record in self.findings}
        return tuple(
            check.item.code
            for check in self.checks
            if check.result is ItemResult.FAIL and check.item.code not in described
        )

    @property
    def unresolved(self) -> tuple[FindingRecord, ...]:
        """Findings neither rectified nor reported to the authority."""
        return tuple(record for record in self.findings if not record.is_resolved)

    @property
    def severe_unreported(self) -> tuple[FindingRecord, ...]:
        """Severe findings not reported to the authority."""
        return tuple(
            record for record in self.findings if record.finding.severity is Severity.SEVERE and not record.is_reported
        )

    # -- checks made before an event is recorded ---------------------------------------------

    def check_item_change(self, code: str, result: ItemResult, note: str) -> None:
        """Raise unless item *code* may be checked as *result* with *note*."""
        check_code("code", code)
        check = self.check_of(code)
        if check is None:
            codes = ", ".join(c.item.code for c in self.checks)
            raise ValidationError("code", f"the checklist has no item {code!r} (items: {codes})")
        check_instance("result", result, ItemResult)
        check_work_text("note", note, max_length=500, optional=True)
        if result is ItemResult.NOT_APPLICABLE and not note.strip():
            raise ValidationError("note", "say why the item does not apply to this place")
        findings = [record.finding_id for record in self.findings if record.finding.item_code == code]
        if findings and result is not ItemResult.FAIL:
            raise RuleViolationError(
                "inspection.item-has-findings",
                f"item {code!r} has finding(s) {', '.join(findings)}: it stays failed; "
                "follow the findings up with re-inspections instead",
            )

    def new_finding(
        self,
        item_code: str | None,
        description: str,
        *,
        severity: Severity,
        location: str,
        found_on: date,
        evidence: tuple[EvidenceRef, ...],
    ) -> Finding:
        """Return the next finding, or raise if it may not be recorded."""
        if item_code is not None:
            check_code("item_code", item_code)
            check = self.check_of(item_code)
            if check is None:
                raise ValidationError("item_code", f"the checklist has no item {item_code!r}")
            if check.result is not ItemResult.FAIL:
                state = "not checked yet" if check.result is None else f"checked as {check.result.value!r}"
                raise RuleViolationError(
                    "inspection.finding-on-failed-item",
                    f"item {item_code!r} is {state}: check it as failed before recording a finding on it",
                )
        check_work_text("description", description, max_length=1000)
        check_instance("severity", severity, Severity)
        check_work_text("location", location, max_length=200)
        check_date("found_on", found_on)
        check_tuple_of("evidence", evidence, EvidenceRef, min_length=1)
        return Finding(self.next_finding_id, item_code, description, severity, location, evidence, found_on)

    def check_order(self, finding_id: str, deadline: date, notice_served_on: date) -> RectificationOrder:
        """Return the next rectification order of *finding_id*, or raise if it may not be served."""
        record = self._unresolved_record(finding_id, "order its rectification")
        check_date("deadline", deadline)
        check_date("notice_served_on", notice_served_on)
        order = record.current_order
        if order is not None:
            reinspection = record.current_reinspection
            if reinspection is None:
                raise RuleViolationError(
                    "inspection.order-pending",
                    f"{finding_id} already has order {order.number} due {order.deadline.isoformat()}: "
                    "re-inspect it first (a new order follows only a failed re-inspection)",
                )
            if notice_served_on < reinspection.inspected_on:
                raise ValidationError(
                    "notice_served_on",
                    f"{notice_served_on.isoformat()} is before the failed re-inspection on "
                    f"{reinspection.inspected_on.isoformat()}",
                )
        if notice_served_on < record.finding.found_on:
            raise ValidationError(
                "notice_served_on",
                f"{notice_served_on.isoformat()} is before the hazard was found on "
                f"{record.finding.found_on.isoformat()}",
            )
        if deadline <= notice_served_on:
            raise ValidationError(
                "deadline", f"{deadline.isoformat()} is not after the notice served on {notice_served_on.isoformat()}"
            )
        return RectificationOrder(len(record.orders) + 1, notice_served_on, deadline)

    def check_owner_report(
        self, finding_id: str, reported_on: date, note: str, evidence: tuple[EvidenceRef, ...]
    ) -> OwnerReport:
        """Return the owner's report on *finding_id*, or raise if it may not be recorded."""
        record = self._unresolved_record(finding_id, "record the owner's report")
        order = self._pending_order(record, "the owner's report")
        check_date("reported_on", reported_on)
        check_work_text("note", note, max_length=1000, optional=True)
        check_tuple_of("evidence", evidence, EvidenceRef)
        if reported_on < order.notice_served_on:
            raise ValidationError(
                "reported_on",
                f"{reported_on.isoformat()} is before the notice was served on {order.notice_served_on.isoformat()}",
            )
        return OwnerReport(order.number, reported_on, note, evidence)

    def check_reinspection(
        self, finding_id: str, inspected_on: date, passed: bool, note: str, evidence: tuple[EvidenceRef, ...]
    ) -> Reinspection:
        """Return the re-inspection of *finding_id*, or raise if it may not be recorded."""
        record = self._unresolved_record(finding_id, "re-inspect it")
        order = self._pending_order(record, "a re-inspection")
        check_date("inspected_on", inspected_on)
        check_instance("passed", passed, bool)
        check_work_text("note", note, max_length=1000, optional=True)
        check_tuple_of("evidence", evidence, EvidenceRef, min_length=1 if passed else 0)
        if inspected_on < order.notice_served_on:
            raise ValidationError(
                "inspected_on",
                f"{inspected_on.isoformat()} is before the notice was served on {order.notice_served_on.isoformat()}",
            )
        return Reinspection(order.number, inspected_on, passed, note, evidence)

    def check_authority_report(
        self, finding_ids: tuple[str, ...], authority: str, reason: str, reported_on: date
    ) -> AuthorityReport:
        """Return the report of *finding_ids* to *authority*, or raise if it may not be recorded.

        A rectified hazard may still be reported (a severe one must be, see
        :meth:`check_complete`); one already reported may not be reported again.
        """
        check_tuple_of("finding_ids", finding_ids, str, min_length=1)
        check_unique("finding_ids", finding_ids)
        check_text("authority", authority, max_length=100)
        check_work_text("reason", reason, max_length=1000)
        check_date("reported_on", reported_on)
        for finding_id in finding_ids:
            record = self.record_of(finding_id)
            if record.authority_report is not None:
                raise RuleViolationError(
                    "inspection.already-reported",
                    f"{finding_id} was already reported to {record.authority_report.authority} "
                    f"on {record.authority_report.reported_on.isoformat()}",
                )
            if reported_on < record.finding.found_on:
                raise ValidationError(
                    "reported_on",
                    f"{reported_on.isoformat()} is before {finding_id} was found on "
                    f"{record.finding.found_on.isoformat()}",
                )
        return AuthorityReport(authority, reason, reported_on)

    def check_complete(self) -> None:
        """Raise :class:`RuleViolationError` naming what is missing unless the inspection may be submitted."""
        if self.unchecked_codes:
            raise RuleViolationError(
                "inspection.unchecked-items", f"items not checked yet: {', '.join(self.unchecked_codes)}"
            )
        if self.failed_codes_without_finding:
            raise RuleViolationError(
                "inspection.failed-item-without-finding",
                f"failed items without a finding: {', '.join(self.failed_codes_without_finding)}",
            )
        if self.severe_unreported:
            ids = ", ".join(record.finding_id for record in self.severe_unreported)
            raise RuleViolationError(
                "inspection.severe-not-reported", f"severe hazards not reported to the fire authority: {ids}"
            )
        if self.unresolved:
            raise RuleViolationError(
                "inspection.unresolved-findings",
                "findings neither rectified nor reported to the authority: "
                + "; ".join(record.missing() for record in self.unresolved),
            )

    def _unresolved_record(self, finding_id: str, action: str) -> FindingRecord:
        record = self.record_of(finding_id)
        if record.is_rectified:
            raise RuleViolationError(
                "inspection.finding-resolved", f"{finding_id} was rectified (a re-inspection passed): cannot {action}"
            )
        if record.authority_report is not None:
            raise RuleViolationError(
                "inspection.finding-resolved",
                f"{finding_id} was reported to {record.authority_report.authority}, which takes it from here: "
                f"cannot {action}",
            )
        return record

    @staticmethod
    def _pending_order(record: FindingRecord, what: str) -> RectificationOrder:
        order = record.current_order
        if order is None:
            raise RuleViolationError(
                "inspection.order-first", f"{record.finding_id} has no rectification order: serve one before {what}"
            )
        if record.current_reinspection is not None:
            raise RuleViolationError(
                "inspection.order-first",
                f"order {order.number} of {record.finding_id} failed its re-inspection: "
                f"serve a new order before {what}",
            )
        return order

    # -- changes (applied by the task's events) --------------------------------------------

    def with_item_checked(self, code: str, result: ItemResult, note: str) -> Inspection:
        """Return a copy with item *code* checked as *result*."""
        checks = tuple(
            attrs.evolve(check, result=result, note=note) if check.item.code == code else check for check in self.checks
        )
        return attrs.evolve(self, checks=checks)

    def with_finding(self, finding: Finding) -> Inspection:
        """Return a copy with *finding* added."""
        return attrs.evolve(self, findings=(*self.findings, FindingRecord(finding)))

    def with_order(self, finding_id: str, order: RectificationOrder) -> Inspection:
        """Return a copy where *finding_id* has *order*."""
        return self._evolve_records((finding_id,), lambda r: attrs.evolve(r, orders=(*r.orders, order)))

    def with_owner_report(self, finding_id: str, report: OwnerReport) -> Inspection:
        """Return a copy where *finding_id* has the owner's *report*."""
        return self._evolve_records((finding_id,), lambda r: attrs.evolve(r, owner_reports=(*r.owner_reports, report)))

    def with_reinspection(self, finding_id: str, reinspection: Reinspection) -> Inspection:
        """Return a copy where *finding_id* has *reinspection*."""
        return self._evolve_records(
            (finding_id,), lambda r: attrs.evolve(r, reinspections=(*r.reinspections, reinspection))
        )

    def with_authority_report(self, finding_ids: Iterable[str], report: AuthorityReport) -> Inspection:
        """Return a copy where each of *finding_ids* was reported as *report*."""
        return self._evolve_records(tuple(finding_ids), lambda r: attrs.evolve(r, authority_report=report))

    def _evolve_records(
        self, finding_ids: tuple[str, ...], change: Callable[[FindingRecord], FindingRecord]
    ) -> Inspection:
        findings = tuple(change(record) if record.finding_id in finding_ids else record for record in self.findings)
        return attrs.evolve(self, findings=findings)


VALUE_TYPES: tuple[type, ...] = (*CHECKLIST_VALUE_TYPES, *FINDING_VALUE_TYPES, Inspection)
"""The types of an inspection the codec must know (the checklists' and the findings' ones, then :class:`Inspection`)."""
