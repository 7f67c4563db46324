"""An aggregate as it stood at some moment, in the words of the timeline (personal data stays sealed).

:func:`describe_state` renders any of the four aggregates (as
:func:`~grid_events.audit.replay.replay` returns it) as labelled values;
:func:`value_text` renders any value of the domain.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, cast

import attrs

from grid_events.audit.timeline.disputes import agreement_term_text, party_text
from grid_events.audit.timeline.vocabulary import FIELD_LABELS, Language, check_language, evidence_text
from grid_events.audit.timeline.words import CaseContext, Sealed, Words
from grid_events.domain.base import GridAggregate
from grid_events.domain.inspection import (
    AuthorityReport,
    FindingRecord,
    Inspection,
    ItemCheck,
    OwnerReport,
    RectificationOrder,
    Reinspection,
)
from grid_events.domain.mediation import (
    Agreement,
    AgreementSignature,
    EscalationRisk,
    FollowUpVisit,
    InvestigationNote,
    JudicialConfirmation,
    MediationSession,
    Party,
    PoliceReport,
    TermPerformance,
    TimeLimitExtension,
)
from grid_events.domain.site_shift import Batch, BatchRecord, Site, SitePresence
from grid_events.domain.task import CallTally, ProgressNote
from grid_events.domain.values import Actor, EvidenceRef, GridCell, Place, SealedData

__all__ = ["describe_state", "value_text"]

_SEALED_FIELDS: Mapping[str, Sealed] = {"personal": Sealed.RESIDENT}


def value_text(value: object, w: Words, hint: Sealed = Sealed.OTHER) -> str:  # noqa: C901, PLR0911, PLR0912 (one branch a kind of value)
    """Return any value of the domain in words, sealed values as placeholders."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return w("是", "yes") if value else w("否", "no")
    if isinstance(value, enum.Enum):
        return w.term(value)
    if isinstance(value, datetime):
        return w.moment(value)
    if isinstance(value, date):
        return w.day(value)
    if isinstance(value, SealedData):
        return w.sealed(hint)  # never opened: only that it is there
    if isinstance(value, Actor):
        return f"{value.worker_id}（{w.term(value.role)}）" if w.zh else f"{value.worker_id} ({w.term(value.role)})"
    if isinstance(value, GridCell):
        return value.code
    if isinstance(value, Place):
        return w.place(value)
    if isinstance(value, EvidenceRef):
        return evidence_text(value, w.lang)
    special = _SPECIAL_VALUES.get(type(value))
    if special is not None:
        return special(value, w)
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [value_text(item, w, hint) for item in value]
        if isinstance(value, (frozenset, set)):
            items.sort()
        return w.join(items)
    if isinstance(value, dict):
        return w.join(f"{key}: {value_text(item, w, hint)}" for key, item in sorted(value.items()))
    if attrs.has(type(value)):
        fields = attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))
        return w.join(f"{field.name}={value_text(getattr(value, field.name), w, hint)}" for field in fields)
    return str(value)


def _inspection_text(value: Inspection, w: Words) -> str:
    checks = w.join(_check_text(check, w) for check in value.checks)
    findings = w.join(_finding_record_text(record, w) for record in value.findings)
    return w(
        f"{value.template_name}：{checks}；隐患：{findings}", f"{value.template_name}: {checks}; hazards: {findings}"
    )


def _check_text(check: ItemCheck, w: Words) -> str:
    result = w.term(check.result) if check.result is not None else w("未检查", "not checked")
    return f"{check.item.code} {result}"


def _finding_record_text(record: FindingRecord, w: Words) -> str:
    f = record.finding
    order = record.current_order
    deadline = w(f"，整改期限 {w.day(order.deadline)}", f", due {w.day(order.deadline)}") if order else ""
    return (
        f"{f.finding_id}（{w.term(f.severity)}，{w.term(record.status)}{deadline}）"
        if w.zh
        else (f"{f.finding_id} ({w.term(f.severity)}, {w.term(record.status)}{deadline})")
    )


def _party_text(value: Party, w: Words) -> str:
    return party_text(value, w)


def _session_text(value: MediationSession, w: Words) -> str:
    sealed = w.join(f"{statement.party_id} {w.sealed(Sealed.STATEMENT)}" for statement in value.statements)
    return w(
        f"{w.moment(value.held_at)} {value.place}（{w.join(value.attendees)}；陈述 {sealed}）",
        f"{w.moment(value.held_at)} {value.place} ({w.join(value.attendees)}; statements {sealed})",
    )


def _agreement_text(value: Agreement, w: Words) -> str:
    terms = " ".join(agreement_term_text(index, term_, w) for index, term_ in enumerate(value.terms, 1))
    return f"{w.term(value.form)}：{terms}" if w.zh else f"{w.term(value.form)}: {terms}"


def _investigation_text(value: InvestigationNote, w: Words) -> str:
    return f"{w.day(value.noted_on)} {w.sealed(Sealed.INVESTIGATION)}"


def _signature_text(value: AgreementSignature, w: Words) -> str:
    return f"{w.signer(value.signer_id)} {w.term(value.method)} {w.day(value.signed_on)}"


def _extension_text(value: TimeLimitExtension, w: Words) -> str:
    consenting = w.join(sorted(value.consenting_party_ids))
    return f"{w.day(value.previous_deadline)} → {w.day(value.new_deadline)}（{consenting}）"


