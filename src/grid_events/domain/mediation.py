"""The values of a people's mediation case (人民调解): parties, statements, agreements, the register's words.

Everything a person said or is (a party's name, phone, ID number, address;
their statements) is :class:`~grid_events.domain.values.SealedData`, sealed
by the application under the party's own key: the resident's id when the party
is a registered resident (so erasing the resident erases it here too), else a
key made for that party alone. What stays in the clear is what the register
(台账) and an auditor need: kinds, categories, dates, terms of the agreement.

Dates of the register are dates in China (UTC+8): :func:`local_date` turns a
recording time or a session's time into one.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import attrs

from grid_events.domain.checks import (
    aware_validator,
    check_text,
    check_tuple_of,
    date_validator,
    frozenset_validator,
    instance_validator,
    optional_date_validator,
    optional_instance_validator,
    optional_text_validator,
    text_validator,
    tuple_validator,
)
from grid_events.domain.values import EvidenceRef, SealedData
from grid_events.exceptions import ValidationError

__all__ = [
    "CHINA_TIME",
    "Agreement",
    "AgreementForm",
    "AgreementSignature",
    "DisputeCategory",
    "DisputeSource",
    "DisputeStatus",
    "EscalationRisk",
    "FollowUpVisit",
    "InvestigationNote",
    "JudicialConfirmation",
    "MediationSession",
    "Party",
    "PartyKind",
    "PerformanceStatus",
    "PoliceReport",
    "RiskLevel",
    "Route",
    "SignatureMethod",
    "Statement",
    "Term",
    "TermPerformance",
    "TimeLimitExtension",
    "is_party_id",
    "local_date",
]

CHINA_TIME = timezone(timedelta(hours=8), "UTC+08:00")
"""China Standard Time: the calendar every date of the register is counted in."""

_PARTY_ID = re.compile(r"P[1-9]\d{0,2}")


def local_date(moment: datetime) -> date:
    """Return the date in China of the aware datetime *moment*."""
    return moment.astimezone(CHINA_TIME).date()


def is_party_id(text: str) -> bool:
    """Return whether *text* has the form of a party id (``P1``, ``P2``…)."""
    return bool(_PARTY_ID.fullmatch(text))


def _check_party_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    text = check_text(attribute.name, value, max_length=8)
    if not is_party_id(text):
        raise ValidationError(attribute.name, f"{value!r} is not a party id like 'P1', 'P2'…")


def _check_text_items(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    for index, item in enumerate(check_tuple_of(attribute.name, value, str)):
        check_text(f"{attribute.name}[{index}]", item, max_length=500)


# -- the words of the register ------------------------------------------------------


class DisputeSource(enum.StrEnum):
    """How the dispute came to the committee (人民调解法 Art. 17, 18)."""

    PARTY_APPLICATION = "party_application"
    """当事人申请: a party applied."""
    OWN_INITIATIVE = "own_initiative"
    """主动调解: the committee stepped in on its own initiative."""
    POLICE_REFERRAL = "police_referral"
    """公安移送: referred by a police station."""
    COURT_ENTRUSTMENT = "court_entrustment"
    """法院委托: entrusted by a court."""
    GOVERNMENT_ASSIGNMENT = "government_assignment"
    """政府交办: assigned by the sub-district or another government body."""


REFERRED_SOURCES = frozenset(
    {DisputeSource.POLICE_REFERRAL, DisputeSource.COURT_ENTRUSTMENT, DisputeSource.GOVERNMENT_ASSIGNMENT}
)
"""Sources that come with a document (移送函, 委托函, 交办单) whose reference must be recorded."""


class DisputeCategory(enum.StrEnum):
    """What the dispute is about, as the register counts it."""

    NEIGHBOUR = "neighbour"
    """邻里纠纷."""
    FAMILY = "family"
    """家庭纠纷 (support of parents and children, inheritance)."""
    MARRIAGE = "marriage"
    """婚姻纠纷."""
    PROPERTY_MANAGEMENT = "property_management"
    """物业纠纷."""
    CONSUMER = "consumer"
    """消费纠纷: a shop and its customer."""
    LABOUR = "labour"
    """劳动纠纷 (wages of casual work)."""
    DAMAGES = "damages"
    """损害赔偿纠纷."""
    LAND = "land"
    """土地、宅基地纠纷."""
    OTHER = "other"
    """其他."""


class DisputeStatus(enum.StrEnum):
    """Where the case stands."""

    RECEIVED = "received"
    """Registered, not yet accepted or declined."""
    DECLINED = "declined"
    """Not accepted for mediation (final)."""
    ACCEPTED = "accepted"
    """Accepted: the one-month clock runs; no session yet."""
    MEDIATING = "mediating"
    """At least one mediation session was held."""
    REFUSED = "refused"
    """A party clearly refused mediation (Art. 17, 26): only the failure can be recorded."""
    AGREEMENT_DRAFTED = "agreement_drafted"
    """An agreement was drafted and is waiting for its signatures."""
    AGREED = "agreed"
    """The agreement took effect: performance, follow-up and judicial confirmation."""
    FAILED = "failed"
    """Mediation ended without agreement; the other routes were explained."""
    CLOSED = "closed"
    """The file is closed (final)."""


MEDIATING_STATES = frozenset({DisputeStatus.ACCEPTED, DisputeStatus.MEDIATING, DisputeStatus.AGREEMENT_DRAFTED})
"""States in which mediation is going on, and the one-month limit applies."""

FINAL_STATES = frozenset({DisputeStatus.DECLINED, DisputeStatus.CLOSED})
"""States in which nothing more can be recorded."""


class PartyKind(enum.StrEnum):
    """Who a party is."""

    RESIDENT = "resident"
    """A resident of the registry (their resident id is the key of their sealed data)."""
    SHOP = "shop"
    """A shop, restaurant or other business, by its owner or manager."""
    ORGANISATION = "organisation"
    """A property-management company, an employer, another organisation."""
    OTHER_PERSON = "other_person"
    """A person who is not in the registry."""


class RiskLevel(enum.StrEnum):
    """How likely the dispute is to escalate (人民调解法 Art. 25)."""

    LOW = "low"
    """Tension, no sign of violence."""
    MEDIUM = "medium"
    """Signs the dispute may escalate: targeted preventive steps needed."""
    HIGH = "high"
    """May lead to a public-security or criminal case: it must be reported to the police."""


class Route(enum.StrEnum):
    """The other ways to pursue one's rights, to be explained when mediation fails (Art. 26)."""

    ARBITRATION = "arbitration"
    """仲裁 (e.g. labour arbitration)."""
    ADMINISTRATIVE = "administrative"
    """行政: a complaint to or decision by an administrative body."""
    LITIGATION = "litigation"
    """诉讼: a lawsuit."""


