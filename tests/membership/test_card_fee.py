"""The first membership fee paid by card through the stand-in: the approval e-mail carries the private pay
link, the applicant pays on the hosted page, the signed webhook makes the member active and sends the
activation link (through `record_first_fee`, as staff's "Mark the first fee paid" does), once — the browser's
return and a second delivery change nothing; the two arriving together settle it once on both engines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from stripe_standin import card_settings, sign, writer_probe
from support import csrf_token

from portal.events import cards
from portal.events.models import CardCheckout, Invoice
from portal.mail.models import OutboxEmail
from portal.members.models import Member
from portal.membership import fees, service
from portal.membership.models import Application, MembershipPayment
from portal.settings import Settings


@pytest.fixture
def settings(db_url: str, stripe_server: Any) -> Settings:
    return card_settings(db_url, stripe_server.url)


@pytest.fixture
def hook(app: Any, standin: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        standin.sender = lambda payload, headers: client.post(
            "/payments/stripe/webhook", content=payload, headers=headers
        )
        yield client


@pytest.fixture
def approved(database, clock, key, links, draft, admin) -> Application:
    with database.session() as s:
        application = service.submit_application(
            s,
            category_code="basic",
            draft=draft(),
            files=[],
            ip="192.0.2.1",
            now=clock(),
            key=key,
            links=links,
        )
        assert application is not None
        service.approve(
            s, application_id=application.id, actor=admin, now=clock(), key=key, links=links, card=True
        )
    return application


def _welcomes(database) -> int:
    with database.session() as s:
        return s.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "membership/paid_welcome")
        )


def _member(database, application_id: int) -> Member:
    with database.session() as s:
        application = s.get(Application, application_id)
        return s.get(Member, application.member_id)


def _pay_path(key: bytes, application_id: int) -> str:
    return f"/membership/pay/{application_id}/{fees.pay_token(key, application_id)}"


def test_the_first_fee_paid_by_card_makes_the_member_active_once(
    client, hook, standin, approved, database, key
):
    with database.session() as s:
        email = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "membership/approved_fee")).one()
        assert _pay_path(key, approved.id) in email.text_body
    assert _member(database, approved.id).status == "pending"
    page = client.get(_pay_path(key, approved.id))
    assert page.status_code == 200 and "by card" in page.text
    started = client.post(_pay_path(key, approved.id), data={"csrf_token": csrf_token(client)})
    assert started.status_code == 303
    session_id = started.headers["location"].rsplit("/", 1)[-1]
    stored = standin.sessions[session_id]
    assert stored["amount_total"] == 4500 and stored["client_reference_id"] == f"membership_fee:{approved.id}"
    with database.session() as s:
        invoice_id = s.get(Application, approved.id).invoice_id
        assert stored["metadata"]["invoice_id"] == str(invoice_id)
    back = httpx.post(f"{standin.base_url}/pay/{session_id}")
    assert standin.delivered[-1][0] == 200
    returned = client.get(back.headers["location"].removeprefix("http://testserver"))
    assert "Payment received" in returned.text
    assert _member(database, approved.id).status == "active"
    assert _welcomes(database) == 1
    # Delivered again: nothing more.
    again = standin.deliver(standin.event("checkout.session.completed", session_id))
    assert again.json()["result"] == "unchanged"
    assert _welcomes(database) == 1
    with database.session() as s:
        assert s.get(Application, approved.id).fee_paid_on is not None
        # One invoice in the one series, the fee's, issued at approval.
        assert s.scalar(select(func.count()).select_from(Invoice)) == 1
    # The pay link now says nothing is owed, and starts nothing.
    assert "Nothing is owed" in client.get(_pay_path(key, approved.id)).text


def test_the_fee_checkout_asks_stripe_with_the_database_free(client, standin, approved, key, db_url):
    """Issue 13's rule: the session for the first fee is asked of Stripe with no transaction of the portal
    open (the route's `Prepare` work), then stored in a short write."""
    client.get(_pay_path(key, approved.id))
    standin.probe = writer_probe(db_url)
    started = client.post(_pay_path(key, approved.id), data={"csrf_token": csrf_token(client)})
    assert started.status_code == 303
    assert standin.writer_free == [("POST /v1/checkout/sessions", True)]
    # Pressed again: the open session is reused, and Stripe is not asked.
    again = client.post(_pay_path(key, approved.id), data={"csrf_token": csrf_token(client)})
    assert again.headers["location"] == started.headers["location"]
    assert len(standin.writer_free) == 1 and len(standin.sessions) == 1


def test_a_wrong_pay_link_finds_nothing(client, approved, key):
    assert client.get(f"/membership/pay/{approved.id}/{'0' * 32}").status_code == 404


def test_the_return_and_the_webhook_together_activate_the_member_once(
    client, hook, standin, approved, database, key, app, clock
):
    started = client.post(_pay_path(key, approved.id), data={"csrf_token": csrf_token(client)})
    session_id = started.headers["location"].rsplit("/", 1)[-1]
    standin.complete(session_id)
    config = cards.StripeConfig.of(app.state.settings)
    assert config is not None
    import json

    payload = json.dumps(standin.event("checkout.session.completed", session_id)).encode()
    event = cards.verify(config, payload, sign(payload))
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def by_webhook() -> None:
        barrier.wait()
        try:
            with database.session() as s:
                cards.handle_event(s, event, now=clock(), app=app)
        except BaseException as exc:
            failures.append(exc)

    def by_return() -> None:
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
    assert _member(database, approved.id).status == "active"
    assert _welcomes(database) == 1
    with database.session() as s:
        assert s.scalars(select(CardCheckout.status)).one() == "complete"


def test_an_expired_fee_session_leaves_the_fee_owed_and_the_card_is_offered_again(
    client, hook, standin, approved, database, key
):
    started = client.post(_pay_path(key, approved.id), data={"csrf_token": csrf_token(client)})
    session_id = started.headers["location"].rsplit("/", 1)[-1]
    standin.expire(session_id)
    assert (
        standin.deliver(standin.event("checkout.session.expired", session_id)).json()["result"] == "expired"
    )
    returned = client.get(f"/payments/card/return?session_id={session_id}")
    assert "This card payment has lapsed" in returned.text
    assert f'href="{_pay_path(key, approved.id)}"' in returned.text
    assert _member(database, approved.id).status == "pending"
    assert "Pay £45.00 by card" in client.get(_pay_path(key, approved.id)).text
    again = client.post(_pay_path(key, approved.id), data={"csrf_token": csrf_token(client)})
    second = again.headers["location"].rsplit("/", 1)[-1]
    assert second != session_id
    httpx.post(f"{standin.base_url}/pay/{second}")
    assert _member(database, approved.id).status == "active"
    with database.session(write=False) as s:
        [row] = s.scalars(select(MembershipPayment)).all()
        assert (row.method, row.provider_ref) == ("card", f"stripe:{second}")
