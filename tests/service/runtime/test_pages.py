"""The audit pages over HTTP: register and inspection list linking to each case's verification, findings, timeline.

A real service (NATS, relay, views caught up) serves the pages from a real
event store; tampering changes the stored bytes of an event behind the
application's back, as in the audit's own tests.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from grid_events import Actor, GridApplication, GridCell, PersonalData, Role
from grid_events.privacy.access import data_subject_id
from grid_events.transport import NatsSettings, OutboxRelay
from grid_service.runtime.api import create_app
from grid_service.runtime.auth import Accounts
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import ViewStoreSettings
from grid_service.views.base import VaultMasker

from .helpers import fast_settings
from .pages_helpers import (
    AS_OF,
    FINDING_VERSION,
    MARKUP,
    REASON,
    SECRETS,
    SESSION_VERSION,
    Cases,
    Clock,
    Logins,
    Node,
    caught_up_service,
    credentials,
    make_logins,
    parse,
    record_cases,
    tamper,
)


@pytest.fixture
def cases(app: GridApplication, clock: Clock) -> Cases:
    """The history to audit, recorded on the hand-driven clock."""
    app.clock = clock
    return record_cases(app, clock)


@pytest.fixture
def logins(tmp_path: Path) -> Logins:
    """The service's accounts: an auditor and a grid worker."""
    return make_logins(tmp_path)


def _client(service: GridService, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(service, manage_lifecycle=False))
    return httpx.AsyncClient(transport=transport, base_url="http://service", headers=headers)


@pytest_asyncio.fixture
async def served(
    *,
    app: GridApplication,
    cases: Cases,
    logins: Logins,
    relay: OutboxRelay,
    nats_settings: NatsSettings,
    sqlite_views: ViewStoreSettings,
) -> AsyncIterator[GridService]:
    """The service, its views caught up with the history, the event store at hand."""
    settings = fast_settings(nats_settings, sqlite_views, event_store=app.config, accounts=logins.path)
    async with caught_up_service(GridService(settings, app=app, relay=relay.status), relay) as service:
        yield service


