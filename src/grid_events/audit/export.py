"""What an auditor found about one case, to keep and to hand on: JSON, CSV and a printable HTML report.

:func:`build_report` gathers everything about a case as it stood on a date:
its timeline in words (:mod:`grid_events.audit.timeline`), the proof that
its stored events were not altered (:mod:`grid_events.audit.verify`), the
rule findings (:mod:`grid_events.audit.rules`) and its state. Then

* :func:`to_json` writes it for machines, with stable keys
  (``format_version`` 1, described in ``docs/audit.md``);
* :func:`to_csv` writes one row per event, UTF-8 with a byte-order mark so
  that Excel opens the Chinese text correctly;
* :func:`to_html` writes one self-contained page (no scripts, no external
  files) that prints on A4, with the verification result and the findings
  first.

Personal data stays sealed in every format: the report holds placeholders
such as ``[当事人陈述已加密]``, never a name, number or statement.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any, Final, Literal
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
    "CSV_COLUMNS",
    "EXPORT_FORMATS",
    "REPORT_FORMAT_VERSION",
    "CaseReport",
    "CaseVerification",
    "ExportFormat",
    "build_report",
    "export_report",
    "integrity_notes",
    "problem_name",
    "problem_text",
    "render_report",
    "report_dict",
    "to_csv",
    "to_html",
    "to_json",
]

REPORT_FORMAT_VERSION: Final = 1
"""The version of the JSON report's layout; a change that removes or renames a key raises it."""

ExportFormat = Literal["json", "csv", "html"]
EXPORT_FORMATS: Final[tuple[ExportFormat, ...]] = ("json", "csv", "html")

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


# -- JSON -------------------------------------------------------------------------------------------------


def report_dict(report: CaseReport) -> dict[str, Any]:
    """Return the report as JSON-ready data with stable keys (``format_version`` 1)."""
    lang = report.language
    return {
        "format": "grid-events-audit-report",
        "format_version": REPORT_FORMAT_VERSION,
        "language": lang,
        "generated_at": report.generated_at.isoformat(),
        "prepared_by": report.prepared_by,
        "as_of": report.as_of.isoformat(),
        "case": {
            "id": str(report.case.case_id),
            "kind": report.case.kind,
            "kind_name": report.case.kind_name,
            "title": report.case.title,
            "opened_at": report.case.opened_at.isoformat(),
            "status": report.status_code,
            "status_name": report.status,
            "events_in_store": report.events_in_store,
            "events_in_report": len(report.entries),
        },
        "verification": report.verification.to_dict(lang),
        "summary": {
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "rules_checked": len(report.rules_checked),
        },
        "findings": [finding.to_dict() for finding in report.findings],
        "rules_checked": [rule.to_dict() for rule in report.rules_checked],
        "state": [{"label": label, "value": value} for label, value in report.state],
        "timeline": [
            {
                **entry.to_dict(),
                "findings": [finding.rule_id for finding in report.findings_at(entry.version)],
                "integrity": [problem.kind.value for problem in report.problems_at(entry.version)],
                "integrity_notes": report.integrity_at(entry.version),
            }
            for entry in report.entries
        ],
    }


def to_json(report: CaseReport) -> str:
    """Return the report as JSON (UTF-8 text, Chinese unescaped, indented)."""
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"


# -- CSV --------------------------------------------------------------------------------------------------

CSV_COLUMNS: Final[tuple[tuple[str, str, str], ...]] = (
    ("case_id", "案件编号", "case"),
    ("version", "版本", "version"),
    ("recorded_at", "记录时间", "recorded at"),
    ("actor_id", "记录人", "recorded by"),
    ("role", "角色", "role"),
    ("event_type", "事件类型", "event type"),
    ("what", "事项", "what happened"),
    ("why", "原因", "why"),
    ("evidence", "证据", "evidence"),
    ("sealed", "加密的个人信息", "sealed personal data"),
    ("findings", "规则检查发现", "rule findings"),
    ("integrity", "完整性", "integrity"),
)
"""The CSV's columns: key, Chinese header, English header (the header row is in the report's language)."""


