"""Card-payment confirmations through the Stripe stand-in: how many per second, and the CPU each webhook costs.

Usage: ``python bench/bench_webhook.py [--payments N] [--postgres URL]`` (PORTAL_TEST_POSTGRES_URL is used when
``--postgres`` is not given). Each engine gets a fresh, migrated database, an event with N confirmed paid
bookings, and for each a Checkout Session made through the stand-in (tests/stripe_standin.py, on a port from
PORTAL_TEST_PORTS) and then paid there. Timed:

- confirmations per second: each `checkout.session.completed` event signed as Stripe signs it and POSTed to
  the portal's webhook (the app in-process, through Starlette's test client), one after another;
- CPU per webhook: the handler's own work for another N (the signature verified by the official client, the
  event stored once, the checkout settled, the payment recorded and audited, the commit), measured with
  `time.process_time`, the median of the N (aim: under 5 ms);
- the same for N members renewing by card (the renewal date moved on, the membership ledger written).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from scratch import postgres_scratch
from sqlalchemy import func, select, update
from starlette.routing import Router
from starlette.testclient import TestClient
from stripe_standin import Running, StandIn, card_settings, sign

from portal import migrate
from portal.accounts import service as accounts
from portal.accounts.passwords import Passwords
from portal.app import build_routes, create_app
from portal.audit import chain_key
from portal.db import Database
from portal.events import cards, catalogue, sales
from portal.events.links import Links
from portal.events.models import CardCheckout, Registration
from portal.members.models import Member, MemberCategory
from portal.members.service import seed_default_options
from portal.membership import renewals
from portal.membership.models import MembershipPayment
from portal.settings import Settings

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
START = datetime(2027, 3, 12, 9, 0, tzinfo=UTC)


def setup(database: Database, settings: Settings, standin: StandIn, payments: int, slug: str) -> list[str]:
    """An event with `payments` confirmed bookings, each with a paid Checkout Session; their session ids."""
    key = settings.key_bytes()
    links = Links("http://testserver", Router(routes=build_routes()).url_path_for, key=key)
    config = cards.StripeConfig.of(settings)
    assert config is not None
    with database.session() as s:
        event = catalogue.create_event(
            s,
            data=catalogue.EventData(
                title="Bench conference",
                slug=slug,
                kind="conference",
                starts_at=START,
                ends_at=START + timedelta(hours=8),
                registration_opens_at=NOW - timedelta(days=30),
                registration_closes_at=START - timedelta(days=7),
                venue="Friends House",
                address="London",
                capacity=payments + 10,
                status="published",
                contact_email="events@example.org",
            ),
            actor=None,
            now=NOW,
        )
        catalogue.save_ticket(
            s,
            event_id=event.id,
            data=catalogue.TicketData(name="Standard", price=12_000),
            actor=None,
            now=NOW,
            links=links,
        )
        event_id, ticket_id = event.id, event.ticket_types[0].id
    ids = []
    for n in range(payments):
        with database.session() as s:
            result = sales.book(
                s,
                event_id=event_id,
                booking=sales.Booking(
                    ticket_type_id=ticket_id,
                    first_name="Payer",
                    last_name=str(n),
                    email=f"payer{n}@{slug}.example.org",
                ),
                form_key=f"{slug}-{n}",
                member_id=None,
                account_id=None,
                now=NOW,
                links=links,
            )
            registration = s.get(Registration, result.registration.id)
            assert registration is not None
            plan = cards.booking_plan(
                registration,
                registration.event,
                success_url="http://testserver/payments/card/return",
                cancel_url="http://testserver/",
            )
            checkout = cards.start_checkout(s, plan, cards.create_session(config, plan, now=NOW), now=NOW)
            ids.append(checkout.session_id)
        standin.complete(ids[-1])
    return ids


def setup_renewals(database: Database, settings: Settings, standin: StandIn, payments: int) -> list[str]:
    """`payments` members whose renewal (£45) was started by card, each session paid; their session ids."""
    config = cards.StripeConfig.of(settings)
    assert config is not None
    with database.session() as s:
        seed_default_options(s)
        s.execute(update(MemberCategory).where(MemberCategory.code == "basic").values(annual_fee=4500))
    ids = []
    for n in range(payments):
        with database.session() as s:
            member = Member(
                membership_number=f"R{n:05d}",
                email=f"renewer{n}@example.org",
                first_name="Renewer",
                last_name=str(n),
                category="basic",
                status="active",
                joined_on=NOW.date() - timedelta(days=350),
                renewal_on=NOW.date() + timedelta(days=15),
                created_at=NOW,
                updated_at=NOW,
            )
            s.add(member)
            s.flush()
            urls = {
                "success_url": "http://testserver/payments/card/return",
                "cancel_url": "http://testserver/",
            }
            plan = renewals.card_plan(s, member_id=member.id, **urls)
            created = cards.create_session(config, plan, now=NOW)
            checkout = renewals.card_checkout(s, member_id=member.id, created=created, now=NOW, **urls)
            ids.append(checkout.session_id)
        standin.complete(ids[-1])
    return ids


def cpu_per_webhook(
    database: Database, settings: Settings, app: Any, bodies: list[tuple[bytes, str]]
) -> float:
    """The handler's own CPU for each signed event, in milliseconds: verified, stored once, settled and
    committed, in a transaction of its own as the route does. The median of the webhooks: on a machine shared
    with other work one preempted webhook would move a mean by more than the handler costs."""
    config = cards.StripeConfig.of(settings)
    assert config is not None
    samples = []
    for payload, signature in bodies:
        before = time.process_time()
        with database.session() as s:
            outcome = cards.handle_webhook(
                s, config=config, payload=payload, signature=signature, now=NOW, app=app
            )
        samples.append(time.process_time() - before)
        assert outcome.result == "confirmed"
    return statistics.median(samples) * 1000


def signed(standin: StandIn, session_id: str) -> tuple[bytes, str]:
    payload = json.dumps(standin.event("checkout.session.completed", session_id)).encode()
    return payload, sign(payload)


def run_engine(url: str, running: Running, payments: int) -> list[tuple[str, str, str]]:
    migrate.upgrade(url)
    settings = card_settings(url, running.url)
    database = Database(url, audit_key=chain_key(settings.key_bytes()))
    standin = running.standin
    standin.reset()
    try:
        app = create_app(settings, clock=lambda: NOW, database=database)
        with database.session() as s:
            accounts.setup_first_admin(
                s,
                society_name="IPT UK",
                name="Ada",
                email="admin@example.org",
                password="bench-password-0123",  # noqa: S106 - a throwaway bench database
                passwords=Passwords(fast=True),
                now=NOW,
            )
        over_http = setup(database, settings, standin, payments, "over-http")
        direct = setup(database, settings, standin, payments, "direct")
        bodies = [signed(standin, sid) for sid in over_http]
        with TestClient(app, base_url="http://testserver") as client:
            started = time.perf_counter()
            for payload, signature in bodies:
                response = client.post(
                    "/payments/stripe/webhook",
                    content=payload,
                    headers={"Content-Type": "application/json", "Stripe-Signature": signature},
                )
                assert response.json()["result"] == "confirmed", response.text
            elapsed = time.perf_counter() - started
        booking_cpu = cpu_per_webhook(database, settings, app, [signed(standin, sid) for sid in direct])
        renewing = setup_renewals(database, settings, standin, payments)
        renewal_cpu = cpu_per_webhook(database, settings, app, [signed(standin, sid) for sid in renewing])
        with database.session(write=False) as s:
            complete = s.scalar(
                select(func.count()).select_from(CardCheckout).where(CardCheckout.status == "complete")
            )
            ledger = s.scalar(select(func.count()).select_from(MembershipPayment))
        assert complete == 3 * payments and ledger == payments
        return [
            (
                "confirmations per second (HTTP, in-process)",
                f"{payments:,} webhooks",
                f"{payments / elapsed:,.0f}/s",
            ),
            (
                "CPU per webhook (handler and commit, median)",
                f"{payments:,} webhooks",
                f"{booking_cpu:.2f} ms",
            ),
            (
                "CPU per webhook, a renewal by card (median)",
                f"{payments:,} webhooks",
                f"{renewal_cpu:.2f} ms",
            ),
        ]
    finally:
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    running = Running(StandIn())
    rows: list[tuple[str, ...]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for row in run_engine(f"sqlite:///{tmp}/bench.db", running, args.payments):
                rows.append(("SQLite", *row))
        if args.postgres:
            url, drop = postgres_scratch(args.postgres, "webhook")
            try:
                for row in run_engine(url, running, args.payments):
                    rows.append(("PostgreSQL", *row))
            finally:
                drop()
    finally:
        running.stop()
    header = ("engine", "measure", "size", "result")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