@pytest_asyncio.fixture
async def http(served: GridService, logins: Logins) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the service, logged in as the auditor (HTTP Basic, as browsers do)."""
    async with _client(served, credentials(logins.auditor)) as client:
        yield client


async def _page(client: httpx.AsyncClient, path: str, **params: str) -> Node:
    answer = await client.get(path, params=params or None)
    assert 200 == answer.status_code, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    for secret in SECRETS:
        assert secret not in answer.text, f"personal data {secret!r} on {path}"
    return parse(answer.text)


def _link(page: Node, case_id: uuid.UUID) -> str:
    return page.find("a", class_="audit-link", data_case=str(case_id)).attributes["href"]


@pytest.mark.asyncio
async def test_the_register_lists_each_case_with_a_link_to_its_audit_page(
    http: httpx.AsyncClient, cases: Cases
) -> None:
    """The mediation register as a table, in Chinese with the English beside, each case linking to its audit."""
    page = await _page(http, "/pages/disputes", as_of=AS_OF.isoformat())
    assert "人民调解台账 Mediation register" == page.find("h1").text()
    agreed, markup = page.rows("register")
    assert ["2026-11-02", "邻里纠纷", "楼上卫生间渗水至楼下", "江南/飞凤/03", "2", "m-chen", "协议已生效"] == [
        cell.text("zh") for cell in agreed.find_all("td")[:7]
    ]
    assert "neighbours' dispute" == agreed.find_all("td")[1].text("en")
    assert f"cases/{cases.dispute}?as_of={AS_OF}" == _link(page, cases.dispute)
    assert MARKUP == markup.find_all("td")[2].text()  # shown as text, not markup
    assert [] == page.find_all("script") == page.find_all("b")
    assert "第 1–2 条，共 2 条" == page.find("p", id="pager").text("zh")
    nav = page.find("nav")
    assert [f"disputes?as_of={AS_OF}", f"inspections?as_of={AS_OF}"] == [
        link.attributes["href"] for link in nav.find_all("a")
    ]

    first = await _page(http, "/pages/disputes", as_of=AS_OF.isoformat(), limit="1")
    assert 1 == len(first.rows("register"))
    following = first.find("a", rel="next").attributes["href"]
    second = await _page(http, f"/pages/disputes{following}")
    (row,) = second.rows("register")
    assert MARKUP == row.find_all("td")[2].text()
    assert second.find("a", rel="prev")


@pytest.mark.asyncio
async def test_the_inspection_list_links_each_inspection_to_its_audit_page(
    http: httpx.AsyncClient, cases: Cases
) -> None:
    """The inspections with their hazards, each linking to its audit page."""
    page = await _page(http, "/pages/inspections", as_of=AS_OF.isoformat())
    (row,) = page.rows("inspections")
    cells = row.find_all("td")
    assert ["2026-11-04 09:00", "吴记面馆消防安全检查", "吴记面馆 飞凤路 18 号", "江南/飞凤/03", "so-zhao"] == [
        cell.text() for cell in cells[:5]
    ]
    assert "1 项（未整改 0，已整改 1，已上报 0）" == cells[6].text("zh")
    assert "1 (0 open, 1 rectified, 0 reported)" == cells[6].text("en")
    assert f"cases/{cases.inspection}?as_of={AS_OF}" == _link(page, cases.inspection)
    assert f"inspections?as_of={AS_OF}" == page.find("a", id="nav-inspections").attributes["href"]


@pytest.mark.asyncio
async def test_a_disputes_audit_page_shows_verification_findings_and_timeline(
    http: httpx.AsyncClient, cases: Cases
) -> None:
    """Verified; the rules' findings naming their rules; each step in Chinese and English, personal data sealed."""
    page = await _page(http, f"/pages/cases/{cases.dispute}", as_of=AS_OF.isoformat())
    assert "邻里纠纷：楼上卫生间渗水至楼下" == page.find(id="title").text("zh")
    verification = page.find(id="verification")
    assert "verified" == verification.attributes["data-status"]
    assert "已校验：哈希链完整，未发现篡改" in verification.text("zh")
    assert "Verified: the hash chain is intact" in verification.text("en")
    assert "12 个事件均未被改动" in verification.text("zh")

    findings = {row.attributes["data-rule"]: row for row in page.rows("findings")}
    assert ["mediation.report-high-risk", "mediation.follow-up-due"] == list(findings)
    risk = findings["mediation.report-high-risk"].find_all("td")
    assert ("违规", "error", "v6", "人民调解法 Art. 25") == (
        risk[0].text("zh"),
        risk[0].text("en"),
        risk[2].text(),
        risk[4].text(),
    )
    assert "2026-11-04 发现高风险，截至 2026-11-29 仍未报告公安机关（应于 2026-11-05 前）" == risk[3].text("zh")
    assert risk[3].text("en").startswith("a high risk flagged on 2026-11-04 is still not reported to the police")

    rows = {int(row.attributes["data-version"]): row.find_all("td") for row in page.rows("timeline")}
    assert list(range(1, 13)) == list(rows)
    session = rows[SESSION_VERSION]
    assert ["5", "2026-11-04 09:00:00", "m-chen 调解员"] == [cell.text("zh") for cell in session[:3]]
    assert "mediator" == session[2].text("en")
    assert session[3].text("zh").startswith("召开调解会，时间 2026-11-04 08:00，地点 飞凤社区调解室")
    assert "当事人陈述：P1 [当事人陈述已加密]、P2 [当事人陈述已加密]" in session[3].text("zh")
    assert session[3].text("en").startswith("held a mediation session at 2026-11-04 08:00 in 飞凤社区调解室")
    assert "statements: P1 [statement sealed], P2 [statement sealed]" in session[3].text("en")
    risk_row = rows[6]
    assert "P1 家属扬言上门理论" in risk_row[3].text("zh") + risk_row[4].text("zh")
    assert "mediation.report-high-risk" in risk_row[3].text()
    extension = rows[7]
    assert "经当事人 P1、P2 同意，调解期限延长至 2026-12-19" == extension[3].text("zh")
    assert "extended the time limit to 2026-12-19 with the consent of P1, P2" == extension[3].text("en")
    assert (REASON, REASON) == (extension[4].text("zh"), extension[4].text())  # as recorded, in one language
    investigation = rows[4][5]
    assert "照片 evidence://2026/11/601-bathroom.jpg sha256:abababababababab…（601-bathroom）" == investigation.text(
        "zh"
    )
    assert "photo evidence://2026/11/601-bathroom.jpg" in investigation.text("en")
    assert [] == page.find_all("tr", class_="tampered")


