"""Card payments through Stripe Checkout, against the local stand-in (tests/stripe_standin.py): a booking paid
by card end to end; the webhook's signature (valid, wrong secret, tampered payload, replayed old timestamp);
the same event twice; a late `expired` after `completed`; the browser's return and the webhook together
(two threads, each its own transaction) confirm once; reconciliation; a refund; without the settings card
payment is not offered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from stripe_standin import card_settings, sign, writer_probe
from support import StatementCounter, csrf_token, login

from portal.app import create_app
from portal.audit import AuditEvent
from portal.events import cards, catalogue
from portal.events.models import CardCheckout, CardEvent, Invoice, Payment, Registration
from portal.settings import Settings

PRICE = 12_000


@pytest.fixture
def settings(db_url: str, stripe_server: Any) -> Settings:
    return card_settings(db_url, stripe_server.url)


@pytest.fixture
def hook(app: Any, standin: Any) -> Iterator[TestClient]:
    """The portal as Stripe reaches it: the stand-in's webhooks go through this client (no cookies)."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        standin.sender = lambda payload, headers: client.post(
            "/payments/stripe/webhook", content=payload, headers=headers
        )
        yield client


@pytest.fixture
def paid_booking(make_event: Any, book: Any) -> Registration:
    event = make_event(tickets=[catalogue.TicketData(name="Standard", price=PRICE)])
    return book(event).registration


def _manage_path(client: TestClient, registration: Registration, links: Any) -> str:
    return links.manage(registration).removeprefix("http://testserver")


def _start(client: TestClient, registration: Registration, links: Any) -> str:
    """Press "Pay by card" on the booking page; the Checkout Session's id."""
    path = _manage_path(client, registration, links)
    page = client.get(path)
    assert "by card" in page.text
    token = path.rsplit("/", 1)[-1]
    response = client.post(f"/payments/card/booking/{token}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    assert "/pay/cs_test_" in url
    return url.rsplit("/", 1)[-1]


def _paid(database: Any, registration_id: int) -> tuple[str, int, int]:
    with database.session() as s:
        r = s.get(Registration, registration_id)
        count = s.scalar(select(func.count()).select_from(Payment).where(Payment.registration_id == r.id))
        return r.payment_status, r.amount_paid, count


def test_a_guest_pays_a_booking_by_card_end_to_end(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
):
    session_id = _start(client, paid_booking, links)
    stored = standin.sessions[session_id]
    assert stored["mode"] == "payment"
    assert stored["amount_total"] == PRICE and stored["currency"] == "gbp"
    assert stored["client_reference_id"] == f"booking:{paid_booking.id}"
    assert stored["metadata"]["purpose"] == "booking"
    assert stored["expires_at"] > 0
    # The hosted page's Pay button: the signed webhook, then the browser back to the success URL.
    back = httpx.post(f"{standin.base_url}/pay/{session_id}")
    assert back.status_code == 303
    assert standin.delivered[-1][0] == 200
    returned = client.get(back.headers["location"].removeprefix("http://testserver"))
    assert returned.status_code == 200 and "Payment received" in returned.text
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)
    with database.session() as s:
        # The invoice stays the one the booking got, in the one series: now paid.
        invoices = s.scalars(select(Invoice).where(Invoice.registration_id == paid_booking.id)).all()
        assert len(invoices) == 1
        payment = s.scalars(select(Payment).where(Payment.registration_id == paid_booking.id)).one()
        assert (payment.method, payment.source) == ("card", "provider")
        assert (
            s.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "events.payment")
            )
            == 1
        )


def test_the_browser_return_alone_confirms_when_no_webhook_came(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
):
    standin.send_on_pay = False
    session_id = _start(client, paid_booking, links)
    back = httpx.post(f"{standin.base_url}/pay/{session_id}")
    assert client.get(back.headers["location"].removeprefix("http://testserver")).status_code == 200
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)
    # The webhook arriving afterwards changes nothing.
    response = standin.deliver(standin.event("checkout.session.completed", session_id))
    assert response.json()["result"] == "unchanged"
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)


