"""Booking: the rules a booking must meet (`check_booking`, also the review step), making it (`book`) and
confirming a registration that holds its places (`confirm`). Plain functions over a Session; they flush, never
commit.

Booking is one transaction: the registration row (its form key unique, so a resubmitted form finds it), the
places (conditional counter updates, all or none, see `capacity`), the invoice number and the e-mails.
Whoever does not get a place joins the waitlist in order of arrival, or is told the event is full. Workshops
are apart from the conference place: a full workshop puts the delegate in that workshop's line (see
`workshops`), never the whole booking on the waitlist.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.errors import Kind
from portal.events import capacity, notify, waitlist, workshops
from portal.events.catalogue import active_member, event_state, places_left
from portal.events.errors import Code, EventError
from portal.events.links import Links, idempotency_digest, manage_digest, manage_token
from portal.events.models import (
    Answer,
    Event,
    Question,
    Registration,
    RegistrationWorkshop,
    TicketType,
    Workshop,
)
from portal.events.payments import BankTransferProvider, PaymentProvider, PaymentRequest
from portal.members.models import Member

#: The event's own columns: what `book` reads afresh before it checks the rules.
EVENT_COLUMNS = [attr.key for attr in inspect(Event).column_attrs]

# --- booking ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    ticket_type_id: int
    first_name: str
    last_name: str
    email: str
    workshop_ids: tuple[int, ...] = ()
    #: question id → the text, or the chosen options (a list) for a multiple-choice question.
    answers: Mapping[int, str | Sequence[str]] = field(default_factory=dict)
    student_declared: bool = False


@dataclass(frozen=True)
class BookingResult:
    registration: Registration
    #: False when the form had been submitted before: this is the booking it made then.
    created: bool
    manage_token: str
    payment: PaymentRequest | None = None


def answer_errors(
    questions: Sequence[Question], answers: Mapping[int, str | Sequence[str]]
) -> dict[str, str]:
    """Messages keyed by form field name (`q<id>`), for each answer that is missing or not allowed."""
    errors: dict[str, str] = {}
    for question in questions:
        name = f"q{question.id}"
        value = answers.get(question.id)
        values = [v for v in (value if isinstance(value, list | tuple) else [value or ""]) if v]
        if question.required and not values:
            errors[name] = (
                f"Answer: {question.label}"
                if question.kind in ("short_text", "long_text")
                else f"Choose an answer: {question.label}"
            )
            continue
        if question.kind in ("single_choice", "yes_no", "multiple_choice"):
            if any(v not in question.option_list for v in values):
                errors[name] = "Choose only from the options shown."
            elif question.kind != "multiple_choice" and len(values) > 1:
                errors[name] = "Choose one answer."
        else:
            limit = question.answer_limit or 2000
            if values and len(values[0]) > limit:
                errors[name] = (
                    f"{question.label}: keep this to {limit:,} characters (it has {len(values[0]):,})."
                )
    return errors


def workshop_clash(chosen: Sequence[Workshop]) -> tuple[Workshop, Workshop] | None:
    return workshops.clash(chosen)


@dataclass(frozen=True)
class WorkshopOutcome:
    """What a booking made now would give in one workshop: "confirmed", "waitlisted" (at `position`) or,
    while the booking itself would wait for a conference place, "pending"."""

    workshop: Workshop
    outcome: str
    position: int | None = None


@dataclass(frozen=True)
class Checked:
    event: Event
    ticket: TicketType
    workshops: list[Workshop]
    member: Member | None
    #: What would happen now to the conference place: "confirmed" or "waitlisted" (places may change before
    #: the booking is made), with the place in line when waitlisted; and to each workshop, on its own.
    outcome: str
    position: int | None = None
    workshop_outcomes: tuple[WorkshopOutcome, ...] = ()


def normal_email(email: str) -> str:
    """How an address is stored and compared: the booking's unique index is on this form."""
    return email.strip().lower()


def live_booking(
    session: Session, *, event_id: int, email: str, member_id: int | None = None
) -> Registration | None:
    """The booking (not cancelled) this address, or this member, already has for the event, if any."""
    conditions = [Registration.email == normal_email(email)]
    if member_id is not None:
        conditions.append(Registration.member_place == member_id)
    return session.scalar(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status != "cancelled", or_(*conditions))
        .order_by(Registration.id)
        .limit(1)
    )


def already_booked(event: Event) -> EventError:
    return EventError(
        Code.ALREADY_BOOKED,
        f"There is already a booking for {event.title} with this e-mail address. We can e-mail its "
        "link to you again, so you can see or change it.",
    )


