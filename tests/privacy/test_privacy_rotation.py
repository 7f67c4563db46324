"""Master key rotation (PIPL Art. 51): every key re-wrapped at once, the old master key opens nothing, erasure stays."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import attrs
import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from grid_events import (
    Actor,
    ConfigurationError,
    GridApplication,
    KeyRing,
    PermissionDeniedError,
    PersonalDataErasedError,
    Role,
    StoreConfig,
    ValidationError,
    decode_master_key,
    encode_master_key,
    new_master_key,
)
from grid_events.privacy.keyring import KEY_RING_ID
from grid_events.privacy.keystore import NONCE_BYTES, master_key_id
from grid_service.cli import main

from .privacy_helpers import ZHANG, World, build_world, sample_subject, stored_count

ADMIN = Actor("admin", Role.ADMINISTRATOR)
SECRETARY = Actor("s-wang", Role.SUPERVISOR)
AUDITOR = Actor("a-zhou", Role.AUDITOR)
PURPOSE = "核对登记信息"


def wrapped_keys(app: GridApplication) -> dict[object, bytes]:
    """Return every live wrapped key of the store, by subject."""
    return dict(app.vault.keystore._live_keys())


def erase_first_sample(world: World) -> UUID:
    """Erase 王芳 (sample S1, not a resident) and return her subject id."""
    world.app.erase_sampled_person(world.shift_id, "S1", actor=ADMIN, reason="本人申请删除")
    return sample_subject(world.app, world.shift_id, "S1")


def test_rotation_rewraps_every_key_and_is_recorded(store: StoreConfig) -> None:
    """Every live key is re-wrapped; the data still reads; erased stays erased; the rotation is an event."""
    world = build_world(store)
    try:
        erased = erase_first_sample(world)
        old_id = world.app.master_key_id
        live = len(wrapped_keys(world.app))
        new_key = new_master_key()

        assert live == world.app.rotate_master_key(new_key, actor=ADMIN)

        assert master_key_id(new_key) == world.app.master_key_id
        assert ZHANG == world.app.resident_personal_data(
            world.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE
        )
        with pytest.raises(PersonalDataErasedError):
            world.app.sampled_person(world.shift_id, "S1", actor=SECRETARY, unmasked=True, purpose=PURPOSE)
        assert world.app.privacy_history(erased, actor=AUDITOR).erased
        ring = world.app.load(KeyRing, KEY_RING_ID)
        assert (master_key_id(new_key), 1) == (ring.master_key_id, ring.rotations)
        (rotated,) = [
            event for event in world.app.events.get(KEY_RING_ID) if isinstance(event, KeyRing.MasterKeyRotated)
        ]
        assert (old_id, master_key_id(new_key), live, ADMIN) == (
            rotated.from_key_id,
            rotated.to_key_id,
            rotated.keys_rewrapped,
            rotated.actor,
        )
    finally:
        world.app.close()


@attrs.frozen
class Rotated:
    """A SQLite store rotated to *new_key* from the key in the file beside it."""

    path: Path
    new_key: bytes
    keys_before: dict[object, bytes]
    erased: UUID
    resident_id: UUID


@pytest.fixture
def rotated(tmp_path: Path) -> Rotated:
    """A SQLite store (its first key in the file beside it) rotated to a new key; the keys as they were before."""
    path = tmp_path / "events.sqlite3"
    world = build_world(StoreConfig.sqlite(path))
    erased = erase_first_sample(world)
    before = wrapped_keys(world.app)
    new_key = new_master_key()
    world.app.rotate_master_key(new_key, actor=ADMIN)
    world.app.close()
    return Rotated(path, new_key, before, erased, world.resident_id)


def test_the_old_master_key_opens_nothing_and_the_new_one_everything(rotated: Rotated) -> None:
    """Opened with the old key the store refuses at once; with the new one it reads, erasure kept."""
    old_key = decode_master_key((rotated.path.parent / "events.sqlite3.master-key").read_text())

    with pytest.raises(ConfigurationError, match="rotated"):
        GridApplication(StoreConfig.sqlite(rotated.path))
    with GridApplication(StoreConfig.sqlite(rotated.path, master_key=rotated.new_key)) as app:
        assert ZHANG == app.resident_personal_data(rotated.resident_id, actor=SECRETARY, unmasked=True, purpose=PURPOSE)
        assert app.privacy_history(rotated.erased, actor=AUDITOR).erased
        old = AESGCM(old_key)
        keys = wrapped_keys(app)
        assert keys
        for subject_id, wrapped in keys.items():
            assert isinstance(subject_id, UUID)
            with pytest.raises(InvalidTag):
                old.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject_id.bytes)


def test_no_key_wrapped_under_the_old_master_key_is_left_in_the_files(rotated: Rotated) -> None:
    """The rotation overwrites the old wrapped keys in the database file and empties the write-ahead log."""
    files = b"".join(
        file.read_bytes() for file in rotated.path.parent.glob("events.sqlite3*") if "master-key" not in file.name
    )
    assert rotated.keys_before
    assert [] == [subject for subject, wrapped in rotated.keys_before.items() if wrapped in files]


def test_rotation_is_refused_to_anyone_but_the_administrator_and_for_a_bad_key() -> None:
    """Refusals name the right or the field, and change nothing."""
    world = build_world()
    before = (stored_count(world.app), world.app.master_key_id)
    with pytest.raises(PermissionDeniedError, match=r"keys\.rotate"):
        world.app.rotate_master_key(new_master_key(), actor=SECRETARY)
    for bad in (b"short", "not bytes", None, bytes(33)):
        with pytest.raises(ValidationError) as caught:
            world.app.rotate_master_key(bad, actor=ADMIN)  # type: ignore[arg-type]
        assert "new_key" == caught.value.field
    assert before == (stored_count(world.app), world.app.master_key_id)
    world.app.close()


def test_rotating_to_the_key_in_use_is_refused() -> None:
    """The new key must be new."""
    key = new_master_key()
    with (
        GridApplication(StoreConfig(backend="memory", master_key=key)) as app,
        pytest.raises(ValidationError, match="in use"),
    ):
        app.rotate_master_key(key, actor=ADMIN)


# -- grid-events keys rotate --------------------------------------------------------------------------


@pytest.fixture
def sqlite_store_file(tmp_path: Path) -> Path:
    """A SQLite store with one resident, its master key in the default file beside it."""
    path = tmp_path / "events.sqlite3"
    world = build_world(StoreConfig.sqlite(path))
    world.app.close()
    return path


def test_the_command_rotates_from_the_environment_and_never_prints_a_key(
    sqlite_store_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new key from GRID_EVENTS_NEW_MASTER_KEY; the key file beside the store is updated; next steps printed."""
    key_file = sqlite_store_file.with_name("events.sqlite3.master-key")
    old_text = key_file.read_text().strip()
    new_key = new_master_key()
    monkeypatch.delenv("GRID_EVENTS_MASTER_KEY", raising=False)
    monkeypatch.setenv("GRID_EVENTS_NEW_MASTER_KEY", encode_master_key(new_key))

    result = CliRunner().invoke(main, ["keys", "rotate", "--sqlite-path", str(sqlite_store_file), "--by", "admin"])

    assert 0 == result.exit_code, result.output
    assert "Re-wrapped" in result.output
    assert "Destroy every copy of the old master key" in result.output
    assert old_text not in result.output
    assert encode_master_key(new_key) not in result.output
    assert encode_master_key(new_key) == key_file.read_text().strip()
    assert 0o600 == key_file.stat().st_mode & 0o777
    with GridApplication(StoreConfig.sqlite(sqlite_store_file)) as app:
        assert 1 == app.load(KeyRing, KEY_RING_ID).rotations


