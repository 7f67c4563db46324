"""Masked by default; in full only with the right and a purpose, and every such look is recorded (PIPL Art. 45, 51)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grid_events import (
    Actor,
    DataSubject,
    MaskedPartyDetails,
    MaskedPersonalData,
    MaskedSampledPerson,
    PermissionDeniedError,
    PersonalDataErasedError,
    Role,
    StoreConfig,
    ValidationError,
)
from grid_events.audit import verify_store
from grid_events.privacy.access import data_subject_id

from .privacy_helpers import LI, WANG_FANG, ZHANG, ZHANG_SAYS, World, build_world, sample_subject, stored_count

SECRETARY = Actor("s-wang", Role.SUPERVISOR)
CHEN = Actor("m-chen", Role.MEDIATOR)
WORKER = Actor("w-li", Role.GRID_WORKER)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
ADMIN = Actor("admin", Role.ADMINISTRATOR)
PURPOSE = "核对居家观察人员联系方式"


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[World]:
    """The privacy world, in memory and on SQLite."""
    config = StoreConfig.memory() if request.param == "memory" else StoreConfig.sqlite(f"{tmp_path}/events.sqlite3")
    built = build_world(config)
    try:
        yield built
    finally:
        built.app.close()


def test_a_grid_worker_sees_a_residents_identifiers_masked(world: World) -> None:
    """Name, ID number, phone and address come back masked; health notes only as a flag."""
    masked = world.app.resident_personal_data(world.resident_id, actor=WORKER)

    assert isinstance(masked, MaskedPersonalData)
    assert "张**" == masked.name
    assert "110***********002X" == masked.id_number
    assert "138****5678" == masked.phone
    assert masked.address.startswith("飞凤小区 3")
    assert "501" not in masked.address
    assert masked.birth_year is None
    assert not masked.has_health_notes
    for secret in (ZHANG.name, ZHANG.id_number, ZHANG.phone, ZHANG.address):
        assert secret not in repr(masked)
        assert secret not in str(masked.as_dict())


def test_a_grid_worker_may_not_see_it_in_full(world: World) -> None:
    """Asking for the full data without the right is refused, naming it, and nothing is recorded."""
    before = stored_count(world.app)

    with pytest.raises(PermissionDeniedError) as caught:
        world.app.resident_personal_data(world.resident_id, actor=WORKER, unmasked=True, purpose=PURPOSE)

    assert "resident.read_personal_data" == caught.value.right
    assert before == stored_count(world.app)


def test_seeing_it_in_full_needs_a_purpose_that_names_nobody(world: World) -> None:
    """No purpose, or one that names the person or holds a number, is refused by name; nothing recorded."""
    before = stored_count(world.app)
    for purpose in ("", "  ", f"{ZHANG.name}本人申请", "回电 13812345678"):
        with pytest.raises(ValidationError) as caught:
            world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=purpose)
        assert "purpose" == caught.value.field
    assert before == stored_count(world.app)


def test_every_look_in_full_is_recorded_and_read_back(world: World) -> None:
    """Who, when, which fields, where and why: an event in the subject's record, verified with the rest."""
    data = world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)

    assert ZHANG == data
    history = world.app.privacy_history(world.resident_id, actor=AUDITOR)
    (look,) = history.views
    assert SECRETARY == look.actor
    assert ("resident", world.resident_id, "") == (look.record_kind, look.record_id, look.item)
    assert {"name", "id_number", "phone", "address"} == set(look.fields)
    assert PURPOSE == look.purpose
    assert world.app.now() >= look.at
    assert not history.erased
    assert verify_store(world.app.recorder).ok


def test_the_record_holds_no_personal_data_in_the_clear(world: World) -> None:
    """The purpose is sealed under the subject's key; only field names and ids are in the clear."""
    world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)

    stored = b"".join(event.state for event in world.app.recorder.select_events(data_subject_id(world.resident_id)))
    for secret in (PURPOSE, ZHANG.name, ZHANG.phone, ZHANG.id_number):
        assert secret.encode() not in stored
    record = world.app.load(DataSubject, data_subject_id(world.resident_id))
    assert world.resident_id == record.subject_id
    assert 1 == record.views


