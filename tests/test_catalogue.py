"""The event catalogue (docs/events.md): generated from the code, complete, and never out of date."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import grid_events
from grid_events.application.core import sealed_types_registry
from grid_events.audit import timeline
from grid_events.catalogue import MARKER, aggregate_classes, event_classes, main, render, update
from grid_events.codec import TypeRegistry, default_registry
from grid_events.domain.base import GridAggregate

ROOT = Path(__file__).resolve().parent.parent
EVENTS_MD = ROOT / "docs" / "events.md"
COMMON = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}


@pytest.fixture(scope="module")
def catalogue() -> str:
    """The catalogue as the code renders it now."""
    return render()


@pytest.fixture(scope="module")
def sections(catalogue: str) -> dict[str, str]:
    """The catalogue's third-level sections, by heading (``Task.Assigned``, ``GridCell``)."""
    found: dict[str, str] = {}
    for chunk in catalogue.split("\n### ")[1:]:
        heading, _, body = chunk.partition("\n")
        assert heading not in found, f"two sections are headed {heading}"
        found[heading] = body.split("\n## ", 1)[0]
    return found


def library_aggregates() -> set[type[GridAggregate]]:
    """Import every module of grid_events and return the aggregate classes they define."""
    for module in pkgutil.walk_packages(grid_events.__path__, "grid_events."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[type[GridAggregate]] = set()
    pending = [GridAggregate]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("grid_events."):
                found.add(subclass)
    return found


def registered(registry: TypeRegistry) -> dict[type, str]:
    """Every type of *registry* with the name it is stored under."""
    return dict(registry._by_type)


def test_docs_events_md_is_the_catalogue_of_the_code(catalogue: str) -> None:
    """docs/events.md holds exactly what the generator renders today, below its marker line."""
    document = EVENTS_MD.read_text(encoding="utf-8")
    assert MARKER in document, f"docs/events.md has lost its marker line:\n{MARKER}"
    assert update(document, catalogue) == document, (
        "docs/events.md is out of date: run `python -m grid_events.catalogue --write docs/events.md`"
    )


def test_every_aggregate_of_the_library_is_catalogued(catalogue: str) -> None:
    """The six aggregates, and any added anywhere in grid_events, each have a section with their topic."""
    aggregates = library_aggregates()
    assert {"Resident", "Task", "Dispute", "SiteShift", "DataSubject", "KeyRing"} == {
        aggregate.__qualname__ for aggregate in aggregates
    }
    assert aggregates == set(aggregate_classes())
    for aggregate in aggregates:
        assert f"\n## {aggregate.__qualname__}\n" in catalogue
        assert f"`{aggregate.__module__}:{aggregate.__qualname__}`" in catalogue


def qualname(kind: type) -> str:
    """The class's qualified name, to sort and name the test cases."""
    return kind.__qualname__


@pytest.mark.parametrize("aggregate", sorted(library_aggregates(), key=str), ids=qualname)
def test_every_event_appears_with_its_topic_and_every_field(
    aggregate: type[GridAggregate], sections: dict[str, str]
) -> None:
    """Each recorded event class has a section naming its topic and a row for each of its own fields."""
    events = event_classes(aggregate)
    assert set(timeline.event_classes(aggregate)) == set(events)
    for event in events:
        section = sections[event.__qualname__]
        assert f"- topic: `{event.__module__}:{event.__qualname__}`" in section
        assert f"- class_version: {getattr(event, 'class_version', 1)}" in section
        own = [field.name for field in dataclasses.fields(event) if field.name not in COMMON]
        rows = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert own == rows, event.__qualname__


def test_the_fields_every_event_has_are_listed_once(catalogue: str) -> None:
    """originator_id, originator_version, timestamp, actor (and originator_topic) are described once, not per event."""
    common, _, aggregates = catalogue.split("\n## Fields every event has\n", 1)[1].partition("\n## ")
    events = aggregates.split("\n## Value objects\n", 1)[0]
    for field in ("originator_id", "originator_version", "timestamp", "actor", "originator_topic"):
        assert f"`{field}`" in common
        assert f"| `{field}` |" not in events, field


def test_every_event_the_timeline_phrases_shows_its_words(sections: dict[str, str]) -> None:
    """Events of the case histories show a Chinese and an English line; the others none."""
    for aggregate in aggregate_classes():
        for event in event_classes(aggregate):
            lines = [line for line in sections[event.__qualname__].splitlines() if line.startswith("- timeline")]
            expected = 2 if timeline.has_phrasing(event) else 0
            assert expected == len(lines), event.__qualname__


@pytest.mark.parametrize(
    ("registry", "sealed"), [(default_registry(), False), (sealed_types_registry(), True)], ids=["codec", "vault"]
)
def test_every_registered_type_appears_with_its_fields_or_members(
    registry: TypeRegistry, sealed: bool, sections: dict[str, str], catalogue: str
) -> None:
    """Each value object and enum the codec (or the vault) knows has a section, with every field or member."""
    types = registered(registry)
    in_codec = registered(default_registry())
    assert types
    inside_sealed = catalogue.split("\n## Inside sealed data\n", 1)[1]
    for kind, name in types.items():
        section = sections[name]
        assert f"- class: `{kind.__module__}.{kind.__qualname__}`" in section
        if issubclass(kind, enum.Enum):
            for member in kind:
                assert f"| `{member.value}` | `{member.name}` |" in section, f"{name}.{member.name}"
        elif attrs.has(kind):
            for field in attrs.fields(kind):
                assert f"| `{field.name}` |" in section, f"{name}.{field.name}"
        else:
            pytest.fail(f"{name} is neither an enum nor an attrs class")
        in_sealed_section = f"\n### {name}\n" in inside_sealed
        assert (sealed and kind not in in_codec) == in_sealed_section, name


def test_the_upcast_of_a_revised_event_is_described(sections: dict[str, str]) -> None:
    """Task.Created is at version 2; the note says what reading a version 1 event does."""
    assert (
        "  - stored as version 1, it is upgraded when read: Tasks created before priorities existed are normal "
        "priority."
    ) in sections["Task.Created"]


def test_value_types_say_which_events_hold_them(sections: dict[str, str]) -> None:
    """A value type lists the events holding it, also inside other values; the actor is on every event."""
    assert "- in events: [every event](#fields-every-event-has)" in sections["Actor"]
    assert "[SiteShift.Planned](#siteshiftplanned)" in sections["GridCell"]  # inside its Site
    assert "- in values: [Agreement](#agreement)" in sections["Term"]


def test_the_document_holds_no_code_that_the_documentation_tests_would_run() -> None:
    """docs/events.md has no python or bash blocks (every such block of docs/ runs as a test)."""
    document = EVENTS_MD.read_text(encoding="utf-8")
    assert "```python" not in document
    assert "```bash" not in document


def test_rendering_does_not_depend_on_hash_order(catalogue: str) -> None:
    """Two interpreters with different hash seeds print the very same catalogue."""
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-m", "grid_events.catalogue"],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONIOENCODING": "utf-8"},
            capture_output=True,
            check=True,
            timeout=120,
        )
        assert catalogue == result.stdout.decode("utf-8")


