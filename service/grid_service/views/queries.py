"""Read functions for the API: one per view, with filters and pagination.

Every function takes the open :class:`~grid_service.views.store.ViewStore`,
reads the active generation of its projection in one consistent snapshot,
and returns plain, JSON-ready data: a :class:`Page` (the items of one page
and the total number matching the filters) or a dict (one case), or None.
Times are ISO-8601 UTC text, dates ``YYYY-MM-DD``. What depends on the
current time (overdue tasks, days open and days past the one-month limit,
follow-ups due, late batches, residents isolating today) is computed against
*now*, which the caller passes (an aware datetime); days count in China time.

Filters left as None match everything. Pagination is ``limit`` (1 to
:data:`MAX_LIMIT`) and ``offset``; items come in a stable order, so pages do
not overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from grid_events import ResidentTag
from grid_service.views.base import ViewsError
from grid_service.views.projections import (
    PROJECTION_CLASSES,
    AuditTrail,
    MediationRegister,
    ResidentRegistry,
    SiteDashboard,
    Statistics,
    TaskBoard,
)
from grid_service.views.projections._common import china_date
from grid_service.views.projections.mediation import FINAL_STATUSES
from grid_service.views.projections.residents import VULNERABLE_TAGS
from grid_service.views.projections.sites import BATCH_INTERVAL_MINUTES
from grid_service.views.store import ColumnType, Table, Transaction, ViewStore

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "Page",
    "QueryError",
    "audit_cases",
    "audit_trail",
    "daily_statistics",
    "dispute",
    "disputes",
    "inspection",
    "inspections",
    "resident",
    "residents",
    "shift",
    "shifts",
    "task",
    "tasks",
    "vulnerable_per_grid",
    "workload",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000
"""No view holds a billion rows; larger offsets would not even fit the databases' integers."""

CLOSED_TASK_STATUSES = ("closed", "cancelled")
"""Statuses of a task no longer open."""


class QueryError(ViewsError, ValueError):
    """A query's arguments are invalid (the API answers 422)."""


