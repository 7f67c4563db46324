"""``grid-events audit``: replay a case, check it, verify the store, export what was found.

For the auditors of the civil-affairs bureau (民政局) and the sub-district (街道).
Every command reads the event store only (nothing is ever written to it) and
never opens personal data: parties, statements and residents' records show as
placeholders such as ``[当事人陈述已加密]``.

Exit codes: 0 done (nothing wrong found), 1 something wrong was found
(tampering, a rule breached with severity error, an unreadable event), 2 the
command was used wrongly (an unknown case, a bad date, a missing option).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from grid_events import (
    AggregateNotFoundError,
    CodecError,
    ConfigurationError,
    GridApplication,
    StoreConfig,
    ValidationError,
)
from grid_events.audit import (
    CASE_KINDS,
    EXPORT_FORMATS,
    RULES,
    CaseReport,
    Checkpoint,
    CrossCheckError,
    CrossCheckReport,
    Language,
    Problem,
    RuleFinding,
    RuleSeverity,
    VerificationReport,
    build_report,
    build_timeline,
    check_case,
    check_language,
    crosscheck_stream,
    describe_case,
    describe_state,
    export_report,
    find_case,
    history,
    integrity_notes,
    list_cases,
    problem_name,
    problem_text,
    replay,
    rules_markdown,
    take_checkpoint,
    verify_aggregate,
    verify_store,
)
from grid_events.transport import EventStoreReader, NatsSettings, StreamSettings, open_event_store
from grid_service.cli.options import open_application, store_options

__all__ = ["audit"]

CHINA = timezone(timedelta(hours=8), "UTC+08:00")
"""The audit counts dates in China time."""

F = TypeVar("F", bound=Callable[..., Any])


def _t(lang: Language, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _console(*, stderr: bool = False) -> Console:
    """Return a console on stdout (or stderr); 200 columns when not a terminal (unless COLUMNS says otherwise)."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False, emoji=False)


def lang_option(command: F) -> F:
    """Add ``--lang zh|en`` (default zh: the auditors read Chinese)."""
    return click.option(
        "--lang",
        type=click.Choice(["zh", "en"]),
        default="zh",
        show_default=True,
        help="Language of the output: zh (中文) or en.",
    )(command)


@contextmanager
def _opened(config: StoreConfig) -> Iterator[GridApplication]:
    app = open_application(config)
    try:
        yield app
    finally:
        app.close()


def _case_id(app: GridApplication, text: str) -> UUID:
    try:
        return find_case(app, text)
    except ValidationError as e:
        raise click.UsageError(f"{e.message}. List the cases with `grid-events audit cases`.") from e
    except AggregateNotFoundError as e:
        raise click.UsageError(
            f"no case {text!r} in this store: check the id and the store options "
            "(--sqlite-path, --postgres-dsn); list the cases with `grid-events audit cases`."
        ) from e


def _events(app: GridApplication, case_id: UUID) -> list[Any]:
    try:
        return list(history(app, case_id))
    except AggregateNotFoundError as e:
        raise click.UsageError(
            f"no case {case_id} in this store; list the cases with `grid-events audit cases`."
        ) from e
    except CodecError as e:
        message = (
            f"an event of case {case_id} cannot be read ({e}): the store may have been tampered with. "
            f"Run `grid-events audit verify {case_id}` to find which event."
        )
        raise click.ClickException(message) from e


def _read_checkpoints(paths: Sequence[Path]) -> list[Checkpoint]:
    checkpoints = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="--checkpoint") from e
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise click.BadParameter(f"{path} holds no checkpoint", param_hint="--checkpoint")
        for number, line in enumerate(lines, 1):
            try:
                checkpoints.append(Checkpoint.from_json(line))
            except ValidationError as e:
                message = f"{path}, line {number}: {e.message} (take one with `grid-events audit checkpoint -o FILE`)"
                raise click.BadParameter(message, param_hint="--checkpoint") from e
    return checkpoints


def _as_of_date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _parse_moment(text: str) -> datetime:
    """Parse ``--at``: an ISO time (China time if it names no zone), or a date meaning the end of that day."""
    try:
        if len(text) == len("2026-11-02"):
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=CHINA)
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        message = f"{text!r} is not an ISO time such as 2026-11-20T18:00 or 2026-11-20T18:00+08:00, or a date"
        raise click.BadParameter(message, param_hint="--at") from e
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


