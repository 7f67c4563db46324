"""Authentication and rights on the HTTP API: accounts, both schemes, each role's routes, the accounts CLI.

What each role may read is derived from the library's POLICY and the routes'
own declarations (``route_rights``), never written down a second time here.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import click
import httpx
import pytest
import pytest_asyncio
from click.testing import CliRunner, Result

from grid_events import Right, Role, rights_of
from grid_service.cli import main
from grid_service.cli.accounts import accounts as accounts_group
from grid_service.runtime.api import create_app
from grid_service.runtime.auth import ACCOUNT_ROLES, AccountError, Accounts, route_rights
from grid_service.runtime.service import GridService

from .helpers import Harness, bearer, caught_up, make_accounts, wait_until, worker_id_of

PUBLIC = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""What answers without an account: the orchestrator's probes, Prometheus, and the API's own description."""

NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def basic(worker_id: str, token: str) -> dict[str, str]:
    """The header of HTTP Basic with *worker_id* and *token*."""
    return {"Authorization": "Basic " + base64.b64encode(f"{worker_id}:{token}".encode()).decode()}


def concrete(path: str) -> str:
    """*path* with every path parameter filled in (an id no view holds, a view that does not exist)."""
    filled = path.replace("{fmt}", "html").replace("{name}", "no_such_view")
    return re.sub(r"\{[a-z_]+\}", NO_SUCH_ID, filled)


class Api:
    """The HTTP application of a started service, its accounts file and each role's token."""

    def __init__(self, service: GridService, accounts: Path, tokens: dict[Role, str]) -> None:
        self.service = service
        self.accounts = accounts
        self.tokens = tokens
        self.app = create_app(service, manage_lifecycle=False)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://service")

    async def call(self, method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """Send *method* *path* with *headers* (none: no credentials)."""
        return await self.http.request(method, path, headers=headers or {})


@pytest_asyncio.fixture
async def api(harness: Harness, tmp_path: Path) -> AsyncIterator[Api]:
    """A started service (a few residents in its views) with an account for every role."""
    path = tmp_path / "accounts.json"
    tokens = make_accounts(path)
    await harness.write(5)
    async with GridService(harness.settings(accounts=path), app=harness.app) as service:
        await wait_until(caught_up(service, await harness.relayed()), within=30)
        running = Api(service, path, tokens)
        try:
            yield running
        finally:
            await running.http.aclose()


def protected_routes(api: Api) -> dict[tuple[str, str], Right]:
    """Every route that needs an account, with its right."""
    return {route: right for route, right in route_rights(api.app).items() if right is not None}


def challenges_of(answer: httpx.Response) -> list[str]:
    """The schemes a 401 challenges the caller to use."""
    return [value.split(" ", 1)[0] for value in answer.headers.get_list("www-authenticate")]


@pytest.mark.asyncio
async def test_every_route_but_the_probes_needs_an_account(api: Api) -> None:
    """No route shows anything to an anonymous caller but health, readiness, metrics and the API's description."""
    rights = route_rights(api.app)
    public = {path for (_, path), right in rights.items() if right is None}
    assert public <= PUBLIC, public - PUBLIC
    document = (await api.call("GET", "/openapi.json")).json()
    assert {"bearer", "basic"} == set(document["components"]["securitySchemes"])
    for (method, path), right in protected_routes(api).items():
        operation = document["paths"][path][method.lower()]
        assert [{"bearer": []}, {"basic": []}] == operation["security"], path
        assert right.value == operation["x-required-right"], path
        assert {"401", "403"} <= set(operation["responses"]), path
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await api.call("GET", path)).status_code in {200, 503}, path


@pytest.mark.asyncio
async def test_without_credentials_or_with_wrong_ones_every_protected_route_answers_401(api: Api) -> None:
    """No header, a wrong Bearer token, a wrong Basic password, another's token, garbage: 401, saying what to send."""
    auditor = api.tokens[Role.AUDITOR]
    wrong = [
        {},
        bearer("not-a-token"),
        bearer(api.tokens[Role.AUDITOR] + "x"),
        basic(worker_id_of(Role.AUDITOR), "not-a-token"),
        basic(worker_id_of(Role.SUPERVISOR), auditor),  # a real token, but not this worker's
        basic("nobody", auditor),
        {"Authorization": "Basic %%%not-base64"},
        {"Authorization": "Bearer"},
        {"Authorization": "Digest username=auditor-1"},
    ]
    for method, path in protected_routes(api):
        for headers in wrong:
            answer = await api.call(method, concrete(path), headers)
            assert 401 == answer.status_code, (method, path, headers, answer.text)
            assert ["Basic", "Bearer"] == challenges_of(answer), (path, headers)
            assert 'realm="grid-events"' in answer.headers["www-authenticate"]
            detail = answer.json()["detail"]
            assert "Authorization: Bearer <token>" in detail, detail
            assert "HTTP Basic" in detail, detail


