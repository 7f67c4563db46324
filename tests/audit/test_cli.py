"""``grid-events audit`` on a SQLite store: what an auditor types, what they see, and the exit codes (0, 1, 2)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from uuid import UUID

import attrs
import pytest
from click.testing import CliRunner, Result

from grid_events import GridApplication, RiskLevel, StoreConfig
from grid_events.audit import rules_markdown
from grid_service.cli import main

from .histories import MEDIATOR, TOUR_SECRETS, Clock, mediating, rectified_inspection


@attrs.frozen
class Office:
    """A SQLite store holding a dispute (a high risk never reported) and a clean inspection."""

    path: Path
    dispute_id: UUID
    inspection_id: UUID

    def run(self, *args: str) -> Result:
        """Run ``grid-events audit ARGS`` on this store."""
        return CliRunner().invoke(main, ["audit", *args, "--sqlite-path", str(self.path)], catch_exceptions=False)

    def alter(self, case_id: UUID, version: int, old: bytes, new: bytes) -> None:
        """Change bytes of one stored event behind the application's back."""
        connection = sqlite3.connect(self.path)
        try:
            with connection:
                rowid, state = connection.execute(
                    "SELECT rowid, state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                    (case_id.hex, version),
                ).fetchone()
                assert old in state
                connection.execute(
                    "UPDATE stored_events SET state = ? WHERE rowid = ?", (state.replace(old, new), rowid)
                )
        finally:
            connection.close()


@pytest.fixture
def office(tmp_path: Path, clock: Clock) -> Office:
    """The store, built through GridApplication and closed again, as an office would leave it."""
    path = tmp_path / "grid-data" / "events.sqlite3"
    with GridApplication(StoreConfig.sqlite(path), clock=clock) as app:
        dispute_id = mediating(app, clock)
        app.flag_escalation_risk(dispute_id, RiskLevel.HIGH, "P1 家属扬言上门", ["分开调解"], actor=MEDIATOR)
        inspection_id = rectified_inspection(app, clock)
    return Office(path, dispute_id, inspection_id)


def short(case_id: UUID) -> str:
    """The first 8 characters of an id, as an auditor types them."""
    return str(case_id)[:8]


# -- finding and reading cases -------------------------------------------------------------------------------


def test_cases_lists_the_mediation_cases_and_inspections(office: Office) -> None:
    """Each case with its id, kind, date and what it is about."""
    result = office.run("cases")

    assert 0 == result.exit_code, result.output
    assert str(office.dispute_id) in result.output
    assert str(office.inspection_id) in result.output
    assert "人民调解案件" in result.output
    assert "吴记面馆消防安全检查" in result.output
    assert "共 2 件。" in result.output


def test_show_prints_the_whole_history_in_chinese(office: Office) -> None:
    """Who in which role, when, what and why; sealed data as placeholders; the chain's verdict at the end."""
    result = office.run("show", short(office.dispute_id))

    assert 0 == result.exit_code, result.output
    assert "人民调解案件  邻里纠纷：楼上卫生间渗水至楼下" in result.output
    assert "m-chen（调解员）" in result.output
    assert "s-wang（社区书记）" in result.output
    assert "[当事人陈述已加密]" in result.output
    assert "共 6 个事件。" in result.output
    assert "✔ 记录链完整" in result.output
    assert [] == [secret for secret in TOUR_SECRETS if secret in result.output]


def test_show_in_english_and_as_of_a_date(office: Office) -> None:
    """--lang en for English; --as-of leaves out what was recorded later."""
    result = office.run("show", short(office.dispute_id), "--lang", "en", "--as-of", "2026-11-02")

    assert 0 == result.exit_code, result.output
    assert "s-wang (community secretary)" in result.output
    assert "3 of 6 events, up to 2026-11-02." in result.output


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("0123abcd", "no case '0123abcd' in this store"),
        ("xyz", "is not a case id"),
        ("00000000-0000-0000-0000-000000000000", "no case"),
    ],
)
def test_an_unknown_case_is_a_usage_error(office: Office, case: str, message: str) -> None:
    """Exit 2, saying what to do."""
    result = office.run("show", case)

    assert 2 == result.exit_code
    assert message in result.output
    assert "grid-events audit cases" in result.output


def test_a_missing_store_is_a_usage_error(tmp_path: Path) -> None:
    """A wrong --sqlite-path is named, not created."""
    result = CliRunner().invoke(main, ["audit", "cases", "--sqlite-path", str(tmp_path / "nowhere.sqlite3")])

    assert 2 == result.exit_code
    assert "no event store at" in result.output


# -- the case as it stood ------------------------------------------------------------------------------------


def test_as_of_a_version_shows_the_state_then(office: Office) -> None:
    """Right after event 2: accepted, no mediator yet."""
    result = office.run("as-of", short(office.dispute_id), "--version", "2")

    assert 0 == result.exit_code, result.output
    assert "第 2 版（共 6 版）" in result.output
    assert "已受理" in result.output
    assert "调解员" not in result.output.split("调解期限")[1]