# -- the group ----------------------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """Replay, check and verify the records, and export what you found (审计).

    \b
    Typical session:
      grid-events audit cases                      # the mediation cases and inspections
      grid-events audit show CASE                  # the case's whole history
      grid-events audit as-of CASE --at 2026-11-20 # the case as it stood then
      grid-events audit check CASE                 # what the record lacks against the rules
      grid-events audit verify --checkpoint FILE   # proof that nothing was altered
      grid-events audit crosscheck                 # the store against its copy on NATS
      grid-events audit export CASE --format html -o report.html

    CASE is a case id, or its first few characters. Nothing is written to the
    store, and personal data is never shown. Exit status: 0 nothing wrong
    found, 1 something wrong found, 2 wrong usage.
    """  # noqa: D301 (click needs the backspace: keep the lines as they are)


@audit.command("cases")
@click.option(
    "--kind",
    "kinds",
    type=click.Choice([*CASE_KINDS, "all"]),
    multiple=True,
    help="Which kinds of case to list (repeatable; default: dispute and inspection).",
)
@lang_option
@store_options
def cases(kinds: tuple[str, ...], lang: str, store_config: StoreConfig) -> None:
    """List the cases in the store: id, kind, when opened, what it is about."""
    language = check_language(lang)
    chosen = CASE_KINDS if "all" in kinds else (kinds or ("dispute", "inspection"))
    console = _console()
    table = Table(box=box.SIMPLE_HEAVY)
    for header in (
        _t(language, "案件编号", "case"),
        _t(language, "类型", "kind"),
        _t(language, "登记时间", "opened"),
        _t(language, "案由", "about"),
    ):
        table.add_column(header, overflow="fold")
    count = 0
    with _opened(store_config) as app:
        for ref in list_cases(app, chosen):
            summary = describe_case([ref.first_event], language)
            table.add_row(
                str(ref.case_id), summary.kind_name, summary.opened_at.strftime("%Y-%m-%d %H:%M"), summary.title
            )
            count += 1
    console.print(table)
    console.print(_t(language, f"共 {count} 件。", f"{count} case(s)."))


@audit.command("show")
@click.argument("case")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Show only what was recorded up to this date (China time), e.g. 2026-11-20.",
)
@lang_option
@store_options
def show(case: str, as_of: datetime | None, lang: str, store_config: StoreConfig) -> None:
    """Show CASE's whole history: each step, who did it in which role, when, why, with what evidence."""
    language = check_language(lang)
    console = _console()
    with _opened(store_config) as app:
        case_id = _case_id(app, case)
        events = _events(app, case_id)
        chain = verify_aggregate(app.recorder, case_id)
    day = _as_of_date(as_of)
    shown = [event for event in events if day is None or event.timestamp.astimezone(CHINA).date() <= day]
    summary = describe_case(events, language)
    console.print(Text(f"{summary.kind_name}  {summary.title}", style="bold"))
    console.print(f"{_t(language, '案件编号', 'case')}: {summary.case_id}")
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False)
    table.add_column(_t(language, "版本", "v"), justify="right", no_wrap=True)
    table.add_column(_t(language, "记录时间", "recorded"), no_wrap=True)
    table.add_column(_t(language, "记录人（角色）", "by (role)"), no_wrap=True)
    table.add_column(_t(language, "事项", "what happened"), ratio=3, overflow="fold")
    table.add_column(_t(language, "原因", "why"), ratio=1, overflow="fold")
    table.add_column(_t(language, "证据", "evidence"), ratio=1, overflow="fold")
    for entry in build_timeline(shown, language):
        notes = integrity_notes(chain.problems, case_id, entry.version, language)
        what = Text(entry.what)
        for note in notes:
            what.append(f"\n✘ {note}", style="bold red")
        table.add_row(
            Text(str(entry.version), style="bold red" if notes else ""),
            entry.time_text,
            entry.actor_text,
            what,
            entry.why,
            "\n".join(entry.evidence_texts()),
        )
    console.print(table)
    total = len(events)
    if len(shown) < total:
        console.print(
            _t(
                language,
                f"显示截至 {day} 的 {len(shown)} 个事件（共 {total} 个）。",
                f"{len(shown)} of {total} events, up to {day}.",
            )
        )
    else:
        console.print(_t(language, f"共 {total} 个事件。", f"{total} events."))
    if chain.ok:
        console.print(
            _t(
                language,
                "✔ 记录链完整（最新事件须由库外检查点作证：grid-events audit verify --checkpoint FILE）。",
                "✔ The chain is intact (the newest event needs a checkpoint kept outside: audit verify --checkpoint).",
            ),
            style="green",
        )
    else:
        first = chain.problems[0]
        console.print(
            _t(
                language,
                f"✘ 记录链断裂，以上内容可能已被篡改：{problem_text(first, 'zh')}",
                f"✘ The chain is broken; what is shown may have been tampered with: {first.message}",
            ),
            style="bold red",
        )


