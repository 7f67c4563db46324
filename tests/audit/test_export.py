"""Exports of a case's audit: JSON with stable keys, CSV for Excel, a printable HTML page that escapes everything."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from uuid import UUID

import pytest

from grid_events import GridApplication, PerformanceStatus, RiskLevel, StoreConfig
from grid_events.audit import (
    CSV_COLUMNS,
    LANGUAGES,
    REPORT_FORMAT_VERSION,
    CaseReport,
    build_report,
    export_report,
    render_report,
    take_checkpoint,
    to_csv,
    to_html,
    to_json,
)
from grid_events.audit.export.formats import _inert
from grid_events.exceptions import ValidationError

from .histories import (
    MEDIATOR,
    TOUR_SECRETS,
    Clock,
    agreed,
    events_of,
    mediating,
    today,
    tour,
)

NOW = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def flagged(memory_app: GridApplication, clock: Clock) -> UUID:
    """A dispute with a high risk never reported, and a follow-up never made: one error, one warning."""
    dispute_id = agreed(memory_app, clock)
    memory_app.flag_escalation_risk(
        dispute_id, RiskLevel.HIGH, "<script>alert('x')</script> 扬言上门", ["分开调解"], actor=MEDIATOR
    )
    return dispute_id


def report_of(app: GridApplication, case_id: UUID, **options: object) -> CaseReport:
    """Build the report as of 10 January 2027 (China time), generated then."""
    return build_report(app, case_id, as_of=date(2027, 1, 10), now=NOW, **options)  # type: ignore[arg-type]


# -- JSON ---------------------------------------------------------------------------------------------


def test_the_json_report_reads_back_with_stable_keys(memory_app: GridApplication, flagged: UUID) -> None:
    """A machine reads the case, its verification, the findings and every event."""
    data = json.loads(to_json(report_of(memory_app, flagged)))

    assert {
        "format",
        "format_version",
        "language",
        "generated_at",
        "prepared_by",
        "as_of",
        "case",
        "verification",
        "summary",
        "findings",
        "rules_checked",
        "state",
        "timeline",
    } == set(data)
    assert ("grid-events-audit-report", REPORT_FORMAT_VERSION) == (data["format"], data["format_version"])
    assert {"id", "kind", "kind_name", "title", "opened_at", "status", "status_name", "events_in_store"} <= set(
        data["case"]
    )
    assert (str(flagged), "dispute", "agreed") == (data["case"]["id"], data["case"]["kind"], data["case"]["status"])
    assert "2027-01-10" == data["as_of"]
    assert "2027-01-10T10:00:00+08:00" == data["generated_at"]
    assert data["verification"]["ok"]
    assert {"errors": 1, "warnings": 1, "rules_checked": 12} == data["summary"]
    assert ["mediation.follow-up-due", "mediation.report-high-risk"] == [f["rule_id"] for f in data["findings"]]
    assert {"rule_id", "severity", "source", "title_zh", "title_en", "versions", "message_zh", "message_en"} == set(
        data["findings"][0]
    )
    assert len(events_of(memory_app, flagged)) == len(data["timeline"])
    entry = data["timeline"][-1]
    assert {
        "version",
        "recorded_at",
        "event_type",
        "actor_id",
        "role",
        "role_name",
        "what",
        "why",
        "evidence",
        "sealed",
        "findings",
        "integrity",
        "integrity_notes",
    } == set(entry)
    assert ("Dispute.EscalationRiskFlagged", "mediator", "调解员") == (
        entry["event_type"],
        entry["role"],
        entry["role_name"],
    )
    assert ["mediation.report-high-risk"] == entry["findings"]


def test_the_json_report_in_english(memory_app: GridApplication, flagged: UUID) -> None:
    """The words follow the report's language; keys and codes do not change."""
    data = json.loads(to_json(report_of(memory_app, flagged, lang="en")))

    assert "en" == data["language"]
    assert "mediator" == data["timeline"][-1]["role_name"]
    assert "people's mediation case" == data["case"]["kind_name"]


