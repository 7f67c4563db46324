"""Helpers of the audit-page tests: a mediation and an inspection to audit, tampering, reading the pages' HTML.

The history is recorded through the application at hand-driven times (the
clock of ``tests/conftest.py``), with the audit tests' building blocks:

* a dispute mediated to a written agreement signed by everyone, on the way
  flagged as a high risk of escalation never reported to the police (an
  error), its time limit extended with every party's consent, and, by
  :data:`AS_OF`, owed a follow-up visit (a warning);
* an inspection with a hazard found, a rectification notice served and a
  re-inspection that passed, but late (a warning);
* a case received with markup in its summary, which every page must escape.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from uuid import UUID

import attrs

from audit import histories
from grid_events import (
    DisputeCategory,
    DisputeSource,
    GridApplication,
    PartyDetails,
    PartyInput,
    PartyKind,
    RiskLevel,
    Role,
)
from grid_events import SignatureMethod as Signature
from grid_events.transport import OutboxRelay
from grid_service.runtime.auth import Accounts
from grid_service.runtime.service import GridService

from .helpers import caught_up, wait_until

AS_OF = date(2026, 11, 29)
"""The day the pages are asked for: the rules are checked, and the time limits counted, as of then."""
MARKUP = '<script>alert("x")</script> & <b>漏水</b>'
"""A summary with markup: the pages must show it as text."""
Clock = histories.Clock
SECRETS = histories.SECRETS
"""Personal data the history holds sealed: no page may show any of it."""

REASON = "等待维修报价"
"""Why the dispute's time limit was extended (its version 7): the reason a timeline shows."""
SESSION_VERSION = 5
"""The dispute's mediation session, whose outcome :func:`tamper` alters in the tests."""
FINDING_VERSION = 12
"""The inspection's hazard, whose description :func:`tamper` alters in the tests."""


@attrs.frozen
class Cases:
    """The cases recorded: the agreed dispute, the inspection, and the case with markup in its summary."""

    dispute: UUID
    inspection: UUID
    markup: UUID


def record_cases(app: GridApplication, clock: Clock) -> Cases:
    """Record the history the audit pages are tested on (the application must run on *clock*)."""
    dispute = histories.mediating(app, clock)
    app.flag_escalation_risk(
        dispute, RiskLevel.HIGH, "P1 家属扬言上门理论", ["分开调解", "网格员每日走访"], actor=histories.MEDIATOR
    )
    today = histories.today(clock)
    app.extend_time_limit(dispute, today + timedelta(days=45), ["P1", "P2"], REASON, actor=histories.MEDIATOR)
    app.draft_agreement(dispute, histories.agreement(today + timedelta(days=10)), actor=histories.MEDIATOR)
    for signer in ("P1", "P2", histories.MEDIATOR.worker_id):
        app.sign_agreement(dispute, signer, today, Signature.SIGNATURE, actor=histories.MEDIATOR)
    inspection, finding = histories.hazard(app, clock)
    clock.advance(days=1)
    deadline = histories.today(clock) + timedelta(days=3)
    app.order_rectification(inspection, finding, deadline, histories.today(clock), actor=histories.OFFICER)
    clock.advance(days=9)
    app.reinspect(
        inspection,
        finding,
        histories.today(clock),
        passed=True,
        actor=histories.OFFICER,
        note="后门已清空",
        evidence=(histories.photo("back-exit-clear"),),
    )
    markup = app.receive_dispute(
        DisputeSource.OWN_INITIATIVE,
        DisputeCategory.CONSUMER,
        MARKUP,
        [
            PartyInput(PartyKind.SHOP, PartyDetails(name="吴记面馆 吴海峰")),
            PartyInput(PartyKind.OTHER_PERSON, PartyDetails(name="顾客")),
        ],
        histories.GRID,
        histories.today(clock),
        actor=histories.SUPERVISOR,
    )
    return Cases(dispute, inspection, markup)


