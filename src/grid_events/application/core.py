"""The machinery every command of :class:`~grid_events.GridApplication` shares.

Persistence is eventsourcing's, with three changes: events are stored in the
chained msgpack layout (:mod:`grid_events.chain`), personal data is sealed by a
:class:`~grid_events.privacy.vault.Vault` whose keys live in the same database,
and a concurrent change surfaces as :class:`ConcurrentChangeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError as ESAggregateNotFoundError
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import EventStore, IntegrityError, Recording, Transcoder
from eventsourcing.utils import EnvType

from grid_events.chain import ChainedEventStore, EventMapper
from grid_events.codec import MsgpackTranscoder, TypeRegistry, default_registry
from grid_events.config import StoreConfig
from grid_events.domain.base import GridAggregate
from grid_events.exceptions import AggregateNotFoundError, ConcurrentChangeError, ConfigurationError
from grid_events.privacy.keystore import InMemoryKeyStore, KeyStore, PostgresKeyStore, SQLiteKeyStore
from grid_events.privacy.personal import PartyDetails, PersonalData, SampledPerson
from grid_events.privacy.vault import Vault

__all__ = ["ApplicationCore", "Clock", "SaveListener"]

A = TypeVar("A", bound=GridAggregate)
Clock = Callable[[], datetime]
SaveListener = Callable[[int], None]
"""Called after each save with the highest notification id it stored."""


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
        super().__init__(merged_env)
        try:
            self.vault = Vault(self._construct_keystore(), sealed_types_registry())
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
        try:
            recordings = self._record(processing_event)
        except IntegrityError as e:
            first = processing_event.events[0] if processing_event.events else None
            raise ConcurrentChangeError(
                getattr(first, "originator_id", None), getattr(first, "originator_version", 0)
            ) from e
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

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
        if recordings and self._save_listeners:
            highest = max(recording.notification.id for recording in recordings)
            for listener in list(self._save_listeners):
                listener(highest)

    @contextmanager
    def sealing(self, subject_id: UUID) -> Iterator[None]:
        """Discard a key created for *subject_id* if the block raises (nothing half-written)."""
        existed = self._key_exists(subject_id)
        try:
            yield
        except BaseException:
            if not existed:
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
