"""The service's runtime: NATS consumers, rebuilds, the HTTP API, the process and the one-command pipeline.

* :class:`~grid_service.runtime.settings.ServiceSettings`: configuration (environment and options);
* :class:`~grid_service.runtime.service.GridService`: start, drain, stop; resume, skip, rebuild;
* :func:`~grid_service.runtime.api.create_app`: the FastAPI application;
* :func:`~grid_service.runtime.pipeline.serve` and :func:`~grid_service.runtime.pipeline.run_pipeline`:
  the service behind uvicorn, alone or with a nats-server and the outbox relay.

``docs/service.md`` is the operator's guide. Importing this package starts nothing.
"""
