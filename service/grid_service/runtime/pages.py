"""The audit pages: HTML for the auditors, Chinese first with the English beside it, printable, without script.

* ``GET /pages/disputes``: the mediation register (调解台账), from the same
  view and query as ``GET /disputes``; each case links to its audit page;
* ``GET /pages/inspections``: the inspection list (检查任务), from the same
  view and query as ``GET /inspections``; each inspection links to its audit page;
* ``GET /pages/cases/{case_id}``: a case's audit page: whether its hash chain
  verifies (or the first event that fails, and why), the rule findings with
  the rule each names, and the whole timeline in plain words (who, in which
  role, when, why, with what evidence), all read from the event store with
  :mod:`grid_events.audit`;
* ``GET /pages/cases/{case_id}/report.{json,csv,html}``: the library's export of the case.

Every page takes ``as_of``, a day (in China): the lists count the time
limits as of its end, the audit pages check the rules as of that day and
list what was recorded by then (default: now, today). The links between the
pages keep it. Personal data is never
opened: the timelines show it sealed (``[当事人陈述已加密]``), as the library
does for an auditor, and the views hold none. Every text is escaped.

A service without an event store (started with a masker only) still lists
the cases and shows each case's steps from the audit-trail view, and says
plainly that verification and rule checks are unavailable, and why.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from html import escape
from typing import Annotated, Any, Final, Literal, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from grid_events import (
    AggregateNotFoundError,
    CodecError,
    DisputeCategory,
    DisputeStatus,
    GridApplication,
    Right,
    Role,
    TaskStatus,
    ValidationError,
)
from grid_events.audit import (
    EXPORT_FORMATS,
    CaseVerification,
    Problem,
    ProblemKind,
    RuleFinding,
    RuleSeverity,
    TimelineEntry,
    build_report,
    build_timeline,
    case_kind,
    check_case,
    describe_case,
    history,
    integrity_notes,
    problem_name,
    problem_text,
    render_report,
    replay,
    rules_for,
    term,
    verify_aggregate,
)
from grid_service.runtime.auth import requires
from grid_service.runtime.service import GridService
from grid_service.runtime.views_api import Day
from grid_service.views import queries
from grid_service.views.queries import MAX_LIMIT, MAX_OFFSET, QueryError
from grid_service.views.store import ViewStore

__all__ = ["router"]

CHINA: Final = timezone(timedelta(hours=8), "UTC+08:00")
"""The auditors read times and count days in China time."""

PAGE_SIZE: Final = 100
"""Cases per page of the lists (``limit`` changes it)."""

E = TypeVar("E", bound=enum.Enum)


class _PageRoute(APIRoute):
    """A route of these pages: its answers are never cached and may run no script nor load anything."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            response.headers.update(_HEADERS)
            return response

        return with_headers


