"""One shift of staff at one site: a sampling point, a service point, a child-care class, a duty post.

What the site lead records and the supervisor watches on the site dashboard:
the shift is planned, then opened once the site is set up (cordon, disinfection,
supplies counted); workers and volunteers check in and out; supplies are used,
restocked and recounted, never below zero; people sampled are tallied; sample
batches are sealed about every 30 minutes, handed to transport and received by
the lab; the lead may hand over; the shift closes with a final tally that must
reconcile.

Individual sample records (name, ID number, address, phone: the national
sampling manual) are sensitive personal data. They reach this aggregate only
sealed (:class:`~grid_events.domain.values.SealedData`) and stay in the
``SampleRecorded`` events; the aggregate keeps only their count, so its state
(and every snapshot) stays small however many people a site samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Self

import attrs

from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import (
    check_aware,
    check_instance,
    check_int,
    check_optional_text,
    check_text,
)
from grid_events.domain.shift_checks import (
    STATUS_HINTS,
    acts_as_volunteer,
    check_counts,
    check_not_future,
    check_person_id,
    check_supply_item,
)
from grid_events.domain.shift_values import (
    BATCH_INTERVAL,
    CLOCK_SKEW,
    MAX_SHIFT,
    ON_SITE_ROLES,
    WORKER_ROLES,
    Batch,
    BatchRecord,
    BatchStatus,
    PersonKind,
    ShiftStatus,
    Site,
    SiteKind,
    SitePresence,
    sample_number,
)
from grid_events.domain.shift_values import VALUE_TYPES as SHIFT_VALUE_TYPES
from grid_events.domain.values import Actor, Role, SealedData
from grid_events.exceptions import PermissionDeniedError, RuleViolationError, ValidationError

__all__ = [
    "BATCH_INTERVAL",
    "CLOCK_SKEW",
    "MAX_SHIFT",
    "ON_SITE_ROLES",
    "WORKER_ROLES",
    "Batch",
    "BatchRecord",
    "BatchStatus",
    "PersonKind",
    "ShiftStatus",
    "Site",
    "SiteKind",
    "SitePresence",
    "SiteShift",
    "sample_number",
]


class SiteShift(GridAggregate):
    """One shift at one site, from planning to a reconciled close."""

    KIND = "site_shift"

    class Planned(GridAggregate.Created):
        """A supervisor or grid worker planned the shift and named its lead."""

        site: Site
        planned_start: datetime
        planned_end: datetime
        lead_id: str

    class Opened(GridAggregate.Event):
        """The site was set up and opened; the supplies were counted."""

        opened_at: datetime
        cordon_set_up: bool
        disinfected: bool
        supplies: dict[str, int]
        low_thresholds: dict[str, int]

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.status = ShiftStatus.OPEN
            aggregate.opened_at = self.opened_at
            aggregate.cordon_set_up = self.cordon_set_up
            aggregate.disinfected = self.disinfected
            aggregate.supplies = dict(self.supplies)
            aggregate.low_thresholds = dict(self.low_thresholds)
            aggregate.last_activity_at = self.opened_at

    class Cancelled(GridAggregate.Event):
        """The planned shift will not take place."""

        reason: str

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.status = ShiftStatus.CANCELLED
            aggregate.cancel_reason = self.reason

    class PersonCheckedIn(GridAggregate.Event):
        """A worker or volunteer arrived on site."""

        person_id: str
        kind: PersonKind
        role: Role
        checked_in_at: datetime

        def apply(self, aggregate: SiteShift) -> None:
            presence = SitePresence(self.kind, self.role, self.checked_in_at)
            aggregate.on_site = {**aggregate.on_site, self.person_id: presence}
            aggregate.last_activity_at = _latest(aggregate.last_activity_at, self.checked_in_at)

    class PersonCheckedOut(GridAggregate.Event):
        """A worker or volunteer left the site."""

        person_id: str
        checked_out_at: datetime

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.on_site = {key: value for key, value in aggregate.on_site.items() if key != self.person_id}
            aggregate.last_activity_at = _latest(aggregate.last_activity_at, self.checked_out_at)

    class SuppliesCounted(GridAggregate.Event):
        """An item was recounted; *expected* is what the records said before."""

        item: str
        counted: int
        expected: int

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.supplies = {**aggregate.supplies, self.item: self.counted}
            total = aggregate.supply_discrepancies.get(self.item, 0) + self.counted - self.expected
            others = {key: value for key, value in aggregate.supply_discrepancies.items() if key != self.item}
            aggregate.supply_discrepancies = {**others, self.item: total} if total else others

    class SuppliesUsed(GridAggregate.Event):
        """Some of an item was used up."""

        item: str
        quantity: int

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.supplies = {**aggregate.supplies, self.item: aggregate.supply(self.item) - self.quantity}

    class SuppliesRestocked(GridAggregate.Event):
        """More of an item arrived."""

        item: str
        quantity: int

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.supplies = {**aggregate.supplies, self.item: aggregate.supply(self.item) + self.quantity}

    class PeopleSampled(GridAggregate.Event):
        """More people were sampled: *count* is added to the tally."""

        count: int

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.tally += self.count

    class SampleRecorded(GridAggregate.Event):
        """One person's sample record (sealed personal data) and the tube it went into."""

        sample_id: str
        tube_no: str
        person: SealedData

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.samples_recorded += 1

    class BatchSealed(GridAggregate.Event):
        """A batch of tubes was sealed for transport."""

        batch: Batch

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.batches = {**aggregate.batches, self.batch.batch_no: BatchRecord(self.batch)}
            aggregate.last_sealed_at = _latest(aggregate.last_sealed_at, self.batch.sealed_at)
            aggregate.last_activity_at = _latest(aggregate.last_activity_at, self.batch.sealed_at)

    class BatchDispatched(GridAggregate.Event):
        """A sealed batch was handed to the carrier taking it to the lab."""

        batch_no: str
        carrier: str
        dispatched_at: datetime

        def apply(self, aggregate: SiteShift) -> None:
            record = attrs.evolve(
                aggregate.batches[self.batch_no],
                status=BatchStatus.DISPATCHED,
                carrier=self.carrier,
                dispatched_at=self.dispatched_at,
            )
            aggregate.batches = {**aggregate.batches, self.batch_no: record}
            aggregate.last_activity_at = _latest(aggregate.last_activity_at, self.dispatched_at)

    class BatchReceived(GridAggregate.Event):
        """The lab received a batch; a tube count other than the sealed one is a discrepancy."""

        batch_no: str
        lab: str
        received_at: datetime
        tubes_received: int

        def apply(self, aggregate: SiteShift) -> None:
            record = attrs.evolve(
                aggregate.batches[self.batch_no],
                status=BatchStatus.RECEIVED,
                lab=self.lab,
                received_at=self.received_at,
                tubes_received=self.tubes_received,
            )
            aggregate.batches = {**aggregate.batches, self.batch_no: record}

    class HandedOver(GridAggregate.Event):
        """The lead handed the shift over to another worker (交接班)."""

        from_lead_id: str
        to_lead_id: str
        note: str

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.lead_id = self.to_lead_id

    class Closed(GridAggregate.Event):
        """The shift closed with a final tally that reconciles."""

        closed_at: datetime
        final_tally: int

        def apply(self, aggregate: SiteShift) -> None:
            aggregate.status = ShiftStatus.CLOSED
            aggregate.closed_at = self.closed_at
            aggregate.final_tally = self.final_tally
            aggregate.last_activity_at = _latest(aggregate.last_activity_at, self.closed_at)

    def __init__(self, site: Site, planned_start: datetime, planned_end: datetime, lead_id: str) -> None:
        self.site = site
        self.planned_start = planned_start
        self.planned_end = planned_end
        self.lead_id = lead_id
        self.status = ShiftStatus.PLANNED
        self.cancel_reason = ""
        self.opened_at: datetime | None = None
        self.cordon_set_up = False
        self.disinfected = False
        self.supplies: dict[str, int] = {}
        self.low_thresholds: dict[str, int] = {}
        self.supply_discrepancies: dict[str, int] = {}
        self.on_site: dict[str, SitePresence] = {}
        self.tally = 0
        self.samples_recorded = 0
        self.batches: dict[str, BatchRecord] = {}
        self.last_sealed_at: datetime | None = None
        self.last_activity_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.final_tally: int | None = None

    # -- queries ---------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the shift is open (people may check in, samples may be taken)."""
        return self.status is ShiftStatus.OPEN

    def supply(self, item: str) -> int:
        """Return how much of *item* the site has (0 for an item never counted)."""
        return self.supplies.get(item, 0)

    def people_on_site(self, kind: PersonKind | None = None) -> tuple[str, ...]:
        """Return the ids of the people on site now (only those of *kind* if given), sorted."""
        return tuple(sorted(person for person, presence in self.on_site.items() if kind in {None, presence.kind}))

    def low_supplies(self) -> dict[str, int]:
        """Return the items at or below their low threshold, with how much is left."""
        return {
            item: self.supply(item)
            for item, threshold in sorted(self.low_thresholds.items())
            if self.supply(item) <= threshold
        }

    @property
    def tubes_sealed(self) -> int:
        """How many tubes were sealed in batches."""
        return sum(record.batch.tube_count for record in self.batches.values())

    def batches_in_order(self) -> tuple[BatchRecord, ...]:
        """Return every batch, in the order they were sealed."""
        return tuple(sorted(self.batches.values(), key=lambda record: (record.batch.sealed_at, record.batch_no)))

    def undispatched_batches(self) -> tuple[BatchRecord, ...]:
        """Return the batches sealed but not yet handed to transport, oldest first."""
        return tuple(record for record in self.batches_in_order() if record.status is BatchStatus.SEALED)

    def late_batches(self, now: datetime) -> tuple[BatchRecord, ...]:
        """Return the batches sealed more than 30 minutes before *now* and not yet dispatched."""
        check_aware("now", now)
        return tuple(record for record in self.undispatched_batches() if now - record.batch.sealed_at > BATCH_INTERVAL)

    def minutes_since_last_seal(self, now: datetime) -> int | None:
        """Return the whole minutes from the last batch sealed to *now*, or None before the first."""
        check_aware("now", now)
        if self.last_sealed_at is None:
            return None
        return int((now - self.last_sealed_at) / timedelta(minutes=1))

    def batches_not_received(self) -> tuple[BatchRecord, ...]:
        """Return the batches the lab has not yet confirmed receiving, oldest first."""
        return tuple(record for record in self.batches_in_order() if record.status is not BatchStatus.RECEIVED)

    def reconciliation_problems(self, final_tally: int) -> tuple[str, ...]:
        """Return what stops the shift closing with *final_tally*: empty when it reconciles."""
        check_int("final_tally", final_tally, minimum=0)
        problems: list[str] = []
        if final_tally != self.tally:
            problems.append(f"the final tally {final_tally} differs from the {self.tally} people tallied")
        if self.samples_recorded > self.tally:
            problems.append(f"{self.samples_recorded} sample records but only {self.tally} people tallied")
        undispatched = self.undispatched_batches()
        if undispatched:
            numbers = ", ".join(record.batch_no for record in undispatched)
            problems.append(f"{len(undispatched)} sealed batch(es) not dispatched: {numbers}")
        if self.on_site:
            people = ", ".join(self.people_on_site())
            problems.append(f"{len(self.on_site)} people still checked in: {people} (check them out first)")
        return tuple(problems)

    # -- commands: the shift's life ------------------------------------------------

    @classmethod
    def plan(
        cls,
        site: Site,
        planned_start: datetime,
        planned_end: datetime,
        lead_id: str,
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> Self:
        """Plan a shift at *site* from *planned_start* to *planned_end*, led by *lead_id*."""
        cls._require_role(actor, Role.SUPERVISOR, Role.GRID_WORKER, action="plan a site shift")
        check_instance("site", site, Site)
        check_aware("planned_start", planned_start)
        check_aware("planned_end", planned_end)
        if planned_end <= planned_start:
            raise ValidationError("planned_end", f"{planned_end.isoformat()} is not after the planned start")
        if planned_end - planned_start > MAX_SHIFT:
            raise ValidationError("planned_end", f"a shift lasts at most {MAX_SHIFT}: plan several shifts")
        check_person_id("lead_id", lead_id)
        return cls._create_with(
            cls.Planned,
            actor=actor,
            at=at,
            site=site,
            planned_start=planned_start,
            planned_end=planned_end,
            lead_id=lead_id,
        )

    def open(
        self,
        opened_at: datetime,
        *,
        cordon_set_up: bool,
        disinfected: bool,
        supplies: Mapping[str, int],
        actor: Actor,
        low_thresholds: Mapping[str, int] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Open the site, set up at *opened_at*, with the *supplies* counted at set-up.

        A sampling point must have its cordon set up and be disinfected first
        (rule ``site.setup-before-opening``).
        """
        self._require_changer(actor, "open a shift")
        self._require_status("open", ShiftStatus.PLANNED)
        self._require_lead_or_supervisor(actor, "open a shift")
        check_aware("opened_at", opened_at)
        check_not_future("opened_at", opened_at, at)
        check_instance("cordon_set_up", cordon_set_up, bool)
        check_instance("disinfected", disinfected, bool)
        counted = check_counts("supplies", supplies)
        thresholds = check_counts("low_thresholds", low_thresholds or {})
        if self.site.kind is SiteKind.SAMPLING_POINT and not (cordon_set_up and disinfected):
            missing = [name for name, done in (("cordon", cordon_set_up), ("disinfection", disinfected)) if not done]
            raise RuleViolationError(
                "site.setup-before-opening",
                f"a sampling point opens only after its cordon is set up and it is disinfected: {' and '.join(missing)}"
                " not done",
            )
        self._trigger(
            self.Opened,
            actor=actor,
            at=at,
            opened_at=opened_at,
            cordon_set_up=cordon_set_up,
            disinfected=disinfected,
            supplies=counted,
            low_thresholds=thresholds,
        )

    def cancel(self, reason: str, *, actor: Actor, at: datetime | None = None) -> None:
        """Cancel a shift that has not opened."""
        self._require_changer(actor, "cancel a shift")
        self._require_status("cancel", ShiftStatus.PLANNED)
        self._require_lead_or_supervisor(actor, "cancel a shift")
        check_text("reason", reason)
        self._trigger(self.Cancelled, actor=actor, at=at, reason=reason)

    def hand_over(self, to_lead_id: str, *, actor: Actor, note: str = "", at: datetime | None = None) -> None:
        """Make *to_lead_id* the lead of the shift, with a handover *note* (交接事项)."""
        self._require_changer(actor, "hand over a shift")
        self._require_status("hand over", ShiftStatus.PLANNED, ShiftStatus.OPEN)
        self._require_lead_or_supervisor(actor, "hand over a shift")
        check_person_id("to_lead_id", to_lead_id)
        check_optional_text("note", note)
        if to_lead_id == self.lead_id:
            raise ValidationError("to_lead_id", f"{to_lead_id} already leads this shift")
        presence = self.on_site.get(to_lead_id)
        if presence is not None and presence.kind is PersonKind.VOLUNTEER:
            raise ValidationError("to_lead_id", f"{to_lead_id} is on site as a volunteer: a worker leads a shift")
        self._trigger(self.HandedOver, actor=actor, at=at, from_lead_id=self.lead_id, to_lead_id=to_lead_id, note=note)

    def close(self, closed_at: datetime, final_tally: int, *, actor: Actor, at: datetime | None = None) -> None:
        """Close the shift at *closed_at* with *final_tally* people sampled.

        The shift must reconcile (rule ``site.reconciliation``): the final tally
        equals the people tallied, no more sample records than people tallied,
        every sealed batch dispatched, nobody still checked in. The error names
        every problem found.
        """
        self._require_changer(actor, "close a shift")
        self._require_status("close", ShiftStatus.OPEN)
        self._require_lead_or_supervisor(actor, "close a shift")
        self._check_time("closed_at", closed_at, at)
        if self.last_activity_at is not None and closed_at < self.last_activity_at:
            raise ValidationError(
                "closed_at",
                f"{closed_at.isoformat()} is before the last activity ({self.last_activity_at.isoformat()})",
            )
        problems = self.reconciliation_problems(final_tally)
        if problems:
            raise RuleViolationError("site.reconciliation", "the shift does not reconcile: " + "; ".join(problems))
        self._trigger(self.Closed, actor=actor, at=at, closed_at=closed_at, final_tally=final_tally)

    # -- commands: people on site -------------------------------------------------

    def check_in(
        self,
        person_id: str,
        kind: PersonKind,
        role: Role,
        checked_in_at: datetime,
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record that *person_id* (a worker or volunteer, serving as *role*) arrived at *checked_in_at*.

        People check themselves in, in the role they act in, or are checked in
        by someone recording on site; a volunteer checks in only volunteers.
        """
        self._require_changer(actor, "check people in")
        self._require_status("check in", ShiftStatus.OPEN)
        check_person_id("person_id", person_id)
        check_instance("kind", kind, PersonKind)
        check_instance("role", role, Role)
        self._require_may_record_person(actor, person_id, kind, "check people in")
        if role not in ON_SITE_ROLES:
            raise ValidationError("role", f"{role.value} is not a role anyone serves in on site")
        if kind is PersonKind.VOLUNTEER and role is not Role.VOLUNTEER:
            raise ValidationError("role", f"a volunteer serves as a volunteer, not as {role.value}")
        if kind is PersonKind.WORKER and role is Role.VOLUNTEER:
            raise ValidationError(
                "role", "a worker serves in a worker's role (grid_worker, liaison…), not as volunteer"
            )
        if actor.worker_id == person_id and role is not actor.role:
            raise ValidationError("role", f"checking yourself in, you serve as {actor.role.value}, the role you act in")
        self._check_time("checked_in_at", checked_in_at, at)
        presence = self.on_site.get(person_id)
        if presence is not None:
            raise ValidationError(
                "person_id", f"{person_id} is already on site since {presence.checked_in_at.isoformat()}"
            )
        self._trigger(
            self.PersonCheckedIn,
            actor=actor,
            at=at,
            person_id=person_id,
            kind=kind,
            role=role,
            checked_in_at=checked_in_at,
        )

    def check_out(self, person_id: str, checked_out_at: datetime, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that *person_id* left the site at *checked_out_at*."""
        self._require_changer(actor, "check people out")
        self._require_status("check out", ShiftStatus.OPEN)
        check_person_id("person_id", person_id)
        presence = self.on_site.get(person_id)
        if presence is None:
            raise ValidationError("person_id", f"{person_id} is not checked in at this site")
        self._require_may_record_person(actor, person_id, presence.kind, "check people out")
        self._check_time("checked_out_at", checked_out_at, at)
        if checked_out_at < presence.checked_in_at:
            raise ValidationError(
                "checked_out_at", f"is before {person_id} checked in ({presence.checked_in_at.isoformat()})"
            )
        self._trigger(self.PersonCheckedOut, actor=actor, at=at, person_id=person_id, checked_out_at=checked_out_at)

    # -- commands: supplies ----------------------------------------------------------

    def count_supplies(self, item: str, counted: int, *, actor: Actor, at: datetime | None = None) -> None:
        """Record a recount of *item*; the difference from the records is kept as a discrepancy."""
        self._require_recorder(actor, "count supplies")
        check_supply_item(item)
        check_int("counted", counted, minimum=0)
        self._trigger(self.SuppliesCounted, actor=actor, at=at, item=item, counted=counted, expected=self.supply(item))

    def use_supplies(self, item: str, quantity: int, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that *quantity* of *item* was used; the site can never use more than it has."""
        self._require_recorder(actor, "record supplies used")
        check_supply_item(item)
        check_int("quantity", quantity, minimum=1)
        if quantity > self.supply(item):
            raise RuleViolationError(
                "site.supplies-never-negative",
                f"cannot use {quantity} of {item!r}: the site has {self.supply(item)} (recount or restock first)",
            )
        self._trigger(self.SuppliesUsed, actor=actor, at=at, item=item, quantity=quantity)

    def restock_supplies(self, item: str, quantity: int, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that *quantity* more of *item* arrived."""
        self._require_recorder(actor, "restock supplies")
        check_supply_item(item)
        check_int("quantity", quantity, minimum=1)
        self._trigger(self.SuppliesRestocked, actor=actor, at=at, item=item, quantity=quantity)

    # -- commands: sampling --------------------------------------------------------------

    def tally_sampled(self, count: int, *, actor: Actor, at: datetime | None = None) -> None:
        """Add *count* people sampled to the tally."""
        self._require_recorder(actor, "tally people sampled")
        check_int("count", count, minimum=1)
        self._require_sampling_point("tally people sampled")
        self._trigger(self.PeopleSampled, actor=actor, at=at, count=count)

    def record_sample(self, tube_no: str, person: SealedData, *, actor: Actor, at: datetime | None = None) -> str:
        """Record one person's sample in tube *tube_no* and return its id (``"S1"``, ``"S2"``…).

        *person* is the sealed sample record; several people may share a tube
        (pooled testing, 混采).
        """
        self._require_recorder(actor, "record samples")
        check_text("tube_no", tube_no, max_length=64)
        check_instance("person", person, SealedData)
        self._require_sampling_point("record samples")
        sample_id = f"S{self.samples_recorded + 1}"
        self._trigger(self.SampleRecorded, actor=actor, at=at, sample_id=sample_id, tube_no=tube_no, person=person)
        return sample_id

    def seal_batch(self, batch: Batch, *, actor: Actor, at: datetime | None = None) -> None:
        """Record that *batch* was sealed; its number must be new in this shift."""
        self._require_recorder(actor, "seal batches", workers_only=True)
        check_instance("batch", batch, Batch)
        self._check_time("batch.sealed_at", batch.sealed_at, at)
        if batch.batch_no in self.batches:
            raise ValidationError("batch.batch_no", f"batch {batch.batch_no} is already sealed in this shift")
        self._require_sampling_point("seal batches")
        self._trigger(self.BatchSealed, actor=actor, at=at, batch=batch)

    def dispatch_batch(
        self, batch_no: str, carrier: str, dispatched_at: datetime, *, actor: Actor, at: datetime | None = None
    ) -> None:
        """Record that sealed batch *batch_no* was handed to *carrier* at *dispatched_at*."""
        self._require_recorder(actor, "dispatch batches", workers_only=True)
        record = self._batch(batch_no)
        if record.status is not BatchStatus.SEALED:
            self._refuse(f"batch {batch_no} {record.status.value}", f"dispatch batch {batch_no}", "it was dispatched")
        check_text("carrier", carrier, max_length=200)
        self._check_time("dispatched_at", dispatched_at, at)
        if dispatched_at < record.batch.sealed_at:
            raise ValidationError("dispatched_at", f"is before the batch was sealed ({record.batch.sealed_at})")
        self._trigger(
            self.BatchDispatched, actor=actor, at=at, batch_no=batch_no, carrier=carrier, dispatched_at=dispatched_at
        )

    def receive_batch(
        self,
        batch_no: str,
        lab: str,
        tubes_received: int,
        received_at: datetime,
        *,
        actor: Actor,
        at: datetime | None = None,
    ) -> None:
        """Record that *lab* received dispatched batch *batch_no* with *tubes_received* tubes.

        A tube count other than the sealed one is recorded as a discrepancy, not
        refused: the lab's count is what happened. The lab may confirm after the
        shift closed; then the lead or a supervisor records it.
        """
        self._require_changer(actor, "record batches received")
        self._require_status("receive a batch", ShiftStatus.OPEN, ShiftStatus.CLOSED)
        if self.status is ShiftStatus.CLOSED:
            self._require_lead_or_supervisor(actor, "record batches received after closing")
        else:
            self._require_recorder(actor, "record batches received", workers_only=True)
        record = self._batch(batch_no)
        if record.status is not BatchStatus.DISPATCHED:
            hint = "dispatch it first" if record.status is BatchStatus.SEALED else "the lab's receipt is recorded"
            self._refuse(f"batch {batch_no} {record.status.value}", f"receive batch {batch_no}", hint)
        check_text("lab", lab, max_length=200)
        check_int("tubes_received", tubes_received, minimum=0)
        check_aware("received_at", received_at)
        check_not_future("received_at", received_at, at)
        if record.dispatched_at is not None and received_at < record.dispatched_at:
            raise ValidationError("received_at", f"is before the batch was dispatched ({record.dispatched_at})")
        self._trigger(
            self.BatchReceived,
            actor=actor,
            at=at,
            batch_no=batch_no,
            lab=lab,
            received_at=received_at,
            tubes_received=tubes_received,
        )

    # -- helpers -------------------------------------------------------------------------

    def _require_status(self, command: str, *allowed: ShiftStatus) -> None:
        if self.status in allowed:
            return
        self._refuse(self.status.value, command, STATUS_HINTS[self.status])

    def _is_lead(self, actor: Actor) -> bool:
        return actor.worker_id == self.lead_id and actor.role in WORKER_ROLES

    @staticmethod
    def _require_changer(actor: Actor, action: str) -> None:
        check_instance("actor", actor, Actor)
        if actor.role not in ON_SITE_ROLES:
            raise PermissionDeniedError(
                str(actor), action, f"a {actor.role.value} reads shift records but changes nothing"
            )

    def _require_lead_or_supervisor(self, actor: Actor, action: str) -> None:
        if actor.role is not Role.SUPERVISOR and not self._is_lead(actor):
            raise PermissionDeniedError(
                str(actor), action, f"only the shift's lead ({self.lead_id}) or a supervisor may {action}"
            )

    def _require_recorder(self, actor: Actor, action: str, *, workers_only: bool = False) -> None:
        """Check that the shift is open and *actor* records on site: lead, supervisor or someone checked in."""
        self._require_changer(actor, action)
        self._require_status(action, ShiftStatus.OPEN)
        if actor.role is Role.SUPERVISOR or self._is_lead(actor):
            return
        presence = self.on_site.get(actor.worker_id)
        if presence is None:
            raise PermissionDeniedError(
                str(actor), action, f"only people checked in at the site, its lead or a supervisor may {action}"
            )
        if workers_only and acts_as_volunteer(actor, presence):
            raise PermissionDeniedError(
                str(actor), action, f"batches are in workers' custody: a volunteer may not {action}"
            )

    def _require_may_record_person(self, actor: Actor, person_id: str, kind: PersonKind, action: str) -> None:
        if actor.worker_id == person_id:
            return
        self._require_recorder(actor, action)
        presence = self.on_site.get(actor.worker_id)
        lead_or_supervisor = actor.role is Role.SUPERVISOR or self._is_lead(actor)
        volunteer = presence is not None and acts_as_volunteer(actor, presence)
        if not lead_or_supervisor and volunteer and kind is not PersonKind.VOLUNTEER:
            raise PermissionDeniedError(str(actor), action, "a volunteer records only volunteers")

    def _require_sampling_point(self, action: str) -> None:
        if self.site.kind is not SiteKind.SAMPLING_POINT:
            raise RuleViolationError(
                "site.sampling-only", f"only a sampling point may {action}; this site is a {self.site.kind.value}"
            )

    def _check_time(self, field: str, value: datetime, at: datetime | None) -> None:
        check_aware(field, value)
        if self.opened_at is not None and value < self.opened_at:
            raise ValidationError(
                field, f"{value.isoformat()} is before the shift opened ({self.opened_at.isoformat()})"
            )
        check_not_future(field, value, at)

    def _batch(self, batch_no: str) -> BatchRecord:
        check_text("batch_no", batch_no, max_length=64)
        record = self.batches.get(batch_no)
        if record is None:
            raise ValidationError("batch_no", f"no batch {batch_no} was sealed in this shift")
        return record


def _latest(known: datetime | None, when: datetime) -> datetime:
    """Return the later of *known* (if any) and *when*."""
    return when if known is None or when > known else known


VALUE_TYPES: tuple[type, ...] = SHIFT_VALUE_TYPES
"""The enums and value objects of a site shift (defined in :mod:`grid_events.domain.shift_values`)."""
