"""The report in each export format: JSON for machines and CSV for spreadsheets here, HTML in ``html_page``.

:func:`render_report` returns the report in a format as the bytes of its
file; :func:`export_report` writes that file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Final, Literal

from grid_events.audit.export.html_page import to_html
from grid_events.audit.export.report import CaseReport
from grid_events.audit.timeline import TimelineEntry
from grid_events.exceptions import ValidationError

__all__ = [
    "CSV_COLUMNS",
    "EXPORT_FORMATS",
    "REPORT_FORMAT_VERSION",
    "ExportFormat",
    "export_report",
    "render_report",
    "report_dict",
    "to_csv",
    "to_json",
]

REPORT_FORMAT_VERSION: Final = 1
"""The version of the JSON report's layout; a change that removes or renames a key raises it."""

ExportFormat = Literal["json", "csv", "html"]
EXPORT_FORMATS: Final[tuple[ExportFormat, ...]] = ("json", "csv", "html")


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
        writer.writerow([_inert(cell) for cell in _csv_row(report, entry)])
    return buffer.getvalue()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula in a cell."""


def _inert(cell: str) -> str:
    """Return *cell* as a spreadsheet shows text: ``=HYPERLINK(…)`` and the like get a leading apostrophe.

    A worker's reason or a statement may start like a formula; a spreadsheet opening the CSV would run it.
    """
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


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