def test_as_of_a_moment_in_china_time(office: Office) -> None:
    """A time without a zone is China time; a bare date is the end of that day."""
    at_nine = office.run("as-of", short(office.dispute_id), "--at", "2026-11-02T09:00")
    that_day = office.run("as-of", short(office.dispute_id), "--at", "2026-11-03", "--lang", "en")

    assert 0 == at_nine.exit_code, at_nine.output
    assert "第 3 版（共 6 版）截至 2026-11-02 09:00:00 +0800" in at_nine.output
    assert "version 3 of 6 as of 2026-11-03 23:59:59 +0800" in that_day.output
    assert "mediator id" in that_day.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --at ISO-TIME or --version N"),
        (("--at", "2026-11-02", "--version", "1"), "give exactly one of"),
        (("--version", "99"), "has 6 events: give --version 1 to 6"),
        (("--at", "2026-10-01"), "did not exist yet at 2026-10-01"),
        (("--at", "yesterday"), "is not an ISO time"),
    ],
)
def test_as_of_needs_one_moment_within_the_case(office: Office, args: tuple[str, ...], message: str) -> None:
    """Exit 2 with the reason."""
    result = office.run("as-of", short(office.dispute_id), *args)

    assert 2 == result.exit_code
    assert message in result.output


# -- verification --------------------------------------------------------------------------------------------


def test_verify_an_untouched_store(office: Office) -> None:
    """Every event checked, nothing found: exit 0, with the reminder about checkpoints."""
    result = office.run("verify")

    assert 0 == result.exit_code, result.output
    assert "已校验 25 个事件（3 条记录链），对照 0 个检查点。" in result.output
    assert "✔ 未发现篡改。" in result.output
    assert "grid-events audit checkpoint" in result.output


def test_verify_finds_an_edited_event_and_names_it(office: Office) -> None:
    """The session's place changed in the file: exit 1, naming the dispute and version 5."""
    office.alter(office.dispute_id, 5, "飞凤社区调解室".encode(), "飞凤社区办公室".encode())

    whole = office.run("verify")
    case = office.run("verify", short(office.dispute_id), "--lang", "en")
    other = office.run("verify", short(office.inspection_id))
    shown = office.run("show", short(office.dispute_id))

    assert 1 == whole.exit_code
    assert f"第一处：记录 {office.dispute_id} 的第 6 版不能为第 5 版作证：第 5 版已被改动或替换" in whole.output
    assert 1 == case.exit_code
    assert "First: Dispute.EscalationRiskFlagged v6" in case.output
    assert 0 == other.exit_code
    assert 0 == shown.exit_code
    assert "✘ 可能被改动（第 6 版的链接与之不符）" in shown.output
    assert "✘ 记录链断裂，以上内容可能已被篡改" in shown.output


def test_an_unreadable_event_is_reported_not_shown(office: Office) -> None:
    """Garbage in place of an event: show and check say so (exit 1) and point to verify."""
    connection = sqlite3.connect(office.path)
    with connection:
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 3",
            (b"not an event", office.dispute_id.hex),
        )
    connection.close()

    shown = office.run("show", short(office.dispute_id))
    checked = office.run("check", "--all", "--as-of", "2026-11-05")
    verified = office.run("verify", short(office.dispute_id))

    assert 1 == shown.exit_code
    assert f"Run `grid-events audit verify {office.dispute_id}`" in shown.output
    assert 1 == checked.exit_code
    assert "另有 1 件无法读取。" in checked.output
    assert 1 == verified.exit_code
    assert "无法读取" in verified.output


def test_verifying_one_case_against_a_checkpoint_counts_problems_elsewhere(office: Office, tmp_path: Path) -> None:
    """The case is intact; another record was altered: exit 1, pointing to the whole-store verification."""
    checkpoints = tmp_path / "checkpoints.jsonl"
    office.run("checkpoint", "-o", str(checkpoints))
    office.alter(office.inspection_id, 5, b"no_sleeping_on_premises", b"no_sleeping_on_premiseZ")

    result = office.run("verify", short(office.dispute_id), "--checkpoint", str(checkpoints))

    assert 1 == result.exit_code
    assert "案件" in result.output
    assert "其他记录另有 1 处问题" in result.output
    assert "与检查点不符" in result.output


def test_only_a_checkpoint_catches_a_change_to_the_newest_event(office: Office, tmp_path: Path) -> None:
    """Nothing vouches for the last event of a chain but a checkpoint kept outside the store."""
    checkpoints = tmp_path / "outside" / "checkpoints.jsonl"
    checkpoints.parent.mkdir()
    taken = office.run("checkpoint", "-o", str(checkpoints))
    office.alter(office.inspection_id, 18, b"s-wang", b"s-wxng")

    without = office.run("verify")
    with_checkpoint = office.run("verify", "--checkpoint", str(checkpoints))

    assert 0 == taken.exit_code, taken.output
    assert "已追加到" in taken.output
    assert 1 == len(checkpoints.read_text().splitlines())
    assert 0 == without.exit_code
    assert 1 == with_checkpoint.exit_code
    assert "与检查点不符" in with_checkpoint.output