class AgreementForm(enum.StrEnum):
    """Whether the agreement is a written document or oral (Art. 28)."""

    WRITTEN = "written"
    """调解协议书: takes effect when every party and the mediator have signed (Art. 29)."""
    ORAL = "oral"
    """口头调解协议: the mediator records it; takes effect when every party has agreed (Art. 30)."""


class SignatureMethod(enum.StrEnum):
    """How a signer agreed to the agreement (Art. 29: 签名、盖章或者按指印)."""

    SIGNATURE = "signature"
    """签名."""
    SEAL = "seal"
    """盖章: a personal or company seal."""
    FINGERPRINT = "fingerprint"
    """按指印."""
    ORAL_CONSENT = "oral_consent"
    """Consent to an oral agreement, recorded by the mediator (Art. 30)."""


PARTY_WRITTEN_METHODS = frozenset({SignatureMethod.SIGNATURE, SignatureMethod.SEAL, SignatureMethod.FINGERPRINT})
"""How a party may sign a written agreement."""


class PerformanceStatus(enum.StrEnum):
    """How far the agreement has been performed, as found on a follow-up visit."""

    FULLY = "fully"
    """全部履行."""
    PARTLY = "partly"
    """部分履行."""
    NOT_PERFORMED = "not_performed"
    """未履行."""


