"""The periodic offer sweep (run by the app every minute, see `create_app`): offers whose deadline has passed
(conference places and workshop seats) are written back and their places offered to the next person waiting,
even when nobody visits the event. Safe beside page views, the CLI and other workers: each lapse is a
conditional update, so it happens once."""

from __future__ import annotations

import logging
from typing import Any

from portal.events import workshops
from portal.events.links import Links
from portal.events.waitlist import expire_offers

log = logging.getLogger("portal.events")

INTERVAL_SECONDS = 60.0


def run_once(app: Any) -> int:
    state = app.state
    links = Links.for_app(app, key=state.settings.key_bytes())
    with state.db.session(write=True) as session:
        now = state.clock()
        seats = workshops.expire_offers(session, now=now, links=links)
        lapsed = len(seats) + len(expire_offers(session, now=now, links=links))
    if lapsed:
        log.info("events: %s lapsed offer(s) passed to the next person waiting", lapsed)
    return lapsed
