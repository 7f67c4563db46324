"""Run the engine's blocking calls off the event loop, one at a time, on one thread of their own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["Writer"]

P = ParamSpec("P")
T = TypeVar("T")


class Writer:
    """One thread for every write to the view store, so writes never contend with each other.

    SQLite takes one writer at a time anyway; PostgreSQL would take more, but
    each call already applies a whole batch in one transaction. Reads (the HTTP
    API) do not go through here.
    """

    def __init__(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="grid-views-writer")

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Return ``function(*args, **kwargs)``, run on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    def close(self) -> None:
        """Wait for the call in progress, if any, and stop the thread."""
        self._executor.shutdown(wait=True, cancel_futures=True)
