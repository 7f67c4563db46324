"""How the timeline phrases the events of a task, inspections included."""

from __future__ import annotations

from grid_events.audit.timeline.words import Phrasings, Said, Words
from grid_events.domain.task import Task

__all__ = ["PHRASINGS"]

PHRASINGS = Phrasings()
"""How the timeline phrases the events of a task, inspections included, by event class."""

_says = PHRASINGS.says


@_says(Task.Created)
def _task_created(e: Task.Created, w: Words) -> Said:
    parts = [
        w(
            f"创建任务{w.quoted(e.title)}：{w.term(e.kind)}，网格 {w.grid(e.grid)}，优先级 {w.term(e.priority)}",
            f"created the task {w.quoted(e.title)}: {w.term(e.kind)} in grid {w.grid(e.grid)}, "
            f"{w.term(e.priority)} priority",
        )
    ]
    if e.due_at is not None:
        parts.append(w(f"办理期限 {w.moment(e.due_at)}", f"due {w.moment(e.due_at)}"))
    if e.place is not None:
        parts.append(w(f"地点 {w.place(e.place)}", f"at {w.place(e.place)}"))
    if e.resident_id is not None:
        parts.append(w(f"关联居民 {e.resident_id}", f"for resident {e.resident_id}"))
    if e.checklist:
        parts.append(
            w(
                f"检查表{w.quoted(e.checklist_name)}（{len(e.checklist)} 项）",
                f"checklist {w.quoted(e.checklist_name)} ({len(e.checklist)} items)",
            )
        )
    return Said(w.semi.join(parts) + w.note("说明", "description", e.description))


@_says(Task.Assigned)
def _assigned(e: Task.Assigned, w: Words) -> Said:
    due = w(f"，办理期限 {w.moment(e.due_at)}", f", due {w.moment(e.due_at)}") if e.due_at else ""
    return Said(w(f"派发给 {e.assignee}{due}", f"assigned to {e.assignee}{due}"))


@_says(Task.Reassigned)
def _reassigned(e: Task.Reassigned, w: Words) -> Said:
    due = w(f"，办理期限 {w.moment(e.due_at)}", f", due {w.moment(e.due_at)}") if e.due_at else ""
    return Said(
        w(
            f"由 {e.previous_assignee} 改派给 {e.assignee}{due}",
            f"reassigned from {e.previous_assignee} to {e.assignee}{due}",
        ),
        e.reason,
    )


@_says(Task.Rescheduled)
def _rescheduled(e: Task.Rescheduled, w: Words) -> Said:
    return Said(w(f"办理期限改为 {w.moment(e.due_at)}", f"moved the deadline to {w.moment(e.due_at)}"), e.reason)


@_says(Task.Accepted)
def _task_accepted(_: Task.Accepted, w: Words) -> Said:
    return Said(w("签收任务", "accepted the task"))


@_says(Task.Started)
def _started(_: Task.Started, w: Words) -> Said:
    return Said(w("开始办理", "started the work"))


@_says(Task.ProgressRecorded)
def _progress(e: Task.ProgressRecorded, w: Words) -> Said:
    return Said(w(f"记录办理进展：{e.note}", f"recorded progress: {e.note}"))


@_says(Task.CallRecorded)
def _call(e: Task.CallRecorded, w: Words) -> Said:
    return Said(
        w(f"拨打流调电话：{w.term(e.outcome)}", f"made a survey call: {w.term(e.outcome)}")
        + w.note("备注", "note", e.note)
    )


@_says(Task.Submitted)
def _submitted(e: Task.Submitted, w: Words) -> Said:
    return Said(w(f"反馈办理结果，提交核查：{e.summary}", f"submitted the work for verification: {e.summary}"))


@_says(Task.Verified)
def _verified(e: Task.Verified, w: Words) -> Said:
    return Said(w("核查通过", "verified the work") + w.note("核查意见", "note", e.note))


@_says(Task.SentBack)
def _sent_back(e: Task.SentBack, w: Words) -> Said:
    return Said(w("核查不通过，退回重办", "sent the work back as not done"), e.reason)


@_says(Task.Closed)
def _task_closed(e: Task.Closed, w: Words) -> Said:
    return Said(w("结案", "closed the task") + w.note("备注", "note", e.note))