@audit.command("as-of")
@click.argument("case")
@click.option(
    "--at", "at_text", metavar="ISO-TIME", help="A moment: 2026-11-20T18:00 (China time), or a date (its end)."
)
@click.option("--version", "version", type=click.IntRange(min=1), help="Right after the event with this version.")
@click.option("--all-fields", is_flag=True, help="Also list the fields that have no value yet.")
@lang_option
@store_options
def as_of(
    *,
    case: str,
    at_text: str | None,
    version: int | None,
    all_fields: bool,
    lang: str,
    store_config: StoreConfig,
) -> None:
    """Show CASE as it stood at a moment (--at) or right after one of its events (--version)."""
    language = check_language(lang)
    if (at_text is None) == (version is None):
        raise click.UsageError("give exactly one of --at ISO-TIME or --version N")
    at = _parse_moment(at_text) if at_text is not None else None
    console = _console()
    with _opened(store_config) as app:
        case_id = _case_id(app, case)
        events = _events(app, case_id)
    if version is not None and version > len(events):
        raise click.UsageError(f"case {case_id} has {len(events)} events: give --version 1 to {len(events)}")
    try:
        state = replay(events, at=at, version=version)
    except AggregateNotFoundError as e:
        raise click.UsageError(
            f"case {case_id} did not exist yet at {at_text}: it was opened "
            f"{events[0].timestamp.astimezone(CHINA):%Y-%m-%d %H:%M} (China time)"
        ) from e
    except ValidationError as e:
        raise click.ClickException(f"{e.message}: run `grid-events audit verify {case_id}`") from e
    summary = describe_case(events, language)
    console.print(Text(f"{summary.kind_name}  {summary.title}", style="bold"))
    when = _t(language, f"截至 {at:%Y-%m-%d %H:%M:%S %z}", f"as of {at:%Y-%m-%d %H:%M:%S %z}") if at else ""
    console.print(
        _t(
            language,
            f"第 {state.version} 版（共 {len(events)} 版）{when}",
            f"version {state.version} of {len(events)} {when}",
        )
    )
    table = Table(box=box.SIMPLE_HEAVY, show_header=False)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for label, value in describe_state(state, language, include_empty=all_fields):
        table.add_row(label, value)
    console.print(table)


