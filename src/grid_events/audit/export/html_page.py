"""The report as one printable page: self-contained HTML (no script, no external file) that prints on A4.

The verification result and the findings come first, then the case's state
and its whole record; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Final

from grid_events.audit.export.report import CaseReport, problem_name, problem_text
from grid_events.audit.timeline import Language

__all__ = ["to_html"]

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
