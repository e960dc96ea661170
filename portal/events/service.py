"""Event rules: setting events up, what is on sale to whom, booking, the delegate's own changes and
cancellation, and the office's bulk actions. Plain functions over a Session; they flush, never commit.

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
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal import audit
from portal.accounts.models import Account
from portal.errors import Kind, PortalError
from portal.events import capacity, notify, waitlist, workshops
from portal.events.errors import Code
from portal.events.invoices import today_in
from portal.events.links import Links, idempotency_digest, manage_digest, manage_token
from portal.events.models import (
    EVENT_STATUSES,
    KINDS,
    QUESTION_KINDS,
    QUESTION_PURPOSES,
    Answer,
    Event,
    Invoice,
    Question,
    Registration,
    RegistrationWorkshop,
    TicketType,
    Workshop,
)
from portal.events.payments import BankTransferProvider, PaymentProvider, PaymentRequest
from portal.mail import service as mail
from portal.members.models import Member

RESERVED_SLUGS = {"manage", "mine", "booking", "new", "calendar", "payments", "society"}
SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
STATE_LABELS = {
    "draft": "Draft",
    "archived": "Archived",
    "not_open": "Not yet open",
    "open": "Open",
    "full_waitlist": "Full: waitlist open",
    "full": "Full",
    "closed": "Closed",
}


class EventError(PortalError):
    """`code`: bad_slug, slug_taken, not_found, not_open, closed, full, members_only, member_only_ticket,
    not_on_sale, student_declaration, bad_workshop, workshop_clash, workshop_full, invalid_answers,
    already_booked, past_cutoff, not_offered, offer_expired, already_cancelled, in_use, bad_input."""


# --- setting up -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventData:
    title: str
    slug: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    registration_opens_at: datetime
    registration_closes_at: datetime
    venue: str = ""
    address: str = ""
    timezone: str = "Europe/London"
    description: str = ""
    capacity: int | None = None
    members_only: bool = False
    contact_email: str = ""
    status: str = "draft"
    currency: str = "GBP"
    tax_label: str = "VAT"
    tax_rate_bp: int = 0
    waitlist_enabled: bool = True
    offer_hours: int = 48
    cancellation_cutoff: datetime | None = None
    cancellation_policy: str = ""
    payment_due_days: int = 14


def _check_event(data: EventData) -> None:
    if not data.slug or set(data.slug) - SLUG_CHARS or data.slug in RESERVED_SLUGS or data.slug.isdigit():
        raise EventError(Code.BAD_SLUG, "Use lower-case letters, digits and hyphens for the web address.")
    if data.kind not in KINDS or data.status not in EVENT_STATUSES:
        raise EventError(Code.BAD_INPUT, "Choose a kind and a status from the list.")
    if data.ends_at <= data.starts_at:
        raise EventError(Code.BAD_INPUT, "The event must end after it starts.")
    if data.registration_closes_at <= data.registration_opens_at:
        raise EventError(Code.BAD_INPUT, "Registration must close after it opens.")
    if data.capacity is not None and data.capacity < 0:
        raise EventError(Code.BAD_INPUT, "Capacity cannot be negative.")


def create_event(session: Session, *, data: EventData, actor: Account | None, now: datetime) -> Event:
    _check_event(data)
    if session.scalar(select(Event.id).where(Event.slug == data.slug)) is not None:
        raise EventError(Code.SLUG_TAKEN, "Another event already uses this web address.")
    event = Event(**vars(data), places_taken=0, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        raise EventError(Code.SLUG_TAKEN, "Another event already uses this web address.") from None
    audit.record(
        session,
        actor=actor,
        action="events.create",
        subject=event.slug,
        details={"title": event.title},
        now=now,
    )
    return event


def update_event(
    session: Session, *, event_id: int, data: EventData, actor: Account | None, now: datetime, links: Links
) -> Event:
    """Save an event; raising its capacity offers the new places to the waitlist at once."""
    _check_event(data)
    capacity.lock_event(session, event_id)
    event = get_event(session, event_id)
    clash = session.scalar(select(Event.id).where(Event.slug == data.slug, Event.id != event_id))
    if clash is not None:
        raise EventError(Code.SLUG_TAKEN, "Another event already uses this web address.")
    changed = {k: v for k, v in vars(data).items() if getattr(event, k) != v}
    for name, value in changed.items():
        setattr(event, name, value)
    event.updated_at = now
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="events.update",
            subject=event.slug,
            details={k: str(v) for k, v in changed.items() if k != "description"},
            now=now,
        )
    waitlist.offer_next(session, event_id=event.id, now=now, links=links)
    return event


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise EventError(Code.NOT_FOUND, "No such event.", kind=Kind.NOT_FOUND)
    return event


def event_by_slug(session: Session, slug: str, *, include_drafts: bool = False) -> Event:
    event = session.scalar(select(Event).where(Event.slug == slug))
    if event is None or (event.status == "draft" and not include_drafts):
        raise EventError(Code.NOT_FOUND, "There is no such event.", kind=Kind.NOT_FOUND)
    return event


@dataclass(frozen=True)
class TicketData:
    name: str
    price: int = 0
    description: str = ""
    member_only: bool = False
    student: bool = False
    quota: int | None = None
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    hidden: bool = False
    position: int = 0


@dataclass(frozen=True)
class WorkshopData:
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    capacity: int | None = None


@dataclass(frozen=True)
class QuestionData:
    label: str
    kind: str = "short_text"
    required: bool = False
    options: str = ""
    hint: str = ""
    purpose: str = "general"
    position: int = 0


def save_ticket(
    session: Session,
    *,
    event_id: int,
    data: TicketData,
    actor: Account | None,
    now: datetime,
    links: Links,
    ticket_id: int | None = None,
) -> TicketType:
    if data.price < 0 or (data.quota is not None and data.quota < 0):
        raise EventError(Code.BAD_INPUT, "Price and quota cannot be negative.")
    if data.sale_starts_at and data.sale_ends_at and data.sale_ends_at <= data.sale_starts_at:
        raise EventError(Code.BAD_INPUT, "The sale must end after it starts.")
    capacity.lock_event(session, event_id)
    ticket = _item(session, TicketType, event_id, ticket_id) or TicketType(event_id=event_id, taken=0)
    for name, value in vars(data).items():
        setattr(ticket, name, value)
    session.add(ticket)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="events.ticket_save",
        subject=f"ticket {ticket.id}",
        details={"event": event_id, "name": ticket.name, "price": ticket.price, "quota": ticket.quota},
        now=now,
    )
    waitlist.offer_next(session, event_id=event_id, now=now, links=links)
    return ticket


def save_workshop(
    session: Session,
    *,
    event_id: int,
    data: WorkshopData,
    actor: Account | None,
    now: datetime,
    links: Links,
    workshop_id: int | None = None,
) -> Workshop:
    if data.ends_at <= data.starts_at:
        raise EventError(Code.BAD_INPUT, "The workshop must end after it starts.")
    if data.capacity is not None and data.capacity < 0:
        raise EventError(Code.BAD_INPUT, "Capacity cannot be negative.")
    capacity.lock_event(session, event_id)
    workshop = _item(session, Workshop, event_id, workshop_id) or Workshop(event_id=event_id, taken=0)
    for name, value in vars(data).items():
        setattr(workshop, name, value)
    session.add(workshop)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="events.workshop_save",
        subject=f"workshop {workshop.id}",
        details={"event": event_id, "title": workshop.title, "capacity": workshop.capacity},
        now=now,
    )
    # More seats go to the workshop's own line first, then any conference places to the event's.
    workshops.offer_next(session, workshop_id=workshop.id, now=now, links=links)
    waitlist.offer_next(session, event_id=event_id, now=now, links=links)
    return workshop


def save_question(
    session: Session,
    *,
    event_id: int,
    data: QuestionData,
    actor: Account | None,
    now: datetime,
    question_id: int | None = None,
) -> Question:
    if data.kind not in QUESTION_KINDS or data.purpose not in QUESTION_PURPOSES:
        raise EventError(Code.BAD_INPUT, "Choose a kind and a purpose from the list.")
    question = _item(session, Question, event_id, question_id) or Question(event_id=event_id)
    for name, value in vars(data).items():
        setattr(question, name, value)
    if question.kind in ("single_choice", "multiple_choice") and not question.option_list:
        raise EventError(Code.BAD_INPUT, "Give the options, one a line.")
    session.add(question)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="events.question_save",
        subject=f"question {question.id}",
        details={"event": event_id, "label": question.label},
        now=now,
    )
    return question


def delete_item(
    session: Session, *, event_id: int, kind: str, item_id: int, actor: Account | None, now: datetime
) -> None:
    """Remove a ticket type or workshop nobody has booked, or a question (its answers go with it)."""
    model: Any = {"ticket": TicketType, "workshop": Workshop, "question": Question}[kind]
    item = _item(session, model, event_id, item_id)
    if item is None:
        raise EventError(Code.NOT_FOUND, "No such item.", kind=Kind.NOT_FOUND)
    if kind == "ticket":
        used = session.scalar(select(func.count()).where(Registration.ticket_type_id == item_id))
    elif kind == "workshop":
        used = session.scalar(select(func.count()).where(RegistrationWorkshop.workshop_id == item_id))
    else:
        used = 0
    if used:
        raise EventError(Code.IN_USE, "Bookings use this; hide it instead of removing it.")
    session.delete(item)
    session.flush()
    audit.record(session, actor=actor, action=f"events.{kind}_delete", subject=f"{kind} {item_id}", now=now)


def _item(session: Session, model: Any, event_id: int, item_id: int | None) -> Any:
    if item_id is None:
        return None
    item = session.get(model, item_id)
    if item is None or item.event_id != event_id:
        raise EventError(Code.NOT_FOUND, "No such item.", kind=Kind.NOT_FOUND)
    return item


# --- what is on, and to whom --------------------------------------------------------------------------------------


def places_left(event: Event) -> int | None:
    return None if event.capacity is None else max(event.capacity - event.places_taken, 0)


def event_state(event: Event, now: datetime) -> str:
    """draft, archived, not_open, open, full_waitlist, full or closed: from the stored times and counters."""
    if event.status != "published":
        return event.status
    if now < event.registration_opens_at:
        return "not_open"
    if now >= event.registration_closes_at or now >= event.starts_at:
        return "closed"
    if places_left(event) == 0:
        return "full_waitlist" if event.waitlist_enabled else "full"
    return "open"


@dataclass(frozen=True)
class TicketChoice:
    ticket: TicketType
    #: Can be chosen now by this person (it may still mean joining the waitlist: see `full`).
    available: bool
    #: Why not: not_on_sale, sale_ended, member_only, or "" when available.
    reason: str
    left: int | None
    full: bool


def ticket_choices(
    event: Event, *, now: datetime, member_active: bool, hidden_ticket_id: int | None = None
) -> list[TicketChoice]:
    """The tickets to show: visible ones, plus a hidden one reached through its own link."""
    choices = []
    event_full = places_left(event) == 0
    for ticket in event.ticket_types:
        if ticket.hidden and ticket.id != hidden_ticket_id:
            continue
        reason = ""
        if ticket.sale_starts_at and now < ticket.sale_starts_at:
            reason = "not_on_sale"
        elif ticket.sale_ends_at and now >= ticket.sale_ends_at:
            reason = "sale_ended"
        elif ticket.member_only and not member_active:
            reason = "member_only"
        left = None if ticket.quota is None else max(ticket.quota - ticket.taken, 0)
        full = event_full or left == 0
        available = not reason and (not full or event.waitlist_enabled)
        choices.append(TicketChoice(ticket, available, reason, left, full))
    return choices


def active_member(session: Session, member_id: int | None) -> Member | None:
    if member_id is None:
        return None
    member = session.get(Member, member_id)
    return member if member is not None and member.is_active else None


def upcoming_events(session: Session, *, now: datetime, kind: str | None = None) -> list[Event]:
    query = select(Event).where(Event.status == "published", Event.ends_at >= now)
    if kind:
        query = query.where(Event.kind == kind)
    return list(session.scalars(query.order_by(Event.starts_at)))


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
            limit = 200 if question.kind == "short_text" else 2000
            if values and len(values[0]) > limit:
                errors[name] = f"Keep this to {limit} characters."
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
    member = active_member(session, member_id)
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
        chosen = list(
            session.scalars(
                select(Workshop).where(Workshop.id.in_(booking.workshop_ids)).order_by(Workshop.starts_at)
            )
        )
        if len(chosen) != len(set(booking.workshop_ids)) or any(w.event_id != event.id for w in chosen):
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
    existing = session.scalar(select(Registration).where(Registration.idempotency_key == digest))
    if existing is not None:
        return BookingResult(existing, False, manage_token(key, existing.manage_seed))
    waitlist.expire_offers(session, now=now, links=links, event_id=event_id)
    # No lock yet: the rules are checked and the row inserted first; the place itself is decided by the
    # conditional counter updates below, which take the event's row lock only from there to the commit.
    event = session.get(Event, event_id, populate_existing=True)
    if event is None:
        raise EventError(Code.NOT_FOUND, "No such event.", kind=Kind.NOT_FOUND)
    try:
        checked = check_booking(session, event=event, booking=booking, member_id=member_id, now=now)
    except EventError as exc:
        # The same form sent twice at once (two workers): the first made the booking this address now has.
        again = session.scalar(select(Registration).where(Registration.idempotency_key == digest))
        if exc.code == "already_booked" and again is not None:
            return BookingResult(again, False, manage_token(key, again.manage_seed))
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
    registration.answers = _answers(event.questions, booking.answers)
    try:
        # The savepoint first: begin_nested() flushes what is pending, and the insert must fail inside it.
        with session.begin_nested():
            session.add(registration)
            session.flush()
    except IntegrityError:
        if registration in session:
            session.expunge(registration)
        again = session.scalar(select(Registration).where(Registration.idempotency_key == digest))
        if again is not None:
            return BookingResult(again, False, manage_token(key, again.manage_seed))
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


def _answers(questions: Sequence[Question], answers: Mapping[int, str | Sequence[str]]) -> list[Answer]:
    out = []
    for question in questions:
        value = answers.get(question.id)
        text = "\n".join(value) if isinstance(value, list | tuple) else (value or "").strip()
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
    session.flush()
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
        invoice_pdf=payment.invoice_pdf if payment else None,
        payment_instructions=payment.instructions if payment else "",
        links=links,
        now=now,
    )
    return payment


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
    wanted = {a.question_id: a.value for a in _answers(event.questions, answers)}
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


# --- the office's bulk actions ------------------------------------------------------------------------------------


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
