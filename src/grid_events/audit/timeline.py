"""A case's history in plain words: one line per event, in Chinese (the default) or English.

Each :class:`TimelineEntry` says when the event was recorded (China time,
UTC+8), who recorded it and in which role (``调解员``, ``安全员``, ``社区书记``…),
what happened, why (the reason the record gives), and which evidence it cites.

Personal data stays sealed: the timeline never opens a
:class:`~grid_events.domain.values.SealedData`. Where an event holds one (a
party's details, a statement, an investigation note, a resident's record, a
sampled person) the line shows a placeholder such as ``[当事人陈述已加密]``, so
the auditor sees that it was recorded without seeing it.

Every event class of the four aggregates has its phrasing here (a test fails
for any that has none). :func:`describe_state` renders an aggregate as it
stood at some moment (see :func:`grid_events.audit.replay.replay`) in
the same words.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final, Literal, TypeVar, cast
from uuid import UUID

import attrs

from grid_events.domain.base import GridAggregate
from grid_events.domain.dispute import Dispute
from grid_events.domain.inspection import (
    AuthorityReport,
    Finding,
    FindingRecord,
    FindingStatus,
    Inspection,
    ItemCheck,
    ItemResult,
    OwnerReport,
    RectificationOrder,
    Reinspection,
    Severity,
)
from grid_events.domain.mediation import (
    CHINA_TIME,
    Agreement,
    AgreementForm,
    AgreementSignature,
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    EscalationRisk,
    FollowUpVisit,
    InvestigationNote,
    JudicialConfirmation,
    MediationSession,
    Party,
    PartyKind,
    PerformanceStatus,
    PoliceReport,
    RiskLevel,
    Route,
    SignatureMethod,
    Term,
    TermPerformance,
    TimeLimitExtension,
)
from grid_events.domain.resident import Resident, ResidentStatus, ResidentTag
from grid_events.domain.site_shift import (
    Batch,
    BatchRecord,
    BatchStatus,
    PersonKind,
    ShiftStatus,
    Site,
    SiteKind,
    SitePresence,
    SiteShift,
)
from grid_events.domain.task import (
    CallOutcome,
    CallTally,
    EscalationLevel,
    Priority,
    ProgressNote,
    ReopenSource,
    Task,
    TaskKind,
    TaskStatus,
)
from grid_events.domain.values import Actor, EvidenceKind, EvidenceRef, GridCell, Place, Role, SealedData
from grid_events.exceptions import ValidationError

__all__ = [
    "AGGREGATE_CLASSES",
    "LANGUAGES",
    "ROLE_NAMES",
    "VOCABULARY",
    "CaseKind",
    "CaseSummary",
    "Language",
    "TimelineEntry",
    "build_timeline",
    "case_kind",
    "check_language",
    "describe_case",
    "describe_event",
    "describe_state",
    "event_classes",
    "event_type",
    "evidence_text",
    "has_phrasing",
    "role_name",
    "term",
]

Language = Literal["zh", "en"]
"""The languages of the timeline: ``"zh"`` (简体中文, the default) and ``"en"``."""

LANGUAGES: Final[tuple[Language, ...]] = ("zh", "en")

AGGREGATE_CLASSES: Final[tuple[type[GridAggregate], ...]] = (Resident, Task, Dispute, SiteShift)
"""The four aggregates whose histories an auditor reads."""


def check_language(lang: str) -> Language:
    """Return *lang* if it is ``"zh"`` or ``"en"``; raise :class:`ValidationError` otherwise."""
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    raise ValidationError("lang", f"{lang!r} is not a language of the timeline: choose zh or en")


# -- the words ---------------------------------------------------------------------------------

ROLE_NAMES: Final[Mapping[Role, tuple[str, str]]] = {
    Role.GRID_WORKER: ("网格员", "grid worker"),
    Role.MEDIATOR: ("调解员", "mediator"),
    Role.SAFETY_OFFICER: ("安全员", "safety officer"),
    Role.PUBLICITY_OFFICER: ("宣传员", "publicity officer"),
    Role.LIAISON: ("联络员", "liaison"),
    Role.SUPERVISOR: ("社区书记", "community secretary"),
    Role.AUDITOR: ("审计员", "auditor"),
    Role.VOLUNTEER: ("志愿者", "volunteer"),
    Role.ADMINISTRATOR: ("系统管理员", "administrator"),
    Role.SYSTEM: ("系统", "the system"),
}
"""Each role's name in Chinese and English, as the records show it."""

VOCABULARY: Final[Mapping[type[enum.Enum], Mapping[str, tuple[str, str]]]] = {
    Role: {role.value: names for role, names in ROLE_NAMES.items()},
    EvidenceKind: {
        "photo": ("照片", "photo"),
        "document": ("文件", "document"),
        "audio": ("录音", "audio"),
        "video": ("视频", "video"),
        "note": ("记录", "note"),
        "signature": ("签名", "signature"),
    },
    ResidentTag: {
        "elderly_living_alone": ("独居老人", "elderly living alone"),
        "disabled": ("残疾人", "disabled"),
        "minor_under_14": ("未满十四周岁", "minor under 14"),
        "returnee": ("返永人员", "returnee"),
        "needs_care": ("需要关爱", "needs care"),
    },
    ResidentStatus: {
        "living_here": ("在住", "living here"),
        "moved_out": ("已迁出", "moved out"),
        "erased": ("个人信息已删除", "personal data erased"),
    },
    TaskKind: {
        "survey_call": ("流调电话", "survey call"),
        "test_notification": ("通知核酸检测", "test notification"),
        "returnee_verification": ("返永人员核查", "returnee verification"),
        "home_isolation_arrangement": ("居家隔离安排", "home isolation arrangement"),
        "scan_check": ("一扫三查", "one scan, three checks"),
        "fire_inspection": ("消防安全隐患排查", "fire-safety inspection"),
        "gas_electricity_publicity": ("燃气用电安全宣传", "gas and electricity safety publicity"),
        "household_visit": ("入户摸排", "household visit"),
        "errand": ("跑腿代办", "errand"),
        "patrol": ("巡查", "patrol"),
    },
    Priority: {
        "low": ("低", "low"),
        "normal": ("普通", "normal"),
        "high": ("高", "high"),
        "urgent": ("紧急", "urgent"),
    },
    TaskStatus: {
        "created": ("已创建", "created"),
        "assigned": ("已派发", "assigned"),
        "accepted": ("已签收", "accepted"),
        "in_progress": ("办理中", "in progress"),
        "submitted": ("已反馈，待核查", "submitted, awaiting verification"),
        "verified": ("已核查", "verified"),
        "closed": ("已结案", "closed"),
        "cancelled": ("已取消", "cancelled"),
    },
    CallOutcome: {
        "reached": ("已接通", "reached"),
        "not_reached": ("未接通", "not reached"),
        "verified": ("已核实", "verified"),
    },
    EscalationLevel: {
        "community": ("社区督办", "community supervision"),
        "sub_district": ("街道督办", "sub-district supervision"),
        "city": ("市级督办", "city supervision"),
    },
    ReopenSource: {
        "resident_complaint": ("群众投诉", "a resident's complaint"),
        "supervisor": ("督查发现", "a supervisor's check"),
    },
    ItemResult: {
        "pass": ("合格", "passed"),
        "fail": ("不合格", "failed"),
        "not_applicable": ("不适用", "not applicable"),
    },
    Severity: {
        "minor": ("一般隐患", "minor hazard"),
        "major": ("较大隐患", "major hazard"),
        "severe": ("重大隐患", "severe hazard"),
    },
    FindingStatus: {
        "open": ("待整改", "open"),
        "rectifying": ("整改中", "being rectified"),
        "owner_reported": ("业主已报整改，待复查", "owner reports it fixed"),
        "reinspection_failed": ("复查未通过", "re-inspection failed"),
        "rectified": ("已整改", "rectified"),
        "reported": ("已报告主管部门", "reported to the authority"),
    },
    DisputeSource: {
        "party_application": ("当事人申请", "a party's application"),
        "own_initiative": ("主动调解", "the committee's own initiative"),
        "police_referral": ("公安机关移送", "police referral"),
        "court_entrustment": ("人民法院委托", "court entrustment"),
        "government_assignment": ("政府交办", "government assignment"),
    },
    DisputeCategory: {
        "neighbour": ("邻里纠纷", "neighbours' dispute"),
        "family": ("家庭纠纷", "family dispute"),
        "marriage": ("婚姻纠纷", "marriage dispute"),
        "property_management": ("物业纠纷", "property-management dispute"),
        "consumer": ("消费纠纷", "consumer dispute"),
        "labour": ("劳动纠纷", "labour dispute"),
        "damages": ("损害赔偿纠纷", "damages dispute"),
        "land": ("土地、宅基地纠纷", "land dispute"),
        "other": ("其他纠纷", "other dispute"),
    },
    DisputeStatus: {
        "received": ("已登记", "received"),
        "declined": ("不予受理", "declined"),
        "accepted": ("已受理", "accepted"),
        "mediating": ("调解中", "mediating"),
        "refused": ("当事人拒绝调解", "a party refused mediation"),
        "agreement_drafted": ("协议待签署", "agreement awaiting signatures"),
        "agreed": ("协议已生效", "agreement in effect"),
        "failed": ("调解不成", "mediation failed"),
        "closed": ("已结案", "closed"),
    },
    PartyKind: {
        "resident": ("居民", "resident"),
        "shop": ("商户", "shop"),
        "organisation": ("单位", "organisation"),
        "other_person": ("其他个人", "other person"),
    },
    RiskLevel: {
        "low": ("低", "low"),
        "medium": ("中", "medium"),
        "high": ("高", "high"),
    },
    Route: {
        "arbitration": ("仲裁", "arbitration"),
        "administrative": ("行政途径", "administrative route"),
        "litigation": ("诉讼", "litigation"),
    },
    AgreementForm: {
        "written": ("书面协议", "written agreement"),
        "oral": ("口头协议", "oral agreement"),
    },
    SignatureMethod: {
        "signature": ("签名", "signature"),
        "seal": ("盖章", "seal"),
        "fingerprint": ("按指印", "fingerprint"),
        "oral_consent": ("口头同意", "oral consent"),
    },
    PerformanceStatus: {
        "fully": ("全部履行", "fully performed"),
        "partly": ("部分履行", "partly performed"),
        "not_performed": ("未履行", "not performed"),
    },
    SiteKind: {
        "sampling_point": ("核酸采样点", "sampling point"),
        "service_point": ("便民服务点", "service point"),
        "child_care_class": ("平安助苗暑托班", "summer child-care class"),
        "duty_post": ("值守点", "duty post"),
    },
    PersonKind: {
        "worker": ("社区工作者", "worker"),
        "volunteer": ("志愿者", "volunteer"),
    },
    ShiftStatus: {
        "planned": ("计划中", "planned"),
        "open": ("进行中", "open"),
        "closed": ("已结束", "closed"),
        "cancelled": ("已取消", "cancelled"),
    },
    BatchStatus: {
        "sealed": ("已封箱", "sealed"),
        "dispatched": ("已转运", "dispatched"),
        "received": ("实验室已接收", "received by the lab"),
    },
}
"""The Chinese and English words for every value of the domain's enums (by enum, then value)."""