def _csv_row(report: CaseReport, entry: TimelineEntry) -> list[str]:
    lang = report.language
    findings = report.findings_at(entry.version)
    integrity = "; ".join(report.integrity_at(entry.version)) or ("完整" if lang == "zh" else "intact")
    return [
        str(entry.aggregate_id),
        str(entry.version),
        entry.recorded_at.isoformat(),
        entry.actor_id,
        entry.role_name,
        entry.event_type,
        entry.what,
        entry.why,
        "\n".join(entry.evidence_texts()),
        " ".join(entry.sealed),
        "\n".join(
            f"[{finding.severity.name_in(lang)}] {finding.rule_id}: {finding.message(lang)}" for finding in findings
        ),
        integrity,
    ]


def to_csv(report: CaseReport) -> str:
    """Return one row per event, headed in the report's language, starting with a byte-order mark.

    Written as UTF-8, the leading U+FEFF becomes the BOM by which Excel
    recognises UTF-8; rows end in CRLF. Findings and integrity problems of an
    event are in its row; the report's findings that concern no single event
    are in JSON and HTML only.
    """
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    header_index = 1 if report.language == "zh" else 2
    writer.writerow([column[header_index] for column in CSV_COLUMNS])
    for entry in report.entries:
        writer.writerow(_csv_row(report, entry))
    return buffer.getvalue()