def check_booking(
    session: Session, *, event: Event, booking: Booking, member_id: int | None, now: datetime
) -> Checked:
    """Every rule a booking must meet, without writing: the review step shows the outcome, `book` relies on
    it and then lets the counters decide."""
    state = event_state(event, now)
    if state in ("draft", "archived"):
        raise EventError(Code.NOT_FOUND, "There is no such event.", kind=Kind.NOT_FOUND)
    if state == "not_open":
        raise EventError(Code.NOT_OPEN, "Registration has not opened yet.")
    if state == "closed":
        raise EventError(Code.CLOSED, "Registration has closed.")
    member = active_member(session, member_id, now=now)
    if event.members_only and member is None:
        raise EventError(
            Code.MEMBERS_ONLY, "Only members of the society can register for this event. Log in first."
        )
    ticket = session.get(TicketType, booking.ticket_type_id)
    if ticket is None or ticket.event_id != event.id:
        raise EventError(Code.BAD_INPUT, "Choose a ticket.")
    if ticket.member_only and member is None:
        raise EventError(
            Code.MEMBER_ONLY_TICKET, "This ticket is for members: log in with your member account."
        )
    if (ticket.sale_starts_at and now < ticket.sale_starts_at) or (
        ticket.sale_ends_at and now >= ticket.sale_ends_at
    ):
        raise EventError(Code.NOT_ON_SALE, "This ticket is not on sale now. Choose another ticket.")
    if ticket.student and not booking.student_declared:
        raise EventError(Code.STUDENT_DECLARATION, "Confirm that you are a student to book a student ticket.")
    chosen: list[Workshop] = []
    if booking.workshop_ids:
        # The event's own workshops (loaded once; the booking pages have them already), in their order.
        wanted = set(booking.workshop_ids)
        chosen = [w for w in event.workshops if w.id in wanted]
        if len(chosen) != len(wanted):
            raise EventError(Code.BAD_WORKSHOP, "Choose workshops from the list.")
    clash = workshop_clash(chosen)
    if clash:
        raise EventError(
            Code.WORKSHOP_CLASH,
            f"'{clash[0].title}' and '{clash[1].title}' are at the same time: choose one.",
        )
    errors = answer_errors(event.questions, booking.answers)
    if errors:
        raise EventError(Code.INVALID_ANSWERS, "Some answers need attention.", errors=errors)
    if live_booking(session, event_id=event.id, email=booking.email, member_id=member.id if member else None):
        raise already_booked(event)
    full = places_left(event) == 0 or (ticket.quota is not None and ticket.taken >= ticket.quota)
    if full and not event.waitlist_enabled:
        raise EventError(Code.FULL, "Sorry, this is fully booked.")
    full_workshops = [w for w in chosen if workshops.is_full(w)]
    if full_workshops and not event.waitlist_enabled:
        raise EventError(Code.WORKSHOP_FULL, f"'{full_workshops[0].title}' is full: choose another.")
    if full:
        outcomes = tuple(WorkshopOutcome(w, "pending") for w in chosen)
        position = waitlist.waiting_count(session, event.id) + 1
        return Checked(event, ticket, chosen, member, "waitlisted", position, outcomes)
    outcomes = tuple(
        WorkshopOutcome(w, "waitlisted", workshops.waiting_count(session, w.id) + 1)
        if workshops.is_full(w)
        else WorkshopOutcome(w, "confirmed")
        for w in chosen
    )
    return Checked(event, ticket, chosen, member, "confirmed", None, outcomes)


def provider_for(key: bytes) -> PaymentProvider:
    return BankTransferProvider(key=key)


