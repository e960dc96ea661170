"""The periodic sweep that runs with the app: offers whose deadline has passed (conference places and
workshop seats) are written back and their places offered to the next person waiting, even when nobody
visits the event. Safe beside page views, the
CLI and other workers: each lapse is a conditional update, so it happens once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio

from portal.events import workshops
from portal.events.links import app_links
from portal.events.waitlist import expire_offers

log = logging.getLogger("portal.events")

INTERVAL_SECONDS = 60.0


def run_once(app: Any) -> int:
    state = app.state
    links = app_links(app, state.settings.base_url, state.settings.key_bytes())
    with state.db.session(write=True) as session:
        now = state.clock()
        seats = workshops.expire_offers(session, now=now, links=links)
        return len(seats) + len(expire_offers(session, now=now, links=links))


async def run_forever(app: Any, *, interval: float = INTERVAL_SECONDS) -> None:
    while True:
        try:
            lapsed = await anyio.to_thread.run_sync(run_once, app)
            if lapsed:
                log.info("events: %s lapsed offer(s) passed to the next person waiting", lapsed)
        except Exception:
            log.exception("events: the offer sweep failed; trying again in %s s", interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """For the app's lifespan, with the other background workers (`settings.run_mail_worker`), so tests that
    move the clock themselves do not have it running beside them."""
    if not app.state.settings.run_mail_worker:
        yield
        return
    task = asyncio.create_task(run_forever(app), name="events-offer-sweep")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