_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Sent with every page: case records stay out of caches, and no injected markup could run or load."""

router = APIRouter(
    prefix="/pages",
    tags=["audit pages"],
    default_response_class=HTMLResponse,
    route_class=_PageRoute,
)


# -- HTML --------------------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       font-size: 10.5pt; line-height: 1.45; color: #111; margin: 1.5em auto; max-width: 75em; padding: 0 1em; }
nav { border-bottom: 1px solid #999; padding-bottom: .4em; margin-bottom: 1em; }
nav a { margin-right: 1.5em; }
nav a.here { font-weight: bold; text-decoration: none; color: #111; }
h1 { font-size: 17pt; margin: 0 0 .2em; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; padding-bottom: .2em; margin-top: 1.6em; }
.en { display: block; color: #555; font-size: .9em; }
h1 .en, h2 .en { display: inline; margin-left: .6em; font-weight: normal; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0 0 1em; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
.verdict { border: 3px solid; padding: .6em 1em; margin: 1em 0; }
.verdict.ok { border-color: #1b7a2e; background: #eef8f0; }
.verdict.bad { border-color: #b00020; background: #fdecee; }
.verdict.unknown { border-color: #8a5a00; background: #fff6e0; }
.verdict .result { font-size: 13pt; font-weight: bold; margin: 0 0 .3em; }
.verdict.ok .result { color: #1b7a2e; }
.verdict.bad .result { color: #b00020; }
.verdict.unknown .result { color: #8a5a00; }
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
.mark { color: #b00020; font-weight: bold; }
.small { font-size: 9pt; color: #444; }
.none { color: #1b7a2e; font-weight: bold; }
.pager a { margin-right: 1em; }
footer { margin-top: 2em; font-size: 9pt; color: #444; border-top: 1px solid #999; padding-top: .5em; }
@page { size: A4 landscape; margin: 12mm 10mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9pt; }
  nav, .pager, .exports { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, .verdict { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""

_MASKED: Final = ("个人信息一律以加密或脱敏形式显示。", "Personal data is shown sealed or masked only.")
_NAV: Final = (
    ("disputes", "disputes", "调解台账", "Mediation register"),
    ("inspections", "inspections", "检查任务", "Inspections"),
)


def _h(text: object) -> str:
    return escape(str(text), quote=True)


def _bi(zh: str, en: str) -> str:
    """Return a text in Chinese with its English beside it, both escaped."""
    if zh == en:
        return _h(zh)
    return f'{_h(zh)}<span class="en" lang="en">{_h(en)}</span>'


def _lines(texts: Iterable[str]) -> str:
    return "<br>".join(_h(text) for text in texts)


def _document(title: tuple[str, str], body: Sequence[str], *, here: str, base: str, as_of: date | None = None) -> str:
    """Return a whole page: *base* leads from the page to ``/pages/`` (relative links work behind a prefix)."""
    query = _as_of_query(as_of)
    links = "".join(
        f'<a href="{_h(base + path + query)}" id="nav-{key}"'
        + (' class="here" aria-current="page"' if key == here else "")
        + f">{_h(zh)} {_h(en)}</a>"
        for key, path, zh, en in _NAV
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_h(title[0])} · {_h(title[1])}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f'<nav aria-label="审计页面 Audit pages">{links}</nav>',
            f"<h1>{_bi(*title)}</h1>",
            *body,
            f"<footer>{_bi(*_MASKED)}</footer>",
            "</body>",
            "</html>",
        ]
    )


def _error_page(code: int, zh: str, en: str, *, base: str) -> HTMLResponse:
    body = [f'<p class="verdict bad" id="problem">{_bi(zh, en)}</p>']
    return HTMLResponse(_document(("无法显示", "Cannot be shown"), body, here="", base=base), status_code=code)


# -- what the pages read -------------------------------------------------------------------------------------


def _service(request: Request) -> GridService:
    service: GridService = request.app.state.service
    return service


def _store(request: Request) -> ViewStore:
    return _service(request).store


def _moment(as_of: date | None) -> datetime:
    """Return the moment the lists count the time limits for: the end of *as_of* in China, or now."""
    if as_of is None:
        return datetime.now(UTC)
    return datetime.combine(as_of, time(23, 59, 59), CHINA)


def _china(text: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Return an ISO time of a view in China time (empty for none)."""
    if not text:
        return ""
    return datetime.fromisoformat(text).astimezone(CHINA).strftime(fmt)


def _words(kind: type[E], value: object) -> str:
    """Return a view's code (``agreed``) in Chinese and English, or as it is if the vocabulary does not know it."""
    if value is None:
        return ""
    try:
        member = kind(value)
    except ValueError:
        return _h(value)
    return _bi(term(member, "zh"), term(member, "en"))


def _role(value: str) -> tuple[str, str]:
    try:
        role = Role(value)
    except ValueError:
        return value, value
    return term(role, "zh"), term(role, "en")


def _read(read: Callable[[], queries.Page]) -> queries.Page:
    try:
        return read()
    except QueryError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from e


def _as_of_query(as_of: date | None) -> str:
    """Return the query string that carries the day from page to page (empty for none)."""
    return "" if as_of is None else "?" + urlencode({"as_of": as_of.isoformat()})


def _pager(page: queries.Page, as_of: date | None) -> str:
    first, last = (page.offset + 1, page.offset + len(page.items)) if page.items else (0, 0)
    shown = _bi(f"第 {first}–{last} 条，共 {page.total} 条", f"{first}–{last} of {page.total}")
    parts = [f'<p class="pager" id="pager">{shown}']
    common: dict[str, str | int] = {"limit": page.limit}
    if as_of is not None:
        common["as_of"] = as_of.isoformat()
    if page.offset > 0:
        previous = urlencode({**common, "offset": max(0, page.offset - page.limit)})
        parts.append(f' <a href="?{_h(previous)}" rel="prev">上一页 Previous</a>')
    if page.offset + len(page.items) < page.total:
        following = urlencode({**common, "offset": page.offset + page.limit})
        parts.append(f' <a href="?{_h(following)}" rel="next">下一页 Next</a>')
    parts.append("</p>")
    return "".join(parts)