def test_looks_at_parties_statements_notes_and_samples_are_recorded_per_person(world: World) -> None:
    """Each person whose data was shown in full gets their own entry; masked views record nothing."""
    before = stored_count(world.app)
    assert isinstance(world.app.dispute_party_details(world.dispute_id, "P2", actor=CHEN), MaskedPartyDetails)
    assert isinstance(world.app.sampled_person(world.shift_id, "S1", actor=WORKER), MaskedSampledPerson)
    assert before == stored_count(world.app)

    assert LI == world.app.dispute_party_details(world.dispute_id, "P2", actor=CHEN, unmasked=True, purpose=PURPOSE)
    assert {"P1": ZHANG_SAYS} == world.app.session_statements(world.dispute_id, 0, actor=CHEN, purpose=PURPOSE)
    assert WANG_FANG == world.app.sampled_person(world.shift_id, "S1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)

    li = world.app.get_dispute(world.dispute_id, actor=AUDITOR).party("P2").subject_id
    (party_look,) = world.app.privacy_history(li, actor=AUDITOR).views
    assert ("dispute_party", "P2", CHEN) == (party_look.record_kind, party_look.item, party_look.actor)
    (statement_look,) = world.app.privacy_history(world.resident_id, actor=AUDITOR).views
    assert ("session_statement", "0:P1", ("statement",)) == (
        statement_look.record_kind,
        statement_look.item,
        statement_look.fields,
    )
    shift = world.app.get_shift(world.shift_id, actor=AUDITOR)
    assert 2 == shift.samples_recorded
    wang_fang = sample_subject(world.app, world.shift_id, "S1")
    (sample_look,) = world.app.privacy_history(wang_fang, actor=ADMIN).views
    assert ("sample", world.shift_id, "S1") == (sample_look.record_kind, sample_look.record_id, sample_look.item)


def test_after_erasure_the_record_stays_but_its_purposes_are_gone(world: World) -> None:
    """Who looked and when survive erasure (the subject id identifies no one); why is erased with the data."""
    world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    world.app.erase_resident(world.resident_id, actor=ADMIN, reason="本人申请删除 (PIPL Art. 47)")
    before = stored_count(world.app)

    with pytest.raises(PersonalDataErasedError):
        world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    with pytest.raises(PersonalDataErasedError):
        world.app.resident_personal_data(world.resident_id, actor=WORKER)

    history = world.app.privacy_history(world.resident_id, actor=AUDITOR)
    assert before == stored_count(world.app)
    assert history.erased
    assert ADMIN == history.erased_by
    assert [None] == [look.purpose for look in history.views]


def test_a_failed_record_shows_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the look cannot be recorded, the data is not returned."""

    def failing_save(*_: object, **__: object) -> None:
        message = "disk full"
        raise OSError(message)

    monkeypatch.setattr(world.app, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)


def test_a_look_recorded_by_someone_else_meanwhile_is_kept_and_this_one_added(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two looks at one person at once: the second save meets a conflict, reloads, and both are recorded."""
    world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    stale = world.app.load(DataSubject, data_subject_id(world.resident_id))
    world.app.resident_personal_data(world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)
    fresh = world.app._subject_record
    handed_out: list[DataSubject] = []

    def stale_first(subject_id: object, actor: Actor) -> DataSubject:
        record = stale if not handed_out else fresh(subject_id, actor)  # type: ignore[arg-type]
        handed_out.append(record)
        return record

    monkeypatch.setattr(world.app, "_subject_record", stale_first)
    world.app.resident_personal_data(
        world.resident_id, actor=Actor("s-zhou", Role.SUPERVISOR), unmasked=True, purpose=PURPOSE
    )

    assert 2 == len(handed_out)
    views = world.app.privacy_history(world.resident_id, actor=AUDITOR).views
    assert ["s-wang", "s-wang", "s-zhou"] == [look.actor.worker_id for look in views]


def test_the_services_projections_get_masked_views_of_sealed_records_and_nothing_more(world: World) -> None:
    """masked_view: for the system only, masked, None once erased; free text has no masked view."""
    system = Actor("projections", Role.SYSTEM)
    resident = world.app.get_resident(world.resident_id, actor=AUDITOR)
    before = stored_count(world.app)

    masked = world.app.masked_view(resident.personal, actor=system)
    assert isinstance(masked, MaskedPersonalData)
    assert "张**" == masked.name
    with pytest.raises(PermissionDeniedError, match=r"views\.mask"):
        world.app.masked_view(resident.personal, actor=SECRETARY)
    statement = world.app.get_dispute(world.dispute_id, actor=AUDITOR).sessions[0].statements[0].text
    with pytest.raises(ValidationError, match="free text"):
        world.app.masked_view(statement, actor=system)
    assert before == stored_count(world.app)
    world.app.erase_resident(world.resident_id, actor=ADMIN, reason="本人申请删除")
    assert world.app.masked_view(resident.personal, actor=system) is None
