"""docs/views.md describes every column of every view table, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from grid_service.views.projections import PROJECTION_CLASSES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "views.md"


def documented_columns() -> dict[str, set[str]]:
    """Return, per ``### `table``` section of the page, the column names its table lists."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"### `(\w+)`", line)
        if heading:
            current = sections.setdefault(heading.group(1), set())
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("| `"):
            current.update(re.findall(r"`(\w+)`", line.split("|")[1]))
    return sections


def test_every_table_and_column_is_documented() -> None:
    """Each view table has its section, and the section names exactly its columns."""
    tables = {table.name: set(table.column_names) for cls in PROJECTION_CLASSES for table in cls.tables}

    assert tables == documented_columns()