@audit.command("verify")
@click.argument("case", required=False)
@click.option(
    "--checkpoint",
    "checkpoint_files",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A checkpoint file taken earlier and kept outside the store (repeatable; one checkpoint a line).",
)
@lang_option
@store_options
def verify(case: str | None, checkpoint_files: tuple[Path, ...], lang: str, store_config: StoreConfig) -> None:
    """Prove that no stored event was altered, removed, inserted or reordered (exit 1 if one was).

    Without CASE, walks every event of the store, with a progress bar; with
    CASE, that case's chain. Checkpoints (from `audit checkpoint`) also vouch
    for the newest events and catch a rewritten chain; with CASE and
    checkpoints, the whole log is checked against them too.
    """
    language = check_language(lang)
    checkpoints = _read_checkpoints(checkpoint_files)
    console = _console()
    case_report = log_report = None
    with _opened(store_config) as app:
        if case is not None:
            case_report = verify_aggregate(app.recorder, _case_id(app, case))
        if case is None or checkpoints:
            log_report = _verify_with_progress(app, checkpoints, language)
    if case_report is not None:
        console.print(
            _t(
                language,
                f"案件 {case}：已校验 {case_report.events_checked} 个事件。",
                f"case {case}: checked {case_report.events_checked} events.",
            )
        )
    if log_report is not None:
        console.print(
            _t(
                language,
                f"整个数据库：已校验 {log_report.events_checked} 个事件（{log_report.aggregates_checked} 条记录链），"
                f"对照 {log_report.checkpoints_checked} 个检查点。",
                f"the whole store: checked {log_report.events_checked} events ({log_report.aggregates_checked} "
                f"chain(s)) against {log_report.checkpoints_checked} checkpoint(s).",
            )
        )
    problems, elsewhere = _problems_to_show(case_report, log_report)
    if elsewhere:
        console.print(
            _t(
                language,
                f"其他记录另有 {elsewhere} 处问题：运行 grid-events audit verify 查看。",
                f"{elsewhere} more problem(s) in other records: run `grid-events audit verify` to see them.",
            ),
            style="bold red",
        )
    if problems:
        _print_problems(console, problems, language)
    elif not elsewhere:
        console.print(Text(_t(language, "✔ 未发现篡改。", "✔ No tampering found."), style="bold green"))
        if not checkpoints:
            console.print(
                _t(
                    language,
                    "注意：每条链最新的事件只有库外保存的检查点才能作证；请定期运行 grid-events audit checkpoint "
                    "并把结果保存在数据库之外。",
                    "Note: only a checkpoint kept outside the store vouches for the newest event of each chain; "
                    "take them regularly with `grid-events audit checkpoint` and keep them elsewhere.",
                )
            )
    if problems or elsewhere:
        sys.exit(1)


def _problems_to_show(
    case_report: VerificationReport | None, log_report: VerificationReport | None
) -> tuple[list[Problem], int]:
    """Return the problems to list, and how many more there are in other records (for a case's verification)."""
    if case_report is None:
        return (list(log_report.problems) if log_report is not None else []), 0
    problems = list(case_report.problems)
    if log_report is None:
        return problems, 0
    problems += [problem for problem in log_report.problems if problem.aggregate_id is None]
    elsewhere = sum(
        1 for problem in log_report.problems if problem.aggregate_id is not None and problem not in case_report.problems
    )
    return problems, elsewhere


def _print_problems(console: Console, problems: Sequence[Problem], language: Language) -> None:
    table = Table(box=box.SIMPLE_HEAVY)
    for header in (
        _t(language, "问题", "problem"),
        _t(language, "记录", "aggregate"),
        _t(language, "版本", "v"),
        _t(language, "日志位置", "position"),
        _t(language, "说明", "details"),
    ):
        table.add_column(header, overflow="fold")
    for problem in problems:
        table.add_row(
            problem_name(problem.kind, language),
            str(problem.aggregate_id or "—"),
            str(problem.version or "—"),
            str(problem.notification_id or "—"),
            problem_text(problem, language),
        )
    console.print(table)
    first = problems[0]
    console.print(
        Text(
            _t(
                language,
                f"✘ 发现 {len(problems)} 处问题。第一处：{problem_text(first, 'zh')}",
                f"✘ {len(problems)} problem(s). First: {first.message}",
            ),
            style="bold red",
        )
    )


