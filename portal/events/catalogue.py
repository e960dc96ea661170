"""What the office sets up and what is on: events, their ticket types, workshops and questions, and what is on
sale to whom at a given time (computed from the stored times and counters). Plain functions over a Session; they
flush, never commit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.errors import Kind
from portal.events import capacity, waitlist, workshops
from portal.events.errors import Code, EventError
from portal.events.links import Links
from portal.events.models import (
    EVENT_STATUSES,
    KINDS,
    QUESTION_KINDS,
    QUESTION_PURPOSES,
    REGIONS,
    Event,
    Question,
    Registration,
    RegistrationWorkshop,
    TicketType,
    Workshop,
)
from portal.members.models import Member
from portal.members.standing import counts_as_member, standing
from portal.search import service as search
from portal.society.service import membership_settings
from portal.training.models import Course

RESERVED_SLUGS = {
    "manage",
    "mine",
    "booking",
    "new",
    "calendar",
    "payments",
    "society",
    "archive",
    "regional",
}
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
    #: "" follows the society's choice; else a key of `models.PROVIDERS`.
    payment_provider: str = ""
    #: A regional meeting's region (a key of REGIONS), "" otherwise.
    region: str = ""
    #: The course a training event is a date of (training's course id), None otherwise.
    course_id: int | None = None


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
    if data.region and (data.region not in REGIONS or data.kind != "regional"):
        raise EventError(Code.BAD_REGION, "Only a regional event has a region: choose one from the list.")
    if data.course_id is not None and data.kind != "training":
        raise EventError(Code.BAD_COURSE, "Only a training event is a date of a course.")


def _check_course(session: Session, data: EventData) -> None:
    if data.course_id is not None and session.get(Course, data.course_id) is None:
        raise EventError(Code.BAD_COURSE, "Choose a course from the list.")


def search_document(event: Event) -> search.Document | None:
    """The event as search finds it: every event but a draft (past ones too: their pages stay)."""
    if event.status == "draft":
        return None
    words = " ".join(
        part
        for part in (KINDS.get(event.kind, ""), event.venue, search.plain_text(event.description))
        if part
    )
    return search.Document(
        kind="event",
        key=str(event.id),
        title=event.title,
        body=words,
        url=f"/events/{event.slug}",
        date=event.starts_at,
        updated_at=event.updated_at,
    )


def search_documents(session: Session) -> Iterator[search.Document]:
    """Every event that is not a draft: the events' search source."""
    for event in session.scalars(select(Event).where(Event.status != "draft")):
        document = search_document(event)
        if document is not None:
            yield document


def _index(session: Session, event: Event) -> None:
    search.keep(session, kind="event", key=str(event.id), document=search_document(event))


def create_event(session: Session, *, data: EventData, actor: Account | None, now: datetime) -> Event:
    _check_event(data)
    _check_course(session, data)
    if session.scalar(select(Event.id).where(Event.slug == data.slug)) is not None:
        raise EventError(Code.SLUG_TAKEN, "Another event already uses this web address.")
    event = Event(**vars(data), places_taken=0, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        raise EventError(Code.SLUG_TAKEN, "Another event already uses this web address.") from None
    _index(session, event)
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
    _check_course(session, data)
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
        _index(session, event)
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


def active_member(session: Session, member_id: int | None, *, now: datetime) -> Member | None:
    """The member who gets member prices and member-only tickets: active or within the grace period after
    their renewal date (computed from the clock); a lapsed member books as a guest."""
    if member_id is None:
        return None
    member = session.get(Member, member_id)
    if member is None:
        return None
    if standing(member, now, grace_days=0) == "active":
        return member  # paid up: the grace period need not be read
    grace = membership_settings(session).grace_days
    return member if counts_as_member(member, now, grace_days=grace) else None


def upcoming_events(session: Session, *, now: datetime, kind: str | None = None) -> list[Event]:
    query = select(Event).where(Event.status == "published", Event.ends_at >= now)
    if kind:
        query = query.where(Event.kind == kind)
    return list(session.scalars(query.order_by(Event.starts_at)))


def next_with_places(session: Session, *, now: datetime, limit: int = 3) -> list[Event]:
    """The next published events still taking bookings with a place left (no capacity, or fewer taken than it),
    soonest first: what the home page offers. One statement; no tickets or workshops loaded."""
    query = (
        select(Event)
        .where(
            Event.status == "published",
            Event.starts_at > now,
            Event.registration_closes_at > now,
            or_(Event.capacity.is_(None), Event.places_taken < Event.capacity),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def course_dates(session: Session, *, course_id: int, now: datetime) -> list[Event]:
    """A course's upcoming dates: its published training events that have not ended, soonest first."""
    query = select(Event).where(
        Event.status == "published",
        Event.kind == "training",
        Event.course_id == course_id,
        Event.ends_at >= now,
    )
    return list(session.scalars(query.order_by(Event.starts_at, Event.id)))


def upcoming_regional(session: Session, *, now: datetime) -> list[tuple[str, list[Event]]]:
    """The upcoming regional meetings by region, in the order of REGIONS (regions with none are left out);
    those with no region last, under "Other regional events"."""
    found = upcoming_events(session, now=now, kind="regional")
    groups = [(label, [e for e in found if e.region == key]) for key, label in REGIONS.items()]
    groups.append(("Other regional events", [e for e in found if e.region not in REGIONS]))
    return [(label, events) for label, events in groups if events]


#: The statuses an event the public may find has: a past event stays findable in the archive.
SHOWN = ("published", "archived")


def event_year(event: Event) -> int:
    """The year an event is filed under: the year it started, where it was held."""
    return event.starts_at.astimezone(ZoneInfo(event.timezone)).year


def archive_years(session: Session, *, now: datetime) -> list[tuple[int, int]]:
    """(year, how many events) of every year with a finished event, the latest first."""
    counts: dict[int, int] = {}
    for event in session.scalars(select(Event).where(Event.status.in_(SHOWN), Event.ends_at < now)):
        year = event_year(event)
        counts[year] = counts.get(year, 0) + 1
    return sorted(counts.items(), reverse=True)


def archive_year(session: Session, *, year: int, now: datetime) -> list[Event]:
    """That year's finished events, in the order they happened. The query takes a day either side of the
    year (an event is filed by its local year), the rule picks exactly. A year no calendar reaches has none."""
    if not MINYEAR < year < MAXYEAR:
        return []
    start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    query = select(Event).where(
        Event.status.in_(SHOWN), Event.ends_at < now, Event.starts_at >= start, Event.starts_at < end
    )
    found = session.scalars(query.order_by(Event.starts_at, Event.id))
    return [e for e in found if event_year(e) == year]