# -- parties and what they said -------------------------------------------------------


@attrs.frozen
class Party:
    """A party to the dispute; who they are is sealed under their own key.

    A RESIDENT party names its *resident_id*, and its *details* are sealed
    under that resident's key; other parties have no resident id and a key of
    their own (the subject of *details*).
    """

    party_id: str = attrs.field(validator=_check_party_id)
    kind: PartyKind = attrs.field(validator=instance_validator(PartyKind))
    resident_id: UUID | None = attrs.field(validator=optional_instance_validator(UUID))
    details: SealedData = attrs.field(validator=instance_validator(SealedData))

    def __attrs_post_init__(self) -> None:
        if self.kind is PartyKind.RESIDENT:
            if self.resident_id is None:
                raise ValidationError("resident_id", "a resident party must name the resident")
            if self.details.subject_id != self.resident_id:
                raise ValidationError("details", "a resident party's details must be sealed under the resident's key")
        elif self.resident_id is not None:
            raise ValidationError("resident_id", f"only a resident party names a resident, not a {self.kind.value}")

    @property
    def subject_id(self) -> UUID:
        """The key this party's personal data (details, statements) is sealed under."""
        return self.details.subject_id


@attrs.frozen
class Statement:
    """What one party said at a session, sealed under that party's key."""

    party_id: str = attrs.field(validator=_check_party_id)
    text: SealedData = attrs.field(validator=instance_validator(SealedData))


@attrs.frozen
class MediationSession:
    """One mediation session, recorded as Art. 27 asks (调解过程记录在案).

    *attendees* are party ids and the worker ids of the mediators present;
    *statements* are the parties' own words, sealed.
    """

    held_at: datetime = attrs.field(validator=aware_validator)
    place: str = attrs.field(validator=text_validator(200))
    attendees: tuple[str, ...] = attrs.field(validator=[tuple_validator(str, min_length=1), _check_text_items])
    statements: tuple[Statement, ...] = attrs.field(validator=tuple_validator(Statement))
    summary: str = attrs.field(validator=text_validator())
    next_steps: str = attrs.field(validator=optional_text_validator())


# -- the agreement ------------------------------------------------------------------------


@attrs.frozen
class Term:
    """One obligation of the agreement: who does what, by when."""

    text: str = attrs.field(validator=text_validator(1000))
    obligor_party_id: str = attrs.field(validator=_check_party_id)
    due_on: date | None = attrs.field(default=None, validator=optional_date_validator)


@attrs.frozen
class Agreement:
    """A mediation agreement (Art. 28, 29): facts, issues, terms, and how and by when they are performed.

    *facts* and *issues* are the main facts, the points in dispute and each
    party's responsibility; *performance* says how the terms are performed
    (place, manner); *perform_by* is the date by which all of them are due.
    """

    form: AgreementForm = attrs.field(validator=instance_validator(AgreementForm))
    facts: str = attrs.field(validator=text_validator())
    issues: str = attrs.field(validator=text_validator())
    terms: tuple[Term, ...] = attrs.field(validator=tuple_validator(Term, min_length=1))
    performance: str = attrs.field(validator=text_validator(1000))
    perform_by: date | None = attrs.field(default=None, validator=optional_date_validator)

    def __attrs_post_init__(self) -> None:
        if self.perform_by is None:
            return
        for index, term in enumerate(self.terms):
            if term.due_on is not None and term.due_on > self.perform_by:
                raise ValidationError(
                    f"terms[{index}].due_on",
                    f"{term.due_on} is after the agreement's perform-by date {self.perform_by}",
                )

    @property
    def last_due_on(self) -> date | None:
        """The latest date anything of the agreement is due, or None if no date was set."""
        dates = [term.due_on for term in self.terms if term.due_on is not None]
        if self.perform_by is not None:
            dates.append(self.perform_by)
        return max(dates, default=None)


