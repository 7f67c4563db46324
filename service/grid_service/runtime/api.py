"""The HTTP API: a route per view, health, readiness, metrics, dead letters and rebuilds (FastAPI).

:func:`create_app` returns the ASGI application of a :class:`GridService`; its
lifespan starts the service and drains it on shutdown (uvicorn turns SIGTERM
and Ctrl-C into that shutdown). The read routes live in
:mod:`grid_service.runtime.views_api`; this module holds the operational ones:

* ``GET /healthz``: liveness (the process answers);
* ``GET /readyz``: 200 when no view is stopped (``?caught_up=true``: and every
  view has applied the whole stream), else 503 saying which view and why;
* ``GET /metrics``: Prometheus;
* ``/admin/…``: view states, dead letters, resume, skip, rebuild.

Every route but those three and the API document needs an account (see
:mod:`grid_service.runtime.auth`) whose role holds the route's right: the read
routes a reading right of the library's policy (``task.read``, ``audit.read``,
…), the admin routes ``service.operate`` (the administrator). The OpenAPI
document says which right each route needs (``x-required-right``). The read
routes show personal data only masked, as the views hold it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from grid_events import Right
from grid_service.runtime.auth import AccountsFile, Caller, NotAuthenticatedError, challenges, requires, route_rights
from grid_service.runtime.consumer import ProjectionStatus
from grid_service.runtime.metrics import CONTENT_TYPE
from grid_service.runtime.pages import router as pages_router
from grid_service.runtime.rebuild import RebuildStatus
from grid_service.runtime.service import GridService, ServiceError, UnknownViewError
from grid_service.runtime.views_api import router as views_router
from grid_service.views.base import DeadLetter
from grid_service.views.queries import MAX_OFFSET

__all__ = ["create_app", "service_of"]

logger = logging.getLogger("grid_service.runtime")

API_VERSION = "1"
MAX_SEQUENCE = 2**63 - 1
"""The largest stream sequence the view stores can hold (a signed 64-bit integer)."""


def service_of(request: Request) -> GridService:
    """Return the service the application serves (a FastAPI dependency)."""
    service: GridService = request.app.state.service
    return service


ServiceDep = Annotated[GridService, Depends(service_of)]


AdminDep = Annotated[Caller, Depends(requires(Right.SERVICE_OPERATE))]
"""An administrator: the admin routes' caller (the right ``service.operate``)."""


# -- response models ---------------------------------------------------------------------------


class ViewStatusOut(BaseModel):
    """One view's consumer: its state, how far it is, and what went wrong last."""

    name: str = Field(description="The view (projection) name.")
    consumer: str = Field(description="The durable JetStream consumer feeding it.")
    state: Literal["starting", "running", "stopped", "rebuilding"]
    reason: str = Field(description="Why the view is stopped, or what its consumer waits for.")
    position: int = Field(description="The last stream sequence applied to the view.")
    stream_last_sequence: int = Field(description="The stream's last sequence as last seen.")
    lag: int = Field(description="Messages not yet applied.")
    caught_up: bool
    consuming: bool = Field(description="Whether the consumer is bound and fetching.")
    applied: int = Field(description="Events applied since the service started.")
    redeliveries_skipped: int
    dead_letters: int = Field(description="Dead letters recorded since the service started.")
    retries: int
    last_error: str

    @classmethod
    def of(cls, view: ProjectionStatus) -> ViewStatusOut:
        """Return the model of *view*."""
        return cls(
            name=view.name,
            consumer=view.consumer,
            state=view.state,  # type: ignore[arg-type]
            reason=view.reason,
            position=view.position,
            stream_last_sequence=view.stream_last_sequence,
            lag=view.lag,
            caught_up=view.caught_up,
            consuming=view.consuming,
            applied=view.applied,
            redeliveries_skipped=view.duplicates,
            dead_letters=view.dead_letters,
            retries=view.retries,
            last_error=view.last_error,
        )


