"""The machinery every command of :class:`~grid_events.GridApplication` shares.

Persistence is eventsourcing's, with three changes: events are stored in the
chained msgpack layout (:mod:`grid_events.chain`), personal data is sealed by a
:class:`~grid_events.privacy.vault.Vault` whose keys live in the same database,
and a concurrent change surfaces as :class:`ConcurrentChangeError`.

The privacy helpers the mixins share live here too: recording a look at
personal data in full (:meth:`ApplicationCore._record_view`), refusing clear
text that identifies the people a command is about
(:meth:`ApplicationCore._clear_text`), and erasing a data subject.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs
from eventsourcing.application import AggregateNotFoundError as ESAggregateNotFoundError
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import EventStore, IntegrityError, Recording, Transcoder
from eventsourcing.utils import EnvType

from grid_events.chain import ChainedEventStore, EventMapper
from grid_events.codec import MsgpackTranscoder, TypeRegistry, default_registry
from grid_events.config import StoreConfig
from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import MAX_TEXT, check_instance, check_int
from grid_events.domain.resident import Resident
from grid_events.domain.values import Actor, SealedData
from grid_events.exceptions import (
    AggregateNotFoundError,
    ConcurrentChangeError,
    ConfigurationError,
    PersonalDataErasedError,
    ValidationError,
)
from grid_events.privacy.access import DataSubject, data_subject_id
from grid_events.privacy.cleartext import check_clear_text, invalid_text_error
from grid_events.privacy.keystore import InMemoryKeyStore, KeyStore, PostgresKeyStore, SQLiteKeyStore
from grid_events.privacy.personal import PartyDetails, PersonalData, SampledPerson, identifiers_of
from grid_events.privacy.vault import Vault

__all__ = ["ApplicationCore", "Clock", "LoggedEvent", "SaveListener"]

A = TypeVar("A", bound=GridAggregate)
R = TypeVar("R")
Clock = Callable[[], datetime]
SaveListener = Callable[[int], None]
"""Called after each save with the highest notification id it stored."""


@attrs.frozen
class LoggedEvent:
    """An event as the store's log holds it: its position (notification id) and the event itself."""

    position: int
    """The event's notification id: its place in the whole store's log, from 1, without gaps."""
    event: Any
    """The domain event (personal data in it still sealed)."""


MAX_LOG_PAGE = 10_000
"""The most events :meth:`ApplicationCore.events_after` returns at once."""

PURPOSE_MAX = 300
"""Longest purpose a look at personal data in full may give (characters)."""
_SAVE_ATTEMPTS = 5
"""How often a privacy record is saved again after someone else changed it first."""


def project(aggregate: Any, events: Iterable[Any]) -> Any:  # noqa: ANN401 (any aggregate)
    """Apply *events* to *aggregate* in turn (None before the first event).

    eventsourcing's own projector asserts a runtime-checkable Protocol on each
    event, which costs more than applying it; our events are all
    GridAggregate events or snapshots, which have ``mutate``.
    """
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def sealed_types_registry() -> TypeRegistry:
    """Return the registry of everything the vault may seal: domain values and personal data."""
    registry = default_registry()
    for kind in (PersonalData, PartyDetails, SampledPerson):
        registry.register(kind)
    return registry


