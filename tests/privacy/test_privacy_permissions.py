"""Each role sees and does only its part: rights on every command and query, least privilege (PIPL Art. 51)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from grid_events import (
    POLICY,
    Actor,
    CallOutcome,
    EscalationLevel,
    GridApplication,
    GridEventsError,
    ItemResult,
    PermissionDeniedError,
    Right,
    Role,
    TaskKind,
)
from grid_events.application.core import ApplicationCore
from grid_events.privacy.permissions import commands_table, guard_of, policy_table, rights_of

from .privacy_helpers import (
    GRID,
    SITE,
    START,
    WANG_FANG,
    ZHANG,
    World,
    build_world,
    stored_count,
    valid_arguments,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
PURPOSE = "follow up the case"
WORKERS = {"grid_worker", "mediator", "safety_officer", "publicity_officer", "liaison", "supervisor"}
ON_SITE = WORKERS | {"volunteer"}

Operation = Callable[[World, Actor], object]

# Who may do each operation, written out by hand from the work each role does (DOMAIN.md), so the
# table checks the policy rather than restating it. The worker id is the one the world's own
# checks expect (the assignee, the assigned mediator, the shift's lead), so only the role decides.
EXPECTED: dict[str, tuple[Right, str, frozenset[str], Operation]] = {
    "register a resident": (
        Right.RESIDENT_REGISTER,
        "w-li",
        frozenset({"grid_worker", "supervisor"}),
        lambda w, a: w.app.register_resident(ZHANG, GRID, actor=a),
    ),
    "read a resident": (
        Right.RESIDENT_READ,
        "w-li",
        frozenset({"grid_worker", "liaison", "supervisor", "auditor"}),
        lambda w, a: w.app.get_resident(w.resident_id, actor=a),
    ),
    "see a resident's data masked": (
        Right.RESIDENT_READ,
        "w-li",
        frozenset({"grid_worker", "liaison", "supervisor", "auditor"}),
        lambda w, a: w.app.resident_personal_data(w.resident_id, actor=a),
    ),
    "see a resident's data in full": (
        Right.RESIDENT_READ_PERSONAL_DATA,
        "w-li",
        frozenset({"supervisor"}),
        lambda w, a: w.app.resident_personal_data(w.resident_id, actor=a, unmasked=True, purpose=PURPOSE),
    ),
    "arrange home isolation": (
        Right.RESIDENT_ISOLATE,
        "w-li",
        frozenset({"grid_worker", "supervisor"}),
        lambda w, a: w.app.end_home_isolation(w.resident_id, START.date(), actor=a),
    ),
    "erase a resident": (
        Right.SUBJECT_ERASE,
        "admin",
        frozenset({"administrator"}),
        lambda w, a: w.app.erase_resident(w.resident_id, actor=a, reason="本人申请 (PIPL Art. 47)"),
    ),
    "create a task": (
        Right.TASK_CREATE,
        "w-li",
        frozenset(WORKERS | {"system"}),
        lambda w, a: w.app.create_task(TaskKind.PATROL, "占道经营巡查", GRID, actor=a),
    ),
    "assign a task": (
        Right.TASK_ASSIGN,
        "s-zhou",
        frozenset({"supervisor"}),
        lambda w, a: w.app.reassign_task(w.task_id, "w-zhang", actor=a, reason="w-li is ill"),
    ),
    "record a call (the assignee)": (
        Right.TASK_WORK,
        "w-li",
        frozenset(WORKERS),
        lambda w, a: w.app.record_call(w.task_id, CallOutcome.REACHED, actor=a),
    ),
    "verify a task": (
        Right.TASK_VERIFY,
        "s-zhou",
        frozenset({"supervisor"}),
        lambda w, a: w.app.verify_task(w.task_id, actor=a),
    ),
    "escalate a task": (
        Right.TASK_ESCALATE,
        "timer",
        frozenset({"supervisor", "system"}),
        lambda w, a: w.app.escalate_task(w.task_id, EscalationLevel.COMMUNITY, actor=a, reason="overdue"),
    ),
    "read a task": (
        Right.TASK_READ,
        "w-li",
        frozenset(WORKERS | {"auditor", "system"}),
        lambda w, a: w.app.get_task(w.task_id, actor=a),
    ),
    "record a finding (the assignee)": (
        Right.INSPECTION_RECORD,
        "so-zhao",
        frozenset({"grid_worker", "safety_officer", "supervisor"}),
        lambda w, a: w.app.check_item(w.inspection_id, "extinguishers", ItemResult.PASS, actor=a),
    ),
    "receive a dispute": (
        Right.DISPUTE_RECEIVE,
        "m-chen",
        frozenset({"mediator", "supervisor"}),
        lambda w, a: w.app.decline_dispute(w.dispute_id, "already before a court", actor=a),
    ),
    "assign the mediator": (
        Right.DISPUTE_ASSIGN,
        "s-wang",
        frozenset({"supervisor"}),
        lambda w, a: w.app.assign_mediator(w.dispute_id, "m-liu", actor=a, reason="conflict of interest"),
    ),
    "record a session (the assigned mediator)": (
        Right.DISPUTE_RECORD_SESSION,
        "m-chen",
        frozenset({"mediator"}),
        lambda w, a: w.app.record_session(
            w.dispute_id, w.app.now(), "调解室", ["m-chen", "P2"], {"P2": "愿意维修"}, "第二次调解", actor=a
        ),
    ),
    "read the mediation register": (
        Right.DISPUTE_READ,
        "m-chen",
        frozenset({"mediator", "supervisor", "auditor"}),
        lambda w, a: w.app.get_dispute(w.dispute_id, actor=a),
    ),
    "see a party in full": (
        Right.DISPUTE_READ_PERSONAL_DATA,
        "m-chen",
        frozenset({"mediator", "supervisor"}),
        lambda w, a: w.app.dispute_party_details(w.dispute_id, "P2", actor=a, unmasked=True, purpose=PURPOSE),
    ),
    "read what the parties said": (
        Right.DISPUTE_READ_PERSONAL_DATA,
        "m-chen",
        frozenset({"mediator", "supervisor"}),
        lambda w, a: w.app.session_statements(w.dispute_id, 0, actor=a, purpose=PURPOSE),
    ),
    "plan a shift": (
        Right.SITE_PLAN,
        "w-li",
        frozenset({"grid_worker", "supervisor"}),
        lambda w, a: w.app.plan_shift(
            SITE, START + timedelta(days=1), START + timedelta(days=1, hours=4), "w-li", actor=a
        ),
    ),
    "record a sample on site": (
        Right.SITE_RECORD,
        "w-li",
        frozenset(ON_SITE),
        lambda w, a: w.app.record_sample(w.shift_id, "T-0002", WANG_FANG, actor=a),
    ),
    "read a shift": (
        Right.SITE_READ,
        "v-sun",
        frozenset(ON_SITE | {"auditor"}),
        lambda w, a: w.app.get_shift(w.shift_id, actor=a),
    ),
    "see a sample record masked": (
        Right.SITE_READ_SAMPLES,
        "w-li",
        frozenset({"grid_worker", "supervisor", "auditor"}),
        lambda w, a: w.app.sampled_person(w.shift_id, "S1", actor=a),
    ),
    "see a sample record in full": (
        Right.SITE_READ_PERSONAL_DATA,
        "s-wang",
        frozenset({"supervisor"}),
        lambda w, a: w.app.sampled_person(w.shift_id, "S1", actor=a, unmasked=True, purpose=PURPOSE),
    ),
    "read who saw a person's data": (
        Right.AUDIT_READ,
        "a-zhou",
        frozenset({"auditor", "administrator"}),
        lambda w, a: w.app.privacy_history(w.resident_id, actor=a),
    ),
    "erase a sampled person": (
        Right.SUBJECT_ERASE,
        "admin",
        frozenset({"administrator"}),
        lambda w, a: w.app.erase_sampled_person(w.shift_id, "S1", actor=a, reason="本人申请"),
    ),
    "rotate the master key": (
        Right.KEYS_ROTATE,
        "admin",
        frozenset({"administrator"}),
        lambda w, a: w.app.rotate_master_key(bytes(range(100, 132)), actor=a),
    ),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_each_role_may_do_exactly_its_part(operation: str, role: Role) -> None:
    """Refused by the application's check, naming the right and storing nothing, unless the role holds it."""
    right, worker_id, allowed, run = EXPECTED[operation]
    world = build_world()
    actor = Actor(worker_id, role)
    before = stored_count(world.app)
    refusal: GridEventsError | None = None
    try:
        try:
            run(world, actor)
        except GridEventsError as error:
            refusal = error
        after = stored_count(world.app)
    finally:
        world.app.close()
    if role.value in allowed:
        # Refused, if at all, by a rule of the domain or the state, never by this right.
        assert not isinstance(refusal, PermissionDeniedError) or right.value != refusal.right, str(refusal)
    else:
        assert isinstance(refusal, PermissionDeniedError), f"{role.value} was not refused {operation}"
        assert refusal.right in {right.value, UNMASKED.get(right, right).value}
        assert Right(refusal.right) not in rights_of(role)
        assert refusal.right in str(refusal)
        assert before == after