@attrs.frozen
class AgreementSignature:
    """One signature (or oral consent) to the agreement."""

    signer_id: str = attrs.field(validator=text_validator(64))
    signed_on: date = attrs.field(validator=date_validator)
    method: SignatureMethod = attrs.field(validator=instance_validator(SignatureMethod))


# -- the register's other records ------------------------------------------------------------


@attrs.frozen
class InvestigationNote:
    """What the mediator found out (调查核实), sealed under the dispute's own key, with its evidence."""

    note: SealedData = attrs.field(validator=instance_validator(SealedData))
    evidence: tuple[EvidenceRef, ...] = attrs.field(validator=tuple_validator(EvidenceRef))
    noted_on: date = attrs.field(validator=date_validator)


@attrs.frozen
class TimeLimitExtension:
    """The parties agreed that mediation goes on past the one-month limit."""

    previous_deadline: date = attrs.field(validator=date_validator)
    new_deadline: date = attrs.field(validator=date_validator)
    consenting_party_ids: frozenset[str] = attrs.field(validator=frozenset_validator(str))
    reason: str = attrs.field(validator=text_validator())


@attrs.frozen
class EscalationRisk:
    """A risk of escalation and the targeted preventive steps taken (Art. 25)."""

    level: RiskLevel = attrs.field(validator=instance_validator(RiskLevel))
    description: str = attrs.field(validator=text_validator())
    preventive_steps: tuple[str, ...] = attrs.field(validator=[tuple_validator(str, min_length=1), _check_text_items])
    flagged_on: date = attrs.field(validator=date_validator)


@attrs.frozen
class PoliceReport:
    """The dispute was reported to a police station or another authority (Art. 25)."""

    station: str = attrs.field(validator=text_validator(200))
    reason: str = attrs.field(validator=text_validator())
    reported_on: date = attrs.field(validator=date_validator)


@attrs.frozen
class TermPerformance:
    """Whether one term of the agreement was performed (Art. 31 supervision)."""

    term_index: int = attrs.field(validator=instance_validator(int))
    performed: bool = attrs.field(validator=instance_validator(bool))
    note: str = attrs.field(validator=optional_text_validator())
    recorded_on: date = attrs.field(validator=date_validator)


@attrs.frozen
class FollowUpVisit:
    """A follow-up visit (回访): whether the agreement is performed, the parties satisfied, any sign of escalation."""

    visited_on: date = attrs.field(validator=date_validator)
    performance: PerformanceStatus = attrs.field(validator=instance_validator(PerformanceStatus))
    satisfied: bool = attrs.field(validator=instance_validator(bool))
    escalation_signs: bool = attrs.field(validator=instance_validator(bool))
    note: str = attrs.field(validator=optional_text_validator())


@attrs.frozen
class JudicialConfirmation:
    """The parties' joint application to a court to confirm the agreement (Art. 33), and its outcome."""

    court: str = attrs.field(validator=text_validator(200))
    applied_on: date = attrs.field(validator=date_validator)
    applicant_party_ids: frozenset[str] = attrs.field(validator=frozenset_validator(str))
    confirmed: bool | None = attrs.field(default=None, validator=optional_instance_validator(bool))
    decided_on: date | None = attrs.field(default=None, validator=optional_date_validator)
    note: str = attrs.field(default="", validator=optional_text_validator())

    @property
    def is_pending(self) -> bool:
        """Whether the court has not decided yet."""
        return self.confirmed is None


VALUE_TYPES: tuple[type, ...] = (
    DisputeSource,
    DisputeCategory,
    DisputeStatus,
    PartyKind,
    RiskLevel,
    Route,
    AgreementForm,
    SignatureMethod,
    PerformanceStatus,
    Party,
    Statement,
    MediationSession,
    Term,
    Agreement,
    AgreementSignature,
    InvestigationNote,
    TimeLimitExtension,
    EscalationRisk,
    PoliceReport,
    TermPerformance,
    FollowUpVisit,
    JudicialConfirmation,
)
"""The enums and value objects of mediation the codec must know."""
