"""The privacy record of one data subject: every look at their data in full, and its erasure.

Each person whose data is sealed (a resident, a sampled person, a party to a
dispute; a dispute's own investigation file) has a :class:`DataSubject`
aggregate, created the first time it has something to record. Its events live
in the event store like any other, so the audit hash chain covers who saw whose
data, and the outbox publishes them. They carry no personal data in the clear:
the subject is named by its random id, the fields seen by name only, and the
purpose given is sealed under the subject's own key (free text might identify
someone), so it is erased with everything else.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import attrs

from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import check_instance, check_optional_text, check_text, check_tuple_of
from grid_events.domain.values import Actor, SealedData
from grid_events.exceptions import InvalidTransitionError, ValidationError

__all__ = ["VALUE_TYPES", "AccessRecord", "DataSubject", "PrivacyHistory", "data_subject_id"]

_NAMESPACE = UUID("6f1c1f52-43a4-4c55-9d8e-4b1f6a0e2f17")


def data_subject_id(subject_id: UUID) -> UUID:
    """Return the id of the :class:`DataSubject` aggregate of *subject_id* (derived, so never looked up)."""
    return uuid.uuid5(_NAMESPACE, subject_id.hex)


class DataSubject(GridAggregate):
    """The privacy record of the person (or file) whose data is sealed under key *subject_id*."""

    KIND = "data_subject"

    class Opened(GridAggregate.Created):
        """The record was opened, the first time something about the subject had to be recorded."""

        subject_id: UUID

    class PersonalDataViewed(GridAggregate.Event):
        """Someone saw the subject's personal data in full (PIPL Art. 45, 51, 55).

        *record_kind*, *record_id* and *item* say where the data was read
        (``resident``; ``dispute_party`` of a dispute, party ``P1``; ``sample``
        of a shift, ``S3``…); *fields* name what was shown; *purpose* is the
        reason given, sealed under the subject's key.
        """

        record_kind: str
        record_id: UUID
        item: str
        fields: tuple[str, ...]
        purpose: SealedData

        def apply(self, aggregate: DataSubject) -> None:
            """Count the view."""
            aggregate.views += 1
            aggregate.last_viewed_at = self.timestamp

    class Erased(GridAggregate.Event):
        """The subject's personal data was erased (PIPL Art. 47): their key is destroyed right after."""

        reason: str
        request_ref: str

        def apply(self, aggregate: DataSubject) -> None:
            """Mark the subject erased."""
            aggregate.erased_at = self.timestamp

    def __init__(self, subject_id: UUID) -> None:
        self.subject_id = subject_id
        self.views = 0
        self.last_viewed_at: datetime | None = None
        self.erased_at: datetime | None = None

    @property
    def is_erased(self) -> bool:
        """Whether the erasure of the subject's data was recorded."""
        return self.erased_at is not None

    @classmethod
    def open(cls, subject_id: UUID, *, actor: Actor, at: datetime | None = None) -> DataSubject:
        """Open the record of *subject_id*."""
        check_instance("subject_id", subject_id, UUID)
        return cls._create_with(
            cls.Opened, aggregate_id=data_subject_id(subject_id), actor=actor, at=at, subject_id=subject_id
        )

    def record_view(
        self,
        *,
        record_kind: str,
        record_id: UUID,
        item: str,
        fields: tuple[str, ...],
        purpose: SealedData,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record that *actor* saw *fields* of the subject's data in full, for the sealed *purpose*."""
        self._check_not_erased("record a view")
        check_text("record_kind", record_kind, max_length=32)
        check_instance("record_id", record_id, UUID)
        check_optional_text("item", item, max_length=32)
        check_tuple_of("fields", fields, str, min_length=1)
        check_instance("purpose", purpose, SealedData)
        if purpose.subject_id != self.subject_id:
            raise ValidationError("purpose", "must be sealed under the subject's own key")
        self._trigger(
            self.PersonalDataViewed,
            actor=actor,
            at=at,
            record_kind=record_kind,
            record_id=record_id,
            item=item,
            fields=fields,
            purpose=purpose,
        )

    def erase(self, *, actor: Actor, reason: str, request_ref: str = "", at: datetime | None = None) -> None:
        """Record the erasure of the subject's data (the caller destroys the key right after)."""
        self._check_not_erased("erase")
        check_text("reason", reason)
        check_optional_text("request_ref", request_ref, max_length=200)
        self._trigger(self.Erased, actor=actor, at=at, reason=reason, request_ref=request_ref)

    def _check_not_erased(self, command: str) -> None:
        if self.erased_at is not None:
            raise InvalidTransitionError(self.KIND, self.subject_id, "erased", command, "the data was erased")


@attrs.frozen
class AccessRecord:
    """One look at a subject's personal data in full, as the access history reports it.

    *purpose* is None once the subject's data was erased (it was sealed with it).
    """

    at: datetime
    actor: Actor
    record_kind: str
    record_id: UUID
    item: str
    fields: tuple[str, ...]
    purpose: str | None


@attrs.frozen
class PrivacyHistory:
    """What happened to one data subject's personal data: every look in full, and its erasure."""

    subject_id: UUID
    views: tuple[AccessRecord, ...]
    erased: bool
    """Whether the subject's key is destroyed: nothing sealed under it can be read any more."""
    erased_at: datetime | None = None
    erased_by: Actor | None = None
    erasure_reason: str = ""


VALUE_TYPES: tuple[type, ...] = ()
"""The events and state of :class:`DataSubject` hold only types the codec knows already."""
