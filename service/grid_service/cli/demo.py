"""``grid-events demo``: watch a day of community work flow through the whole pipeline.

The simulated day (:mod:`grid_service.scenario`) records its work through
:class:`grid_events.GridApplication` into a SQLite event store; the outbox relay
publishes every event to an embedded nats-server; the service projects them
into its views and serves them over HTTP. The terminal shows the day's progress
and, at the end, what happened and where to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from grid_events import GridApplication, Role
from grid_events.transport import NatsServerError
from grid_service.runtime.auth import Accounts
from grid_service.runtime.pipeline import HttpPortInUseError, PipelineSettings, run_pipeline
from grid_service.scenario import DAY_SIZES, DAY_START, DayPlan, DaySize, DaySummary, Phase, SimulatedClock

__all__ = ["demo"]

T = TypeVar("T")

EXIT_NOT_CAUGHT_UP = 3
"""Exit code when the day was played but a view stopped or did not catch up in time."""

PHASE_NAMES: dict[Phase, str] = {
    "registry": "居民登记 registry",
    "sites": "采样点 sampling sites",
    "calls": "流调电话 survey calls",
    "inspections": "消防排查 inspections",
    "mediation": "人民调解 mediation",
}
COUNT_NAMES = {
    "residents registered": "居民登记 residents registered",
    "sites opened": "采样点开设 sites opened",
    "people sampled": "采样人数 people sampled",
    "batches sealed": "封箱批次 batches sealed",
    "batches received": "实验室接收 batches received by the lab",
    "calls made": "流调电话 calls made",
    "residents notified": "已通知居民 residents notified",
    "hazards found": "发现隐患 hazards found",
    "hazards rectified": "隐患整改复查通过 hazards rectified",
    "agreements signed": "调解协议签署 agreements signed",
    "follow-ups recorded": "回访 follow-up visits recorded",
    "disputes resolved": "纠纷化解 disputes resolved",
    "sites closed": "采样点关闭 sites closed",
}


@click.command()
@click.option(
    "--size",
    type=click.Choice(sorted(DAY_SIZES)),
    default="community",
    show_default=True,
    help=(
        "community: one community, about a minute; district: ten; "
        "city: 70 communities, 350 sites, 10,500 calls (about 70,000 events, a few minutes)."
    ),
)
@click.option("--seed", type=int, default=2026, show_default=True, help="The same seed gives the same day.")
@click.option(
    "--pace",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds the day should take to play (default: 60 for a community, as fast as it goes otherwise).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grid-data") / "demo",
    show_default=True,
    help="Where the demo keeps its store, views and NATS files. It is emptied first.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="HTTP port of the views.")
@click.option(
    "--exit-when-done",
    is_flag=True,
    help="Stop once the day is played and every view has caught up, instead of serving until Ctrl-C.",
)
def demo(*, size: str, seed: int, pace: float | None, data_dir: Path, port: int, exit_when_done: bool) -> None:
    """Play a day of community work through the event store, NATS and the service, then serve the views.

    A sampling site opens at seven and seals a batch every half hour, grid
    workers make survey calls, a safety officer finds a blocked exit at a
    small eatery (re-inspected three days later), and a neighbours' dispute is
    mediated to a signed agreement and a follow-up. Open the addresses printed
    at the end in a browser; Ctrl-C stops everything.
    """
    console = Console()
    _empty_demo_dir(data_dir)
    pace = pace if pace is not None else (60.0 if size == "community" else 0.0)
    try:
        caught_up = asyncio.run(
            _demo(
                console,
                DAY_SIZES[size],
                seed=seed,
                pace=pace,
                data_dir=data_dir,
                port=port,
                exit_when_done=exit_when_done,
            )
        )
    except KeyboardInterrupt:
        console.print("stopped.")
        return
    except (HttpPortInUseError, NatsServerError) as e:
        raise click.ClickException(str(e)) from e
    if not caught_up:
        raise SystemExit(EXIT_NOT_CAUGHT_UP)


DEMO_MARKER = ".grid-events-demo"
"""The file that marks a directory as the demo's own: only such a directory is emptied before a demo."""


