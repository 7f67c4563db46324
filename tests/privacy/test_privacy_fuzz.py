"""Bad input: random arguments and random actors for every command and query, on all four aggregates.

Whatever is passed, a command either does its work or refuses with a
GridEventsError that says what is wrong (a ValidationError names the field),
and a refused command stores nothing: no event, no key.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grid_events import (
    Actor,
    AgreementForm,
    CallOutcome,
    DisputeCategory,
    DisputeSource,
    EscalationLevel,
    EvidenceKind,
    GridApplication,
    GridEventsError,
    ItemResult,
    PartyKind,
    PerformanceStatus,
    PermissionDeniedError,
    PersonKind,
    Priority,
    ReopenSource,
    ResidentTag,
    RiskLevel,
    Role,
    Route,
    Severity,
    SignatureMethod,
    SiteKind,
    TaskKind,
    ValidationError,
)
from grid_events.privacy.permissions import guard_of, rights_of

from .privacy_helpers import (
    WORKER_IDS,
    WORLD_ACTORS,
    World,
    build_world,
    choices,
    valid_arguments,
)

# -- values ------------------------------------------------------------------------------------

ENUMS = (Role, TaskKind, Priority, CallOutcome, EscalationLevel, ReopenSource, ItemResult, Severity, ResidentTag)
ENUMS_TOO = (DisputeSource, DisputeCategory, PartyKind, RiskLevel, Route, SignatureMethod, PerformanceStatus)
ALL_ENUMS = (*ENUMS, *ENUMS_TOO, PersonKind, SiteKind, AgreementForm, EvidenceKind)
scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["", " ", "S1", "P1", "P9", "F1", "x" * 3000, "请回电 13812345678", "张秀英", "\ud800"]),
    st.binary(max_size=40),
    st.uuids(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from([e for enum_type in ALL_ENUMS for e in enum_type]),
    st.builds(object),
)
junk: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), children, max_size=3),
        st.frozensets(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    ),
    max_leaves=6,
)
bad_texts = st.sampled_from(
    ["", "  ", "x" * 20_000, "请回电 13812345678", "张秀英说", "李建国", "\ud800", "已\udfff到"]
)
junk = st.one_of(bad_texts, junk)
actors: st.SearchStrategy[Any] = st.one_of(
    st.builds(Actor, st.sampled_from(WORKER_IDS), st.sampled_from(Role)),
    junk,
)


def plausible(world: World) -> dict[str, st.SearchStrategy[Any]]:
    """Return the :func:`choices` as strategies."""
    return {name: st.sampled_from(values) for name, values in choices(world).items()}


def arguments(world: World, method: Callable[..., Any], bad: str | None) -> st.SearchStrategy[dict[str, Any]]:
    """Return keyword arguments for *method*: plausible values, except junk for *bad* (and unknown names)."""
    guard = guard_of(method)
    assert guard is not None
    holders = [actor for actor in WORLD_ACTORS if guard.right in rights_of(actor.role)] or list(WORLD_ACTORS)
    known = {**plausible(world), "actor": st.sampled_from(holders)}
    fields: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.name == bad:
            strategy = st.one_of(actors, st.sampled_from(WORLD_ACTORS)) if parameter.name == "actor" else junk
        else:
            strategy = known.get(parameter.name, junk)
        (fields if parameter.default is inspect.Parameter.empty else optional)[parameter.name] = strategy
    return st.fixed_dictionaries(fields, optional=optional)


def parameter_names(method: Callable[..., Any]) -> list[str]:
    """Return the names of *method*'s parameters, without self."""
    return list(inspect.signature(method).parameters)[1:]


GUARDED = sorted(
    name for name, function in inspect.getmembers(GridApplication, inspect.isfunction) if guard_of(function)
)
GROUPS = {
    "residents": [name for name in GUARDED if "resident" in name or "isolation" in name],
    "tasks": [
        name
        for name in GUARDED
        if "task" in name
        or name
        in {"record_call", "check_item", "record_finding", "order_rectification", "record_owner_report", "reinspect"}
        or name == "report_to_authority"
    ],
    "disputes": [
        name
        for name in GUARDED
        if any(word in name for word in ("dispute", "mediat", "session", "agreement", "investigation", "judicial"))
        or name
        in {
            "extend_time_limit",
            "flag_escalation_risk",
            "record_refusal",
            "record_performance",
            "record_follow_up",
            "close_dispute",
        }
    ],
}
GROUPS["sites and privacy"] = [name for name in GUARDED if not any(name in group for group in GROUPS.values())]


def live_keys(app: GridApplication) -> int:
    """Return how many subject keys exist (a refused command must not leave one behind)."""
    return len(app.vault.keystore._rows)  # type: ignore[attr-defined]


