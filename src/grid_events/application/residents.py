"""Commands and queries on residents: registry, care tags, moves, isolation, erasure."""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Literal, overload
from uuid import UUID, uuid4

import attrs

from grid_events.application.core import ApplicationCore
from grid_events.domain.checks import check_instance, check_text
from grid_events.domain.resident import Resident, ResidentTag
from grid_events.domain.values import Actor, GridCell
from grid_events.exceptions import PersonalDataErasedError, ValidationError
from grid_events.persistence import BulkSQLiteApplicationRecorder
from grid_events.privacy.keystore import SQLiteKeyStore
from grid_events.privacy.permissions import Right, authorize, requires
from grid_events.privacy.personal import MaskedPersonalData, PersonalData, filled_fields, identifiers_of

__all__ = ["ResidentCommands", "ResidentRecord"]


@attrs.frozen
class ResidentRecord:
    """One resident to import in bulk: personal data, cell, tags."""

    personal: PersonalData
    grid: GridCell
    tags: frozenset[ResidentTag] = frozenset()
    moved_in_on: date | None = None


class ResidentCommands(ApplicationCore):
    """The resident registry (see :class:`~grid_events.domain.resident.Resident`)."""

    @requires(Right.RESIDENT_REGISTER)
    def register_resident(
        self,
        personal: PersonalData,
        grid: GridCell,
        *,
        actor: Actor,
        tags: frozenset[ResidentTag] = frozenset(),
        moved_in_on: date | None = None,
    ) -> UUID:
        """Register a resident; their personal data is sealed under a new key of their own."""
        check_instance("personal", personal, PersonalData)
        resident_id = uuid4()
        with self.sealing(resident_id):
            sealed, _ = self.vault.seal(resident_id, personal, field="personal")
            resident = Resident.register(
                resident_id,
                grid=grid,
                personal=sealed,
                actor=actor,
                tags=tags,
                moved_in_on=moved_in_on,
                at=self.now(),
            )
            self.save(resident)
        return resident_id

    @requires(Right.RESIDENT_REGISTER)
    def import_residents(self, records: Iterable[ResidentRecord], *, actor: Actor) -> list[UUID]:
        """Register many residents in one transaction: all of them, or none.

        This is the bulk path for importing an existing registry. Every record
        is checked, and every resident's personal data sealed under a new key
        of their own, before anything is stored; an error names the record and
        field (``records[3].grid``). On SQLite the keys are stored in the same
        transaction as the events; on other stores the keys are stored first,
        in a transaction of their own, and discarded again if the events
        cannot be saved.

        Python's cyclic garbage collector is paused while the batch is built
        and saved (if it was running): the batch makes a dozen lasting objects
        a resident, none in a reference cycle, and the collector would
        otherwise scan them again and again (8% of the import's time).
        """
        with _collector_paused():
            return self._import_residents(records, actor=actor)

    def _import_residents(self, records: Iterable[ResidentRecord], *, actor: Actor) -> list[UUID]:
        given: object = records
        if isinstance(given, str | bytes) or not isinstance(given, Iterable):
            raise ValidationError("records", "must be a collection of ResidentRecord")
        checked = list(records)
        for index, record in enumerate(checked):
            given_record: object = record
            if not isinstance(given_record, ResidentRecord):
                check_instance(f"records[{index}]", given_record, ResidentRecord)  # raises, naming the record
        if not checked:
            return []
        resident_ids = _new_ids(len(checked))
        at = self.now()
        sealed, new_keys = self.vault.seal_new_unstored(
            [(rid, record.personal) for rid, record in zip(resident_ids, checked, strict=True)], field="records"
        )
        residents = Resident.register_many(
            [
                (resident_id, record.grid, personal, record.tags, record.moved_in_on)
                for resident_id, record, personal in zip(resident_ids, checked, sealed, strict=True)
            ],
            actor=actor,
            at=at,
            field="records",
        )
        keystore = self.vault.keystore
        if (
            isinstance(keystore, SQLiteKeyStore)
            and isinstance(self.recorder, BulkSQLiteApplicationRecorder)
            and keystore.datastore is self.recorder.datastore
        ):
            self._save_batch(*residents, in_transaction=functools.partial(keystore.insert_keys, new_keys=new_keys))
            return resident_ids
        keystore.store_keys(new_keys)
        commits = self.commits_in_this_thread()
        try:
            self._save_batch(*residents)
        except BaseException:
            # Only if the events were not stored: once they are, the keys are all that opens their data.
            if self.commits_in_this_thread() == commits and not self.recorder.select_events(resident_ids[0], limit=1):
                self.vault.discard_keys(resident_ids)
            raise
        return resident_ids

    @requires(Right.RESIDENT_CORRECT)
    def correct_personal_data(self, resident_id: UUID, personal: PersonalData, *, actor: Actor, reason: str) -> None:
        """Replace a resident's personal data with a corrected version (PIPL Art. 46)."""
        check_instance("personal", personal, PersonalData)
        resident = self.load(Resident, resident_id)
        check_text("reason", reason)
        if resident.is_erased:
            raise PersonalDataErasedError(resident_id)
        self._clear_text("reason", reason, (*self._resident_identifiers(resident), *identifiers_of(personal)))
        sealed, _ = self.vault.seal(resident_id, personal, field="personal")
        resident.correct_personal_data(sealed, actor=actor, reason=reason, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_UPDATE)
    def tag_resident(self, resident_id: UUID, tag: ResidentTag, *, actor: Actor, reason: str = "") -> None:
        """Add a care tag to a resident."""
        resident = self.load(Resident, resident_id)
        self._resident_text("reason", reason, resident, optional=True)
        resident.tag(tag, actor=actor, reason=reason, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_UPDATE)
    def untag_resident(self, resident_id: UUID, tag: ResidentTag, *, actor: Actor, reason: str = "") -> None:
        """Remove a care tag from a resident."""
        resident = self.load(Resident, resident_id)
        self._resident_text("reason", reason, resident, optional=True)
        resident.untag(tag, actor=actor, reason=reason, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_UPDATE)
    def transfer_resident(self, resident_id: UUID, grid: GridCell, *, actor: Actor, reason: str) -> None:
        """Move a resident to another grid cell."""
        resident = self.load(Resident, resident_id)
        self._resident_text("reason", reason, resident)
        resident.transfer(grid, actor=actor, reason=reason, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_UPDATE)
    def move_resident_out(self, resident_id: UUID, moved_out_on: date, *, actor: Actor, reason: str = "") -> None:
        """Record that a resident moved out of the community."""
        resident = self.load(Resident, resident_id)
        self._resident_text("reason", reason, resident, optional=True)
        resident.move_out(moved_out_on, actor=actor, reason=reason, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_UPDATE)
    def move_resident_in(self, resident_id: UUID, grid: GridCell, moved_in_on: date, *, actor: Actor) -> None:
        """Record that a resident who had moved out lives here again."""
        resident = self.load(Resident, resident_id)
        resident.move_in(grid, moved_in_on, actor=actor, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_ISOLATE)
    def start_home_isolation(
        self,
        resident_id: UUID,
        starts_on: date,
        ends_on: date,
        *,
        actor: Actor,
        reason: str = "",
    ) -> None:
        """Arrange a resident's home isolation; the *reason* (health data) is sealed."""
        resident = self.load(Resident, resident_id)
        details = None
        if reason:
            check_text("reason", reason)
            if resident.is_erased:
                raise PersonalDataErasedError(resident_id)
            details, _ = self.vault.seal(resident_id, reason, field="reason")
        resident.start_home_isolation(starts_on, ends_on, actor=actor, details=details, at=self.now())
        self.save(resident)

    @requires(Right.RESIDENT_ISOLATE)
    def end_home_isolation(self, resident_id: UUID, ended_on: date, *, actor: Actor, reason: str = "") -> None:
        """End a resident's current home isolation."""
        resident = self.load(Resident, resident_id)
        self._resident_text("reason", reason, resident, optional=True)
        resident.end_home_isolation(ended_on, actor=actor, reason=reason, at=self.now())
        self.save(resident)

    @requires(Right.SUBJECT_ERASE)
    def erase_resident(self, resident_id: UUID, *, actor: Actor, reason: str, request_ref: str = "") -> None:
        """Erase a resident's personal data (PIPL Art. 47) by destroying their key.

        The erasure is recorded as an event first, then the key is destroyed.
        Calling this again for an erased resident destroys the key again (in
        case a first attempt stopped between the two steps) and records nothing.
        Everything else sealed under the resident's key goes with it: their
        home-isolation reasons, their sample records, their details and
        statements as a party to a dispute, and the purposes of every look at
        their data. The *reason* is kept in the clear, so it may not name them.
        """
        self._erase_resident(self.load(Resident, resident_id), actor=actor, reason=reason, request_ref=request_ref)

    def _resident_text(self, field: str, value: object, resident: Resident, *, optional: bool = False) -> str:
        """Check clear text about *resident*: no identifiers at all, and not the resident's own."""
        text = self._clear_text(field, value, optional=optional)
        if text.strip():
            self._clear_text(field, text, self._resident_identifiers(resident), optional=optional)
        return text

    # -- queries ----------------------------------------------------------------------

    @requires(Right.RESIDENT_READ)
    def get_resident(self, resident_id: UUID, *, actor: Actor) -> Resident:  # noqa: ARG002 (checked by @requires)
        """Return the resident *resident_id* (personal data still sealed)."""
        return self.load(Resident, resident_id)

    @overload
    def resident_personal_data(
        self, resident_id: UUID, *, actor: Actor, unmasked: Literal[False] = False, purpose: str = ""
    ) -> MaskedPersonalData: ...

    @overload
    def resident_personal_data(
        self, resident_id: UUID, *, actor: Actor, unmasked: Literal[True], purpose: str
    ) -> PersonalData: ...

    @requires(Right.RESIDENT_READ, unmasking=Right.RESIDENT_READ_PERSONAL_DATA)
    def resident_personal_data(
        self, resident_id: UUID, *, actor: Actor, unmasked: bool = False, purpose: str = ""
    ) -> MaskedPersonalData | PersonalData:
        """Return a resident's personal data: masked, or with *unmasked* in full.

        Seeing it in full needs the right ``resident.read_personal_data`` and a
        *purpose*, and is recorded (who, when, which fields, why) in the
        resident's privacy record: see :meth:`privacy_history`. Raises
        :class:`PersonalDataErasedError` once it has been erased.
        """
        check_instance("unmasked", unmasked, bool)
        if unmasked:
            authorize(actor, Right.RESIDENT_READ_PERSONAL_DATA)
        resident = self.load(Resident, resident_id)
        if resident.is_erased:
            raise PersonalDataErasedError(resident_id)
        data = self.vault.open(resident.personal)
        assert isinstance(data, PersonalData)  # noqa: S101 (we sealed it)
        if not unmasked:
            return MaskedPersonalData.of(data)
        self._record_view(
            resident_id,
            actor=actor,
            purpose=self._check_purpose(purpose, identifiers_of(data)),
            record_kind="resident",
            record_id=resident_id,
            item="",
            fields=filled_fields(data),
        )
        return data


def _new_ids(count: int) -> list[UUID]:
    """Return *count* random (version 4) UUIDs, as :func:`uuid.uuid4` makes, from one read of the CSPRNG."""
    randomness = os.urandom(16 * count)
    return [UUID(bytes=randomness[offset : offset + 16], version=4) for offset in range(0, 16 * count, 16)]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector in the block, if it is running; it runs again afterwards.

    Only the cyclic collector: memory is still freed by reference counting as
    usual. If it was not running (someone turned it off), it is left alone.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