def test_stripe_is_called_with_the_database_free(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
    admin,
    db_url,
):
    """Issue 13's rule, the writer holds only writes: at each call the portal makes to Stripe (starting a
    session, reading it on the browser's return, refunding) the stand-in finds the database free of the
    portal's transactions (SQLite: it takes the writer at once; PostgreSQL: no transaction open)."""
    standin.send_on_pay = False
    standin.probe = writer_probe(db_url)
    session_id = _start(client, paid_booking, links)
    standin.probe = None
    back = httpx.post(f"{standin.base_url}/pay/{session_id}")
    standin.probe = writer_probe(db_url)
    assert client.get(back.headers["location"].removeprefix("http://testserver")).status_code == 200
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)
    with database.session() as s:
        checkout_id = s.scalars(select(CardCheckout.id)).one()
    standin.probe = None
    login(client, "admin@example.org")
    standin.probe = writer_probe(db_url)
    response = client.post(f"/payments/card/{checkout_id}/refund", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303, response.text
    assert _paid(database, paid_booking.id) == ("refunded", 0, 2)
    calls = [call for call, _free in standin.writer_free]
    assert calls == [
        "POST /v1/checkout/sessions",
        f"GET /v1/checkout/sessions/{session_id}",
        "POST /v1/refunds",
    ]
    assert standin.writer_free == [(call, True) for call in calls]


def test_a_refund_retried_after_its_write_failed_refunds_once(
    client, hook, standin, paid_booking, database, links, admin, app, monkeypatch
):
    """Stripe is asked with the checkout's idempotency key: when the write that records the refund fails and
    the office presses again, Stripe hands back the same refund, and it is recorded once."""
    session_id = _start(client, paid_booking, links)
    httpx.post(f"{standin.base_url}/pay/{session_id}")
    with database.session() as s:
        checkout_id = s.scalars(select(CardCheckout.id)).one()
    login(client, "admin@example.org")
    failing = monkeypatch.context()
    with failing as m:
        m.setattr(cards.audit, "record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("write failed")))
        with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as broken:
            broken.cookies.update(client.cookies)
            first = broken.post(
                f"/payments/card/{checkout_id}/refund", data={"csrf_token": csrf_token(client)}
            )
        assert first.status_code == 500
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)
    again = client.post(f"/payments/card/{checkout_id}/refund", data={"csrf_token": csrf_token(client)})
    assert again.status_code == 303, again.text
    assert _paid(database, paid_booking.id) == ("refunded", 0, 2)
    # Stripe was asked twice, under one key: one refund.
    assert len(standin.refunds) == 1 and standin.refunds[0]["_key"] == f"refund-{session_id}"


@pytest.mark.parametrize("how", ["wrong_secret", "tampered", "replayed", "no_header", "garbled_header"])
def test_a_webhook_that_fails_its_signature_is_refused(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
    how,
):
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    event = standin.event("checkout.session.completed", session_id)
    payload = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload)}
    if how == "wrong_secret":
        headers["Stripe-Signature"] = sign(payload, "whsec_someone_else")
    elif how == "tampered":
        event["data"]["object"]["amount_total"] = 1
        payload = json.dumps(event).encode()
    elif how == "replayed":
        headers["Stripe-Signature"] = sign(payload, at=int(time.time()) - 301)
    elif how == "no_header":
        del headers["Stripe-Signature"]
    else:
        headers["Stripe-Signature"] = "v1=abc"
    response = hook.post("/payments/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "bad_signature"
    assert _paid(database, paid_booking.id) == ("unpaid", 0, 0)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(CardEvent)) == 0


def test_a_signature_within_the_tolerance_is_accepted(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
):
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    response = standin.deliver(
        standin.event("checkout.session.completed", session_id), at=int(time.time()) - 200
    )
    assert response.status_code == 200 and response.json()["result"] == "confirmed"


def test_the_same_event_twice_changes_nothing(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
):
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    event = standin.event("checkout.session.completed", session_id)
    first = standin.deliver(event)
    again = standin.deliver(event)
    assert (first.json()["result"], again.json()["result"]) == ("confirmed", "duplicate")
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)


