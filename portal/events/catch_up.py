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

#: The scope of a sweep: one event's id (a number, or a scalar subquery that finds it: the look before the
#: sweep is then one statement), or None for every event.
Scope = Callable[[Ctx], waitlist.EventScope]


def _by_id(ctx: Ctx) -> waitlist.EventScope:
    return int(ctx.params["event_id"])


def _by_slug(ctx: Ctx) -> waitlist.EventScope:
    # An unknown slug finds no event and so no offer: the page itself says it is not found.
    return select(Event.id).where(Event.slug == ctx.params["slug"]).scalar_subquery()


def _by_booking_link(ctx: Ctx) -> waitlist.EventScope:
    digest = manage_digest(ctx.key, ctx.params["token"])
    # An unknown link: no event, nothing due; the page itself says so.
    return select(Registration.event_id).where(Registration.manage_token_digest == digest).scalar_subquery()


def _every_event(ctx: Ctx) -> waitlist.EventScope:
    return None


def _sweep(scope: Scope) -> CatchUp:
    def due(ctx: Ctx) -> bool:
        return waitlist.offers_lapsed(ctx.db, now=ctx.now, event_id=scope(ctx))

    def run(ctx: Ctx) -> None:
        links = Links.for_app(ctx.request.app, key=ctx.key)
        # Conference offers and workshop seat offers alike (`expire_offers` does both).
        waitlist.expire_offers(ctx.db, now=ctx.now, links=links, event_id=scope(ctx))

    return CatchUp(due=due, run=run)


#: For a page whose path names the event by its id (`{event_id:int}`).
BY_ID = _sweep(_by_id)
#: For the public event page (`/events/{slug}`).
BY_SLUG = _sweep(_by_slug)
#: For a booking's private page (`/events/booking/{token}`).
BY_BOOKING_LINK = _sweep(_by_booking_link)
#: For a page that lists bookings across events (My bookings).
EVERY_EVENT = _sweep(_every_event)
