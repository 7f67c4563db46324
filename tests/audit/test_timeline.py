"""The timeline: every event of every aggregate in plain words, Chinese and English, personal data sealed."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

import pytest

from grid_events import Actor, Dispute, GridAggregate, GridApplication, SealedData, Task
from grid_events.audit import (
    AGGREGATE_CLASSES,
    LANGUAGES,
    ROLE_NAMES,
    Language,
    TimelineEntry,
    aggregate_as_of,
    build_timeline,
    describe_case,
    describe_event,
    describe_state,
    event_classes,
    has_phrasing,
    history,
    term,
)
from grid_events.audit.timeline import VOCABULARY, event_type
from grid_events.domain import VALUE_TYPES
from grid_events.domain.values import Role
from grid_events.exceptions import ValidationError

from .histories import TOUR_SECRETS, Clock, tour

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def toured(memory_app: GridApplication, clock: Clock) -> dict[str, UUID]:
    """An in-memory store holding at least one event of every class of the four aggregates."""
    return tour(memory_app, clock)


def all_entries(app: GridApplication, cases: dict[str, UUID], lang: Language) -> Iterator[TimelineEntry]:
    """Yield the timeline entries of every toured case in *lang*."""
    for case_id in cases.values():
        yield from build_timeline(history(app, case_id), lang)


# -- coverage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_class",
    [event_class for aggregate in AGGREGATE_CLASSES for event_class in event_classes(aggregate)],
    ids=event_type,
)
def test_every_event_class_of_the_four_aggregates_has_its_phrasing(event_class: type[GridAggregate.Event]) -> None:
    """A new event class without words in the timeline fails here: add its phrasing to timeline.py."""
    assert has_phrasing(event_class), f"{event_type(event_class)} has no phrasing in grid_events.audit.timeline"


def test_the_aggregates_have_the_events_the_timeline_expects() -> None:
    """The iteration over nested classes finds the events (and not eventsourcing's own)."""
    found = {event_type(event_class) for aggregate in AGGREGATE_CLASSES for event_class in event_classes(aggregate)}

    assert {"Dispute.AgreementSigned", "Task.Reinspected", "Resident.PersonalDataErased", "SiteShift.Closed"} <= found
    assert not any(name.endswith(".Event") for name in found)


@pytest.mark.parametrize(
    "enum_class", [kind for kind in VALUE_TYPES if isinstance(kind, type) and issubclass(kind, enum.Enum)]
)
def test_every_value_of_the_domain_has_its_words_in_both_languages(enum_class: type[enum.Enum]) -> None:
    """No raw code such as ``own_initiative`` shows through in a Chinese timeline."""
    words = VOCABULARY.get(enum_class, {})
    for member in enum_class:
        zh, en = words.get(str(member.value), ("", ""))
        assert CJK.search(zh), f"{enum_class.__name__}.{member.name} has no Chinese word"
        assert en, f"{enum_class.__name__}.{member.name} has no English word"


def test_the_tour_records_every_event_class(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """The scenarios below read a history holding every kind of event."""
    recorded = {type(event) for case_id in toured.values() for event in history(memory_app, case_id)}
    expected = {event_class for aggregate in AGGREGATE_CLASSES for event_class in event_classes(aggregate)}

    assert set() == {event_type(missing) for missing in expected - recorded}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_recorded_event_reads_in_plain_words(
    memory_app: GridApplication, toured: dict[str, UUID], lang: Language
) -> None:
    """Each line has a time in China, who acted in which role, and words of its own (not the fallback)."""
    for entry in all_entries(memory_app, toured, lang):
        assert timedelta(hours=8) == entry.recorded_at.utcoffset()
        assert entry.actor_id
        assert entry.role is not None
        assert entry.role_name == ROLE_NAMES[entry.role][0 if lang == "zh" else 1]
        assert entry.what
        assert not entry.what.startswith(entry.event_type), entry.what
        assert lang == entry.language


# -- personal data ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_timeline_never_shows_personal_data(
    memory_app: GridApplication, toured: dict[str, UUID], lang: Language
) -> None:
    """Names, ID numbers, phones, statements, notes and health details stay sealed, even for an auditor."""
    text = "\n".join(
        f"{entry.what} {entry.why} {' '.join(entry.evidence_texts())}"
        for entry in all_entries(memory_app, toured, lang)
    )

    assert [] == [secret for secret in TOUR_SECRETS if secret in text]


def test_sealed_data_shows_as_placeholders(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """What is sealed is named, so the auditor sees it was recorded without seeing it."""
    zh = {entry.event_type: entry for entry in all_entries(memory_app, toured, "zh")}
    en = {entry.event_type: entry for entry in all_entries(memory_app, toured, "en")}

    assert "P1 [当事人陈述已加密]、P2 [当事人陈述已加密]" in zh["Dispute.SessionRecorded"].what
    assert "P1 [statement sealed], P2 [statement sealed]" in en["Dispute.SessionRecorded"].what
    assert "P1（居民）[当事人信息已加密]" in zh["Dispute.Received"].what
    assert "[调查记录已加密]" in zh["Dispute.InvestigationNoted"].what
    assert "[居民个人信息已加密]" in zh["Resident.Registered"].what
    assert "[健康信息已加密]" in zh["Resident.HomeIsolationStarted"].what
    assert "[受检者信息已加密]" in zh["SiteShift.SampleRecorded"].what
    assert ("[当事人陈述已加密]", "[当事人陈述已加密]") == zh["Dispute.SessionRecorded"].sealed


def test_an_event_class_the_timeline_does_not_know_is_shown_without_opening_its_sealed_data() -> None:
    """A newer library's event reads as its fields, sealed values as placeholders."""

    class Surveyed(GridAggregate.Event):
        answer: SealedData
        district: str

    sealed = SealedData(UUID(int=7), "aes256gcm-v1", bytes(12), b"secret!" * 3)
    make = cast("Callable[..., Surveyed]", Surveyed)  # events are dataclasses: their fields are keywords
    event = make(
        originator_id=UUID(int=1),
        originator_version=1,
        timestamp=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
        actor=Actor("w-li", Role.GRID_WORKER),
        answer=sealed,
        district="江南",
    )

    entry = describe_event(event)

    assert "answer=[个人信息已加密]" in entry.what
    assert "district=江南" in entry.what
    assert "secret" not in entry.what


# -- what the lines say ---------------------------------------------------------------------------------------


def test_a_line_says_who_in_which_role_when_what_why_and_with_what_evidence(
    memory_app: GridApplication, toured: dict[str, UUID]
) -> None:
    """The refusal of a party reads as the register would write it."""
    entries = build_timeline(history(memory_app, toured["refused"]))
    refusal = next(entry for entry in entries if entry.event_type == "Dispute.PartyRefused")
    noted = next(entry for entry in entries if entry.event_type == "Dispute.InvestigationNoted")

    assert "m-chen（调解员）" == refusal.actor_text
    assert "当事人 P2 明确拒绝调解" == refusal.what
    assert "P2 表示不再参加调解" == refusal.why
    assert "2026-11-16 09:00:00" == refusal.time_text  # the tour's clock had moved on by then
    assert ("照片 evidence://2026/11/601-bathroom.jpg sha256:abababababababab…（601-bathroom）",) == (
        noted.evidence_texts()
    )


def test_english_lines_use_english_words(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """Roles, enums and connecting words are English; only what people wrote stays Chinese."""
    entries = build_timeline(history(memory_app, toured["dispute"]), "en")
    risk = next(entry for entry in entries if entry.event_type == "Dispute.EscalationRiskFlagged")
    signed = next(entry for entry in entries if entry.event_type == "Dispute.AgreementSigned")

    assert "m-chen (mediator)" == risk.actor_text
    assert risk.what.startswith("flagged a high risk of escalation: ")
    assert "P1 signed the agreement by signature on 2026-11-04" == signed.what


def test_checklist_items_are_named_by_their_text(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """An item checked reads with the checklist's words, taken from the task's creation."""
    entries = build_timeline(history(memory_app, toured["inspection"]))
    exits = next(entry for entry in entries if entry.event_type == "Task.ItemChecked" and "exits_clear" in entry.what)

    assert "检查项「安全出口、疏散通道畅通，未堵塞、未锁闭」（exits_clear）：不合格" == exits.what


def test_a_reason_holding_markup_is_kept_as_text(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """The timeline keeps what was written; escaping is the exporter's job."""
    cancelled = build_timeline(history(memory_app, toured["cancelled"]))[-1]

    assert "<script>alert('重复任务')</script>" == cancelled.why


def test_an_unknown_language_is_refused(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """Only Chinese and English."""
    with pytest.raises(ValidationError, match="lang"):
        build_timeline(history(memory_app, toured["dispute"]), "fr")  # type: ignore[arg-type]


def test_terms_fall_back_to_the_value_for_an_enum_it_does_not_know() -> None:
    """A value of an enum outside the domain is shown as its value, readable."""

    class Weather(enum.Enum):
        LIGHT_RAIN = "light_rain"

    assert "light rain" == term(Weather.LIGHT_RAIN)
    assert "社区书记" == term(Role.SUPERVISOR)


# -- what a case is, and its state at a moment ------------------------------------------------------------------


def test_a_case_is_described_by_its_first_event(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """Mediation cases by category and summary, inspections by title and place."""
    dispute = describe_case(history(memory_app, toured["dispute"]))
    inspection = describe_case(history(memory_app, toured["inspection"]), "en")

    assert ("dispute", "人民调解案件", "邻里纠纷：楼上卫生间渗水至楼下") == (
        dispute.kind,
        dispute.kind_name,
        dispute.title,
    )
    assert ("inspection", "吴记面馆消防安全检查, 吴记面馆 (飞凤路 18 号)") == (inspection.kind, inspection.title)


@pytest.mark.parametrize("name", ["resident", "survey", "inspection", "dispute", "shift"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_state_at_any_version_reads_in_words_with_personal_data_sealed(
    memory_app: GridApplication, toured: dict[str, UUID], name: str, lang: Language
) -> None:
    """Every version of every toured case renders; no secret shows, whatever the aggregate holds."""
    case_id = toured[name]
    for version in range(1, len(history(memory_app, case_id)) + 1):
        rows = describe_state(aggregate_as_of(memory_app, case_id, version=version), lang)
        text = "\n".join(f"{label} {value}" for label, value in rows)
        assert (str(case_id), str(version)) == (rows[0][1], rows[1][1])
        assert [] == [secret for secret in TOUR_SECRETS if secret in text]


def test_the_state_of_a_dispute_shows_the_register(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """Status, deadline and signatures in the register's words."""
    rows = dict(describe_state(aggregate_as_of(memory_app, toured["dispute"], version=13)))

    assert "协议已生效" == rows["状态"]
    assert "P1（居民）[当事人信息已加密]、P2（其他个人）[当事人信息已加密]" == rows["当事人"]
    assert "P1 签名 2026-11-04、P2 盖章 2026-11-04、调解员 m-chen 签名 2026-11-04" == rows["签署情况"]
    assert "调查记录" in rows
    assert "拒绝情况" not in rows


def test_empty_fields_are_listed_only_when_asked(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """An auditor may ask for every field, with a dash where nothing is recorded yet."""
    dispute = aggregate_as_of(memory_app, toured["declined"], version=1)

    rows = dict(describe_state(dispute, include_empty=True))

    assert "—" == rows["协议生效日期"]


def test_sealed_fields_of_a_resident_show_as_placeholders(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """A resident's record in the clear would defeat its sealing."""
    rows = dict(describe_state(aggregate_as_of(memory_app, toured["resident"], version=1)))

    assert "[居民个人信息已加密]" == rows["个人信息"]


def test_the_mediator_signing_is_named_as_the_mediator(memory_app: GridApplication, toured: dict[str, UUID]) -> None:
    """The mediator's own signature names them as the mediator."""
    entries = build_timeline(history(memory_app, toured["dispute"]))

    assert any(entry.what.startswith("调解员 m-chen 以签名方式签署协议") for entry in entries)
    assert all(isinstance(event, Dispute.Event) for event in history(memory_app, toured["dispute"]))
    assert all(isinstance(event, Task.Event) for event in history(memory_app, toured["survey"]))
