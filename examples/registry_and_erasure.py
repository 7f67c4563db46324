"""Register residents, see them masked, look in full (recorded), then erase one on request.

Run:  python examples/registry_and_erasure.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grid_events import (
    Actor,
    GridApplication,
    GridCell,
    PersonalData,
    PersonalDataErasedError,
    ResidentRecord,
    ResidentTag,
    Role,
    StoreConfig,
)
from grid_events.audit import verify_store

worker = Actor("w-li", Role.GRID_WORKER)
secretary = Actor("s-wang", Role.SUPERVISOR)
admin = Actor("admin", Role.ADMINISTRATOR)
auditor = Actor("a-zhou", Role.AUDITOR)
cell = GridCell("江南", "飞凤", "03")
zhang = PersonalData(name="张秀英", id_number="330782194203151237", phone="13812345678", address="飞凤小区3幢501")
li = PersonalData(name="李建国", id_number="330782195809072466", phone="13900001111")

with tempfile.TemporaryDirectory() as directory:
    database = Path(directory) / "events.sqlite3"
    with GridApplication(StoreConfig.sqlite(database)) as app:
        # Import an existing registry in one transaction: all of it or nothing.
        zhang_id, li_id = app.import_residents(
            [
                ResidentRecord(zhang, cell, frozenset({ResidentTag.ELDERLY_LIVING_ALONE})),
                ResidentRecord(li, cell),
            ],
            actor=worker,
        )

        # A grid worker sees masked data; a supervisor may look in full, with a purpose, and that look is recorded.
        print("worker sees:", app.resident_personal_data(zhang_id, actor=worker))
        full = app.resident_personal_data(zhang_id, actor=secretary, unmasked=True, purpose="安排上门送药")
        assert full.phone == "13812345678"
        # Who looked at her data, when and why (PIPL Art. 45): an auditor reads the record.
        for look in app.privacy_history(zhang_id, actor=auditor).views:
            print("recorded look:", look.at.isoformat(timespec="seconds"), look.actor, look.fields, look.purpose)

        # The resident asks for deletion (PIPL Art. 47): the erasure is recorded, then her key is destroyed.
        app.erase_resident(zhang_id, actor=admin, reason="本人申请删除个人信息", request_ref="申请-2026-118")
        try:
            app.resident_personal_data(zhang_id, actor=secretary, unmasked=True, purpose="核对")
        except PersonalDataErasedError as error:
            print("after erasure:", error)

        # The history still proves itself: erasure destroyed a key, not a byte of the events.
        assert verify_store(app.recorder).ok

    # Nothing in the database file spells her name, ID number or phone.
    wal = database.with_name(database.name + "-wal")
    raw = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for secret in (zhang.name, zhang.id_number, zhang.phone):
        assert secret.encode() not in raw
    print("her name, ID number and phone appear nowhere in the store")
