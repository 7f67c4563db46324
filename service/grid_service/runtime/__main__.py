"""``python -m grid_service.runtime``: the same as ``grid-events serve``."""

from __future__ import annotations

from grid_service.cli.serve import serve_command

if __name__ == "__main__":  # pragma: no cover
    serve_command(prog_name="python -m grid_service.runtime")