# -- the command ---------------------------------------------------------------------------------


def test_without_options_the_catalogue_is_printed(catalogue: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m grid_events.catalogue`` prints the catalogue alone (no introduction)."""
    assert 0 == main([])
    assert catalogue == capsys.readouterr().out


def test_write_keeps_the_introduction_and_replaces_the_rest(tmp_path: Path, catalogue: str) -> None:
    """--write keeps what precedes the marker line and writes the catalogue after it."""
    path = tmp_path / "events.md"
    path.write_text(f"# Events\n\nHand-written.\n\n{MARKER}\n\nstale\n", encoding="utf-8")
    assert 0 == main(["--write", str(path)])
    assert f"# Events\n\nHand-written.\n\n{MARKER}\n\n{catalogue}" == path.read_text(encoding="utf-8")
    assert 0 == main(["--check", str(path)])


def test_write_creates_a_missing_document(tmp_path: Path, catalogue: str) -> None:
    """--write to a new path writes a title, the marker line and the catalogue."""
    path = tmp_path / "new.md"
    assert 0 == main(["--write", str(path)])
    assert path.read_text(encoding="utf-8").endswith(f"{MARKER}\n\n{catalogue}")


def test_check_names_the_command_that_brings_a_document_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check exits 1 for a stale document and says how to regenerate it."""
    path = tmp_path / "events.md"
    path.write_text(f"# Events\n\n{MARKER}\n\nstale\n", encoding="utf-8")
    assert 1 == main(["--check", str(path)])
    assert f"{path} is out of date: run `python -m grid_events.catalogue --write {path}`" in capsys.readouterr().err
    assert "stale" in path.read_text(encoding="utf-8")


def test_a_document_without_the_marker_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--write refuses a document with no marker line, and shows the line to add."""
    path = tmp_path / "events.md"
    path.write_text("# Something else\n", encoding="utf-8")
    assert 2 == main(["--write", str(path)])
    assert MARKER in capsys.readouterr().err
    assert "# Something else\n" == path.read_text(encoding="utf-8")
