"""Commands and queries of data protection: erasure of any data subject, access histories, the master key."""

from __future__ import annotations

from uuid import UUID

from grid_events.application.core import ApplicationCore
from grid_events.domain.checks import check_instance
from grid_events.domain.resident import Resident
from grid_events.domain.values import Actor, SealedData
from grid_events.exceptions import AggregateNotFoundError, PersonalDataErasedError, ValidationError
from grid_events.privacy.access import AccessRecord, DataSubject, PrivacyHistory, data_subject_id
from grid_events.privacy.keyring import KEY_RING_ID, KeyRing
from grid_events.privacy.keystore import KEY_BYTES, master_key_id
from grid_events.privacy.permissions import Right, requires
from grid_events.privacy.personal import (
    MaskedPartyDetails,
    MaskedPersonalData,
    MaskedSampledPerson,
    PartyDetails,
    PersonalData,
    SampledPerson,
)

__all__ = ["PrivacyCommands"]


class PrivacyCommands(ApplicationCore):
    """Erasure by subject id, who saw whose data (PIPL Art. 45, 47, 55), master key rotation (Art. 51)."""

    @requires(Right.SUBJECT_ERASE)
    def erase_subject(self, subject_id: UUID, *, actor: Actor, reason: str, request_ref: str = "") -> None:
        """Erase everything sealed under the key of *subject_id* (PIPL Art. 47).

        *subject_id* is a resident's id (then this is :meth:`erase_resident`),
        the subject of a party to a dispute or of a sample record who is not a
        registered resident (see ``Party.subject_id``, or use
        :meth:`erase_dispute_party` and :meth:`erase_sampled_person`), or a
        dispute's id (its investigation notes). The erasure is recorded in the
        subject's privacy record, then the key is destroyed; calling this again
        destroys it again and records nothing more.
        """
        self._erase_subject(subject_id, actor=actor, reason=reason, request_ref=request_ref)

    @requires(Right.AUDIT_READ)
    def privacy_history(self, subject_id: UUID, *, actor: Actor) -> PrivacyHistory:  # noqa: ARG002 (checked by @requires)
        """Return every look at *subject_id*'s personal data in full, and its erasure (PIPL Art. 45, 55).

        The purposes given are read back while the subject's data exists, and
        are None once it is erased (they were sealed with it).
        """
        check_instance("subject_id", subject_id, UUID)
        record_id = data_subject_id(subject_id)
        events = list(self.events.get(record_id))
        if not events and not self.vault.keystore.exists(subject_id):
            raise AggregateNotFoundError("data subject", subject_id)
        views: list[AccessRecord] = []
        erasure: DataSubject.Erased | Resident.PersonalDataErased | None = None
        for event in events:
            if isinstance(event, DataSubject.PersonalDataViewed):
                views.append(
                    AccessRecord(
                        at=event.timestamp,
                        actor=event.actor,
                        record_kind=event.record_kind,
                        record_id=event.record_id,
                        item=event.item,
                        fields=event.fields,
                        purpose=self._open_purpose(event),
                    )
                )
            elif isinstance(event, DataSubject.Erased):
                erasure = event
        if erasure is None:
            erasure = next(
                (event for event in self.events.get(subject_id) if isinstance(event, Resident.PersonalDataErased)),
                None,
            )
        return PrivacyHistory(
            subject_id=subject_id,
            views=tuple(views),
            erased=self.vault.is_erased(subject_id),
            erased_at=None if erasure is None else erasure.timestamp,
            erased_by=None if erasure is None else erasure.actor,
            erasure_reason="" if erasure is None else erasure.reason,
        )

    def _open_purpose(self, event: DataSubject.PersonalDataViewed) -> str | None:
        try:
            purpose = self.vault.open(event.purpose)
        except PersonalDataErasedError:
            return None
        return purpose if isinstance(purpose, str) else None

    @requires(Right.KEYS_ROTATE)
    def rotate_master_key(self, new_key: bytes, *, actor: Actor) -> int:
        """Re-wrap every data subject's key under *new_key*, in one transaction; return how many.

        The rotation is recorded (by the master keys' public ids, never the
        keys). Stop every other process using the store first, and restart
        them with the new key: a process still holding the old one can no
        longer read any key. Destroyed keys stay destroyed.
        """
        check_instance("new_key", new_key, bytes)
        if len(new_key) != KEY_BYTES:
            raise ValidationError("new_key", f"must be {KEY_BYTES} bytes (AES-256), not {len(new_key)}")
        keystore = self.vault.keystore
        old_id = keystore.master_key_id
        if master_key_id(new_key) == old_id:
            raise ValidationError("new_key", "is the master key in use: make a new one (grid-events keys new)")
        count = keystore.rewrap(new_key)
        try:
            ring = self.load(KeyRing, KEY_RING_ID)
        except AggregateNotFoundError:
            ring = KeyRing.start(old_id, actor=actor, at=self.now())
        ring.record_rotation(old_id, keystore.master_key_id, count, actor=actor, at=self.now())
        self.save(ring)
        return count

    @requires(Right.VIEWS_MASK)
    def masked_view(
        self,
        sealed: SealedData,
        *,
        actor: Actor,  # noqa: ARG002 (checked by @requires)
    ) -> MaskedPersonalData | MaskedPartyDetails | MaskedSampledPerson | None:
        """Return the masked view of a sealed person record (as events carry it), or None once erased.

        For the service's read models, built by the system from the event
        stream: they show masked identifiers only, so nothing is recorded.
        Sealed free text (statements, notes, reasons) has no masked view and
        is refused.
        """
        check_instance("sealed", sealed, SealedData)
        try:
            value = self.vault.open(sealed)
        except PersonalDataErasedError:
            return None
        if isinstance(value, PersonalData):
            return MaskedPersonalData.of(value)
        if isinstance(value, PartyDetails):
            return MaskedPartyDetails.of(value)
        if isinstance(value, SampledPerson):
            return MaskedSampledPerson.of(value)
        raise ValidationError("sealed", "holds free text (a statement, note or reason), which has no masked view")