def test_the_command_reads_the_new_key_from_stdin_or_a_file(sqlite_store_file: Path, tmp_path: Path) -> None:
    """--new-key-stdin and --new-key-file work too."""
    runner = CliRunner(env={"GRID_EVENTS_NEW_MASTER_KEY": "", "GRID_EVENTS_MASTER_KEY": ""})
    args = ["keys", "rotate", "--sqlite-path", str(sqlite_store_file), "--by", "admin"]
    first = runner.invoke(main, [*args, "--new-key-stdin"], input=encode_master_key(new_master_key()) + "\n")
    key_file = tmp_path / "next.key"
    key_file.write_text(encode_master_key(new_master_key()))
    second = runner.invoke(main, [*args, "--new-key-file", str(key_file)])

    assert (0, 0) == (first.exit_code, second.exit_code), first.output + second.output
    assert "Re-wrapped" in second.output


@pytest.mark.parametrize(
    ("env", "extra", "message"),
    [
        ({}, [], "exactly one way"),
        ({"GRID_EVENTS_NEW_MASTER_KEY": "not base64!"}, [], "new master key"),
        ({"GRID_EVENTS_NEW_MASTER_KEY": encode_master_key(b"x" * 32)}, ["--new-key-stdin"], "exactly one way"),
    ],
)
def test_the_command_refuses_a_missing_double_or_bad_key_with_usage_errors(
    sqlite_store_file: Path, env: dict[str, str], extra: list[str], message: str
) -> None:
    """Exit 2 and a message saying what to fix; nothing rotated."""
    runner = CliRunner(env={"GRID_EVENTS_NEW_MASTER_KEY": "", "GRID_EVENTS_MASTER_KEY": "", **env})
    result = runner.invoke(
        main, ["keys", "rotate", "--sqlite-path", str(sqlite_store_file), "--by", "admin", *extra], input="\n"
    )

    assert 2 == result.exit_code
    assert message in result.output
    with GridApplication(StoreConfig.sqlite(sqlite_store_file)) as app:
        assert app.master_key_id
