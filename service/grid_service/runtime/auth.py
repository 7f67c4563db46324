"""Who is calling: the seam where authentication (issue 6) will plug in.

Every route depends on :func:`current_caller`. Today it knows only the peer
address and calls everyone anonymous; issue 6 replaces its body (a token, a
client certificate, a proxy's header) and the routes can then use
``caller.worker_id`` and its roles. Nothing else needs to change.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import attrs
from fastapi import Depends, Request

__all__ = ["Caller", "CallerDep", "current_caller"]


@attrs.frozen
class Caller:
    """Who is asking. Until authentication exists every caller is anonymous; *host* is the peer address."""

    host: str
    authenticated: bool = False
    worker_id: str | None = None

    @property
    def is_local(self) -> bool:
        """Whether the request comes from this machine."""
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host in {"localhost", "testclient"}


def current_caller(request: Request) -> Caller:
    """Return who is calling (a FastAPI dependency). Anonymous until issue 6."""
    client = request.client
    return Caller(host=client.host if client is not None else "")


CallerDep = Annotated[Caller, Depends(current_caller)]
