"""Commands and queries on site shifts: set-up, people on site, supplies, samples, batches, closing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, overload
from uuid import UUID, uuid4

from grid_events.application.core import ApplicationCore
from grid_events.domain.checks import check_instance
from grid_events.domain.resident import Resident
from grid_events.domain.site_shift import Batch, PersonKind, Site, SiteShift, sample_number
from grid_events.domain.values import Actor, Role
from grid_events.exceptions import PersonalDataErasedError, ValidationError
from grid_events.privacy.permissions import Right, authorize, requires
from grid_events.privacy.personal import MaskedSampledPerson, SampledPerson, filled_fields, identifiers_of

__all__ = ["SiteShiftCommands"]


class SiteShiftCommands(ApplicationCore):
    """Site shifts (see :class:`~grid_events.domain.site_shift.SiteShift`).

    Times on site (``opened_at``, ``checked_in_at``, ``sealed_at``…) default to
    the application clock's now; give them when recording something after the fact.
    """

    @requires(Right.SITE_PLAN)
    def plan_shift(
        self, site: Site, planned_start: datetime, planned_end: datetime, lead_id: str, *, actor: Actor
    ) -> UUID:
        """Plan a shift at *site*, led by *lead_id*; return its id."""
        shift = SiteShift.plan(site, planned_start, planned_end, lead_id, actor=actor, at=self.now())
        self.save(shift)
        return shift.id

    @requires(Right.SITE_LEAD)
    def open_shift(
        self,
        shift_id: UUID,
        *,
        actor: Actor,
        cordon_set_up: bool,
        disinfected: bool,
        supplies: Mapping[str, int],
        low_thresholds: Mapping[str, int] | None = None,
        opened_at: datetime | None = None,
    ) -> None:
        """Open a planned shift once the site is set up, with the supplies counted at set-up."""
        shift = self.load(SiteShift, shift_id)
        at = self.now()
        shift.open(
            at if opened_at is None else opened_at,
            cordon_set_up=cordon_set_up,
            disinfected=disinfected,
            supplies=supplies,
            low_thresholds=low_thresholds,
            actor=actor,
            at=at,
        )
        self.save(shift)

    @requires(Right.SITE_LEAD)
    def cancel_shift(self, shift_id: UUID, *, actor: Actor, reason: str) -> None:
        """Cancel a shift that has not opened."""
        shift = self.load(SiteShift, shift_id)
        self._clear_text("reason", reason)
        shift.cancel(reason, actor=actor, at=self.now())
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def check_in(
        self,
        shift_id: UUID,
        person_id: str,
        kind: PersonKind,
        role: Role,
        *,
        actor: Actor,
        checked_in_at: datetime | None = None,
    ) -> None:
        """Record that a worker or volunteer arrived on site."""
        shift = self.load(SiteShift, shift_id)
        at = self.now()
        shift.check_in(person_id, kind, role, at if checked_in_at is None else checked_in_at, actor=actor, at=at)
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def check_out(
        self, shift_id: UUID, person_id: str, *, actor: Actor, checked_out_at: datetime | None = None
    ) -> None:
        """Record that a worker or volunteer left the site."""
        shift = self.load(SiteShift, shift_id)
        at = self.now()
        shift.check_out(person_id, at if checked_out_at is None else checked_out_at, actor=actor, at=at)
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def count_supplies(self, shift_id: UUID, item: str, counted: int, *, actor: Actor) -> None:
        """Record a recount of a supply item (the difference from the records is kept)."""
        shift = self.load(SiteShift, shift_id)
        shift.count_supplies(item, counted, actor=actor, at=self.now())
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def use_supplies(self, shift_id: UUID, item: str, quantity: int, *, actor: Actor) -> None:
        """Record supplies used; refused if the site does not have that many."""
        shift = self.load(SiteShift, shift_id)
        shift.use_supplies(item, quantity, actor=actor, at=self.now())
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def restock_supplies(self, shift_id: UUID, item: str, quantity: int, *, actor: Actor) -> None:
        """Record supplies that arrived."""
        shift = self.load(SiteShift, shift_id)
        shift.restock_supplies(item, quantity, actor=actor, at=self.now())
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def tally_sampled(self, shift_id: UUID, count: int, *, actor: Actor) -> None:
        """Add people sampled to the shift's tally."""
        shift = self.load(SiteShift, shift_id)
        shift.tally_sampled(count, actor=actor, at=self.now())
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def record_sample(
        self,
        shift_id: UUID,
        tube_no: str,
        person: SampledPerson,
        *,
        actor: Actor,
        resident_id: UUID | None = None,
    ) -> str:
        """Record one person's sample and return its id (``"S1"``…).

        The record is sealed under the person's own key: the resident's when
        *resident_id* names a registered resident (so erasing the resident
        erases it too), otherwise a new key of its own.
        """
        check_instance("person", person, SampledPerson)
        shift = self.load(SiteShift, shift_id)
        if resident_id is None:
            subject_id = uuid4()
        else:
            check_instance("resident_id", resident_id, UUID)
            if self.load(Resident, resident_id).is_erased:
                raise PersonalDataErasedError(resident_id)
            subject_id = resident_id
        with self.sealing(subject_id):
            sealed, _ = self.vault.seal(subject_id, person, field="person")
            sample_id = shift.record_sample(tube_no, sealed, actor=actor, at=self.now())
            self.save(shift)
        return sample_id

    @requires(Right.SITE_RECORD)
    def seal_batch(
        self,
        shift_id: UUID,
        batch_no: str,
        tube_count: int,
        *,
        actor: Actor,
        sealed_at: datetime | None = None,
    ) -> None:
        """Record a batch of *tube_count* tubes sealed for transport."""
        shift = self.load(SiteShift, shift_id)
        at = self.now()
        shift.seal_batch(Batch(batch_no, tube_count, at if sealed_at is None else sealed_at), actor=actor, at=at)
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def dispatch_batch(
        self,
        shift_id: UUID,
        batch_no: str,
        carrier: str,
        *,
        actor: Actor,
        dispatched_at: datetime | None = None,
    ) -> None:
        """Record a sealed batch handed to the carrier taking it to the lab."""
        shift = self.load(SiteShift, shift_id)
        self._clear_text("carrier", carrier, max_length=200)
        at = self.now()
        shift.dispatch_batch(batch_no, carrier, at if dispatched_at is None else dispatched_at, actor=actor, at=at)
        self.save(shift)

    @requires(Right.SITE_RECORD)
    def receive_batch(
        self,
        shift_id: UUID,
        batch_no: str,
        lab: str,
        tubes_received: int,
        *,
        actor: Actor,
        received_at: datetime | None = None,
    ) -> None:
        """Record the lab's receipt of a dispatched batch (a differing tube count is a discrepancy)."""
        shift = self.load(SiteShift, shift_id)
        self._clear_text("lab", lab, max_length=200)
        at = self.now()
        shift.receive_batch(
            batch_no, lab, tubes_received, at if received_at is None else received_at, actor=actor, at=at
        )
        self.save(shift)

    @requires(Right.SITE_LEAD)
    def hand_over_shift(self, shift_id: UUID, to_lead_id: str, *, actor: Actor, note: str = "") -> None:
        """Make another worker the lead of a planned or open shift."""
        shift = self.load(SiteShift, shift_id)
        self._clear_text("note", note, optional=True)
        shift.hand_over(to_lead_id, note=note, actor=actor, at=self.now())
        self.save(shift)

    @requires(Right.SITE_LEAD)
    def close_shift(self, shift_id: UUID, final_tally: int, *, actor: Actor, closed_at: datetime | None = None) -> None:
        """Close an open shift with its final tally; refused, naming every problem, unless it reconciles."""
        shift = self.load(SiteShift, shift_id)
        at = self.now()
        shift.close(at if closed_at is None else closed_at, final_tally, actor=actor, at=at)
        self.save(shift)

    @requires(Right.SUBJECT_ERASE)
    def erase_sampled_person(
        self, shift_id: UUID, sample_id: str, *, actor: Actor, reason: str, request_ref: str = ""
    ) -> None:
        """Erase the personal data of the person a sample was taken from (PIPL Art. 47).

        A registered resident is erased as the resident (everything sealed under
        their key goes); anyone else's own key is destroyed after the erasure is
        recorded in their privacy record. The tallies and batches stay.
        """
        event = self._sample_event(shift_id, sample_id)
        self._erase_subject(
            event.person.subject_id,
            actor=actor,
            reason=reason,
            request_ref=request_ref,
            identifiers=self._identifiers(event.person),
        )

    # -- queries ----------------------------------------------------------------------

    @requires(Right.SITE_READ)
    def get_shift(self, shift_id: UUID, *, actor: Actor) -> SiteShift:  # noqa: ARG002 (checked by @requires)
        """Return the shift *shift_id* (sample records still sealed)."""
        return self.load(SiteShift, shift_id)

    @overload
    def sampled_person(
        self, shift_id: UUID, sample_id: str, *, actor: Actor, unmasked: Literal[False] = False, purpose: str = ""
    ) -> MaskedSampledPerson: ...

    @overload
    def sampled_person(
        self, shift_id: UUID, sample_id: str, *, actor: Actor, unmasked: Literal[True], purpose: str
    ) -> SampledPerson: ...

    @requires(Right.SITE_READ_SAMPLES, unmasking=Right.SITE_READ_PERSONAL_DATA)
    def sampled_person(
        self, shift_id: UUID, sample_id: str, *, actor: Actor, unmasked: bool = False, purpose: str = ""
    ) -> MaskedSampledPerson | SampledPerson:
        """Return the person sample *sample_id* of a shift was taken from: masked, or with *unmasked* in full.

        In full needs ``site.read_personal_data`` and a *purpose*, and is
        recorded in the person's privacy record. Raises
        :class:`PersonalDataErasedError` once their data has been erased.
        """
        check_instance("unmasked", unmasked, bool)
        if unmasked:
            authorize(actor, Right.SITE_READ_PERSONAL_DATA)
        event = self._sample_event(shift_id, sample_id)
        person = self.vault.open(event.person)
        assert isinstance(person, SampledPerson)  # noqa: S101 (we sealed it)
        if not unmasked:
            return MaskedSampledPerson.of(person)
        self._record_view(
            event.person.subject_id,
            actor=actor,
            purpose=self._check_purpose(purpose, identifiers_of(person)),
            record_kind="sample",
            record_id=shift_id,
            item=sample_id,
            fields=filled_fields(person),
        )
        return person

    def _sample_event(self, shift_id: UUID, sample_id: str) -> SiteShift.SampleRecorded:
        """Return the event that recorded sample *sample_id* of the shift."""
        number = sample_number(sample_id)
        shift = self.load(SiteShift, shift_id)
        if number <= shift.samples_recorded:
            # Sample n is at least the shift's (n + 2)th event: planned, opened, n - 1 samples before it.
            for event in self.events.get(shift_id, gt=number + 1):
                if isinstance(event, SiteShift.SampleRecorded) and event.sample_id == sample_id:
                    return event
        raise ValidationError("sample_id", f"no sample {sample_id} was recorded in this shift")