@_says(Task.Evaluated)
def _evaluated(e: Task.Evaluated, w: Words) -> Said:
    return Said(
        w(f"评价 {e.rating} 分（满分 5 分）", f"rated the work {e.rating} out of 5")
        + w.note("评语", "comment", e.comment)
    )


@_says(Task.Escalated)
def _escalated(e: Task.Escalated, w: Words) -> Said:
    return Said(w(f"督办：{w.term(e.level)}", f"escalated: {w.term(e.level)}"), e.reason)


@_says(Task.Cancelled)
def _task_cancelled(e: Task.Cancelled, w: Words) -> Said:
    return Said(w("取消任务", "cancelled the task"), e.reason)


@_says(Task.Reopened)
def _reopened(e: Task.Reopened, w: Words) -> Said:
    due = w(f"，新的办理期限 {w.moment(e.due_at)}", f", now due {w.moment(e.due_at)}") if e.due_at else ""
    return Said(
        w(
            f"重新打开任务（{w.term(e.source)}），退回原承办人{due}",
            f"reopened the task ({w.term(e.source)}); back to its assignee{due}",
        ),
        e.reason,
    )


@_says(Task.ItemChecked)
def _item_checked(e: Task.ItemChecked, w: Words) -> Said:
    return Said(
        w(f"检查项{w.item(e.code)}：{w.term(e.result)}", f"checked {w.item(e.code)}: {w.term(e.result)}")
        + w.note("说明", "note", e.note)
    )


@_says(Task.FindingRecorded)
def _finding(e: Task.FindingRecorded, w: Words) -> Said:
    f = e.finding
    return Said(
        w(
            f"发现隐患 {f.finding_id}（{w.term(f.severity)}）：{f.description}；位置：{f.location}；"
            f"发现日期 {w.day(f.found_on)}；检查项：{w.item(f.item_code)}",
            f"found hazard {f.finding_id} ({w.term(f.severity)}): {f.description}; where: {f.location}; "
            f"found on {w.day(f.found_on)}; item: {w.item(f.item_code)}",
        )
    )


@_says(Task.RectificationOrdered)
def _ordered(e: Task.RectificationOrdered, w: Words) -> Said:
    return Said(
        w(
            f"就隐患 {e.finding_id} 送达第 {e.order_number} 份整改通知书，送达日期 {w.day(e.notice_served_on)}，"
            f"整改期限 {w.day(e.deadline)}",
            f"served rectification notice {e.order_number} for hazard {e.finding_id} on "
            f"{w.day(e.notice_served_on)}, to be fixed by {w.day(e.deadline)}",
        )
    )


@_says(Task.OwnerReported)
def _owner_reported(e: Task.OwnerReported, w: Words) -> Said:
    return Said(
        w(
            f"业主报告隐患 {e.finding_id} 已整改（第 {e.order_number} 份通知书），报告日期 {w.day(e.reported_on)}",
            f"the owner reported hazard {e.finding_id} fixed (notice {e.order_number}) on {w.day(e.reported_on)}",
        )
        + w.note("说明", "note", e.note)
    )


@_says(Task.Reinspected)
def _reinspected(e: Task.Reinspected, w: Words) -> Said:
    outcome = w.yes_no(e.passed, ("通过", "未通过"), ("passed", "failed"))
    return Said(
        w(
            f"复查隐患 {e.finding_id}（第 {e.order_number} 份通知书），复查日期 {w.day(e.inspected_on)}：{outcome}",
            f"re-inspected hazard {e.finding_id} (notice {e.order_number}) on {w.day(e.inspected_on)}: {outcome}",
        )
        + w.note("说明", "note", e.note)
    )


@_says(Task.ReportedToAuthority)
def _reported_to_authority(e: Task.ReportedToAuthority, w: Words) -> Said:
    return Said(
        w(
            f"将隐患 {w.join(e.finding_ids)} 报告{e.authority}，报告日期 {w.day(e.reported_on)}",
            f"reported hazard(s) {w.join(e.finding_ids)} to {e.authority} on {w.day(e.reported_on)}",
        ),
        e.reason,
    )
