"""How the timeline phrases the events of a resident's record."""

from __future__ import annotations

from grid_events.audit.timeline.words import Phrasings, Said, Sealed, Words
from grid_events.domain.resident import Resident

__all__ = ["PHRASINGS"]

PHRASINGS = Phrasings()
"""How the timeline phrases the events of a resident's record, by event class."""

_says = PHRASINGS.says


@_says(Resident.Registered)
def _registered(e: Resident.Registered, w: Words) -> Said:
    moved_in = w(f"，迁入日期 {w.day(e.moved_in_on)}", f", moved in on {w.day(e.moved_in_on)}") if e.moved_in_on else ""
    return Said(
        w(
            f"登记居民，所属网格 {w.grid(e.grid)}，标签：{w.terms(e.tags)}{moved_in}；"
            f"个人信息 {w.sealed(Sealed.RESIDENT)}",
            f"registered the resident in grid {w.grid(e.grid)}, tags: {w.terms(e.tags)}{moved_in}; "
            f"personal data {w.sealed(Sealed.RESIDENT)}",
        )
    )


@_says(Resident.PersonalDataCorrected)
def _corrected(e: Resident.PersonalDataCorrected, w: Words) -> Said:
    return Said(
        w(f"更正居民个人信息 {w.sealed(Sealed.RESIDENT)}", f"corrected the personal data {w.sealed(Sealed.RESIDENT)}"),
        e.reason,
    )


@_says(Resident.Tagged)
def _tagged(e: Resident.Tagged, w: Words) -> Said:
    return Said(w(f"添加标签{w.quoted(w.term(e.tag))}", f"tagged {w.quoted(w.term(e.tag))}"), e.reason)


@_says(Resident.Untagged)
def _untagged(e: Resident.Untagged, w: Words) -> Said:
    return Said(w(f"移除标签{w.quoted(w.term(e.tag))}", f"removed the tag {w.quoted(w.term(e.tag))}"), e.reason)


@_says(Resident.Transferred)
def _transferred(e: Resident.Transferred, w: Words) -> Said:
    return Said(w(f"转入网格 {w.grid(e.grid)}", f"transferred to grid {w.grid(e.grid)}"), e.reason)


@_says(Resident.MovedOut)
def _moved_out(e: Resident.MovedOut, w: Words) -> Said:
    return Said(w(f"迁出社区，迁出日期 {w.day(e.moved_out_on)}", f"moved out on {w.day(e.moved_out_on)}"), e.reason)


@_says(Resident.MovedIn)
def _moved_in(e: Resident.MovedIn, w: Words) -> Said:
    return Said(
        w(
            f"迁回社区，所属网格 {w.grid(e.grid)}，迁入日期 {w.day(e.moved_in_on)}",
            f"moved back in to grid {w.grid(e.grid)} on {w.day(e.moved_in_on)}",
        )
    )


@_says(Resident.HomeIsolationStarted)
def _isolation_started(e: Resident.HomeIsolationStarted, w: Words) -> Said:
    details = f"{w.semi}{w('原因', 'reason')} {w.sealed(Sealed.HEALTH)}" if e.details is not None else ""
    return Said(
        w(
            f"安排居家隔离，{w.day(e.starts_on)} 至 {w.day(e.ends_on)}{details}",
            f"arranged home isolation from {w.day(e.starts_on)} to {w.day(e.ends_on)}{details}",
        )
    )


@_says(Resident.HomeIsolationEnded)
def _isolation_ended(e: Resident.HomeIsolationEnded, w: Words) -> Said:
    return Said(
        w(f"结束居家隔离，结束日期 {w.day(e.ended_on)}", f"ended home isolation on {w.day(e.ended_on)}"), e.reason
    )


@_says(Resident.PersonalDataErased)
def _erased(e: Resident.PersonalDataErased, w: Words) -> Said:
    ref = w.note("申请编号", "request", e.request_ref)
    return Said(
        w(
            f"应本人申请删除个人信息（密钥已销毁，此前加密的信息无法再读取）{ref}",
            f"erased the personal data on request (key destroyed: what was sealed can no longer be read){ref}",
        ),
        e.reason,
    )