def _empty_demo_dir(data_dir: Path) -> None:
    """Empty *data_dir* for a new demo if it is an earlier demo's (or empty); refuse anything else."""
    if data_dir.exists():
        if not data_dir.is_dir():
            raise click.ClickException(f"--data-dir {data_dir} is a file; give a directory")
        if not (data_dir / DEMO_MARKER).exists() and any(data_dir.iterdir()):
            message = (
                f"{data_dir} holds files that no demo made (an office's event store?): the demo empties its "
                "directory first, so give it another --data-dir"
            )
            raise click.ClickException(message)
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / DEMO_MARKER).write_text("made by grid-events demo: emptied by the next demo\n", encoding="utf-8")


async def _demo(
    console: Console,
    size: DaySize,
    *,
    seed: int,
    pace: float,
    data_dir: Path,
    port: int,
    exit_when_done: bool,
) -> bool:
    """Play the day through the pipeline; return whether every view caught up with it."""
    clock = SimulatedClock(DAY_START)
    settings = PipelineSettings(data_dir=data_dir, http_port=port, access_log=False)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    logins = _make_accounts(settings.accounts_path)
    app = await asyncio.to_thread(GridApplication, settings.event_store, clock=clock)
    try:
        pipeline = asyncio.create_task(run_pipeline(settings, app=app, stop=stop, on_ready=ready.set_result))
        try:
            url = await _wait_ready(ready, pipeline)
            console.print(f"[bold]the views are served on {url}[/bold] (OpenAPI: {url}/docs)")
            _show_logins(console, url, logins)
            plan = DayPlan(app, clock, size=size, seed=seed)
            halt = threading.Event()
            summary = await _unless_stopped(asyncio.to_thread(_play, console, plan, pace, halt), pipeline, halt.set)
            events = app.recorder.max_notification_id() or 0
            waiting = _wait_caught_up(console, url, events, within=max(120.0, events / 500))
            views = await _unless_stopped(waiting, pipeline)
            _report(console, summary, url, events, views)
            _show_logins(console, url, logins)
            if exit_when_done:
                stop.set()
            else:
                console.print("[bold]serving until Ctrl-C[/bold]")
        except BaseException:
            stop.set()
            raise
        finally:
            await pipeline
        return views is not None
    finally:
        await asyncio.to_thread(app.close)


class _HaltedError(Exception):
    """The day's play was halted because the pipeline stopped (Ctrl-C)."""


async def _unless_stopped(
    work: Awaitable[T], pipeline: asyncio.Task[None], halt: Callable[[], None] | None = None
) -> T:
    """Return what *work* gives, unless the pipeline stops first (Ctrl-C, or a failure).

    Then *work* is halted (with *halt*, for work in a thread, which cannot be
    cancelled; else cancelled) and awaited, what stopped the pipeline is
    raised if it failed, and KeyboardInterrupt otherwise.
    """
    task = asyncio.ensure_future(work)
    waiting: list[asyncio.Future[Any]] = [task, pipeline]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    if halt is not None:
        halt()
    else:
        task.cancel()
    with contextlib.suppress(_HaltedError, asyncio.CancelledError):
        await task
    pipeline.result()
    raise KeyboardInterrupt


async def _wait_ready(ready: asyncio.Future[str], pipeline: asyncio.Task[None]) -> str:
    """Return the URL once the pipeline serves; raise what stopped it if it stopped first."""
    waiting: list[asyncio.Future[Any]] = [ready, pipeline]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        return ready.result()
    pipeline.result()  # raises what stopped it
    message = "the pipeline stopped before serving"
    raise click.ClickException(message)


