"""The waitlist: people wait in order of arrival; a freed place is offered to the first whose choices fit,
held for them until a deadline, and passed on if they let it lapse.

Nothing depends on a scheduler: a lapsed offer is treated as lapsed from the moment its deadline passes
(pages compute it from the clock), and is written back — the place passed to the next person — by the next
booking action on the event, by `portal events expire-offers`, or by the app's periodic sweep.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.errors import PortalError
from portal.events import capacity, notify, workshops
from portal.events.errors import Code
from portal.events.links import Links
from portal.events.models import HOLDS_PLACE, Event, Registration, RegistrationWorkshop, Workshop

#: Which offers a sweep looks at: one event's (its id, or a scalar subquery finding it), or every event's.
EventScope = int | ColumnElement[int] | None


class WaitlistError(PortalError):
    """`code`: not_waiting, no_place."""


def position(session: Session, registration: Registration) -> int | None:
    """1 for the first in line; None when not waiting."""
    if registration.status != "waitlisted":
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == "waitlisted",
            Registration.id < registration.id,
        )
    )
    return int(ahead or 0) + 1


def waiting_count(session: Session, event_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == event_id, Registration.status == "waitlisted")
        )
        or 0
    )


def offer_deadline(event: Event, now: datetime) -> datetime:
    return min(now + timedelta(hours=event.offer_hours), max(event.starts_at, now))


def _claim_offer(session: Session, registration: Registration, event: Event, now: datetime) -> bool:
    """waitlisted → offered, only if nobody else moved it first (two promotions at once offer it once)."""
    changed = session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == "waitlisted")
        .values(status="offered", offered_at=now, offer_expires_at=offer_deadline(event, now), updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.expire(registration)
    return changed == 1


def _offer(
    session: Session, registration: Registration, event: Event, *, enforce: bool, now: datetime
) -> str | None:
    """Offer one waiting person a place: None on success, else what was full (or "moved")."""
    savepoint = session.begin_nested()
    if not _claim_offer(session, registration, event, now):
        savepoint.rollback()
        session.expire(registration)
        return "moved"
    failed = capacity.take_places(session, registration, now=now, enforce=enforce)
    if failed:
        savepoint.rollback()
        session.expire(registration)
        return failed
    savepoint.commit()
    return None


def offer_next(session: Session, *, event_id: int, now: datetime, links: Links) -> list[Registration]:
    """Offer free places to the people waiting, in order, as far as places allow; each gets an e-mail."""
    capacity.lock_event(session, event_id)
    event = session.get(Event, event_id)
    if event is None or now >= event.starts_at:
        return []
    offered: list[Registration] = []
    waiting = session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status == "waitlisted")
        .order_by(Registration.id)
    ).all()
    for registration in waiting:
        failed = _offer(session, registration, event, enforce=True, now=now)
        if failed == "event":
            break  # the event itself is full: nobody further down can fit either (a full workshop never
            # stops anyone: they get the conference place and join that workshop's line)
        if failed is None:
            offered.append(registration)
            notify.send_offer(session, registration, event=event, links=links, now=now)
    return offered


def promote(
    session: Session,
    *,
    registration_id: int,
    actor: Account,
    over_capacity: bool,
    now: datetime,
    links: Links,
) -> Registration:
    """Staff offer a place to one waiting person, whatever their position; over capacity only if asked."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.status != "waitlisted":
        raise WaitlistError(Code.NOT_WAITING, "This person is not on the waitlist.")
    capacity.lock_event(session, registration.event_id)
    event = session.get(Event, registration.event_id)
    assert event is not None
    failed = _offer(session, registration, event, enforce=not over_capacity, now=now)
    if failed == "moved":
        raise WaitlistError(Code.NOT_WAITING, "This person is not on the waitlist.")
    if failed:
        raise WaitlistError(
            Code.NO_PLACE,
            f"No place is free (the {failed} is full). Tick 'over capacity' to offer one anyway."
            " (Full workshops are not overfilled: the delegate joins their lines.)",
        )
    notify.send_offer(session, registration, event=event, links=links, now=now)
    audit.record(
        session,
        actor=actor,
        action="events.waitlist_promote",
        subject=f"registration {registration.id}",
        details={"event": event.slug, "over_capacity": over_capacity},
        now=now,
    )
    return registration