def test_a_checkpoint_is_printed_when_no_file_is_given(office: Office) -> None:
    """Printed on stdout (to pipe elsewhere), the note on stderr."""
    result = CliRunner().invoke(main, ["audit", "checkpoint", "--sqlite-path", str(office.path)])

    assert 0 == result.exit_code
    data = json.loads(result.stdout)
    assert {"events": 25, "notification_id": 25} == {key: data[key] for key in ("events", "notification_id")}
    assert "请把它保存在数据库之外" in result.stderr


def test_a_file_that_is_no_checkpoint_is_a_usage_error(office: Office, tmp_path: Path) -> None:
    """Exit 2, naming the file and line, and how to take one."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"notification_id": 3}\n')

    result = office.run("verify", "--checkpoint", str(bad))

    assert 2 == result.exit_code
    assert "bad.jsonl, line 1" in result.output
    assert "grid-events audit checkpoint -o FILE" in result.output


# -- rule checks ---------------------------------------------------------------------------------------------


def test_check_a_case_with_an_error_exits_1(office: Office) -> None:
    """A high risk unreported: the finding is listed, with its rule, versions and source."""
    result = office.run("check", short(office.dispute_id), "--as-of", "2026-11-10")

    assert 1 == result.exit_code
    assert "mediation.report-high-risk" in result.output
    assert "人民调解法 Art. 25" in result.output
    assert "截至 2026-11-10，检查 1 件：1 项违规，0 项提示。" in result.output


def test_check_a_clean_case_or_an_earlier_date_exits_0(office: Office) -> None:
    """The inspection keeps every rule; the dispute did too, the day after the risk was flagged."""
    clean = office.run("check", short(office.inspection_id), "--as-of", "2026-12-31")
    earlier = office.run("check", short(office.dispute_id), "--as-of", "2026-11-05", "--lang", "en")

    assert 0 == clean.exit_code, clean.output
    assert 0 == earlier.exit_code, earlier.output
    assert "As of 2026-11-05, 1 case(s) checked: 0 error(s), 0 warning(s)." in earlier.output


def test_check_all_checks_every_case(office: Office) -> None:
    """--all: both cases, the findings marked with their case."""
    result = office.run("check", "--all", "--as-of", "2026-12-31")

    assert 1 == result.exit_code
    assert short(office.dispute_id) in result.output
    assert "检查 2 件" in result.output


@pytest.mark.parametrize("args", [(), ("--all", "abcd1234")])
def test_check_needs_a_case_or_all(office: Office, args: tuple[str, ...]) -> None:
    """Exit 2 unless exactly one of CASE and --all is given."""
    result = office.run("check", *args)

    assert 2 == result.exit_code
    assert "give a CASE id, or --all" in result.output


# -- export --------------------------------------------------------------------------------------------------


def test_export_writes_each_format(office: Office, tmp_path: Path) -> None:
    """JSON, CSV and HTML files that parse back."""
    outputs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "csv", "html")}
    results = [
        office.run(
            "export",
            short(office.dispute_id),
            "--format",
            fmt,
            "-o",
            str(path),
            "--as-of",
            "2026-11-10",
            "--prepared-by",
            "周敏",
        )
        for fmt, path in outputs.items()
    ]

    assert [0, 0, 0] == [result.exit_code for result in results], results[0].output
    assert "6 个事件；校验：完整；1 项违规，0 项提示。" in results[0].output
    data = json.loads(outputs["json"].read_text())
    assert (str(office.dispute_id), "周敏", "2026-11-10") == (data["case"]["id"], data["prepared_by"], data["as_of"])
    rows = list(csv.reader(io.StringIO(outputs["csv"].read_bytes().decode("utf-8-sig"))))
    assert 7 == len(rows)
    assert outputs["html"].read_text().startswith("<!DOCTYPE html>")


def test_export_with_a_bad_format_is_a_usage_error(office: Office, tmp_path: Path) -> None:
    """Click names the choices."""
    result = office.run("export", short(office.dispute_id), "--format", "pdf", "-o", str(tmp_path / "x.pdf"))

    assert 2 == result.exit_code
    assert "'pdf' is not one of 'json', 'csv', 'html'" in result.output


# -- the rules and the help ----------------------------------------------------------------------------------


def test_rules_prints_the_registry(office: Office) -> None:
    """--markdown prints the table of docs/audit.md."""
    result = CliRunner().invoke(main, ["audit", "rules", "--markdown"])
    table = CliRunner().invoke(main, ["audit", "rules", "--lang", "en"])

    assert 0 == result.exit_code
    assert rules_markdown("zh") == result.output
    assert "mediation.agreement-signed-by-all" in table.output
    assert office.path.exists()


@pytest.mark.parametrize("command", ["cases", "show", "as-of", "verify", "checkpoint", "check", "export", "rules"])
def test_every_command_has_help(command: str) -> None:
    """``--help`` explains each command and its options."""
    result = CliRunner().invoke(main, ["audit", command, "--help"])

    assert 0 == result.exit_code
    assert "Usage: main audit" in result.output or "Usage: " in result.output
    assert len(result.output.splitlines()) > 3
