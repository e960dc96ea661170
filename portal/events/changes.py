"""The delegate's own booking after it is made: finding it by its link, the link sent again, a logged-in
person's bookings, changing names and answers, cancelling (by the delegate or the office), and taking up a
place offered from the waitlist. Plain functions over a Session; they flush, never commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal import audit
from portal.accounts.models import Account
from portal.errors import Kind
from portal.events import capacity, notify, waitlist
from portal.events.catalogue import get_event
from portal.events.errors import Code, EventError
from portal.events.links import Links, manage_digest
from portal.events.models import (
    Answer,
    Event,
    Registration,
)
from portal.events.payments import PaymentRequest
from portal.events.sales import answer_errors, answer_rows, confirm, live_booking, normal_email
from portal.mail import service as mail

# --- the delegate's own booking ---------------------------------------------------------------------------------


def find_by_token(session: Session, *, token: str, key: bytes) -> Registration:
    registration = session.scalar(
        select(Registration).where(Registration.manage_token_digest == manage_digest(key, token))
    )
    if registration is None:
        raise EventError(
            Code.NOT_FOUND,
            "This booking link is not valid. Check the address in your e-mail.",
            kind=Kind.NOT_FOUND,
        )
    return registration


def resend_manage_link(
    session: Session, *, event_id: int, email: str, ip: str, now: datetime, links: Links
) -> None:
    """Someone asks for the link of their booking for this event again: if a live booking has this address,
    the address gets its link. Counted by the mail throttle like every link e-mail anyone can ask for, and
    the caller answers the same whatever the address, so nobody learns from it who has booked."""
    email = normal_email(email)
    mail.throttle(session, purpose="booking_link", email=email, ip=ip, now=now)
    registration = live_booking(session, event_id=event_id, email=email)
    if registration is None:
        return
    notify.send_manage_link(session, registration, event=get_event(session, event_id), links=links, now=now)


def registrations_of(session: Session, *, member_id: int | None, account_id: int) -> list[Registration]:
    """A logged-in person's bookings: through their member record, or made while logged in."""
    conditions = [Registration.account_id == account_id]
    if member_id is not None:
        conditions.append(Registration.member_id == member_id)
    return list(
        session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(or_(*conditions))
            .options(selectinload(Registration.event), selectinload(Registration.ticket_type))
            .order_by(Event.starts_at.desc(), Registration.id.desc())
        )
    )


def cancellation_cutoff(event: Event) -> datetime:
    return event.cancellation_cutoff or event.starts_at


def can_cancel(registration: Registration, event: Event, now: datetime) -> bool:
    if registration.status == "cancelled":
        return False
    if registration.status in ("waitlisted", "offered"):
        return now < event.starts_at
    return now < cancellation_cutoff(event)


def cancel_by_delegate(
    session: Session, *, registration: Registration, now: datetime, links: Links
) -> Registration:
    """The delegate gives their place back (or leaves the waitlist, or declines an offer) until the cut-off;
    a freed place is offered to the next person waiting."""
    event = get_event(session, registration.event_id)
    if registration.status == "cancelled":
        raise EventError(Code.ALREADY_CANCELLED, "This booking is already cancelled.")
    if not can_cancel(registration, event, now):
        raise EventError(
            Code.PAST_CUTOFF, "The deadline for cancelling has passed. Please contact us about your booking."
        )
    reason = {"offered": "declined", "waitlisted": "left_waitlist"}.get(registration.status, "delegate")
    previous = waitlist.release(session, registration, reason=reason, now=now, links=links)
    notify.send_cancelled(session, registration, event=event, reason=reason, links=links, now=now)
    if previous in ("confirmed", "offered"):
        waitlist.offer_next(session, event_id=event.id, now=now, links=links)
    return registration


def cancel_by_staff(
    session: Session, *, registration_id: int, actor: Account, reason: str, now: datetime, links: Links
) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise EventError(Code.NOT_FOUND, "No such booking.", kind=Kind.NOT_FOUND)
    if registration.status == "cancelled":
        raise EventError(Code.ALREADY_CANCELLED, "This booking is already cancelled.")
    previous = waitlist.release(session, registration, reason=reason, now=now, links=links)
    event = get_event(session, registration.event_id)
    notify.send_cancelled(session, registration, event=event, reason=reason, links=links, now=now)
    audit.record(
        session,
        actor=actor,
        action="events.cancel",
        subject=f"registration {registration.id}",
        details={"event": event.slug, "reason": reason, "was": previous},
        now=now,
    )
    if previous in ("confirmed", "offered"):
        waitlist.offer_next(session, event_id=event.id, now=now, links=links)
    return registration


def accept_offer(
    session: Session, *, registration: Registration, now: datetime, links: Links
) -> PaymentRequest | None:
    """Take up an offered place before its deadline; a lapsed offer is written back and refused."""
    if registration.status != "offered":
        raise EventError(Code.NOT_OFFERED, "There is no offer of a place on this booking.")
    if not waitlist.offer_is_live(registration, now):
        waitlist.expire_offers(session, now=now, links=links, event_id=registration.event_id)
        raise EventError(Code.OFFER_EXPIRED, "Sorry, the time to accept this place has passed.")
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    if registration.status != "offered":
        raise EventError(Code.NOT_OFFERED, "There is no offer of a place on this booking.")
    event = get_event(session, registration.event_id)
    return confirm(session, registration, event=event, now=now, links=links)


def change_details(
    session: Session,
    *,
    registration: Registration,
    first_name: str,
    last_name: str,
    email: str,
    answers: Mapping[int, str | Sequence[str]],
    now: datetime,
) -> Registration:
    """Names, e-mail and answers can change until the event starts (tickets and workshops stay)."""
    event = get_event(session, registration.event_id)
    if registration.status == "cancelled":
        raise EventError(Code.ALREADY_CANCELLED, "This booking is cancelled.")
    if now >= event.starts_at:
        raise EventError(Code.PAST_CUTOFF, "The event has started: please speak to us at the desk.")
    errors = answer_errors(event.questions, answers)
    if errors:
        raise EventError(Code.INVALID_ANSWERS, "Some answers need attention.", errors=errors)
    registration.first_name = first_name.strip()
    registration.last_name = last_name.strip()
    new_email = normal_email(email)
    if new_email != registration.email:
        other = live_booking(session, event_id=event.id, email=new_email)
        if other is not None and other.id != registration.id:
            raise EventError(
                Code.ALREADY_BOOKED,
                "Another booking for this event uses that e-mail address: give a different one.",
                errors={"email": "Another booking for this event uses that e-mail address."},
            )
    registration.email = new_email
    # Updated in place: replacing the rows would insert the new before deleting the old, and clash.
    current = {a.question_id: a for a in registration.answers}
    wanted = {a.question_id: a.value for a in answer_rows(event.questions, answers)}
    for question_id, answer in current.items():
        if question_id not in wanted:
            registration.answers.remove(answer)
    for question_id, value in wanted.items():
        if question_id in current:
            current[question_id].value = value
        else:
            registration.answers.append(Answer(question_id=question_id, value=value))
    registration.updated_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # The address was taken by another booking for this event a moment ago.
        raise EventError(
            Code.ALREADY_BOOKED,
            "Another booking for this event uses that e-mail address: give a different one.",
            errors={"email": "Another booking for this event uses that e-mail address."},
        ) from None
    return registration
