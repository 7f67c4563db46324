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

The modules: :mod:`~grid_events.audit.export.report` builds the report,
:mod:`~grid_events.audit.export.formats` writes it as JSON or CSV (and picks
a format), :mod:`~grid_events.audit.export.html_page` as HTML.
"""

from __future__ import annotations

from grid_events.audit.export.formats import (
    CSV_COLUMNS,
    EXPORT_FORMATS,
    REPORT_FORMAT_VERSION,
    ExportFormat,
    export_report,
    render_report,
    report_dict,
    to_csv,
    to_json,
)
from grid_events.audit.export.html_page import to_html
from grid_events.audit.export.report import PROBLEM_NAMES as PROBLEM_NAMES
from grid_events.audit.export.report import (
    CaseReport,
    CaseVerification,
    build_report,
    integrity_notes,
    problem_name,
    problem_text,
)

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
