"""The audit pages in a real browser: Debian's Chromium, headless, against the service behind uvicorn.

The auditor logs in with HTTP Basic (worker id, token), opens the mediation
register, follows the case's link to its audit page and reads the timeline
in Chinese and English, the verdict and the rule findings; someone then alters
an event in the SQLite event store, and the reloaded page names the event
that fails. The same from the inspection list.

Skipped when Chromium or its driver is not installed, unless
``GRID_EVENTS_REQUIRE_BROWSER=1`` (CI sets it): then it fails.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
import pytest_asyncio
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from grid_events import GridApplication
from grid_events.transport import NatsSettings, OutboxRelay
from grid_service.runtime.pipeline import serve
from grid_service.runtime.service import GridService
from grid_service.runtime.settings import ViewStoreSettings

from .helpers import caught_up, fast_settings, wait_until
from .pages_helpers import (
    AS_OF,
    FINDING_VERSION,
    REASON,
    SECRETS,
    SESSION_VERSION,
    Cases,
    Clock,
    Logins,
    credentials,
    make_logins,
    record_cases,
    tamper,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 20.0
"""Seconds to wait for a page."""


def _require_browser() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    reason = (
        f"Debian's Chromium is not installed ({', '.join(missing)} missing): "
        "apt-get install chromium chromium-driver to run the browser test"
    )
    if os.environ.get("GRID_EVENTS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; GRID_EVENTS_REQUIRE_BROWSER=1 says it must run")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium, through Debian's chromedriver."""
    _require_browser()
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def log_in(driver: WebDriver, headers: dict[str, str]) -> None:
    """Send *headers* (the Authorization header) with every request the browser makes from now on."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": headers})


@pytest.fixture
def cases(app: GridApplication, clock: Clock) -> Cases:
    """The history to audit, recorded on the hand-driven clock."""
    app.clock = clock
    return record_cases(app, clock)


@pytest.fixture
def logins(tmp_path: Path) -> Logins:
    """The service's accounts: an auditor and a grid worker."""
    return make_logins(tmp_path)


@pytest_asyncio.fixture
async def site(
    *,
    app: GridApplication,
    cases: Cases,
    logins: Logins,
    relay: OutboxRelay,
    nats_settings: NatsSettings,
    sqlite_views: ViewStoreSettings,
) -> AsyncIterator[str]:
    """The service behind uvicorn on a free port, its views caught up; its URL."""
    settings = fast_settings(nats_settings, sqlite_views, event_store=app.config, accounts=logins.path, http_port=0)
    service = GridService(settings, app=app, relay=relay.status)
    stop = asyncio.Event()
    urls: list[str] = []
    serving = asyncio.create_task(serve(service, stop=stop, access_log=False, on_ready=urls.append))
    try:
        await wait_until(lambda: bool(urls) or serving.done(), within=30)
        if serving.done():
            serving.result()
        await wait_until(caught_up(service, await relay.wait_caught_up(timeout=30)), within=30)
        yield urls[0]
    finally:
        stop.set()
        await serving


# -- what the auditor does and sees ---------------------------------------------------------------------------


def _open_audit_page(driver: WebDriver, case_id: UUID) -> None:
    """Click the case's link on the list shown, and wait for its audit page."""
    link = driver.find_element(By.CSS_SELECTOR, f'a.audit-link[data-case="{case_id}"]')
    link.click()
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, "verification"))
    assert driver.current_url.endswith(f"/pages/cases/{case_id}?as_of={AS_OF}")


def _verification(driver: WebDriver) -> WebElement:
    return driver.find_element(By.ID, "verification")


def _row(driver: WebDriver, version: int) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f"#timeline tr#v{version}")


def _no_personal_data(driver: WebDriver) -> None:
    shown = driver.find_element(By.TAG_NAME, "body").text
    assert [] == [secret for secret in SECRETS if secret in shown]


