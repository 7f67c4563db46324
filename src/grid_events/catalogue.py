"""The event catalogue: every event of the library with its fields, generated from the code.

The catalogue walks every aggregate class of the library (the subclasses of
:class:`~grid_events.domain.base.GridAggregate` defined in ``grid_events``),
the event classes nested in each (in the order the source declares them), and
every enum and value class the codec's registries know, and renders them as
Markdown: each event's topic, docstring, class version and fields (as the
annotations write them), with the way the audit timeline phrases it; each value
object's and enum's stored name, fields and members.

``docs/events.md`` is this module's output below a marker line, under a
hand-written introduction; a test fails when it is out of date. Regenerate it
with::

    python -m grid_events.catalogue --write docs/events.md

(``--check PATH`` exits 1 if PATH is out of date; with neither option the
catalogue is printed.) Nothing here runs at import time.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import enum
import functools
import inspect
import itertools
import re
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from grid_events.codec import TypeRegistry
from grid_events.domain.base import GridAggregate

__all__ = [
    "MARKER",
    "aggregate_classes",
    "build",
    "event_classes",
    "main",
    "render",
    "update",
]

MARKER = (
    "<!-- Everything below this line is generated from the code by "
    "`python -m grid_events.catalogue --write docs/events.md`: edit the code, not this file. -->"
)
"""The line that separates the hand-written introduction from the generated catalogue."""

COMMON_FIELDS: Mapping[str, str] = {
    "originator_id": "The aggregate's id. Stored as the event store's aggregate id column, not in the state map.",
    "originator_version": "1, 2, 3… within the aggregate. Stored as the event store's version column.",
    "timestamp": "When the event was recorded (the application's clock), timezone-aware.",
    "actor": "Who acted, and in which role (see [Actor](#actor)).",
}
"""What the fields every event has mean (they come from eventsourcing and the base class, without docstrings)."""

ORIGINATOR_TOPIC = "originator_topic"
EVERY_EVENT = "every event"
"""How the catalogue says that a type is used by the fields every event has."""
_ORIGINATOR_TOPIC_MEANING = "The topic of the aggregate class, so that a reader knows what the events build."


# -- what the catalogue holds ------------------------------------------------------------------------------


@attrs.frozen
class FieldEntry:
    """One field of an event or a value object."""

    name: str
    annotation: str
    """The type as the annotation writes it (``datetime | None``)."""
    meaning: str
    """The field's own docstring, else the summary of its value type (Markdown), else empty."""


@attrs.frozen
class EventEntry:
    """One event class."""

    name: str
    """``Aggregate.Event``."""
    topic: str
    docstring: str
    creates: bool
    """Whether this is the aggregate's first event (it carries ``originator_topic``)."""
    class_version: int
    upcasts: tuple[tuple[int, str], ...]
    """``(from version, what the upcast does)`` for each earlier version."""
    fields: tuple[FieldEntry, ...]
    phrasing: tuple[tuple[str, str, str], ...]
    """``(language, what, why)`` as the audit timeline says it, for sample values; empty if it has no words."""


@attrs.frozen
class AggregateEntry:
    """One aggregate class and its events."""

    name: str
    topic: str
    kind: str
    description: str
    events: tuple[EventEntry, ...]


@attrs.frozen
class ValueEntry:
    """One registered value class (an attrs class)."""

    codec_name: str
    path: str
    docstring: str
    fields: tuple[FieldEntry, ...]
    in_events: tuple[str, ...]
    """The events that hold one, directly or inside other values (``every event`` for the actor)."""
    in_values: tuple[str, ...]
    """The value classes with a field of this type."""


@attrs.frozen
class MemberEntry:
    """One member of a registered enum."""

    name: str
    value: str
    meaning: str
    words: tuple[str, str] | None
    """The member's words in Chinese and English on the audit timeline, if it has any."""


@attrs.frozen
class EnumEntry:
    """One registered enum."""

    codec_name: str
    path: str
    docstring: str
    members: tuple[MemberEntry, ...]
    in_events: tuple[str, ...]
    """The events that hold one, directly or inside other values."""
    in_values: tuple[str, ...]
    """The value classes with a field of this type."""


