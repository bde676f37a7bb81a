"""Background work the gateway repeats while it runs (queue sweeps, law-date checks)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def every(seconds: float, name: str, step: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """Run ``step`` now and then every ``seconds`` until the context ends; a failing step is logged, not fatal."""

    async def loop() -> None:
        while True:
            try:
                await step()
            except Exception:
                log.exception("%s failed", name)
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
