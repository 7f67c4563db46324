"""Making subject keys in bulk: random, distinct, stored only when asked, all or none."""

from __future__ import annotations

from uuid import uuid4

import pytest

from grid_events.privacy.keystore import KEY_BYTES, NONCE_BYTES, InMemoryKeyStore

MASTER = bytes(range(32))


def test_keys_made_in_bulk_are_distinct_and_stored_only_when_asked() -> None:
    """make_keys makes one fresh key a subject, wrapped under the master key; store_keys stores them."""
    keystore = InMemoryKeyStore(MASTER)
    subjects = [uuid4() for _ in range(50)]

    made = keystore.make_keys(subjects)

    assert not any(keystore.exists(subject) for subject in subjects)
    assert len(set(made.keys)) == 50
    assert all(len(key) == KEY_BYTES for key in made.keys)
    assert [subject for subject, _ in made.rows] == subjects
    assert len({wrapped[:NONCE_BYTES] for _, wrapped in made.rows}) == 50
    assert made.master_id == keystore.master_key_id
    assert all(key.hex() not in repr(made) for key in made.keys)

    keystore.store_keys(made)

    assert [keystore.get(subject) for subject in subjects] == made.keys


def test_storing_keys_for_a_subject_that_has_one_stores_none() -> None:
    """A subject with a key already refuses the whole batch."""
    keystore = InMemoryKeyStore(MASTER)
    taken = uuid4()
    keystore.create_many([taken])
    fresh = uuid4()

    with pytest.raises(ValueError, match="already have a key"):
        keystore.store_keys(keystore.make_keys([fresh, taken]))

    assert not keystore.exists(fresh)
