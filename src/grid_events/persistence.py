"""Recorder tweaks for the stores grid_events runs on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

__all__ = ["BulkSQLiteApplicationRecorder"]


class BulkSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """Insert a batch of events with one ``executemany`` instead of a statement each.

    The notification ids are SQLite rowids. Inside the write transaction this
    connection is the only writer, and a new row's rowid is one more than the
    largest in the table, so the rows after the first get consecutive ids; the
    first insert tells us where they start.
    """

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        in_transaction: Callable[[SQLiteCursor], None] | None = None,
        **_: Any,  # noqa: ANN401 (eventsourcing's signature)
    ) -> Sequence[int] | None:
        """Insert *stored_events*; first call *in_transaction* with the cursor, if given.

        *in_transaction* (passed to :meth:`~grid_events.GridApplication.save`)
        writes rows of its own in the same transaction as the events: both are
        committed, or neither is (a bulk import stores its residents' keys so).
        """
        if in_transaction is not None:
            in_transaction(c)
        if len(stored_events) < 2:  # noqa: PLR2004 (nothing to batch)
            return super()._insert_events(c, stored_events)
        params = [
            (
                s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        c.execute(self.insert_events_statement, params[0])
        first = int(c.lastrowid)
        c.executemany(self.insert_events_statement, params[1:])
        return list(range(first, first + len(params)))
