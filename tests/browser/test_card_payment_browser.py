"""A guest pays a booking by card in a real browser: the booking page's Pay by card button, the Stripe stand-in's
hosted page (its Pay button sends the signed webhook to the live portal and redirects back), and the return page
saying the payment is received; the booking is paid once, on its invoice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from stripe_standin import SECRET_KEY, WEBHOOK_SECRET, Running, StandIn
from support import AUDIT_KEY, PASSWORD, SECRET

from portal.db import Database
from portal.events import catalogue, sales
from portal.events.models import Payment, Registration
from tests.browser.conftest import LiveServer, start_server, stop_server
from tests.browser.test_events_journeys import links_on, seed_event


@pytest.fixture
def stand() -> Iterator[Running]:
    running = Running(StandIn())
    yield running
    running.stop()


@pytest.fixture
def portal(tmp_path, stand) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path,
        extra_env={
            "PORTAL_STRIPE_SECRET_KEY": SECRET_KEY,
            "PORTAL_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PORTAL_STRIPE_API_BASE": stand.url,
        },
    )
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        stand.standin.webhook_url = f"{server.url}/payments/stripe/webhook"
        yield server
    finally:
        stop_server(server)


def test_a_guest_pays_a_booking_by_card_through_the_hosted_page(portal, stand, page):
    _slug, ids = seed_event(portal, tickets=[catalogue.TicketData(name="Standard", price=12_000)])
    links = links_on(portal.url, key=SECRET.encode())
    database = Database(portal.database_url, audit_key=AUDIT_KEY)
    try:
        with database.session() as s:
            result = sales.book(
                s,
                event_id=ids["event"],
                booking=sales.Booking(
                    ticket_type_id=ids["Standard"],
                    first_name="Ines",
                    last_name="Duarte",
                    email="ines@example.org",
                ),
                form_key="browser-card",
                member_id=None,
                account_id=None,
                now=datetime.now(UTC),
                links=links,
            )
            manage = links.manage(result.registration)
            registration_id = result.registration.id
        page.goto(manage)
        page.get_by_role("button", name="Pay £120.00 by card").click()
        page.wait_for_url(f"{stand.url}/pay/*")
        page.get_by_role("button", name="Pay").click()
        page.wait_for_url(f"{portal.url}/payments/card/return*")
        assert page.get_by_role("heading", level=1).inner_text() == "Payment received"
        page.get_by_role("link", name="Back to your booking").click()
        assert "Paid" in page.content()
        with database.session() as s:
            registration = s.get(Registration, registration_id)
            assert (registration.payment_status, registration.amount_paid) == ("paid", 12_000)
            assert len(s.query(Payment).filter_by(registration_id=registration_id).all()) == 1
        assert [status for status, _event in stand.standin.delivered] == [200]
    finally:
        database.dispose()