@pytest.mark.asyncio
async def test_each_role_reads_exactly_the_routes_its_rights_allow(api: Api) -> None:
    """For every role and route: 403 naming the role and the right iff POLICY denies it; otherwise answered."""
    assert set(api.tokens) == set(ACCOUNT_ROLES)
    for role, token in api.tokens.items():
        for (method, path), right in protected_routes(api).items():
            schemes = (bearer(token), basic(worker_id_of(role), token)) if method == "GET" else (bearer(token),)
            for headers in schemes:  # Basic is for reading only (see the next test)
                answer = await api.call(method, concrete(path), headers)
                if right in rights_of(role):
                    assert answer.status_code not in {401, 403}, (role, path, answer.text)
                    assert answer.status_code < 500, (role, path, answer.text)
                else:
                    assert 403 == answer.status_code, (role, path, answer.text)
                    detail = answer.json()["detail"]
                    assert f"role {role.value} lacks the right {right.value} ({right.description})" in detail
                    holders = [r.value for r in ACCOUNT_ROLES if right in rights_of(r)]
                    assert detail.endswith("held by: " + ", ".join(holders))


@pytest.mark.asyncio
async def test_what_each_role_sees_on_the_main_routes(api: Api) -> None:
    """The issue's cases, as the policy makes them.

    An auditor reads every view and operates nothing; a volunteer reads only site dashboards; the administrator
    operates the service and reads no one's records.
    """
    expectations: dict[Role, dict[str, int]] = {
        Role.AUDITOR: {"/residents": 200, "/tasks": 200, "/audit/cases": 200, "/admin/views": 403},
        Role.VOLUNTEER: {"/shifts": 200, "/tasks": 403, "/residents": 403, "/audit/cases": 403},
        Role.ADMINISTRATOR: {"/admin/views": 200, "/residents": 403, "/tasks": 403, "/audit/cases": 200},
        Role.SUPERVISOR: {"/residents": 200, "/disputes": 200, "/audit/cases": 403, "/admin/views": 403},
    }
    for role, routes in expectations.items():
        for path, expected in routes.items():
            answer = await api.call("GET", path, bearer(api.tokens[role]))
            assert expected == answer.status_code, (role, path, answer.text)
    masked = (await api.call("GET", "/residents", bearer(api.tokens[Role.AUDITOR]))).json()["items"]
    assert masked
    assert {"张**"} == {item["masked_name"] for item in masked}
    answer = await api.call("POST", "/admin/views/resident_cells/rebuild", bearer(api.tokens[Role.AUDITOR]))
    assert 403 == answer.status_code
    assert "lacks the right service.operate" in answer.json()["detail"]


@pytest.mark.asyncio
async def test_accounts_added_or_removed_count_from_the_next_request(api: Api) -> None:
    """The service reads the accounts file again when it changes: no restart."""
    accounts = Accounts.load(api.accounts)
    token = accounts.add("a-new", Role.AUDITOR)
    assert 401 == (await api.call("GET", "/tasks", bearer(token))).status_code  # not saved yet
    accounts.save()
    assert 200 == (await api.call("GET", "/tasks", bearer(token))).status_code
    accounts.remove(worker_id_of(Role.SUPERVISOR))
    new_token = accounts.add("a-new", Role.VOLUNTEER, replace=True)
    accounts.save()
    assert 401 == (await api.call("GET", "/tasks", bearer(api.tokens[Role.SUPERVISOR]))).status_code
    assert 401 == (await api.call("GET", "/tasks", bearer(token))).status_code  # the replaced token
    assert 403 == (await api.call("GET", "/tasks", bearer(new_token))).status_code  # now a volunteer
    api.accounts.unlink()
    assert 401 == (await api.call("GET", "/shifts", bearer(new_token))).status_code


