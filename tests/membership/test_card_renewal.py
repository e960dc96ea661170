"""Renewing by card through the Stripe stand-in: two clicks from My account (Renew, then "Renew and pay by
card"), the hosted page, the signed webhook moving the renewal date on once and writing the ledger; the
browser's return and the webhook together settle it once (both engines); an expired session leaves the
renewal owed and offers the card again, and a late `expired` after `completed` changes nothing; the
reconciliation finds an expired session; a renewal paid by hand meanwhile is not paid twice; a refund is a
ledger row."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from stripe_standin import card_settings, sign, writer_probe
from support import StatementCounter, csrf_token, login, make_account

from portal.audit import AuditEvent
from portal.events import cards
from portal.events.models import CardCheckout
from portal.mail.models import OutboxEmail
from portal.members.models import Member
from portal.membership import renewals
from portal.membership.models import MembershipPayment, Renewal
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
def member_id(database, clock) -> int:
    with database.session() as s:
        member = Member(
            membership_number="1042",
            email="megan@example.org",
            first_name="Megan",
            last_name="Hughes",
            category="basic",
            status="active",
            joined_on=date(2024, 12, 10),
            renewal_on=clock().date() + timedelta(days=15),
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(member)
        s.flush()
        return member.id


@pytest.fixture
def member_client(client, admin, database, passwords, member_id) -> TestClient:
    make_account(database, passwords, email="megan@example.org", member_id=member_id)
    login(client, "megan@example.org")
    return client


def _renew_by_card(client: TestClient) -> str:
    """Click one (Renew on My account, then the page), click two ("Renew and pay by card"): the session id."""
    page = client.get("/membership/renew")
    assert "Renew and pay by card" in page.text
    # The page's form ends on Stripe's page: its policy allows the stand-in's address as a form action.
    assert "form-action 'self' http://127.0.0.1:" in page.headers["content-security-policy"]
    started = client.post("/membership/renew/card", data={"csrf_token": csrf_token(client)})
    assert started.status_code == 303, started.text
    return started.headers["location"].rsplit("/", 1)[-1]


def _ledger(database) -> list[tuple[str, str, str, int, str | None]]:
    with database.session(write=False) as s:
        return [
            (p.purpose, p.kind, p.method, p.amount, p.provider_ref)
            for p in s.scalars(select(MembershipPayment).order_by(MembershipPayment.id))
        ]


def _renewal_on(database, member_id: int) -> date:
    with database.session(write=False) as s:
        return s.get(Member, member_id).renewal_on


def test_a_member_renews_by_card_in_two_clicks_once(member_client, hook, standin, database, member_id, clock):
    before = _renewal_on(database, member_id)
    assert 'href="/membership/renew"' in member_client.get("/me").text
    session_id = _renew_by_card(member_client)
    stored = standin.sessions[session_id]
    assert stored["amount_total"] == 4500 and stored["client_reference_id"] == f"renewal:{member_id}"
    with database.session(write=False) as s:
        renewal = s.scalars(select(Renewal)).one()
        assert renewal.paid_on is None and renewal.invoice_id is not None
        assert s.scalars(select(CardCheckout.invoice_id)).one() == renewal.invoice_id
        # Paying there and then: no invoice e-mailed with bank transfer instructions.
        assert s.scalar(select(func.count()).where(OutboxEmail.kind == "membership/renewal_invoice")) == 0
    back = httpx.post(f"{standin.base_url}/pay/{session_id}")
    assert standin.delivered[-1][0] == 200
    returned = member_client.get(back.headers["location"].removeprefix("http://testserver"))
    assert "Payment received" in returned.text and "Back to your membership" in returned.text
    assert _renewal_on(database, member_id) == date(before.year + 1, before.month, before.day)
    assert _ledger(database) == [("renewal", "payment", "card", 4500, f"stripe:{session_id}")]
    # Delivered again: nothing more.
    again = standin.deliver(standin.event("checkout.session.completed", session_id))
    assert again.json()["result"] == "unchanged"
    assert len(_ledger(database)) == 1
    assert _renewal_on(database, member_id) == date(before.year + 1, before.month, before.day)
    # My membership's receipts read the ledger.
    mine = member_client.get("/me").text
    assert "Renewal · £45.00 · paid" in mine and "by card" in mine


def test_the_renewal_checkout_asks_stripe_with_the_database_free(member_client, standin, db_url):
    member_client.get("/membership/renew")
    standin.probe = writer_probe(db_url)
    started = member_client.post("/membership/renew/card", data={"csrf_token": csrf_token(member_client)})
    assert started.status_code == 303
    assert standin.writer_free == [("POST /v1/checkout/sessions", True)]
    # Pressed again (from "Pay your renewal"): the open session is reused, Stripe is not asked.
    assert "by card" in member_client.get("/membership/renew").text
    again = member_client.post("/membership/renew/card", data={"csrf_token": csrf_token(member_client)})
    assert again.headers["location"] == started.headers["location"]
    assert len(standin.writer_free) == 1 and len(standin.sessions) == 1


def test_an_invoice_asked_for_earlier_can_be_paid_by_card(member_client, hook, standin, database):
    member_client.get("/membership/renew")
    member_client.post("/membership/renew", data={"csrf_token": csrf_token(member_client)})
    page = member_client.get("/membership/renew").text
    assert "Pay £45.00 by card" in page
    # My account's "Things to do" says card too, where it is offered.
    assert "£45.00 by card or bank transfer, reference REN" in member_client.get("/me").text
    session_id = (
        member_client.post("/membership/renew/card", data={"csrf_token": csrf_token(member_client)})
        .headers["location"]
        .rsplit("/", 1)[-1]
    )
    httpx.post(f"{standin.base_url}/pay/{session_id}")
    with database.session(write=False) as s:
        [renewal] = s.scalars(select(Renewal)).all()  # the one asked for, paid: no second renewal
        assert renewal.paid_on is not None and renewal.method == "card"


def test_the_return_and_the_webhook_together_renew_once(
    member_client, standin, database, app, clock, member_id
):
    before = _renewal_on(database, member_id)
    session_id = _renew_by_card(member_client)
    standin.complete(session_id)
    config = cards.StripeConfig.of(app.state.settings)
    assert config is not None
    payload = json.dumps(standin.event("checkout.session.completed", session_id)).encode()
    event = cards.verify(config, payload, sign(payload))
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []
    results: list[str] = []

    def by_webhook() -> None:
        barrier.wait()
        try:
            with database.session() as s:
                results.append(cards.handle_event(s, event, now=clock(), app=app).result)
        except BaseException as exc:
            failures.append(exc)

    def by_return() -> None:
        found = cards.read_session(config, session_id)  # as the return page: Stripe read first
        barrier.wait()
        try:
            with database.session() as s:
                results.append(cards.settle(s, found, now=clock(), app=app))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=by_webhook), threading.Thread(target=by_return)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert sorted(results) == ["confirmed", "unchanged"]
    assert _renewal_on(database, member_id) == date(before.year + 1, before.month, before.day)
    assert len(_ledger(database)) == 1


def test_an_expired_session_leaves_the_renewal_owed_and_the_card_is_offered_again(
    member_client, hook, standin, database, member_id
):
    before = _renewal_on(database, member_id)
    session_id = _renew_by_card(member_client)
    standin.expire(session_id)
    expired = standin.deliver(standin.event("checkout.session.expired", session_id))
    assert expired.json()["result"] == "expired"
    returned = member_client.get(f"/payments/card/return?session_id={session_id}")
    assert "This card payment has lapsed" in returned.text
    assert _renewal_on(database, member_id) == before and _ledger(database) == []
    page = member_client.get("/membership/renew").text
    assert "Pay £45.00 by card" in page and "£45.00 is owed" in page
    again = member_client.post("/membership/renew/card", data={"csrf_token": csrf_token(member_client)})
    second = again.headers["location"].rsplit("/", 1)[-1]
    assert second != session_id
    httpx.post(f"{standin.base_url}/pay/{second}")
    assert _renewal_on(database, member_id) == date(before.year + 1, before.month, before.day)
    # A late "expired" for the paid one (Stripe's events may come in any order) changes nothing.
    late = standin.event("checkout.session.expired", second)
    late["data"]["object"]["status"] = "expired"
    assert standin.deliver(late).json()["result"] == "unchanged"
    with database.session(write=False) as s:
        statuses = dict(s.execute(select(CardCheckout.session_id, CardCheckout.status)).all())
    assert statuses == {session_id: "expired", second: "complete"}
    assert len(_ledger(database)) == 1


def test_the_reconciliation_finds_an_expired_session(member_client, standin, database, app, clock):
    session_id = _renew_by_card(member_client)
    standin.expire(session_id)
    config = cards.StripeConfig.of(app.state.settings)
    settled = cards.reconcile(database, config=config, now=clock() + timedelta(minutes=5), app=app)
    assert settled == 1
    with database.session(write=False) as s:
        assert s.scalars(select(CardCheckout.status)).one() == "expired"
        assert renewals.open_renewal(s, s.scalars(select(Renewal.member_id)).one()) is not None


def test_a_renewal_paid_by_hand_meanwhile_is_not_paid_twice(
    member_client, hook, standin, database, member_id, admin, clock
):
    before = _renewal_on(database, member_id)
    session_id = _renew_by_card(member_client)
    with database.session() as s:
        renewal = s.scalars(select(Renewal)).one()
        renewals.record_paid(s, renewal_id=renewal.id, paid_on=clock().date(), actor=admin, now=clock())
    httpx.post(f"{standin.base_url}/pay/{session_id}")
    assert _renewal_on(database, member_id) == date(before.year + 1, before.month, before.day)
    assert [row[2] for row in _ledger(database)] == ["bank_transfer"]
    with database.session(write=False) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "membership.renewal_paid_twice"))


def test_the_office_refunds_a_renewal_paid_by_card_and_the_ledger_says_so(
    member_client, hook, standin, database, member_id, passwords
):
    session_id = _renew_by_card(member_client)
    httpx.post(f"{standin.base_url}/pay/{session_id}")
    member_client.post("/logout", data={"csrf_token": csrf_token(member_client)})
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(member_client, "office@example.org")
    page = member_client.get(f"/membership/members/{member_id}/renewals").text
    assert "Refund £45.00 to the card" in page
    with database.session(write=False) as s:
        checkout_id = s.scalars(select(CardCheckout.id)).one()
    done = member_client.post(
        f"/payments/card/{checkout_id}/refund", data={"csrf_token": csrf_token(member_client)}
    )
    assert done.status_code == 303 and done.headers["location"].endswith(f"/members/{member_id}/renewals")
    assert [(r[1], r[2], r[3]) for r in _ledger(database)] == [
        ("payment", "card", 4500),
        ("refund", "card", 4500),
    ]


#: The renewal webhook's statements (SQLite, PostgreSQL), held like tests/test_query_budgets.py's: the event
#: stored once, the checkout moved (its row returned), the renewal read and claimed, the member (locked on
#: PostgreSQL), the membership year's settings, the member's new date and its history, the ledger's row, the
#: e-mail saying so (the society's name, the outbox row), the audit entry (PostgreSQL: its advisory lock);
#: SQLite's BEGIN IMMEDIATE.
WEBHOOK_BUDGET = (14, 14)


def test_the_renewal_webhook_holds_its_statement_budget(
    member_client, standin, database, engine_name, app, clock
):
    session_id = _renew_by_card(member_client)
    standin.complete(session_id)
    config = cards.StripeConfig.of(app.state.settings)
    payload = json.dumps(standin.event("checkout.session.completed", session_id)).encode()
    with StatementCounter(database.engine) as counter, database.session() as s:
        outcome = cards.handle_webhook(
            s, config=config, payload=payload, signature=sign(payload), now=clock(), app=app
        )
    assert outcome.result == "confirmed"
    allowed = WEBHOOK_BUDGET[0 if engine_name == "sqlite" else 1]
    assert counter.count == allowed, f"{counter.count} statements, budget {allowed}:\n{counter.report()}"


def test_a_membership_that_cannot_be_renewed_here_starts_no_card_payment(
    member_client, standin, database, member_id
):
    with database.session() as s:
        s.get(Member, member_id).status = "resigned"
    refused = member_client.post("/membership/renew/card", data={"csrf_token": csrf_token(member_client)})
    assert refused.status_code == 409 and "contact the office" in refused.text
    assert standin.sessions == {}
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Renewal)) == 0
        assert s.scalar(select(func.count()).select_from(CardCheckout)) == 0


def test_a_session_left_open_for_a_renewal_since_paid_by_hand_is_not_reused_for_the_next(
    member_client, hook, standin, database, member_id, admin, clock
):
    first = _renew_by_card(member_client)  # abandoned on Stripe's page
    with database.session() as s:
        renewal = s.scalars(select(Renewal)).one()
        renewals.record_paid(s, renewal_id=renewal.id, paid_on=clock().date(), actor=admin, now=clock())
        after_hand = s.get(Member, member_id).renewal_on
    again = member_client.post("/membership/renew/card", data={"csrf_token": csrf_token(member_client)})
    second = again.headers["location"].rsplit("/", 1)[-1]
    assert second != first
    httpx.post(f"{standin.base_url}/pay/{second}")
    with database.session(write=False) as s:
        paid = s.scalars(select(Renewal).order_by(Renewal.id)).all()
        assert [r.paid_on is not None for r in paid] == [True, True]
        assert s.get(Member, member_id).renewal_on == date(
            after_hand.year + 1, after_hand.month, after_hand.day
        )
    assert [row[2] for row in _ledger(database)] == ["bank_transfer", "card"]