def tamper(app: GridApplication, case_id: UUID, version: int, old: str, new: str) -> None:
    """Change the stored bytes of one event behind the application's back, as someone with the file could."""
    path = app.config.sqlite_path
    db = sqlite3.connect(Path(path))
    try:
        with db:
            rowid, state = db.execute(
                "SELECT rowid, state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                (case_id.hex, version),
            ).fetchone()
            altered = state.replace(old.encode(), new.encode())
            assert altered != state, f"{old!r} is not in event v{version}"
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (altered, rowid))
    finally:
        db.close()


@asynccontextmanager
async def caught_up_service(service: GridService, relay: OutboxRelay) -> AsyncIterator[GridService]:
    """Start *service* and wait until its views hold everything the relay published."""
    async with service:
        await wait_until(caught_up(service, await relay.wait_caught_up(timeout=30)), within=30)
        yield service


@attrs.frozen
class Logins:
    """The service's accounts file, with an auditor (who may read the pages) and a grid worker (who may not)."""

    path: Path
    auditor: tuple[str, str]
    """The auditor's worker id and token."""
    worker: tuple[str, str]
    """A grid worker's worker id and token: no right to the audit pages."""


def make_logins(directory: Path) -> Logins:
    """Write an accounts file in *directory* with an auditor and a grid worker; return their credentials."""
    accounts = Accounts.load(directory / "accounts.json")
    auditor = ("auditor-zhou", accounts.add("auditor-zhou", Role.AUDITOR))
    worker = ("w-li", accounts.add("w-li", Role.GRID_WORKER))
    accounts.save()
    return Logins(accounts.path, auditor, worker)


def credentials(login: tuple[str, str]) -> dict[str, str]:
    """Return the header a browser sends for *login* (worker id, token): HTTP Basic."""
    worker_id, token = login
    return {"Authorization": "Basic " + base64.b64encode(f"{worker_id}:{token}".encode()).decode()}


# -- reading HTML --------------------------------------------------------------------------------------------

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


@attrs.define
class Node:
    """An element of a parsed page."""

    tag: str
    attributes: dict[str, str]
    children: list[Node | str] = attrs.field(factory=list)

    @property
    def classes(self) -> set[str]:
        """The element's classes."""
        return set(self.attributes.get("class", "").split())

    def walk(self) -> Iterator[Node]:
        """Yield this element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def text(self, lang: str | None = None) -> str:
        """Return the text inside: all of it, only the Chinese (``zh``: without the English) or only the English."""
        parts: list[str] = []
        self._collect(parts, lang, inside_en=False)
        return " ".join("".join(parts).split())

    def _collect(self, parts: list[str], lang: str | None, *, inside_en: bool) -> None:
        for child in self.children:
            if isinstance(child, str):
                if lang is None or (lang == "en") == inside_en:
                    parts.append(child)
            else:
                parts.append(" ")
                child._collect(parts, lang, inside_en=inside_en or "en" in child.classes)
                parts.append(" ")

    def find(self, tag: str | None = None, **wanted: str) -> Node:
        """Return the first element with *tag* and the attributes *wanted* (``class_`` for a class); fail if none."""
        found = self.find_all(tag, **wanted)
        assert found, f"no <{tag or '*'}> with {wanted}"
        return found[0]

    def find_all(self, tag: str | None = None, **wanted: str) -> list[Node]:
        """Return every element with *tag* and the attributes *wanted* (``class_`` for a class)."""
        css = wanted.pop("class_", None)
        return [
            node
            for node in self.walk()
            if (tag is None or node.tag == tag)
            and (css is None or css in node.classes)
            and all(node.attributes.get(name.replace("_", "-")) == value for name, value in wanted.items())
        ]

    def rows(self, table_id: str) -> list[Node]:
        """Return the body rows of the table *table_id*."""
        return self.find("table", id=table_id).find("tbody").find_all("tr")


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(node)
        if tag not in _VOID:
            self._open.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)


def parse(html: str) -> Node:
    """Return the parsed page."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
