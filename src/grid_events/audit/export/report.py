"""One case's report: everything an audit found about it, as it stood on a date, and the verdict on its record.

:func:`build_report` gathers a :class:`CaseReport`: the case's timeline, the
rule findings, its state, and whether its stored events are as they were
recorded (:class:`CaseVerification`). :func:`problem_name`,
:func:`problem_text` and :func:`integrity_notes` say what verification found,
in Chinese or English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

import attrs
from eventsourcing.application import Application

from grid_events.audit.replay import history, replay
from grid_events.audit.rules import Rule, RuleFinding, RuleSettings, RuleSeverity, check_case, rules_for
from grid_events.audit.timeline import (
    CaseSummary,
    Language,
    TimelineEntry,
    build_timeline,
    check_language,
    describe_case,
    describe_state,
    term,
)
from grid_events.audit.verify import (
    Checkpoint,
    Problem,
    ProblemKind,
    VerificationReport,
    verify_aggregate,
    verify_store,
)
from grid_events.domain.mediation import CHINA_TIME, local_date
from grid_events.exceptions import ValidationError

__all__ = [
    "PROBLEM_NAMES",
    "CaseReport",
    "CaseVerification",
    "build_report",
    "integrity_notes",
    "problem_name",
    "problem_text",
]

PROBLEM_NAMES: Final[Mapping[ProblemKind, tuple[str, str]]] = {
    ProblemKind.BROKEN_LINK: (
        "链接断裂：前一事件被改动或替换",
        "broken link: the event before was altered or replaced",
    ),
    ProblemKind.BAD_GENESIS: ("首个事件不是链条的起点", "the first event does not start a chain"),
    ProblemKind.MISSING_VERSION: ("版本缺失：事件被删除或顺序被打乱", "missing version: events removed or reordered"),
    ProblemKind.UNREADABLE: ("无法读取：存储内容不是链式事件", "unreadable: not a chained event"),
    ProblemKind.LOG_GAP: ("日志缺口：有事件被删除", "log gap: events were removed"),
    ProblemKind.CHECKPOINT_MISMATCH: (
        "与检查点不符：检查点之前的事件被改动",
        "checkpoint mismatch: the log before it changed",
    ),
    ProblemKind.CHECKPOINT_BEYOND_LOG: (
        "检查点超出日志：有事件被删除",
        "checkpoint beyond the log: events were removed",
    ),
}
"""Each kind of verification problem in words."""


def problem_name(kind: ProblemKind, lang: Language = "zh") -> str:
    """Return a verification problem's kind in words."""
    names = PROBLEM_NAMES[kind]
    return names[0] if lang == "zh" else names[1]


def problem_text(problem: Problem, lang: Language = "zh") -> str:
    """Return what a verification problem means, naming the event: in Chinese, or verify's own English."""
    if lang != "zh":
        return problem.message
    record, version, position = problem.aggregate_id, problem.version or 0, problem.notification_id
    texts = {
        ProblemKind.BROKEN_LINK: f"记录 {record} 的第 {version} 版不能为第 {version - 1} 版作证："
        f"第 {version - 1} 版已被改动或替换，或第 {version} 版的链接被改",
        ProblemKind.BAD_GENESIS: f"记录 {record} 的第 1 版不是链条的起点：它被替换了",
        ProblemKind.MISSING_VERSION: f"记录 {record} 在第 {version} 版之前缺少版本：有事件被删除或顺序被打乱",
        ProblemKind.UNREADABLE: f"记录 {record} 的第 {version} 版的存储内容不是链式事件，无法读取",
        ProblemKind.LOG_GAP: f"日志在位置 {position} 之前有缺口：有事件被删除",
        ProblemKind.CHECKPOINT_MISMATCH: f"截至日志位置 {position} 的内容与检查点不符："
        "其中有事件被改动、删除、插入或调换顺序",
        ProblemKind.CHECKPOINT_BEYOND_LOG: f"检查点覆盖到日志位置 {position}，但日志已不足此数：有事件被删除",
    }
    return texts[problem.kind]


def integrity_notes(problems: Iterable[Problem], case_id: UUID, version: int, lang: Language = "zh") -> list[str]:
    """Return what verification says of the event *version* of case *case_id* (empty: nothing).

    A broken link at version *v* names event *v* but means that event *v − 1*
    (or *v*'s link) was changed, so both are marked.
    """
    notes = []
    for problem in problems:
        if problem.aggregate_id != case_id or problem.version is None:
            continue
        if problem.version == version:
            notes.append(problem_name(problem.kind, lang))
        elif problem.kind is ProblemKind.BROKEN_LINK and problem.version == version + 1:
            notes.append(
                f"可能被改动（第 {version + 1} 版的链接与之不符）"
                if lang == "zh"
                else f"may have been altered (the link of v{version + 1} does not match it)"
            )
    return notes