def _table(headers: Sequence[tuple[str, str]], rows: Sequence[str], table_id: str) -> str:
    head = "".join(f'<th scope="col">{_bi(zh, en)}</th>' for zh, en in headers)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _audit_link(case_id: str, as_of: str, label: str) -> str:
    return (
        f'<a class="audit-link" data-case="{_h(case_id)}" href="cases/{_h(case_id)}{_h(as_of)}">'
        f'{_h(label)}<span class="en" lang="en">audit</span></a>'
    )


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Cases per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Cases to pass over (for the next pages).")]
AsOf = Annotated[
    Day | None,
    Query(
        description="Count the time limits as of the end of this day (China), and check the rules then (default: now)."
    ),
]


# -- the lists -----------------------------------------------------------------------------------------------


@router.get(
    "/disputes",
    summary="The mediation register as a page, each case linking to its audit page",
    dependencies=[Depends(requires(Right.DISPUTE_READ))],
)
def disputes_page(request: Request, as_of: AsOf = None, limit: Limit = PAGE_SIZE, offset: Offset = 0) -> HTMLResponse:
    """Show the mediation register (调解台账), oldest case first, as ``GET /disputes`` gives it."""
    now = _moment(as_of)
    page = _read(lambda: queries.disputes(_store(request), now=now, limit=limit, offset=offset))
    query = _as_of_query(as_of)
    rows = []
    for item in page.items:
        limit_text = _h(item["deadline"] or "")
        if item.get("past_limit"):
            limit_text += f' <span class="mark">{_bi("已超期", "past the limit")}</span>'
        rows.append(
            "<tr>"
            f'<td class="time">{_h(item["received_on"] or "")}</td>'
            f"<td>{_words(DisputeCategory, item['category'])}</td>"
            f"<td>{_h(item['summary'] or '')}</td>"
            f"<td>{_h(item['grid'] or '')}</td>"
            f'<td class="num">{_h(item["parties"])}</td>'
            f"<td>{_h(item['mediator_id'] or '')}</td>"
            f"<td>{_words(DisputeStatus, item['status'])}</td>"
            f'<td class="time">{limit_text}</td>'
            f"<td>{_audit_link(item['dispute_id'], query, '审计')}</td>"
            "</tr>"
        )
    headers = [
        ("收到日期", "Received"),
        ("纠纷类别", "Category"),
        ("概要", "Summary"),
        ("网格", "Grid"),
        ("当事人数", "Parties"),
        ("调解员", "Mediator"),
        ("状态", "Status"),
        ("调解期限", "Time limit"),
        ("审计页面", "Audit page"),
    ]
    body = [
        _moment_line(as_of),
        _table(headers, rows, "register") if rows else f'<p id="register">{_bi("没有案件。", "No cases.")}</p>',
        _pager(page, as_of),
    ]
    return HTMLResponse(_document(("人民调解台账", "Mediation register"), body, here="disputes", base="", as_of=as_of))