class HealthOut(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"] = "ok"


class ReadinessOut(BaseModel):
    """Readiness: whether the service should get traffic, and if not, why."""

    ready: bool
    problems: list[str] = Field(description="Why the service is not ready (empty when it is).")
    nats_connected: bool
    views: list[ViewStatusOut]


class DeadLetterOut(BaseModel):
    """A message a view could not apply, kept with its error (the body only on request)."""

    projection: str
    stream_sequence: int
    subject: str
    headers: dict[str, str]
    size: int = Field(description="Bytes in the message body.")
    data_base64: str | None = Field(
        default=None, description="The body, base64 (with ?with_data=true); personal data in it stays sealed."
    )
    error: str
    attempts: int
    recorded_at: datetime
    skipped: bool = Field(description="Whether the view moved past it; otherwise it stopped there.")

    @classmethod
    def of(cls, letter: DeadLetter, *, with_data: bool) -> DeadLetterOut:
        """Return the model of *letter*."""
        return cls(
            projection=letter.projection,
            stream_sequence=letter.stream_sequence,
            subject=letter.subject,
            headers=letter.headers,
            size=len(letter.data),
            data_base64=base64.b64encode(letter.data).decode() if with_data else None,
            error=letter.error,
            attempts=letter.attempts,
            recorded_at=letter.recorded_at,
            skipped=letter.skipped,
        )


class DeadLettersOut(BaseModel):
    """A page of dead letters, oldest first."""

    total: int
    items: list[DeadLetterOut]


class RebuildOut(BaseModel):
    """A rebuild's progress."""

    projection: str
    generation: int
    state: Literal["running", "finished", "failed"]
    started_at: datetime
    finished_at: datetime | None
    position: int = Field(description="The last stream sequence applied to the new generation.")
    target: int = Field(description="The live view's position it is catching up with.")
    applied: int
    passed_over: list[int] = Field(description="Dead letters the new generation passed over.")
    error: str

    @classmethod
    def of(cls, rebuild: RebuildStatus) -> RebuildOut:
        """Return the model of *rebuild*."""
        return cls(
            projection=rebuild.projection,
            generation=rebuild.generation,
            state=rebuild.state.value,
            started_at=rebuild.started_at,
            finished_at=rebuild.finished_at,
            position=rebuild.position,
            target=rebuild.target,
            applied=rebuild.applied,
            passed_over=list(rebuild.passed_over),
            error=rebuild.error,
        )


class ProblemOut(BaseModel):
    """An error: what went wrong and what to do."""

    detail: str


# -- the application ----------------------------------------------------------------------------


def create_app(service: GridService, *, manage_lifecycle: bool = True) -> FastAPI:
    """Return the HTTP application of *service*.

    With *manage_lifecycle* its lifespan starts the service and drains it on
    shutdown; without, the caller does (as :func:`~grid_service.runtime.pipeline.serve`
    does, to report configuration errors before the port opens).
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await service.stop()

    app = FastAPI(
        title="grid_events views",
        summary="Read models of community work: task boards, inspections, mediation, sites, residents, statistics.",
        description=(
            "Views kept from the grid_events event stream (NATS JetStream), exactly once and in order. "
            "Personal data is shown masked. Times are UTC (ISO 8601). Lists are paginated with "
            "`limit` and `offset` and say their `total`."
        ),
        version=API_VERSION,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.accounts = AccountsFile(service.settings.accounts)
    app.include_router(views_router)
    app.include_router(pages_router)  # the lists need the right of their view; the audit pages audit.read
    _operations(app)
    _document_rights(app)

    @app.exception_handler(NotAuthenticatedError)
    async def not_authenticated(_: Request, error: NotAuthenticatedError) -> JSONResponse:
        response = JSONResponse({"detail": error.detail}, status_code=status.HTTP_401_UNAUTHORIZED)
        for challenge in challenges():
            response.headers.append("WWW-Authenticate", challenge)
        return response

    @app.exception_handler(UnknownViewError)
    async def unknown_view(_: Request, error: UnknownViewError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(ServiceError)
    async def refused(_: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_409_CONFLICT)

    return app


_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}
_REFUSALS: dict[int, dict[str, Any]] = {
    401: {
        "content": _PROBLEM,
        "description": "No credentials, or wrong ones: send a Bearer token, or HTTP Basic (worker id, token).",
        "headers": {
            "WWW-Authenticate": {
                "description": "A challenge per scheme: Basic and Bearer.",
                "schema": {"type": "string"},
            }
        },
    },
    403: {
        "content": _PROBLEM,
        "description": "The account's role lacks the right this route needs (`detail` names it).",
    },
}


def _document_rights(app: FastAPI) -> None:
    """Make the OpenAPI document say, for each route, the right it needs and the refusals it may answer.

    Done each time the document is made, so that routes added after :func:`create_app` count too.
    """
    make = app.openapi

    def openapi() -> dict[str, Any]:
        document = make()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ProblemOut", ProblemOut.model_json_schema())
        for (method, path), right in route_rights(app).items():
            operation = document.get("paths", {}).get(path, {}).get(method.lower())
            if right is None or operation is None or "x-required-right" in operation:
                continue
            operation["x-required-right"] = right.value
            needs = f"Needs the right `{right.value}`: {right.description}."
            operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()
            for code, response in _REFUSALS.items():
                operation.setdefault("responses", {}).setdefault(str(code), response)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(app: FastAPI) -> None:  # noqa: C901 (one small route after another)
    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> HealthOut:
        return HealthOut()

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: no view stopped (and, with caught_up, all caught up)",
        responses={503: {"model": ReadinessOut, "description": "Not ready: `problems` says why."}},
    )
    async def readyz(
        service: ServiceDep,
        caught_up: Annotated[
            bool, Query(description="Also require every view to have applied the whole stream.")
        ] = False,
    ) -> ReadinessOut:
        if caught_up:
            # "Caught up" against the stream's end as it is now, not as last polled (a second ago).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(service.refresh_stream_end(), timeout=2)
        readiness = service.readiness(caught_up=caught_up)
        body = ReadinessOut(
            ready=readiness.ready,
            problems=list(readiness.problems),
            nats_connected=readiness.nats_connected,
            views=[ViewStatusOut.of(view) for view in readiness.views],
        )
        if not readiness.ready:
            return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)  # type: ignore[return-value]
        return body

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "The Prometheus text format."}},
    )
    def metrics(service: ServiceDep) -> Response:
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)

    @app.get("/admin/views", tags=["admin"], summary="Every view's consumer")
    async def views(service: ServiceDep, _: AdminDep) -> list[ViewStatusOut]:
        return [ViewStatusOut.of(view) for view in service.statuses()]

    @app.get(
        "/admin/dead-letters",
        tags=["admin"],
        summary="Messages the views could not apply",
        responses={404: {"model": ProblemOut, "description": "No such view."}},
    )
    async def dead_letters(
        service: ServiceDep,
        _: AdminDep,
        projection: Annotated[str | None, Query(description="Only this view's.")] = None,
        with_data: Annotated[bool, Query(description="Include each message body (base64).")] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> DeadLettersOut:
        letters = await service.dead_letters(projection)
        page = letters[offset : offset + limit]
        return DeadLettersOut(total=len(letters), items=[DeadLetterOut.of(x, with_data=with_data) for x in page])

    admin_errors: dict[int | str, dict[str, object]] = {
        404: {"model": ProblemOut, "description": "No such view."},
        409: {"model": ProblemOut, "description": "Not possible in the view's present state."},
    }

    @app.post(
        "/admin/views/{name}/resume",
        tags=["admin"],
        summary="Let a stopped view try again from where it stopped",
        responses=admin_errors,
    )
    async def resume(name: str, service: ServiceDep, _: AdminDep) -> ViewStatusOut:
        return ViewStatusOut.of(await service.resume(name))

    @app.post(
        "/admin/views/{name}/skip",
        tags=["admin"],
        summary="Move a stopped view past the message it stopped at",
        responses=admin_errors,
    )
    async def skip(
        name: str,
        service: ServiceDep,
        caller: AdminDep,
        sequence: Annotated[int, Query(ge=1, le=MAX_SEQUENCE, description="The stream sequence the view stopped at.")],
        reason: Annotated[str, Query(min_length=1, max_length=300, description="Why, for the record.")],
    ) -> ViewStatusOut:
        skipped = await service.skip(name, sequence, reason)  # refuses unknown views: only real names are logged
        logger.warning("skip of %s at %d asked by %s from %s", name, sequence, caller.worker_id, caller.host)
        return ViewStatusOut.of(skipped)

    @app.post(
        "/admin/views/{name}/rebuild",
        tags=["admin"],
        summary="Rebuild a view from the start of the stream (reads go on meanwhile)",
        status_code=status.HTTP_202_ACCEPTED,
        responses=admin_errors,
    )
    async def rebuild(name: str, service: ServiceDep, caller: AdminDep) -> RebuildOut:
        started = await service.rebuild(name)
        logger.info("rebuild of %s asked by %s from %s", name, caller.worker_id, caller.host)
        return RebuildOut.of(started)

    @app.get(
        "/admin/views/{name}/rebuild",
        tags=["admin"],
        summary="The progress of a view's last rebuild",
        responses=admin_errors,
    )
    async def rebuild_status(name: str, service: ServiceDep, _: AdminDep) -> RebuildOut:
        service.view(name)
        for rebuild in service.rebuilds():
            if rebuild.projection == name:
                return RebuildOut.of(rebuild)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"view {name} has not been rebuilt since the service started")