def release(session: Session, registration: Registration, *, reason: str, now: datetime, links: Links) -> str:
    """Cancel a live registration and give back whatever places it held; each workshop seat it held is
    offered to the next person in that workshop's line (before the conference place is offered on, so the
    workshop's line comes first). Returns its previous status.

    The status change is conditional, so two cancellations (or a cancellation and an accepted offer) of the
    same booking never give its places back twice."""
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    previous = registration.status
    if previous == "cancelled":
        raise WaitlistError(Code.ALREADY_CANCELLED, "This booking is already cancelled.")
    changed = session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == previous)
        .values(
            status="cancelled",
            member_place=None,
            cancelled_at=now,
            cancel_reason=reason,
            offer_expires_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.expire(registration)
    if changed != 1:
        raise WaitlistError(
            Code.CONFLICT, "This booking changed a moment ago. Reload the page and try again."
        )
    if previous in HOLDS_PLACE:
        freed = capacity.give_back_places(session, registration)
        workshops.offer_freed(session, freed, now=now, links=links)
    else:
        capacity.cancel_workshop_choices(session, registration)
    return previous


def offers_lapsed(session: Session, *, now: datetime, event_id: EventScope = None) -> bool:
    """Whether any offer (a conference place or a workshop seat; of one event, or of any) has passed its
    deadline and is still to be written back: the cheap look before `expire_offers`, in one statement."""
    places = select(Registration.id).where(
        Registration.status == "offered", Registration.offer_expires_at <= now
    )
    seats = (
        select(RegistrationWorkshop.registration_id)
        .join(Workshop, Workshop.id == RegistrationWorkshop.workshop_id)
        .where(RegistrationWorkshop.status == "offered", RegistrationWorkshop.offer_expires_at <= now)
    )
    if event_id is not None:
        places = places.where(Registration.event_id == event_id)
        seats = seats.where(Workshop.event_id == event_id)
    return bool(session.scalar(select(or_(places.exists(), seats.exists()))))


def expire_offers(
    session: Session, *, now: datetime, links: Links, event_id: EventScope = None
) -> list[Registration]:
    """Write back every offer whose deadline has passed: cancel it, tell the person, and offer the place to
    the next in line; workshop seat offers likewise, per workshop (`workshops.expire_offers`). Returns the
    lapsed registrations (conference places)."""
    workshops.expire_offers(session, now=now, links=links, event_id=event_id)
    query = select(Registration).where(Registration.status == "offered", Registration.offer_expires_at <= now)
    if event_id is not None:
        query = query.where(Registration.event_id == event_id)
    lapsed: list[Registration] = []
    for registration in session.scalars(query.order_by(Registration.id)).all():
        capacity.lock_event(session, registration.event_id)
        changed = session.execute(
            update(Registration)
            .where(
                Registration.id == registration.id,
                Registration.status == "offered",
                Registration.offer_expires_at <= now,
            )
            .values(
                status="cancelled",
                member_place=None,
                cancelled_at=now,
                cancel_reason="offer_lapsed",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        session.expire(registration)
        if changed != 1:
            continue
        freed = capacity.give_back_places(session, registration)
        workshops.offer_freed(session, freed, now=now, links=links)
        event = session.get(Event, registration.event_id)
        assert event is not None
        notify.send_offer_lapsed(session, registration, event=event, links=links, now=now)
        lapsed.append(registration)
    for touched in sorted({r.event_id for r in lapsed}):
        offer_next(session, event_id=touched, now=now, links=links)
    return lapsed


def offer_is_live(registration: Registration, now: datetime) -> bool:
    return (
        registration.status == "offered"
        and registration.offer_expires_at is not None
        and registration.offer_expires_at > now
    )
