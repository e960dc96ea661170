"""The booking page follows the booking: a cancelled one says when and by whom and what about the money,
and asks for nothing; a confirmed one shows its badge, the keep-this-link note, the pay box (amount, due
date, reference, each with a copy button) with the bank details as a list, the invoice and the calendar; a
waiting or offered one shows its place in line or its deadline and nothing about paying. The confirmation
e-mail lists the bank details too."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from support import post

from portal.accounts.models import Account
from portal.events import catalogue, changes, payments
from portal.mail.models import OutboxEmail
from portal.society.models import PaymentSettings


@pytest.fixture
def paid(make_event, admin, database):
    with database.session() as s:
        s.add(PaymentSettings(id=1, account_name="IPT UK", sort_code="12-34-56", account_number="12345678"))
    return make_event(title="Annual Conference", capacity=1, tickets=[catalogue.TicketData("Standard", 4500)])


def page(client, token):
    return client.get(f"/events/booking/{token}").text.replace("http://testserver", "")


def test_a_cancelled_booking_asks_for_nothing_and_says_when_by_whom_and_about_the_money(client, paid, book):
    result = book(paid, 1)
    post(client, f"/events/booking/{result.manage_token}/cancel")
    text = page(client, result.manage_token)
    assert re.search(r"This booking was cancelled on \d+ \w+ \d{4} at \d\d:\d\d, by you\.", text)
    assert re.search(r"No payment was taken: invoice INV-\d{6} is cancelled and nothing is owed\.", text)
    for gone in ("How to pay", "Add the event to my calendar", "invoice.pdf", "Sort code", "Your badge"):
        assert gone not in text


def test_a_booking_cancelled_by_the_office_after_payment_says_so_and_names_the_refund(
    client, paid, book, database, clock, links
):
    result = book(paid, 1)
    with database.session() as s:
        actor = s.scalar(select(Account).order_by(Account.id))
        payments.record_payment(
            s,
            registration_id=result.registration.id,
            kind="payment",
            actor=actor,
            now=clock(),
            amount=4500,
            method="bank_transfer",
            received_on=date(2027, 1, 5),
            note="",
        )
        changes.cancel_by_staff(
            s, registration_id=result.registration.id, actor=actor, reason="staff", now=clock(), links=links
        )
    text = page(client, result.manage_token)
    assert ", by the office." in text
    assert "You paid £45.00: you will be refunded £45.00 by bank transfer" in text


def test_a_confirmed_booking_shows_its_badge_the_keep_link_note_and_the_pay_box(client, paid, book):
    result = book(paid, 1)
    text = page(client, result.manage_token)
    reference = result.registration.payment_reference
    assert f'src="/badge/{result.manage_token}/qr.svg"' in text
    assert "Keep this link:</strong> it is how you manage your booking" in text
    pay_box = text[text.index('id="pay"') :]
    pay_box = pay_box[: pay_box.index("</div>")]
    assert "<dt>Sort code</dt><dd>12-34-56</dd>" in pay_box
    assert "<dt>Account number</dt><dd>12345678</dd>" in pay_box
    assert "<dt>Account name</dt><dd>IPT UK</dd>" in pay_box
    assert f'data-copy="{reference}"' in pay_box and 'data-copy="45.00"' in pay_box
    assert re.search(r'data-copy="\d+ \w+ \d{4}"', pay_box)  # the due date
    assert "invoice.pdf" in text and "Add the event to my calendar" in text


def test_the_booking_page_loads_the_copy_script_from_static_and_has_no_inline_script(client, paid, book):
    text = page(client, book(paid, 1).manage_token)
    assert '<script src="/static/js/copy.js" defer></script>' in text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
    assert "navigator.clipboard" in client.get("/static/js/copy.js").text


def test_a_waitlisted_booking_shows_its_place_in_line_and_nothing_about_paying(client, paid, book):
    book(paid, 1)
    waiting = book(paid, 2)
    text = page(client, waiting.manage_token)
    assert "number <strong>1</strong> in line" in text
    for gone in ("How to pay", "<dt>Amount</dt>", "Payment reference", "invoice.pdf", "Add the event to"):
        assert gone not in text


def test_an_offered_booking_shows_its_deadline_and_nothing_about_paying(client, paid, book):
    first = book(paid, 1)
    second = book(paid, 2)
    post(client, f"/events/booking/{first.manage_token}/cancel")
    text = page(client, second.manage_token)
    assert "A place is yours if you accept it by" in text
    for gone in ("How to pay", "<dt>Amount</dt>", "invoice.pdf"):
        assert gone not in text


def test_the_confirmation_e_mail_lists_the_bank_details_one_a_line(paid, book, database):
    result = book(paid, 1)
    with database.session() as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/confirmation"))
        text, html = email.text_body, email.html_body
    reference = result.registration.payment_reference
    for label, value in (("Sort code", "12-34-56"), ("Account number", "12345678"), ("Reference", reference)):
        assert re.search(rf"^{label}: +{value}$", text, re.MULTILINE), label
        assert re.search(rf"<dt[^>]*>{label}</dt><dd[^>]*>{value}</dd>", html), label
    assert "Amount:" in text and "£45.00" in text