@attrs.frozen
class Catalogue:
    """Everything the document lists."""

    common_fields: tuple[FieldEntry, ...]
    aggregates: tuple[AggregateEntry, ...]
    values: tuple[ValueEntry, ...]
    enums: tuple[EnumEntry, ...]
    sealed_values: tuple[ValueEntry, ...]
    """Value classes that appear only inside sealed data (the vault's registry adds them)."""
    sealed_enums: tuple[EnumEntry, ...]


# -- finding the classes ---------------------------------------------------------------------------------


def aggregate_classes() -> tuple[type[GridAggregate], ...]:
    """Return every aggregate class of the library, sorted by module and name.

    Imports the library's public API (which imports every aggregate's module)
    and collects the subclasses of ``GridAggregate`` defined in ``grid_events``;
    subclasses defined elsewhere (in tests, in applications) are not part of it.
    """
    import grid_events  # noqa: F401, PLC0415 (loads every aggregate's module, only when asked)

    found: set[type[GridAggregate]] = set()
    pending: list[type[GridAggregate]] = [GridAggregate]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                pending.append(subclass)
                if subclass.__module__.startswith("grid_events."):
                    found.add(subclass)
    return tuple(sorted(found, key=lambda kind: (kind.__module__, kind.__qualname__)))


def event_classes(aggregate_class: type[GridAggregate]) -> tuple[type[GridAggregate.Event], ...]:
    """Return the event classes the source of *aggregate_class* declares in it, in declaration order.

    The ``Event`` and ``Created`` classes eventsourcing adds to an aggregate
    class are not in its source, so they are not returned (unless the source
    declares them).
    """
    declared = _class_node(aggregate_class)
    events: list[type[GridAggregate.Event]] = []
    for node in declared.body:
        if isinstance(node, ast.ClassDef):
            value = vars(aggregate_class).get(node.name)
            if isinstance(value, type) and issubclass(value, GridAggregate.Event):
                events.append(value)
    return tuple(events)


@functools.cache
def _class_node(kind: type) -> ast.ClassDef:
    """Return the syntax tree of the class statement of *kind*."""
    source = textwrap.dedent(inspect.getsource(kind))
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.ClassDef):  # pragma: no cover (getsource of a class is its class statement)
        raise TypeError(f"no class statement for {kind!r}")
    return node


def _nested_node(aggregate_class: type, name: str) -> ast.ClassDef:
    for node in _class_node(aggregate_class).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise LookupError(f"{aggregate_class.__qualname__} declares no class {name}")  # pragma: no cover


def _docstring(node: ast.ClassDef) -> str:
    return ast.get_docstring(node, clean=True) or ""


def _attribute_docs(node: ast.ClassDef) -> dict[str, str]:
    """Return the docstrings written under the attributes of a class statement (``x: int`` then ``\"\"\"…\"\"\"``)."""
    docs: dict[str, str] = {}
    body = node.body
    for statement, following in itertools.pairwise(body):
        if not (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            continue
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                docs[target.id] = inspect.cleandoc(following.value.value)
    return docs


def _registries() -> tuple[TypeRegistry, TypeRegistry]:
    """Return the codec's default registry and the vault's (which adds the types of sealed personal data)."""
    from grid_events.application.core import sealed_types_registry  # noqa: PLC0415 (only when asked)
    from grid_events.codec import default_registry  # noqa: PLC0415

    return default_registry(), sealed_types_registry()


def _candidate_types(roots: Iterable[type]) -> set[type]:
    """Return the enums and attrs classes defined at the top of the loaded grid_events modules, and *roots*."""
    found = set(roots)
    for name, module in sorted(sys.modules.items()):
        if name != "grid_events" and not name.startswith("grid_events."):
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == name
                and (issubclass(value, enum.Enum) or attrs.has(value))
            ):
                found.add(value)
    return found


def _classes_in(hint: object) -> Iterator[type]:
    """Yield the classes a resolved type hint names (``tuple[Finding, ...] | None`` gives Finding)."""
    if isinstance(hint, type) and not typing.get_args(hint):
        yield hint
    for argument in typing.get_args(hint):
        yield from _classes_in(argument)


# -- the text --------------------------------------------------------------------------------------------

_ROLE = re.compile(r":(?:[\w-]+:)?[\w-]+:`([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``")