UNMASKED = {
    Right.RESIDENT_READ_PERSONAL_DATA: Right.RESIDENT_READ,
    Right.DISPUTE_READ_PERSONAL_DATA: Right.DISPUTE_READ,
    Right.SITE_READ_PERSONAL_DATA: Right.SITE_READ_SAMPLES,
}
"""A role without even the masked view is refused that first."""


def test_the_table_above_agrees_with_the_policy() -> None:
    """Each right the table exercises is held by exactly the roles the table expects."""
    for operation, (right, _, allowed, _) in EXPECTED.items():
        holders = {role.value for role in Role if right in rights_of(role)}
        assert allowed == holders, operation


def test_a_volunteer_cannot_verify_a_task() -> None:
    """A volunteer account is refused task.verify, whoever the task belongs to."""
    world = build_world()
    with pytest.raises(PermissionDeniedError, match=r"task\.verify"):
        world.app.verify_task(world.task_id, actor=Actor("v-sun", Role.VOLUNTEER))
    world.app.close()


def test_a_mediator_not_assigned_to_the_case_can_neither_record_nor_read_it() -> None:
    """Another mediator cannot record a session of the case, nor read its parties, statements or notes."""
    world = build_world()
    other = Actor("m-liu", Role.MEDIATOR)
    before = stored_count(world.app)
    with pytest.raises(PermissionDeniedError, match="only the assigned mediator"):
        world.app.record_session(
            world.dispute_id, world.app.now(), "调解室", ["m-liu", "P2"], {}, "第二次调解", actor=other
        )
    for read in (
        lambda: world.app.dispute_party_details(world.dispute_id, "P1", actor=other, unmasked=True, purpose=PURPOSE),
        lambda: world.app.session_statements(world.dispute_id, 0, actor=other, purpose=PURPOSE),
        lambda: world.app.investigation_notes(world.dispute_id, actor=other, purpose=PURPOSE),
    ):
        with pytest.raises(PermissionDeniedError, match="assigned mediator") as caught:
            read()
        assert "dispute.read_personal_data" == caught.value.right
    assert before == stored_count(world.app)
    world.app.close()


