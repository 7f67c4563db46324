"""The service killed with SIGKILL during a catch-up, again and again: every view still equals a fresh rebuild."""

from __future__ import annotations

import asyncio
import functools
import random
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from grid_service.runtime.settings import ViewStoreSettings

from .conftest import History, open_view_store
from .helpers import assert_views_equal_a_rebuild, free_port, positions, slowest, start_service, wait_until

ROUNDS = 4


def reached(views: ViewStoreSettings, target: int, process: subprocess.Popen[bytes]) -> bool:
    """Whether every view has reached *target* (or the process has ended: no use waiting)."""
    return slowest(views) >= target or process.poll() is not None


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_service_killed_during_catch_up_ends_with_every_view_equal_to_a_rebuild(
    history: History, tmp_path: Path, view_store_settings: ViewStoreSettings
) -> None:
    """Kill -9 the service at random moments while it catches up; restarted, its views equal a rebuild."""
    chance = random.Random(20261102)
    views = view_store_settings
    log = tmp_path / "service.log"
    prefix = f"crash-{uuid.uuid4().hex[:8]}"
    start = functools.partial(
        start_service,
        events=history.store.sqlite_path,
        views=views,
        nats_url=history.server.url,
        consumer_prefix=prefix,
        log=log,
        extra=("--batch-size", "250"),
    )
    for _ in range(ROUNDS):
        before = slowest(views)
        target = before + chance.randint(1000, 4000)
        process = start(port=free_port())
        try:
            await wait_until(functools.partial(reached, views, target, process), within=120)
            await asyncio.sleep(chance.uniform(0, 0.05))
        finally:
            process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(process.wait)
        assert -signal.SIGKILL == process.returncode, log.read_text()
        assert slowest(views) < history.events, "the service was to be killed while catching up"

    process = start(port=free_port())
    try:
        await wait_until(functools.partial(reached, views, history.events, process), within=180)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)
    assert 0 == process.returncode, log.read_text()
    assert set(positions(views).values()) == {history.events}

    with open_view_store(views) as store:
        rows = await asyncio.to_thread(assert_views_equal_a_rebuild, store, history.store)
    assert rows["resident_registry"] > 20_000