def _markdown(text: str) -> str:
    """Turn the reStructuredText of docstrings into Markdown (roles and literals)."""

    def role(match: re.Match[str]) -> str:
        target = match.group(1)
        if target.endswith(">") and "<" in target:
            return target.split("<", 1)[0].strip()
        if target.startswith("~"):
            target = target[1:].rsplit(".", 1)[-1]
        return f"`{target}`"

    return _LITERAL.sub(r"`\1`", _ROLE.sub(role, text))


def _paragraphs(text: str) -> list[str]:
    return [paragraph.strip() for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """Return *text* fit for a table cell: on one line, its pipes escaped."""
    return _one_line(text).replace("|", "\\|")


def _code(text: str) -> str:
    """Return *text* as a Markdown code span."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def _anchor(heading: str) -> str:
    """Return the anchor GitHub gives a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.lower())
    return slug.replace(" ", "-")


def _link(heading: str) -> str:
    return f"[{heading}](#{_anchor(heading)})"


def _written(annotation: object) -> str:
    """Return an annotation as the source writes it."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")  # pragma: no cover (every module uses postponed annotations)


def _summary(kind: type) -> str:
    paragraphs = _paragraphs(_docstring(_class_node(kind)))
    return _markdown(_one_line(paragraphs[0])) if paragraphs else ""


# -- building the catalogue --------------------------------------------------------------------------------


class _Builder:
    """Collects the entries, and which events and value classes name each registered type."""

    def __init__(self, registry: TypeRegistry, sealed_registry: TypeRegistry) -> None:
        self.registry = registry
        self.sealed_registry = sealed_registry
        self.named_by_events: dict[type, set[str]] = {}
        self.named_by_values: dict[type, set[type]] = {}

    def codec_name(self, kind: type) -> str | None:
        """Return the name the codec stores *kind* under, or None if it is not registered."""
        return self.registry.name_of(kind) or self.sealed_registry.name_of(kind)

    def meaning(self, own: str | None, hint: object, user: str | type) -> str:
        """Return the meaning of a field of *user*: its own docstring, else its registered types' summaries."""
        described: list[str] = []
        for kind in dict.fromkeys(_classes_in(hint)):
            name = self.codec_name(kind)
            if name is None:
                continue
            if isinstance(user, str):
                self.named_by_events.setdefault(kind, set()).add(user)
            else:
                self.named_by_values.setdefault(kind, set()).add(user)
            described.append(f"{_link(name)}: {_summary(kind)}")
        if own:
            return _markdown(_one_line(own))
        return " ".join(described)

    def events_naming(self, kind: type, seen: frozenset[type] = frozenset()) -> set[str]:
        """Return the events that hold a *kind* in their fields, directly or inside value objects."""
        found = set(self.named_by_events.get(kind, ()))
        for user in self.named_by_values.get(kind, ()):
            if user not in seen:
                found |= self.events_naming(user, seen | {kind})
        return found

    def values_naming(self, kind: type) -> tuple[str, ...]:
        """Return the codec names of the value classes with a field of type *kind*."""
        return tuple(sorted(self.codec_name(user) or user.__qualname__ for user in self.named_by_values.get(kind, ())))

    def event(self, aggregate_class: type[GridAggregate], event_class: type[GridAggregate.Event]) -> EventEntry:
        """Return the entry of *event_class*, nested in *aggregate_class*."""
        node = _nested_node(aggregate_class, event_class.__name__)
        own_docs = _attribute_docs(node)
        name = event_class.__qualname__
        hints = typing.get_type_hints(event_class)
        fields = tuple(
            FieldEntry(
                field.name, _written(field.type), self.meaning(own_docs.get(field.name), hints[field.name], name)
            )
            for field in dataclasses.fields(event_class)
            if field.name not in COMMON_FIELDS and field.name != ORIGINATOR_TOPIC
        )
        class_version = int(getattr(event_class, "class_version", 1))
        return EventEntry(
            name=name,
            topic=get_topic(event_class),
            docstring=_markdown(_docstring(node)),
            creates=issubclass(event_class, GridAggregate.Created),
            class_version=class_version,
            upcasts=tuple((version, _upcast_doc(event_class, version)) for version in range(1, class_version)),
            fields=fields,
            phrasing=_phrasing(aggregate_class, event_class),
        )

    def aggregate(self, aggregate_class: type[GridAggregate]) -> AggregateEntry:
        """Return the entry of *aggregate_class* and its events."""
        paragraphs = _paragraphs(_docstring(_class_node(aggregate_class)))
        return AggregateEntry(
            name=aggregate_class.__qualname__,
            topic=get_topic(aggregate_class),
            kind=aggregate_class.KIND,
            description=_markdown(paragraphs[0]) if paragraphs else "",
            events=tuple(self.event(aggregate_class, event) for event in event_classes(aggregate_class)),
        )

    def common_fields(self) -> tuple[FieldEntry, ...]:
        """Return the fields every event has."""
        hints = typing.get_type_hints(GridAggregate.Event)
        return tuple(
            FieldEntry(
                field.name,
                _written(field.type),
                self.meaning(COMMON_FIELDS.get(field.name, ""), hints[field.name], EVERY_EVENT),
            )
            for field in dataclasses.fields(GridAggregate.Event)
        )

    def value(self, kind: type, codec_name: str) -> ValueEntry:
        """Return the entry of the value class *kind* (its uses are filled in by :meth:`with_uses`)."""
        node = _class_node(kind)
        own_docs = _attribute_docs(node)
        hints = typing.get_type_hints(kind)
        fields = tuple(
            FieldEntry(
                field.name, _written(field.type), self.meaning(own_docs.get(field.name), hints[field.name], kind)
            )
            for field in attrs.fields(kind)
            if field.init
        )
        return ValueEntry(codec_name, _path(kind), _markdown(_docstring(node)), fields, (), ())

    def enum(self, kind: type[enum.Enum], codec_name: str, words: Mapping[str, tuple[str, str]] | None) -> EnumEntry:
        """Return the entry of the enum *kind*, with its members' *words* on the timeline."""
        node = _class_node(kind)
        member_docs = _attribute_docs(node)
        members = tuple(
            MemberEntry(
                name=member.name,
                value=member.value if isinstance(member.value, str) else repr(member.value),
                meaning=_markdown(_one_line(member_docs.get(member.name, ""))),
                words=words.get(str(member.value)) if words is not None else None,
            )
            for member in kind
        )
        return EnumEntry(codec_name, _path(kind), _markdown(_docstring(node)), members, (), ())

    def with_uses(self, kind: type, entry: _E) -> _E:
        """Return *entry* with the events and the value classes that hold a *kind*."""
        return attrs.evolve(
            entry, in_events=tuple(sorted(self.events_naming(kind))), in_values=self.values_naming(kind)
        )