# -- HTML -------------------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       font-size: 10.5pt; line-height: 1.5; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0 0 .2em; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; padding-bottom: .2em; margin-top: 1.6em; }
.subtitle { font-size: 12pt; margin: 0 0 1em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
.verdict { border: 3px solid; padding: .6em 1em; margin: 1.2em 0; }
.verdict.ok { border-color: #1b7a2e; background: #eef8f0; }
.verdict.bad { border-color: #b00020; background: #fdecee; }
.verdict .result { font-size: 14pt; font-weight: bold; margin: 0 0 .3em; }
.verdict.ok .result { color: #1b7a2e; }
.verdict.bad .result { color: #b00020; }
.caveat { font-size: 9.5pt; color: #333; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #999; padding: .25em .4em; vertical-align: top; text-align: left; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
td.time { white-space: nowrap; }
.sev { font-weight: bold; white-space: nowrap; }
.sev.error { color: #b00020; }
.sev.warning { color: #8a5a00; }
tr.flagged td { background: #fff6e0; }
tr.tampered td { background: #fdecee; }
.why { color: #333; }
.small { font-size: 9pt; color: #444; }
.none { color: #1b7a2e; font-weight: bold; }
.sign { margin-top: 3em; display: grid; grid-template-columns: 1fr 1fr; gap: 2em; }
.sign div { border-top: 1px solid #111; padding-top: .3em; }
footer { margin-top: 2em; font-size: 9pt; color: #444; border-top: 1px solid #999; padding-top: .5em; }
@page { size: A4; margin: 15mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, .verdict, .sign { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""

_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "report": ("审计报告", "Audit report"),
    "case_id": ("案件编号", "Case"),
    "kind": ("类型", "Kind"),
    "status": ("状态", "Status"),
    "as_of": ("截至日期", "As of"),
    "generated": ("生成时间", "Generated"),
    "prepared_by": ("审计人", "Prepared by"),
    "events": ("事件数", "Events"),
    "integrity": ("一、记录完整性（防篡改校验）", "1. Integrity of the record (tamper evidence)"),
    "intact": ("✔ 未发现篡改", "✔ No tampering found"),
    "tampered": ("✘ 发现篡改迹象", "✘ Signs of tampering found"),
    "findings": ("二、规则检查", "2. Rule checks"),
    "no_findings": ("未发现违反规则的情况。", "No breach of the rules was found."),
    "state": ("三、案件状态", "3. The case as it stood"),
    "timeline": ("四、全部记录", "4. The whole record"),
    "severity": ("严重程度", "Severity"),
    "rule": ("规则", "Rule"),
    "source": ("依据", "Source"),
    "versions": ("涉及版本", "Events"),
    "message": ("说明", "What is wrong"),
    "version": ("版本", "v"),
    "time": ("记录时间", "Recorded"),
    "actor": ("记录人（角色）", "By (role)"),
    "what": ("事项", "What happened"),
    "why": ("原因", "Why"),
    "evidence": ("证据", "Evidence"),
    "problem": ("问题", "Problem"),
    "position": ("位置", "Where"),
    "rules_checked": ("已检查的规则", "Rules checked"),
    "signature": ("审计人签字", "Auditor's signature"),
    "date": ("日期", "Date"),
    "privacy": (
        "本报告不含个人信息：当事人身份、陈述、居民档案等均保持加密，仅以占位符标明其存在。",
        (
            "This report holds no personal data: parties' identities, statements and residents' records stay "
            "sealed and are shown only as placeholders."
        ),
    ),
    "made_by": ("由 grid-events 审计工具生成", "Made by the grid-events audit tool"),
}


def _label(key: str, lang: Language) -> str:
    words = _LABELS[key]
    return words[0] if lang == "zh" else words[1]


def _h(text: object) -> str:
    return escape(str(text), quote=True)


def _lines(texts: Iterable[str]) -> str:
    return "<br>".join(_h(text) for text in texts)


def _html_verification(report: CaseReport) -> list[str]:
    lang = report.language
    verification = report.verification
    ok = verification.ok
    parts = [
        f'<section class="verdict {"ok" if ok else "bad"}">',
        f"<h2>{_h(_label('integrity', lang))}</h2>",
        f'<p class="result">{_h(_label("intact" if ok else "tampered", lang))}</p>',
        f"<p>{_h(verification.verdict(lang))}</p>",
    ]
    if not ok:
        parts.append(
            f"<table><thead><tr><th>{_h(_label('position', lang))}</th><th>{_h(_label('problem', lang))}</th>"
            f"<th>{_h(_label('message', lang))}</th></tr></thead><tbody>"
        )
        for problem in verification.problems:
            where = f"v{problem.version}" if problem.version is not None else f"#{problem.notification_id}"
            parts.append(
                f'<tr><td class="num">{_h(where)}</td><td>{_h(problem_name(problem.kind, lang))}</td>'
                f"<td>{_h(problem_text(problem, lang))}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append(f'<p class="caveat">{_h(verification.caveat(lang))}</p>')
    parts.append("</section>")
    return parts


def _html_findings(report: CaseReport) -> list[str]:
    lang = report.language
    errors, warnings = len(report.errors), len(report.warnings)
    count = f"：{errors} 项违规，{warnings} 项提示" if lang == "zh" else f": {errors} error(s), {warnings} warning(s)"
    parts = [f"<section><h2>{_h(_label('findings', lang) + count)}</h2>"]
    if not report.findings:
        parts.append(f'<p class="none">{_h(_label("no_findings", lang))}</p>')
    else:
        parts.append(
            "<table><thead><tr>"
            + "".join(
                f"<th>{_h(_label(key, lang))}</th>" for key in ("severity", "rule", "versions", "message", "source")
            )
            + "</tr></thead><tbody>"
        )
        for finding in report.findings:
            versions = ", ".join(f"v{version}" for version in finding.versions)
            parts.append(
                f'<tr><td class="sev {_h(finding.severity.value)}">{_h(finding.severity.name_in(lang))}</td>'
                f"<td><code>{_h(finding.rule_id)}</code><br>{_h(finding.title(lang))}</td>"
                f'<td class="num">{_h(versions)}</td><td>{_h(finding.message(lang))}</td>'
                f"<td>{_h(finding.source)}</td></tr>"
            )
        parts.append("</tbody></table>")
    checked = ", ".join(rule.rule_id for rule in report.rules_checked)
    colon = "：" if lang == "zh" else ": "
    parts.append(f'<p class="small">{_h(_label("rules_checked", lang))}{colon}{_h(checked)}</p></section>')
    return parts


def _html_state(report: CaseReport) -> list[str]:
    lang = report.language
    title = _label("state", lang) + (f"（截至 {report.as_of}）" if lang == "zh" else f" (as of {report.as_of})")
    rows = "".join(f"<tr><th>{_h(label)}</th><td>{_h(value)}</td></tr>" for label, value in report.state)
    return [f"<section><h2>{_h(title)}</h2><table><tbody>{rows}</tbody></table></section>"]


def _html_timeline(report: CaseReport) -> list[str]:
    lang = report.language
    keys = ("version", "time", "actor", "what", "why", "evidence")
    parts = [
        f"<section><h2>{_h(_label('timeline', lang))}</h2><table><thead><tr>"
        + "".join(f"<th>{_h(_label(key, lang))}</th>" for key in keys)
        + "</tr></thead><tbody>"
    ]
    for entry in report.entries:
        flagged = report.findings_at(entry.version)
        tampered = report.integrity_at(entry.version)
        css = ' class="tampered"' if tampered else (' class="flagged"' if flagged else "")
        marks = [f"⚑ {finding.rule_id}" for finding in flagged] + [f"✘ {note}" for note in tampered]
        what = _h(entry.what) + (f'<br><span class="small">{_lines(marks)}</span>' if marks else "")
        parts.append(
            f'<tr{css}><td class="num">{entry.version}</td><td class="time">{_h(entry.time_text)}</td>'
            f"<td>{_h(entry.actor_text)}<br>"
            f'<span class="small">{_h(entry.event_type)}</span></td><td>{what}</td>'
            f'<td class="why">{_h(entry.why)}</td><td class="small">{_lines(entry.evidence_texts())}</td></tr>'
        )
    parts.append("</tbody></table></section>")
    return parts


def to_html(report: CaseReport) -> str:
    """Return a printable, self-contained HTML page of the report (every text escaped, no script)."""
    lang = report.language
    case = report.case
    title = f"{_label('report', lang)} — {case.kind_name} — {case.title}"
    meta = [
        ("case_id", str(case.case_id)),
        ("kind", case.kind_name),
        ("status", report.status),
        ("as_of", report.as_of.isoformat()),
        ("events", f"{len(report.entries)} / {report.events_in_store}"),
        ("generated", report.generated_at.strftime("%Y-%m-%d %H:%M:%S %z")),
    ]
    if report.prepared_by:
        meta.append(("prepared_by", report.prepared_by))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)}</title>",
        f"<style>{_CSS}</style></head>",
        "<body>",
        f"<header><h1>{_h(case.kind_name)}{_h(_label('report', lang))}</h1>",
        f'<p class="subtitle">{_h(case.title)}</p>',
        '<dl class="meta">'
        + "".join(f"<dt>{_h(_label(key, lang))}</dt><dd>{_h(value)}</dd>" for key, value in meta)
        + "</dl></header>",
        *_html_verification(report),
        *_html_findings(report),
        *_html_state(report),
        *_html_timeline(report),
        f'<div class="sign"><div>{_h(_label("signature", lang))}</div><div>{_h(_label("date", lang))}</div></div>',
        (
            f"<footer><p>{_h(_label('privacy', lang))}</p><p>{_h(_label('made_by', lang))}"
            f"{'，' if lang == 'zh' else ', '}{_h(report.generated_at.isoformat())}</p></footer>"
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# -- writing ------------------------------------------------------------------------------------------------


def render_report(report: CaseReport, fmt: str) -> bytes:
    """Return the report in *fmt* (``json``, ``csv``, ``html``) as the bytes of its file (UTF-8)."""
    if fmt == "json":
        return to_json(report).encode()
    if fmt == "csv":
        return to_csv(report).encode()
    if fmt == "html":
        return to_html(report).encode()
    raise ValidationError("format", f"{fmt!r} is not an export format: choose json, csv or html")


def export_report(report: CaseReport, fmt: str, path: str | Path) -> Path:
    """Write the report in *fmt* to *path* (replacing it) and return the path."""
    target = Path(path)
    target.write_bytes(render_report(report, fmt))
    return target
