"""A booking's confirmation holds its costly attachments by reference: the booking's transaction (which holds
the database writer) renders no invoice PDF, QR code or calendar file; the outbox sender draws them when it
sends, from what is stored then. A booking removed before its e-mail went is not sent with a stale invoice."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import delete, select
from support import SmtpServer, smtp_server

from portal.checkin import badging, qr
from portal.events import catalogue, invoices
from portal.events.links import Links
from portal.events.models import Invoice, Registration
from portal.mail.models import OutboxAttachment, OutboxEmail
from portal.mail.sealing import ATTACHMENT_PLACEHOLDER
from portal.mail.sender import Sender
from portal.society.models import PaymentSettings

PRICE = 12_500


@pytest.fixture
def paid_event(make_event, database):
    with database.session() as s:
        s.add(PaymentSettings(id=1, account_name="IPT UK", sort_code="12-34-56", account_number="12345678"))
    return make_event(capacity=10, tickets=[catalogue.TicketData(name="Standard", price=PRICE)])


@pytest.fixture
def drawing(monkeypatch):
    """Counts each invoice PDF and QR code drawn."""
    counts = {"pdf": 0, "qr": 0}
    render_pdf, png = invoices.render_pdf, qr.png

    def counted_pdf(invoice: Any) -> bytes:
        counts["pdf"] += 1
        return render_pdf(invoice)

    def counted_png(data: str) -> bytes:
        counts["qr"] += 1
        return png(data)

    monkeypatch.setattr(invoices, "render_pdf", counted_pdf)
    monkeypatch.setattr(qr, "png", counted_png)
    return counts


def _book(book, app, key, event, n=1, **overrides):
    """Book with the app's links, so the confirmation hooks (the badge) add their part, as a request would."""
    return book(event, n, with_links=Links.for_app(app, key=key), **overrides)


def _send(database, settings, clock, app) -> tuple[dict[str, int], list[Any]]:
    with smtp_server() as server:
        sending = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server.port}")
        outcomes = Sender(database, sending, clock=clock, sources=app.state.hooks.attachments).drain()
        return dict(outcomes), list(server.messages)


def _parts(message: Any) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_payload(decode=True) for part in message.walk() if part.get_filename()
    }


def _pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def test_the_booking_draws_nothing_and_the_outbox_row_holds_no_pdf_or_image(
    paid_event, book, app, key, database, drawing
):
    result = _book(book, app, key, paid_event, first_name="Grace", last_name="Hopper")
    assert drawing == {"pdf": 0, "qr": 0}
    with database.session(write=False) as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/confirmation"))
        invoice = s.scalar(select(Invoice).where(Invoice.registration_id == result.registration.id))
        rows = {a.filename: a for a in email.attachments}
        stored = [a.content for a in s.scalars(select(OutboxAttachment))]
    assert {name: (a.source, a.source_id) for name, a in rows.items()} == {
        "event.ics": ("calendar", result.registration.id),
        f"invoice-{invoice.label}.pdf": ("invoice", invoice.id),
        "badge-qr.png": ("badge", result.registration.id),
        "badge.png": ("badge", result.registration.id),
    }
    assert all(content in (b"", ATTACHMENT_PLACEHOLDER) for content in stored)
    assert not any(b"%PDF" in content or b"PNG" in content for content in stored)


def test_the_email_as_sent_carries_the_invoice_with_the_buyers_name_the_badge_and_the_calendar(
    paid_event, book, app, key, database, settings, clock, drawing
):
    result = _book(book, app, key, paid_event, first_name="Grace", last_name="Hopper")
    outcomes, messages = _send(database, settings, clock, app)
    assert outcomes == {"sent": 1}
    [message] = messages
    parts = _parts(message)
    [pdf_name] = [name for name in parts if name.endswith(".pdf")]
    text = _pdf_text(parts[pdf_name])
    assert "Grace Hopper" in text and result.registration.payment_reference in text
    # The badge: drawn once for both its inline and its attached copy, and it scans as the booking's badge.
    assert drawing == {"pdf": 1, "qr": 1}
    assert parts["badge.png"] == parts["badge-qr.png"]
    with database.session(write=False) as s:
        registration = s.get(Registration, result.registration.id)
        code = badging.code_for(key, registration)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(parts["badge.png"])))
    assert decoded[0].text == code
    html = message.get_body(preferencelist=("html",)).get_content()
    related = [p for p in message.walk() if p.get("Content-ID")]
    assert related and all(f"cid:{p['Content-ID'].strip('<>')}" in html for p in related)
    # The calendar file, drawn to be sent, carries the booking link; the row never held it.
    calendar = parts["event.ics"].decode()
    assert "BEGIN:VEVENT" in calendar and result.manage_token in calendar.replace("\r\n ", "")
    assert result.manage_token in SmtpServer.text(message)


