"""``grid-events accounts add|list|remove``: who may call the service's HTTP API, in which role.

The accounts file holds, per account, a worker id, a role and the SHA-256 of
its token; the token itself is printed once by ``add`` (on standard output,
alone, so ``TOKEN=$(grid-events accounts add …)`` captures it) and never
stored. A running service reads the file again when it changes: no restart.
Exit codes: 0 done, 1 no such account / already one, 2 bad usage (a role or
worker id that is not valid, an unreadable file).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grid_service.runtime.auth import ACCOUNT_ROLES, AccountError, Accounts, role_of
from grid_service.runtime.settings import default_accounts_path

__all__ = ["accounts"]

_ROLES = ", ".join(role.value for role in ACCOUNT_ROLES)


def _default_path() -> Path:
    return default_accounts_path()


_file_option = click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The accounts file (default: GRID_SERVICE_ACCOUNTS, else GRID_EVENTS_DATA_DIR/accounts.json, "
    "else ./grid-data/accounts.json: where 'grid-events run' and 'serve' look).",
)


def _load(path: Path | None) -> Accounts:
    try:
        return Accounts.load(path or _default_path())
    except AccountError as e:
        raise click.UsageError(str(e)) from e


@click.group("accounts")
def accounts() -> None:
    """Manage who may call the service's HTTP API: one account per worker id, with one role.

    Each account's role decides what it may read, by the same policy as the
    library (docs/privacy.md): an auditor reads everything masked, a volunteer
    only site dashboards, the administrator operates the service. Callers send
    'Authorization: Bearer TOKEN', or HTTP Basic with the worker id and token.
    """


@accounts.command("add")
@click.argument("worker_id")
@click.option("--role", required=True, metavar="ROLE", help=f"The role the account acts in: {_ROLES}.")
@click.option(
    "--replace",
    is_flag=True,
    default=False,
    help="Give an existing account this role and a new token (the old token stops working).",
)
@_file_option
def add(worker_id: str, role: str, *, replace: bool, path: Path | None) -> None:
    """Add an account for WORKER_ID and print its token, once: it is stored only as a hash.

    The token goes to standard output alone (capture it with
    TOKEN=$(grid-events accounts add …)); what it is goes to standard error.
    Hand it over to its owner safely; if it is lost, add the account again with
    --replace.
    """
    registry = _load(path)
    try:
        checked = role_of(role)
        existed = worker_id in registry
        if existed and not replace:
            click.echo(f"Error: {worker_id} already has an account; --replace gives it a new token.", err=True)
            sys.exit(1)
        token = registry.add(worker_id, checked, replace=replace)
    except AccountError as e:
        raise click.UsageError(str(e)) from e
    registry.save()
    what = "replaced" if existed else "added"
    click.echo(
        f"Account {worker_id} ({checked.value}) {what} in {registry.path}. Its token, shown this once "
        "(stored only as a hash), is on the next line:",
        err=True,
    )
    click.echo(token)


@accounts.command("list")
@_file_option
def list_accounts(path: Path | None) -> None:
    """List the accounts: worker id, role, and when each was made (never a token)."""
    registry = _load(path)
    if not len(registry):
        click.echo(f"No accounts in {registry.path}: 'grid-events accounts add WORKER_ID --role ROLE' makes one.")
        return
    width = max(len("worker id"), *(len(account.worker_id) for account in registry))
    role_width = max(len("role"), *(len(account.role.value) for account in registry))
    click.echo(f"{'worker id':<{width}}  {'role':<{role_width}}  created (UTC)")
    for account in registry:
        created = account.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(f"{account.worker_id:<{width}}  {account.role.value:<{role_width}}  {created}")


@accounts.command("remove")
@click.argument("worker_id")
@_file_option
def remove(worker_id: str, path: Path | None) -> None:
    """Remove WORKER_ID's account: its token stops working at the service's next request."""
    registry = _load(path)
    try:
        account = registry.remove(worker_id)
    except AccountError as e:
        click.echo(f"Error: {e}.", err=True)
        sys.exit(1)
    registry.save()
    click.echo(f"Account {account.worker_id} ({account.role.value}) removed from {registry.path}.")
