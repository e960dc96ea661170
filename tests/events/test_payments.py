"""Payments: invoices numbered without gaps, tax worked out of the price, references with a check digit,
payments and refunds recorded, bank statements matched on the reference, and unpaid bookings cancelled."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Account
from portal.events import bulk, catalogue, invoices, payments
from portal.events.models import Event, Invoice, Payment, Registration
from portal.mail.models import OutboxEmail
from portal.society.models import PaymentSettings, Society

PRICE = 12000


@pytest.fixture
def paid_event(make_event, admin, database):
    with database.session() as s:
        society = s.get(Society, 1)
        society.address = "1 Example Street\nLondon"
        society.charity_number = "1234567"
        s.add(PaymentSettings(id=1, account_name="IPT UK", sort_code="12-34-56", account_number="12345678"))
    return make_event(capacity=10, tickets=[catalogue.TicketData(name="Standard", price=PRICE)])


def test_a_paid_booking_gets_a_reference_and_a_numbered_invoice_attached_to_its_confirmation(
    paid_event, book, database
):
    result = book(paid_event)
    with database.session() as s:
        registration = s.get(Registration, result.registration.id)
        assert registration.payment_status == "unpaid" and registration.amount_due == PRICE
        assert payments.find_references(registration.payment_reference) == [registration.payment_reference]
        invoice = s.scalar(select(Invoice).where(Invoice.registration_id == registration.id))
        assert (
            invoice.number == 1
            and invoice.total == PRICE
            and invoice.reference == registration.payment_reference
        )
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/confirmation"))
        assert {"event.ics", "invoice-INV-000001.pdf"} <= {a.filename for a in email.attachments}
        assert registration.payment_reference in email.text_body
        assert "12-34-56" in email.text_body


def test_the_invoice_pdf_carries_the_society_the_reference_and_the_total(paid_event, book, database):
    result = book(paid_event)
    with database.session() as s:
        invoice = s.scalar(select(Invoice))
        pdf = invoices.render_pdf(invoice)
        seller = json.loads(invoice.seller)
    assert pdf.startswith(b"%PDF")
    assert seller["charity_number"] == "1234567" and "12345678" in seller["payment_details"]
    assert invoice.reference == result.registration.payment_reference


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
def test_the_invoice_prints_every_name_as_written_and_wraps_a_long_line(paid_event, book, database):
    long_title = "Workshop: " + " ".join(["interpersonal"] * 14) + " the last words"
    book(paid_event, first_name="Zoë", last_name="Müller-Łukasz")
    with database.session() as s:
        invoice = s.scalar(select(Invoice))
        invoice.lines = json.dumps([{"description": long_title, "amount": PRICE}])
        pdf = invoices.render_pdf(invoice)
    assert b"DejaVuSans" in pdf  # the font is embedded
    text = pdf_text(pdf)
    assert "Zoë Müller-Łukasz" in text and "?" not in text
    assert "the last words" in " ".join(text.split())  # wrapped onto more lines, not cut off
    assert f"£{PRICE // 100}.00" in text


def test_invoice_numbers_run_on_without_gaps_when_a_booking_rolls_back(
    paid_event, book, database, clock, links
):
    book(paid_event, 1)
    with database.session() as s:
        assert invoices.next_number(s) == 2
        s.rollback()
    book(paid_event, 2)
    book(paid_event, 3)
    with database.session() as s:
        assert sorted(s.scalars(select(Invoice.number))) == [1, 2, 3]


def test_free_bookings_get_no_invoice_and_owe_nothing(make_event, book, database):
    result = book(make_event())
    with database.session() as s:
        assert s.scalar(select(Invoice)) is None
        assert s.get(Registration, result.registration.id).payment_status == "paid"


def test_tax_is_worked_out_of_a_price_that_includes_it():
    assert invoices.split_tax(12000, 2000) == (10000, 2000)
    assert invoices.split_tax(12000, 0) == (12000, 0)
    net, tax = invoices.split_tax(999, 500)
    assert net + tax == 999 and net == 951


def test_an_event_with_vat_puts_the_tax_line_on_the_invoice(make_event, book, database, admin):
    event = make_event(tax_rate_bp=2000, tickets=[catalogue.TicketData(name="Standard", price=PRICE)])
    book(event)
    with database.session() as s:
        invoice = s.scalar(select(Invoice))
        assert (invoice.net, invoice.tax, invoice.tax_label) == (10000, 2000, "VAT")


def test_a_reference_with_a_mistyped_digit_matches_nothing():
    reference = payments.reference_for(42)
    assert payments.find_references(f"payment {reference[:3]} {reference[3:]} thanks") == [reference]
    wrong = reference[:-2] + str((int(reference[-2]) + 1) % 10) + reference[-1]
    assert payments.find_references(wrong) == []


def record(database, registration_id, amount, *, kind="payment", admin=None, clock=None):
    with database.session() as s:
        return payments.record_payment(
            s,
            registration_id=registration_id,
            amount=amount,
            method="bank_transfer",
            received_on=date(2026, 11, 25),
            kind=kind,
            actor=s.get(Account, admin.id) if admin else None,
            now=clock(),
        )


def test_payments_add_up_to_paid_and_a_full_refund_marks_it_refunded(
    paid_event, book, database, admin, clock, fresh
):
    registration = book(paid_event).registration
    record(database, registration.id, 5000, admin=admin, clock=clock)
    assert fresh(Registration, registration.id).payment_status == "unpaid"
    record(database, registration.id, 7000, admin=admin, clock=clock)
    assert fresh(Registration, registration.id).payment_status == "paid"
    with pytest.raises(payments.PaymentError) as too_much:
        record(database, registration.id, PRICE + 1, kind="refund", admin=admin, clock=clock)
    assert too_much.value.code == "nothing_to_refund"
    record(database, registration.id, PRICE, kind="refund", admin=admin, clock=clock)
    after = fresh(Registration, registration.id)
    assert (after.payment_status, after.amount_paid) == ("refunded", 0)


def test_waiving_a_booking_means_nothing_is_owed(paid_event, book, database, admin, clock, fresh):
    registration = book(paid_event).registration
    with database.session() as s:
        payments.waive_payment(
            s, registration_id=registration.id, actor=s.get(Account, admin.id), now=clock()
        )
    after = fresh(Registration, registration.id)
    assert after.payment_status == "waived" and after.balance == 0


def statement(*rows):
    return "Date,Description,Amount\n" + "\n".join(",".join(row) for row in rows) + "\n"


def test_a_bank_statement_is_matched_on_the_reference_before_anything_is_recorded(paid_event, book, database):
    full = book(paid_event, 1).registration
    part = book(paid_event, 2).registration
    text = statement(
        ("25/11/2026", f"J SMITH {full.payment_reference}", "120.00"),
        ("25/11/2026", f"{part.payment_reference} deposit", "50.00"),
        ("26/11/2026", f"{payments.reference_for(999)} unknown", "10.00"),
        ("26/11/2026", "No reference at all", "30.00"),
        ("26/11/2026", "Card fee", "-2.50"),
    )
    lines, problems = payments.parse_statement(text)
    assert problems == []
    with database.session() as s:
        outcomes = [m.outcome for m in payments.match_lines(s, lines)]
        assert s.scalar(select(Payment)) is None
    assert outcomes == ["full", "partial", "unknown_reference", "no_reference", "not_a_credit"]


def test_applying_a_statement_records_payments_once_even_if_imported_again(
    paid_event, book, database, admin, clock, fresh
):
    full = book(paid_event, 1).registration
    text = statement(("2026-11-25", f"Ref {full.payment_reference}", "120.00"))
    for _ in range(2):
        lines, _ = payments.parse_statement(text)
        with database.session() as s:
            matches = payments.match_lines(s, lines)
            payments.apply_matches(s, matches, actor=s.get(Account, admin.id), now=clock())
    with database.session() as s:
        assert len(s.scalars(select(Payment)).all()) == 1
    assert fresh(Registration, full.id).payment_status == "paid"


def test_two_identical_lines_in_one_statement_are_two_payments(paid_event, book, database, admin, clock):
    registration = book(paid_event).registration
    line = ("2026-11-25", f"Ref {registration.payment_reference}", "60.00")
    lines, _ = payments.parse_statement(statement(line, line))
    with database.session() as s:
        matches = payments.match_lines(s, lines)
        assert [m.outcome for m in matches] == ["partial", "full"]
        assert len(payments.apply_matches(s, matches, actor=s.get(Account, admin.id), now=clock())) == 2


def test_a_statement_with_paid_in_and_paid_out_columns_is_read():
    text = "Transaction Date,Transaction Description,Paid out,Paid in\n01/12/2026,REF IPT0000427,,45.50\n"
    lines, problems = payments.parse_statement(text)
    assert problems == [] and lines[0].amount == 4550 and lines[0].on == date(2026, 12, 1)


def test_a_statement_without_the_needed_columns_is_explained():
    lines, problems = payments.parse_statement("When,What\n1,2\n")
    assert lines == [] and "first line must name the columns" in problems[0]


def test_a_signed_bank_notification_records_the_payment_and_a_forged_one_is_refused(
    paid_event, book, database, clock, links, fresh
):
    registration = book(paid_event).registration
    provider = payments.BankTransferProvider(key=links.key)
    body = json.dumps(
        {"id": "tx-1", "date": "2026-11-26", "amount": PRICE, "description": registration.payment_reference}
    ).encode()
    with database.session() as s, pytest.raises(payments.PaymentError) as forged:
        provider.handle_webhook(s, payload=body, headers={"x-signature": "0" * 64}, now=clock())
    assert forged.value.code == "bad_signature"
    for _ in range(2):
        with database.session() as s:
            provider.handle_webhook(
                s, payload=body, headers={"x-signature": provider.signature(body)}, now=clock()
            )
    assert fresh(Registration, registration.id).payment_status == "paid"
    with database.session() as s:
        assert len(s.scalars(select(Payment)).all()) == 1


def test_unpaid_bookings_past_their_due_date_can_be_cancelled_in_bulk(
    paid_event, book, database, admin, clock, links, status_of
):
    unpaid = book(paid_event, 1).registration
    paid = book(paid_event, 2).registration
    record(database, paid.id, PRICE, admin=admin, clock=clock)
    with database.session() as s:
        assert bulk.overdue_unpaid(s, event_id=paid_event.id, now=clock()) == []
    clock.advance(days=15)
    with database.session() as s:
        overdue = bulk.overdue_unpaid(s, event_id=paid_event.id, now=clock())
        assert [r.id for r in overdue] == [unpaid.id]
        cancelled = bulk.cancel_unpaid(
            s,
            event_id=paid_event.id,
            registration_ids=[unpaid.id, paid.id],
            actor=s.get(Account, admin.id),
            now=clock(),
            links=links,
        )
        assert [r.id for r in cancelled] == [unpaid.id]
    assert status_of(unpaid) == "cancelled" and status_of(paid) == "confirmed"
    with database.session() as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/cancelled"))
        assert email.to_addr == "guest1@example.org" and "not paid" in email.text_body
        assert s.get(Event, paid_event.id).places_taken == 1


def test_a_bulk_cancel_frees_places_for_the_waitlist(
    make_event, book, database, admin, clock, links, status_of
):
    event = make_event(capacity=1, tickets=[catalogue.TicketData(name="Standard", price=PRICE)])
    unpaid = book(event, 1).registration
    waiting = book(event, 2).registration
    clock.advance(days=20)
    with database.session() as s:
        bulk.cancel_unpaid(
            s,
            event_id=event.id,
            registration_ids=[unpaid.id],
            actor=s.get(Account, admin.id),
            now=clock(),
            links=links,
        )
    assert status_of(waiting) == "offered"


def test_due_dates_follow_the_event_setting(make_event, book, database, clock):
    event = make_event(payment_due_days=30, tickets=[catalogue.TicketData(name="Standard", price=PRICE)])
    book(event)
    with database.session() as s:
        assert s.scalar(select(Invoice.due_on)) == clock().date() + timedelta(days=30)
