"""What an event page owes the clock before it is shown: offers whose deadline has passed (conference places
and workshop seats) are written back and their places offered to the next person waiting. Pages declare it
(`@page(..., catch_up=(catch_up.BY_SLUG,))`), so the boundary does the sweep in a short write transaction of
its own *before* the request's, and the page then reads the places as they now are (never a second
connection beside the request's). Actions write lapsed offers back inside their own transaction; the periodic
sweep (`events/tasks.py`) does it early for events nobody visits.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from portal.events import waitlist
from portal.events.links import Links, manage_digest
from portal.events.models import Event, Registration
from portal.web.boundary import CatchUp
from portal.web.context import Ctx

#: The scope of a sweep: one event's id, or None for every event.
Scope = Callable[[Ctx], tuple[bool, int | None]]


def _by_id(ctx: Ctx) -> tuple[bool, int | None]:
    return True, int(ctx.params["event_id"])


def _by_slug(ctx: Ctx) -> tuple[bool, int | None]:
    event_id = ctx.db.scalar(select(Event.id).where(Event.slug == ctx.params["slug"]))
    return event_id is not None, event_id


def _by_booking_link(ctx: Ctx) -> tuple[bool, int | None]:
    digest = manage_digest(ctx.key, ctx.params["token"])
    event_id = ctx.db.scalar(select(Registration.event_id).where(Registration.manage_token_digest == digest))
    return event_id is not None, event_id  # an unknown link: the page itself says so


def _every_event(ctx: Ctx) -> tuple[bool, int | None]:
    return True, None


def _sweep(scope: Scope) -> CatchUp:
    def due(ctx: Ctx) -> bool:
        found, event_id = scope(ctx)
        return found and waitlist.offers_lapsed(ctx.db, now=ctx.now, event_id=event_id)

    def run(ctx: Ctx) -> None:
        _, event_id = scope(ctx)
        links = Links.for_app(ctx.request.app, key=ctx.key)
        # Conference offers and workshop seat offers alike (`expire_offers` does both).
        waitlist.expire_offers(ctx.db, now=ctx.now, links=links, event_id=event_id)

    return CatchUp(due=due, run=run)


#: For a page whose path names the event by its id (`{event_id:int}`).
BY_ID = _sweep(_by_id)
#: For the public event page (`/events/{slug}`).
BY_SLUG = _sweep(_by_slug)
#: For a booking's private page (`/events/booking/{token}`).
BY_BOOKING_LINK = _sweep(_by_booking_link)
#: For a page that lists bookings across events (My bookings).
EVERY_EVENT = _sweep(_every_event)
