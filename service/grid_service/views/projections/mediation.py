"""The mediation register (人民调解台账): one row per dispute.

How it came in, where it stands, the one-month limit (令75号 Art. 33) with its
extensions, the agreement and its performance, follow-up visits (回访) and the
next one due, escalation risk and police reports (Art. 25), judicial
confirmation (Art. 33), and when it closed. Days open and days past the limit
depend on today, so the queries work them out; the dates they need are here.
No party is named: the register counts parties, it does not open their
sealed details.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, ClassVar

from grid_events import AgreementForm, Dispute, DisputeStatus, PartyKind, PerformanceStatus, RiskLevel
from grid_service.views.base import Projection, ProjectionContext, handles
from grid_service.views.projections._common import (
    BOOL,
    DATE,
    GRID_COLUMNS,
    INT,
    JSON,
    TEXT,
    TS,
    china_date,
    col,
    grid_columns,
)
from grid_service.views.store import Table

__all__ = ["FINAL_STATUSES", "JUDICIAL_CONFIRMATION_DAYS", "REPEAT_FOLLOW_UP_DAYS", "MediationRegister"]

JUDICIAL_CONFIRMATION_DAYS = 30
"""Days after the agreement took effect within which judicial confirmation may be applied for (Art. 33)."""

REPEAT_FOLLOW_UP_DAYS = 30
"""Days after a follow-up that found the agreement not fully performed (or signs of escalation) until the next."""

FINAL_STATUSES = (DisputeStatus.DECLINED.value, DisputeStatus.CLOSED.value)
"""Statuses in which nothing more can be recorded."""

DISPUTES = Table(
    "disputes",
    (
        col("dispute_id", TEXT),
        col("version", INT),
        *GRID_COLUMNS,
        col("source", TEXT),
        col("category", TEXT),
        col("summary", TEXT),
        col("referral_ref", TEXT),
        col("parties", INT, default=0),
        col("resident_parties", INT, default=0),
        col("status", TEXT),
        col("received_on", DATE),
        col("accepted_on", DATE),
        col("original_deadline", DATE),
        col("deadline", DATE),
        col("extension_count", INT, default=0),
        col("decline_reason", TEXT),
        col("mediator_id", TEXT),
        col("mediator_changes", INT, default=0),
        col("investigation_notes", INT, default=0),
        col("sessions", INT, default=0),
        col("last_session_at", TS),
        col("risk_level", TEXT),
        col("police_report_due", BOOL, default=False),
        col("police_reported", BOOL, default=False),
        col("police_reported_on", DATE),
        col("refused_by", TEXT),
        col("agreement_form", TEXT),
        col("agreement_drafted_on", DATE),
        col("agreement_last_due_on", DATE),
        col("signatures_required", INT),
        col("signatures_collected", INT, default=0),
        col("effective_on", DATE),
        col("terms_total", INT),
        col("performed_terms", JSON, default=()),
        col("terms_performed", INT, default=0),
        col("follow_ups", INT, default=0),
        col("last_follow_up_on", DATE),
        col("last_follow_up_performance", TEXT),
        col("last_follow_up_satisfied", BOOL),
        col("follow_up_first_due", DATE),
        col("follow_up_counted_on", DATE),
        col("follow_up_counted_ok", BOOL),
        col("follow_up_due_on", DATE),
        col("judicial_status", TEXT),
        col("judicial_court", TEXT),
        col("judicial_applied_on", DATE),
        col("judicial_decided_on", DATE),
        col("judicial_deadline", DATE),
        col("failed_on", DATE),
        col("failure_reason", TEXT),
        col("routes_explained", JSON),
        col("concluded_on", DATE),
        col("closed_from", TEXT),
        col("closed_on", DATE),
        col("received_at", TS),
        col("updated_at", TS),
    ),
    key=("dispute_id",),
    indexes=(("community", "status"), ("mediator_id", "status"), ("deadline",), ("follow_up_due_on",), ("grid",)),
    prefetch=True,
)


def follow_up_due_on(row: Mapping[str, Any]) -> date | None:
    """Return when the next follow-up visit is due, as ``Dispute.follow_up_due_on`` says, from a register row."""
    if row["status"] != DisputeStatus.AGREED.value or row["effective_on"] is None:
        return None
    counted_on: date | None = row["follow_up_counted_on"]
    if counted_on is None:
        first: date | None = row["follow_up_first_due"]
        return first
    if row["follow_up_counted_ok"]:
        return None
    return counted_on + timedelta(days=REPEAT_FOLLOW_UP_DAYS)


def signatures_required(row: Mapping[str, Any]) -> int | None:
    """Return how many signatures the drafted agreement needs: every party, and the mediator if it is written."""
    if row["agreement_form"] is None:
        return None
    mediator = row["agreement_form"] == AgreementForm.WRITTEN.value and row["mediator_id"] is not None
    return int(row["parties"]) + (1 if mediator else 0)


class MediationRegister(Projection):
    """The register of people's mediation cases."""

    name = "mediation_register"
    version = 1
    tables: ClassVar[tuple[Table, ...]] = (DISPUTES,)

    @handles(Dispute.Received)
    def _on_received(self, event: Dispute.Received, ctx: ProjectionContext) -> None:
        ctx.put(
            "disputes",
            {
                "dispute_id": ctx.aggregate_id,
                "version": event.originator_version,
                **grid_columns(event.grid),
                "source": event.source.value,
                "category": event.category.value,
                "summary": event.summary,
                "referral_ref": event.referral_ref,
                "parties": len(event.parties),
                "resident_parties": sum(party.kind is PartyKind.RESIDENT for party in event.parties),
                "status": DisputeStatus.RECEIVED.value,
                "received_on": event.received_on,
                "received_at": event.timestamp,
                "updated_at": event.timestamp,
            },
        )

    @handles(Dispute.Accepted)
    def _on_accepted(self, event: Dispute.Accepted, ctx: ProjectionContext) -> None:
        self._change(
            event,
            ctx,
            status="accepted",
            accepted_on=event.accepted_on,
            original_deadline=event.deadline,
            deadline=event.deadline,
        )

    @handles(Dispute.Declined)
    def _on_declined(self, event: Dispute.Declined, ctx: ProjectionContext) -> None:
        self._change(event, ctx, status="declined", decline_reason=event.reason, closed_on=china_date(event.timestamp))

    @handles(Dispute.MediatorAssigned)
    def _on_mediator_assigned(self, event: Dispute.MediatorAssigned, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        changes = row["mediator_changes"] + (1 if row["mediator_id"] is not None else 0)
        self._change(event, ctx, mediator_id=event.mediator_id, mediator_changes=changes)

    @handles(Dispute.InvestigationNoted)
    def _on_investigation_noted(self, event: Dispute.InvestigationNoted, ctx: ProjectionContext) -> None:
        self._change(event, ctx, investigation_notes=self._row(ctx)["investigation_notes"] + 1)

    @handles(Dispute.SessionRecorded)
    def _on_session_recorded(self, event: Dispute.SessionRecorded, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        status = DisputeStatus.MEDIATING.value if row["status"] == DisputeStatus.ACCEPTED.value else row["status"]
        self._change(event, ctx, sessions=row["sessions"] + 1, last_session_at=event.held_at, status=status)

    @handles(Dispute.TimeLimitExtended)
    def _on_time_limit_extended(self, event: Dispute.TimeLimitExtended, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        self._change(event, ctx, deadline=event.new_deadline, extension_count=row["extension_count"] + 1)

    @handles(Dispute.EscalationRiskFlagged)
    def _on_escalation_risk_flagged(self, event: Dispute.EscalationRiskFlagged, ctx: ProjectionContext) -> None:
        changes: dict[str, Any] = {"risk_level": event.level.value}
        if event.level is RiskLevel.HIGH:
            changes["police_report_due"] = True
        self._change(event, ctx, **changes)

    @handles(Dispute.ReportedToPolice)
    def _on_reported_to_police(self, event: Dispute.ReportedToPolice, ctx: ProjectionContext) -> None:
        self._change(
            event,
            ctx,
            police_reported=True,
            police_reported_on=china_date(event.timestamp),
            police_report_due=False,
        )

    @handles(Dispute.PartyRefused)
    def _on_party_refused(self, event: Dispute.PartyRefused, ctx: ProjectionContext) -> None:
        self._change(event, ctx, status="refused", refused_by=event.party_id)

    @handles(Dispute.AgreementDrafted)
    def _on_agreement_drafted(self, event: Dispute.AgreementDrafted, ctx: ProjectionContext) -> None:
        agreement = event.agreement
        self._change(
            event,
            ctx,
            status="agreement_drafted",
            agreement_form=agreement.form.value,
            agreement_drafted_on=china_date(event.timestamp),
            agreement_last_due_on=agreement.last_due_on,
            terms_total=len(agreement.terms),
            signatures_collected=0,
        )

    @handles(Dispute.AgreementSigned)
    def _on_agreement_signed(self, event: Dispute.AgreementSigned, ctx: ProjectionContext) -> None:
        self._change(event, ctx, signatures_collected=self._row(ctx)["signatures_collected"] + 1)

    @handles(Dispute.AgreementTookEffect)
    def _on_agreement_took_effect(self, event: Dispute.AgreementTookEffect, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        effective_on = event.effective_on
        last_due = row["agreement_last_due_on"] or effective_on
        self._change(
            event,
            ctx,
            status="agreed",
            effective_on=effective_on,
            concluded_on=effective_on,
            follow_up_first_due=max(effective_on, last_due),
            judicial_deadline=effective_on + timedelta(days=JUDICIAL_CONFIRMATION_DAYS),
        )

    @handles(Dispute.MediationFailed)
    def _on_mediation_failed(self, event: Dispute.MediationFailed, ctx: ProjectionContext) -> None:
        failed_on = china_date(event.timestamp)
        self._change(
            event,
            ctx,
            status="failed",
            failed_on=failed_on,
            concluded_on=failed_on,
            failure_reason=event.reason,
            routes_explained=sorted(route.value for route in event.routes_explained),
        )

    @handles(Dispute.PerformanceRecorded)
    def _on_performance_recorded(self, event: Dispute.PerformanceRecorded, ctx: ProjectionContext) -> None:
        performed = set(self._row(ctx)["performed_terms"])
        if event.performed:
            performed.add(event.term_index)
        self._change(event, ctx, performed_terms=sorted(performed), terms_performed=len(performed))

    @handles(Dispute.FollowUpRecorded)
    def _on_follow_up_recorded(self, event: Dispute.FollowUpRecorded, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        visited_on = event.visited_on
        last = row["last_follow_up_on"]
        changes: dict[str, Any] = {"follow_ups": row["follow_ups"] + 1}
        if last is None or visited_on >= last:
            changes.update(
                last_follow_up_on=visited_on,
                last_follow_up_performance=event.performance.value,
                last_follow_up_satisfied=event.satisfied,
            )
        first = row["follow_up_first_due"]
        counted = row["follow_up_counted_on"]
        if first is not None and visited_on >= first and (counted is None or visited_on > counted):
            ok = event.performance is PerformanceStatus.FULLY and not event.escalation_signs
            changes.update(follow_up_counted_on=visited_on, follow_up_counted_ok=ok)
        self._change(event, ctx, **changes)

    @handles(Dispute.JudicialConfirmationApplied)
    def _on_judicial_applied(self, event: Dispute.JudicialConfirmationApplied, ctx: ProjectionContext) -> None:
        self._change(
            event, ctx, judicial_status="applied", judicial_court=event.court, judicial_applied_on=event.applied_on
        )

    @handles(Dispute.JudicialConfirmationDecided)
    def _on_judicial_decided(self, event: Dispute.JudicialConfirmationDecided, ctx: ProjectionContext) -> None:
        status = "confirmed" if event.confirmed else "not_confirmed"
        self._change(event, ctx, judicial_status=status, judicial_decided_on=event.decided_on)

    @handles(Dispute.Closed)
    def _on_closed(self, event: Dispute.Closed, ctx: ProjectionContext) -> None:
        row = self._row(ctx)
        self._change(event, ctx, status="closed", closed_from=row["status"], closed_on=china_date(event.timestamp))

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _row(ctx: ProjectionContext) -> Mapping[str, Any]:
        dispute_id = ctx.aggregate_id
        row = ctx.get("disputes", dispute_id)
        if row is None:
            raise LookupError(f"no dispute {dispute_id} in the register (its Received event was not projected)")
        return row

    def _change(self, event: Any, ctx: ProjectionContext, **changes: Any) -> None:  # noqa: ANN401
        updated = {**self._row(ctx), **changes}
        updated["version"] = event.originator_version
        updated["updated_at"] = event.timestamp
        updated["signatures_required"] = signatures_required(updated)
        updated["follow_up_due_on"] = follow_up_due_on(updated)
        ctx.update("disputes", ctx.aggregate_id, updated)