@pytest.mark.asyncio
async def test_an_inspections_audit_page_shows_the_hazard_the_reinspection_and_the_late_finding(
    http: httpx.AsyncClient, cases: Cases
) -> None:
    """The hazard, the notice and the re-inspection in words; the late re-inspection as a warning."""
    page = await _page(http, f"/pages/cases/{cases.inspection}", as_of=AS_OF.isoformat())
    assert "verified" == page.find(id="verification").attributes["data-status"]
    (finding,) = page.rows("findings")
    assert "inspection.reinspection-within-3-working-days" == finding.attributes["data-rule"]
    cells = finding.find_all("td")
    assert ("提示", "warning", "v13, v14") == (cells[0].text("zh"), cells[0].text("en"), cells[2].text())
    assert "2026-11-14 才复查" in cells[3].text("zh")
    assert "re-inspected only on 2026-11-14" in cells[3].text("en")
    rows = {int(row.attributes["data-version"]): row.find_all("td") for row in page.rows("timeline")}
    hazard = rows[FINDING_VERSION]
    assert hazard[3].text("zh").startswith("发现隐患 F1（较大隐患）：后门安全出口被纸箱和食材堵塞")
    assert ("so-zhao 安全员", "safety officer") == (hazard[2].text("zh"), hazard[2].text("en"))
    reinspection = rows[14]
    assert "复查隐患 F1（第 1 份通知书），复查日期 2026-11-14：通过" in reinspection[3].text("zh")
    assert "back-exit-clear" in reinspection[5].text("en")
    assert {"flagged"} == page.find("tr", id="v14").classes


@pytest.mark.asyncio
async def test_a_tampered_event_is_named_on_the_audit_page(
    http: httpx.AsyncClient, app: GridApplication, cases: Cases
) -> None:
    """An event altered in the store: the page names the first failing event and marks both rows."""
    tamper(app, cases.dispute, SESSION_VERSION, "601 室维修", "501 室维修")
    page = await _page(http, f"/pages/cases/{cases.dispute}", as_of=AS_OF.isoformat())
    verification = page.find(id="verification")
    assert "failed" == verification.attributes["data-status"]
    assert "校验未通过：记录可能被篡改" in verification.text("zh")
    first = page.find(id="first-problem")
    assert "6" == first.attributes["data-version"]
    assert first.text("zh").startswith("第一个未通过校验的事件：第 6 版（Dispute.EscalationRiskFlagged")
    assert first.text("en").startswith("First event failing verification: v6 (Dispute.EscalationRiskFlagged")
    assert f"记录 {cases.dispute} 的第 6 版不能为第 5 版作证" in verification.text("zh")
    assert {"v5", "v6"} == {row.attributes["id"] for row in page.find_all("tr", class_="tampered")}
    assert "501 室维修" in page.find("tr", id="v5").text()  # the altered words are what the store holds now

    tamper(app, cases.dispute, SESSION_VERSION, "501 室维修", "601 室维修")
    again = await _page(http, f"/pages/cases/{cases.dispute}", as_of=AS_OF.isoformat())
    assert "verified" == again.find(id="verification").attributes["data-status"]


@pytest.mark.asyncio
async def test_everything_from_the_record_is_escaped(http: httpx.AsyncClient, cases: Cases) -> None:
    """Markup in a case's summary is text on its audit page as on the register."""
    answer = await http.get(f"/pages/cases/{cases.markup}")
    assert 200 == answer.status_code
    assert "<script>" not in answer.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;漏水&lt;/b&gt;" in answer.text
    assert MARKUP in parse(answer.text).find(id="title").text("zh")


