"""Seal personal data before it enters an event; open it for those allowed to see it.

Sealing encodes a value with the deterministic msgpack codec and encrypts it
with AES-256-GCM under the data subject's own key; the nonce is random and the
subject id and scheme are bound in as associated data, so a ciphertext cannot be
moved to another subject unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from grid_events.codec import MsgpackTranscoder, TypeRegistry
from grid_events.domain.values import SealedData
from grid_events.exceptions import GridEventsError, PersonalDataErasedError
from grid_events.privacy.cleartext import invalid_text_error
from grid_events.privacy.keystore import NONCE_BYTES, KeyStore, NewKeys

__all__ = ["SCHEME", "Vault"]

SCHEME = "aes256gcm-v1"
_SCHEME_BYTES = SCHEME.encode()


class Vault:
    """Seals and opens personal data with per-subject keys from a :class:`KeyStore`."""

    def __init__(self, keystore: KeyStore, registry: TypeRegistry) -> None:
        self.keystore = keystore
        self._transcoder = MsgpackTranscoder(registry)

    def seal(self, subject_id: UUID, value: Any, *, field: str = "value") -> tuple[SealedData, bool]:
        """Encrypt *value* under the key of *subject_id*.

        Returns the sealed data and whether a new key was created for it (so a
        caller whose save then fails can :meth:`discard_key` it). Raises
        :class:`PersonalDataErasedError` if the subject's key was destroyed,
        and :class:`~grid_events.ValidationError` naming *field* (before any
        key is made) if *value* holds text that is not valid Unicode.
        """
        plaintext = self._encode(value, field)
        key, created = self.keystore.get_or_create(subject_id)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, _associated_data(subject_id))
        return SealedData(subject_id=subject_id, scheme=SCHEME, nonce=nonce, ciphertext=ciphertext), created

    def seal_new(self, items: Sequence[tuple[UUID, Any]], *, field: str = "items") -> list[SealedData]:
        """Seal each ``(subject id, value)`` under a new key made for that subject, in bulk.

        All the keys are created in one transaction; the subjects must not have
        keys yet. Pair with :meth:`discard_keys` if the save that follows fails.
        """
        sealed, new_keys = self.seal_new_unstored(items, field=field)
        self.keystore.store_keys(new_keys)
        return sealed

    def seal_new_unstored(
        self, items: Sequence[tuple[UUID, Any]], *, field: str = "items"
    ) -> tuple[list[SealedData], NewKeys]:
        """Seal each ``(subject id, value)`` under a new key, and return the keys still to be stored.

        As :meth:`seal_new`, except that nothing is stored: the caller stores
        the keys (:meth:`KeyStore.store_keys`, or in the transaction that saves
        the events: :meth:`SQLiteKeyStore.insert_keys`). Raises
        :class:`~grid_events.ValidationError` naming ``field[index]`` for a
        value holding text that is not valid Unicode.
        """
        encode = self._transcoder.encode
        plaintexts = []
        for index, (_, value) in enumerate(items):
            try:
                plaintexts.append(encode(value))
            except UnicodeEncodeError:
                self._encode(value, f"{field}[{index}]")  # raises the error naming the field
                raise  # pragma: no cover (the walk finds every str the codec encodes)
        subject_ids = [subject_id for subject_id, _ in items]
        new_keys = self.keystore.make_keys(subject_ids)
        nonces = os.urandom(NONCE_BYTES * len(items))
        sealed = []
        for offset, subject_id, plaintext, key in zip(
            range(0, len(nonces), NONCE_BYTES), subject_ids, plaintexts, new_keys.keys, strict=True
        ):
            nonce = nonces[offset : offset + NONCE_BYTES]
            ciphertext = AESGCM(key).encrypt(nonce, plaintext, subject_id.bytes + _SCHEME_BYTES)
            sealed.append(SealedData(subject_id=subject_id, scheme=SCHEME, nonce=nonce, ciphertext=ciphertext))
        return sealed, new_keys

    def _encode(self, value: Any, field: str = "value") -> bytes:
        """Encode *value* before any key is made, refusing text that is not valid Unicode by its field."""
        try:
            return self._transcoder.encode(value)
        except UnicodeEncodeError:
            error = invalid_text_error(value, field)
            if error is None:  # pragma: no cover (the walk finds every str the codec encodes)
                raise
            raise error from None

    def open(self, sealed: SealedData) -> Any:
        """Decrypt and decode *sealed*.

        Raises :class:`PersonalDataErasedError` once the subject's key is destroyed.
        """
        if sealed.scheme != SCHEME:
            raise GridEventsError(f"unknown sealing scheme {sealed.scheme!r}")
        try:
            key = self.keystore.get(sealed.subject_id)
        except KeyError:
            # No key ever existed here: treat as erased rather than reveal more.
            raise PersonalDataErasedError(sealed.subject_id) from None
        try:
            plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, _associated_data(sealed.subject_id))
        except InvalidTag as e:
            raise GridEventsError(f"sealed data of {sealed.subject_id} failed authentication") from e
        return self._transcoder.decode(plaintext)

    def is_erased(self, subject_id: UUID) -> bool:
        """Return whether the key of *subject_id* has been destroyed."""
        return self.keystore.is_destroyed(subject_id)

    def erase(self, subject_id: UUID) -> None:
        """Destroy the key of *subject_id*: everything sealed under it becomes unreadable."""
        self.keystore.destroy(subject_id)

    def discard_key(self, subject_id: UUID) -> None:
        """Remove a key created by :meth:`seal` whose events were never saved."""
        self.keystore.discard(subject_id)

    def discard_keys(self, subject_ids: Sequence[UUID]) -> None:
        """Remove keys created by :meth:`seal_new` whose events were never saved."""
        self.keystore.discard_many(subject_ids)


def _associated_data(subject_id: UUID) -> bytes:
    return subject_id.bytes + _SCHEME_BYTES