@router.get(
    "/inspections",
    summary="The inspection list as a page, each inspection linking to its audit page",
    dependencies=[Depends(requires(Right.TASK_READ))],
)
def inspections_page(
    request: Request, as_of: AsOf = None, limit: Limit = PAGE_SIZE, offset: Offset = 0
) -> HTMLResponse:
    """Show the inspections (检查任务) with their hazards, newest first, as ``GET /inspections`` gives them."""
    now = _moment(as_of)
    page = _read(lambda: queries.inspections(_store(request), now=now, limit=limit, offset=offset))
    query = _as_of_query(as_of)
    rows = []
    for item in page.items:
        deadline = _h(item["next_deadline"] or "")
        if item.get("deadline_passed"):
            deadline += f' <span class="mark">{_bi("已逾期", "passed")}</span>'
        place = " ".join(part for part in (item["place_name"], item["place_address"]) if part)
        findings = _bi(
            f"{item['findings_total']} 项（未整改 {item['findings_open']}，已整改 {item['findings_rectified']}，"
            f"已上报 {item['findings_reported']}）",
            f"{item['findings_total']} ({item['findings_open']} open, {item['findings_rectified']} rectified, "
            f"{item['findings_reported']} reported)",
        )
        rows.append(
            "<tr>"
            f'<td class="time">{_h(_china(item["created_at"]))}</td>'
            f"<td>{_h(item['title'] or '')}</td>"
            f"<td>{_h(place)}</td>"
            f"<td>{_h(item['grid'] or '')}</td>"
            f"<td>{_h(item['assignee'] or '')}</td>"
            f"<td>{_words(TaskStatus, item['status'])}</td>"
            f"<td>{findings}</td>"
            f'<td class="time">{deadline}</td>'
            f"<td>{_audit_link(item['task_id'], query, '审计')}</td>"
            "</tr>"
        )
    headers = [
        ("创建时间", "Created"),
        ("任务", "Task"),
        ("场所", "Place"),
        ("网格", "Grid"),
        ("负责人", "Assignee"),
        ("状态", "Status"),
        ("隐患", "Hazards"),
        ("整改期限", "Next deadline"),
        ("审计页面", "Audit page"),
    ]
    body = [
        _moment_line(as_of),
        _table(headers, rows, "inspections")
        if rows
        else f'<p id="inspections">{_bi("没有检查任务。", "No inspections.")}</p>',
        _pager(page, as_of),
    ]
    return HTMLResponse(_document(("检查任务", "Inspections"), body, here="inspections", base="", as_of=as_of))


def _moment_line(as_of: date | None) -> str:
    if as_of is None:
        return f'<p class="small">{_bi("期限按当前时间计算。", "Time limits are counted as of now.")}</p>'
    words = _bi(
        f"期限按 {as_of} 日终（北京时间）计算。", f"Time limits are counted as of the end of {as_of} (China time)."
    )
    return f'<p class="small">{words}</p>'


# -- a case's audit page ---------------------------------------------------------------------------------------


@router.get(
    "/cases/{case_id}",
    summary="A case's audit page: its verification, rule findings and timeline",
    dependencies=[Depends(requires(Right.AUDIT_READ))],
    responses={404: {"description": "No such case."}},
)
def case_page(
    request: Request,
    case_id: Annotated[str, Path(description="The case's id (a dispute or an inspection).")],
    as_of: Annotated[
        Day | None, Query(description="Check the rules, and show the record, as of this day (China; default today).")
    ] = None,
) -> HTMLResponse:
    """Everything an auditor checks about one case, read from the event store."""
    base = "../"
    try:
        uuid = UUID(case_id)
    except ValueError:
        return _error_page(
            status.HTTP_404_NOT_FOUND, f"{case_id} 不是案件编号。", f"{case_id} is no case id.", base=base
        )
    day = as_of if as_of is not None else datetime.now(CHINA).date()
    service = _service(request)
    app = service.event_store_app
    if app is None:
        return _case_from_view(service, uuid, day, as_of)
    try:
        events = history(app, uuid)
    except AggregateNotFoundError:
        return _error_page(
            status.HTTP_404_NOT_FOUND,
            f"事件库中没有案件 {uuid}。",
            f"The event store holds no case {uuid}.",
            base=base,
        )
    except CodecError as e:
        return _unreadable_case(app, uuid, e, as_of)
    try:
        return HTMLResponse(_case_document(app, uuid, events, day, as_of))
    except ValidationError:  # an aggregate of another kind (a data subject's record, a key ring): no case
        return _error_page(
            status.HTTP_404_NOT_FOUND,
            f"{uuid} 不是调解案件或检查任务。",
            f"{uuid} is neither a mediation nor an inspection.",
            base=base,
        )


