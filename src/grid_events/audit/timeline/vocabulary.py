"""The words of the timeline: the names of roles, the words for every enum value, labels of fields.

Everything is in Chinese (``zh``, the default) and English (``en``).
:func:`term` names an enum value, :func:`role_name` a role,
:func:`evidence_text` a piece of evidence; :data:`FIELD_LABELS` are the Chinese
labels of an aggregate's attributes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, Literal

from grid_events.domain.inspection import FindingStatus, ItemResult, Severity
from grid_events.domain.mediation import (
    AgreementForm,
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    PartyKind,
    PerformanceStatus,
    RiskLevel,
    Route,
    SignatureMethod,
)
from grid_events.domain.resident import ResidentStatus, ResidentTag
from grid_events.domain.site_shift import BatchStatus, PersonKind, ShiftStatus, SiteKind
from grid_events.domain.task import CallOutcome, EscalationLevel, Priority, ReopenSource, TaskKind, TaskStatus
from grid_events.domain.values import EvidenceKind, EvidenceRef, Role
from grid_events.exceptions import ValidationError

__all__ = [
    "FIELD_LABELS",
    "LANGUAGES",
    "ROLE_NAMES",
    "VOCABULARY",
    "Language",
    "check_language",
    "evidence_text",
    "role_name",
    "term",
]

Language = Literal["zh", "en"]
"""The languages of the timeline: ``"zh"`` (简体中文, the default) and ``"en"``."""

LANGUAGES: Final[tuple[Language, ...]] = ("zh", "en")


def check_language(lang: str) -> Language:
    """Return *lang* if it is ``"zh"`` or ``"en"``; raise :class:`ValidationError` otherwise."""
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    raise ValidationError("lang", f"{lang!r} is not a language of the timeline: choose zh or en")


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


def evidence_text(ref: EvidenceRef, lang: Language = "zh") -> str:
    """Return a piece of evidence in words: ``照片 evidence://… sha256:1a2b3c4d…（后门）``."""
    parts = [term(ref.kind, lang), ref.uri]
    if ref.sha256:
        parts.append(f"sha256:{ref.sha256[:16]}…")
    text = " ".join(parts)
    if ref.description:
        text += f"（{ref.description}）" if lang == "zh" else f" ({ref.description})"
    return text


FIELD_LABELS: Mapping[str, str] = {
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
"""The Chinese label of each attribute of the four aggregates (English uses the attribute's name)."""
