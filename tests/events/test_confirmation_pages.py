"""Nothing irreversible in one click: giving back a place, leaving the waitlist, declining an offer, and the
office's cancel, waive, bulk cancel and remove each go through a confirmation page (a GET page with a POST
form) that says what happens next with the real numbers; going back changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from support import login, make_account, post

from portal.accounts.models import Account
from portal.events import catalogue, consequences, payments
from portal.events.models import Registration


@pytest.fixture
def paid(make_event, admin):
    return make_event(
        title="Annual Conference",
        capacity=1,
        tickets=[catalogue.TicketData(name="Standard", price=4500)],
        cancellation_policy="Full refund until a week before.",
    )


@pytest.fixture
def office(client, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(client, "office@example.org")
    return client


def text(client, url):
    """The page's HTML with the test server's origin taken out of absolute links."""
    return client.get(url).text.replace("http://testserver", "")


def pay(database, clock, registration, amount=4500):
    with database.session() as s:
        actor = s.scalar(select(Account).order_by(Account.id))
        payments.record_payment(
            s,
            registration_id=registration.id,
            kind="payment",
            actor=actor,
            now=clock(),
            amount=amount,
            method="bank_transfer",
            received_on=date(2027, 1, 5),
            note="",
        )


def test_the_booking_page_gives_back_a_place_through_a_link_not_a_one_click_form(client, paid, book):
    token = book(paid, 1).manage_token
    page = text(client, f"/events/booking/{token}")
    assert f'href="/events/booking/{token}/cancel"' in page
    assert not re.search(r'<form[^>]+action="[^"]*/cancel"', page)


def test_the_confirmation_page_says_the_place_goes_to_the_next_of_those_waiting_and_changes_nothing(
    client, paid, book, status_of
):
    holder = book(paid, 1)
    for n in (2, 3, 4):
        book(paid, n)
    assert client.get(f"/events/booking/{holder.manage_token}/cancel").status_code == 200
    page = text(client, f"/events/booking/{holder.manage_token}/cancel")
    assert "Your place goes to the next of the 3 people waiting; you cannot get it back." in page
    assert "Full refund until a week before." in page
    assert f'href="/events/booking/{holder.manage_token}">No, keep my place' in page
    assert status_of(holder.registration) == "confirmed"
    assert post(client, f"/events/booking/{holder.manage_token}/cancel").status_code == 303
    assert status_of(holder.registration) == "cancelled"


def test_the_confirmation_page_names_the_refund_when_the_delegate_has_paid(
    client, paid, book, database, clock
):
    holder = book(paid, 1)
    pay(database, clock, holder.registration)
    page = text(client, f"/events/booking/{holder.manage_token}/cancel")
    assert "You have paid £45.00: you will be refunded £45.00 by bank transfer" in page


def test_the_confirmation_page_says_no_payment_was_taken_and_the_invoice_is_cancelled(client, paid, book):
    holder = book(paid, 1)
    page = text(client, f"/events/booking/{holder.manage_token}/cancel")
    assert re.search(r"No payment was taken: invoice INV-\d{6} for £45.00 is cancelled", page)


def test_leaving_the_waitlist_is_confirmed_with_the_place_in_line(client, paid, book, status_of):
    book(paid, 1)
    book(paid, 2)
    waiting = book(paid, 3)
    page = text(client, f"/events/booking/{waiting.manage_token}/cancel")
    assert "Leave the waitlist" in page and "where you are number 2 in line" in page
    assert "No payment was taken." in page
    assert status_of(waiting.registration) == "waitlisted"


def test_the_confirmation_page_of_a_cancelled_booking_offers_only_the_way_back(client, paid, book):
    holder = book(paid, 1)
    post(client, f"/events/booking/{holder.manage_token}/cancel")
    page = text(client, f"/events/booking/{holder.manage_token}/cancel")
    assert "This booking is already cancelled." in page and "Yes, give back" not in page


def test_my_registrations_links_to_the_confirmation_page_and_comes_back_there(
    client, make_event, make_member, member_account, book, status_of
):
    meeting = make_event(kind="meeting", members_only=True, title="National Meeting")
    member = make_member()
    member_account(member)
    place = book(meeting, 1, member=member, email=member.email)
    login(client, member.email)
    account = text(client, "/me")
    assert f'href="/events/booking/{place.manage_token}/cancel?next=mine"' in account
    assert "Give back my National Meeting place" in account
    page = text(client, f"/events/booking/{place.manage_token}/cancel?next=mine")
    assert 'href="/events/mine">No, keep my place' in page and 'name="next" value="mine"' in page
    assert status_of(place.registration) == "confirmed"


def test_the_office_cancels_a_booking_after_a_page_that_names_the_refund_and_the_waitlist(
    office, paid, book, database, clock, status_of
):
    holder = book(paid, 1).registration
    book(paid, 2)
    pay(database, clock, holder)
    url = f"/events/manage/{paid.id}/bookings/{holder.id}"
    assert f'href="{url}/confirm/cancel"' in text(office, url)
    page = text(office, f"{url}/confirm/cancel")
    assert "Their place goes to the next of the 1 person waiting; the delegate cannot get it back." in page
    assert "they will be refunded £45.00 by bank transfer" in page
    assert status_of(holder) == "confirmed"
    assert post(office, url, {"action": "cancel"}).status_code == 303
    assert status_of(holder) == "cancelled"


def test_the_office_waives_after_a_page_that_says_how_much_is_written_off(office, paid, book, fresh):
    holder = book(paid, 1).registration
    page = text(office, f"/events/manage/{paid.id}/bookings/{holder.id}/confirm/waive")
    assert "The £45.00 still owed is written off" in page
    assert fresh(Registration, holder.id).payment_status == "unpaid"


def test_the_unpaid_bulk_cancel_goes_through_a_page_with_the_totals_and_the_waitlist(
    office, paid, book, clock, status_of
):
    holder = book(paid, 1).registration
    for n in (2, 3):
        book(paid, n)
    clock.advance(days=15)
    login(office, "office@example.org")  # the staff session has lapsed meanwhile
    form = text(office, f"/events/manage/{paid.id}/unpaid")
    assert f'<form method="get" action="/events/manage/{paid.id}/unpaid/confirm"' in form
    page = text(office, f"/events/manage/{paid.id}/unpaid/confirm?registration={holder.id}")
    assert "1 booking owing £45.00 in all are cancelled" in page
    assert "The freed places go to the first 1 of the 2 people on the waitlist" in page
    assert f'name="registration" value="{holder.id}"' in page
    assert status_of(holder) == "confirmed"


def test_removing_a_question_goes_through_a_page_that_counts_its_answers(office, make_event, book, database):
    event = make_event(questions=[catalogue.QuestionData("Dietary needs")])
    question = event.questions[0]
    book(event, 1, answers={question.id: "Vegetarian"})
    page = text(office, f"/events/manage/{event.id}/setup/question/{question.id}/remove")
    assert "1 answer to it is deleted with it." in page
    assert 'name="action" value="delete"' in page


def test_the_cancel_sentences_say_nobody_is_waiting_when_nobody_is(paid, book, database, clock):
    holder = book(paid, 1).registration
    with database.session() as s:
        outcome = consequences.cancel_outcome(s, s.get(Registration, holder.id), now=clock())
    assert outcome.waiting == 0 and outcome.owed == 4500 and outcome.paid == 0
    assert "nobody is waiting for it" in consequences.cancel_sentences(outcome)[0]