def term(member: enum.Enum, lang: Language = "zh") -> str:
    """Return the word for the enum *member* in *lang* (its value if the vocabulary lacks it)."""
    words = VOCABULARY.get(type(member), {}).get(str(member.value))
    if words is None:
        return str(member.value).replace("_", " ")
    return words[0] if lang == "zh" else words[1]


def role_name(role: Role, lang: Language = "zh") -> str:
    """Return the name of *role* in *lang* (``网格员``, ``mediator``…)."""
    return term(role, lang)


class Sealed(enum.Enum):
    """What a sealed value holds, to say so without opening it."""

    PARTY = ("[当事人信息已加密]", "[party details sealed]")
    STATEMENT = ("[当事人陈述已加密]", "[statement sealed]")
    INVESTIGATION = ("[调查记录已加密]", "[investigation note sealed]")
    RESIDENT = ("[居民个人信息已加密]", "[resident's personal data sealed]")
    HEALTH = ("[健康信息已加密]", "[health details sealed]")
    SAMPLED_PERSON = ("[受检者信息已加密]", "[sampled person's data sealed]")
    OTHER = ("[个人信息已加密]", "[personal data sealed]")


class Words:
    """The words of one language, for phrasing one event; remembers the sealed values it mentioned."""

    def __init__(self, lang: Language, context: _Context) -> None:
        self.lang = lang
        self.context = context
        self.sealed_mentioned: list[str] = []

    @property
    def zh(self) -> bool:
        """Whether the words are Chinese."""
        return self.lang == "zh"

    def __call__(self, zh: str, en: str) -> str:
        """Pick the Chinese or the English text."""
        return zh if self.lang == "zh" else en

    @property
    def sep(self) -> str:
        """The separator of a list."""
        return "、" if self.zh else ", "

    @property
    def semi(self) -> str:
        """The separator of clauses."""
        return "；" if self.zh else "; "

    def term(self, member: enum.Enum) -> str:
        """Return the word for an enum value."""
        return term(member, self.lang)

    def terms(self, members: Iterable[enum.Enum]) -> str:
        """Return the words for several enum values, sorted, or a dash for none."""
        words = sorted(self.term(member) for member in members)
        return self.sep.join(words) if words else self.none

    @property
    def none(self) -> str:
        """What stands for nothing."""
        return self("无", "none")

    def join(self, items: Iterable[str]) -> str:
        """Items joined as a list, or a dash for none."""
        listed = [item for item in items if item]
        return self.sep.join(listed) if listed else self.none

    @staticmethod
    def day(value: date | None) -> str:
        """Return a date, ISO (``2026-11-02``), or a dash."""
        return value.isoformat() if value is not None else "—"

    @staticmethod
    def moment(value: datetime | None) -> str:
        """Return a moment in China time (``2026-11-02 09:30``), or a dash."""
        if value is None:
            return "—"
        return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")

    def yes_no(self, value: bool, zh: tuple[str, str], en: tuple[str, str]) -> str:
        """Pick the first word of the pair when *value* is true, the second otherwise."""
        pair = zh if self.zh else en
        return pair[0] if value else pair[1]

    def sealed(self, kind: Sealed) -> str:
        """Return a placeholder for a sealed value (never its content)."""
        text = kind.value[0] if self.zh else kind.value[1]
        self.sealed_mentioned.append(text)
        return text

    def quoted(self, text: str) -> str:
        """Text quoted in the language's quotation marks."""
        return f"「{text}」" if self.zh else f"“{text}”"

    def note(self, label_zh: str, label_en: str, text: str) -> str:
        """Return a labelled clause (``；备注：…``), or nothing when *text* is empty."""
        if not text.strip():
            return ""
        return f"{self.semi}{self(label_zh, label_en)}{self(f'：{text}', f': {text}')}"

    def signer(self, signer_id: str) -> str:
        """Return a signer: a party id as it is, a worker id as the mediator."""
        if signer_id.startswith("P") and signer_id[1:].isdigit():
            return signer_id
        return self(f"调解员 {signer_id}", f"mediator {signer_id}")

    def item(self, code: str | None) -> str:
        """Return a checklist item by its text (from the task's checklist) and code."""
        if code is None:
            return self("检查表外", "outside the checklist")
        text = self.context.checklist.get(code)
        if not text:
            return self.quoted(code)
        return f"{self.quoted(text)}（{code}）" if self.zh else f"{code} ({text})"

    @staticmethod
    def grid(cell: GridCell) -> str:
        """Return a grid cell by its code (``江南/飞凤/03``)."""
        return cell.code

    def place(self, place: Place | None) -> str:
        """Return a place by name and address."""
        if place is None:
            return self.none
        return f"{place.name}（{place.address}）" if self.zh else f"{place.name} ({place.address})"


