"""One live booking per address per event: a second booking from the same e-mail (a guest twice, a member
twice, two tabs at once) is refused with `already_booked`, by the database as well as by the check, and
offered its first booking's link again by e-mail, throttled, with the same answer for every address."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from support import as_sent, post

from portal.events import catalogue, changes, sales
from portal.events.errors import EventError
from portal.events.models import Invoice, Registration
from portal.mail.models import OutboxEmail
from portal.mail.service import REQUESTS_PER_ADDRESS


def count(database, model, *where):
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def paid(make_event, admin):
    return make_event(title="Annual Conference", tickets=[catalogue.TicketData(name="Standard", price=4500)])


def test_a_guest_booking_again_with_the_same_address_is_told_it_already_has_a_booking(paid, book, database):
    book(paid, 1)
    with pytest.raises(EventError) as again:
        book(paid, 2, email="Guest1@Example.org ")
    assert again.value.code == "already_booked"
    assert count(database, Registration) == 1 and count(database, Invoice) == 1


def test_a_member_booking_twice_is_told_it_already_has_a_booking(paid, book, make_member, database):
    member = make_member()
    book(paid, 1, member=member, email=member.email)
    with pytest.raises(EventError) as again:
        book(paid, 2, member=member, email=member.email)
    assert again.value.code == "already_booked"
    assert count(database, Invoice) == 1


def test_an_address_may_book_again_once_its_booking_is_cancelled(paid, book, database, clock, links):
    first = book(paid, 1).registration
    with database.session() as s:
        changes.cancel_by_delegate(s, registration=s.get(Registration, first.id), now=clock(), links=links)
    assert book(paid, 1).registration.status == "confirmed"


def test_the_database_refuses_a_second_live_booking_for_one_address_whatever_the_code_checked(
    paid, book, database
):
    first = book(paid, 1).registration
    with database.session() as s, pytest.raises(IntegrityError):
        twin = s.get(Registration, first.id)
        s.add(
            Registration(
                **{
                    c.key: getattr(twin, c.key)
                    for c in Registration.__table__.columns
                    if c.key not in ("id", "idempotency_key", "manage_token_digest", "payment_reference")
                },
                idempotency_key="other-key",
                manage_token_digest="other-digest",
            )
        )
        s.flush()


def test_two_tabs_booking_the_same_address_at_once_make_one_booking(paid, database, clock, links):
    barrier = threading.Barrier(2)
    codes: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            with database.session() as s:
                sales.book(
                    s,
                    event_id=paid.id,
                    booking=sales.Booking(
                        ticket_type_id=paid.ticket_types[0].id,
                        first_name="Tab",
                        last_name=str(i),
                        email="tabs@example.org",
                    ),
                    form_key=f"tab-{i}",
                    member_id=None,
                    account_id=None,
                    now=clock(),
                    links=links,
                )
            codes.append("booked")
        except EventError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == ["already_booked", "booked"]
    assert count(database, Registration) == 1 and count(database, Invoice) == 1


def test_changing_a_booking_to_another_bookings_address_is_refused(paid, book, database, clock):
    book(paid, 1)
    second = book(paid, 2).registration
    with database.session() as s, pytest.raises(EventError) as refused:
        changes.change_details(
            s,
            registration=s.get(Registration, second.id),
            first_name="Guest",
            last_name="Two",
            email="guest1@example.org",
            answers={},
            now=clock(),
        )
    assert refused.value.code == "already_booked"


# --- through the pages ------------------------------------------------------------------------------------------


def journey(client, event, email):
    url = f"/events/{event.slug}/book"
    key = re.search(r'name="form_key" value="([^"]+)"', client.get(url).text).group(1)
    filled = {
        "form_key": key,
        "ticket": event.ticket_types[0].id,
        "first_name": "Gina",
        "last_name": "Guest",
        "email": email,
    }
    return post(client, url, {**filled, "action": "review"})


def test_the_booking_form_tells_a_second_booking_from_one_address_and_offers_the_link_again(
    client, paid, book, database
):
    book(paid, 1)
    page = journey(client, paid, "guest1@example.org")
    assert page.status_code == 422
    assert "You already have a booking for Annual Conference" in page.text
    assert "E-mail me the link to my booking" in page.text
    assert "Check your booking" not in page.text
    sent = post(client, f"/events/{paid.slug}/booking-link", {"email": "guest1@example.org"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?sent=1")
    with database.session() as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/manage_link"))
        assert email.to_addr == "guest1@example.org" and "/events/booking/" in as_sent(email).text


def test_asking_for_the_link_gives_the_same_answer_for_a_booked_and_an_unknown_address(
    client, paid, book, database
):
    book(paid, 1)
    booked = post(client, f"/events/{paid.slug}/booking-link", {"email": "guest1@example.org"})
    unknown = post(client, f"/events/{paid.slug}/booking-link", {"email": "nobody@example.org"})
    assert booked.status_code == unknown.status_code == 303
    assert booked.headers["location"] == unknown.headers["location"]
    assert client.get(booked.headers["location"]).text == client.get(unknown.headers["location"]).text
    assert count(database, OutboxEmail, OutboxEmail.kind == "events/manage_link") == 1


def test_asking_for_the_link_too_often_is_throttled_per_address_booked_or_not(client, paid, book, database):
    book(paid, 1)
    for address in ("guest1@example.org", "nobody@example.org"):
        for _ in range(REQUESTS_PER_ADDRESS):
            assert post(client, f"/events/{paid.slug}/booking-link", {"email": address}).status_code == 303
        refused = post(client, f"/events/{paid.slug}/booking-link", {"email": address})
        assert refused.status_code == 429 and "too many requests" in refused.text
    assert count(database, OutboxEmail, OutboxEmail.kind == "events/manage_link") == REQUESTS_PER_ADDRESS