def _verify_with_progress(
    app: GridApplication, checkpoints: Sequence[Checkpoint], lang: Language
) -> VerificationReport:
    total = app.recorder.max_notification_id() or 0
    stderr = _console(stderr=True)
    columns = (
        TextColumn(_t(lang, "校验中", "verifying")),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("verify", total=total)
        return verify_store(
            app.recorder, checkpoints=checkpoints, progress=lambda done: progress.update(task, completed=done)
        )


@audit.command("checkpoint")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Append the checkpoint to this file (one checkpoint a line); default: print it.",
)
@lang_option
@store_options
def checkpoint(output: Path | None, lang: str, store_config: StoreConfig) -> None:
    """Take a checkpoint: a digest of the whole log so far, to keep OUTSIDE the store.

    Later, `audit verify --checkpoint FILE` proves that nothing up to that
    point was changed, removed or rewritten, including the newest events and a
    chain rewritten as a whole. Print it, file it with the auditors, or send it
    elsewhere: a copy in the same database protects nothing.
    """
    language = check_language(lang)
    with _opened(store_config) as app:
        taken = take_checkpoint(app.recorder)
    line = taken.to_json()
    info = _console(stderr=output is None)
    if output is None:
        click.echo(line)
    else:
        with output.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
    info.print(
        _t(
            language,
            f"检查点：日志位置 {taken.notification_id}，共 {taken.events} 个事件，摘要 {taken.log_hash[:16]}…"
            + (f"，已追加到 {output}" if output else "")
            + "。请把它保存在数据库之外。",
            f"Checkpoint at log position {taken.notification_id}, {taken.events} events, digest "
            f"{taken.log_hash[:16]}…" + (f", appended to {output}" if output else "") + ". Keep it outside the store.",
        )
    )


class _UnavailableError(click.ClickException):
    """NATS or its stream cannot be reached, or the store cannot be read: exit 2, saying what to do."""

    exit_code = 2


def _open_reader(config: StoreConfig) -> EventStoreReader:
    """Open the store for reading only (no master key needed), as the relay does."""
    if config.backend == "memory":
        raise click.UsageError(
            "the cross-check compares the office's store with the stream: give --sqlite-path or --postgres-dsn "
            "(or GRID_EVENTS_STORE), not the memory store"
        )
    if config.backend == "sqlite" and not config.sqlite_path.exists():
        raise click.UsageError(f"no event store at {config.sqlite_path}: give --sqlite-path")
    try:
        return open_event_store(config)
    except ConfigurationError as e:
        raise click.UsageError(str(e)) from e


@audit.command("crosscheck")
@click.option(
    "--nats-url",
    metavar="URL",
    default=None,
    help="NATS server URLs, comma-separated (default: GRID_EVENTS_NATS_URL, else nats://127.0.0.1:4222).",
)
@click.option(
    "--stream", "stream_name", metavar="NAME", default=None, help="The stream the relay fills (default GRID_EVENTS)."
)
@lang_option
@store_options
def crosscheck(nats_url: str | None, stream_name: str | None, lang: str, store_config: StoreConfig) -> None:
    """Compare the event store with its copy on the NATS stream (exit 1 if they disagree).

    Reads every message of the stream and every event of the store, in
    order, and names each event whose two copies differ, that one copy lacks,
    or that is on the stream twice or out of order, and each message whose
    headers contradict its body. Events the relay has not published yet are
    lag, not tampering: they are counted, not listed. NATS credentials and TLS
    come from the GRID_EVENTS_NATS_* environment (docs/transport.md).
    """
    language = check_language(lang)
    try:
        nats = NatsSettings.from_environ(servers=nats_url) if nats_url else NatsSettings.from_environ()
        stream = StreamSettings(name=stream_name) if stream_name else StreamSettings()
    except (ConfigurationError, OSError) as e:
        raise click.UsageError(str(e)) from e
    reader = _open_reader(store_config)
    try:
        report = asyncio.run(_crosscheck_with_progress(reader, nats, stream, language))
    except CrossCheckError as e:
        if e.source == "store":
            hint = (
                "Check the store options (--sqlite-path, --postgres-dsn); `grid-events audit verify` names tampering."
            )
        else:
            hint = (
                "Start the NATS server and the relay (grid-events relay), or say where they are with --nats-url "
                "(or GRID_EVENTS_NATS_URL and the other GRID_EVENTS_NATS_* variables) and --stream."
            )
        raise _UnavailableError(f"{e}. {hint}") from e
    finally:
        reader.close()
    _print_crosscheck(_console(), report, language)
    if not report.ok:
        sys.exit(1)


