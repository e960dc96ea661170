"""CPU per request in the portal's own process, SQLite beside PostgreSQL: the request stack whole (boundary,
handler, ORM, driver, templates), driven in-process by Starlette's test client, one request at a time.

Usage: ``python bench/bench_request_cpu.py [--postgres URL] [--seconds S]``

Each scenario runs for S seconds (default 3) after a warm-up: the public event page, the four steps of a paid
booking with a workshop and an answer (start, details, review, confirm; one journey = 4 requests), and a login.
It prints, per engine, the process's CPU time per request (all threads: the client's share is the same on both
engines, so the ratio between them is the database side's) and statements per request. PostgreSQL runs in a
scratch database created beside the one in the URL and dropped afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy import event
from starlette.routing import Router
from starlette.testclient import TestClient

from portal import migrate
from portal.accounts import service as accounts
from portal.accounts.access import SESSION_COOKIE
from portal.accounts.passwords import Passwords
from portal.app import build_routes, create_app
from portal.audit import chain_key
from portal.db import Database
from portal.events import catalogue
from portal.events.links import Links
from portal.settings import Secret, Settings
from portal.society import service as society_service
from portal.web.boundary import CSRF_COOKIE, csrf_for

KEY = "bench-secret-key-that-is-long-enough-for-the-portal"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a bench account's password
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def seed(database: Database) -> dict[str, Any]:
    passwords = Passwords(fast=True)
    links = Links("http://testserver", Router(routes=build_routes()).url_path_for, key=KEY.encode())
    starts = NOW + timedelta(days=90)
    with database.session() as s:
        accounts.setup_first_admin(
            s,
            society_name="IPT UK",
            name="Ada Admin",
            email="admin@example.org",
            password=PASSWORD,
            passwords=passwords,
            now=NOW,
        )
    with database.session() as s:
        society_service.save_details(
            s,
            values={
                "name": "IPT UK",
                "address": "1 Bench Street",
                "charity_number": "1",
                "contact_email": "office@example.org",
                "account_name": "IPT UK",
                "sort_code": "12-34-56",
                "account_number": "12345678",
                "iban": "",
                "bic": "",
                "notes": "",
            },
            actor=None,
            now=NOW,
        )
        data = catalogue.EventData(
            title="Bench conference",
            slug="bench",
            kind="conference",
            starts_at=starts,
            ends_at=starts + timedelta(hours=8),
            registration_opens_at=NOW - timedelta(days=1),
            registration_closes_at=starts - timedelta(days=1),
            venue="Friends House",
            address="173 Euston Road\nLondon",
            capacity=None,
            status="published",
            contact_email="events@example.org",
        )
        made = catalogue.create_event(s, data=data, actor=None, now=NOW)
        catalogue.save_ticket(
            s,
            event_id=made.id,
            data=catalogue.TicketData(name="Standard", price=12000),
            actor=None,
            now=NOW,
            links=links,
        )
        catalogue.save_workshop(
            s,
            event_id=made.id,
            data=catalogue.WorkshopData(
                "Formulation", starts + timedelta(hours=2), starts + timedelta(hours=4)
            ),
            actor=None,
            now=NOW,
            links=links,
        )
        catalogue.save_question(
            s,
            event_id=made.id,
            data=catalogue.QuestionData("Dietary needs", kind="single_choice", options="None\nVegetarian"),
            actor=None,
            now=NOW,
        )
        s.flush()
        s.refresh(made)
        return {
            "slug": made.slug,
            "ticket": made.ticket_types[0].id,
            "workshop": made.workshops[0].id,
            "question": made.questions[0].id,
        }


def scenarios(client: TestClient, world: dict[str, Any]) -> dict[str, tuple[int, Callable[[], None]]]:
    """name -> (requests per run, run)"""
    numbers = itertools.count()
    url = f"/events/{world['slug']}/book"
    csrf = {"csrf_token": csrf_for(KEY.encode(), client.cookies[CSRF_COOKIE])}

    def event_page() -> None:
        assert client.get(f"/events/{world['slug']}").status_code == 200

    def journey() -> None:
        start = client.get(url)
        found = re.search(r'name="form_key" value="([^"]+)"', start.text)
        assert found
        filled = {
            **csrf,
            "form_key": found.group(1),
            "ticket": world["ticket"],
            "first_name": "Bench",
            "last_name": "Delegate",
            "email": f"delegate{next(numbers)}@example.org",
            "workshops": str(world["workshop"]),
            f"q{world['question']}": "Vegetarian",
        }
        assert client.post(url, data={**filled, "action": "details"}).status_code == 200
        assert client.post(url, data={**filled, "action": "review"}).status_code == 200
        assert client.post(url, data={**filled, "action": "confirm"}).status_code == 303

    def login() -> None:
        client.cookies.delete(SESSION_COOKIE)  # logged out again: the login page is for anonymous visitors
        form = {**csrf, "email": "admin@example.org", "password": PASSWORD}
        assert client.post("/login", data=form).status_code == 303

    return {"event page": (1, event_page), "booking journey": (4, journey), "login": (1, login)}


def bench_engine(url: str, seconds: float) -> dict[str, tuple[float, float, float]]:
    migrate.upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key=Secret(KEY),
        base_url="http://testserver",
        env="test",
        run_mail_worker=False,
    )
    database = Database(url, audit_key=chain_key(KEY.encode()))
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(database.engine, "before_cursor_execute", count)
    results = {}
    try:
        world = seed(database)
        app = create_app(settings, clock=lambda: NOW, database=database)
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            client.get("/login")
            for name, (requests, run) in scenarios(client, world).items():
                for _ in range(10):
                    run()
                statements[0] = 0
                runs = 0
                cpu, wall = time.process_time(), time.perf_counter()
                while time.perf_counter() - wall < seconds:
                    run()
                    runs += 1
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                n = runs * requests
                results[name] = (cpu / n * 1000, wall / n * 1000, statements[0] / n)
    finally:
        database.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES_URL", ""))
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rows: dict[str, dict[str, tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["SQLite"] = bench_engine(f"sqlite:///{tmp}/bench.db", args.seconds)
    if args.postgres:
        name = f"portal_bench_cpu_{os.getpid()}"
        admin = sa.create_engine(
            args.postgres.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            rows["PostgreSQL"] = bench_engine(args.postgres.rsplit("/", 1)[0] + "/" + name, args.seconds)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"\nOne request at a time, in-process; {args.seconds:g} s per scenario after a warm-up\n")
    print(f"{'scenario':<16} {'engine':<11} {'cpu ms/req':>10} {'wall ms/req':>11} {'statements/req':>14}")
    for scenario in rows["SQLite"]:
        for engine, found in rows.items():
            cpu, wall, statements = found[scenario]
            print(f"{scenario:<16} {engine:<11} {cpu:>10.2f} {wall:>11.2f} {statements:>14.1f}")
        if "PostgreSQL" in rows:
            ratio = rows["PostgreSQL"][scenario][0] / rows["SQLite"][scenario][0]
            print(f"{'':<16} {'PG/SQLite':<11} {ratio:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
