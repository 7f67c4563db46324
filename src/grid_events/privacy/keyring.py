"""The record of the master key's rotations, kept as events like everything else.

A rotation re-wraps every subject's key under a new master key (see
:meth:`grid_events.privacy.keystore.KeyStore.rewrap`). The events name master
keys only by their public identifiers (:func:`~grid_events.privacy.keystore.master_key_id`),
never by the keys themselves.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from grid_events.domain.base import GridAggregate
from grid_events.domain.checks import check_int, check_text
from grid_events.domain.values import Actor

__all__ = ["KEY_RING_ID", "KeyRing"]

KEY_RING_ID = UUID("0b4f4c1e-8a8e-4d55-b3a0-5c3f0c9e7a21")
"""The one key ring of a store."""


class KeyRing(GridAggregate):
    """The store's master key history."""

    KIND = "key_ring"

    class Started(GridAggregate.Created):
        """The history was started (with the first rotation)."""

        master_key_id: str

    class MasterKeyRotated(GridAggregate.Event):
        """Every live subject key was re-wrapped from one master key to another."""

        from_key_id: str
        to_key_id: str
        keys_rewrapped: int

        def apply(self, aggregate: KeyRing) -> None:
            """Note the master key now in use."""
            aggregate.master_key_id = self.to_key_id
            aggregate.rotations += 1

    def __init__(self, master_key_id: str) -> None:
        self.master_key_id = master_key_id
        self.rotations = 0

    @classmethod
    def start(cls, master_key_id: str, *, actor: Actor, at: datetime | None = None) -> KeyRing:
        """Start the history with the master key in use, *master_key_id*."""
        check_text("master_key_id", master_key_id, max_length=64)
        return cls._create_with(cls.Started, aggregate_id=KEY_RING_ID, actor=actor, at=at, master_key_id=master_key_id)

    def record_rotation(
        self, from_key_id: str, to_key_id: str, keys_rewrapped: int, *, actor: Actor, at: datetime | None = None
    ) -> None:
        """Record a rotation from *from_key_id* to *to_key_id* that re-wrapped *keys_rewrapped* keys."""
        check_text("from_key_id", from_key_id, max_length=64)
        check_text("to_key_id", to_key_id, max_length=64)
        check_int("keys_rewrapped", keys_rewrapped, minimum=0)
        self._trigger(
            self.MasterKeyRotated,
            actor=actor,
            at=at,
            from_key_id=from_key_id,
            to_key_id=to_key_id,
            keys_rewrapped=keys_rewrapped,
        )
