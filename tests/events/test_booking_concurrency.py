"""The last place goes to exactly one person: 100 bookings started together (real threads, each with its own
session and transaction) at 10 places give 10 confirmed and 90 waitlisted, in order, on every engine; 30 at
a workshop of 5 seats give 30 conference places, 5 seats and 25 in that workshop's line, in order."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from portal.events import catalogue, sales, waitlist, workshops
from portal.events.models import Event, Invoice, Registration, RegistrationWorkshop, TicketType, Workshop

ATTEMPTS = 100
PLACES = 10


def race(
    database: Any, clock: Any, links: Any, event: Event, attempts: int = ATTEMPTS, **extra: Any
) -> list[str]:
    """Every attempt waits at the barrier, then books in its own transaction; returns the statuses."""
    barrier = threading.Barrier(attempts)
    statuses: list[str] = [""] * attempts
    failures: list[BaseException] = []

    def attempt(i: int) -> None:
        booking = sales.Booking(
            ticket_type_id=event.ticket_types[0].id,
            first_name="Racer",
            last_name=str(i),
            email=f"racer{i}@example.org",
            **extra,
        )
        barrier.wait()
        try:
            with database.session() as s:
                result = sales.book(
                    s,
                    event_id=event.id,
                    booking=booking,
                    form_key=f"race-{event.id}-{i}",
                    member_id=None,
                    account_id=None,
                    now=clock(),
                    links=links,
                )
                statuses[i] = result.registration.status
        except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
            failures.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    return statuses


def assert_waitlist_in_order(database: Any, event: Event, expected: int) -> None:
    with database.session() as s:
        waiting = s.scalars(
            select(Registration).where(Registration.event_id == event.id, Registration.status == "waitlisted")
        ).all()
        assert sorted(waitlist.position(s, r) for r in waiting) == list(range(1, expected + 1))


def test_one_hundred_at_ten_places_gives_ten_confirmed_and_ninety_waitlisted(
    make_event, database, clock, links
):
    event = make_event(capacity=PLACES)
    statuses = race(database, clock, links, event)
    assert Counter(statuses) == {"confirmed": PLACES, "waitlisted": ATTEMPTS - PLACES}
    with database.session() as s:
        assert s.get(Event, event.id).places_taken == PLACES
    assert_waitlist_in_order(database, event, ATTEMPTS - PLACES)


def test_one_hundred_at_a_ticket_quota_of_ten_gives_ten_confirmed(make_event, database, clock, links):
    event = make_event(capacity=None, tickets=[catalogue.TicketData(name="Early bird", quota=PLACES)])
    statuses = race(database, clock, links, event)
    assert Counter(statuses) == {"confirmed": PLACES, "waitlisted": ATTEMPTS - PLACES}
    with database.session() as s:
        assert s.get(TicketType, event.ticket_types[0].id).taken == PLACES
        assert s.get(Event, event.id).places_taken == PLACES
    assert_waitlist_in_order(database, event, ATTEMPTS - PLACES)


def test_thirty_at_a_workshop_of_five_give_thirty_conference_places_five_seats_and_a_line_of_25(
    make_event, database, clock, links, start
):
    workshop = catalogue.WorkshopData("Supervision skills", start, start + timedelta(hours=2), capacity=5)
    event = make_event(capacity=200, workshops=[workshop])
    workshop_id = event.workshops[0].id
    statuses = race(database, clock, links, event, attempts=30, workshop_ids=(workshop_id,))
    assert Counter(statuses) == {"confirmed": 30}
    with database.session() as s:
        assert s.get(Event, event.id).places_taken == 30
        assert s.get(Workshop, workshop_id).taken == 5
        entries = s.scalars(
            select(RegistrationWorkshop).where(RegistrationWorkshop.workshop_id == workshop_id)
        )
        by_status = Counter(e.status for e in entries)
        assert by_status == {"confirmed": 5, "waitlisted": 25}
        line = workshops.line(s, workshop_id)
        assert [number for _, number in line] == list(range(1, 26))
        # The line numbers are the order people joined it: distinct, rising, and each position matches.
        numbers = [entry.queue_number for entry, _ in line]
        assert numbers == sorted(set(numbers)) and len(numbers) == 25
        assert [workshops.position(s, entry) for entry, _ in line] == list(range(1, 26))


def test_paid_bookings_at_once_get_invoice_numbers_without_gaps(make_event, database, clock, links):
    event = make_event(capacity=8, tickets=[catalogue.TicketData(name="Standard", price=12000)])
    statuses = race(database, clock, links, event, attempts=16)
    assert Counter(statuses) == {"confirmed": 8, "waitlisted": 8}
    with database.session() as s:
        numbers = sorted(s.scalars(select(Invoice.number)))
    assert numbers == list(range(1, 9))