def _case_document(app: GridApplication, case_id: UUID, events: Sequence[Any], day: date, as_of: date | None) -> str:
    chain = verify_aggregate(app.recorder, case_id)
    verification = CaseVerification(chain=chain, log=None, newest_version=events[-1].originator_version)
    shown = [event for event in events if event.timestamp.astimezone(CHINA).date() <= day]
    zh, en = describe_case(events, "zh"), describe_case(events, "en")
    entries = list(zip(build_timeline(shown, "zh"), build_timeline(shown, "en"), strict=True))
    findings = check_case(shown, day) if shown else []
    checked = rules_for(case_kind(events))
    status_words = _status(shown)
    meta = [
        (("案件编号", "Case"), _h(case_id)),
        (("类型", "Kind"), _bi(zh.kind_name, en.kind_name)),
        (("登记时间", "Opened"), _h(zh.opened_at.strftime("%Y-%m-%d %H:%M:%S"))),
        (("状态", "Status"), status_words),
        (("检查日期", "As of"), _h(day.isoformat())),
        (
            ("事件数", "Events"),
            _bi(f"显示 {len(shown)} 个，共 {len(events)} 个", f"{len(shown)} shown of {len(events)}"),
        ),
    ]
    body = [
        f'<p class="subtitle" id="title">{_bi(zh.title, en.title)}</p>',
        _meta(meta),
        _exports(case_id, day),
        _section(
            "verification-heading", ("一、记录完整性（防篡改校验）", "1. Integrity of the record (tamper evidence)")
        ),
        _verification(verification, {zh_entry.version: (zh_entry, en_entry) for zh_entry, en_entry in entries}),
        _section("findings-heading", ("二、规则检查", "2. Rule checks")),
        _findings(findings, len(checked), day, checked=bool(shown)),
        _section("timeline-heading", ("三、全部记录", "3. The whole record")),
        _timeline(entries, chain.problems, findings, case_id),
    ]
    if len(shown) < len(events):
        later = len(events) - len(shown)
        words = _bi(
            f"另有 {later} 个事件记录于 {day} 之后，未列出。", f"{later} event(s) recorded after {day} are not listed."
        )
        body.append(f'<p class="small">{words}</p>')
    return _document((f"审计：{zh.kind_name}", f"Audit: {en.kind_name}"), body, here="", base="../", as_of=as_of)


def _status(shown: Sequence[Any]) -> str:
    if not shown:
        return ""
    try:
        state = replay(shown)
    except ValidationError as e:
        return _bi("无法重放（记录不完整）", f"cannot be replayed ({e.message})")
    value = getattr(state, "status", None)
    if not isinstance(value, enum.Enum):
        return ""
    return _bi(term(value, "zh"), term(value, "en"))


def _meta(rows: Sequence[tuple[tuple[str, str], str]]) -> str:
    items = "".join(f"<dt>{_h(zh)} {_h(en)}</dt><dd>{value}</dd>" for (zh, en), value in rows)
    return f'<dl class="meta">{items}</dl>'


def _section(element_id: str, title: tuple[str, str]) -> str:
    return f'<h2 id="{element_id}">{_bi(*title)}</h2>'


def _exports(case_id: UUID, day: date) -> str:
    query = _h("?" + urlencode({"as_of": day.isoformat()}))
    links = " ".join(
        f'<a href="{_h(case_id)}/report.{fmt}{query}" id="export-{fmt}">{fmt.upper()}</a>' for fmt in EXPORT_FORMATS
    )
    return f'<p class="exports">{_bi("导出审计报告：", "Export the report:")} {links}</p>'


def _verification(verification: CaseVerification, entries: dict[int, tuple[TimelineEntry, TimelineEntry]]) -> str:
    if verification.ok:
        return (
            '<section class="verdict ok" id="verification" data-status="verified">'
            f'<p class="result">✔ {_bi(*_VERIFIED)}</p>'
            f"<p>{_bi(verification.verdict('zh'), verification.verdict('en'))}</p>"
            f'<p class="caveat">{_bi(verification.caveat("zh"), verification.caveat("en"))}</p>'
            "</section>"
        )
    first = verification.problems[0]
    parts = [
        '<section class="verdict bad" id="verification" data-status="failed">',
        f'<p class="result">✘ {_bi(*_FAILED)}</p>',
        f'<p id="first-problem" data-version="{_h(first.version or "")}">{_first_problem(first, entries)}</p>',
        f"<p>{_bi(problem_text(first, 'zh'), problem_text(first, 'en'))}</p>",
    ]
    if first.kind is ProblemKind.BROKEN_LINK and first.version is not None and first.version > 1:
        previous = first.version - 1
        words = _bi(
            f"第 {previous} 版可能已被改动：见下表中标红的两行。",
            f"Event v{previous} may have been altered: see the two rows marked red below.",
        )
        parts.append(f"<p>{words}</p>")
    if len(verification.problems) > 1:
        rows = [
            "<tr>"
            f'<td class="num">{_h(_where(problem))}</td>'
            f"<td>{_bi(problem_name(problem.kind, 'zh'), problem_name(problem.kind, 'en'))}</td>"
            f"<td>{_bi(problem_text(problem, 'zh'), problem_text(problem, 'en'))}</td>"
            "</tr>"
            for problem in verification.problems
        ]
        parts.append(_table([("事件", "Event"), ("问题", "Problem"), ("说明", "What it means")], rows, "problems"))
    parts.append(f'<p class="caveat">{_bi(verification.caveat("zh"), verification.caveat("en"))}</p></section>')
    return "".join(parts)


