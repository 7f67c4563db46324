"""A read model of your own: open fire hazards per grid cell, in your own SQLite table, kept up to date.

Every stored event has a position in the application's notification log (1, 2, 3, …). The projection
reads the events after the last position it applied, and stores its rows and its new position in one
transaction: after a restart it continues exactly where it stopped, and no event is applied twice.
Run:  python examples/custom_projection.py
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from grid_events import (
    SMALL_VENUE_FIRE_SAFETY,
    Actor,
    EvidenceKind,
    EvidenceRef,
    GridApplication,
    GridCell,
    Place,
    Role,
    Severity,
    StoreConfig,
    Task,
)

secretary = Actor("s-wang", Role.SUPERVISOR)
officer = Actor("so-zhao", Role.SAFETY_OFFICER)
day = date(2026, 11, 2)
photo = EvidenceRef(EvidenceKind.PHOTO, "evidence://inspections/photo.jpg")

SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_position (name TEXT PRIMARY KEY, notification_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS task_cells (task_id TEXT PRIMARY KEY, cell TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS open_hazards (
    task_id TEXT NOT NULL, finding_id TEXT NOT NULL, cell TEXT NOT NULL, severity TEXT NOT NULL,
    PRIMARY KEY (task_id, finding_id)
);
"""


def apply(db: sqlite3.Connection, event: object) -> None:
    """Apply one event to the tables; events this read model does not need are ignored."""
    if isinstance(event, Task.Created):
        # A finding does not say where it is: keep each task's cell from the event that created it.
        db.execute("INSERT INTO task_cells VALUES (?, ?)", (str(event.originator_id), event.grid.code))
    elif isinstance(event, Task.FindingRecorded):
        db.execute(
            "INSERT INTO open_hazards SELECT task_id, ?, cell, ? FROM task_cells WHERE task_id = ?",
            (event.finding.finding_id, event.finding.severity.value, str(event.originator_id)),
        )
    elif isinstance(event, Task.Reinspected) and event.passed:
        db.execute(
            "DELETE FROM open_hazards WHERE task_id = ? AND finding_id = ?",
            (str(event.originator_id), event.finding_id),
        )


def catch_up(app: GridApplication, db: sqlite3.Connection) -> int:
    """Apply every event stored after the projection's position, a page at a time; return how many."""
    applied = 0
    while True:
        row = db.execute("SELECT notification_id FROM projection_position WHERE name = 'open_hazards'").fetchone()
        position = row[0] if row else 0
        # The store commits in the order of the log, so nothing can appear later behind this position.
        page = app.events_after(position, limit=500)
        if not page:
            return applied
        with db:  # one transaction: the rows and the new position are stored together, or not at all
            for logged in page:
                apply(db, logged.event)
            db.execute(
                "INSERT INTO projection_position VALUES ('open_hazards', ?)"
                " ON CONFLICT (name) DO UPDATE SET notification_id = excluded.notification_id",
                (page[-1].position,),
            )
        applied += len(page)


def open_hazards(db: sqlite3.Connection) -> dict[str, int]:
    """Return the number of open hazards per grid cell."""
    return dict(db.execute("SELECT cell, count(*) FROM open_hazards GROUP BY cell ORDER BY cell").fetchall())


def inspect(app: GridApplication, place: Place, *hazards: str) -> UUID:
    """Inspect *place* and record one finding per hazard (F1, F2, …)."""
    task_id = app.create_inspection(f"{place.name}消防安全排查", place, SMALL_VENUE_FIRE_SAFETY, actor=secretary)
    app.assign_task(task_id, officer.worker_id, actor=secretary)
    app.accept_task(task_id, actor=officer)
    app.start_task(task_id, actor=officer)
    for hazard in hazards:
        app.record_finding(
            task_id,
            None,
            hazard,
            severity=Severity.MAJOR,
            location="店内",
            found_on=day,
            actor=officer,
            evidence=(photo,),
        )
    return task_id


gaozhen, feifeng = GridCell("江南", "高镇", "05"), GridCell("江南", "飞凤", "03")

with tempfile.TemporaryDirectory() as directory:
    views = Path(directory) / "my_views.sqlite3"
    with GridApplication(StoreConfig.sqlite(Path(directory) / "events.sqlite3")) as app:
        eatery = inspect(app, Place("阿强小吃店", "高镇路18号", gaozhen), "后门安全出口堵塞", "灭火器过期")
        inspect(app, Place("便民超市", "飞凤路3号", feifeng), "电动车在店内充电")

        with closing(sqlite3.connect(views)) as db:
            db.executescript(SCHEMA)
            print("first run: applied", catch_up(app, db), "events; open hazards:", open_hazards(db))
            assert {gaozhen.code: 2, feifeng.code: 1} == open_hazards(db)

        # More work while the projection is not running: the blocked exit is cleared, another shop inspected.
        app.order_rectification(eatery, "F1", day + timedelta(days=3), day, actor=officer)
        app.reinspect(
            eatery, "F1", day + timedelta(days=3), passed=True, actor=officer, note="出口畅通", evidence=(photo,)
        )
        inspect(app, Place("飞凤茶楼", "飞凤路9号", feifeng), "厨房燃气软管老化")
        stored = app.recorder.max_notification_id()

        # A restart: a new connection continues from the stored position and applies only the new events.
        with closing(sqlite3.connect(views)) as db:
            applied = catch_up(app, db)
            print("after a restart: applied", applied, "new events; open hazards:", open_hazards(db))
            assert 7 == applied  # ordered, re-inspected, and the tea house: created, assigned, accepted, started, F1
            assert {gaozhen.code: 1, feifeng.code: 2} == open_hazards(db)
            assert 0 == catch_up(app, db)  # running again applies nothing twice

        # The check: the same projection built from scratch, in one run, gives the same table.
        with closing(sqlite3.connect(Path(directory) / "from_scratch.sqlite3")) as fresh:
            fresh.executescript(SCHEMA)
            assert stored == catch_up(app, fresh)
            assert {gaozhen.code: 1, feifeng.code: 2} == open_hazards(fresh)
            print("rebuilt from all", stored, "events: the same", open_hazards(fresh))