@attrs.define
class _Context:
    """What earlier events of the case told: the checklist's items, the parties."""

    checklist: dict[str, str] = attrs.field(factory=dict)
    mediator_id: str | None = None

    def learn(self, event: GridAggregate.Event) -> None:
        if isinstance(event, Task.Created):
            self.checklist = {item.code: item.text for item in event.checklist}
        elif isinstance(event, Dispute.MediatorAssigned):
            self.mediator_id = event.mediator_id


@attrs.frozen
class Said:
    """What a phrasing says of one event: what happened, and why."""

    what: str
    why: str = ""


E = TypeVar("E", bound=GridAggregate.Event)
Phrasing = Callable[[Any, Words], Said]

_PHRASINGS: dict[type[GridAggregate.Event], Phrasing] = {}


def _says(event_class: type[E]) -> Callable[[Callable[[E, Words], Said]], Callable[[E, Words], Said]]:
    def register(function: Callable[[E, Words], Said]) -> Callable[[E, Words], Said]:
        _PHRASINGS[event_class] = function
        return function

    return register


def has_phrasing(event_class: type[GridAggregate.Event]) -> bool:
    """Return whether the timeline has words for *event_class* (every event of the domain should)."""
    return event_class in _PHRASINGS


def event_classes(aggregate_class: type[GridAggregate]) -> tuple[type[GridAggregate.Event], ...]:
    """Return the event classes nested in *aggregate_class* that its commands record.

    eventsourcing adds an ``Event`` base to every aggregate class, and a
    ``Created`` one too when the aggregate names its first event otherwise
    (``Dispute.Received``); neither is ever recorded, so neither is returned.
    """
    nested = {
        name: value
        for name, value in vars(aggregate_class).items()
        if isinstance(value, type) and issubclass(value, GridAggregate.Event) and name != "Event"
    }
    named_creation = any(
        issubclass(value, GridAggregate.Created) for name, value in nested.items() if name != "Created"
    )
    return tuple(value for name, value in nested.items() if not (name == "Created" and named_creation))


def event_type(event: GridAggregate.Event | type[GridAggregate.Event]) -> str:
    """Return an event's type as the records name it: ``Dispute.AgreementSigned``."""
    cls = event if isinstance(event, type) else type(event)
    return cls.__qualname__


# -- residents ------------------------------------------------------------------------------


@_says(Resident.Registered)
def _registered(e: Resident.Registered, w: Words) -> Said:
    moved_in = w(f"，迁入日期 {w.day(e.moved_in_on)}", f", moved in on {w.day(e.moved_in_on)}") if e.moved_in_on else ""
    return Said(
        w(
            f"登记居民，所属网格 {w.grid(e.grid)}，标签：{w.terms(e.tags)}{moved_in}；"
            f"个人信息 {w.sealed(Sealed.RESIDENT)}",
            f"registered the resident in grid {w.grid(e.grid)}, tags: {w.terms(e.tags)}{moved_in}; "
            f"personal data {w.sealed(Sealed.RESIDENT)}",
        )
    )


@_says(Resident.PersonalDataCorrected)
def _corrected(e: Resident.PersonalDataCorrected, w: Words) -> Said:
    return Said(
        w(f"更正居民个人信息 {w.sealed(Sealed.RESIDENT)}", f"corrected the personal data {w.sealed(Sealed.RESIDENT)}"),
        e.reason,
    )


@_says(Resident.Tagged)
def _tagged(e: Resident.Tagged, w: Words) -> Said:
    return Said(w(f"添加标签{w.quoted(w.term(e.tag))}", f"tagged {w.quoted(w.term(e.tag))}"), e.reason)


@_says(Resident.Untagged)
def _untagged(e: Resident.Untagged, w: Words) -> Said:
    return Said(w(f"移除标签{w.quoted(w.term(e.tag))}", f"removed the tag {w.quoted(w.term(e.tag))}"), e.reason)


@_says(Resident.Transferred)
def _transferred(e: Resident.Transferred, w: Words) -> Said:
    return Said(w(f"转入网格 {w.grid(e.grid)}", f"transferred to grid {w.grid(e.grid)}"), e.reason)


@_says(Resident.MovedOut)
def _moved_out(e: Resident.MovedOut, w: Words) -> Said:
    return Said(w(f"迁出社区，迁出日期 {w.day(e.moved_out_on)}", f"moved out on {w.day(e.moved_out_on)}"), e.reason)


@_says(Resident.MovedIn)
def _moved_in(e: Resident.MovedIn, w: Words) -> Said:
    return Said(
        w(
            f"迁回社区，所属网格 {w.grid(e.grid)}，迁入日期 {w.day(e.moved_in_on)}",
            f"moved back in to grid {w.grid(e.grid)} on {w.day(e.moved_in_on)}",
        )
    )


@_says(Resident.HomeIsolationStarted)
def _isolation_started(e: Resident.HomeIsolationStarted, w: Words) -> Said:
    details = f"{w.semi}{w('原因', 'reason')} {w.sealed(Sealed.HEALTH)}" if e.details is not None else ""
    return Said(
        w(
            f"安排居家隔离，{w.day(e.starts_on)} 至 {w.day(e.ends_on)}{details}",
            f"arranged home isolation from {w.day(e.starts_on)} to {w.day(e.ends_on)}{details}",
        )
    )


@_says(Resident.HomeIsolationEnded)
def _isolation_ended(e: Resident.HomeIsolationEnded, w: Words) -> Said:
    return Said(
        w(f"结束居家隔离，结束日期 {w.day(e.ended_on)}", f"ended home isolation on {w.day(e.ended_on)}"), e.reason
    )


@_says(Resident.PersonalDataErased)
def _erased(e: Resident.PersonalDataErased, w: Words) -> Said:
    ref = w.note("申请编号", "request", e.request_ref)
    return Said(
        w(
            f"应本人申请删除个人信息（密钥已销毁，此前加密的信息无法再读取）{ref}",
            f"erased the personal data on request (key destroyed: what was sealed can no longer be read){ref}",
        ),
        e.reason,
    )


# -- tasks ---------------------------------------------------------------------------------------


@_says(Task.Created)
def _task_created(e: Task.Created, w: Words) -> Said:
    parts = [
        w(
            f"创建任务{w.quoted(e.title)}：{w.term(e.kind)}，网格 {w.grid(e.grid)}，优先级 {w.term(e.priority)}",
            f"created the task {w.quoted(e.title)}: {w.term(e.kind)} in grid {w.grid(e.grid)}, "
            f"{w.term(e.priority)} priority",
        )
    ]
    if e.due_at is not None:
        parts.append(w(f"办理期限 {w.moment(e.due_at)}", f"due {w.moment(e.due_at)}"))
    if e.place is not None:
        parts.append(w(f"地点 {w.place(e.place)}", f"at {w.place(e.place)}"))
    if e.resident_id is not None:
        parts.append(w(f"关联居民 {e.resident_id}", f"for resident {e.resident_id}"))
    if e.checklist:
        parts.append(
            w(
                f"检查表{w.quoted(e.checklist_name)}（{len(e.checklist)} 项）",
                f"checklist {w.quoted(e.checklist_name)} ({len(e.checklist)} items)",
            )
        )
    return Said(w.semi.join(parts) + w.note("说明", "description", e.description))


@_says(Task.Assigned)
def _assigned(e: Task.Assigned, w: Words) -> Said:
    due = w(f"，办理期限 {w.moment(e.due_at)}", f", due {w.moment(e.due_at)}") if e.due_at else ""
    return Said(w(f"派发给 {e.assignee}{due}", f"assigned to {e.assignee}{due}"))


@_says(Task.Reassigned)
def _reassigned(e: Task.Reassigned, w: Words) -> Said:
    due = w(f"，办理期限 {w.moment(e.due_at)}", f", due {w.moment(e.due_at)}") if e.due_at else ""
    return Said(
        w(
            f"由 {e.previous_assignee} 改派给 {e.assignee}{due}",
            f"reassigned from {e.previous_assignee} to {e.assignee}{due}",
        ),
        e.reason,
    )