def _where(problem: Problem) -> str:
    return f"v{problem.version}" if problem.version is not None else f"#{problem.notification_id}"


def _first_problem(problem: Problem, entries: dict[int, tuple[TimelineEntry, TimelineEntry]]) -> str:
    name_zh, name_en = problem_name(problem.kind, "zh"), problem_name(problem.kind, "en")
    if problem.version is None:
        return _bi(
            f"第一处问题在日志位置 {problem.notification_id}：{name_zh}",
            f"First problem at log position {problem.notification_id}: {name_en}",
        )
    entry = entries.get(problem.version)
    what_zh = f"（{entry[0].event_type}，{entry[0].time_text}）" if entry else ""
    what_en = f" ({entry[1].event_type}, {entry[1].time_text})" if entry else ""
    return _bi(
        f"第一个未通过校验的事件：第 {problem.version} 版{what_zh}——{name_zh}",
        f"First event failing verification: v{problem.version}{what_en}: {name_en}",
    )


_VERIFIED: Final = ("已校验：哈希链完整，未发现篡改", "Verified: the hash chain is intact, no tampering found")
_FAILED: Final = ("校验未通过：记录可能被篡改", "Verification failed: the record may have been tampered with")
_UNREADABLE: Final = (
    "无法读取本案的事件：记录可能被篡改",
    "The events of this case cannot be read: the record may have been tampered with",
)
_UNREADABLE_MEANS: Final = (
    "时间线与规则检查需要读取全部事件，现无法进行。",
    "The timeline and the rule checks need every event: they cannot be shown.",
)
_NO_EVENT_STORE: Final = (
    (
        "本服务运行时没有连接事件库（启动时只提供了脱敏器），无法读取存储的事件：不能校验哈希链，也不能检查规则。"
        "以下步骤来自审计视图，未经校验。"
    ),
    (
        "This service runs without the event store (it was started with a masker only), so it cannot read the "
        "stored events: the hash chain cannot be verified and the rules cannot be checked. The steps below come "
        "from the audit-trail view and are not verified."
    ),
)
_NO_RULES: Final = ("规则检查不可用：需要事件库。", "Rule checks unavailable: they need the event store.")
_SEVERITY: Final = {RuleSeverity.ERROR: ("违规", "error"), RuleSeverity.WARNING: ("提示", "warning")}


def _findings(findings: Sequence[RuleFinding], rules: int, day: date, *, checked: bool) -> str:
    if not checked:
        words = _bi(f"截至 {day} 本案尚无记录，未检查规则。", f"Nothing was recorded by {day}: no rule was checked.")
        return f'<p id="findings">{words}</p>'
    errors = sum(1 for finding in findings if finding.severity is RuleSeverity.ERROR)
    summary = _bi(
        f"截至 {day}，检查 {rules} 条规则：{errors} 项违规，{len(findings) - errors} 项提示。",
        f"As of {day}, {rules} rules checked: {errors} error(s), {len(findings) - errors} warning(s).",
    )
    if not findings:
        return (
            f'<p class="small">{summary}</p>'
            f'<p class="none" id="findings">{_bi("未发现违反规则的情况。", "No breach of the rules was found.")}</p>'
        )
    rows = []
    for finding in findings:
        zh, en = _SEVERITY[finding.severity]
        rows.append(
            f'<tr data-rule="{_h(finding.rule_id)}">'
            f'<td class="sev {_h(finding.severity.value)}">{_bi(zh, en)}</td>'
            f"<td><code>{_h(finding.rule_id)}</code><br>{_bi(finding.title_zh, finding.title_en)}</td>"
            f'<td class="num">{_h(", ".join(f"v{version}" for version in finding.versions))}</td>'
            f"<td>{_bi(finding.message_zh, finding.message_en)}</td>"
            f"<td>{_h(finding.source)}</td>"
            "</tr>"
        )
    headers = [
        ("严重程度", "Severity"),
        ("规则", "Rule"),
        ("涉及版本", "Events"),
        ("说明", "Finding"),
        ("依据", "Source"),
    ]
    return f'<p class="small">{summary}</p>' + _table(headers, rows, "findings")


