"""The periodic offer sweep (run by the app every minute, see `create_app`; `portal events expire-offers` runs
the same sweep): offers whose deadline has passed (conference places and workshop seats) are written back and
their places offered to the next person waiting, even when nobody visits the event. Safe beside page views,
the CLI and other workers: each lapse is a conditional update, so it happens once. The loop is the app's
(`web/periodic.py`); this is one pass."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from portal.db import Database
from portal.events import workshops
from portal.events.links import Links
from portal.events.waitlist import expire_offers

log = logging.getLogger("portal.events")

INTERVAL_SECONDS = 60.0


def expire_due(database: Database, *, now: datetime, links: Links) -> tuple[int, int]:
    """One sweep, in one transaction: (conference places, workshop seats) whose offers lapsed."""
    with database.session(write=True) as session:
        seats = workshops.expire_offers(session, now=now, links=links)
        places = expire_offers(session, now=now, links=links)  # finds no seat offers left to lapse
    return len(places), len(seats)


def run_once(app: Any) -> int:
    """The app's periodic job: one sweep; how many offers lapsed."""
    state = app.state
    links = Links.for_app(app, key=state.settings.key_bytes())
    places, seats = expire_due(state.db, now=state.clock(), links=links)
    if places + seats:
        log.info("events: %s lapsed offer(s) passed to the next person waiting", places + seats)
    return places + seats