_E = typing.TypeVar("_E", ValueEntry, EnumEntry)


def _path(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _upcast_doc(event_class: type, version: int) -> str:
    method = getattr(event_class, f"upcast_v{version}_v{version + 1}", None)
    if method is None:
        return f"(no `upcast_v{version}_v{version + 1}` method: events of version {version} cannot be read)"
    return _markdown(_one_line(inspect.getdoc(method) or "(undocumented)"))


def build() -> Catalogue:
    """Return the catalogue of the library as it is loaded now."""
    from grid_events.audit.timeline import VOCABULARY  # noqa: PLC0415 (only when asked)
    from grid_events.domain import VALUE_TYPES  # noqa: PLC0415

    registry, sealed_registry = _registries()
    builder = _Builder(registry, sealed_registry)
    common = builder.common_fields()
    aggregates = tuple(builder.aggregate(kind) for kind in aggregate_classes())
    named = {kind: builder.codec_name(kind) for kind in _candidate_types(VALUE_TYPES)}
    registered = sorted(
        ((kind, name) for kind, name in named.items() if name is not None), key=lambda item: (item[1], _path(item[0]))
    )
    values = [(kind, builder.value(kind, name)) for kind, name in registered if attrs.has(kind)]
    enums = [
        (kind, builder.enum(kind, name, VOCABULARY.get(kind)))
        for kind, name in registered
        if issubclass(kind, enum.Enum)
    ]
    return Catalogue(
        common_fields=common,
        aggregates=aggregates,
        values=tuple(builder.with_uses(kind, entry) for kind, entry in values if kind in registry),
        enums=tuple(builder.with_uses(kind, entry) for kind, entry in enums if kind in registry),
        sealed_values=tuple(entry for kind, entry in values if kind not in registry),
        sealed_enums=tuple(entry for kind, entry in enums if kind not in registry),
    )


# -- how the timeline says it --------------------------------------------------------------------------------

_SAMPLE_ID = UUID("12345678-1234-5678-1234-567812345678")
_SAMPLE_MOMENT = datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
_SAMPLE_SCALARS: Mapping[type, object] = {
    bool: True,
    int: 1,
    float: 1.5,
    bytes: b"",
    Decimal: Decimal("1.00"),
    UUID: _SAMPLE_ID,
    datetime: _SAMPLE_MOMENT,
    date: _SAMPLE_MOMENT.date(),
    timedelta: timedelta(hours=1),
}
_SAMPLE_TEXTS: Mapping[str, str] = {
    # Text fields whose form is checked, by name; any other text field shows its name as ‹name›.
    "party_id": "P1",
    "obligor_party_id": "P1",
    "signer_id": "P1",
    "attendees": "P1",
    "consenting_party_ids": "P1",
    "applicant_party_ids": "P1",
    "finding_id": "F1",
    "finding_ids": "F1",
    "code": "exits_clear",
    "item_code": "exits_clear",
    "sample_id": "S1",
    "scheme": "aes256gcm-v1",
    "sha256": "",
}


_COLLECTIONS: Mapping[object, Callable[[list[object]], object]] = {
    tuple: tuple,
    list: list,
    set: set,
    frozenset: frozenset,
}


def _sample(hint: object, name: str) -> object:
    """Return a valid value of the resolved type *hint* for the field *name*: the fullest one (never None)."""
    origin = typing.get_origin(hint)
    if origin is not None:
        return _generic_sample(origin, typing.get_args(hint), name)
    if hint is str:
        return _SAMPLE_TEXTS.get(name, f"‹{name}›")
    if isinstance(hint, type):
        if hint in _SAMPLE_SCALARS:
            return _SAMPLE_SCALARS[hint]
        if issubclass(hint, enum.Enum):
            return next(iter(hint))
        if attrs.has(hint):
            hints = typing.get_type_hints(hint)
            return hint(
                **{field.name: _sample(hints[field.name], field.name) for field in attrs.fields(hint) if field.init}
            )
    raise TypeError(f"no sample value of {hint!r} for the field {name!r}: teach grid_events.catalogue._sample")


def _generic_sample(origin: object, arguments: tuple[object, ...], name: str) -> object:
    """Return a sample of ``origin[arguments]``: the first type of a union other than None, one item of a collection."""
    if origin in {typing.Union, types.UnionType}:
        return _sample(next(argument for argument in arguments if argument is not type(None)), name)
    item = _sample(arguments[0], name)
    if origin is dict:
        return {item: _sample(arguments[1], name)}
    if origin in _COLLECTIONS:
        return _COLLECTIONS[origin]([item])
    raise TypeError(f"no sample value of {origin!r} for the field {name!r}: teach grid_events.catalogue._sample")


def _sample_event(aggregate_class: type[GridAggregate], event_class: type[GridAggregate.Event]) -> GridAggregate.Event:
    hints = typing.get_type_hints(event_class)
    given: dict[str, Any] = {
        "originator_id": _SAMPLE_ID,
        "originator_version": 1,
        "timestamp": _SAMPLE_MOMENT,
        ORIGINATOR_TOPIC: get_topic(aggregate_class),
    }
    values: dict[str, Any] = {
        field.name: given[field.name] if field.name in given else _sample(hints[field.name], field.name)
        for field in dataclasses.fields(event_class)
    }
    return event_class(**values)


def _phrasing(
    aggregate_class: type[GridAggregate], event_class: type[GridAggregate.Event]
) -> tuple[tuple[str, str, str], ...]:
    from grid_events.audit.timeline import LANGUAGES, describe_event, has_phrasing  # noqa: PLC0415 (only when asked)

    if not has_phrasing(event_class):
        return ()
    event = _sample_event(aggregate_class, event_class)
    said = (describe_event(event, lang) for lang in LANGUAGES)
    return tuple((entry.language, entry.what, entry.why) for entry in said)


# -- rendering -----------------------------------------------------------------------------------------------

_LANGUAGE_NAMES: Mapping[str, str] = {"zh": "中文", "en": "English"}


def _field_table(fields: Sequence[FieldEntry]) -> list[str]:
    lines = ["| field | type | meaning |", "| --- | --- | --- |"]
    lines.extend(f"| `{field.name}` | {_code(_cell(field.annotation))} | {_cell(field.meaning)} |" for field in fields)
    return lines


def _render_common(catalogue: Catalogue) -> list[str]:
    return [
        "## Fields every event has",
        "",
        "Every event below also has these fields; the tables list only each event's own.",
        "",
        *_field_table(catalogue.common_fields),
        "",
        f"The first event of an aggregate (marked *first event* below) also has `{ORIGINATOR_TOPIC}` (`str`):",
        f"{_ORIGINATOR_TOPIC_MEANING[0].lower()}{_ORIGINATOR_TOPIC_MEANING[1:]} An event of a class whose",
        "`class_version` is above 1 has `class_version` in its stored state ([the codec](codec.md)).",
        "",
    ]


def _render_event(event: EventEntry) -> list[str]:
    lines = [f"### {event.name}", ""]
    paragraphs = _paragraphs(event.docstring)
    lines.extend(line for paragraph in paragraphs for line in (paragraph, ""))
    facts = [f"- topic: `{event.topic}`"]
    if event.creates:
        facts.append(f"- *first event*: it creates the aggregate and carries `{ORIGINATOR_TOPIC}`")
    facts.append(f"- class_version: {event.class_version}")
    facts.extend(
        f"  - stored as version {version}, it is upgraded when read: {description}"
        for version, description in event.upcasts
    )
    for language, what, why in event.phrasing:
        said = _code(what) + (f" (why: {_code(why)})" if why else "")
        facts.append(f"- timeline ({_LANGUAGE_NAMES.get(language, language)}): {said}")
    lines.extend([*facts, ""])
    if event.fields:
        lines.extend([*_field_table(event.fields), ""])
    else:
        lines.extend(["No fields besides those every event has.", ""])
    return lines


def _render_aggregate(aggregate: AggregateEntry) -> list[str]:
    lines = [
        f"## {aggregate.name}",
        "",
        aggregate.description,
        "",
        f"- topic (`{ORIGINATOR_TOPIC}` of its first event): `{aggregate.topic}`",
        f"- `KIND`: `{aggregate.kind}`",
        f"- events ({len(aggregate.events)}): " + ", ".join(_link(event.name) for event in aggregate.events),
        "",
    ]
    for event in aggregate.events:
        lines.extend(_render_event(event))
    return lines


def _render_uses(entry: ValueEntry | EnumEntry, *, sealed: bool) -> list[str]:
    if sealed:
        return []
    links = [
        f"[{EVERY_EVENT}](#{_anchor('Fields every event has')})" for name in entry.in_events if name == EVERY_EVENT
    ]
    links.extend(_link(name) for name in entry.in_events if name != EVERY_EVENT)
    lines = ["- in events: " + (", ".join(links) or "none (the codec knows it for aggregate state and snapshots)")]
    if entry.in_values:
        lines.append("- in values: " + ", ".join(_link(name) for name in entry.in_values))
    return lines


def _render_value(value: ValueEntry, *, sealed: bool = False) -> list[str]:
    lines = [f"### {value.codec_name}", ""]
    lines.extend(line for paragraph in _paragraphs(value.docstring) for line in (paragraph, ""))
    lines.extend([f"- class: `{value.path}`", *_render_uses(value, sealed=sealed), ""])
    lines.extend([*_field_table(value.fields), ""])
    return lines


def _render_enum(entry: EnumEntry, *, sealed: bool = False) -> list[str]:
    lines = [f"### {entry.codec_name}", ""]
    lines.extend(line for paragraph in _paragraphs(entry.docstring) for line in (paragraph, ""))
    lines.extend([f"- class: `{entry.path}`", *_render_uses(entry, sealed=sealed), ""])
    if all(member.words is None for member in entry.members):
        lines.extend(["| value | member | meaning |", "| --- | --- | --- |"])
        lines.extend(f"| {_code(_cell(m.value))} | `{m.name}` | {_cell(m.meaning)} |" for m in entry.members)
    else:
        lines.extend(["| value | member | meaning | 中文 | English |", "| --- | --- | --- | --- | --- |"])
        lines.extend(
            f"| {_code(_cell(m.value))} | `{m.name}` | {_cell(m.meaning)} | {_cell(m.words[0] if m.words else '')} "
            f"| {_cell(m.words[1] if m.words else '')} |"
            for m in entry.members
        )
    lines.append("")
    return lines


def _render_contents(catalogue: Catalogue) -> list[str]:
    events = sum(len(aggregate.events) for aggregate in catalogue.aggregates)
    lines = [
        "## Contents",
        "",
        (
            f"{len(catalogue.aggregates)} aggregates, {events} events, {len(catalogue.values)} value objects and "
            f"{len(catalogue.enums)} enums, and {len(catalogue.sealed_values) + len(catalogue.sealed_enums)} "
            "types found only inside sealed data."
        ),
        "",
        f"- {_link('Fields every event has')}",
    ]
    lines.extend(
        f"- {_link(aggregate.name)} (`{aggregate.kind}`): {len(aggregate.events)} events"
        for aggregate in catalogue.aggregates
    )
    lines.extend([f"- {_link('Value objects')}", f"- {_link('Enums')}", f"- {_link('Inside sealed data')}", ""])
    return lines


def _render_section(title: str, introduction: str, entries: Iterable[list[str]]) -> list[str]:
    lines = [f"## {title}", "", introduction, ""]
    for entry in entries:
        lines.extend(entry)
    return lines


def render(catalogue: Catalogue | None = None) -> str:
    """Return the catalogue as Markdown (what follows :data:`MARKER` in ``docs/events.md``)."""
    catalogue = catalogue if catalogue is not None else build()
    lines = [*_render_contents(catalogue), *_render_common(catalogue)]
    for aggregate in catalogue.aggregates:
        lines.extend(_render_aggregate(aggregate))
    lines.extend(
        _render_section(
            "Value objects",
            "Stored as extension 10, `[name, map of field name → value]`, under the name in the heading; the "
            "map holds every field below (the codec writes them in the order of their names).",
            (_render_value(value) for value in catalogue.values),
        )
    )
    lines.extend(
        _render_section(
            "Enums",
            "Stored as extension 9, `[name, value]`, under the name in the heading. The Chinese and English "
            "words are those the audit timeline uses.",
            (_render_enum(entry) for entry in catalogue.enums),
        )
    )
    lines.extend(
        _render_section(
            "Inside sealed data",
            "These types never appear in an event in the clear: the application seals them "
            "([SealedData](#sealeddata)) under the key of their data subject, and the plaintext is encoded as "
            "above.",
            [
                *(_render_value(value, sealed=True) for value in catalogue.sealed_values),
                *(_render_enum(entry, sealed=True) for entry in catalogue.sealed_enums),
            ],
        )
    )
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


# -- the document -----------------------------------------------------------------------------------------------


def update(document: str, catalogue: str | None = None) -> str:
    """Return *document* with everything after its :data:`MARKER` line replaced by the catalogue."""
    head, marker, _ = document.partition(MARKER)
    if not marker:
        raise ValueError(f"the document has no marker line: add this line where the catalogue starts\n{MARKER}")
    body = catalogue if catalogue is not None else render()
    return f"{head}{MARKER}\n\n{body}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the catalogue, or write it into a document (``--write``), or check one (``--check``)."""
    parser = argparse.ArgumentParser(
        prog="python -m grid_events.catalogue",
        description="Print the event catalogue of grid_events (Markdown), generated from the code.",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="PATH", type=Path, help="replace what follows the marker line in PATH")
    group.add_argument("--check", metavar="PATH", type=Path, help="exit 1 if PATH is not up to date")
    options = parser.parse_args(argv)
    if options.write is None and options.check is None:
        sys.stdout.write(render())
        return 0
    path: Path = options.write or options.check
    try:
        if options.write is not None and not path.exists():
            document = f"# The event catalogue\n\n{MARKER}\n"
        else:
            document = path.read_text(encoding="utf-8")
        expected = update(document)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"{parser.prog}: {path}: {e}\n")
        return 2
    if options.check is not None:
        if document != expected:
            sys.stderr.write(f"{path} is out of date: run `python -m grid_events.catalogue --write {path}`\n")
            return 1
        return 0
    if document != expected:
        path.write_text(expected, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
