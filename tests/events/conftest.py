"""Factories for event tests: events with tickets, workshops and questions; members with accounts; links."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.routing import Router
from stripe_standin import standin, stripe_server  # noqa: F401 - the Stripe stand-in's fixtures
from support import SECRET

from portal.accounts.models import Account
from portal.app import build_routes
from portal.events import catalogue, sales
from portal.events.links import Links
from portal.events.models import Event, Registration
from portal.members.models import Member

#: Every event in these tests happens in spring 2027; registration is open on the test clock's day.
START = datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
_numbers = itertools.count(1)


@pytest.fixture
def start() -> datetime:
    """When the test events begin."""
    return START


@pytest.fixture
def links() -> Links:
    """E-mail links as the app makes them, on the test server's address."""

    return Links("http://testserver", Router(routes=build_routes()).url_path_for, key=SECRET.encode())


def event_data(**overrides: Any) -> catalogue.EventData:
    values: dict[str, Any] = {
        "title": "IPT UK Annual Conference 2027",
        "slug": f"conference-{next(_numbers)}",
        "kind": "conference",
        "starts_at": START,
        "ends_at": START + timedelta(days=1, hours=8),
        "registration_opens_at": datetime(2026, 11, 1, tzinfo=UTC),
        "registration_closes_at": START - timedelta(days=7),
        "venue": "Friends House",
        "address": "173-177 Euston Road\nLondon NW1 2BJ",
        "capacity": 10,
        "status": "published",
        "contact_email": "events@example.org",
    }
    values.update(overrides)
    return catalogue.EventData(**values)


@pytest.fixture
def make_event(database: Any, clock: Any, admin: Account) -> Callable[..., Event]:
    """An event (committed) with one ticket type; `tickets=[TicketData...]` replaces it. The portal is set up
    (the `admin` fixture), so pages answer and invoices have a society."""

    def make(
        *,
        tickets: list[catalogue.TicketData] | None = None,
        workshops: list[catalogue.WorkshopData] = (),  # type: ignore[assignment]
        questions: list[catalogue.QuestionData] = (),  # type: ignore[assignment]
        **overrides: Any,
    ) -> Event:
        links = Links("http://testserver", lambda name, **p: f"/{name}", key=SECRET.encode())
        with database.session() as s:
            event = catalogue.create_event(s, data=event_data(**overrides), actor=None, now=clock())
            for ticket in (
                tickets if tickets is not None else [catalogue.TicketData(name="Standard", price=0)]
            ):
                catalogue.save_ticket(s, event_id=event.id, data=ticket, actor=None, now=clock(), links=links)
            for workshop in workshops:
                catalogue.save_workshop(
                    s, event_id=event.id, data=workshop, actor=None, now=clock(), links=links
                )
            for question in questions:
                catalogue.save_question(s, event_id=event.id, data=question, actor=None, now=clock())
            s.flush()
            s.refresh(event)
            _ = (event.ticket_types, event.workshops, event.questions)
        return event

    return make


@pytest.fixture
def make_member(database: Any) -> Callable[..., Member]:
    """A member on the roll (committed), active unless told otherwise; `account=True` gives them a login."""

    def make(
        *, status: str = "active", first_name: str = "Mary", last_name: str = "Member", **extra: Any
    ) -> Member:
        number = next(_numbers)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        with database.session() as s:
            member = Member(
                membership_number=f"M{number:05d}",
                email=f"member{number}@example.org",
                first_name=first_name,
                last_name=last_name,
                category="full",
                status=status,
                created_at=now,
                updated_at=now,
                **extra,
            )
            s.add(member)
        return member

    return make


@pytest.fixture
def member_account(database: Any, passwords: Any) -> Callable[[Member], Account]:
    def make(member: Member) -> Account:
        from support import make_account

        return make_account(
            database, passwords, email=member.email, name=member.full_name, member_id=member.id
        )

    return make


def booking(event: Event, n: int = 0, **overrides: Any) -> sales.Booking:
    values: dict[str, Any] = {
        "ticket_type_id": event.ticket_types[0].id,
        "first_name": "Guest",
        "last_name": f"Number {n}",
        "email": f"guest{n}@example.org",
    }
    values.update(overrides)
    return sales.Booking(**values)


@pytest.fixture
def book(database: Any, clock: Any, links: Links) -> Callable[..., sales.BookingResult]:
    """Book in its own committed transaction, as a request would; returns the result."""

    def make(
        event: Event,
        n: int = 0,
        *,
        member: Member | None = None,
        form_key: str | None = None,
        with_links: Links | None = None,
        **overrides: Any,
    ) -> sales.BookingResult:
        with database.session() as s:
            result = sales.book(
                s,
                event_id=event.id,
                booking=booking(event, n, **overrides),
                form_key=form_key or f"form-key-{event.id}-{n}-{next(_numbers)}",
                member_id=member.id if member else None,
                account_id=None,
                now=clock(),
                links=with_links or links,
            )
            s.flush()
            _ = result.registration.status
        return result

    return make


@pytest.fixture
def fresh(database: Any) -> Callable[[Any, int], Any]:
    """A row as it is now in the database (a new session)."""

    def load(model: Any, row_id: int) -> Any:
        with database.session() as s:
            row = s.get(model, row_id)
            if isinstance(row, Registration):
                _ = (row.answers, row.workshop_places, row.invoice, row.payments)
            return row

    return load


@pytest.fixture
def status_of(fresh: Callable[[Any, int], Any]) -> Callable[[Registration], str]:
    return lambda registration: fresh(Registration, registration.id).status