def test_a_late_expired_after_completed_changes_nothing(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
):
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    completed = standin.event("checkout.session.completed", session_id)
    expired = standin.event("checkout.session.expired", session_id)
    expired["data"]["object"]["status"] = "expired"
    assert standin.deliver(completed).json()["result"] == "confirmed"
    assert standin.deliver(expired).json()["result"] == "unchanged"
    with database.session() as s:
        assert s.scalars(select(CardCheckout.status)).one() == "complete"
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)


def test_an_expired_session_keeps_the_booking_on_its_invoice_and_a_new_one_can_start(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
):
    session_id = _start(client, paid_booking, links)
    standin.expire(session_id)
    assert (
        standin.deliver(standin.event("checkout.session.expired", session_id)).json()["result"] == "expired"
    )
    with database.session() as s:
        registration = s.get(Registration, paid_booking.id)
        assert (registration.status, registration.payment_status) == ("confirmed", "unpaid")
    assert _start(client, paid_booking, links) != session_id


def test_an_open_session_is_reused_rather_than_a_second_made(
    client,
    hook,
    standin,
    paid_booking,
    links,
):
    assert _start(client, paid_booking, links) == _start(client, paid_booking, links)
    assert len(standin.sessions) == 1


def test_reconciliation_settles_sessions_whose_webhook_was_lost(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
    app,
    clock,
):
    standin.send_on_pay = False
    session_id = _start(client, paid_booking, links)
    httpx.post(f"{standin.base_url}/pay/{session_id}")
    config = cards.StripeConfig.of(app.state.settings)
    assert config is not None
    assert cards.reconcile(database, config=config, now=clock(), app=app) == 0  # too new to ask about
    clock.advance(minutes=5)
    assert cards.reconcile(database, config=config, now=clock(), app=app) == 1
    assert cards.reconcile(database, config=config, now=clock(), app=app) == 0
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)


def test_the_browser_return_and_the_webhook_together_confirm_exactly_once(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
    app,
    clock,
):
    """Two threads, each with its own session and transaction, settle the same paid session at once: one
    records the payment, the other finds the checkout no longer open."""
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    config = cards.StripeConfig.of(app.state.settings)
    assert config is not None
    event = cards.verify(config, *_signed(standin.event("checkout.session.completed", session_id)))
    failures: list[BaseException] = []
    for _round in range(3):
        barrier = threading.Barrier(2)

        def by_webhook(barrier: threading.Barrier = barrier, event: Any = event) -> None:
            barrier.wait()
            try:
                with database.session() as s:
                    cards.handle_event(s, event, now=clock(), app=app)
            except BaseException as exc:
                failures.append(exc)

        def by_return(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                found = cards.read_session(config, session_id)  # as the return page: Stripe read first
                with database.session() as s:
                    cards.settle(s, found, now=clock(), app=app)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=by_webhook), threading.Thread(target=by_return)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
        assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)
        event = cards.verify(config, *_signed(standin.event("checkout.session.completed", session_id)))


def _signed(event: dict[str, Any]) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    return payload, sign(payload)


def test_the_office_refunds_a_card_payment(
    client,
    hook,
    standin,
    paid_booking,
    database,
    links,
    admin,
):
    session_id = _start(client, paid_booking, links)
    httpx.post(f"{standin.base_url}/pay/{session_id}")
    with database.session() as s:
        checkout_id = s.scalars(select(CardCheckout.id)).one()
    login(client, "admin@example.org")
    staff_page = client.get(f"/events/manage/{paid_booking.event_id}/bookings/{paid_booking.id}")
    assert f"/payments/card/{checkout_id}/refund" in staff_page.text
    response = client.post(f"/payments/card/{checkout_id}/refund", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303, response.text
    assert standin.refunds[-1]["amount"] == PRICE
    assert standin.refunds[-1]["payment_intent"] == standin.sessions[session_id]["payment_intent"]
    assert _paid(database, paid_booking.id) == ("refunded", 0, 2)
    again = client.post(f"/payments/card/{checkout_id}/refund", data={"csrf_token": csrf_token(client)})
    assert again.status_code == 409
    assert len(standin.refunds) == 1
    with database.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "payments.card_refund")
            )
            == 1
        )