@attrs.frozen
class Page:
    """One page of a view: its items, and how many items match the filters in all."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    def as_dict(self) -> dict[str, Any]:
        """Return the page as JSON-ready data."""
        return {"items": self.items, "total": self.total, "limit": self.limit, "offset": self.offset}


# -- reading the active generation ------------------------------------------------------------------

_OWNER = {table.name: cls.name for cls in PROJECTION_CLASSES for table in cls.tables}
_TABLES = {table.name: table for cls in PROJECTION_CLASSES for table in cls.tables}


def _json_value(kind: ColumnType) -> Callable[[Any], Any] | None:
    if kind in {ColumnType.TIMESTAMP, ColumnType.DATE}:
        return _isoformat
    return None


def _isoformat(value: date | datetime) -> str:
    return value.isoformat()


class _Reader:
    """One read transaction: physical names of the active generations, rows as JSON-ready dicts."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._active = {
            str(name): int(generation)
            for name, generation in tx.fetchall("SELECT projection, generation FROM gv_active")
        }

    def name(self, table: str) -> str:
        projection = _OWNER[table]
        generation = self._active.get(projection)
        if generation is None:
            raise ViewsError(f"the {projection} view has not been set up in this store (start the service once)")
        return _TABLES[table].physical_name(generation)

    def rows(self, table: Table, sql: str, params: Sequence[Any], extra: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Run *sql* selecting every column of *table* (then the *extra* columns) and return JSON-ready rows."""
        readers = table.readers(self.tx.backend)
        json_values = [_json_value(column.type) for column in table.columns]
        names = [*table.column_names, *extra]
        found = []
        for values in self.tx.fetchall(sql, params):
            row: dict[str, Any] = {}
            for index, name in enumerate(names):
                value = values[index]
                if index < len(readers) and value is not None:
                    reader = readers[index]
                    if reader is not None:
                        value = reader(value)
                    convert = json_values[index]
                    if convert is not None:
                        value = convert(value)
                row[name] = value
            found.append(row)
        return found

    def select(
        self,
        table: Table,
        where: _Where,
        *,
        order_by: str,
        limit: int | None = None,
        offset: int = 0,
        extra: Sequence[tuple[str, str, Sequence[Any]]] = (),
    ) -> list[dict[str, Any]]:
        """Return the rows of *table* (alias ``t``) matching *where*; *extra*: (name, SQL, params) columns."""
        columns = ", ".join(f"t.{name}" for name in table.column_names)
        extra_sql = "".join(f", ({sql}) AS {name}" for name, sql, _ in extra)
        params = [param for _, _, values in extra for param in values] + where.params
        sql = f"SELECT {columns}{extra_sql} FROM {self.name(table.name)} t{where.sql} ORDER BY {order_by}"  # noqa: S608 (identifiers from table definitions; values are parameters)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return self.rows(table, sql, params, [name for name, _, _ in extra])

    def count(self, table: Table, where: _Where) -> int:
        """Return how many rows of *table* (alias ``t``) match *where*."""
        sql = f"SELECT COUNT(*) FROM {self.name(table.name)} t{where.sql}"  # noqa: S608 (identifiers from table definitions; values are parameters)
        row = self.tx.fetchone(sql, where.params)
        return 0 if row is None else int(row[0])

    def value(self, kind: ColumnType, value: Any) -> Any:  # noqa: ANN401 (a column value)
        return self.tx.value(kind, value)


class _Where:
    """The WHERE clause of a query, built from the filters given."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:  # noqa: ANN401
        self.clauses.append(clause)
        self.params.extend(params)

    def equal(self, column: str, value: object) -> None:
        if value is not None:
            self.add(f"{column} = ?", value)

    def one_of(self, column: str, values: str | Iterable[str] | None) -> None:
        if values is None:
            return
        chosen = [values] if isinstance(values, str) else list(values)
        if not chosen:
            raise QueryError(f"{column}: give at least one value, or none to match all")
        self.add(f"{column} IN ({', '.join('?' * len(chosen))})", *chosen)

    @property
    def sql(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


def _check_page(limit: int, offset: int) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise QueryError(f"offset must be a whole number from 0 to {MAX_OFFSET}, not {offset!r}")


def _check_now(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise QueryError("now must be an aware datetime (with its time zone)")
    return now


def _page(
    reader: _Reader,
    table: Table,
    where: _Where,
    *,
    order_by: str,
    limit: int,
    offset: int,
    extra: Sequence[tuple[str, str, Sequence[Any]]] = (),
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of *table*'s rows matching *where*, and how many match in all."""
    items = reader.select(table, where, order_by=order_by, limit=limit, offset=offset, extra=extra)
    fits = offset == 0 and len(items) < limit
    return items, len(items) if fits else reader.count(table, where)


def _one(reader: _Reader, table: Table, key_column: str, key: object) -> dict[str, Any] | None:
    where = _Where()
    where.equal(f"t.{key_column}", key)
    rows = reader.select(table, where, order_by=f"t.{key_column}")
    return rows[0] if rows else None


def _read_one(
    store: ViewStore,
    table: Table,
    key_column: str,
    key: object,
    adapt: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any] | None:
    """Return the row of *table* whose *key_column* is *key*, adapted by *adapt* (to now), or None."""

    def read(tx: Transaction) -> dict[str, Any] | None:
        item = _one(_Reader(tx), table, key_column, str(key))
        return None if item is None else adapt(item)

    return store.run_read(read)


def _children(reader: _Reader, table: Table, key_column: str, key: object, order_by: str) -> list[dict[str, Any]]:
    where = _Where()
    where.equal(f"t.{key_column}", key)
    return reader.select(table, where, order_by=order_by)


def _grid_filters(where: _Where, sub_district: str | None, community: str | None, grid: str | None) -> None:
    where.equal("t.sub_district", sub_district)
    where.equal("t.community", community)
    where.equal("t.grid", grid)


def _days(later: date, earlier: date) -> int:
    return (later - earlier).days


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# -- the task board ----------------------------------------------------------------------------------


def _task_now(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    due_at = _moment(item["due_at"])
    is_open = item["status"] not in CLOSED_TASK_STATUSES
    overdue = is_open and due_at is not None and due_at < now
    item["overdue"] = overdue
    item["overdue_minutes"] = int((now - due_at) / timedelta(minutes=1)) if overdue and due_at is not None else None
    return item


def tasks(
    store: ViewStore,
    *,
    now: datetime,
    sub_district: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    worker: str | None = None,
    status: str | Sequence[str] | None = None,
    kind: str | Sequence[str] | None = None,
    priority: str | Sequence[str] | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    waiting_verification: bool = False,
    escalated_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Return the task board: tasks matching the filters, soonest deadline first (no deadline last).

    *worker* is the assignee; *overdue_only*: due before *now* and neither
    closed nor cancelled; *waiting_verification*: submitted, not yet
    verified. Each item adds ``overdue`` and ``overdue_minutes``.
    """
    _check_now(now)
    _check_page(limit, offset)
    table = TaskBoard.tables[0]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        _grid_filters(where, sub_district, community, grid)
        where.equal("t.assignee", worker)
        where.one_of("t.status", status)
        where.one_of("t.kind", kind)
        where.one_of("t.priority", priority)
        if open_only or overdue_only:
            where.add("t.status NOT IN (?, ?)", *CLOSED_TASK_STATUSES)
        if overdue_only:
            where.add("t.due_at IS NOT NULL AND t.due_at < ?", reader.value(ColumnType.TIMESTAMP, now))
        if waiting_verification:
            where.add("t.waiting_verification = ?", reader.value(ColumnType.BOOL, True))  # noqa: FBT003
        if escalated_only:
            where.add("t.escalation_count > 0")
        order = "(t.due_at IS NULL), t.due_at, t.created_at, t.task_id"
        items, total = _page(reader, table, where, order_by=order, limit=limit, offset=offset)
        return Page([_task_now(item, now) for item in items], total, limit, offset)

    return store.run_read(read)


def task(store: ViewStore, task_id: str, *, now: datetime) -> dict[str, Any] | None:
    """One task of the board, or None."""
    _check_now(now)

    return _read_one(store, TaskBoard.tables[0], "task_id", task_id, lambda item: _task_now(item, now))


def _inspection_now(item: dict[str, Any], today: date) -> dict[str, Any]:
    deadline = _date(item["next_deadline"])
    item["deadline_passed"] = deadline is not None and deadline < today
    return item


def inspections(
    store: ViewStore,
    *,
    now: datetime,
    sub_district: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    worker: str | None = None,
    status: str | Sequence[str] | None = None,
    open_findings_only: bool = False,
    deadline_passed_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Inspections with their counts of findings (open, rectified, reported), newest first.

    *deadline_passed_only*: a rectification deadline passed (China date of
    *now*) and the hazard was not re-inspected yet. Each item adds
    ``deadline_passed``.
    """
    _check_now(now)
    _check_page(limit, offset)
    today = china_date(now)
    table = TaskBoard.tables[1]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        _grid_filters(where, sub_district, community, grid)
        where.equal("t.assignee", worker)
        where.one_of("t.status", status)
        if open_findings_only:
            where.add("t.findings_open > 0")
        if deadline_passed_only:
            where.add("t.next_deadline IS NOT NULL AND t.next_deadline < ?", reader.value(ColumnType.DATE, today))
        items, total = _page(reader, table, where, order_by="t.created_at DESC, t.task_id", limit=limit, offset=offset)
        return Page([_inspection_now(item, today) for item in items], total, limit, offset)

    return store.run_read(read)


def inspection(store: ViewStore, task_id: str, *, now: datetime) -> dict[str, Any] | None:
    """One inspection with its checklist and its findings (``findings``), or None."""
    _check_now(now)
    today = china_date(now)
    inspections_table, findings_table = TaskBoard.tables[1], TaskBoard.tables[2]

    def read(tx: Transaction) -> dict[str, Any] | None:
        reader = _Reader(tx)
        item = _one(reader, inspections_table, "task_id", str(task_id))
        if item is None:
            return None
        order = "t.found_on, LENGTH(t.finding_id), t.finding_id"
        item["findings"] = _children(reader, findings_table, "task_id", str(task_id), order)
        return _inspection_now(item, today)

    return store.run_read(read)


# -- the mediation register ----------------------------------------------------------------------------


def _dispute_now(item: dict[str, Any], today: date) -> dict[str, Any]:
    received_on = _date(item["received_on"])
    closed_on = _date(item["closed_on"])
    deadline = _date(item["deadline"])
    item["days_open"] = None if received_on is None else max(0, _days(closed_on or today, received_on))
    clock_runs = deadline is not None and item["concluded_on"] is None and item["status"] not in FINAL_STATUSES
    days_left = _days(deadline, today) if clock_runs and deadline is not None else None
    item["days_left"] = days_left
    item["days_past_limit"] = None if days_left is None else max(0, -days_left)
    item["past_limit"] = days_left is not None and days_left < 0
    follow_up = _date(item["follow_up_due_on"])
    item["follow_up_due"] = follow_up is not None and follow_up <= today
    return item


def disputes(
    store: ViewStore,
    *,
    now: datetime,
    sub_district: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    mediator: str | None = None,
    status: str | Sequence[str] | None = None,
    category: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    open_only: bool = False,
    past_limit_only: bool = False,
    follow_up_due_only: bool = False,
    received_from: date | None = None,
    received_to: date | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Return the mediation register, in order of receipt (oldest first).

    Each item adds ``days_open`` (received to closed, or to today),
    ``days_left`` to the (extended) deadline while mediation goes on,
    ``days_past_limit`` / ``past_limit``, and ``follow_up_due``. *open_only*:
    neither declined nor closed; *past_limit_only*: mediation still going on
    after its deadline; *follow_up_due_only*: a follow-up visit is due today
    or overdue; *received_from* / *received_to*: inclusive dates.
    """
    _check_now(now)
    _check_page(limit, offset)
    today = china_date(now)
    table = MediationRegister.tables[0]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        _grid_filters(where, sub_district, community, grid)
        where.equal("t.mediator_id", mediator)
        where.one_of("t.status", status)
        where.one_of("t.category", category)
        where.one_of("t.source", source)
        today_value = reader.value(ColumnType.DATE, today)
        if open_only or past_limit_only:
            where.add("t.status NOT IN (?, ?)", *FINAL_STATUSES)
        if past_limit_only:
            where.add("t.deadline IS NOT NULL AND t.concluded_on IS NULL AND t.deadline < ?", today_value)
        if follow_up_due_only:
            where.add("t.follow_up_due_on IS NOT NULL AND t.follow_up_due_on <= ?", today_value)
        if received_from is not None:
            where.add("t.received_on >= ?", reader.value(ColumnType.DATE, received_from))
        if received_to is not None:
            where.add("t.received_on <= ?", reader.value(ColumnType.DATE, received_to))
        items, total = _page(
            reader, table, where, order_by="t.received_on, t.received_at, t.dispute_id", limit=limit, offset=offset
        )
        return Page([_dispute_now(item, today) for item in items], total, limit, offset)

    return store.run_read(read)


def dispute(store: ViewStore, dispute_id: str, *, now: datetime) -> dict[str, Any] | None:
    """One case of the register, or None."""
    _check_now(now)
    today = china_date(now)
    return _read_one(
        store, MediationRegister.tables[0], "dispute_id", dispute_id, lambda item: _dispute_now(item, today)
    )


# -- site dashboards -------------------------------------------------------------------------------------


def _late_before(now: datetime) -> datetime:
    return now - timedelta(minutes=BATCH_INTERVAL_MINUTES)


def _shift_now(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    last = _moment(item["last_sealed_at"])
    item["minutes_since_last_seal"] = None if last is None else int((now - last) / timedelta(minutes=1))
    return item


def shifts(
    store: ViewStore,
    *,
    now: datetime,
    sub_district: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    site_kind: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    open_only: bool = False,
    late_only: bool = False,
    low_supplies_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Site dashboards, one item per shift, latest planned start first.

    Each item adds ``late_batches`` (sealed more than 30 minutes before *now*
    and not yet dispatched) and ``minutes_since_last_seal``.
    """
    _check_now(now)
    _check_page(limit, offset)
    table, batches = SiteDashboard.tables[0], SiteDashboard.tables[2]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        late_before = reader.value(ColumnType.TIMESTAMP, _late_before(now))
        where = _Where()
        _grid_filters(where, sub_district, community, grid)
        where.one_of("t.site_kind", site_kind)
        where.one_of("t.status", status)
        if open_only:
            where.add("t.status = ?", "open")
        if late_only:
            where.add("t.oldest_undispatched_at IS NOT NULL AND t.oldest_undispatched_at < ?", late_before)
        if low_supplies_only:
            where.add("t.low_supplies > 0")
        late_sql = (
            f"SELECT COUNT(*) FROM {reader.name(batches.name)} b WHERE b.shift_id = t.shift_id "  # noqa: S608 (identifiers from table definitions; values are parameters)
            "AND b.status = 'sealed' AND b.sealed_at < ?"
        )
        late = ("late_batches", late_sql, [late_before])
        order = "t.planned_start DESC, t.shift_id"
        items, total = _page(reader, table, where, order_by=order, limit=limit, offset=offset, extra=[late])
        return Page([_shift_now(item, now) for item in items], total, limit, offset)

    return store.run_read(read)


def shift(store: ViewStore, shift_id: str, *, now: datetime) -> dict[str, Any] | None:
    """One shift's dashboard with ``people`` on site, ``batches`` (each ``late`` or not) and ``supplies``; or None."""
    _check_now(now)
    shift_table, people, batches, supplies = SiteDashboard.tables

    def read(tx: Transaction) -> dict[str, Any] | None:
        reader = _Reader(tx)
        item = _one(reader, shift_table, "shift_id", str(shift_id))
        if item is None:
            return None

        key = str(shift_id)
        item["people"] = _children(reader, people, "shift_id", key, "t.checked_in_at, t.person_id")
        item["batches"] = _children(reader, batches, "shift_id", key, "t.sealed_at, t.batch_no")
        item["supplies"] = _children(reader, supplies, "shift_id", key, "t.item")
        late_before = _late_before(now)
        for batch in item["batches"]:
            sealed_at = datetime.fromisoformat(batch["sealed_at"])
            batch["late"] = batch["status"] == "sealed" and sealed_at < late_before
        item["late_batches"] = sum(batch["late"] for batch in item["batches"])
        return _shift_now(item, now)

    return store.run_read(read)


# -- the resident registry -------------------------------------------------------------------------------


def _resident_now(item: dict[str, Any], today: date) -> dict[str, Any]:
    starts, ends = _date(item["isolation_starts_on"]), _date(item["isolation_ends_on"])
    item["isolating"] = starts is not None and ends is not None and starts <= today <= ends
    item["personal_data_erased"] = item["status"] == "erased"
    return item


def residents(
    store: ViewStore,
    *,
    now: datetime,
    sub_district: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    status: str | Sequence[str] | None = None,
    tag: str | None = None,
    vulnerable_only: bool = False,
    isolating_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Return the resident registry, masked, by grid cell.

    *tag*: residents with that care tag; *vulnerable_only*: any vulnerable
    tag; *isolating_only*: in a home isolation period on today's (China)
    date. Each item adds ``isolating`` and ``personal_data_erased`` (then
    the masked name, ID number and phone are None).
    """
    _check_now(now)
    _check_page(limit, offset)
    today = china_date(now)
    table = ResidentRegistry.tables[0]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        _grid_filters(where, sub_district, community, grid)
        where.one_of("t.status", status)
        if tag is not None:
            where.add("t.tags LIKE ?", f'%"{_known_tag(tag)}"%')
        if vulnerable_only:
            where.add("t.vulnerable = ?", reader.value(ColumnType.BOOL, True))  # noqa: FBT003
        if isolating_only:
            today_value = reader.value(ColumnType.DATE, today)
            where.add("t.isolation_starts_on <= ? AND t.isolation_ends_on >= ?", today_value, today_value)
        items, total = _page(
            reader, table, where, order_by="t.grid, t.registered_at, t.resident_id", limit=limit, offset=offset
        )
        return Page([_resident_now(item, today) for item in items], total, limit, offset)

    return store.run_read(read)


def resident(store: ViewStore, resident_id: str, *, now: datetime) -> dict[str, Any] | None:
    """One resident of the registry (masked), or None."""
    _check_now(now)
    today = china_date(now)
    return _read_one(
        store, ResidentRegistry.tables[0], "resident_id", resident_id, lambda item: _resident_now(item, today)
    )


def vulnerable_per_grid(
    store: ViewStore, *, sub_district: str | None = None, community: str | None = None
) -> list[dict[str, Any]]:
    """Per grid cell, how many vulnerable residents live there, in all and per vulnerable tag."""
    tags = sorted(VULNERABLE_TAGS)
    table = ResidentRegistry.tables[0]

    def read(tx: Transaction) -> list[dict[str, Any]]:
        reader = _Reader(tx)
        where = _Where()
        _grid_filters(where, sub_district, community, None)
        where.add("t.status = ?", "living_here")
        where.add("t.vulnerable = ?", reader.value(ColumnType.BOOL, True))  # noqa: FBT003
        per_tag = "".join(", SUM(CASE WHEN t.tags LIKE ? THEN 1 ELSE 0 END)" for _ in tags)
        sql = (
            f"SELECT t.sub_district, t.community, t.grid, COUNT(*){per_tag} FROM {reader.name(table.name)} t"  # noqa: S608 (identifiers from table definitions; values are parameters)
            f"{where.sql} GROUP BY t.sub_district, t.community, t.grid ORDER BY t.grid"
        )
        params = [f'%"{tag}"%' for tag in tags] + where.params
        return [
            {
                "sub_district": row[0],
                "community": row[1],
                "grid": row[2],
                "vulnerable": int(row[3]),
                "by_tag": {tag: int(count) for tag, count in zip(tags, row[4:], strict=True)},
            }
            for row in tx.fetchall(sql, params)
        ]

    return store.run_read(read)


def _known_tag(text: str) -> str:
    """Return *text* if it is a care tag (its ``_`` then only ever matches itself in LIKE)."""
    if text not in _TAGS:
        raise QueryError(f"tag {text!r} is not a care tag ({', '.join(sorted(_TAGS))})")
    return text


_TAGS = frozenset(tag.value for tag in ResidentTag)


# -- workload and statistics ------------------------------------------------------------------------------


def workload(
    store: ViewStore,
    *,
    now: datetime,
    sub_district: str | None = None,
    community: str | None = None,
    worker: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Each worker's workload: open tasks by step, overdue ones, and today's closed tasks and calls.

    "Today" is the China date of *now*; overdue: due before *now*, not closed or cancelled.
    """
    _check_now(now)
    _check_page(limit, offset)
    today = china_date(now)
    table = Statistics.tables[3]
    stat_tasks, worker_daily = Statistics.tables[0], Statistics.tables[4]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        where.equal("t.sub_district", sub_district)
        where.equal("t.community", community)
        where.equal("t.worker_id", worker)
        daily = reader.name(worker_daily.name)
        same_worker = "d.sub_district = t.sub_district AND d.community = t.community AND d.worker_id = t.worker_id"
        today_value = reader.value(ColumnType.DATE, today)
        overdue_sql = (
            f"SELECT COUNT(*) FROM {reader.name(stat_tasks.name)} s WHERE s.assignee = t.worker_id "  # noqa: S608 (identifiers from table definitions; values are parameters)
            "AND s.sub_district = t.sub_district AND s.community = t.community AND s.status NOT IN (?, ?) "
            "AND s.due_at IS NOT NULL AND s.due_at < ?"
        )
        extra = [("overdue", overdue_sql, [*CLOSED_TASK_STATUSES, reader.value(ColumnType.TIMESTAMP, now)])]
        for column in ("tasks_closed", "tasks_submitted", "calls_made", "calls_reached"):
            today_sql = f"SELECT COALESCE(SUM(d.{column}), 0) FROM {daily} d WHERE {same_worker} AND d.day = ?"  # noqa: S608 (identifiers from table definitions; values are parameters)
            extra.append((f"{column}_today", today_sql, [today_value]))
        order = "t.sub_district, t.community, t.worker_id"
        items, total = _page(reader, table, where, order_by=order, limit=limit, offset=offset, extra=extra)
        for item in items:
            for name, _, _ in extra:
                item[name] = int(item[name])
            item["day"] = today.isoformat()
        return Page(items, total, limit, offset)

    return store.run_read(read)


def daily_statistics(
    store: ViewStore,
    *,
    sub_district: str | None = None,
    community: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Daily statistics per community and China date, latest day first; *date_from* / *date_to* inclusive."""
    _check_page(limit, offset)
    table = Statistics.tables[5]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        where.equal("t.sub_district", sub_district)
        where.equal("t.community", community)
        if date_from is not None:
            where.add("t.day >= ?", reader.value(ColumnType.DATE, date_from))
        if date_to is not None:
            where.add("t.day <= ?", reader.value(ColumnType.DATE, date_to))
        items, total = _page(
            reader, table, where, order_by="t.day DESC, t.sub_district, t.community", limit=limit, offset=offset
        )
        return Page(items, total, limit, offset)

    return store.run_read(read)


# -- the audit trail ---------------------------------------------------------------------------------------


def audit_cases(
    store: ViewStore,
    *,
    case_kind: str | None = None,
    sub_district: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page:
    """Return the mediations and inspections in the audit trail, latest step first."""
    _check_page(limit, offset)
    if case_kind not in {None, "dispute", "inspection"}:
        raise QueryError(f"case_kind is dispute or inspection, not {case_kind!r}")
    table = AuditTrail.tables[0]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        where.equal("t.case_kind", case_kind)
        _grid_filters(where, sub_district, community, grid)
        items, total = _page(
            reader, table, where, order_by="t.last_step_at DESC, t.case_id", limit=limit, offset=offset
        )
        return Page(items, total, limit, offset)

    return store.run_read(read)


def audit_trail(
    store: ViewStore,
    case_id: str,
    *,
    as_of: datetime | None = None,
    limit: int = MAX_LIMIT,
    offset: int = 0,
) -> Page:
    """Return the steps of one case in order; with *as_of*, only those recorded by then (the case as it stood)."""
    _check_page(limit, offset)
    if as_of is not None:
        _check_now(as_of)
    table = AuditTrail.tables[1]

    def read(tx: Transaction) -> Page:
        reader = _Reader(tx)
        where = _Where()
        where.equal("t.case_id", str(case_id))
        if as_of is not None:
            where.add("t.recorded_at <= ?", reader.value(ColumnType.TIMESTAMP, as_of))
        items, total = _page(reader, table, where, order_by="t.version", limit=limit, offset=offset)
        return Page(items, total, limit, offset)

    return store.run_read(read)