@_says(Task.Rescheduled)
def _rescheduled(e: Task.Rescheduled, w: Words) -> Said:
    return Said(w(f"办理期限改为 {w.moment(e.due_at)}", f"moved the deadline to {w.moment(e.due_at)}"), e.reason)


@_says(Task.Accepted)
def _task_accepted(_: Task.Accepted, w: Words) -> Said:
    return Said(w("签收任务", "accepted the task"))


@_says(Task.Started)
def _started(_: Task.Started, w: Words) -> Said:
    return Said(w("开始办理", "started the work"))


@_says(Task.ProgressRecorded)
def _progress(e: Task.ProgressRecorded, w: Words) -> Said:
    return Said(w(f"记录办理进展：{e.note}", f"recorded progress: {e.note}"))


@_says(Task.CallRecorded)
def _call(e: Task.CallRecorded, w: Words) -> Said:
    return Said(
        w(f"拨打流调电话：{w.term(e.outcome)}", f"made a survey call: {w.term(e.outcome)}")
        + w.note("备注", "note", e.note)
    )


@_says(Task.Submitted)
def _submitted(e: Task.Submitted, w: Words) -> Said:
    return Said(w(f"反馈办理结果，提交核查：{e.summary}", f"submitted the work for verification: {e.summary}"))


@_says(Task.Verified)
def _verified(e: Task.Verified, w: Words) -> Said:
    return Said(w("核查通过", "verified the work") + w.note("核查意见", "note", e.note))


@_says(Task.SentBack)
def _sent_back(e: Task.SentBack, w: Words) -> Said:
    return Said(w("核查不通过，退回重办", "sent the work back as not done"), e.reason)


@_says(Task.Closed)
def _task_closed(e: Task.Closed, w: Words) -> Said:
    return Said(w("结案", "closed the task") + w.note("备注", "note", e.note))


@_says(Task.Evaluated)
def _evaluated(e: Task.Evaluated, w: Words) -> Said:
    return Said(
        w(f"评价 {e.rating} 分（满分 5 分）", f"rated the work {e.rating} out of 5")
        + w.note("评语", "comment", e.comment)
    )


@_says(Task.Escalated)
def _escalated(e: Task.Escalated, w: Words) -> Said:
    return Said(w(f"督办：{w.term(e.level)}", f"escalated: {w.term(e.level)}"), e.reason)


@_says(Task.Cancelled)
def _task_cancelled(e: Task.Cancelled, w: Words) -> Said:
    return Said(w("取消任务", "cancelled the task"), e.reason)


@_says(Task.Reopened)
def _reopened(e: Task.Reopened, w: Words) -> Said:
    due = w(f"，新的办理期限 {w.moment(e.due_at)}", f", now due {w.moment(e.due_at)}") if e.due_at else ""
    return Said(
        w(
            f"重新打开任务（{w.term(e.source)}），退回原承办人{due}",
            f"reopened the task ({w.term(e.source)}); back to its assignee{due}",
        ),
        e.reason,
    )


@_says(Task.ItemChecked)
def _item_checked(e: Task.ItemChecked, w: Words) -> Said:
    return Said(
        w(f"检查项{w.item(e.code)}：{w.term(e.result)}", f"checked {w.item(e.code)}: {w.term(e.result)}")
        + w.note("说明", "note", e.note)
    )


@_says(Task.FindingRecorded)
def _finding(e: Task.FindingRecorded, w: Words) -> Said:
    f = e.finding
    return Said(
        w(
            f"发现隐患 {f.finding_id}（{w.term(f.severity)}）：{f.description}；位置：{f.location}；"
            f"发现日期 {w.day(f.found_on)}；检查项：{w.item(f.item_code)}",
            f"found hazard {f.finding_id} ({w.term(f.severity)}): {f.description}; where: {f.location}; "
            f"found on {w.day(f.found_on)}; item: {w.item(f.item_code)}",
        )
    )


@_says(Task.RectificationOrdered)
def _ordered(e: Task.RectificationOrdered, w: Words) -> Said:
    return Said(
        w(
            f"就隐患 {e.finding_id} 送达第 {e.order_number} 份整改通知书，送达日期 {w.day(e.notice_served_on)}，"
            f"整改期限 {w.day(e.deadline)}",
            f"served rectification notice {e.order_number} for hazard {e.finding_id} on "
            f"{w.day(e.notice_served_on)}, to be fixed by {w.day(e.deadline)}",
        )
    )


@_says(Task.OwnerReported)
def _owner_reported(e: Task.OwnerReported, w: Words) -> Said:
    return Said(
        w(
            f"业主报告隐患 {e.finding_id} 已整改（第 {e.order_number} 份通知书），报告日期 {w.day(e.reported_on)}",
            f"the owner reported hazard {e.finding_id} fixed (notice {e.order_number}) on {w.day(e.reported_on)}",
        )
        + w.note("说明", "note", e.note)
    )


@_says(Task.Reinspected)
def _reinspected(e: Task.Reinspected, w: Words) -> Said:
    outcome = w.yes_no(e.passed, ("通过", "未通过"), ("passed", "failed"))
    return Said(
        w(
            f"复查隐患 {e.finding_id}（第 {e.order_number} 份通知书），复查日期 {w.day(e.inspected_on)}：{outcome}",
            f"re-inspected hazard {e.finding_id} (notice {e.order_number}) on {w.day(e.inspected_on)}: {outcome}",
        )
        + w.note("说明", "note", e.note)
    )


@_says(Task.ReportedToAuthority)
def _reported_to_authority(e: Task.ReportedToAuthority, w: Words) -> Said:
    return Said(
        w(
            f"将隐患 {w.join(e.finding_ids)} 报告{e.authority}，报告日期 {w.day(e.reported_on)}",
            f"reported hazard(s) {w.join(e.finding_ids)} to {e.authority} on {w.day(e.reported_on)}",
        ),
        e.reason,
    )


# -- disputes ----------------------------------------------------------------------------------


def _party(party: Party, w: Words) -> str:
    kind = w(f"（{w.term(party.kind)}）", f" ({w.term(party.kind)}) ")
    return f"{party.party_id}{kind}{w.sealed(Sealed.PARTY)}"


@_says(Dispute.Received)
def _received(e: Dispute.Received, w: Words) -> Said:
    referral = w.note("来文", "document", e.referral_ref)
    parties = w.join(_party(party, w) for party in e.parties)
    return Said(
        w(
            f"登记纠纷：{w.term(e.category)}，来源：{w.term(e.source)}{referral}；收到日期 {w.day(e.received_on)}；"
            f"网格 {w.grid(e.grid)}；当事人：{parties}；概要：{e.summary}",
            f"received a {w.term(e.category)} by {w.term(e.source)}{referral}; received on {w.day(e.received_on)}; "
            f"grid {w.grid(e.grid)}; parties: {parties}; summary: {e.summary}",
        )
    )


@_says(Dispute.Accepted)
def _dispute_accepted(e: Dispute.Accepted, w: Words) -> Said:
    return Said(
        w(
            f"受理调解，受理日期 {w.day(e.accepted_on)}，调解期限至 {w.day(e.deadline)}",
            f"accepted the dispute for mediation on {w.day(e.accepted_on)}; to end by {w.day(e.deadline)}",
        )
    )


@_says(Dispute.Declined)
def _declined(e: Dispute.Declined, w: Words) -> Said:
    return Said(w("不予受理", "declined the dispute"), e.reason)


@_says(Dispute.MediatorAssigned)
def _mediator_assigned(e: Dispute.MediatorAssigned, w: Words) -> Said:
    return Said(w(f"指定调解员 {e.mediator_id}", f"assigned the mediator {e.mediator_id}"), e.reason)


@_says(Dispute.InvestigationNoted)
def _investigation(_: Dispute.InvestigationNoted, w: Words) -> Said:
    sealed = w.sealed(Sealed.INVESTIGATION)
    return Said(w(f"记录调查核实情况 {sealed}", f"noted the investigation {sealed}"))