def test_the_report_leaves_out_what_was_recorded_after_its_date(memory_app: GridApplication, clock: Clock) -> None:
    """As of 10 November, the follow-up recorded on the 14th is not in the timeline, the findings or the state."""
    dispute_id = agreed(memory_app, clock)
    clock.advance(days=10)
    memory_app.record_follow_up(
        dispute_id, today(clock), PerformanceStatus.PARTLY, satisfied=False, escalation_signs=False, actor=MEDIATOR
    )

    report = build_report(memory_app, dispute_id, as_of=date(2026, 11, 10), now=NOW)

    assert len(events_of(memory_app, dispute_id)) - 1 == len(report.entries)
    assert report.events_in_store == len(report.entries) + 1
    assert "Dispute.AgreementTookEffect" == report.entries[-1].event_type
    assert "协议已生效" == report.status
    assert "回访" not in dict(report.state)


def test_a_report_before_the_case_existed_is_refused(memory_app: GridApplication, clock: Clock) -> None:
    """There is nothing to report on a date before the case was opened."""
    dispute_id = agreed(memory_app, clock)

    with pytest.raises(ValidationError, match="first recorded after"):
        build_report(memory_app, dispute_id, as_of=date(2026, 10, 1))


# -- CSV ---------------------------------------------------------------------------------------------------


def test_the_csv_has_a_byte_order_mark_and_one_row_per_event(memory_app: GridApplication, flagged: UUID) -> None:
    """Excel recognises UTF-8 by its BOM; the rows parse back with the header in Chinese."""
    data = render_report(report_of(memory_app, flagged), "csv")

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [column[1] for column in CSV_COLUMNS] == rows[0]
    assert len(events_of(memory_app, flagged)) == len(rows) - 1
    last = dict(zip(rows[0], rows[-1], strict=True))
    assert str(flagged) == last["案件编号"]
    assert "调解员" == last["角色"]
    assert "[违规] mediation.report-high-risk" in last["规则检查发现"]
    assert "完整" == last["完整性"]
    session = next(dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[5] == "Dispute.SessionRecorded")
    assert "[当事人陈述已加密] [当事人陈述已加密]" == session["加密的个人信息"]
    assert all(line.endswith(b"\r") for line in data.split(b"\n")[:-1])


def test_the_csv_in_english_has_english_headers(memory_app: GridApplication, flagged: UUID) -> None:
    """The header row follows the report's language."""
    text = to_csv(report_of(memory_app, flagged, lang="en"))

    assert text.startswith("\ufeffcase,version,recorded at,recorded by,role,event type")


def test_a_csv_cell_that_starts_like_a_formula_stays_text() -> None:
    """A text typed as =HYPERLINK(…) gets a leading apostrophe: a spreadsheet opening the CSV shows it, not runs it."""
    formula = '=HYPERLINK("http://example.invalid","点击")'
    assert "'" + formula == _inert(formula)
    assert ["'+1", "'-1", "'@SUM(A1)", "'\tx"] == [_inert(cell) for cell in ("+1", "-1", "@SUM(A1)", "\tx")]
    assert ["扬言上门", "2026-11-02T09:00:00+00:00", ""] == [
        _inert(c) for c in ("扬言上门", "2026-11-02T09:00:00+00:00", "")
    ]


# -- HTML --------------------------------------------------------------------------------------------------


