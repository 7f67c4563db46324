"""The README's main command, run as written (but stopping once the day is played).

The README's first command creates a virtual environment, installs the
package with its service extra and runs ``grid-events demo``. The install is
what the test suite's own environment already went through (``pip install -e
'.[dev]'``, which includes the service extra); here the installed
``grid-events`` entry point runs the demo exactly as the README says, plus
``--exit-when-done`` (so it stops instead of serving until Ctrl-C), ``--port
0`` (any free port) and ``--pace 0`` (no pauses for the watching eye).
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
GRID_EVENTS = Path(sys.executable).with_name("grid-events")


def readme_main_command() -> list[str]:
    """Return the README's first bash command, split into its ``&&``-joined steps."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.+?)\n```", text, re.DOTALL)
    assert block is not None, "the README has no bash block"
    return [step.strip() for step in block.group(1).split("&&")]


def run_demo(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the README's ``grid-events demo`` with *extra* options, in *tmp_path*."""
    steps = readme_main_command()
    demo = shlex.split(steps[-1])
    assert demo[0].endswith("grid-events"), steps
    assert GRID_EVENTS.exists(), f"the package's entry point is not installed beside {sys.executable}"
    command = [str(GRID_EVENTS), *demo[1:], "--exit-when-done", "--port", "0", "--pace", "0", *extra]
    return subprocess.run(  # noqa: S603 (our own entry point)
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def start_demo(tmp_path: Path, *arguments: str) -> subprocess.Popen[str]:
    """Start ``grid-events`` with *arguments* in *tmp_path*, its output (both streams) on a pipe, wide."""
    return subprocess.Popen(  # noqa: S603 (our own entry point)
        [str(GRID_EVENTS), *arguments],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_the_readme_main_command_installs_the_service_extra_and_runs_the_demo() -> None:
    """The command a newcomer copies: a venv, the package with its service extra, the demo."""
    steps = readme_main_command()
    assert steps[0] == "python3 -m venv .venv"
    assert steps[1] == ".venv/bin/pip install -e '.[service]'"
    assert shlex.split(steps[2]) == [".venv/bin/grid-events", "demo"]


@pytest.mark.slow
def test_the_demo_plays_a_day_through_store_nats_and_service_and_prints_where_to_look(tmp_path: Path) -> None:
    """Every event recorded reaches the stream and every view; the summary and the addresses are printed."""
    done = run_demo(tmp_path)
    assert 0 == done.returncode, done.stdout + done.stderr
    out = done.stdout

    recorded = re.search(r"events: ([\d,]+) recorded in the event store", out)
    assert recorded is not None, out
    events = int(recorded.group(1).replace(",", ""))
    assert events > 100
    on_stream = re.search(r"→ ([\d,]+) on the NATS stream", out)
    assert on_stream is not None, out
    assert events == int(on_stream.group(1).replace(",", ""))
    applied = dict(re.findall(r"→ view (\w+): ([\d,]+) applied", out))
    assert set(applied) == {
        "task_board",
        "mediation_register",
        "site_dashboard",
        "resident_registry",
        "statistics",
        "audit_trail",
    }
    assert {int(n.replace(",", "")) for n in applied.values()} == {events}

    for work in (
        "batches sealed",
        "calls made",
        "hazards rectified",
        "agreements signed",
        "follow-up visits recorded",
        "disputes resolved",
    ):
        assert re.search(rf"{work}\s*│\s*[1-9][\d,]*", out), f"{work!r} missing from the summary:\n{out}"
    url = re.search(r"the views are served on (http://127\.0\.0\.1:\d+)", out)
    assert url is not None, out
    assert f"{url.group(1)}/disputes" in out
    assert re.search(rf"{re.escape(url.group(1))}/pages/cases/[0-9a-f-]{{36}}\n", out)

    data = tmp_path / "grid-data" / "demo"
    assert (data / "events.sqlite3").is_file()
    assert (data / "views.sqlite3").is_file()


@pytest.mark.slow
def test_the_same_seed_plays_the_same_day(tmp_path: Path) -> None:
    """Deterministic with a seed: the day's numbers are the same twice, and differ for another seed."""

    def numbers(seed: int) -> list[str]:
        done = run_demo(tmp_path, "--seed", str(seed))
        assert 0 == done.returncode, done.stdout + done.stderr
        return re.findall(r"│ (.+?) │\s+([\d,]+) │", done.stdout)

    first = numbers(7)
    assert first
    assert numbers(7) == first
    assert numbers(8) != first


def test_a_taken_port_is_a_clear_error_with_exit_code_1(tmp_path: Path) -> None:
    """The demo says which port is taken and what to do, and exits 1 (click's usage-error code is 2)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 (our own entry point)
            [str(GRID_EVENTS), "demo", "--port", str(port), "--exit-when-done"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert 1 == done.returncode, done.stdout + done.stderr
    assert f"127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr


@pytest.mark.slow
def test_while_the_demo_serves_its_logins_open_the_dashboards_and_an_audit_page(tmp_path: Path) -> None:
    """Without --exit-when-done the demo serves; its printed logins open what each role may see; Ctrl-C stops it."""
    steps = readme_main_command()
    demo = shlex.split(steps[-1])
    process = start_demo(tmp_path, *demo[1:], "--port", "0", "--pace", "0")
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    out = ""
    try:
        while "serving until Ctrl-C" not in out:
            out += lines.get(timeout=180)
        url = re.search(r"served on (http://127\.0\.0\.1:\d+)", out)
        assert url is not None, out
        logins = dict(re.findall(r"^  ([asv]-demo)  (\S+)  ", out, re.MULTILINE))
        assert {"a-demo", "s-demo", "v-demo"} <= set(logins), out
        audit_page = re.search(r"an? dispute's audit page: (\S+)", out)
        assert audit_page is not None, out

        with httpx.Client(timeout=30) as client:
            page = client.get(audit_page.group(1), auth=("a-demo", logins["a-demo"]))
            assert 200 == page.status_code, page.text
            assert 'data-status="verified"' in page.text
            register = client.get(f"{url.group(1)}/disputes", auth=("s-demo", logins["s-demo"]))
            assert 200 == register.status_code, register.text
            assert register.json()["items"]
            refused = client.get(f"{url.group(1)}/disputes", auth=("v-demo", logins["v-demo"]))
            assert 403 == refused.status_code
            assert "dispute.read" in refused.json()["detail"]
            assert 401 == client.get(f"{url.group(1)}/residents").status_code
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=60)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert 0 == returncode, out


@pytest.mark.slow
def test_ctrl_c_while_the_day_plays_stops_the_play_and_everything_cleanly(tmp_path: Path) -> None:
    """Ctrl-C during the play halts it, stops the service, relay and nats-server, says so and exits 0."""
    with start_demo(tmp_path, "demo", "--port", "0", "--pace", "120") as process:
        assert process.stdout is not None
        out = ""
        while "served on" not in out:
            line = process.stdout.readline()
            assert line, out
            out += line
        time.sleep(3)  # a few actions into a day paced to take two minutes
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    out += rest
    assert 0 == process.returncode, out
    assert "stopped." in out
    assert "Traceback" not in out
    assert "the day in numbers" not in out  # the day did not play on


def test_the_demo_refuses_to_empty_a_directory_it_did_not_make(tmp_path: Path) -> None:
    """An office's data directory given by mistake is left alone, with a clear error and exit code 1."""
    office = tmp_path / "grid-data"
    office.mkdir()
    (office / "events.sqlite3").write_bytes(b"the record of truth")
    done = subprocess.run(  # noqa: S603 (our own entry point)
        [str(GRID_EVENTS), "demo", "--data-dir", str(office), "--exit-when-done"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 1 == done.returncode, done.stdout + done.stderr
    assert "holds files that no demo made" in done.stderr
    assert b"the record of truth" == (office / "events.sqlite3").read_bytes()
