"""Bounded retries with jittered exponential backoff: the worker's one retry loop for aiohttp calls.

Used by the engine's HTTP client and by the presigned-URL transfers. An attempt says "try again"
by raising `Retry(error)`; any other exception ends the loop at once. When the attempts run out,
the last `Retry`'s error is raised, so the caller's own typed error reaches the job, never a vendor
one. It sits beside `worker.errors` because the engines may import nothing else from the worker.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Retry(Exception):  # noqa: N818 (a signal to the loop, not an error that escapes it)
    """Raised by an attempt that may succeed if tried again; `error` is raised if none is left."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    backoff_s: float,
    what: str,
    log: logging.Logger,
) -> T:
    """Run `attempt` up to `attempts` times, sleeping backoff_s·2^(n-1)·[0.5, 1.5) between tries."""
    last: Exception | None = None
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except Retry as retry:
            last = retry.error
        if number < attempts:
            delay = backoff_s * 2 ** (number - 1) * (0.5 + random.random())  # noqa: S311 (jitter)
            log.warning("retrying %s in %.2fs (attempt %d): %s", what, delay, number, last)
            await asyncio.sleep(delay)
    assert last is not None
    raise last