@attrs.frozen
class CaseVerification:
    """Whether a case's stored events are as they were recorded.

    *chain* walks the case's own hash chain: it finds any change to an event
    that has a successor. *log*, when checkpoints were given, is the whole
    store checked against them: it also vouches for the newest event of every
    chain up to each checkpoint. Without a checkpoint taken after the case's
    newest event, nothing vouches for that one event.
    """

    chain: VerificationReport
    log: VerificationReport | None
    newest_version: int

    @property
    def ok(self) -> bool:
        """Whether nothing was found wrong."""
        return self.chain.ok and (self.log is None or self.log.ok)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """The case's problems, then the problems of the log against the checkpoints."""
        return self.chain.problems + (self.log.problems if self.log is not None else ())

    def verdict(self, lang: Language = "zh") -> str:
        """Return the outcome in one sentence."""
        if not self.ok:
            first = self.problems[0]
            where = f"v{first.version}" if first.version is not None else f"#{first.notification_id}"
            return (
                f"发现 {len(self.problems)} 处问题，记录可能被篡改。第一处（{where}）：{problem_text(first, 'zh')}"
                if lang == "zh"
                else f"{len(self.problems)} problem(s) found: the record may have been tampered with. "
                f"First ({where}): {first.message}"
            )
        if lang == "zh":
            return f"哈希链完整：{self.chain.events_checked} 个事件均未被改动、删除、插入或调换顺序。"
        return (
            f"The hash chain is intact: none of the {self.chain.events_checked} events was altered, removed, "
            "inserted or reordered."
        )

    def caveat(self, lang: Language = "zh") -> str:
        """Return what the verification does not cover, in one sentence."""
        if self.log is not None and self.log.checkpoints_checked:
            return (
                f"已对照 {self.log.checkpoints_checked} 个库外检查点校验整个日志；检查点之后记录的事件只受哈希链保护。"
                if lang == "zh"
                else f"The whole log was checked against {self.log.checkpoints_checked} checkpoint(s) kept outside "
                "the store; events recorded after the latest checkpoint are covered by the hash chain only."
            )
        return (
            f"未提供检查点：最新的第 {self.newest_version} 版事件没有后续事件为其作证，只有在其后生成、保存在库外的"
            "检查点才能证明它未被改动（见 grid-events audit checkpoint）。"
            if lang == "zh"
            else f"No checkpoint was given: the newest event (v{self.newest_version}) has no successor to vouch for "
            "it; only a checkpoint taken after it and kept outside the store can (see grid-events audit checkpoint)."
        )

    def to_dict(self, lang: Language = "zh") -> dict[str, Any]:
        """Return the verification as JSON-ready data."""
        return {
            "ok": self.ok,
            "verdict": self.verdict(lang),
            "caveat": self.caveat(lang),
            "chain": self.chain.to_dict(),
            "log": self.log.to_dict() if self.log is not None else None,
        }


@attrs.frozen
class CaseReport:
    """Everything an audit found about one case, as it stood on *as_of*."""

    case: CaseSummary
    language: Language
    as_of: date
    generated_at: datetime
    prepared_by: str
    status: str
    """The case's status in words (``协议已生效``), as of *as_of*."""
    status_code: str
    """The same, as the domain names it (``agreed``)."""
    entries: tuple[TimelineEntry, ...]
    events_in_store: int
    """How many events the case has in the store (those after *as_of* are not in the report)."""
    verification: CaseVerification
    findings: tuple[RuleFinding, ...]
    rules_checked: tuple[Rule, ...]
    state: tuple[tuple[str, str], ...]

    @property
    def errors(self) -> tuple[RuleFinding, ...]:
        """The findings of severity error."""
        return tuple(finding for finding in self.findings if finding.severity is RuleSeverity.ERROR)

    @property
    def warnings(self) -> tuple[RuleFinding, ...]:
        """The findings of severity warning."""
        return tuple(finding for finding in self.findings if finding.severity is RuleSeverity.WARNING)

    def findings_at(self, version: int) -> tuple[RuleFinding, ...]:
        """Return the findings that concern the event *version*."""
        return tuple(finding for finding in self.findings if version in finding.versions)

    def problems_at(self, version: int) -> tuple[Problem, ...]:
        """Return the verification problems that name the event *version* of this case."""
        return tuple(
            problem
            for problem in self.verification.problems
            if problem.version == version and problem.aggregate_id == self.case.case_id
        )

    def integrity_at(self, version: int) -> list[str]:
        """Return what verification says of the event *version*, in the report's language (empty: intact)."""
        return integrity_notes(self.verification.problems, self.case.case_id, version, self.language)


def build_report(
    app: Application[UUID],
    case_id: UUID,
    *,
    lang: Language = "zh",
    as_of: date | None = None,
    settings: RuleSettings | None = None,
    checkpoints: Iterable[Checkpoint] = (),
    prepared_by: str = "",
    now: datetime | None = None,
) -> CaseReport:
    """Replay the case *case_id* and gather what an audit finds about it, as it stood on *as_of*.

    Reads only the case's history (:func:`~grid_events.audit.replay.history`)
    and the stored bytes (for verification); with *checkpoints*, the whole log
    is checked against them too. *as_of* is a date in China (default: today);
    events recorded after it are left out of the timeline, the findings and the
    state, but verification always covers every stored event.
    """
    lang = check_language(lang)
    moment = (now or datetime.now(UTC)).astimezone(CHINA_TIME)
    day = as_of if as_of is not None else moment.date()
    events = history(app, case_id)
    shown = [event for event in events if local_date(event.timestamp) <= day]
    if not shown:
        raise ValidationError("as_of", f"the case {case_id} was first recorded after {day}")
    pinned = tuple(checkpoints)
    chain = verify_aggregate(app.recorder, case_id)
    log = verify_store(app.recorder, checkpoints=pinned) if pinned else None
    state = replay(shown)
    status = getattr(state, "status", None)
    summary = describe_case(events, lang)
    return CaseReport(
        case=summary,
        language=lang,
        as_of=day,
        generated_at=moment,
        prepared_by=prepared_by,
        status=term(status, lang) if status is not None else "—",
        status_code=str(status.value) if status is not None else "",
        entries=tuple(build_timeline(shown, lang)),
        events_in_store=len(events),
        verification=CaseVerification(chain=chain, log=log, newest_version=events[-1].originator_version),
        findings=tuple(check_case(shown, day, settings=settings)),
        rules_checked=rules_for(summary.kind),
        state=tuple(describe_state(state, lang)),
    )