@_says(Dispute.SessionRecorded)
def _session(e: Dispute.SessionRecorded, w: Words) -> Said:
    statements = w.join(f"{statement.party_id} {w.sealed(Sealed.STATEMENT)}" for statement in e.statements)
    return Said(
        w(
            f"召开调解会，时间 {w.moment(e.held_at)}，地点 {e.place}；参加人员：{w.join(e.attendees)}；"
            f"当事人陈述：{statements}；调解情况：{e.summary}",
            f"held a mediation session at {w.moment(e.held_at)} in {e.place}; attending: {w.join(e.attendees)}; "
            f"statements: {statements}; summary: {e.summary}",
        )
        + w.note("下一步", "next steps", e.next_steps)
    )


@_says(Dispute.TimeLimitExtended)
def _extended(e: Dispute.TimeLimitExtended, w: Words) -> Said:
    consenting = w.join(sorted(e.consenting_party_ids))
    return Said(
        w(
            f"经当事人 {consenting} 同意，调解期限延长至 {w.day(e.new_deadline)}",
            f"extended the time limit to {w.day(e.new_deadline)} with the consent of {consenting}",
        ),
        e.reason,
    )


@_says(Dispute.EscalationRiskFlagged)
def _risk(e: Dispute.EscalationRiskFlagged, w: Words) -> Said:
    return Said(
        w(
            f"发现矛盾激化风险（{w.term(e.level)}）：{e.description}；预防措施：{w.join(e.preventive_steps)}",
            f"flagged a {w.term(e.level)} risk of escalation: {e.description}; "
            f"preventive steps: {w.join(e.preventive_steps)}",
        )
    )


@_says(Dispute.ReportedToPolice)
def _police(e: Dispute.ReportedToPolice, w: Words) -> Said:
    return Said(w(f"向 {e.station} 报告", f"reported the dispute to {e.station}"), e.reason)


@_says(Dispute.PartyRefused)
def _refused(e: Dispute.PartyRefused, w: Words) -> Said:
    return Said(w(f"当事人 {e.party_id} 明确拒绝调解", f"party {e.party_id} clearly refused mediation"), e.note)


def _term(index: int, term_: Term, w: Words) -> str:
    due = w(f"，{w.day(term_.due_on)} 前", f", by {w.day(term_.due_on)}") if term_.due_on else ""
    return w(
        f"{index}. {term_.text}（{term_.obligor_party_id} 履行{due}）",
        f"{index}. {term_.text} ({term_.obligor_party_id}{due})",
    )


@_says(Dispute.AgreementDrafted)
def _drafted(e: Dispute.AgreementDrafted, w: Words) -> Said:
    a = e.agreement
    terms = " ".join(_term(index, term_, w) for index, term_ in enumerate(a.terms, 1))
    perform_by = (
        w(f"；履行期限 {w.day(a.perform_by)}", f"; to be performed by {w.day(a.perform_by)}") if a.perform_by else ""
    )
    return Said(
        w(
            f"起草{w.term(a.form)}：事实：{a.facts}；争议事项：{a.issues}；条款：{terms}；履行方式：{a.performance}"
            f"{perform_by}",
            f"drafted a {w.term(a.form)}: facts: {a.facts}; issues: {a.issues}; terms: {terms}; "
            f"performance: {a.performance}{perform_by}",
        )
    )


@_says(Dispute.AgreementSigned)
def _signed(e: Dispute.AgreementSigned, w: Words) -> Said:
    return Said(
        w(
            f"{w.signer(e.signer_id)} 以{w.term(e.method)}方式签署协议，日期 {w.day(e.signed_on)}",
            f"{w.signer(e.signer_id)} signed the agreement by {w.term(e.method)} on {w.day(e.signed_on)}",
        )
    )


@_says(Dispute.AgreementTookEffect)
def _took_effect(e: Dispute.AgreementTookEffect, w: Words) -> Said:
    return Said(
        w(f"调解协议生效，生效日期 {w.day(e.effective_on)}", f"the agreement took effect on {w.day(e.effective_on)}")
    )


@_says(Dispute.MediationFailed)
def _failed(e: Dispute.MediationFailed, w: Words) -> Said:
    routes = w.terms(e.routes_explained)
    return Said(
        w(f"调解不成；已告知当事人可通过以下途径维权：{routes}", f"mediation failed; other routes explained: {routes}"),
        e.reason,
    )


@_says(Dispute.PerformanceRecorded)
def _performance(e: Dispute.PerformanceRecorded, w: Words) -> Said:
    done = w.yes_no(e.performed, ("已履行", "未履行"), ("performed", "not performed"))
    return Said(
        w(f"协议第 {e.term_index + 1} 项条款：{done}", f"term {e.term_index + 1} of the agreement: {done}")
        + w.note("说明", "note", e.note)
    )


@_says(Dispute.FollowUpRecorded)
def _follow_up(e: Dispute.FollowUpRecorded, w: Words) -> Said:
    satisfied = w.yes_no(e.satisfied, ("满意", "不满意"), ("satisfied", "not satisfied"))
    signs = w.yes_no(e.escalation_signs, ("有激化迹象", "无激化迹象"), ("signs of escalation", "no sign of escalation"))
    return Said(
        w(
            f"回访，日期 {w.day(e.visited_on)}：{w.term(e.performance)}，当事人{satisfied}，{signs}",
            f"follow-up visit on {w.day(e.visited_on)}: {w.term(e.performance)}, parties {satisfied}, {signs}",
        )
        + w.note("说明", "note", e.note)
    )


@_says(Dispute.JudicialConfirmationApplied)
def _judicial_applied(e: Dispute.JudicialConfirmationApplied, w: Words) -> Said:
    applicants = w.join(sorted(e.applicant_party_ids))
    return Said(
        w(
            f"当事人 {applicants} 向{e.court}申请司法确认，申请日期 {w.day(e.applied_on)}",
            f"{applicants} applied to {e.court} for judicial confirmation on {w.day(e.applied_on)}",
        )
    )


@_says(Dispute.JudicialConfirmationDecided)
def _judicial_decided(e: Dispute.JudicialConfirmationDecided, w: Words) -> Said:
    outcome = w.yes_no(
        e.confirmed, ("确认调解协议有效", "不予确认"), ("confirmed the agreement", "refused to confirm it")
    )
    return Said(
        w(f"法院{outcome}，日期 {w.day(e.decided_on)}", f"the court {outcome} on {w.day(e.decided_on)}")
        + w.note("说明", "note", e.note)
    )


@_says(Dispute.Closed)
def _dispute_closed(e: Dispute.Closed, w: Words) -> Said:
    return Said(w(f"结案：{e.summary}", f"closed the file: {e.summary}"))


# -- site shifts ------------------------------------------------------------------------------------


def _counts(counts: Mapping[str, int], w: Words) -> str:
    return w.join(f"{item} {count}" for item, count in sorted(counts.items()))


@_says(SiteShift.Planned)
def _planned(e: SiteShift.Planned, w: Words) -> Said:
    s = e.site
    return Said(
        w(
            f"计划班次：{s.name}（{w.term(s.kind)}，{s.address}），{w.moment(e.planned_start)} 至 "
            f"{w.moment(e.planned_end)}，负责人 {e.lead_id}",
            f"planned a shift at {s.name} ({w.term(s.kind)}, {s.address}) from {w.moment(e.planned_start)} to "
            f"{w.moment(e.planned_end)}, led by {e.lead_id}",
        )
    )


@_says(SiteShift.Opened)
def _opened(e: SiteShift.Opened, w: Words) -> Said:
    cordon = w.yes_no(e.cordon_set_up, ("已设警戒线", "未设警戒线"), ("cordon set up", "no cordon"))
    disinfected = w.yes_no(e.disinfected, ("已消毒", "未消毒"), ("disinfected", "not disinfected"))
    return Said(
        w(
            f"开点，时间 {w.moment(e.opened_at)}；{cordon}，{disinfected}；物资：{_counts(e.supplies, w)}",
            f"opened the site at {w.moment(e.opened_at)}; {cordon}, {disinfected}; supplies: {_counts(e.supplies, w)}",
        )
    )