def _timeline(
    entries: Sequence[tuple[TimelineEntry, TimelineEntry]],
    problems: Sequence[Problem],
    findings: Sequence[RuleFinding],
    case_id: UUID,
) -> str:
    rows = []
    for zh, en in entries:
        notes = list(
            zip(
                integrity_notes(problems, case_id, zh.version, "zh"),
                integrity_notes(problems, case_id, zh.version, "en"),
                strict=True,
            )
        )
        rules = [finding.rule_id for finding in findings if zh.version in finding.versions]
        marks = "".join(f'<br><span class="mark">✘ {_bi(note_zh, note_en)}</span>' for note_zh, note_en in notes)
        marks += "".join(f'<br><span class="small">规则 rule: <code>{_h(rule)}</code></span>' for rule in rules)
        css = "tampered" if notes else "flagged" if rules else ""
        rows.append(
            f'<tr id="v{zh.version}" data-version="{zh.version}"' + (f' class="{css}"' if css else "") + ">"
            f'<td class="num">{zh.version}</td>'
            f'<td class="time">{_h(zh.time_text)}</td>'
            f"<td>{_h(zh.actor_id)}<br>{_bi(zh.role_name, en.role_name)}</td>"
            f'<td class="what">{_bi(zh.what, en.what)}{marks}</td>'
            f"<td>{_bi(zh.why, en.why) if zh.why else ''}</td>"
            f"<td>{_evidence(zh, en)}</td>"
            "</tr>"
        )
    headers = [
        ("版本", "v"),
        ("记录时间（北京时间）", "Recorded (China time)"),
        ("记录人（角色）", "By (role)"),
        ("事项", "What happened"),
        ("原因", "Why"),
        ("证据", "Evidence"),
    ]
    return _table(headers, rows, "timeline")


def _evidence(zh: TimelineEntry, en: TimelineEntry) -> str:
    return "<br>".join(
        _bi(text_zh, text_en) for text_zh, text_en in zip(zh.evidence_texts(), en.evidence_texts(), strict=True)
    )


def _unreadable_case(app: GridApplication, case_id: UUID, error: CodecError, as_of: date | None) -> HTMLResponse:
    """Show a case whose events cannot even be read: say so, and what verification finds."""
    chain = verify_aggregate(app.recorder, case_id)
    body = [
        f'<p class="subtitle" id="title">{_h(case_id)}</p>',
        _section(
            "verification-heading", ("一、记录完整性（防篡改校验）", "1. Integrity of the record (tamper evidence)")
        ),
        '<section class="verdict bad" id="verification" data-status="failed">',
        f'<p class="result">✘ {_bi(*_UNREADABLE)}</p>',
        f"<p>{_h(error)}</p>",
    ]
    if chain.problems:
        first = chain.problems[0]
        body.append(
            f'<p id="first-problem" data-version="{_h(first.version or "")}">{_first_problem(first, {})}</p>'
            f"<p>{_bi(problem_text(first, 'zh'), problem_text(first, 'en'))}</p>"
        )
    body.append(f"<p>{_bi(*_UNREADABLE_MEANS)}</p></section>")
    return HTMLResponse(
        _document(("审计：无法读取的案件", "Audit: an unreadable case"), body, here="", base="../", as_of=as_of),
        status_code=status.HTTP_200_OK,
    )