@pytest.mark.asyncio
async def test_unknown_cases_get_a_page_saying_so(http: httpx.AsyncClient) -> None:
    """A well-formed id the store does not hold, and no id at all: 404 pages in both languages."""
    missing = uuid.uuid4()
    answer = await http.get(f"/pages/cases/{missing}")
    assert 404 == answer.status_code
    assert f"事件库中没有案件 {missing}。" in parse(answer.text).find(id="problem").text("zh")
    answer = await http.get("/pages/cases/<b>")
    assert 404 == answer.status_code
    assert "&lt;b&gt; 不是案件编号。" in answer.text
    assert 422 == (await http.get("/pages/disputes", params={"as_of": "29.11.2026"})).status_code


@pytest.mark.asyncio
async def test_the_audit_page_links_to_the_librarys_exports(http: httpx.AsyncClient, cases: Cases) -> None:
    """JSON, CSV and the printable HTML report, as ``grid-events audit export`` writes them, personal data sealed."""
    page = await _page(http, f"/pages/cases/{cases.dispute}", as_of=AS_OF.isoformat())
    href = page.find("a", id="export-json").attributes["href"]
    assert f"{cases.dispute}/report.json?as_of={AS_OF}" == href
    answer = await http.get(f"/pages/cases/{href}")
    data = json.loads(answer.content)
    assert ("grid-events-audit-report", str(cases.dispute), True) == (
        data["format"],
        data["case"]["id"],
        data["verification"]["ok"],
    )
    assert {"errors": 1, "warnings": 1} == {key: data["summary"][key] for key in ("errors", "warnings")}
    answer = await http.get(f"/pages/cases/{cases.dispute}/report.csv", params={"as_of": AS_OF.isoformat()})
    assert answer.headers["content-disposition"] == f'attachment; filename="audit-{cases.dispute}.csv"'
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert 13 == len(rows)
    answer = await http.get(f"/pages/cases/{cases.dispute}/report.html", params={"lang": "en"})
    assert "Audit report" in answer.text
    for export in (answer.text, json.dumps(data, ensure_ascii=False), repr(rows)):
        assert not [secret for secret in SECRETS if secret in export]
    assert 404 == (await http.get(f"/pages/cases/{uuid.uuid4()}/report.json")).status_code


@pytest.mark.asyncio
async def test_without_the_event_store_the_page_says_verification_and_rules_are_unavailable(
    *,
    app: GridApplication,
    cases: Cases,
    logins: Logins,
    relay: OutboxRelay,
    nats_settings: NatsSettings,
    sqlite_views: ViewStoreSettings,
) -> None:
    """A service given only a masker lists the case's steps from its view and says why nothing is verified."""
    settings = fast_settings(nats_settings, sqlite_views, event_store=app.config, accounts=logins.path)
    service = GridService(settings, masker=VaultMasker(app.vault.open), relay=relay.status)
    async with caught_up_service(service, relay), _client(service, credentials(logins.auditor)) as http:
        assert service.event_store_app is None
        page = await _page(http, f"/pages/cases/{cases.dispute}", as_of=AS_OF.isoformat())
        verification = page.find(id="verification")
        assert "unavailable" == verification.attributes["data-status"]
        assert "本服务运行时没有连接事件库" in verification.text("zh")
        assert "the hash chain cannot be verified and the rules cannot be checked" in verification.text("en")
        assert "规则检查不可用：需要事件库。" == page.find(id="findings").text("zh")
        assert not page.find_all(id="first-problem")
        rows = page.rows("timeline")
        assert 12 == len(rows)
        assert ["5", "2026-11-04 09:00:00", "m-chen 调解员", "Dispute.SessionRecorded"] == [
            cell.text("zh") for cell in rows[4].find_all("td")[:4]
        ]
        assert 404 == (await http.get(f"/pages/cases/{cases.dispute}/report.json")).status_code
        listed = await _page(http, "/pages/disputes", as_of=AS_OF.isoformat())
        assert 2 == len(listed.rows("register"))