class TagChecker(HTMLParser):
    """Checks that every opened element is closed in order (void elements aside), and records the tags."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002 (HTMLParser's)
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> TagChecker:
    """Parse *html* and return the checker."""
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    return checker


def test_the_html_report_is_well_formed_and_escapes_every_text(memory_app: GridApplication, flagged: UUID) -> None:
    """A reason holding <script> is shown as text, never run; every element is closed."""
    html = to_html(report_of(memory_app, flagged, prepared_by="街道审计 周敏"))

    checker = parsed(html)

    assert [] == checker.errors
    assert [] == checker.stack
    assert "script" not in checker.seen
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert('x')</script> 扬言上门" in "".join(checker.text)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html


def test_the_html_report_puts_verification_and_findings_first_and_prints(
    memory_app: GridApplication, flagged: UUID
) -> None:
    """The verdict, then the findings, then the state and the timeline; print CSS for A4."""
    html = to_html(report_of(memory_app, flagged, prepared_by="街道审计 周敏"))

    verdict, findings = html.index('class="verdict ok"'), html.index("二、规则检查：1 项违规，1 项提示")
    assert verdict < findings < html.index("三、案件状态") < html.index("四、全部记录")
    assert "✔ 未发现篡改" in html
    assert "@media print" in html
    assert "@page { size: A4" in html
    assert "mediation.report-high-risk" in html
    assert "街道审计 周敏" in html
    assert "审计人签字" in html
    assert "http" not in html.replace("http-equiv", "")  # self-contained: nothing fetched


def test_no_export_holds_personal_data(memory_app: GridApplication, clock: Clock) -> None:
    """Every toured case, in every format and language: no name, number or statement."""
    cases = tour(memory_app, clock)
    for case_id in cases.values():
        for lang in LANGUAGES:
            report = build_report(memory_app, case_id, lang=lang, now=clock())
            for fmt in ("json", "csv", "html"):
                text = render_report(report, fmt).decode("utf-8-sig")
                assert [] == [secret for secret in TOUR_SECRETS if secret in text], (case_id, lang, fmt)


def test_an_unknown_format_is_refused(memory_app: GridApplication, flagged: UUID) -> None:
    """Only json, csv and html."""
    with pytest.raises(ValidationError, match="format"):
        render_report(report_of(memory_app, flagged), "pdf")


def test_the_report_is_written_to_a_file(memory_app: GridApplication, flagged: UUID, tmp_path: Path) -> None:
    """export_report writes the bytes of the format."""
    path = export_report(report_of(memory_app, flagged), "html", tmp_path / "report.html")

    assert path.read_bytes().startswith(b"<!DOCTYPE html>")


# -- verification in the report -------------------------------------------------------------------------------


def test_a_report_on_a_tampered_case_says_so_and_marks_the_events(tmp_path: Path, clock: Clock) -> None:
    """An edited SQLite row: the verdict is tampering, the altered event and its witness are marked."""
    path = tmp_path / "events.sqlite3"
    with GridApplication(StoreConfig.sqlite(path), clock=clock) as app:
        dispute_id = mediating(app, clock)
        app.flag_escalation_risk(dispute_id, RiskLevel.MEDIUM, "楼道争吵", ["分开调解"], actor=MEDIATOR)
    connection = sqlite3.connect(path)
    with connection:
        rowid, state = connection.execute(
            "SELECT rowid, state FROM stored_events WHERE originator_id = ? AND originator_version = 5",
            (dispute_id.hex,),
        ).fetchone()
        altered = state.replace("飞凤社区调解室".encode(), "飞凤社区办公室".encode())
        assert altered != state
        connection.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (altered, rowid))
    connection.close()
    with GridApplication(StoreConfig.sqlite(path), clock=clock) as app:
        report = build_report(app, dispute_id, now=NOW)

    assert not report.verification.ok
    assert ["可能被改动（第 6 版的链接与之不符）"] == report.integrity_at(5)
    assert ["链接断裂：前一事件被改动或替换"] == report.integrity_at(6)
    assert "发现 1 处问题" in report.verification.verdict()
    assert "飞凤社区办公室" in report.entries[4].what  # what is stored now is shown, and flagged
    html = to_html(report)
    assert 'class="verdict bad"' in html
    assert "✘ 发现篡改迹象" in html
    assert 'class="tampered"' in html
    data = json.loads(to_json(report))
    assert ["broken_link"] == data["timeline"][5]["integrity"]
    assert not data["verification"]["ok"]


def test_a_report_with_a_checkpoint_vouches_for_the_whole_log(memory_app: GridApplication, flagged: UUID) -> None:
    """With a checkpoint kept outside, the newest event is covered too, and the report says so."""
    checkpoint = take_checkpoint(memory_app.recorder)

    report = report_of(memory_app, flagged, checkpoints=[checkpoint])

    assert report.verification.ok
    assert report.verification.log is not None
    assert 1 == report.verification.log.checkpoints_checked
    assert "已对照 1 个库外检查点校验整个日志" in report.verification.caveat()
    assert "最新的第" in report_of(memory_app, flagged).verification.caveat()


def test_a_report_is_built_on_every_store(app: GridApplication, clock: Clock) -> None:
    """Reading, replaying and verifying work the same on memory, SQLite and PostgreSQL."""
    dispute_id = agreed(app, clock)

    report = build_report(app, dispute_id, as_of=date(2026, 12, 31), now=clock() + timedelta(days=60))

    assert report.verification.ok
    assert ["mediation.follow-up-due"] == [finding.rule_id for finding in report.findings]
    assert len(events_of(app, dispute_id)) == len(report.entries) == report.verification.chain.events_checked
