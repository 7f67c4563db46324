"""The service's settings: defaults that run on one machine, the environment, errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from grid_events import ConfigurationError
from grid_service.runtime.settings import PoisonPolicy, ServiceSettings, ViewStoreSettings, default_accounts_path


def test_the_defaults_run_on_one_machine() -> None:
    """SQLite views under ./grid-data, NATS on localhost, stop on poison, HTTP on 127.0.0.1:8000."""
    settings = ServiceSettings.from_environ({})
    assert ViewStoreSettings.sqlite(Path("grid-data/views.sqlite3")) == settings.views
    assert ("nats://127.0.0.1:4222",) == settings.nats.servers
    assert -1 == settings.nats.max_reconnect_attempts
    assert ("GRID_EVENTS", "grid.events.>") == (settings.stream.name, settings.stream.subjects)
    assert PoisonPolicy.STOP == settings.poison_policy
    assert "http://127.0.0.1:8000" == settings.http_url
    assert "grid-views-task_board" == settings.consumer_name("task_board")


def test_the_environment_configures_everything() -> None:
    """Every GRID_SERVICE_* variable lands in its setting; NATS and the event store read their own."""
    settings = ServiceSettings.from_environ(
        {
            "GRID_SERVICE_VIEWS_POSTGRES_DSN": "postgresql://views:s3cret@db:5432/grid",
            "GRID_SERVICE_VIEWS_POSTGRES_SCHEMA": "office_views",
            "GRID_SERVICE_VIEWS_SQLITE_SYNCHRONOUS": "FULL",
            "GRID_SERVICE_STREAM": "OFFICE_EVENTS",
            "GRID_SERVICE_CONSUMER_PREFIX": "office",
            "GRID_SERVICE_PROJECTIONS": "task_board, statistics",
            "GRID_SERVICE_BATCH_SIZE": "250",
            "GRID_SERVICE_FETCH_TIMEOUT": "0.5",
            "GRID_SERVICE_ACK_WAIT": "60",
            "GRID_SERVICE_MAX_DELIVER": "8",
            "GRID_SERVICE_BACKOFF": "1,10,60",
            "GRID_SERVICE_POISON_POLICY": "skip",
            "GRID_SERVICE_HOST": "0.0.0.0",  # noqa: S104 (a setting under test)
            "GRID_SERVICE_PORT": "8080",
            "GRID_SERVICE_ACCOUNTS": "/etc/grid/accounts.json",
            "GRID_EVENTS_NATS_URL": "nats://nats-1:4222,nats://nats-2:4222",
            "GRID_EVENTS_SQLITE_PATH": "/srv/grid/events.sqlite3",
        }
    )
    assert ("postgres", "office_views", "full") == (
        settings.views.backend,
        settings.views.postgres_schema,
        settings.views.sqlite_synchronous,
    )
    assert ("OFFICE_EVENTS", "office-statistics") == (settings.stream.name, settings.consumer_name("statistics"))
    assert ("task_board", "statistics") == settings.projections
    assert (250, 0.5, 60.0, 8) == (settings.batch_size, settings.fetch_timeout, settings.ack_wait, settings.max_deliver)
    assert (1.0, 10.0, 60.0) == settings.backoff
    assert (1.0, 10.0, 60.0, 60.0) == tuple(settings.delay_before_attempt(n) for n in (2, 3, 4, 9))
    assert (PoisonPolicy.SKIP, "0.0.0.0", 8080, Path("/etc/grid/accounts.json")) == (  # noqa: S104
        settings.poison_policy,
        settings.http_host,
        settings.http_port,
        settings.accounts,
    )
    assert ("nats://nats-1:4222", "nats://nats-2:4222") == settings.nats.servers
    assert Path("/srv/grid/events.sqlite3") == settings.event_store.sqlite_path


def test_passwords_never_show() -> None:
    """The view store's DSN password stays out of reprs and logs."""
    settings = ServiceSettings.from_environ({"GRID_SERVICE_VIEWS_POSTGRES_DSN": "postgresql://views:s3cret@db/grid"})
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in settings.views.describe()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GRID_SERVICE_BATCH_SIZE", "many", "GRID_SERVICE_BATCH_SIZE='many' is not a whole number"),
        ("GRID_SERVICE_BATCH_SIZE", "0", "batch_size must be positive"),
        ("GRID_SERVICE_POISON_POLICY", "ignore", "poison policy .ignore.: choose stop or skip"),
        ("GRID_SERVICE_BACKOFF", "1,soon", "give seconds separated by commas"),
        ("GRID_SERVICE_VIEWS_STORE", "postgres", "needs a DSN: set GRID_SERVICE_VIEWS_POSTGRES_DSN"),
        ("GRID_SERVICE_VIEWS_STORE", "mysql", "choose sqlite or postgres"),
        ("GRID_SERVICE_CONSUMER_PREFIX", "my views", "use letters, digits"),
        ("GRID_SERVICE_PORT", "80000", "is not between 0 and 65535"),
        ("GRID_SERVICE_VIEWS_SQLITE_SYNCHRONOUS", "off", "choose normal or full"),
    ],
)
def test_a_wrong_setting_is_refused_with_what_to_do(variable: str, value: str, message: str) -> None:
    """A configuration error names the setting and the fix."""
    with pytest.raises(ConfigurationError, match=message):
        ServiceSettings.from_environ({variable: value})


def test_the_service_and_the_accounts_command_look_for_the_same_accounts_file() -> None:
    """GRID_SERVICE_ACCOUNTS, else the data directory's accounts.json, else ./grid-data's: for both."""
    cases = {
        (): Path("grid-data") / "accounts.json",
        (("GRID_EVENTS_DATA_DIR", "/srv/office"),): Path("/srv/office/accounts.json"),
        (("GRID_EVENTS_DATA_DIR", "/srv/office"), ("GRID_SERVICE_ACCOUNTS", "/etc/grid/accounts.json")): Path(
            "/etc/grid/accounts.json"
        ),
    }
    for given, expected in cases.items():
        env = dict(given)
        assert expected == default_accounts_path(env)
        assert expected == ServiceSettings.from_environ(env).accounts