@pytest.mark.asyncio
async def test_only_callers_with_the_right_to_audit_see_the_pages(
    served: GridService, logins: Logins, cases: Cases
) -> None:
    """No credentials: 401 with a Basic challenge (the browser asks); a grid worker: 403; the auditor's Bearer: 200."""
    paths = ["/pages/disputes", "/pages/inspections", f"/pages/cases/{cases.dispute}"]
    async with _client(served) as anonymous, _client(served, credentials(logins.worker)) as worker:
        for path in paths:
            refused = await anonymous.get(path)
            assert 401 == refused.status_code
            assert any(value.startswith("Basic ") for value in refused.headers.get_list("www-authenticate"))
        # A grid worker reads the inspections (task.read, as on GET /inspections), not the register nor an audit.
        assert [403, 200, 403] == [(await worker.get(path)).status_code for path in paths]
    async with _client(served, {"Authorization": f"Bearer {logins.auditor[1]}"}) as auditor:
        for path in paths:
            assert 200 == (await auditor.get(path)).status_code


@pytest.mark.asyncio
async def test_the_json_register_and_inspection_list_link_each_case_to_its_audit_page(
    http: httpx.AsyncClient, cases: Cases
) -> None:
    """/disputes, /inspections, /audit/cases and each case's item carry its audit page, which answers."""
    answers = {
        "/disputes": ("dispute_id", cases.dispute),
        "/inspections": ("task_id", cases.inspection),
        "/audit/cases": ("case_id", cases.dispute),
        f"/disputes/{cases.dispute}": ("dispute_id", cases.dispute),
        f"/inspections/{cases.inspection}": ("task_id", cases.inspection),
    }
    for path, (key, case_id) in answers.items():
        answer = await http.get(path)
        assert 200 == answer.status_code, answer.text
        body = answer.json()
        items = body["items"] if "total" in body else [body]
        (item,) = [item for item in items if item[key] == str(case_id)]
        assert f"/pages/cases/{case_id}" == item["audit_page"], path
        assert all(other["audit_page"] == f"/pages/cases/{other[key]}" for other in items)
        page = await _page(http, item["audit_page"])
        assert page.find("section", id="verification")


@pytest.mark.asyncio
async def test_pages_are_never_cached_run_no_script_and_the_lists_need_a_reading_right_too(
    served: GridService, logins: Logins, app: GridApplication
) -> None:
    """Security headers on every page; an administrator (audit.read only) gets no register nor inspection list."""
    accounts = Accounts.load(logins.path)
    admin = ("admin-wu", accounts.add("admin-wu", Role.ADMINISTRATOR))
    accounts.save()
    async with _client(served, credentials(logins.auditor)) as http:
        answer = await http.get("/pages/disputes")
        assert 200 == answer.status_code
        assert "no-store" == answer.headers["cache-control"]
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert "nosniff" == answer.headers["x-content-type-options"]
        far = await http.get("/pages/disputes", params={"as_of": "9999-12-31"})
        assert 200 == far.status_code, far.text
        assert 422 == (await http.get(f"/pages/cases/{uuid.uuid4()}", params={"as_of": "0"})).status_code

        resident = app.register_resident(
            PersonalData(name="王五", id_number="11010519491231002X", phone="13900002222"),
            GridCell("江南", "飞凤", "03"),
            actor=Actor("w-li", Role.GRID_WORKER),
        )
        record = await http.get(f"/pages/cases/{resident}")  # a resident's record shows, personal data sealed
        assert 200 == record.status_code, record.text
        assert not {"王五", "11010519491231002X", "13900002222"} & set(re.findall(r"[\w]+", record.text))
        app.resident_personal_data(resident, actor=Actor("s-wang", Role.SUPERVISOR), unmasked=True, purpose="核实")
        not_a_case = await http.get(f"/pages/cases/{data_subject_id(resident)}")  # her privacy record: no case
        assert 404 == not_a_case.status_code, not_a_case.text
        assert "neither a mediation nor an inspection" in not_a_case.text
    async with _client(served, credentials(admin)) as http:
        assert 403 == (await http.get("/pages/disputes")).status_code
        assert 403 == (await http.get("/pages/inspections")).status_code