@pytest.mark.parametrize("group", sorted(GROUPS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_refusal_is_a_clear_grid_events_error_and_stores_nothing(group: str, data: st.DataObject) -> None:
    """Random arguments of any type and random actors: a clear GridEventsError or success, never anything else."""
    world = build_world()
    try:
        try_one_command(world, group, data)
    finally:
        world.app.close()


def try_one_command(world: World, group: str, data: st.DataObject) -> None:
    """Draw one command of *group* and its arguments, run it, and check the outcome."""
    name = data.draw(st.sampled_from(GROUPS[group]), label="command")
    method = getattr(world.app, name)
    unbound = getattr(GridApplication, name)
    bad = data.draw(st.sampled_from([None, *parameter_names(unbound)]), label="bad argument")
    kwargs = data.draw(arguments(world, unbound, bad), label="arguments")
    before = (world.app.recorder.max_notification_id(), live_keys(world.app))

    refusal: GridEventsError | None = None
    try:
        method(**kwargs)
    except GridEventsError as error:
        refusal = error
    event(f"{name}: {type(refusal).__name__ if refusal else 'done'}")
    if refusal is not None:
        assert str(refusal).strip()
        assert before == (world.app.recorder.max_notification_id(), live_keys(world.app))
        assert not isinstance(refusal, ValidationError) or (refusal.field and refusal.message.strip())
        assert not isinstance(refusal, PermissionDeniedError) or refusal.right


def test_the_groups_cover_every_command_and_query() -> None:
    """Each guarded method of GridApplication is fuzzed in exactly one group."""
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == GUARDED


# -- every argument, one at a time, with each kind of junk ----------------------------------------

JUNK_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    10**30,
    1.5,
    float("nan"),
    "",
    "  ",
    "\ud800",
    "x" * 20_000,
    "请回电 13812345678",
    b"bytes",
    UUID("00000000-0000-4000-8000-000000000000"),
    date(1900, 1, 1),
    datetime(2026, 11, 2, 9, 0),  # noqa: DTZ001 (naive on purpose)
    datetime(1970, 1, 1, tzinfo=UTC),
    [],
    ["\ud800"],
    ("x",),
    {},
    {"k": object()},
    object(),
    Role.AUDITOR,
    frozenset({1}),
    (1, 2, 3),
)
NESTED_NAMES = {
    ("plan_shift", "planned_start"): "planned_end",
    ("seal_batch", "sealed_at"): "batch.sealed_at",
    ("seal_batch", "batch_no"): "batch.batch_no",
    ("record_finding", "description"): "finding.description",
    ("record_finding", "location"): "finding.location",
    ("report_to_authority", "finding_ids"): "finding_id",
}
"""Where the domain names an argument by the value it builds from it (or, for a start, by the end it contradicts)."""


def names_argument(error: ValidationError, name: str, parameter: str) -> bool:
    """Return whether *error* names *parameter* of *name* (or the field the domain builds from it)."""
    return error.field.startswith((parameter, NESTED_NAMES.get((name, parameter), parameter)))


def baseline_error(name: str) -> ValidationError | None:
    """Return the ValidationError the valid arguments of *name* themselves cause, if any (then no field is checked)."""
    world = build_world()
    try:
        getattr(world.app, name)(**valid_arguments(world, name))
    except ValidationError as error:
        return error
    except GridEventsError:
        return None
    finally:
        world.app.close()
    return None


def test_each_argument_of_every_command_refuses_junk_naming_it() -> None:
    """Junk in one argument, valid values elsewhere: refused by a GridEventsError naming that argument."""
    world = build_world()
    misnamed: list[str] = []
    crashed: list[str] = []
    try:
        for name in GUARDED:
            baseline_is_valid = baseline_error(name) is None
            for parameter in parameter_names(getattr(GridApplication, name)):
                for value in JUNK_VALUES:
                    kwargs = {**valid_arguments(world, name), parameter: value}
                    before = (world.app.recorder.max_notification_id(), live_keys(world.app))
                    try:
                        getattr(world.app, name)(**kwargs)
                    except GridEventsError as error:
                        assert before == (world.app.recorder.max_notification_id(), live_keys(world.app)), name
                        wrong_field = isinstance(error, ValidationError) and not names_argument(error, name, parameter)
                        if wrong_field and baseline_is_valid:
                            misnamed.append(f"{name}({parameter}={value!r:.30}): {error}")
                    except Exception as error:  # noqa: BLE001 (collecting every other exception is the point)
                        crashed.append(f"{name}({parameter}={value!r:.30}): {type(error).__name__}: {error}")
                        world.app.close()
                        world = build_world()
                    else:
                        world.app.close()
                        world = build_world()
    finally:
        world.app.close()
    assert [] == crashed, "\n".join(crashed)
    assert [] == misnamed, "\n".join(misnamed)