@pytest.mark.asyncio
async def test_tokens_are_never_stored_nor_logged(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The accounts file holds hashes only, readable by its owner only; no log line holds a token."""
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "accounts.json"
    tokens = make_accounts(path)
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    text = path.read_text()
    assert not any(token in text for token in tokens.values())
    assert {worker_id_of(role) for role in ACCOUNT_ROLES} == {a["worker_id"] for a in json.loads(text)["accounts"]}
    async with GridService(harness.settings(accounts=path), app=harness.app) as service:
        app = create_app(service, manage_lifecycle=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
            for role, token in tokens.items():
                await http.get("/tasks", headers=bearer(token))
                await http.get("/audit/cases", headers=basic(worker_id_of(role), token))
                await http.get("/tasks", headers=basic(worker_id_of(role), token[::-1]))
                await http.post("/admin/views/resident_cells/rebuild", headers=bearer(token))
    assert "refused basic credentials" in caplog.text  # the refusals are logged …
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for token in tokens.values():
        assert token not in logged  # … without the token
        assert token[::-1] not in logged


@pytest.mark.asyncio
async def test_without_an_accounts_file_the_service_starts_and_refuses_everyone(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A warning says how to make an account; protected routes answer 401, the probes still answer."""
    path = tmp_path / "missing" / "accounts.json"
    async with GridService(harness.settings(accounts=path), app=harness.app) as service:
        with caplog.at_level(logging.WARNING, logger="grid_service.runtime.auth"):
            app = create_app(service, manage_lifecycle=False)
        assert f"no accounts file at {path}" in caplog.text
        assert "grid-events accounts add" in caplog.text
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
            assert 200 == (await http.get("/healthz")).status_code
            assert 401 == (await http.get("/tasks", headers=bearer("anything"))).status_code
            tokens = make_accounts(path)  # then an operator makes one: no restart needed
            assert 200 == (await http.get("/tasks", headers=bearer(tokens[Role.AUDITOR]))).status_code


@pytest.mark.asyncio
async def test_a_broken_accounts_file_stops_the_start_and_later_refuses_everyone(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file that is not an accounts file: an error at start naming it; if it breaks later, 401 and a log."""
    path = tmp_path / "accounts.json"
    path.write_text('{"accounts": "no"}')
    async with GridService(harness.settings(accounts=path), app=harness.app) as service:
        with pytest.raises(AccountError, match=f"{path} is not a grid-events accounts file"):
            create_app(service, manage_lifecycle=False)
        tokens = make_accounts(tmp_path / "good.json")
        (tmp_path / "good.json").replace(path)
        app = create_app(service, manage_lifecycle=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http:
            assert 200 == (await http.get("/tasks", headers=bearer(tokens[Role.AUDITOR]))).status_code
            path.write_text("[not json")
            assert 401 == (await http.get("/tasks", headers=bearer(tokens[Role.AUDITOR]))).status_code
    assert "cannot be read: refusing every caller" in caplog.text


def test_accounts_refuse_bad_worker_ids_roles_and_duplicates(tmp_path: Path) -> None:
    """Worker ids usable as a Basic user name, people's roles only (not system), one account per worker id."""
    accounts = Accounts.load(tmp_path / "accounts.json")
    assert 0 == len(accounts)
    for worker_id in ("", "a:b", "张三", "with space", "-dash", "x" * 65):
        with pytest.raises(AccountError, match="worker id"):
            accounts.add(worker_id, Role.AUDITOR)
    for role in ("system", "boss"):
        with pytest.raises(AccountError, match=r"choose one of grid_worker, .*administrator"):
            accounts.add("w-li", role)
    token = accounts.add("w-li", "grid_worker")
    with pytest.raises(AccountError, match="w-li already has an account"):
        accounts.add("w-li", Role.SUPERVISOR)
    assert accounts.authenticate(token) == accounts.get("w-li")
    assert accounts.authenticate(token, worker_id="w-li") is not None
    assert accounts.authenticate(token, worker_id="w-wang") is None
    assert accounts.authenticate(token[:-1]) is None
    with pytest.raises(AccountError, match="no account 'w-wang'"):
        accounts.remove("w-wang")
    assert not (tmp_path / "accounts.json").exists()  # nothing saved until save()
    assert 43 == len(token)
    assert not token.startswith("-")


# -- the accounts command --------------------------------------------------------------------------------------


def environment(path: Path) -> dict[str, str]:
    """The environment of the accounts commands: the accounts file at *path*, nothing else of grid_events."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GRID_EVENTS_", "GRID_SERVICE_"))}
    return {**clean, "GRID_SERVICE_ACCOUNTS": str(path)}


def invoke(path: Path, *arguments: str) -> Result:
    """Run ``grid-events accounts …`` with the accounts file at *path*."""
    return CliRunner().invoke(main, ["accounts", *arguments], env=environment(path))


def test_every_accounts_command_and_option_says_what_it_does() -> None:
    """The group and each command and option have help text."""
    assert accounts_group.help
    assert isinstance(accounts_group, click.Group)
    for command in accounts_group.commands.values():
        assert command.help, command.name
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                assert parameter.help, (command.name, parameter.name)
        result = CliRunner().invoke(main, ["accounts", command.name or "", "--help"])
        assert 0 == result.exit_code, result.output


def test_the_accounts_command_adds_lists_and_removes(tmp_path: Path) -> None:
    """`add` prints the token alone on stdout, once; list shows who and which role, never a hash; remove removes."""
    path = tmp_path / "office" / "accounts.json"
    added = invoke(path, "add", "a-zhou", "--role", "auditor")
    assert 0 == added.exit_code, added.output
    token = added.stdout.strip()
    assert 1 == len(added.stdout.splitlines())
    assert "Account a-zhou (auditor) added" in added.stderr
    assert "shown this once" in added.stderr
    assert token not in path.read_text()
    assert Accounts.load(path).authenticate(token) is not None
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert [path] == list(path.parent.iterdir())  # no temporary file left behind

    invoke(path, "add", "v-sun", "--role", "volunteer")
    listed = invoke(path, "list")
    assert 0 == listed.exit_code
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["worker", "id", "role", "created", "(UTC)"]
    assert [line.split()[:2] for line in lines[1:]] == [["a-zhou", "auditor"], ["v-sun", "volunteer"]]
    assert "token" not in listed.stdout
    assert not any(account.token_sha256 in listed.stdout for account in Accounts.load(path))

    again = invoke(path, "add", "a-zhou", "--role", "auditor")
    assert 1 == again.exit_code
    assert "a-zhou already has an account; --replace gives it a new token" in again.stderr
    replaced = invoke(path, "add", "a-zhou", "--role", "supervisor", "--replace")
    assert 0 == replaced.exit_code
    assert "replaced" in replaced.stderr
    assert Accounts.load(path).authenticate(token) is None
    assert Role.SUPERVISOR == Accounts.load(path).authenticate(replaced.stdout.strip()).role  # type: ignore[union-attr]

    removed = invoke(path, "remove", "v-sun")
    assert 0 == removed.exit_code
    assert "Account v-sun (volunteer) removed" in removed.stdout
    missing = invoke(path, "remove", "v-sun")
    assert 1 == missing.exit_code
    assert "no account 'v-sun'" in missing.stderr


def test_the_accounts_command_explains_bad_input(tmp_path: Path) -> None:
    """A bad role or worker id, or a file that is not an accounts file: exit 2, saying what to give."""
    path = tmp_path / "accounts.json"
    bad_role = invoke(path, "add", "w-li", "--role", "boss")
    assert 2 == bad_role.exit_code
    assert "role 'boss': choose one of grid_worker" in bad_role.output
    bad_id = invoke(path, "add", "li:1", "--role", "auditor")
    assert 2 == bad_id.exit_code
    assert "worker id 'li:1'" in bad_id.output
    assert not path.exists()
    empty = invoke(path, "list")
    assert 0 == empty.exit_code
    assert "No accounts in" in empty.output
    assert "grid-events accounts add WORKER_ID --role ROLE" in empty.output
    path.write_text("not json")
    broken = invoke(path, "list")
    assert 2 == broken.exit_code
    assert f"{path} is not a grid-events accounts file" in broken.output


@pytest.mark.asyncio
async def test_changes_need_a_bearer_token_a_browsers_saved_basic_login_cannot_make_them(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A cross-site form would carry the browser's Basic login: POST refuses Basic, even the administrator's."""
    admin = worker_id_of(Role.ADMINISTRATOR)
    token = api.tokens[Role.ADMINISTRATOR]
    assert 200 == (await api.call("GET", "/admin/views", basic(admin, token))).status_code
    refused = await api.call("POST", "/admin/views/resident_cells/rebuild", basic(admin, token))
    assert 401 == refused.status_code
    assert "Bearer" in refused.json()["detail"]
    assert "rebuilding" not in {view.state for view in api.service.statuses()}

    caplog.set_level(logging.INFO, logger="grid_service")
    pasted = await api.call("GET", "/tasks", basic(token, ""))  # the token pasted as the user name
    assert 401 == pasted.status_code
    assert token not in caplog.text
    assert "refused basic credentials" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_rewriting_the_accounts_file_as_root_keeps_its_owner(tmp_path: Path) -> None:
    """`sudo grid-events accounts add` must leave the file readable by the service's own user."""
    path = tmp_path / "accounts.json"
    accounts = Accounts.load(path)
    accounts.add("a-zhou", Role.AUDITOR)
    accounts.save()
    os.chown(path, 65534, 65534)  # the service's user, say
    again = Accounts.load(path)
    again.add("m-chen", Role.MEDIATOR)
    again.save()
    info = path.stat()
    assert (65534, 65534) == (info.st_uid, info.st_gid)
    assert 0o600 == stat.S_IMODE(info.st_mode)
    assert {"a-zhou", "m-chen"} == {account.worker_id for account in Accounts.load(path)}
