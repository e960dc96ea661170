"""The results path on stored ballots: fingerprint, count, store, and the page's, CSV's and PDF's data.

Usage: ``python bench/bench_tally.py [--ballots N] [--postgres URL]`` (PORTAL_TEST_POSTGRES_URL is used when
``--postgres`` is not given). Each engine gets a fresh, migrated database holding one closed election with
three posts (one vote; approval for two seats; STV for three seats from eight candidates with RON) and N
ballots written straight into the ballots table (casting is `bench_voting.py`'s subject). Timed:

- the SHA-256 fingerprint of every ballot (recorded at the close, recomputed by `portal election verify`
  and before counting and publishing);
- `run_count`: fingerprint check, reading and counting every post in counting order, storing the records;
- reading the stored records for a page, and drawing the CSV, the PDF and the charts from them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import postgres_scratch
from sqlalchemy import insert

from portal import migrate
from portal.accounts.models import Account
from portal.audit import chain_key
from portal.db import Database, random_id
from portal.elections import results, results_export, service
from portal.elections.models import RON, Ballot, Contest, Election, Nomination, RollEntry
from portal.elections.secrecy import canonical, new_salt, tracker_for
from portal.members.models import Member

KEY = b"bench-secret-key-that-is-long-enough-0123456789"
NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
POSTS = [
    ("Chair", 1, "plurality", False, 3),
    ("Treasurer", 2, "approval", False, 4),
    ("Committee", 3, "stv", True, 8),
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


def build(database: Database, ballots: int) -> tuple[int, int]:
    """A closed, sealed election with `ballots` ballots; returns its id and the returning officer's id."""
    rng = random.Random(20270201)
    with database.session() as s:
        officer = Account(
            email="ro@example.org",
            name="Rita",
            roles="returning_officer",
            password_hash="!",  # noqa: S106 - not a hash: this account cannot log in
            created_at=NOW,
        )
        s.add(officer)
        election = Election(created_at=NOW, pool_closed=True, manual_reminders=0, tracker_public=False)
        service._apply(
            election,
            service.ElectionSetup(
                title="Bench election",
                nominations_open_at=NOW - timedelta(days=40),
                nominations_close_at=NOW - timedelta(days=30),
                withdrawal_deadline_at=NOW - timedelta(days=29),
                voting_open_at=NOW - timedelta(days=10),
                voting_close_at=NOW - timedelta(minutes=1),
            ),
        )
        election.roll_frozen_at = NOW - timedelta(days=10)
        s.add(election)
        s.flush()
        sponsor_a, sponsor_b = member("SPONSOR-A", "Sponsor"), member("SPONSOR-B", "Sponsor")
        s.add_all([sponsor_a, sponsor_b])
        candidates: dict[int, list[int | str]] = {}
        for position, (title, seats, method, ron, count) in enumerate(POSTS):
            contest = Contest(
                election_id=election.id, title=title, seats=seats, method=method, ron=ron, officer=False,
                position=position,
            )  # fmt: skip
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
            if ron:
                candidates[contest.id].append(RON)
        voters = [member(f"V{i:06d}") for i in range(ballots)]
        s.add_all(voters)
        s.flush()
        s.execute(
            insert(RollEntry),
            [
                {"election_id": election.id, "member_id": v.id, "has_voted": True, "late": False}
                for v in voters
            ],
        )
        chair, treasurer, committee = candidates
        rows = []
        for _ in range(ballots):
            ranking = rng.sample(candidates[committee], k=rng.randint(1, len(candidates[committee])))
            contents = canonical(
                {
                    chair: rng.sample(candidates[chair], k=1),
                    treasurer: rng.sample(candidates[treasurer], k=rng.randint(0, 2)),
                    committee: ranking,
                }
            )
            salt = new_salt()
            rows.append(
                {
                    "id": random_id(),
                    "election_id": election.id,
                    "tracker": tracker_for(salt, contents),
                    "salt": salt,
                    "contents": contents,
                }
            )
        s.execute(insert(Ballot), rows)
        election.roll_size = ballots
        s.flush()
        results.seal_ballot_box(s, election_id=election.id, now=NOW, key=KEY)
        return election.id, officer.id


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def run_engine(url: str, ballots: int) -> list[tuple[str, str, str]]:
    migrate.upgrade(url)
    database = Database(url, audit_key=chain_key(KEY))
    try:
        election_id, officer_id = build(database, ballots)

        def fingerprint() -> None:
            with database.session(write=False) as s:
                results.ballots_hash(s, election_id, key=KEY)

        def count() -> None:
            with database.session() as s:
                results.run_count(
                    s, actor=s.get(Account, officer_id), election_id=election_id, now=NOW, key=KEY
                )

        def page_data() -> None:
            with database.session(write=False) as s:
                posts = results.post_results(s, election_id)
                for post in posts:
                    results_export.chart(post)

        def downloads() -> None:
            with database.session(write=False) as s:
                election = s.get(Election, election_id)
                posts = results.post_results(s, election_id)
                results_export.results_csv(posts)
                results_export.results_pdf(
                    election,
                    posts,
                    results.turnout(s, election),
                    society="IPT UK",
                    stv_rule=results.stv_rule_label(election),
                    now=NOW,
                )

        size = f"{ballots:,} ballots"
        return [
            ("fingerprint (SHA-256 of every ballot)", size, f"{timed(fingerprint) * 1000:,.0f} ms"),
            ("run the count (check, count 3 posts, store)", size, f"{timed(count) * 1000:,.0f} ms"),
            ("recount (same seed)", size, f"{timed(count) * 1000:,.0f} ms"),
            ("results page data with charts", "3 posts", f"{timed(page_data) * 1000:,.1f} ms"),
            ("CSV and PDF downloads", "3 posts", f"{timed(downloads) * 1000:,.0f} ms"),
        ]
    finally:
        database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=5000)
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in run_engine(f"sqlite:///{tmp}/bench.db", args.ballots):
            rows.append(("SQLite", *row))
    if args.postgres:
        url, drop = postgres_scratch(args.postgres, "tally")
        try:
            for row in run_engine(url, args.ballots):
                rows.append(("PostgreSQL", *row))
        finally:
            drop()
    header = ("engine", "step", "size", "time")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