def test_a_booking_removed_before_its_email_went_is_not_sent_with_a_stale_invoice(
    paid_event, book, app, key, database, settings, clock
):
    result = _book(book, app, key, paid_event, first_name="Grace", last_name="Hopper")
    with database.session() as s:
        email_id = s.scalar(select(OutboxEmail.id).where(OutboxEmail.kind == "events/confirmation"))
        s.execute(delete(Registration).where(Registration.id == result.registration.id))
        assert s.scalar(select(Invoice)) is None  # gone with its booking
    outcomes, messages = _send(database, settings, clock, app)
    assert outcomes == {"failed": 1} and messages == []
    with database.session(write=False) as s:
        email = s.get(OutboxEmail, email_id)
        assert email.status == "failed" and email.sealed is None
        assert "can no longer be drawn" in email.last_error and "removed" in email.last_error


def test_staff_download_a_referenced_invoice_drawn_now_but_never_the_calendar_file(
    paid_event, book, app, key, database
):
    from starlette.testclient import TestClient
    from support import login, make_account

    from portal.accounts.passwords import Passwords

    _book(book, app, key, paid_event, first_name="Grace", last_name="Hopper")
    make_account(database, Passwords(fast=True), email="office@example.org", roles="office")
    with database.session(write=False) as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/confirmation"))
        ids = {a.filename: a.id for a in email.attachments}
    with TestClient(app, follow_redirects=False) as office:
        login(office, "office@example.org")
        assert "drawn when sent" in office.get(f"/outbox/{email.id}").text
        [pdf_name] = [name for name in ids if name.endswith(".pdf")]
        pdf = office.get(f"/outbox/{email.id}/attachments/{ids[pdf_name]}")
        assert pdf.status_code == 200 and "Grace Hopper" in _pdf_text(pdf.content)
        ics = office.get(f"/outbox/{email.id}/attachments/{ids['event.ics']}")
        assert ics.status_code == 200 and ics.content == ATTACHMENT_PLACEHOLDER


def test_the_send_pending_command_draws_the_attachments_too(
    paid_event, book, app, key, database, db_url, monkeypatch
):
    import logging

    from click.testing import CliRunner
    from support import SECRET

    from portal.cli import main

    _book(book, app, key, paid_event, first_name="Grace", last_name="Hopper")
    root = logging.getLogger()
    handlers = list(root.handlers)
    with smtp_server() as server:
        for name, value in {
            "PORTAL_DATABASE_URL": db_url,
            "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_ENV": "test",
            "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
        }.items():
            monkeypatch.setenv(name, value)
        try:
            result = CliRunner().invoke(main, ["mail", "send-pending"])
        finally:
            for handler in set(root.handlers) - set(handlers):
                root.removeHandler(handler)
        assert result.exit_code == 0 and "1 sent" in result.output, result.output
        [message] = server.wait_for(1)
    parts = _parts(message)
    [pdf_name] = [name for name in parts if name.endswith(".pdf")]
    assert "Grace Hopper" in _pdf_text(parts[pdf_name])
    assert parts["badge.png"].startswith(b"\x89PNG") and b"BEGIN:VCALENDAR" in parts["event.ics"]


def test_a_sender_without_the_attachment_sources_keeps_the_email_for_a_later_attempt(
    paid_event, book, app, key, database, settings, clock
):
    _book(book, app, key, paid_event)
    with smtp_server() as server:
        sending = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server.port}")
        assert Sender(database, sending, clock=clock).drain() == {"pending": 1}
        assert server.messages == []
    with database.session(write=False) as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "events/confirmation"))
        assert email.status == "pending" and email.sealed is not None
        assert "nothing that draws" in email.last_error
    clock.advance(minutes=2)
    outcomes, messages = _send(database, settings, clock, app)
    assert outcomes == {"sent": 1} and len(messages) == 1
