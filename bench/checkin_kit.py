"""A sample event with bookings, written straight into the tables: for the check-in tests, the browser tests,
the multi-worker test and the benchmarks, which need many realistic bookings quickly and without going
through the booking flow. Test and bench data, not the portal's: tests import it as `from bench import
checkin_kit` (as they do `bench/trustee_kit.py`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.events.links import manage_digest, manage_token
from portal.events.models import Event, Registration, RegistrationWorkshop, TicketType, Workshop

FIRST = ["Ada", "Ben", "Chloë", "Dev", "Eve", "Femi", "Grace", "Hamid", "Iris", "Jon", "Kasia", "Luis"]
LAST = ["Adeyemi", "Brown", "Chowdhury", "Davies", "Evans", "Fraser", "Gill", "Hughes", "Iqbal", "Jones"]


@dataclass(frozen=True)
class SampleEvent:
    event: Event
    tickets: list[TicketType]
    workshops: list[Workshop]


def make_event(
    session: Session,
    *,
    now: datetime,
    title: str = "IPT UK Annual Conference",
    slug: str | None = None,
    starts_at: datetime | None = None,
    hours: float = 8,
    tickets: Sequence[tuple[str, int]] = (("Full conference", 0), ("Speaker", 0)),
    workshops: Sequence[tuple[str, float, float]] = (),
) -> SampleEvent:
    """An event starting at `starts_at` (default: one hour from `now`), with tickets (name, price in pence)
    and workshops (title, start hour offset, length in hours)."""
    start = starts_at or now + timedelta(hours=1)
    event = Event(
        slug=slug or f"sample-{secrets.token_hex(4)}",
        title=title,
        kind="conference",
        status="published",
        venue="Conference Centre",
        address="1 High Street, Leeds",
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        timezone="Europe/London",
        description="",
        registration_opens_at=start - timedelta(days=60),
        registration_closes_at=start - timedelta(hours=1),
        capacity=None,
        places_taken=0,
        members_only=False,
        contact_email="events@example.org",
        currency="GBP",
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    session.flush()
    made_tickets = []
    for position, (name, price) in enumerate(tickets):
        ticket = TicketType(event_id=event.id, name=name, price=price, position=position, taken=0)
        session.add(ticket)
        made_tickets.append(ticket)
    made_workshops = []
    for title_, offset, length in workshops:
        workshop = Workshop(
            event_id=event.id,
            title=title_,
            starts_at=start + timedelta(hours=offset),
            ends_at=start + timedelta(hours=offset + length),
            taken=0,
        )
        session.add(workshop)
        made_workshops.append(workshop)
    session.flush()
    return SampleEvent(event, made_tickets, made_workshops)


def registration_values(
    *,
    key: bytes,
    event_id: int,
    ticket_id: int,
    first_name: str,
    last_name: str,
    now: datetime,
    status: str = "confirmed",
    payment_status: str = "paid",
    amount_due: int = 0,
    account_id: int | None = None,
    member_id: int | None = None,
) -> dict[str, object]:
    seed = secrets.token_hex(16)
    return {
        "event_id": event_id,
        "ticket_type_id": ticket_id,
        "member_id": member_id,
        "account_id": account_id,
        "member_place": member_id if status != "cancelled" else None,
        "first_name": first_name,
        "last_name": last_name,
        "email": f"{first_name}.{last_name}.{secrets.token_hex(3)}@example.org".lower(),
        "status": status,
        "idempotency_key": secrets.token_hex(32),
        "manage_seed": seed,
        "manage_token_digest": manage_digest(key, manage_token(key, seed)),
        "student_declared": False,
        "amount_due": amount_due,
        "amount_paid": amount_due if payment_status == "paid" else 0,
        "currency": "GBP",
        "payment_status": payment_status,
        "payment_method": "bank_transfer",
        "created_at": now,
        "updated_at": now,
        "confirmed_at": now if status == "confirmed" else None,
        "cancelled_at": now if status == "cancelled" else None,
        "cancel_reason": "",
        "badge_serial": 1,
    }


def add_registration(
    session: Session,
    *,
    key: bytes,
    event: Event,
    ticket: TicketType,
    first_name: str,
    last_name: str,
    now: datetime,
    workshops: Sequence[Workshop] = (),
    **extra: object,
) -> Registration:
    registration = Registration(
        **registration_values(
            key=key,
            event_id=event.id,
            ticket_id=ticket.id,
            first_name=first_name,
            last_name=last_name,
            now=now,
            **extra,  # type: ignore[arg-type]
        )
    )
    registration.workshop_places = [RegistrationWorkshop(workshop_id=w.id) for w in workshops]
    session.add(registration)
    session.flush()
    return registration


def add_many(
    session: Session, *, key: bytes, event: Event, ticket: TicketType, count: int, now: datetime
) -> None:
    """`count` confirmed, paid bookings in one bulk insert (the benchmark seeds thousands)."""
    rows = [
        registration_values(
            key=key,
            event_id=event.id,
            ticket_id=ticket.id,
            first_name=FIRST[i % len(FIRST)],
            last_name=f"{LAST[(i // len(FIRST)) % len(LAST)]}-{i}",
            now=now,
        )
        for i in range(count)
    ]
    session.execute(insert(Registration), rows)
