"""``grid-events serve``, ``grid-events run`` and ``grid-events rebuild``: the read side as a process.

* ``serve``: the views and their HTTP API, fed from a NATS JetStream stream that
  an outbox relay fills (configured like the relay: ``GRID_EVENTS_NATS_*``).
* ``run``: everything on one machine — a nats-server, the event store's outbox
  relay and the service — with its files under ``--data-dir``.
* ``rebuild``: ask a running service to rebuild a view from the stream.

Settings come from the ``GRID_SERVICE_*`` variables (see ``docs/service.md``),
NATS from ``GRID_EVENTS_NATS_*`` and the event store from ``GRID_EVENTS_*``;
options override them. Secrets (passwords, DSNs with passwords) are read from
the environment only. Exit codes: 0 stopped cleanly, 1 the service failed or a
rebuild failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

import click

from grid_events import ConfigurationError, StoreConfig, decode_master_key
from grid_events.transport import NatsServerError
from grid_service.cli.options import store_options
from grid_service.runtime.pipeline import HttpPortInUseError, PipelineSettings, run_pipeline, serve
from grid_service.runtime.service import GridService, ServiceError
from grid_service.runtime.settings import ServiceSettings

__all__ = ["rebuild", "run", "serve_command"]

LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=_FORMAT, stream=sys.stderr)


_OPTION_VARIABLES = {
    "views_store": "GRID_SERVICE_VIEWS_STORE",
    "views_sqlite_path": "GRID_SERVICE_VIEWS_SQLITE_PATH",
    "views_postgres_schema": "GRID_SERVICE_VIEWS_POSTGRES_SCHEMA",
    "nats_url": "GRID_EVENTS_NATS_URL",
    "stream": "GRID_SERVICE_STREAM",
    "consumer_prefix": "GRID_SERVICE_CONSUMER_PREFIX",
    "projection": "GRID_SERVICE_PROJECTIONS",
    "batch_size": "GRID_SERVICE_BATCH_SIZE",
    "fetch_timeout": "GRID_SERVICE_FETCH_TIMEOUT",
    "ack_wait": "GRID_SERVICE_ACK_WAIT",
    "max_deliver": "GRID_SERVICE_MAX_DELIVER",
    "backoff": "GRID_SERVICE_BACKOFF",
    "poison_policy": "GRID_SERVICE_POISON_POLICY",
    "http_host": "GRID_SERVICE_HOST",
    "http_port": "GRID_SERVICE_PORT",
    "accounts": "GRID_SERVICE_ACCOUNTS",
}
"""The variable each option of ``serve`` overrides."""


def _service_settings(store_config: StoreConfig, options: dict[str, Any]) -> ServiceSettings:
    """Return the settings of the environment, with the options given in place of their variables."""
    environ = dict(os.environ)
    for option, value in options.items():
        if value is None or value is False or value == ():
            continue
        text = ",".join(value) if isinstance(value, tuple) else "1" if value is True else str(value)
        environ[_OPTION_VARIABLES[option]] = text
    return ServiceSettings.from_environ(environ, event_store=store_config)


@click.command("serve")
@store_options
@click.option(
    "--views-store",
    type=click.Choice(["sqlite", "postgres"]),
    default=None,
    help="Where the views are kept (default: GRID_SERVICE_VIEWS_STORE, else sqlite). "
    "PostgreSQL's DSN comes from GRID_SERVICE_VIEWS_POSTGRES_DSN only (it may hold a password).",
)
@click.option(
    "--views-sqlite-path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The views' SQLite file (default: GRID_SERVICE_VIEWS_SQLITE_PATH, else ./grid-data/views.sqlite3).",
)
@click.option(
    "--views-postgres-schema",
    default=None,
    help="The PostgreSQL schema of the view tables (default: GRID_SERVICE_VIEWS_POSTGRES_SCHEMA, else grid_views).",
)
@click.option(
    "--nats-url", default=None, metavar="URL", help="NATS server URLs, comma-separated (default: GRID_EVENTS_NATS_URL)."
)
@click.option(
    "--stream",
    default=None,
    help="The JetStream stream the relay fills (default: GRID_SERVICE_STREAM, else GRID_EVENTS).",
)
@click.option(
    "--consumer-prefix",
    default=None,
    help="Durable consumers are named <prefix>-<view> (default: GRID_SERVICE_CONSUMER_PREFIX, else grid-views).",
)
@click.option(
    "--projection",
    multiple=True,
    metavar="VIEW",
    help="Run only this view (repeat for several; default: GRID_SERVICE_PROJECTIONS, else all).",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=None, help="Messages applied per transaction (default 500)."
)
@click.option(
    "--fetch-timeout",
    type=click.FloatRange(min=0.01),
    default=None,
    help="Seconds a fetch waits for messages (default 1).",
)
@click.option(
    "--ack-wait",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds before NATS redelivers an unacknowledged message (default 30).",
)
@click.option(
    "--max-deliver",
    type=click.IntRange(min=1),
    default=None,
    help="Attempts at a failing message before it becomes a dead letter (default 5).",
)
@click.option(
    "--backoff",
    default=None,
    metavar="SECONDS,…",
    help="Seconds between attempts at a failing message, comma-separated; the last repeats (default 0.5,2,5,15).",
)
@click.option(
    "--poison-policy",
    type=click.Choice(["stop", "skip"]),
    default=None,
    help="After a dead letter, stop the view until an operator acts (default) or skip the message.",
)
@click.option(
    "--host", "http_host", default=None, help="HTTP address to listen on (default: GRID_SERVICE_HOST, else 127.0.0.1)."
)
@click.option(
    "--port",
    "http_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="HTTP port (default: GRID_SERVICE_PORT, else 8000).",
)
@click.option(
    "--accounts",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Who may call the HTTP API: the accounts file of 'grid-events accounts' "
    "(default: GRID_SERVICE_ACCOUNTS, else GRID_EVENTS_DATA_DIR/accounts.json, else ./grid-data/accounts.json). "
    "Read again when it changes.",
)
@click.option("--access-log/--no-access-log", default=True, help="Log every HTTP request (default: on).")
@click.option("--log-level", type=LOG_LEVELS, default="INFO", show_default=True, help="How much to log.")
def serve_command(*, store_config: StoreConfig, access_log: bool, log_level: str, **options: Any) -> None:  # noqa: ANN401
    """Keep the views from the event stream and serve them over HTTP, until SIGTERM or Ctrl-C.

    Each view has a durable JetStream consumer and applies every event exactly
    once, in order. The HTTP API lists its routes at /docs; /healthz, /readyz and
    /metrics are for the operator and answer anyone; every other route needs an
    account (grid-events accounts add) whose role holds the route's right. The
    event store is opened only to mask residents' personal data (it needs the
    master key).
    """
    _configure_logging(log_level)
    try:
        settings = _service_settings(store_config, options)
    except ConfigurationError as e:
        raise click.UsageError(str(e)) from e
    _run(lambda: serve(GridService(settings), access_log=access_log))


@click.command("run")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the event store, the views and NATS keep their files "
    "(default: GRID_EVENTS_DATA_DIR, else ./grid-data).",
)
@click.option("--host", "http_host", default="127.0.0.1", show_default=True, help="HTTP address to listen on.")
@click.option("--port", "http_port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="HTTP port.")
@click.option(
    "--nats-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="The nats-server's client port (0: any free port; the log says which).",
)
@click.option(
    "--poison-policy",
    type=click.Choice(["stop", "skip"]),
    default="stop",
    show_default=True,
    help="After a dead letter, stop the view until an operator acts, or skip the message.",
)
@click.option(
    "--accounts",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Who may call the HTTP API: the accounts file of 'grid-events accounts' "
    "(default: GRID_SERVICE_ACCOUNTS, else DATA_DIR/accounts.json).",
)
@click.option("--access-log/--no-access-log", default=True, help="Log every HTTP request (default: on).")
@click.option("--log-level", type=LOG_LEVELS, default="INFO", show_default=True, help="How much to log.")
def run(
    *,
    data_dir: Path | None,
    accounts: Path | None,
    http_host: str,
    http_port: int,
    nats_port: int,
    poison_policy: str,
    access_log: bool,
    log_level: str,
) -> None:
    """Run everything on this machine: a nats-server, the outbox relay and the service (Ctrl-C stops all).

    The event store is the SQLite file DATA_DIR/events.sqlite3 (its master key
    from GRID_EVENTS_MASTER_KEY, else the key file beside it); record work into
    it with the library or the other commands while this runs. The views are
    served on http://127.0.0.1:8000 (see /docs) to the accounts of
    DATA_DIR/accounts.json: make one with 'grid-events accounts add'.
    """
    _configure_logging(log_level)
    key_text = os.environ.get("GRID_EVENTS_MASTER_KEY", "").strip()
    try:
        settings = PipelineSettings(
            data_dir=data_dir or Path(os.environ.get("GRID_EVENTS_DATA_DIR", "grid-data")),
            http_host=http_host,
            http_port=http_port,
            nats_port=nats_port,
            poison_policy=poison_policy,
            master_key=decode_master_key(key_text) if key_text else None,
            access_log=access_log,
            accounts=accounts or os.environ.get("GRID_SERVICE_ACCOUNTS", "").strip() or None,
        )
    except ConfigurationError as e:
        raise click.UsageError(str(e)) from e
    _run(lambda: run_pipeline(settings))


def _run(main: Any) -> None:  # noqa: ANN401 (a coroutine factory)
    """Run *main()* to completion, turning known failures into messages and exit codes."""
    logger = logging.getLogger("grid_service.runtime")
    try:
        asyncio.run(main())
    except (HttpPortInUseError, ConfigurationError, ServiceError) as e:
        raise click.UsageError(str(e)) from e
    except NatsServerError as e:
        logger.error("the nats-server did not start: %s", e)  # noqa: TRY400 (the message says it all)
        sys.exit(1)
    except KeyboardInterrupt:  # pragma: no cover (signals are handled; this is a second, impatient Ctrl-C)
        sys.exit(130)
    except Exception:
        logger.exception("the service failed")
        sys.exit(1)


@click.command("rebuild")
@click.argument("view")
@click.option(
    "--url",
    default=None,
    help="The running service (default: GRID_SERVICE_URL, else http://127.0.0.1:8000). The rebuild runs there.",
)
@click.option("--wait/--no-wait", default=True, help="Wait until the rebuild has finished (default) or return at once.")
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=3600.0, show_default=True, help="Seconds to wait at most."
)
@click.option(
    "--token-file",
    type=click.File("r"),
    default=None,
    help="A file holding an administrator's token (default: the GRID_SERVICE_TOKEN variable; '-': stdin).",
)
def rebuild(view: str, url: str | None, *, wait: bool, timeout: float, token_file: TextIO | None) -> None:
    """Rebuild VIEW from the start of the stream, in the running service, without stopping reads.

    The service fills a new generation of the view's tables while the old one
    keeps answering, then switches readers over at once. It needs an
    administrator's account (the right service.operate): its token comes from
    GRID_SERVICE_TOKEN or --token-file, never from the command line.
    """
    base = (url or os.environ.get("GRID_SERVICE_URL") or "http://127.0.0.1:8000").rstrip("/")
    token = (token_file.read() if token_file is not None else os.environ.get("GRID_SERVICE_TOKEN", "")).strip()
    if not token:
        raise click.UsageError(
            "the service needs an administrator's token: set GRID_SERVICE_TOKEN or give --token-file "
            "(grid-events accounts add admin --role administrator makes one)"
        )
    path = f"/admin/views/{view}/rebuild"
    status = _call(base, path, method="POST", token=token)
    click.echo(f"rebuilding {view} into generation {status['generation']}")
    deadline = time.monotonic() + timeout
    while wait and status["state"] == "running":
        if time.monotonic() > deadline:
            click.echo(
                f"still rebuilding after {timeout:.0f} s (at sequence {status['position']}); see GET {base}{path}"
            )
            sys.exit(1)
        time.sleep(1.0)
        status = _call(base, path, method="GET", token=token)
    if status["state"] == "failed":
        click.echo(f"the rebuild of {view} failed: {status['error']}", err=True)
        sys.exit(1)
    if status["state"] == "finished":
        click.echo(f"{view} rebuilt up to stream sequence {status['position']} ({status['applied']} events)")


def _call(base: str, path: str, *, method: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (an http(s) URL the operator gives)
        f"{base}{path}", method=method, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body: dict[str, Any] = json.loads(response.read())
            return body
    except urllib.error.HTTPError as e:
        detail = json.loads(e.read() or b"{}").get("detail", e.reason)
        if e.code in {401, 403, 404, 409}:
            raise click.UsageError(str(detail)) from e
        click.echo(f"the service refused: {e.code} {detail}", err=True)
        sys.exit(1)
    except (urllib.error.URLError, OSError) as e:
        click.echo(f"cannot reach the service at {base} ({e}): is it running (grid-events serve)?", err=True)
        sys.exit(1)
