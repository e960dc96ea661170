"""The periodic election task that runs with the app: it freezes rolls, closes pools and sends scheduled
reminders even when no one visits an election page. Every step is idempotent and safe across workers, so
each app worker may run it, and `portal election remind` may run at the same time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio

from portal.elections.links import Links
from portal.elections.reminders import run_due

log = logging.getLogger("portal.elections")

#: How often the task looks at the clock. Reminders are due by the day, so a few minutes late is fine.
INTERVAL_SECONDS = 300.0
ERROR_PAUSE_SECONDS = 60.0


def run_once(app: Any) -> dict[str, int]:
    state = app.state
    return run_due(state.db, now=state.clock(), key=state.settings.key_bytes(), links=Links.for_app(app))


async def run_forever(app: Any, *, interval: float = INTERVAL_SECONDS) -> None:
    while True:
        try:
            done = await anyio.to_thread.run_sync(run_once, app)
            if done["updated"] or done["reminders"]:
                log.info(
                    "elections: %(updated)s election(s) brought up to date, %(reminders)s reminder(s)", done
                )
        except Exception:
            log.exception("elections: the periodic task failed; trying again in %s s", ERROR_PAUSE_SECONDS)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
            continue
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """For the app's lifespan: runs with the other background workers (`settings.run_mail_worker`), so tests
    that drive time themselves do not have it running beside them."""
    if not app.state.settings.run_mail_worker:
        yield
        return
    task = asyncio.create_task(run_forever(app), name="election-tasks")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