def _read_dispute(driver: WebDriver, url: str, cases: Cases) -> None:
    """From the register to the dispute's audit page: timeline in both languages, verified, findings."""
    driver.get(f"{url}/pages/disputes?as_of={AS_OF}")
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("人民调解台账")
    assert "楼上卫生间渗水至楼下" in driver.find_element(By.ID, "register").text
    _open_audit_page(driver, cases.dispute)
    assert 12 == len(driver.find_elements(By.CSS_SELECTOR, "#timeline tbody tr"))
    session = _row(driver, SESSION_VERSION).text
    for words in ("召开调解会", "held a mediation session", "m-chen", "调解员", "mediator", "2026-11-04 09:00:00"):
        assert words in session
    assert "[当事人陈述已加密]" in session
    assert "[statement sealed]" in session
    investigation = _row(driver, 4).text
    assert "照片 evidence://2026/11/601-bathroom.jpg" in investigation
    assert "photo evidence://2026/11/601-bathroom.jpg" in investigation
    assert "P1 家属扬言上门理论" in _row(driver, 6).text
    assert REASON in _row(driver, 7).text
    verification = _verification(driver)
    assert "verified" == verification.get_attribute("data-status")
    assert "已校验：哈希链完整，未发现篡改" in verification.text
    assert "Verified: the hash chain is intact, no tampering found" in verification.text
    findings = driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert ["mediation.report-high-risk", "mediation.follow-up-due"] == [
        row.get_attribute("data-rule") for row in findings
    ]
    assert "仍未报告公安机关" in findings[0].text
    assert "is still not reported to the police" in findings[0].text
    _no_personal_data(driver)


def _read_inspection(driver: WebDriver, cases: Cases) -> None:
    """From the nav to the inspection list, then to the inspection's audit page."""
    driver.find_element(By.ID, "nav-inspections").click()
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, "inspections"))
    assert "吴记面馆消防安全检查" in driver.find_element(By.ID, "inspections").text
    _open_audit_page(driver, cases.inspection)
    hazard = _row(driver, FINDING_VERSION).text
    for words in (
        "发现隐患 F1（较大隐患）：后门安全出口被纸箱和食材堵塞",
        "hazard F1",
        "so-zhao",
        "安全员",
        "safety officer",
    ):
        assert words in hazard
    assert "复查隐患 F1" in _row(driver, 14).text
    assert "verified" == _verification(driver).get_attribute("data-status")
    (finding,) = driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")
    assert "inspection.reinspection-within-3-working-days" == finding.get_attribute("data-rule")
    assert "提示" in finding.text
    assert "warning" in finding.text


def _sees_tampering(driver: WebDriver, altered: int, tampering: Callable[[], None]) -> None:
    """Alter event *altered* in the store, reload: the page names the next event as the first that fails."""
    tampering()
    driver.refresh()
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, "verification"))
    verification = _verification(driver)
    assert "failed" == verification.get_attribute("data-status")
    assert "校验未通过：记录可能被篡改" in verification.text
    assert "Verification failed: the record may have been tampered with" in verification.text
    first = driver.find_element(By.ID, "first-problem")
    assert f"第一个未通过校验的事件：第 {altered + 1} 版" in first.text
    assert f"First event failing verification: v{altered + 1}" in first.text
    marked = driver.find_elements(By.CSS_SELECTOR, "#timeline tr.tampered")
    assert [f"v{altered}", f"v{altered + 1}"] == [row.get_attribute("id") for row in marked]


@pytest.mark.asyncio
async def test_an_auditor_reads_a_case_in_the_browser_and_sees_tampering(
    browser: WebDriver, site: str, app: GridApplication, cases: Cases, logins: Logins
) -> None:
    """Register → dispute's audit page → tampering named; inspection list → inspection's audit page → the same."""
    log_in(browser, credentials(logins.auditor))

    def dispute() -> None:
        _read_dispute(browser, site, cases)
        _sees_tampering(
            browser,
            SESSION_VERSION,
            lambda: tamper(app, cases.dispute, SESSION_VERSION, "601 室维修", "501 室维修"),
        )
        tamper(app, cases.dispute, SESSION_VERSION, "501 室维修", "601 室维修")
        browser.refresh()
        assert "verified" == _verification(browser).get_attribute("data-status")

    def inspection() -> None:
        _read_inspection(browser, cases)
        _sees_tampering(
            browser,
            FINDING_VERSION,
            lambda: tamper(app, cases.inspection, FINDING_VERSION, "纸箱和食材", "纸箱和杂物"),
        )

    await asyncio.to_thread(dispute)
    await asyncio.to_thread(inspection)
