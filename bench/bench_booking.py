"""Confirmed bookings per second: threads calling the booking service, each booking its own transaction.

Usage: ``python bench/bench_booking.py [--bookings N] [--concurrency C] [--postgres URL]``

Each booking is the whole action a delegate's "Confirm" makes: the form-key check, the lapsed-offer sweep,
the eligibility rules, the registration insert, the conditional counter updates, and the confirmation
e-mail rendered into the outbox. A paid ticket adds the invoice number (a counter row every booking queues on)
and the invoice row. The calendar file, the invoice PDF and the badge are held by reference and drawn by the
outbox sender when it sends, so they are not part of a booking's cost here. All bookings are for one event (the worst case: every
one of them moves the same counters). SQLite runs in a temporary file; PostgreSQL in a scratch database
created beside the one in the URL and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from starlette.routing import Router

from portal import migrate
from portal.app import build_routes
from portal.audit import chain_key
from portal.db import Database
from portal.events import catalogue, sales
from portal.events.links import Links
from portal.events.models import Registration
from portal.society.models import Society

KEY = b"bench-secret-key-that-is-long-enough-for-the-portal"


def setup_event(database: Database, *, price: int, places: int) -> tuple[int, int]:
    now = datetime.now(UTC)
    starts = now + timedelta(days=90)
    links = Links("http://bench.invalid", Router(routes=build_routes()).url_path_for, key=KEY)
    with database.session() as s:
        if s.get(Society, 1) is None:
            s.add(
                Society(
                    id=1, name="IPT UK", address="1 Bench Street", charity_number="1", contact_email="x@y.z"
                )
            )
        data = catalogue.EventData(
            title=f"Bench conference {price}",
            slug=f"bench-{price}-{time.monotonic_ns()}",
            kind="conference",
            starts_at=starts,
            ends_at=starts + timedelta(hours=8),
            registration_opens_at=now - timedelta(days=1),
            registration_closes_at=starts - timedelta(days=1),
            capacity=places,
            status="published",
        )
        event = catalogue.create_event(s, data=data, actor=None, now=now)
        ticket = catalogue.save_ticket(
            s,
            event_id=event.id,
            data=catalogue.TicketData(name="Standard", price=price),
            actor=None,
            now=now,
            links=links,
        )
        return event.id, ticket.id


def run(
    database: Database, *, event_id: int, ticket_id: int, bookings: int, concurrency: int
) -> dict[str, float]:
    links = Links("http://bench.invalid", Router(routes=build_routes()).url_path_for, key=KEY)
    counter = iter(range(bookings))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(concurrency + 1)

    def worker() -> None:
        barrier.wait()
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            booking = sales.Booking(
                ticket_type_id=ticket_id, first_name="Bench", last_name=str(n), email=f"bench{n}@example.org"
            )
            started = time.perf_counter()
            try:
                with database.session() as s:
                    sales.book(
                        s,
                        event_id=event_id,
                        booking=booking,
                        form_key=f"bench-{event_id}-{n}",
                        member_id=None,
                        account_id=None,
                        now=datetime.now(UTC),
                        links=links,
                    )
            except Exception as exc:  # counted and shown: on SQLite a writer can wait past busy_timeout
                with lock:
                    failures.append(exc)
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for exc in failures[:1]:
        print(
            f"  {len(failures)} booking(s) failed, the first with: {str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
    with database.session() as s:
        confirmed = s.scalar(
            sa.select(sa.func.count()).where(
                Registration.event_id == event_id, Registration.status == "confirmed"
            )
        )
    latencies.sort()
    return {
        "confirmed": float(confirmed or 0),
        "failed": float(len(failures)),
        "per_second": (confirmed or 0) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def bench_engine(
    label: str, url: str, *, bookings: int, concurrency: int
) -> list[tuple[str, str, dict[str, float]]]:
    migrate.upgrade(url)
    database = Database(url, audit_key=chain_key(KEY))
    runner = database
    rows = []
    try:
        for kind, price in (("free", 0), ("paid + invoice", 12000)):
            event_id, ticket_id = setup_event(database, price=price, places=bookings)
            result = run(
                runner, event_id=event_id, ticket_id=ticket_id, bookings=bookings, concurrency=concurrency
            )
            rows.append((label, kind, result))
    finally:
        database.dispose()
    return rows


def scratch_postgres(url: str) -> tuple[str, sa.Engine, str]:
    name = f"portal_bench_booking_{os.getpid()}"
    admin = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url.rsplit("/", 1)[0] + "/" + name, admin, name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--postgres", help="postgresql://user@host/db: also run against a scratch database there"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = {"bookings": args.bookings, "concurrency": args.concurrency}
        rows += bench_engine("SQLite", f"sqlite:///{tmp}/a.db", **sqlite)
    if args.postgres:
        url, admin, name = scratch_postgres(args.postgres)
        try:
            rows += bench_engine("PostgreSQL", url, bookings=args.bookings, concurrency=args.concurrency)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"\n{args.bookings} bookings for one event, {args.concurrency} threads, one transaction each")
    print("(SQLite writers wait their turn on a queue inside the process: portal.db._WriterQueue)\n")
    print(
        f"{'engine':<11} {'ticket':<15} {'confirmed':>9} {'failed':>6} {'bookings/s':>11} {'p50 ms':>8} {'p95 ms':>8}"
    )
    for engine, kind, r in rows:
        print(
            f"{engine:<11} {kind:<15} {int(r['confirmed']):>9} {int(r['failed']):>6} "
            f"{r['per_second']:>11.1f} {r['p50']:>8.1f} {r['p95']:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
