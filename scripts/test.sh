#!/usr/bin/env bash
# Install grid_events with its development tools into ./.venv, then run every check:
# formatting, lint (ruff), types (mypy --strict) and the test suite (pytest).
# PostgreSQL tests run when GRID_EVENTS_TEST_POSTGRES_DSN is set and are skipped, with
# the reason, when it is not. Extra arguments go to pytest (e.g. -x, -k codec).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${GRID_EVENTS_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[dev]'

echo "== ruff format --check"
"$venv/bin/ruff" format --check src service tests examples bench docs
echo "== ruff check"
"$venv/bin/ruff" check src service tests examples bench docs
echo "== mypy --strict"
"$venv/bin/mypy"
echo "== pytest"
"$venv/bin/pytest" "$@"