def test_an_auditor_reads_every_case_masked_but_changes_nothing() -> None:
    """Every command refuses the auditor, storing nothing; every read of masked data serves them."""
    world = build_world()
    auditor = Actor("a-zhou", Role.AUDITOR)
    before = stored_count(world.app)
    for name, guard in guarded_methods():
        arguments = {**valid_arguments(world, name), "actor": auditor}
        if guard.right in rights_of(Role.AUDITOR):
            arguments.pop("unmasked", None)
            arguments.pop("purpose", None)
            getattr(world.app, name)(**arguments)
        else:
            with pytest.raises(PermissionDeniedError):
                getattr(world.app, name)(**arguments)
    assert before == stored_count(world.app)
    assert all(right.value.endswith(("read", "read_samples")) for right in rights_of(Role.AUDITOR))
    world.app.close()


def guarded_methods() -> list[tuple[str, Any]]:
    """Return every command and query of GridApplication with its guard."""
    found = []
    for name, function in inspect.getmembers(GridApplication, inspect.isfunction):
        guard = guard_of(function)
        if guard is not None:
            found.append((name, guard))
    return found


def test_every_command_and_query_checks_a_right_first() -> None:
    """Every public method the mixins add to the application is guarded by a right."""
    core = set(dir(ApplicationCore))
    public = {
        name
        for name, _ in inspect.getmembers(GridApplication, inspect.isfunction)
        if not name.startswith("_") and name not in core
    }
    assert public == {name for name, _ in guarded_methods()}


def test_every_command_and_query_names_its_actor_keyword_only() -> None:
    """``actor`` is a required keyword-only argument everywhere: nobody acts, or reads, anonymously."""
    for name, _ in guarded_methods():
        parameter = inspect.signature(getattr(GridApplication, name)).parameters["actor"]
        assert inspect.Parameter.KEYWORD_ONLY == parameter.kind, name
        assert inspect.Parameter.empty is parameter.default, name


def test_a_query_without_an_actor_is_refused_by_name() -> None:
    """Calling a query with no actor, or not an Actor, is a ValidationError naming ``actor``."""
    world = build_world()
    with pytest.raises(GridEventsError, match="actor"):
        world.app.get_resident(world.resident_id, actor="s-wang")  # type: ignore[arg-type]
    world.app.close()


def test_every_right_is_held_by_someone_and_the_system_reads_no_personal_data() -> None:
    """No right is dead; the software's own role touches no one's personal data."""
    held = {right for rights in POLICY.values() for right in rights}
    assert set(Right) == held
    personal = {right for right in Right if "personal" in right.value or right is Right.SITE_READ_SAMPLES}
    assert set() == rights_of(Role.SYSTEM) & personal
    assert set() == rights_of(Role.VOLUNTEER) & personal
    assert set() == rights_of(Role.ADMINISTRATOR) & personal


def documented_table(name: str) -> str:
    """Return the table between ``<!-- name:start -->`` and ``<!-- name:end -->`` in docs/privacy.md."""
    text = DOCS.read_text()
    start = text.index(f"<!-- {name}:start -->") + len(f"<!-- {name}:start -->")
    return text[start : text.index(f"<!-- {name}:end -->")].strip()


def test_the_role_table_in_the_documentation_is_generated_from_the_code() -> None:
    """docs/privacy.md shows the policy exactly as the code has it (regenerate: policy_table())."""
    assert policy_table().strip() == documented_table("policy-table")


def test_the_commands_table_in_the_documentation_is_generated_from_the_code() -> None:
    """docs/privacy.md names the right of every command exactly as the code has it (commands_table(...))."""
    assert commands_table(GridApplication).strip() == documented_table("commands-table")
