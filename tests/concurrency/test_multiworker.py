"""The guarantees hold across server processes: the portal runs as `portal serve --workers 2` on one port and
a second `portal serve` on another, both on one scratch PostgreSQL database, and many client threads,
released together by a barrier, send their requests to the two ports in turn.

- the last places of an event go to exactly that many bookings, the rest wait;
- a booking form confirmed through both processes at once makes one booking;
- one member's ballot link cast through both processes at once leaves one ballot; many members voting at
  once leave as many ballots as roll entries marked voted;
- one badge scanned through both processes at once is admitted once;
- the outbox senders of the three worker processes deliver each e-mail exactly once.

PostgreSQL only (SQLite runs one worker): skipped when PORTAL_TEST_POSTGRES_URL is not set; CI sets it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from browser_kit import LiveServer, start_server, stop_server
from support import AUDIT_KEY, SECRET, SmtpServer, smtp_server

from bench.rush import checks, clients, world
from portal import migrate
from portal.db import Database
from portal.events.models import Registration
from portal.mail.models import OutboxEmail

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "").strip()
KEY = SECRET.encode()

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="several server processes need PostgreSQL: set PORTAL_TEST_POSTGRES_URL (CI does)",
    ),
    pytest.mark.xdist_group("multiworker"),
    pytest.mark.slow,
]


@dataclass
class Portal:
    """Two `portal serve` processes (the first with two workers) on one database, and the SMTP server
    their outbox senders deliver to."""

    servers: list[LiveServer]
    database: Database
    smtp: SmtpServer

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


@contextmanager
def one_at_a_time() -> Iterator[None]:
    """Three server processes, each with its own connection pool, take up to 60 of PostgreSQL's connections
    (100 by default): one copy of these servers runs at a time on the machine, whichever xdist worker (the
    module's tests may be split across workers) or developer starts it."""
    with (Path(tempfile.gettempdir()) / "portal-multiworker-tests.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with one_at_a_time():
        yield from _portal(tmp_path_factory)


def _portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    name = f"portal_multiworker_{os.getpid()}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    database = Database(url, audit_key=AUDIT_KEY)
    try:
        migrate.upgrade(url)
        with database.session() as s:
            world.set_up(s, now=datetime.now(UTC))
        with smtp_server() as smtp:
            env = {"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "PORTAL_LOG_LEVEL": "WARNING"}
            tmp = tmp_path_factory.mktemp("multiworker")
            servers: list[LiveServer] = []
            try:
                servers.append(start_server(tmp, database_url=url, workers=2, migrate=False, extra_env=env))
                servers.append(start_server(tmp, database_url=url, workers=1, migrate=False, extra_env=env))
                yield Portal(servers=servers, database=database, smtp=smtp)
            finally:
                # The servers stop before the SMTP server, so their senders never find it gone.
                for server in servers:
                    stop_server(server)
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def together(count: int, prepare: Callable[[int], Any], act: Callable[[int, Any], Any]) -> list[Any]:
    """`count` threads: each prepares (opens its form, its ballot), waits at the barrier, then acts; returns
    what each act returned. A thread's exception fails the test."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            prepared = prepare(i)
            barrier.wait(timeout=60)
            results[i] = act(i, prepared)
        except BaseException as exc:  # a thread's exception would otherwise vanish
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    return results


def no_client_errors(stats: clients.Stats) -> None:
    assert not stats.errors, dict(stats.causes)


def test_the_last_places_go_to_exactly_that_many_bookings_across_processes(portal):
    places, attempts = 10, 40
    with portal.database.session() as s:
        event = world.booking_event(
            s, capacity=places, now=datetime.now(UTC), key=KEY, base_url=portal.urls[0]
        )
    stats = clients.Stats()

    def open_form(i: int) -> tuple[clients.Delegate, dict[str, str]]:
        delegate = clients.Delegate(portal.urls, stats, start=i)
        form = delegate.open_form(event.slug, ticket_id=event.ticket_id, n=i)
        assert form is not None
        return delegate, form

    def confirm(_i: int, prepared: tuple[clients.Delegate, dict[str, str]]) -> str | None:
        delegate, form = prepared
        with delegate:
            return delegate.confirm(event.slug, form)

    pages = together(attempts, open_form, confirm)
    no_client_errors(stats)
    assert all(page and "/events/booking/" in page for page in pages)
    told = [clients.delegate_email(event.slug, i) for i in range(attempts)]
    check = checks.bookings(portal.database, event, attempts=attempts, told_booked=told)
    assert check.problems == []
    assert (check.figures["confirmed"], check.figures["waitlisted"]) == (places, attempts - places)


def test_one_booking_form_confirmed_through_both_processes_at_once_makes_one_booking(portal):
    with portal.database.session() as s:
        event = world.booking_event(s, capacity=5, now=datetime.now(UTC), key=KEY, base_url=portal.urls[0])
    stats = clients.Stats()
    with clients.Delegate(portal.urls, stats) as first:
        form = first.open_form(event.slug, ticket_id=event.ticket_id, n=1)
        cookies = dict(first.client.cookies)
    assert form is not None

    def same_form(i: int) -> clients.Delegate:
        # The same browser (its cookies, the same form) sending "Confirm" again and again, to both processes.
        delegate = clients.Delegate(portal.urls, stats, start=i)
        delegate.client.cookies.update(cookies)
        return delegate

    def confirm(_i: int, delegate: clients.Delegate) -> str | None:
        with delegate:
            return delegate.confirm(event.slug, form)

    pages = together(20, same_form, confirm)
    no_client_errors(stats)
    assert len(set(pages)) == 1 and pages[0] is not None
    with portal.database.session(write=False) as s:
        statuses = s.scalars(sa.select(Registration.status).where(Registration.event_id == event.event_id))
        assert list(statuses) == ["confirmed"]


def _election(portal: Portal, voters: int) -> world.Election:
    with portal.database.session() as s:
        return world.election(s, voters=voters, now=datetime.now(UTC), key=KEY, base_url=portal.urls[0])


def test_one_ballot_link_cast_through_both_processes_at_once_leaves_one_ballot(portal):
    election = _election(portal, voters=1)
    token = election.tokens[0]
    choice = {election.field: str(election.choices[0])}
    stats = clients.Stats()

    def open_ballot(i: int) -> tuple[clients.Voter, str]:
        voter = clients.Voter(portal.urls, stats, start=i)
        csrf = voter.open_ballot(token)
        assert csrf is not None
        return voter, csrf

    def cast(_i: int, prepared: tuple[clients.Voter, str]) -> str | None:
        voter, csrf = prepared
        with voter:
            return voter.cast(token, csrf, choice)

    outcomes = Counter(together(24, open_ballot, cast))
    no_client_errors(stats)
    assert outcomes == {"cast": 1, "already_voted": 23}
    check = checks.ballots(
        portal.database,
        election,
        key=KEY,
        told_voted=election.member_ids,
        close_at=election.voting_close_at,
    )
    assert check.problems == []
    assert (check.figures["ballots"], check.figures["voted"]) == (1, 1)


def test_many_members_voting_at_once_leave_as_many_ballots_as_roll_entries_marked_voted(portal):
    voters = 40
    election = _election(portal, voters=voters)
    stats = clients.Stats()

    def open_ballot(i: int) -> tuple[clients.Voter, str]:
        voter = clients.Voter(portal.urls, stats, start=i)
        csrf = voter.open_ballot(election.tokens[i])
        assert csrf is not None
        return voter, csrf

    def cast(i: int, prepared: tuple[clients.Voter, str]) -> str | None:
        voter, csrf = prepared
        choice = {election.field: str(election.choices[i % len(election.choices)])}
        with voter:
            return voter.cast(election.tokens[i], csrf, choice)

    outcomes = Counter(together(voters, open_ballot, cast))
    no_client_errors(stats)
    assert outcomes == {"cast": voters}
    check = checks.ballots(
        portal.database,
        election,
        key=KEY,
        told_voted=election.member_ids,
        close_at=election.voting_close_at,
    )
    assert check.problems == []
    assert (check.figures["ballots"], check.figures["voted"], check.figures["pending"]) == (voters, voters, 0)


def _door(portal: Portal, people: int) -> world.Door:
    with portal.database.session() as s:
        return world.door(s, people=people, now=datetime.now(UTC), key=KEY)


def test_one_badge_scanned_through_both_processes_at_once_is_admitted_once(portal):
    door = _door(portal, people=1)
    stats = clients.Stats()

    def scanner(i: int) -> clients.Scanner:
        return clients.Scanner(portal.urls, stats, start=i, token=door.token, door=f"Door {i % 4}")

    def scan(i: int, device: clients.Scanner) -> str | None:
        with device:
            return device.scan(door.codes[0], nonce=f"same-badge-{i}")

    outcomes = Counter(together(24, scanner, scan))
    no_client_errors(stats)
    assert outcomes == {"ok": 1, "already_checked_in": 23}
    check = checks.admissions(portal.database, door, told_admitted=door.registration_ids, answered_nonces=24)
    assert check.problems == []
    assert (check.figures["admitted"], check.figures["scans"]) == (1, 24)


def test_every_badge_scanned_at_two_doors_at_once_is_admitted_once(portal):
    people = 20
    door = _door(portal, people=people)
    stats = clients.Stats()

    def scanner(i: int) -> clients.Scanner:
        return clients.Scanner(portal.urls, stats, start=i, token=door.token, door=f"Door {i % 2}")

    def scan(i: int, device: clients.Scanner) -> str | None:
        with device:
            return device.scan(door.codes[i // 2], nonce=f"two-doors-{i}")

    outcomes = together(2 * people, scanner, scan)
    no_client_errors(stats)
    per_badge = [sorted(outcomes[2 * n : 2 * n + 2]) for n in range(people)]
    assert all(pair == ["already_checked_in", "ok"] for pair in per_badge)
    check = checks.admissions(
        portal.database, door, told_admitted=door.registration_ids, answered_nonces=2 * people
    )
    assert check.problems == []
    assert check.figures["admitted"] == people


def test_two_outbox_senders_deliver_each_email_exactly_once(portal):
    with portal.database.session() as s:
        recipients = world.outbox(s, count=100, now=datetime.now(UTC), prefix="outbox-race")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with portal.database.session(write=False) as s:
            waiting = s.scalar(
                sa.select(sa.func.count()).where(
                    OutboxEmail.to_addr.in_(recipients), OutboxEmail.status != "sent"
                )
            )
        if not waiting:
            break
        time.sleep(0.2)
    assert waiting == 0, f"{waiting} e-mails not sent within 30 s"
    received = Counter(
        rcpt for _sender, rcpts in list(portal.smtp.envelopes) for rcpt in rcpts if rcpt in set(recipients)
    )
    assert received == dict.fromkeys(recipients, 1)
    ids = Counter(m["Message-ID"] for m in list(portal.smtp.messages))
    assert [i for i, n in ids.items() if n > 1] == []


def test_the_first_server_runs_two_worker_processes_and_both_servers_are_still_up(portal):
    """So the races above ran across three processes: two workers behind one port, and a second server."""
    assert len(worker_processes(portal.servers[0])) == 2
    assert all(server.process.poll() is None for server in portal.servers)


def worker_processes(server: LiveServer) -> list[int]:
    """The uvicorn worker processes a `portal serve --workers N` supervisor has spawned."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    pids = [int(p) for p in children.read_text().split()]
    return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
