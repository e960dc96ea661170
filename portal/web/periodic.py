"""Periodic jobs that run beside the app: each job's blocking work runs in a worker thread (never on the event
loop) every `interval` seconds, a failure is logged and tried again after `error_pause`, and every job stops
when the app shuts down. The list of jobs is built by `create_app`; this module knows no domain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import anyio

log = logging.getLogger("portal.periodic")


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    #: The blocking work; it opens its own transactions and logs what it did.
    run: Callable[[], object]
    #: The wait after a failure (the interval when not given).
    error_pause: float | None = None


async def run_forever(job: Job, *, limiter: anyio.CapacityLimiter | None = None) -> None:
    while True:
        try:
            await anyio.to_thread.run_sync(job.run, limiter=limiter)
        except Exception:
            pause = job.interval if job.error_pause is None else job.error_pause
            log.exception("%s: the periodic job failed; trying again in %s s", job.name, pause)
            await asyncio.sleep(pause)
            continue
        await asyncio.sleep(job.interval)


@contextlib.asynccontextmanager
async def running(
    jobs: Sequence[Job], *, limiter: anyio.CapacityLimiter | None = None
) -> AsyncIterator[None]:
    """For the app's lifespan: every job runs until the block ends, its threads taken from `limiter` (the
    app's background limiter; anyio's default one when not given)."""
    tasks = [asyncio.create_task(run_forever(job, limiter=limiter), name=job.name) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