def test_without_the_stripe_settings_card_payment_is_not_offered(
    db_url,
    clock,
    database,
    make_event,
    book,
    links,
):
    plain = Settings(
        database_url=db_url,
        secret_key=card_settings(db_url, "http://x").secret_key,
        base_url="http://testserver",
        env="test",
        run_mail_worker=False,
    )
    app = create_app(plain, clock=clock, database=database)
    registration = book(make_event(tickets=[catalogue.TicketData(name="Standard", price=PRICE)])).registration
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        page = client.get(links.manage(registration).removeprefix("http://testserver"))
        assert page.status_code == 200 and "by card" not in page.text
        token = links.manage(registration).rsplit("/", 1)[-1]
        refused = client.post(f"/payments/card/booking/{token}", data={"csrf_token": csrf_token(client)})
        assert refused.status_code == 404
        hook = client.post(
            "/payments/stripe/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=0"}
        )
        assert hook.status_code == 404


def test_the_webhook_needs_no_csrf_token_and_sets_no_cookie(
    client,
    hook,
    standin,
    paid_booking,
    links,
):
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    response = standin.deliver(standin.event("checkout.session.completed", session_id))
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_the_secrets_never_show_in_a_repr(settings):
    shown = repr(settings) + repr(cards.StripeConfig.of(settings))
    assert "sk_test_standin" not in shown and "whsec_standin" not in shown


def test_an_event_or_the_society_may_choose_invoice_only(client, standin, make_event, book, database, links):
    invoice_only = make_event(
        tickets=[catalogue.TicketData(name="Standard", price=PRICE)], payment_provider="bank_transfer"
    )
    registration = book(invoice_only).registration
    page = client.get(_manage_path(client, registration, links))
    assert page.status_code == 200 and "by card" not in page.text
    token = links.manage(registration).rsplit("/", 1)[-1]
    refused = client.post(f"/payments/card/booking/{token}", data={"csrf_token": csrf_token(client)})
    assert refused.status_code == 404
    with database.session() as s:
        from portal.society.service import payment_settings

        settings = payment_settings(s)
        settings.provider = "bank_transfer"
        s.merge(settings)
    follows = book(make_event(tickets=[catalogue.TicketData(name="Standard", price=PRICE)])).registration
    assert "by card" not in client.get(_manage_path(client, follows, links)).text
    chooses = book(
        make_event(tickets=[catalogue.TicketData(name="Standard", price=PRICE)], payment_provider="card")
    ).registration
    assert "by card" in client.get(_manage_path(client, chooses, links)).text


#: The booking webhook's statements (SQLite, PostgreSQL): the event stored once, the checkout moved (its row
#: returned with the update), the booking, the payment, the booking's paid amount and status (one update that
#: returns them), the audit entry (PostgreSQL: its advisory lock); SQLite's BEGIN IMMEDIATE.
WEBHOOK_BUDGET = (8, 8)


def test_the_booking_webhook_holds_its_statement_budget(
    client, standin, paid_booking, database, links, app, clock, engine_name
):
    session_id = _start(client, paid_booking, links)
    standin.complete(session_id)
    config = cards.StripeConfig.of(app.state.settings)
    payload = json.dumps(standin.event("checkout.session.completed", session_id)).encode()
    with StatementCounter(database.engine) as counter, database.session() as s:
        outcome = cards.handle_webhook(
            s, config=config, payload=payload, signature=sign(payload), now=clock(), app=app
        )
    assert outcome.result == "confirmed"
    assert _paid(database, paid_booking.id) == ("paid", PRICE, 1)
    allowed = WEBHOOK_BUDGET[0 if engine_name == "sqlite" else 1]
    assert counter.count == allowed, f"{counter.count} statements, budget {allowed}:\n{counter.report()}"