@_says(SiteShift.Cancelled)
def _shift_cancelled(e: SiteShift.Cancelled, w: Words) -> Said:
    return Said(w("取消班次", "cancelled the shift"), e.reason)


@_says(SiteShift.PersonCheckedIn)
def _checked_in(e: SiteShift.PersonCheckedIn, w: Words) -> Said:
    return Said(
        w(
            f"{e.person_id}（{w.term(e.kind)}，{w.term(e.role)}）到岗，时间 {w.moment(e.checked_in_at)}",
            f"{e.person_id} ({w.term(e.kind)}, {w.term(e.role)}) checked in at {w.moment(e.checked_in_at)}",
        )
    )


@_says(SiteShift.PersonCheckedOut)
def _checked_out(e: SiteShift.PersonCheckedOut, w: Words) -> Said:
    return Said(
        w(
            f"{e.person_id} 离岗，时间 {w.moment(e.checked_out_at)}",
            f"{e.person_id} checked out at {w.moment(e.checked_out_at)}",
        )
    )


@_says(SiteShift.SuppliesCounted)
def _counted(e: SiteShift.SuppliesCounted, w: Words) -> Said:
    difference = e.counted - e.expected
    return Said(
        w(
            f"清点物资{w.quoted(e.item)}：实有 {e.counted}，账面 {e.expected}（差 {difference:+d}）",
            f"counted {w.quoted(e.item)}: {e.counted} on hand, {e.expected} on record ({difference:+d})",
        )
    )


@_says(SiteShift.SuppliesUsed)
def _used(e: SiteShift.SuppliesUsed, w: Words) -> Said:
    return Said(w(f"使用物资{w.quoted(e.item)} {e.quantity}", f"used {e.quantity} of {w.quoted(e.item)}"))


@_says(SiteShift.SuppliesRestocked)
def _restocked(e: SiteShift.SuppliesRestocked, w: Words) -> Said:
    return Said(w(f"补充物资{w.quoted(e.item)} {e.quantity}", f"restocked {e.quantity} of {w.quoted(e.item)}"))


@_says(SiteShift.PeopleSampled)
def _sampled(e: SiteShift.PeopleSampled, w: Words) -> Said:
    return Said(w(f"采样人数增加 {e.count}", f"{e.count} more people sampled"))


@_says(SiteShift.SampleRecorded)
def _sample(e: SiteShift.SampleRecorded, w: Words) -> Said:
    person = w.sealed(Sealed.SAMPLED_PERSON)
    return Said(
        w(
            f"登记样本 {e.sample_id}，试管 {e.tube_no}；受检者 {person}",
            f"recorded sample {e.sample_id} in tube {e.tube_no}; person {person}",
        )
    )


@_says(SiteShift.BatchSealed)
def _batch_sealed(e: SiteShift.BatchSealed, w: Words) -> Said:
    b = e.batch
    return Said(
        w(
            f"封箱批次 {b.batch_no}：{b.tube_count} 管，封箱时间 {w.moment(b.sealed_at)}",
            f"sealed batch {b.batch_no}: {b.tube_count} tubes at {w.moment(b.sealed_at)}",
        )
    )


@_says(SiteShift.BatchDispatched)
def _dispatched(e: SiteShift.BatchDispatched, w: Words) -> Said:
    return Said(
        w(
            f"批次 {e.batch_no} 交 {e.carrier} 转运，时间 {w.moment(e.dispatched_at)}",
            f"handed batch {e.batch_no} to {e.carrier} at {w.moment(e.dispatched_at)}",
        )
    )


@_says(SiteShift.BatchReceived)
def _batch_received(e: SiteShift.BatchReceived, w: Words) -> Said:
    return Said(
        w(
            f"{e.lab}接收批次 {e.batch_no}：{e.tubes_received} 管，时间 {w.moment(e.received_at)}",
            f"{e.lab} received batch {e.batch_no}: {e.tubes_received} tubes at {w.moment(e.received_at)}",
        )
    )


@_says(SiteShift.HandedOver)
def _handed_over(e: SiteShift.HandedOver, w: Words) -> Said:
    return Said(
        w(f"交接班：{e.from_lead_id} 交给 {e.to_lead_id}", f"handed over from {e.from_lead_id} to {e.to_lead_id}")
        + w.note("交接事项", "handover note", e.note)
    )


@_says(SiteShift.Closed)
def _shift_closed(e: SiteShift.Closed, w: Words) -> Said:
    return Said(
        w(
            f"结束班次，时间 {w.moment(e.closed_at)}，最终采样人数 {e.final_tally}",
            f"closed the shift at {w.moment(e.closed_at)} with a final tally of {e.final_tally}",
        )
    )


# -- the timeline ------------------------------------------------------------------------------------


@attrs.frozen
class TimelineEntry:
    """One event of a case in plain words."""

    aggregate_id: UUID
    version: int
    recorded_at: datetime
    """When the event was recorded, in China time (UTC+8)."""
    event_type: str
    """The event's class as the records name it (``Dispute.AgreementSigned``)."""
    actor_id: str
    role: Role | None
    role_name: str
    what: str
    why: str
    evidence: tuple[EvidenceRef, ...]
    sealed: tuple[str, ...]
    """Placeholders of the sealed personal data the event holds (never the data)."""
    language: Language

    @property
    def time_text(self) -> str:
        """The recording time as the auditors read it: ``2026-11-02 09:00:00``."""
        return self.recorded_at.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def actor_text(self) -> str:
        """Who acted and in which role: ``m-chen（调解员）``."""
        return (
            f"{self.actor_id}（{self.role_name}）" if self.language == "zh" else f"{self.actor_id} ({self.role_name})"
        )

    def evidence_texts(self) -> tuple[str, ...]:
        """Each piece of evidence in words: kind, where it is, its SHA-256 and description."""
        return tuple(evidence_text(ref, self.language) for ref in self.evidence)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data with stable keys."""
        return {
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "event_type": self.event_type,
            "actor_id": self.actor_id,
            "role": self.role.value if self.role is not None else None,
            "role_name": self.role_name,
            "what": self.what,
            "why": self.why,
            "evidence": [
                {"kind": ref.kind.value, "uri": ref.uri, "sha256": ref.sha256, "description": ref.description}
                for ref in self.evidence
            ],
            "sealed": list(self.sealed),
        }


def evidence_text(ref: EvidenceRef, lang: Language = "zh") -> str:
    """Return a piece of evidence in words: ``照片 evidence://… sha256:1a2b3c4d…（后门）``."""
    parts = [term(ref.kind, lang), ref.uri]
    if ref.sha256:
        parts.append(f"sha256:{ref.sha256[:16]}…")
    text = " ".join(parts)
    if ref.description:
        text += f"（{ref.description}）" if lang == "zh" else f" ({ref.description})"
    return text


def _evidence(event: GridAggregate.Event) -> tuple[EvidenceRef, ...]:
    """Every evidence reference an event cites, wherever in its fields it is."""
    found: list[EvidenceRef] = []
    for value in vars(event).values():
        if isinstance(value, EvidenceRef):
            found.append(value)
        elif isinstance(value, Finding):
            found.extend(value.evidence)
        elif isinstance(value, tuple):
            found.extend(item for item in value if isinstance(item, EvidenceRef))
    return tuple(found)


def _fallback(event: GridAggregate.Event, w: Words) -> Said:
    """Words for an event class the timeline does not know (a newer version of the library wrote it)."""
    fields = w.join(
        f"{name}={_value_text(value, w)}"
        for name, value in sorted(vars(event).items())
        if name not in {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}
    )
    return Said(w(f"{event_type(event)}：{fields}", f"{event_type(event)}: {fields}"))


def _actor(event: GridAggregate.Event) -> tuple[str, Role | None]:
    actor = getattr(event, "actor", None)
    if isinstance(actor, Actor):
        return actor.worker_id, actor.role
    return "?", None


def describe_event(event: GridAggregate.Event, lang: Language = "zh") -> TimelineEntry:
    """Return one event in plain words in *lang* (personal data stays sealed).

    Out of its history, the event is phrased without what earlier events
    told (a checklist item is named by its code only): prefer
    :func:`build_timeline` for a whole case.
    """
    return _describe(event, check_language(lang), _Context())