def _case_from_view(service: GridService, case_id: UUID, day: date, as_of: date | None) -> HTMLResponse:
    """Without an event store: the case's steps from the audit-trail view, and why nothing is verified."""
    end = datetime.combine(min(day, date.max - timedelta(days=1)) + timedelta(days=1), datetime.min.time(), CHINA)
    trail = queries.audit_trail(service.store, str(case_id), limit=MAX_LIMIT)
    steps = trail.items
    if not steps:
        return _error_page(
            status.HTTP_404_NOT_FOUND,
            f"审计记录中没有案件 {case_id}。",
            f"The audit trail holds no case {case_id}.",
            base="../",
        )
    rows = []
    for step in steps:
        if datetime.fromisoformat(step["recorded_at"]) >= end:
            continue
        role_zh, role_en = _role(step["role"])
        evidence = "<br>".join(
            _h(" ".join(part for part in (item["kind"], item["uri"], item["sha256"][:16], item["description"]) if part))
            for item in step["evidence"] or ()
        )
        rows.append(
            f'<tr id="v{step["version"]}" data-version="{_h(step["version"])}">'
            f'<td class="num">{_h(step["version"])}</td>'
            f'<td class="time">{_h(_china(step["recorded_at"], "%Y-%m-%d %H:%M:%S"))}</td>'
            f"<td>{_h(step['actor_id'])}<br>{_bi(role_zh, role_en)}</td>"
            f"<td><code>{_h(step['event'])}</code></td>"
            f"<td>{_h(step['reason'] or '')}</td>"
            f"<td>{evidence}</td>"
            "</tr>"
        )
    body = [
        f'<p class="subtitle" id="title">{_h(case_id)}</p>',
        _section(
            "verification-heading", ("一、记录完整性（防篡改校验）", "1. Integrity of the record (tamper evidence)")
        ),
        '<section class="verdict unknown" id="verification" data-status="unavailable">',
        f'<p class="result">{_bi("校验不可用", "Verification unavailable")}</p>',
        f"<p>{_bi(*_NO_EVENT_STORE)}</p></section>",
        _section("findings-heading", ("二、规则检查", "2. Rule checks")),
        f'<p id="findings" data-status="unavailable">{_bi(*_NO_RULES)}</p>',
        _section("timeline-heading", ("三、全部记录（来自审计视图）", "3. The record (from the audit-trail view)")),
        _table(
            [
                ("版本", "v"),
                ("记录时间（北京时间）", "Recorded (China time)"),
                ("记录人（角色）", "By (role)"),
                ("事件", "Event"),
                ("原因", "Why"),
                ("证据", "Evidence"),
            ],
            rows,
            "timeline",
        ),
    ]
    if trail.total > len(steps):
        hidden = trail.total - len(steps)
        words = _bi(f"另有 {hidden} 条更晚的记录未显示。", f"{hidden} later steps are not shown.")
        body.append(f'<p class="mark" id="truncated">{words}</p>')
    return HTMLResponse(_document(("审计", "Audit"), body, here="", base="../", as_of=as_of))


# -- the exports ---------------------------------------------------------------------------------------------

_MEDIA_TYPES: Final = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@router.get(
    "/cases/{case_id}/report.{fmt}",
    summary="A case's audit report (the library's export): JSON, CSV or printable HTML",
    dependencies=[Depends(requires(Right.AUDIT_READ))],
    response_class=Response,
    responses={404: {"description": "No such case, or no event store."}},
)
def case_report(
    request: Request,
    case_id: UUID,
    fmt: Literal["json", "csv", "html"],
    as_of: Annotated[Day | None, Query(description="As of this day (China; default today).")] = None,
    lang: Annotated[Literal["zh", "en"], Query(description="The report's language.")] = "zh",
) -> Response:
    """Return the case's report as ``grid-events audit export`` writes it (personal data sealed)."""
    app = _service(request).event_store_app
    if app is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "this service runs without the event store: it cannot export audit reports"
        )
    try:
        report = build_report(app, case_id, lang=lang, as_of=as_of)
    except AggregateNotFoundError as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the event store holds no case {case_id}") from e
    except ValidationError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, e.message) from e
    except CodecError as e:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"an event of the case cannot be read ({e}): verify the store"
        ) from e
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        render_report(report, fmt),
        media_type=_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="audit-{case_id}.{fmt}"'},
    )
