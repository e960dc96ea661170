"""The office's bulk actions on an event's bookings: cancelling those unpaid past their due date, and e-mailing
the delegates. Plain functions over a Session; they flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.events import notify, waitlist
from portal.events.catalogue import get_event
from portal.events.errors import Code, EventError
from portal.events.invoices import today_in
from portal.events.links import Links
from portal.events.models import Invoice, Registration


def overdue_unpaid(session: Session, *, event_id: int, now: datetime) -> list[Registration]:
    """Confirmed bookings with money owed whose invoice fell due before today."""
    event = get_event(session, event_id)
    today = today_in(event, now)
    return list(
        session.scalars(
            select(Registration)
            .join(Invoice, Invoice.registration_id == Registration.id)
            .where(
                Registration.event_id == event_id,
                Registration.status == "confirmed",
                Registration.payment_status == "unpaid",
                Registration.amount_due > 0,
                Invoice.due_on < today,
            )
            .order_by(Registration.id)
        )
    )


def cancel_unpaid(
    session: Session,
    *,
    event_id: int,
    registration_ids: Sequence[int],
    actor: Account,
    now: datetime,
    links: Links,
) -> list[Registration]:
    """Cancel the chosen bookings that are still unpaid past their due date; each delegate is e-mailed and
    the freed places go to the waitlist. Bookings paid meanwhile are left alone."""
    overdue = {r.id: r for r in overdue_unpaid(session, event_id=event_id, now=now)}
    cancelled = []
    for registration_id in registration_ids:
        registration = overdue.get(registration_id)
        if registration is None:
            continue
        waitlist.release(session, registration, reason="unpaid", now=now, links=links)
        event = get_event(session, event_id)
        notify.send_cancelled(session, registration, event=event, reason="unpaid", links=links, now=now)
        cancelled.append(registration)
    if cancelled:
        audit.record(
            session,
            actor=actor,
            action="events.cancel_unpaid",
            subject=get_event(session, event_id).slug,
            details={"registrations": [r.id for r in cancelled]},
            now=now,
        )
        waitlist.offer_next(session, event_id=event_id, now=now, links=links)
    return cancelled


AUDIENCES = {
    "confirmed": "Everyone with a place",
    "waitlisted": "Everyone on the waitlist",
    "all": "Everyone with a place, an offer or on the waitlist",
}


def email_delegates(
    session: Session,
    *,
    event_id: int,
    audience: str,
    subject: str,
    body: str,
    actor: Account,
    now: datetime,
    links: Links,
) -> int:
    """One e-mail per delegate through the outbox, in this transaction; the send is audit-logged."""
    statuses = {
        "confirmed": ["confirmed"],
        "waitlisted": ["waitlisted"],
        "all": ["confirmed", "offered", "waitlisted"],
    }
    if audience not in statuses or not subject.strip() or not body.strip():
        raise EventError(Code.BAD_INPUT, "Choose who to write to, and give a subject and a message.")
    event = get_event(session, event_id)
    recipients = session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status.in_(statuses[audience]))
        .order_by(Registration.id)
    ).all()
    for registration in recipients:
        notify.send_message(
            session, registration, event=event, subject=subject, body=body, links=links, now=now
        )
    audit.record(
        session,
        actor=actor,
        action="events.email_delegates",
        subject=event.slug,
        details={"audience": audience, "subject": subject, "recipients": len(recipients)},
        now=now,
    )
    return len(recipients)
