"""The ``grid-events`` command line.

Each group of commands lives in its own module and is registered here; every
command has ``--help``. Exit codes: 0 success, 1 the work found a problem (for
example ``audit verify`` found tampering), 2 bad usage or configuration.
"""

from __future__ import annotations

import click

from grid_service.cli import accounts, audit, demo, keys, relay, serve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="grid-events", prog_name="grid-events")
def main() -> None:
    """Track community work as events: residents, tasks, mediation, sampling sites, audits.

    Residents, tasks and inspections, people's mediation and sampling-site
    shifts, for community workers (网格员) and those who supervise and audit
    them. Configure the store with GRID_EVENTS_STORE (sqlite, postgres, memory),
    GRID_EVENTS_DATA_DIR or GRID_EVENTS_SQLITE_PATH, GRID_EVENTS_POSTGRES_DSN and
    GRID_EVENTS_MASTER_KEY; see docs/operations.md.
    """


main.add_command(keys.keys)
main.add_command(audit.audit)
main.add_command(relay.relay)
main.add_command(serve.serve_command)
main.add_command(serve.run)
main.add_command(serve.rebuild)
main.add_command(accounts.accounts)
main.add_command(demo.demo)