class ApplicationCore(Application[UUID]):
    """Storage, clock and vault for the command mixins of GridApplication."""

    def __init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401 (eventsourcing's signature)
        # eventsourcing names each subclass after itself, and the name picks the
        # PostgreSQL tables: keep one name, so a subclass reads the same store.
        super().__init_subclass__(**kwargs)
        cls.name = "GridEvents"

    def __init__(
        self,
        config: StoreConfig | None = None,
        *,
        env: EnvType | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Open the store *config* describes (default: :meth:`StoreConfig.from_environ`).

        *env* adds eventsourcing settings (e.g. ``AGGREGATE_CACHE_MAXSIZE``);
        *clock* gives the time recorded on events (default: now, in UTC).
        """
        self.config = config if config is not None else StoreConfig.from_environ()
        merged_env = dict(self.config.eventsourcing_env())
        if env:
            merged_env.update(env)
        self.clock: Clock = clock or utc_now
        self._save_listeners: list[SaveListener] = []
        self._commits = threading.local()
        """How many saves this thread has committed: a key is discarded only for a save that never committed."""
        super().__init__(merged_env)
        try:
            self.vault = Vault(self._construct_keystore(), sealed_types_registry())
            self.vault.keystore.check_master_key()
        except BaseException:
            super().close()
            raise

    # -- eventsourcing construction hooks ----------------------------------------

    def construct_transcoder(self) -> Transcoder:
        """Use the deterministic msgpack codec for every event and snapshot."""
        return MsgpackTranscoder()

    def construct_mapper(self) -> EventMapper:
        """Map events to the chained ``[version, prev, body]`` layout."""
        transcoder = self.construct_transcoder()
        assert isinstance(transcoder, MsgpackTranscoder)  # noqa: S101 (our own hook above)
        return EventMapper(transcoder)

    def construct_event_store(self) -> EventStore[UUID]:
        """Chain every new event to its predecessor."""
        assert isinstance(self.mapper, EventMapper)  # noqa: S101
        return ChainedEventStore(self.mapper, self.recorder)

    def _construct_keystore(self) -> KeyStore:
        master_key = self.config.resolve_master_key()
        backend = self.config.backend
        if backend == "memory":
            return InMemoryKeyStore(master_key)
        datastore = getattr(self.factory, "datastore", None)
        if datastore is None:
            raise ConfigurationError(f"the {backend} store has no datastore for keys")
        if backend == "sqlite":
            return SQLiteKeyStore(master_key, datastore)
        return PostgresKeyStore(master_key, datastore)

    @property
    def master_key_id(self) -> str:
        """The public identifier of the master key in use (a hash: not the key, not reversible)."""
        return self.vault.keystore.master_key_id

    # -- helpers for the command mixins ----------------------------------------------

    def now(self) -> datetime:
        """Return the application clock's current time."""
        return self.clock()

    def load(self, kind: type[A], aggregate_id: UUID, *, version: int | None = None) -> A:
        """Return the aggregate *aggregate_id*, which must be a *kind*.

        Raises :class:`AggregateNotFoundError` if there is none of that kind.
        """
        if not isinstance(aggregate_id, UUID):
            raise AggregateNotFoundError(kind.KIND, aggregate_id)
        if version is not None:
            check_int("version", version, minimum=1)
        try:
            aggregate: object = self.repository.get(aggregate_id, version=version, projector_func=project)
        except ESAggregateNotFoundError:
            raise AggregateNotFoundError(kind.KIND, aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise AggregateNotFoundError(kind.KIND, aggregate_id)
        return aggregate

    def save(self, *objs: Any, **kwargs: Any) -> Any:  # noqa: ANN401 (eventsourcing's signature)
        """Save the new events of *objs* in one transaction.

        Raises :class:`ConcurrentChangeError` if another change to one of them
        was saved first; then nothing of this save is stored.
        """
        processing_event = self._processing_event(objs, kwargs)
        recordings = self._recorded(self._record, processing_event)
        self._count_commit()
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _save_batch(self, *objs: Any, **kwargs: Any) -> None:  # noqa: ANN401 (as save)
        """Save as :meth:`save` does, without returning eventsourcing's recording of each event.

        The same transaction, checks, errors, snapshots and save listeners
        (which get the highest notification id); only the ``Recording`` and
        ``Notification`` objects nobody reads are not built (a bulk import
        would build two a resident).
        """
        processing_event = self._processing_event(objs, kwargs)
        positions = self._recorded(self._record_positions, processing_event)
        self._count_commit()
        self._take_snapshots(processing_event)
        self._tell_save_listeners(max(positions) if positions else None)

    def _processing_event(self, objs: tuple[Any, ...], kwargs: dict[str, Any]) -> ProcessingEvent[UUID]:
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, GridAggregate):
                # A plain class check: eventsourcing's runtime Protocol checks cost
                # more than everything else a bulk import does per event.
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        return processing_event

    def _record_positions(self, processing_event: ProcessingEvent[UUID]) -> Sequence[int]:
        """Record as eventsourcing's ``_record`` does; return the notification ids (none from a plain store)."""
        assert isinstance(self.events, ChainedEventStore)  # noqa: S101 (our own hook above)
        positions = self.events.store(
            processing_event.events, tracking=processing_event.tracking, **processing_event.saved_kwargs
        )
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return positions or ()

    @staticmethod
    def _recorded(record: Callable[[ProcessingEvent[UUID]], R], processing_event: ProcessingEvent[UUID]) -> R:
        """Return ``record(processing_event)``, turning the store's errors into ours (nothing was stored)."""
        try:
            return record(processing_event)
        except UnicodeEncodeError:
            # Text the domain accepted but UTF-8 cannot encode: refuse it by name, nothing was stored.
            for event in processing_event.events:
                for field, value in vars(event).items():
                    error = invalid_text_error(value, field)
                    if error is not None:
                        raise error from None
            raise  # pragma: no cover (the walk finds every str the codec encodes)
        except IntegrityError as e:
            first = processing_event.events[0] if processing_event.events else None
            raise ConcurrentChangeError(
                getattr(first, "originator_id", None), getattr(first, "originator_version", 0)
            ) from e

    def events_after(self, position: int = 0, *, limit: int = 500) -> list[LoggedEvent]:
        """Return up to *limit* events of the whole store's log after *position*, in log order.

        This is how a projection of your own reads the store: keep the
        position of the last event applied in the same transaction as the rows
        it wrote, and ask for the events after it. Each store commits in log
        order (SQLite has one writer; on PostgreSQL eventsourcing locks the
        table for each insert), so no event can later appear behind a position
        already read. Raises :class:`ValidationError` for a negative
        *position* or a *limit* outside 1..10,000.
        """
        check_int("position", position, minimum=0)
        check_int("limit", limit, minimum=1)
        if limit > MAX_LOG_PAGE:
            raise ValidationError("limit", f"must be at most {MAX_LOG_PAGE:,}, not {limit:,}")
        notifications = self.recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
        return [LoggedEvent(n.id, self.mapper.to_domain_event(n)) for n in notifications]

    def add_save_listener(self, listener: SaveListener) -> None:
        """Call *listener* after every save, with the highest notification id stored.

        Listeners run in the saving thread and must be quick (e.g. set an
        event): the outbox relay uses this to publish new events at once.
        """
        self._save_listeners.append(listener)

    def remove_save_listener(self, listener: SaveListener) -> None:
        """Stop calling *listener* after saves."""
        self._save_listeners.remove(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """Tell the save listeners the highest notification id of *recordings* (eventsourcing's hook)."""
        if recordings and self._save_listeners:
            self._tell_save_listeners(max(recording.notification.id for recording in recordings))

    def _tell_save_listeners(self, highest: int | None) -> None:
        """Tell the save listeners the highest notification id a save stored (if it stored any)."""
        if highest is not None and self._save_listeners:
            for listener in list(self._save_listeners):
                listener(highest)

    def _count_commit(self) -> None:
        self._commits.count = self.commits_in_this_thread() + 1

    def commits_in_this_thread(self) -> int:
        """How many saves this thread has committed through this application (for :meth:`sealing`)."""
        count: int = getattr(self._commits, "count", 0)
        return count

    @contextmanager
    def sealing(self, subject_id: UUID) -> Iterator[None]:
        """Discard a key created for *subject_id* if the block raises before its save commits.

        Once the save has committed, its events hold data sealed under the key:
        what fails afterwards (a save listener, a snapshot, Ctrl-C) must not
        destroy it, or the data would be lost with no erasure recorded.
        """
        existed = self._key_exists(subject_id)
        commits = self.commits_in_this_thread()
        try:
            yield
        except BaseException:
            if not existed and self.commits_in_this_thread() == commits:
                self.vault.discard_key(subject_id)
            raise

    def _key_exists(self, subject_id: UUID) -> bool:
        try:
            self.vault.keystore.get(subject_id)
        except KeyError:
            return False
        except Exception:  # noqa: BLE001 (destroyed or unreadable: it exists)
            return True
        return True

    # -- privacy helpers for the command mixins --------------------------------------

    def _identifiers(self, *sealed: SealedData | None) -> tuple[str, ...]:
        """Return the names, ID numbers and phones sealed in *sealed* (nothing for what is erased)."""
        found: list[str] = []
        for item in sealed:
            if item is None:
                continue
            try:
                value = self.vault.open(item)
            except PersonalDataErasedError:
                continue
            if isinstance(value, PersonalData | PartyDetails | SampledPerson):
                found.extend(identifiers_of(value))
        return tuple(found)

    def _resident_identifiers(self, resident: Resident) -> tuple[str, ...]:
        return () if resident.is_erased else self._identifiers(resident.personal)

    @staticmethod
    def _clear_text(
        field: str,
        value: object,
        identifiers: Iterable[str] = (),
        *,
        optional: bool = False,
        max_length: int = MAX_TEXT,
    ) -> str:
        """Check clear text for identifiers (see :func:`~grid_events.privacy.cleartext.check_clear_text`)."""
        return check_clear_text(field, value, identifiers=identifiers, optional=optional, max_length=max_length)

    def _check_purpose(self, purpose: object, identifiers: Iterable[str]) -> str:
        """Return the purpose of a look at personal data in full: required, and naming nobody."""
        if isinstance(purpose, str) and not purpose.strip():
            raise ValidationError(
                "purpose", "say why you need to see the personal data in full (PIPL Art. 6): it is recorded"
            )
        return check_clear_text("purpose", purpose, identifiers=identifiers, max_length=PURPOSE_MAX)

    def _record_view(
        self,
        subject_id: UUID,
        *,
        actor: Actor,
        purpose: str,
        record_kind: str,
        record_id: UUID,
        item: str,
        fields: tuple[str, ...],
    ) -> None:
        """Record, in the subject's :class:`DataSubject` record, that *actor* saw *fields* in full.

        The purpose is sealed under the subject's key. Raises if the record
        cannot be saved: then the caller must not show the data.
        """
        for attempt in range(_SAVE_ATTEMPTS):
            sealed_purpose, _ = self.vault.seal(subject_id, purpose, field="purpose")
            record = self._subject_record(subject_id, actor)
            record.record_view(
                record_kind=record_kind,
                record_id=record_id,
                item=item,
                fields=fields,
                purpose=sealed_purpose,
                actor=actor,
                at=self.now(),
            )
            try:
                self.save(record)
            except ConcurrentChangeError:
                if attempt + 1 == _SAVE_ATTEMPTS:
                    raise
            else:
                return

    def _subject_record(self, subject_id: UUID, actor: Actor) -> DataSubject:
        """Return the :class:`DataSubject` record of *subject_id*, opened (not yet saved) if it has none."""
        try:
            return self.load(DataSubject, data_subject_id(subject_id))
        except AggregateNotFoundError:
            return DataSubject.open(subject_id, actor=actor, at=self.now())

    def _erase_subject(
        self,
        subject_id: UUID,
        *,
        actor: Actor,
        reason: str,
        request_ref: str,
        identifiers: Iterable[str] = (),
    ) -> None:
        """Erase the personal data sealed under *subject_id*'s key: record it, then destroy the key.

        A resident is erased through the resident (their own event). The
        reason may not name the subject (*identifiers*, if the caller knows
        them). Calling this again destroys the key again and records nothing more.
        """
        check_instance("subject_id", subject_id, UUID)
        try:
            resident = self.load(Resident, subject_id)
        except AggregateNotFoundError:
            resident = None
        if resident is not None:
            self._erase_resident(resident, actor=actor, reason=reason, request_ref=request_ref)
            return
        if not self.vault.keystore.exists(subject_id):
            raise AggregateNotFoundError("data subject", subject_id)
        identifiers = tuple(identifiers)
        check_clear_text("reason", reason, identifiers=identifiers)
        check_clear_text("request_ref", request_ref, identifiers=identifiers, optional=True, max_length=200)
        for attempt in range(_SAVE_ATTEMPTS):
            record = self._subject_record(subject_id, actor)
            if record.is_erased:
                break
            record.erase(actor=actor, reason=reason, request_ref=request_ref, at=self.now())
            try:
                self.save(record)
            except ConcurrentChangeError:
                if attempt + 1 == _SAVE_ATTEMPTS:
                    raise
            else:
                break
        self.vault.erase(subject_id)

    def _erase_resident(self, resident: Resident, *, actor: Actor, reason: str, request_ref: str) -> None:
        if not resident.is_erased:
            identifiers = self._resident_identifiers(resident)
            check_clear_text("reason", reason, identifiers=identifiers)
            check_clear_text("request_ref", request_ref, identifiers=identifiers, optional=True, max_length=200)
            resident.erase_personal_data(actor=actor, reason=reason, request_ref=request_ref, at=self.now())
            self.save(resident)
        self.vault.erase(resident.id)