def _describe(event: GridAggregate.Event, lang: Language, context: _Context) -> TimelineEntry:
    words = Words(lang, context)
    phrasing = _PHRASINGS.get(type(event), _fallback)
    said = phrasing(event, words)
    actor_id, role = _actor(event)
    return TimelineEntry(
        aggregate_id=event.originator_id,
        version=event.originator_version,
        recorded_at=event.timestamp.astimezone(CHINA_TIME),
        event_type=event_type(event),
        actor_id=actor_id,
        role=role,
        role_name=role_name(role, lang) if role is not None else words("未知", "unknown"),
        what=said.what,
        why=said.why,
        evidence=_evidence(event),
        sealed=tuple(words.sealed_mentioned),
        language=lang,
    )


def build_timeline(events: Iterable[GridAggregate.Event], lang: Language = "zh") -> list[TimelineEntry]:
    """Return a case's events (oldest first, as :func:`~grid_events.audit.replay.history` gives them) in words."""
    lang = check_language(lang)
    context = _Context()
    entries = []
    for event in events:
        context.learn(event)
        entries.append(_describe(event, lang, context))
    return entries


# -- what a case is ------------------------------------------------------------------------------------

CaseKind = Literal["dispute", "inspection", "task", "resident", "site_shift"]


def case_kind(events: Sequence[GridAggregate.Event]) -> CaseKind:
    """Return what the history is of: a dispute, an inspection, another task, a resident or a site shift."""
    if not events:
        raise ValidationError("events", "an empty history is no case")
    first = events[0]
    if isinstance(first, Task.Created):
        return "inspection" if first.checklist else "task"
    owner = type(first).__qualname__.split(".", maxsplit=1)[0]
    kinds: dict[str, CaseKind] = {
        "Dispute": "dispute",
        "Task": "task",
        "Resident": "resident",
        "SiteShift": "site_shift",
    }
    if owner not in kinds:
        raise ValidationError("events", f"{event_type(first)} is not an event of a case")
    return kinds[owner]


@attrs.frozen
class CaseSummary:
    """What a case is, in a line: its kind and a title."""

    case_id: UUID
    kind: CaseKind
    kind_name: str
    title: str
    opened_at: datetime
    """When its first event was recorded (China time)."""


_KIND_NAMES: Mapping[str, tuple[str, str]] = {
    "dispute": ("人民调解案件", "people's mediation case"),
    "inspection": ("检查任务", "inspection"),
    "task": ("任务", "task"),
    "resident": ("居民档案", "resident record"),
    "site_shift": ("站点班次", "site shift"),
}


def describe_case(events: Sequence[GridAggregate.Event], lang: Language = "zh") -> CaseSummary:
    """Return what the case of *events* is, from its first event."""
    lang = check_language(lang)
    kind = case_kind(events)
    first = events[0]
    w = Words(lang, _Context())
    title = event_type(first)
    if isinstance(first, Dispute.Received):
        title = f"{w.term(first.category)}：{first.summary}" if w.zh else f"{w.term(first.category)}: {first.summary}"
    elif isinstance(first, Task.Created):
        title = first.title
        if first.place is not None:
            title += w(f"，{w.place(first.place)}", f", {w.place(first.place)}")
    elif isinstance(first, Resident.Registered):
        title = w(f"居民（网格 {w.grid(first.grid)}）", f"resident (grid {w.grid(first.grid)})")
    elif isinstance(first, SiteShift.Planned):
        title = f"{first.site.name}（{w.moment(first.planned_start)}）"
    names = _KIND_NAMES[kind]
    return CaseSummary(
        case_id=first.originator_id,
        kind=kind,
        kind_name=names[0] if lang == "zh" else names[1],
        title=title,
        opened_at=first.timestamp.astimezone(CHINA_TIME),
    )


# -- the state at a moment ---------------------------------------------------------------------------

_FIELD_LABELS: Mapping[str, str] = {
    # every aggregate
    "status": "状态",
    "grid": "网格",
    "summary": "概要",
    # residents
    "personal": "个人信息",
    "tags": "标签",
    "moved_in_on": "迁入日期",
    "moved_out_on": "迁出日期",
    "isolation": "居家隔离",
    "past_isolations": "以往隔离",
    # tasks and inspections
    "kind": "类型",
    "title": "标题",
    "description": "说明",
    "priority": "优先级",
    "due_at": "办理期限",
    "place": "地点",
    "resident_id": "关联居民",
    "created_by": "创建人",
    "inspection": "检查情况",
    "assignee": "承办人",
    "assigned_at": "派发时间",
    "accepted_at": "签收时间",
    "started_at": "开始时间",
    "submitted_at": "反馈时间",
    "verified_by": "核查人",
    "verified_at": "核查时间",
    "closed_at": "结案时间",
    "cancelled_at": "取消时间",
    "cancel_reason": "取消原因",
    "rating": "评分",
    "rating_comment": "评语",
    "escalation_level": "督办级别",
    "escalation_count": "督办次数",
    "escalated_at": "督办时间",
    "reopen_count": "重新打开次数",
    "sent_back_count": "退回次数",
    "calls": "通话统计",
    "progress": "办理进展",
    # disputes
    "source": "来源",
    "category": "纠纷类别",
    "parties": "当事人",
    "received_on": "收到日期",
    "referral_ref": "来文编号",
    "accepted_on": "受理日期",
    "deadline": "调解期限",
    "decline_reason": "不予受理原因",
    "mediator_id": "调解员",
    "past_mediator_ids": "原调解员",
    "investigation_notes": "调查记录",
    "sessions": "调解会",
    "extensions": "延期",
    "risks": "激化风险",
    "police_reports": "向公安报告",
    "police_report_due": "须报告公安",
    "refused_by": "拒绝调解的当事人",
    "refusal_note": "拒绝情况",
    "agreement": "调解协议",
    "agreement_drafted_on": "协议起草日期",
    "signatures": "签署情况",
    "effective_on": "协议生效日期",
    "failure_reason": "调解不成原因",
    "routes_explained": "已告知的途径",
    "failed_on": "调解终结日期",
    "performance_records": "履行记录",
    "follow_ups": "回访",
    "judicial": "司法确认",
    "closing_summary": "结案摘要",
    "closed_from": "结案前状态",
    "closed_on": "结案日期",
    # site shifts
    "site": "站点",
    "planned_start": "计划开始",
    "planned_end": "计划结束",
    "lead_id": "负责人",
    "opened_at": "开点时间",
    "cordon_set_up": "警戒线",
    "disinfected": "消毒",
    "supplies": "物资",
    "low_thresholds": "物资预警线",
    "supply_discrepancies": "物资差异",
    "on_site": "在岗人员",
    "tally": "采样人数",
    "samples_recorded": "样本登记数",
    "batches": "批次",
    "last_sealed_at": "最近封箱",
    "last_activity_at": "最近活动",
    "final_tally": "最终采样人数",
}

_SEALED_FIELDS: Mapping[str, Sealed] = {"personal": Sealed.RESIDENT}


