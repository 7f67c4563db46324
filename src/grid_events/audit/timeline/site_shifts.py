"""How the timeline phrases the events of a site shift."""

from __future__ import annotations

from collections.abc import Mapping

from grid_events.audit.timeline.words import Phrasings, Said, Sealed, Words
from grid_events.domain.site_shift import SiteShift

__all__ = ["PHRASINGS"]

PHRASINGS = Phrasings()
"""How the timeline phrases the events of a site shift, by event class."""

_says = PHRASINGS.says


def _counts(counts: Mapping[str, int], w: Words) -> str:
    return w.join(f"{item} {count}" for item, count in sorted(counts.items()))


@_says(SiteShift.Planned)
def _planned(e: SiteShift.Planned, w: Words) -> Said:
    s = e.site
    return Said(
        w(
            f"计划班次：{s.name}（{w.term(s.kind)}，{s.address}），{w.moment(e.planned_start)} 至 "
            f"{w.moment(e.planned_end)}，负责人 {e.lead_id}",
            f"planned a shift at {s.name} ({w.term(s.kind)}, {s.address}) from {w.moment(e.planned_start)} to "
            f"{w.moment(e.planned_end)}, led by {e.lead_id}",
        )
    )


@_says(SiteShift.Opened)
def _opened(e: SiteShift.Opened, w: Words) -> Said:
    cordon = w.yes_no(e.cordon_set_up, ("已设警戒线", "未设警戒线"), ("cordon set up", "no cordon"))
    disinfected = w.yes_no(e.disinfected, ("已消毒", "未消毒"), ("disinfected", "not disinfected"))
    return Said(
        w(
            f"开点，时间 {w.moment(e.opened_at)}；{cordon}，{disinfected}；物资：{_counts(e.supplies, w)}",
            f"opened the site at {w.moment(e.opened_at)}; {cordon}, {disinfected}; supplies: {_counts(e.supplies, w)}",
        )
    )


@_says(SiteShift.Cancelled)
def _shift_cancelled(e: SiteShift.Cancelled, w: Words) -> Said:
    return Said(w("取消班次", "cancelled the shift"), e.reason)


@_says(SiteShift.PersonCheckedIn)
def _checked_in(e: SiteShift.PersonCheckedIn, w: Words) -> Said:
    return Said(
        w(
            f"{e.person_id}（{w.term(e.kind)}，{w.term(e.role)}）到岗，时间 {w.moment(e.checked_in_at)}",
            f"{e.person_id} ({w.term(e.kind)}, {w.term(e.role)}) checked in at {w.moment(e.checked_in_at)}",
        )
    )


@_says(SiteShift.PersonCheckedOut)
def _checked_out(e: SiteShift.PersonCheckedOut, w: Words) -> Said:
    return Said(
        w(
            f"{e.person_id} 离岗，时间 {w.moment(e.checked_out_at)}",
            f"{e.person_id} checked out at {w.moment(e.checked_out_at)}",
        )
    )


@_says(SiteShift.SuppliesCounted)
def _counted(e: SiteShift.SuppliesCounted, w: Words) -> Said:
    difference = e.counted - e.expected
    return Said(
        w(
            f"清点物资{w.quoted(e.item)}：实有 {e.counted}，账面 {e.expected}（差 {difference:+d}）",
            f"counted {w.quoted(e.item)}: {e.counted} on hand, {e.expected} on record ({difference:+d})",
        )
    )


@_says(SiteShift.SuppliesUsed)
def _used(e: SiteShift.SuppliesUsed, w: Words) -> Said:
    return Said(w(f"使用物资{w.quoted(e.item)} {e.quantity}", f"used {e.quantity} of {w.quoted(e.item)}"))


@_says(SiteShift.SuppliesRestocked)
def _restocked(e: SiteShift.SuppliesRestocked, w: Words) -> Said:
    return Said(w(f"补充物资{w.quoted(e.item)} {e.quantity}", f"restocked {e.quantity} of {w.quoted(e.item)}"))


@_says(SiteShift.PeopleSampled)
def _sampled(e: SiteShift.PeopleSampled, w: Words) -> Said:
    return Said(w(f"采样人数增加 {e.count}", f"{e.count} more people sampled"))


@_says(SiteShift.SampleRecorded)
def _sample(e: SiteShift.SampleRecorded, w: Words) -> Said:
    person = w.sealed(Sealed.SAMPLED_PERSON)
    return Said(
        w(
            f"登记样本 {e.sample_id}，试管 {e.tube_no}；受检者 {person}",
            f"recorded sample {e.sample_id} in tube {e.tube_no}; person {person}",
        )
    )


@_says(SiteShift.BatchSealed)
def _batch_sealed(e: SiteShift.BatchSealed, w: Words) -> Said:
    b = e.batch
    return Said(
        w(
            f"封箱批次 {b.batch_no}：{b.tube_count} 管，封箱时间 {w.moment(b.sealed_at)}",
            f"sealed batch {b.batch_no}: {b.tube_count} tubes at {w.moment(b.sealed_at)}",
        )
    )


@_says(SiteShift.BatchDispatched)
def _dispatched(e: SiteShift.BatchDispatched, w: Words) -> Said:
    return Said(
        w(
            f"批次 {e.batch_no} 交 {e.carrier} 转运，时间 {w.moment(e.dispatched_at)}",
            f"handed batch {e.batch_no} to {e.carrier} at {w.moment(e.dispatched_at)}",
        )
    )


@_says(SiteShift.BatchReceived)
def _batch_received(e: SiteShift.BatchReceived, w: Words) -> Said:
    return Said(
        w(
            f"{e.lab}接收批次 {e.batch_no}：{e.tubes_received} 管，时间 {w.moment(e.received_at)}",
            f"{e.lab} received batch {e.batch_no}: {e.tubes_received} tubes at {w.moment(e.received_at)}",
        )
    )


@_says(SiteShift.HandedOver)
def _handed_over(e: SiteShift.HandedOver, w: Words) -> Said:
    return Said(
        w(f"交接班：{e.from_lead_id} 交给 {e.to_lead_id}", f"handed over from {e.from_lead_id} to {e.to_lead_id}")
        + w.note("交接事项", "handover note", e.note)
    )


@_says(SiteShift.Closed)
def _shift_closed(e: SiteShift.Closed, w: Words) -> Said:
    return Said(
        w(
            f"结束班次，时间 {w.moment(e.closed_at)}，最终采样人数 {e.final_tally}",
            f"closed the shift at {w.moment(e.closed_at)} with a final tally of {e.final_tally}",
        )
    )