async def _crosscheck_with_progress(
    reader: EventStoreReader, nats: NatsSettings, stream: StreamSettings, lang: Language
) -> CrossCheckReport:
    stderr = _console(stderr=True)
    columns = (TextColumn(_t(lang, "比对中", "comparing")), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("crosscheck", total=None)
        return await crosscheck_stream(
            reader.recorder,
            nats,
            stream=stream,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


def _print_crosscheck(console: Console, report: CrossCheckReport, lang: Language) -> None:
    console.print(
        _t(
            lang,
            f"流 {report.stream}：{report.stream_messages} 条消息（序号至 {report.stream_last_sequence}）；"
            f"事件库：{report.store_events} 个事件（日志位置至 {report.store_notification_id}）。",
            f"stream {report.stream}: {report.stream_messages} message(s) (up to sequence "
            f"{report.stream_last_sequence}); store: {report.store_events} event(s) (up to log position "
            f"{report.store_notification_id}).",
        )
    )
    if report.stream_created is not None:
        created = report.stream_created.astimezone(CHINA)
        console.print(
            _t(
                lang,
                f"流创建于 {created:%Y-%m-%d %H:%M:%S}（北京时间）。",
                f"The stream was created {created:%Y-%m-%d %H:%M:%S %z}.",
            )
        )
    if not report.stream_denies_deletes:
        console.print(
            _t(
                lang,
                "注意：该流允许删除或清除消息，流上的副本可被删改，作证力较弱。",
                "Note: the stream allows deleting or purging messages, so its copy vouches for less.",
            ),
            style="yellow",
        )
    console.print(
        _t(
            lang,
            f"流已到日志位置 {report.stream_notification_id}，尚有 {report.pending} 个事件未发布。",
            f"The stream reaches log position {report.stream_notification_id}; {report.pending} event(s) "
            "not yet published.",
        )
    )
    if report.discrepancies:
        table = Table(box=box.SIMPLE_HEAVY)
        table.add_column(_t(lang, "问题", "discrepancy"), no_wrap=True)
        table.add_column(_t(lang, "记录", "aggregate"), no_wrap=True)
        for header in (_t(lang, "版本", "v"), _t(lang, "日志位置", "position"), _t(lang, "流序号", "sequence")):
            table.add_column(header, justify="right", no_wrap=True)
        table.add_column(_t(lang, "说明", "details"), ratio=1, overflow="fold")
        for discrepancy in report.discrepancies:
            table.add_row(
                discrepancy.kind.name_in(lang),
                str(discrepancy.aggregate_id or "—"),
                str(discrepancy.version or "—"),
                str(discrepancy.notification_id or "—"),
                str(discrepancy.stream_sequence or "—"),
                discrepancy.detail_in(lang),
            )
        console.print(table)
    style = "bold red" if report.discrepancies else "bold green"
    console.print(Text(report.verdict_text(lang), style=style))


def _findings_table(rows: list[tuple[str, RuleFinding]], lang: Language, *, with_case: bool) -> Table:
    table = Table(box=box.SIMPLE_HEAVY)
    if with_case:
        table.add_column(_t(lang, "案件", "case"), no_wrap=True)
    table.add_column(_t(lang, "严重程度", "severity"), no_wrap=True)
    table.add_column(_t(lang, "规则", "rule"), no_wrap=True)
    table.add_column(_t(lang, "版本", "v"), no_wrap=True)
    table.add_column(_t(lang, "说明", "what is wrong"), ratio=3, overflow="fold")
    table.add_column(_t(lang, "依据", "source"), ratio=1, overflow="fold")
    for case_text, finding in rows:
        style = "bold red" if finding.severity is RuleSeverity.ERROR else "yellow"
        cells: list[Text | str] = [
            Text(finding.severity.name_in(lang), style=style),
            finding.rule_id,
            ", ".join(f"v{version}" for version in finding.versions),
            finding.message(lang),
            finding.source,
        ]
        table.add_row(*([case_text] if with_case else []), *cells)
    return table


@audit.command("check")
@click.argument("case", required=False)
@click.option("--all", "check_all", is_flag=True, help="Check every mediation case and inspection in the store.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Check the record as it stood on this date (China time); default today.",
)
@lang_option
@store_options
def check(case: str | None, check_all: bool, as_of: datetime | None, lang: str, store_config: StoreConfig) -> None:
    """Check CASE (or --all) against the rules: what the record lacks (exit 1 if any error is found)."""
    language = check_language(lang)
    if (case is None) == (not check_all):
        raise click.UsageError("give a CASE id, or --all to check every mediation case and inspection")
    day = _as_of_date(as_of) or datetime.now(CHINA).date()
    console = _console()
    rows: list[tuple[str, RuleFinding]] = []
    unreadable: list[str] = []
    checked = 0
    with _opened(store_config) as app:
        if case is not None:
            case_ids = [_case_id(app, case)]
        else:
            case_ids = [ref.case_id for ref in list_cases(app, ("dispute", "inspection"))]
        for case_id in case_ids:
            try:
                events = _events(app, case_id)
            except click.ClickException as e:
                if case is not None:
                    raise
                unreadable.append(e.message)
                continue
            checked += 1
            rows.extend((str(case_id)[:8], finding) for finding in check_case(events, day))
    errors = sum(1 for _, finding in rows if finding.severity is RuleSeverity.ERROR)
    warnings = len(rows) - errors
    if rows:
        console.print(_findings_table(rows, language, with_case=case is None))
    for message in unreadable:
        console.print(f"✘ {message}", style="bold red")
    console.print(
        _t(
            language,
            f"截至 {day}，检查 {checked} 件：{errors} 项违规，{warnings} 项提示。",
            f"As of {day}, {checked} case(s) checked: {errors} error(s), {warnings} warning(s).",
        )
        + (
            _t(language, f"另有 {len(unreadable)} 件无法读取。", f" {len(unreadable)} unreadable.")
            if unreadable
            else ""
        )
    )
    if errors or unreadable:
        sys.exit(1)


@audit.command("export")
@click.argument("case")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), required=True, help="json, csv or html.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="File to write.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The case as it stood on this date (China time); default today.",
)
@click.option(
    "--checkpoint",
    "checkpoint_files",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="Checkpoint file(s) to verify the whole log against (repeatable).",
)
@click.option("--prepared-by", default="", metavar="NAME", help="The auditor, printed on the report.")
@lang_option
@store_options
def export(
    *,
    case: str,
    fmt: str,
    output: Path,
    as_of: datetime | None,
    checkpoint_files: tuple[Path, ...],
    prepared_by: str,
    lang: str,
    store_config: StoreConfig,
) -> None:
    """Export CASE's report (timeline, verification, findings, state) as JSON, CSV (Excel) or printable HTML."""
    language = check_language(lang)
    checkpoints = _read_checkpoints(checkpoint_files)
    with _opened(store_config) as app:
        case_id = _case_id(app, case)
        _events(app, case_id)  # readable?
        try:
            report: CaseReport = build_report(
                app,
                case_id,
                lang=language,
                as_of=_as_of_date(as_of),
                checkpoints=checkpoints,
                prepared_by=prepared_by,
            )
        except ValidationError as e:
            raise click.UsageError(e.message) from e
    try:
        export_report(report, fmt, output)
    except OSError as e:
        raise click.UsageError(f"cannot write {output}: {e.strerror}") from e
    verdict = _t(language, "完整", "intact") if report.verification.ok else _t(language, "发现篡改", "TAMPERED")
    _console().print(
        _t(
            language,
            f"已导出到 {output}：{len(report.entries)} 个事件；校验：{verdict}；"
            f"{len(report.errors)} 项违规，{len(report.warnings)} 项提示。",
            f"Exported to {output}: {len(report.entries)} events; verification: {verdict}; "
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s).",
        )
    )


@audit.command("rules")
@click.option("--markdown", is_flag=True, help="Print the table in Markdown (as in docs/audit.md).")
@lang_option
def rules(markdown: bool, lang: str) -> None:
    """List every rule the audit checks: id, what it says, its source, its severity."""
    language = check_language(lang)
    if markdown:
        click.echo(rules_markdown(language), nl=False)
        return
    table = Table(box=box.SIMPLE_HEAVY)
    for header in (
        _t(language, "规则", "rule"),
        _t(language, "内容", "what"),
        _t(language, "依据", "source"),
        _t(language, "严重程度", "severity"),
    ):
        table.add_column(header, overflow="fold")
    for rule in RULES:
        table.add_row(rule.rule_id, rule.title(language), rule.source, rule.severity.name_in(language))
    _console().print(table)
