"""Fuzzing the HTTP API with schemathesis, from its own OpenAPI document, against a real service.

The service runs as ``grid-events run`` runs it (a nats-server, the outbox
relay, the views in SQLite, uvicorn on a free port), in a thread of its own,
with a community's day in its views. Schemathesis generates requests for
every operation of ``/openapi.json`` — valid ones and invalid ones — and sends
them with the credentials of a role that holds the operation's right (taken
from the document's ``x-required-right`` and the library's POLICY). Every
answer must be a documented status with a body matching its schema, never a
5xx; an invalid request must be refused (4xx); and every operation that
declares authentication must refuse a request without credentials, or with
wrong ones (schemathesis's ``ignored_auth`` check, and the last test here).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, BaseSchema, GenerationMode
from schemathesis.core.result import Ok

from grid_events import GridApplication, Right, Role, StoreConfig, rights_of
from grid_service.runtime.auth import ACCOUNT_ROLES
from grid_service.runtime.pipeline import PipelineSettings, run_pipeline
from grid_service.scenario import DAY_SIZES, DAY_START, DayPlan, SimulatedClock

from .helpers import bearer, make_accounts

MAX_EXAMPLES = 30
"""Generated requests per operation and phase: enough to find a crash, few enough for about a minute in all."""

PREFERRED = (Role.AUDITOR, Role.ADMINISTRATOR)
"""Who calls: the auditor reads every view; the administrator operates the service."""


@attrs.frozen
class Running:
    """A running service: its URL and each role's token."""

    url: str
    tokens: dict[Role, str]

    def headers_for(self, right: str | None) -> dict[str, str]:
        """The credentials of a role that holds *right* (none for a public route)."""
        if right is None:
            return {}
        needed = Right(right)
        role = next(role for role in (*PREFERRED, *ACCOUNT_ROLES) if needed in rights_of(role))
        return bearer(self.tokens[role])


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """``grid-events run`` in a thread, on a free port, its views caught up with a community's day."""
    directory = tmp_path_factory.mktemp("fuzz")
    tokens = make_accounts(directory / "accounts.json")  # where `run` looks by default
    clock = SimulatedClock(DAY_START)
    app = GridApplication(StoreConfig.sqlite(directory / "events.sqlite3"), clock=clock)
    DayPlan(app, clock, size=DAY_SIZES["community"]).run()
    pipeline = PipelineSettings(data_dir=directory, http_port=0, access_log=False)
    ready: concurrent.futures.Future[str] = concurrent.futures.Future()
    control: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        control["stop"], control["loop"] = stop, asyncio.get_running_loop()
        await run_pipeline(pipeline, app=app, stop=stop, on_ready=ready.set_result)

    def serve() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # the test must hear of it, not wait for ever
            if not ready.done():
                ready.set_exception(error)
            raise

    thread = threading.Thread(target=serve, name="grid-events-run")
    thread.start()
    try:
        url = ready.result(timeout=120)
        with httpx.Client(base_url=url, timeout=10) as http:
            for _ in range(600):
                if http.get("/readyz", params={"caught_up": "true"}).status_code == 200:
                    break
                threading.Event().wait(0.1)
            else:
                pytest.fail("the views did not catch up within a minute")
        yield Running(url, tokens)
    finally:
        if "loop" in control:
            control["loop"].call_soon_threadsafe(control["stop"].set)
        thread.join(timeout=60)
        app.close()
    assert not thread.is_alive(), "the service did not stop"


@pytest.fixture(scope="module")
def api_schema(running: Running) -> BaseSchema:
    """The service's OpenAPI document, loaded by schemathesis."""
    return schemathesis.openapi.from_url(f"{running.url}/openapi.json")


def operations(api_schema: BaseSchema) -> list[APIOperation[Any, Any, Any, Any]]:
    """Every operation of the document (failing on any the document describes wrongly)."""
    found = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        found.append(result.ok())
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_every_operation_answers_as_documented_and_never_fails(
    api_schema: BaseSchema, running: Running, mode: GenerationMode
) -> None:
    """No 5xx; every status and body as the document says; bad input refused (4xx); no credentials, 401."""
    checked, failures = [], []
    for operation in operations(api_schema):
        headers = running.headers_for(operation.definition.raw.get("x-required-right"))

        @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=running.url)
            label = f"{case.method} {case.formatted_path} {case.query}"
            assert response.status_code < 500, f"{label}: {response.status_code} {response.text}"
            assert response.status_code not in {401, 403}, f"{label}: {response.text}"
            case.validate_response(response)

        try:
            answers_as_documented()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing invalid to send (no parameters)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 (every operation is tried, all reported)
            failures.append(f"{operation.label}: {str(error)[:3000]}")
        checked.append(operation.label)
    assert not failures, "\n\n".join(failures)
    assert len(checked) >= 20, checked
    with httpx.Client(base_url=running.url, timeout=10) as http:  # and nothing was changed by all that
        readiness = http.get("/readyz", params={"caught_up": "true"}).json()
    assert readiness["ready"], readiness["problems"]
    assert {"running"} == {view["state"] for view in readiness["views"]}


def test_without_credentials_every_protected_operation_answers_401(running: Running) -> None:
    """Every operation that declares security refuses anonymous and wrong credentials, saying what to send.

    The only operations without are the operator's probes.
    """
    with httpx.Client(base_url=running.url, timeout=10) as http:
        document = http.get("/openapi.json").json()
        public = []
        for path, operations in document["paths"].items():
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            for method, operation in operations.items():
                if not operation.get("security"):
                    public.append(path)
                    continue
                for headers in ({}, bearer("wrong"), {"Authorization": "Basic d3Jvbmc6d3Jvbmc="}):
                    answer = http.request(method.upper(), concrete, headers=headers)
                    assert 401 == answer.status_code, (method, path, headers, answer.text)
                    assert "Bearer" in answer.json()["detail"]
                    assert {"Basic", "Bearer"} == {
                        value.split(" ", 1)[0] for value in answer.headers.get_list("www-authenticate")
                    }
    assert ["/healthz", "/readyz", "/metrics"] == public