def _risk_text(value: EscalationRisk, w: Words) -> str:
    return f"{w.day(value.flagged_on)} {w.term(value.level)}: {value.description}"


def _police_text(value: PoliceReport, w: Words) -> str:
    return f"{w.day(value.reported_on)} {value.station}"


def _performance_text(value: TermPerformance, w: Words) -> str:
    done = w.yes_no(value.performed, ("已履行", "未履行"), ("performed", "not performed"))
    return f"{value.term_index + 1}: {done}（{w.day(value.recorded_on)}）"


def _visit_text(value: FollowUpVisit, w: Words) -> str:
    return f"{w.day(value.visited_on)} {w.term(value.performance)}"


def _judicial_text(value: JudicialConfirmation, w: Words) -> str:
    if value.confirmed is None:
        outcome = w("待法院决定", "awaiting the court")
    else:
        outcome = w.yes_no(value.confirmed, ("已确认", "不予确认"), ("confirmed", "not confirmed"))
    return (
        f"{value.court} {w.day(value.applied_on)}：{outcome}"
        if w.zh
        else f"{value.court} {w.day(value.applied_on)}: {outcome}"
    )


def _calls_text(value: CallTally, w: Words) -> str:
    return w(
        f"共 {value.total}：接通 {value.reached}，未接通 {value.not_reached}，核实 {value.verified}",
        f"{value.total} in all: {value.reached} reached, {value.not_reached} not reached, {value.verified} verified",
    )


def _progress_text(value: ProgressNote, w: Words) -> str:
    return f"{w.moment(value.recorded_at)} {value.recorded_by}: {value.note}"


def _site_text(value: Site, w: Words) -> str:
    return (
        f"{value.name}（{w.term(value.kind)}，{value.address}）"
        if w.zh
        else f"{value.name} ({w.term(value.kind)}, {value.address})"
    )


def _presence_text(value: SitePresence, w: Words) -> str:
    return f"{w.term(value.kind)} {w.term(value.role)} {w.moment(value.checked_in_at)}"


def _batch_text(value: BatchRecord, w: Words) -> str:
    return f"{value.batch_no}: {value.batch.tube_count} {w.term(value.status)}"


def _plain_batch_text(value: Batch, w: Words) -> str:
    return f"{value.batch_no}: {value.tube_count} {w.moment(value.sealed_at)}"


def _order_text(value: RectificationOrder, w: Words) -> str:
    return f"{value.number}: {w.day(value.notice_served_on)} → {w.day(value.deadline)}"


def _owner_report_text(value: OwnerReport, w: Words) -> str:
    return f"{value.order_number}: {w.day(value.reported_on)}"


def _reinspection_text(value: Reinspection, w: Words) -> str:
    outcome = w.yes_no(value.passed, ("通过", "未通过"), ("passed", "failed"))
    return f"{value.order_number}: {w.day(value.inspected_on)} {outcome}"


def _authority_text(value: AuthorityReport, w: Words) -> str:
    return f"{value.authority} {w.day(value.reported_on)}"


_SPECIAL_VALUES: Mapping[type, Callable[[Any, Words], str]] = {
    Inspection: _inspection_text,
    FindingRecord: _finding_record_text,
    ItemCheck: _check_text,
    Party: _party_text,
    MediationSession: _session_text,
    Agreement: _agreement_text,
    InvestigationNote: _investigation_text,
    AgreementSignature: _signature_text,
    TimeLimitExtension: _extension_text,
    EscalationRisk: _risk_text,
    PoliceReport: _police_text,
    TermPerformance: _performance_text,
    FollowUpVisit: _visit_text,
    JudicialConfirmation: _judicial_text,
    CallTally: _calls_text,
    ProgressNote: _progress_text,
    Site: _site_text,
    SitePresence: _presence_text,
    BatchRecord: _batch_text,
    Batch: _plain_batch_text,
    RectificationOrder: _order_text,
    OwnerReport: _owner_report_text,
    Reinspection: _reinspection_text,
    AuthorityReport: _authority_text,
}


def describe_state(
    aggregate: GridAggregate, lang: Language = "zh", *, include_empty: bool = False
) -> list[tuple[str, str]]:
    """Return an aggregate's state as (label, value) pairs in *lang*; personal data stays sealed.

    The first pairs say which case, at which version and as of when; then
    every attribute the aggregate has, in the order it sets them (those with
    no value yet only if *include_empty*).
    """
    lang = check_language(lang)
    w = Words(lang, CaseContext())
    rows = [
        (w("案件编号", "case"), str(aggregate.id)),
        (w("版本", "version"), str(aggregate.version)),
        (w("最后记录时间", "last recorded"), w.moment(aggregate.modified_on)),
    ]
    for name, value in vars(aggregate).items():
        if name.startswith("_"):
            continue
        label = FIELD_LABELS.get(name, name) if lang == "zh" else name.replace("_", " ")
        if _is_empty(value):
            if include_empty:
                rows.append((label, "—"))
            continue
        rows.append((label, value_text(value, w, _SEALED_FIELDS.get(name, Sealed.OTHER))))
    return rows


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, (str, tuple, frozenset, dict)) and not value)
