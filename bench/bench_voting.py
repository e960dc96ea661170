"""Ballots cast per second at concurrency 8, on SQLite and, if given, PostgreSQL.

Usage: ``python bench/bench_voting.py [--voters N] [--threads 8] [--postgres URL]`` (PORTAL_TEST_POSTGRES_URL
is used when ``--postgres`` is not given). Each engine gets a fresh, migrated database. The election has
three contests (one vote, approval for two seats, a ranked contest with RON), so each cast validates a
realistic ballot. A cast is what the portal does for one vote: one transaction that marks the roll entry
with a conditional update and adds the ballot, sealed to the election's public key (an ephemeral X25519
exchange, HKDF and AES-GCM), to the pool, which nothing opens before the close.

Also timed: freezing the roll (one ballot-link e-mail per member) and the close, where two trustees' shares
rebuild the key and the whole pool is opened, shuffled and written in one transaction.
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

from scratch import postgres_scratch
from starlette.routing import Router
from trustee_kit import make_trustees, open_box

from portal import migrate
from portal.app import build_routes
from portal.audit import chain_key
from portal.db import Database
from portal.elections import roll, service, voting
from portal.elections.links import Links
from portal.elections.models import RON, Contest, Election, Nomination
from portal.members.models import Member

KEY = b"bench-secret-key-that-is-long-enough-0123456789"
NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
POSTS = [
    ("Chair", 1, "plurality", False, 3),
    ("Treasurer", 2, "approval", False, 4),
    ("Committee", 3, "stv", True, 6),
]


def member(number: str, first: str = "Voter") -> Member:
    then = datetime(2026, 1, 1, tzinfo=UTC)
    return Member(
        membership_number=number,
        email=f"{number.lower()}@example.org",
        first_name=first,
        last_name=number,
        category="basic",
        accreditation="none",
        status="active",
        created_at=then,
        updated_at=then,
    )


def build(database: Database, voters: int) -> tuple[int, dict[int, list[int]], list[int]]:
    """An election open for voting: its contests, their candidates' nomination ids, and the voters' ids."""
    with database.session() as s:
        election = Election(created_at=NOW, pool_closed=False, manual_reminders=0, tracker_public=False)
        service._apply(
            election,
            service.ElectionSetup(
                title="Bench election",
                nominations_open_at=NOW - timedelta(days=30),
                nominations_close_at=NOW - timedelta(days=20),
                withdrawal_deadline_at=NOW - timedelta(days=19),
                voting_open_at=NOW - timedelta(minutes=1),
                voting_close_at=NOW + timedelta(days=7),
            ),
        )
        s.add(election)
        s.flush()
        candidates: dict[int, list[int]] = {}
        sponsor_a, sponsor_b = member("SPONSOR-A", "Sponsor"), member("SPONSOR-B", "Sponsor")
        s.add_all([sponsor_a, sponsor_b])
        for position, (title, seats, method, ron, count) in enumerate(POSTS):
            contest = Contest(
                election_id=election.id,
                title=title,
                seats=seats,
                method=method,
                ron=ron,
                officer=False,
                position=position,
            )
            s.add(contest)
            s.flush()
            candidates[contest.id] = []
            for i in range(count):
                person = member(f"CAND-{contest.id}-{i}", "Candidate")
                s.add(person)
                s.flush()
                nomination = Nomination(
                    election_id=election.id, contest_id=contest.id, member_id=person.id, nominator_id=person.id,
                    proposer_id=sponsor_a.id, seconder_id=sponsor_b.id, statement="", status="accepted", live=True,
                    created_at=NOW, consent_at=NOW, proposer_confirmed_at=NOW, seconder_confirmed_at=NOW,
                )  # fmt: skip
                s.add(nomination)
                s.flush()
                candidates[contest.id].append(nomination.id)
        people = [member(f"V{i:06d}") for i in range(voters)]
        s.add_all(people)
        s.flush()
        return election.id, candidates, [p.id for p in people]


def selections(candidates: dict[int, list[int]], i: int) -> dict[int, list[int | str]]:
    chair, treasurer, committee = candidates
    ranking: list[int | str] = [*candidates[committee][i % 6 :], *candidates[committee][: i % 6], RON]
    return {
        chair: [candidates[chair][i % 3]],
        treasurer: [candidates[treasurer][i % 4], candidates[treasurer][(i + 1) % 4]],
        committee: ranking[: 1 + i % 7],
    }


def run_engine(url: str, voters: int, threads: int) -> list[tuple[str, str, str]]:
    migrate.upgrade(url)
    database = Database(url, audit_key=chain_key(KEY))
    links = Links("https://portal.example.org", Router(routes=build_routes()).url_path_for)
    try:
        election_id, candidates, people = build(database, voters)
        shares = make_trustees(database, election_id, key=KEY, now=NOW)
        started = time.perf_counter()
        with database.session() as s:
            roll.freeze_roll(s, election_id=election_id, now=NOW, key=KEY, links=links)
        freeze = time.perf_counter() - started

        latencies: list[float] = []
        lock = threading.Lock()
        queue = list(enumerate(people))
        barrier = threading.Barrier(threads)

        def worker() -> None:
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    i, member_id = queue.pop()
                t0 = time.perf_counter()
                with database.session() as s:
                    voting.cast_ballot(
                        s,
                        election_id=election_id,
                        member_id=member_id,
                        selections=selections(candidates, i),
                        key=KEY,
                        now=NOW,
                    )
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        started = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        wall = time.perf_counter() - started

        started = time.perf_counter()
        left = open_box(database, election_id, shares, key=KEY, now=NOW + timedelta(days=8))
        close = time.perf_counter() - started
        with database.session() as s:
            stored = voting.ballots_cast(s, election_id)
        assert stored == voters, (stored, voters)
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        return [
            (
                "freeze roll + ballot-link e-mails",
                f"{voters + 2 + sum(len(c) for c in candidates.values()):,} members",
                f"{freeze:.2f} s",
            ),
            (f"cast at concurrency {threads}", f"{voters:,} ballots", f"{voters / wall:,.0f} ballots/s"),
            (
                "  latency of one cast (p50 / p95)",
                "",
                f"{statistics.median(latencies) * 1000:.1f} / {p95 * 1000:.1f} ms",
            ),
            ("open the ballot box with two shares", f"{left} ballots", f"{close * 1000:.0f} ms"),
        ]
    finally:
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    results: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in run_engine(f"sqlite:///{tmp}/bench.db", args.voters, args.threads):
            results.append(("SQLite", *row))
    if args.postgres:
        url, drop = postgres_scratch(args.postgres, "voting")
        try:
            for row in run_engine(url, args.voters, args.threads):
                results.append(("PostgreSQL", *row))
        finally:
            drop()
    widths = [max(len(r[i]) for r in [*results, ("engine", "step", "size", "result")]) for i in range(4)]
    header = ("engine", "step", "size", "result")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in results:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