def book(
    session: Session,
    *,
    event_id: int,
    booking: Booking,
    form_key: str,
    member_id: int | None,
    account_id: int | None,
    now: datetime,
    links: Links,
) -> BookingResult:
    """Make a booking: confirmed if every place it needs is free, else waitlisted (or EventError "full").

    `form_key` is the random key generated with the booking form: the same key again (a double click, a
    reload, the back button) returns the booking it made the first time instead of a second one."""
    key = links.key
    digest = idempotency_digest(key, form_key)

    def made_already() -> BookingResult | None:
        # The form key's booking, when this form was sent before: looked for only when this one cannot be made
        # (the address's live booking is then that one, or the key's unique index refused the insert).
        again = session.scalar(select(Registration).where(Registration.idempotency_key == digest))
        return BookingResult(again, False, manage_token(key, again.manage_seed)) if again else None

    if waitlist.offers_lapsed(session, now=now, event_id=event_id):  # one look; the sweep only when due
        waitlist.expire_offers(session, now=now, links=links, event_id=event_id)
    # No lock yet: the rules are checked and the row inserted first; the place itself is decided by the
    # conditional counter updates below, which take the event's row lock only from there to the commit.
    event = session.get(Event, event_id)
    if event is None:
        raise EventError(Code.NOT_FOUND, "No such event.", kind=Kind.NOT_FOUND)
    # Its columns as they are now (an event the session read in an earlier transaction may be stale); its
    # tickets, workshops and questions, already loaded by the booking pages, are kept.
    session.refresh(event, attribute_names=EVENT_COLUMNS)
    try:
        checked = check_booking(session, event=event, booking=booking, member_id=member_id, now=now)
    except EventError:
        # The same form sent again (a double click, a reload, the back button; or twice at once, to two
        # workers): the booking it made the first time, whatever the rules say now.
        made = made_already()
        if made is not None:
            return made
        raise
    member = checked.member
    seed = secrets.token_hex(16)
    token = manage_token(key, seed)
    registration = Registration(
        event_id=event.id,
        ticket_type_id=checked.ticket.id,
        member_id=member.id if member else None,
        account_id=account_id,
        member_place=member.id if member else None,
        first_name=booking.first_name.strip(),
        last_name=booking.last_name.strip(),
        email=normal_email(booking.email),
        status="waitlisted",
        idempotency_key=digest,
        manage_seed=seed,
        manage_token_digest=manage_digest(key, token),
        student_declared=booking.student_declared and checked.ticket.student,
        amount_due=checked.ticket.price,
        amount_paid=0,
        currency=event.currency,
        payment_status="unpaid",
        created_at=now,
        updated_at=now,
        badge_serial=1,
    )
    registration.workshop_places = [
        RegistrationWorkshop(workshop_id=w.id, status="pending") for w in checked.workshops
    ]
    registration.answers = answer_rows(event.questions, booking.answers)
    try:
        # The savepoint first: begin_nested() flushes what is pending, and the insert must fail inside it.
        with session.begin_nested():
            session.add(registration)
            session.flush()
    except IntegrityError:
        if registration in session:
            session.expunge(registration)
        made = made_already()
        if made is not None:
            return made
        # Another booking from this address (or this member) got in first, perhaps from another tab: the
        # unique indexes decided, whatever the check above saw.
        raise already_booked(event) from None
    failed = capacity.take_places(session, registration, now=now)
    if failed is None:
        if not event.waitlist_enabled:
            full = [p for p in registration.workshop_places if p.status == "waitlisted"]
            if full:
                raise EventError(Code.WORKSHOP_FULL, f"'{full[0].workshop.title}' is full: choose another.")
        payment = confirm(session, registration, event=event, now=now, links=links)
        return BookingResult(registration, True, token, payment)
    if not event.waitlist_enabled:
        raise EventError(Code.FULL, "Sorry, this is fully booked.")
    registration.waitlisted_at = now
    session.flush()
    notify.send_waitlisted(
        session,
        registration,
        event=event,
        position=waitlist.position(session, registration) or 0,
        links=links,
        now=now,
    )
    return BookingResult(registration, True, token)


def answer_rows(questions: Sequence[Question], answers: Mapping[int, str | Sequence[str]]) -> list[Answer]:
    out = []
    for question in questions:
        value = answers.get(question.id)
        text = "\n".join(value) if isinstance(value, list | tuple) else str(value or "").strip()
        if text:
            out.append(Answer(question_id=question.id, value=text))
    return out


def confirm(
    session: Session, registration: Registration, *, event: Event, now: datetime, links: Links
) -> PaymentRequest | None:
    """A registration that holds its places becomes confirmed: invoice if money is due, then the e-mail."""
    registration.status = "confirmed"
    registration.confirmed_at = now
    registration.offer_expires_at = None
    registration.updated_at = now
    payment: PaymentRequest | None = None
    if registration.amount_due > 0:
        registration.payment_status = "unpaid"
        payment = provider_for(links.key).create_payment(
            session, registration=registration, event=event, now=now
        )
    else:
        registration.payment_status = "paid"
    session.flush()
    notify.send_confirmation(
        session,
        registration,
        event=event,
        invoice=payment.invoice if payment else None,
        payment_instructions=payment.instructions if payment else "",
        links=links,
        now=now,
    )
    return payment