def _play(console: Console, plan: DayPlan, pace: float, halt: threading.Event) -> DaySummary:
    """Run the day in this (worker) thread, with a progress bar per kind of work, until done or *halt* is set."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    delay = 0.0
    with Progress(*columns, console=console) as progress:
        bars: dict[Phase, TaskID] = {}
        totals: dict[Phase, int] = {}
        plan.lay_out()
        for phase in plan.planned_phases():
            totals[phase] = totals.get(phase, 0) + 1
        for phase, total in totals.items():
            bars[phase] = progress.add_task(PHASE_NAMES[phase], total=total)
        if pace and plan.planned_actions:
            delay = pace / plan.planned_actions

        def advance(phase: Phase, _: DaySummary) -> None:
            progress.advance(bars[phase])
            if delay:
                halt.wait(delay)
            if halt.is_set():
                raise _HaltedError

        return plan.run(advance)


async def _wait_caught_up(console: Console, url: str, events: int, within: float) -> list[dict[str, Any]] | None:
    """Wait until every view has applied all *events* the day recorded and return the views' states.

    Return None (having said why) when a view stopped or *within* seconds passed first.
    """
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        with console.status("the service is catching up…"):
            while time.monotonic() < deadline:
                response = await client.get("/readyz")
                readiness = response.json()
                views: list[dict[str, Any]] = readiness["views"]
                if response.status_code == httpx.codes.OK and all(view["position"] >= events for view in views):
                    return views
                stopped = [problem for problem in readiness["problems"] if " is stopped" in problem]
                if stopped:
                    console.print(f"[red]{'; '.join(stopped)}[/red] (see {url}/admin/dead-letters)")
                    return None
                await asyncio.sleep(0.25)
    console.print("[yellow]the views have not caught up yet; they will as the service runs[/yellow]")
    return None


DEMO_ACCOUNTS = (
    ("a-demo", Role.AUDITOR, "审计员 auditor: every view and the audit pages"),
    ("s-demo", Role.SUPERVISOR, "社区书记 supervisor: task boards, the register, sites, the masked registry"),
    ("v-demo", Role.VOLUNTEER, "志愿者 volunteer: site dashboards only (try it on the register: 403)"),
    ("admin-demo", Role.ADMINISTRATOR, "管理员 administrator: /admin/… (views, dead letters, rebuilds)"),
)
"""The demo's accounts: who to log in as, to see what each role may see."""


def _make_accounts(path: Path) -> list[tuple[str, str, str]]:
    """Create the demo's accounts in *path*; return (worker id, token, what it sees) for each."""
    accounts = Accounts.load(path)
    logins = [(worker_id, accounts.add(worker_id, role, replace=True), sees) for worker_id, role, sees in DEMO_ACCOUNTS]
    accounts.save()
    return logins


def _show_logins(console: Console, url: str, logins: list[tuple[str, str, str]]) -> None:
    """Print how to log in: the browser asks for a user name (the worker id) and a password (the token)."""
    console.print("[bold]log in with[/bold] (user name = worker id, password = token; made for this demo only):")
    for worker_id, token, sees in logins:
        console.print(f"  {worker_id}  {token}  {sees}", soft_wrap=True, highlight=False)
    worker_id, token, _ = logins[0]
    console.print(f"  e.g. curl -u {worker_id}:{token} {url}/disputes", soft_wrap=True, highlight=False)


def _report(console: Console, summary: DaySummary, url: str, events: int, views: list[dict[str, Any]] | None) -> None:
    """Print what happened during the day, how far it travelled, and where to look."""
    table = Table(title="the day in numbers")
    table.add_column("what")
    table.add_column("how many", justify="right")
    for key, name in COUNT_NAMES.items():
        if summary.counts.get(key):
            table.add_row(name, f"{summary.counts[key]:,}")
    console.print(table)
    console.print(f"事件 events: {events:,} recorded in the event store (the record of truth)")
    if views is not None:
        stream = max((view["stream_last_sequence"] for view in views), default=0)
        console.print(f"  → {stream:,} on the NATS stream, relayed by the outbox")
        for view in views:
            console.print(f"  → view {view['name']}: {view['position']:,} applied")
    pages: list[tuple[str, str]] = [
        ("任务看板 task board", "/tasks"),
        ("超期任务 overdue tasks", "/tasks?overdue=true"),
        ("调解台账 mediation register", "/disputes"),
        ("采样点看板 site dashboards", "/shifts"),
        ("居民台账（脱敏） masked registry", "/residents"),
        ("每日统计 daily statistics", "/statistics/daily"),
        ("调解台账（审计）register with audit links", "/pages/disputes"),
        ("消防排查（审计）inspections with audit links", "/pages/inspections"),
    ]
    if summary.disputes:
        pages.append(("调解案件审计页 a dispute's audit page", f"/pages/cases/{summary.disputes[0]}"))
    if summary.inspections:
        pages.append(("消防排查审计页 an inspection's audit page", f"/pages/cases/{summary.inspections[0]}"))
    console.print("[bold]open these in a browser:[/bold]")
    for name, path in pages:
        console.print(f"  {name}: {url}{path}", soft_wrap=True, highlight=False)


Callback = Callable[[Phase, DaySummary], None]
