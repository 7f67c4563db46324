"""The ``grid-events`` command line.

Each group of commands lives in its own module and is registered here; every
command has ``--help``. Exit codes: 0 success, 1 the work found a problem (for
example ``audit verify`` found tampering), 2 bad usage or configuration.
"""

from __future__ import annotations

import click

from grid_service.cli import audit, keys, relay

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


SERVICE_COMMANDS = ("serve", "run", "rebuild", "accounts", "demo")
"""The commands that need the service extra (FastAPI, uvicorn, httpx, prometheus-client)."""


def _needs_the_service_extra(name: str, missing: str) -> click.Command:
    """Return a stand-in for the command *name* that says how to install what it needs."""

    @click.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help=f"(Needs the service extra: pip install 'grid-events[service]'; {missing} is missing.)",
    )
    def stand_in() -> None:
        message = (
            f"'grid-events {name}' needs the service extra ({missing} is missing): pip install 'grid-events[service]'"
        )
        raise click.ClickException(message)

    return stand_in


main.add_command(keys.keys)
main.add_command(audit.audit)
main.add_command(relay.relay)
try:
    from grid_service.cli import accounts, demo, serve
except ModuleNotFoundError as e:  # the library alone: the audit, keys and relay commands still work
    for command_name in SERVICE_COMMANDS:
        main.add_command(_needs_the_service_extra(command_name, e.name or "a package"))
else:
    main.add_command(serve.serve_command)
    main.add_command(serve.run)
    main.add_command(serve.rebuild)
    main.add_command(accounts.accounts)
    main.add_command(demo.demo)