def _value_text(value: object, w: Words, hint: Sealed = Sealed.OTHER) -> str:  # noqa: C901, PLR0911, PLR0912 (one branch a kind of value)
    """Return any value of the domain in words, sealed values as placeholders."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return w("是", "yes") if value else w("否", "no")
    if isinstance(value, enum.Enum):
        return w.term(value)
    if isinstance(value, datetime):
        return w.moment(value)
    if isinstance(value, date):
        return w.day(value)
    if isinstance(value, SealedData):
        return w.sealed(hint)  # never opened: only that it is there
    if isinstance(value, Actor):
        return f"{value.worker_id}（{w.term(value.role)}）" if w.zh else f"{value.worker_id} ({w.term(value.role)})"
    if isinstance(value, GridCell):
        return value.code
    if isinstance(value, Place):
        return w.place(value)
    if isinstance(value, EvidenceRef):
        return evidence_text(value, w.lang)
    special = _SPECIAL_VALUES.get(type(value))
    if special is not None:
        return special(value, w)
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_value_text(item, w, hint) for item in value]
        if isinstance(value, (frozenset, set)):
            items.sort()
        return w.join(items)
    if isinstance(value, dict):
        return w.join(f"{key}: {_value_text(item, w, hint)}" for key, item in sorted(value.items()))
    if attrs.has(type(value)):
        fields = attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))
        return w.join(f"{field.name}={_value_text(getattr(value, field.name), w, hint)}" for field in fields)
    return str(value)


def _inspection_text(value: Inspection, w: Words) -> str:
    checks = w.join(_check_text(check, w) for check in value.checks)
    findings = w.join(_finding_record_text(record, w) for record in value.findings)
    return w(
        f"{value.template_name}：{checks}；隐患：{findings}", f"{value.template_name}: {checks}; hazards: {findings}"
    )


def _check_text(check: ItemCheck, w: Words) -> str:
    result = w.term(check.result) if check.result is not None else w("未检查", "not checked")
    return f"{check.item.code} {result}"


def _finding_record_text(record: FindingRecord, w: Words) -> str:
    f = record.finding
    order = record.current_order
    deadline = w(f"，整改期限 {w.day(order.deadline)}", f", due {w.day(order.deadline)}") if order else ""
    return (
        f"{f.finding_id}（{w.term(f.severity)}，{w.term(record.status)}{deadline}）"
        if w.zh
        else (f"{f.finding_id} ({w.term(f.severity)}, {w.term(record.status)}{deadline})")
    )


def _party_text(value: Party, w: Words) -> str:
    return _party(value, w)


def _session_text(value: MediationSession, w: Words) -> str:
    sealed = w.join(f"{statement.party_id} {w.sealed(Sealed.STATEMENT)}" for statement in value.statements)
    return w(
        f"{w.moment(value.held_at)} {value.place}（{w.join(value.attendees)}；陈述 {sealed}）",
        f"{w.moment(value.held_at)} {value.place} ({w.join(value.attendees)}; statements {sealed})",
    )


def _agreement_text(value: Agreement, w: Words) -> str:
    terms = " ".join(_term(index, term_, w) for index, term_ in enumerate(value.terms, 1))
    return f"{w.term(value.form)}：{terms}" if w.zh else f"{w.term(value.form)}: {terms}"


def _investigation_text(value: InvestigationNote, w: Words) -> str:
    return f"{w.day(value.noted_on)} {w.sealed(Sealed.INVESTIGATION)}"


def _signature_text(value: AgreementSignature, w: Words) -> str:
    return f"{w.signer(value.signer_id)} {w.term(value.method)} {w.day(value.signed_on)}"


def _extension_text(value: TimeLimitExtension, w: Words) -> str:
    consenting = w.join(sorted(value.consenting_party_ids))
    return f"{w.day(value.previous_deadline)} → {w.day(value.new_deadline)}（{consenting}）"


def _risk_text(value: EscalationRisk, w: Words) -> str:
    return f"{w.day(value.flagged_on)} {w.term(value.level)}: {value.description}"


def _police_text(value: PoliceReport, w: Words) -> str:
    return f"{w.day(value.reported_on)} {value.station}"


def _performance_text(value: TermPerformance, w: Words) -> str:
    done = w.yes_no(value.performed, ("已履行", "未履行"), ("performed", "not performed"))
    return f"{value.term_index + 1}: {done}（{w.day(value.recorded_on)}）"


def _visit_text(value: FollowUpVisit, w: Words) -> str:
    return f"{w.day(value.visited_on)} {w.term(value.performance)}"


def _judicial_text(value: JudicialConfirmation, w: Words) -> str:
    if value.confirmed is None:
        outcome = w("待法院决定", "awaiting the court")
    else:
        outcome = w.yes_no(value.confirmed, ("已确认", "不予确认"), ("confirmed", "not confirmed"))
    return (
        f"{value.court} {w.day(value.applied_on)}：{outcome}"
        if w.zh
        else f"{value.court} {w.day(value.applied_on)}: {outcome}"
    )


def _calls_text(value: CallTally, w: Words) -> str:
    return w(
        f"共 {value.total}：接通 {value.reached}，未接通 {value.not_reached}，核实 {value.verified}",
        f"{value.total} in all: {value.reached} reached, {value.not_reached} not reached, {value.verified} verified",
    )


def _progress_text(value: ProgressNote, w: Words) -> str:
    return f"{w.moment(value.recorded_at)} {value.recorded_by}: {value.note}"


def _site_text(value: Site, w: Words) -> str:
    return (
        f"{value.name}（{w.term(value.kind)}，{value.address}）"
        if w.zh
        else f"{value.name} ({w.term(value.kind)}, {value.address})"
    )


def _presence_text(value: SitePresence, w: Words) -> str:
    return f"{w.term(value.kind)} {w.term(value.role)} {w.moment(value.checked_in_at)}"


def _batch_text(value: BatchRecord, w: Words) -> str:
    return f"{value.batch_no}: {value.batch.tube_count} {w.term(value.status)}"


def _plain_batch_text(value: Batch, w: Words) -> str:
    return f"{value.batch_no}: {value.tube_count} {w.moment(value.sealed_at)}"


def _order_text(value: RectificationOrder, w: Words) -> str:
    return f"{value.number}: {w.day(value.notice_served_on)} → {w.day(value.deadline)}"


def _owner_report_text(value: OwnerReport, w: Words) -> str:
    return f"{value.order_number}: {w.day(value.reported_on)}"


def _reinspection_text(value: Reinspection, w: Words) -> str:
    outcome = w.yes_no(value.passed, ("通过", "未通过"), ("passed", "failed"))
    return f"{value.order_number}: {w.day(value.inspected_on)} {outcome}"


def _authority_text(value: AuthorityReport, w: Words) -> str:
    return f"{value.authority} {w.day(value.reported_on)}"


_SPECIAL_VALUES: Mapping[type, Callable[[Any, Words], str]] = {
    Inspection: _inspection_text,
    FindingRecord: _finding_record_text,
    ItemCheck: _check_text,
    Party: _party_text,
    MediationSession: _session_text,
    Agreement: _agreement_text,
    InvestigationNote: _investigation_text,
    AgreementSignature: _signature_text,
    TimeLimitExtension: _extension_text,
    EscalationRisk: _risk_text,
    PoliceReport: _police_text,
    TermPerformance: _performance_text,
    FollowUpVisit: _visit_text,
    JudicialConfirmation: _judicial_text,
    CallTally: _calls_text,
    ProgressNote: _progress_text,
    Site: _site_text,
    SitePresence: _presence_text,
    BatchRecord: _batch_text,
    Batch: _plain_batch_text,
    RectificationOrder: _order_text,
    OwnerReport: _owner_report_text,
    Reinspection: _reinspection_text,
    AuthorityReport: _authority_text,
}


def describe_state(
    aggregate: GridAggregate, lang: Language = "zh", *, include_empty: bool = False
) -> list[tuple[str, str]]:
    """Return an aggregate's state as (label, value) pairs in *lang*; personal data stays sealed.

    The first pairs say which case, at which version and as of when; then
    every attribute the aggregate has, in the order it sets them (those with
    no value yet only if *include_empty*).
    """
    lang = check_language(lang)
    w = Words(lang, _Context())
    rows = [
        (w("案件编号", "case"), str(aggregate.id)),
        (w("版本", "version"), str(aggregate.version)),
        (w("最后记录时间", "last recorded"), w.moment(aggregate.modified_on)),
    ]
    for name, value in vars(aggregate).items():
        if name.startswith("_"):
            continue
        label = _FIELD_LABELS.get(name, name) if lang == "zh" else name.replace("_", " ")
        if _is_empty(value):
            if include_empty:
                rows.append((label, "—"))
            continue
        rows.append((label, _value_text(value, w, _SEALED_FIELDS.get(name, Sealed.OTHER))))
    return rows


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, (str, tuple, frozenset, dict)) and not value)
