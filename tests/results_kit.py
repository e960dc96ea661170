"""Helpers for the results tests (tests/elections/test_results_*.py): an election built with the elections
kit, ballots cast through the voting service, the close, the count and the publication, each in its own
transaction as the requests would make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.accounts.models import Account
from portal.elections import results, trustees, voting
from portal.elections.models import RON, Contest, Election, Nomination

#: A post: (title, seats, method, RON on the ballot, candidates' surnames).
Post = tuple[str, int, str, bool, list[str]]


def choices(world: Any, ballot: dict[str, list[str]]) -> dict[int, list[int | str]]:
    """A ballot written by post title and candidates' surnames ("RON" for re-open nominations)."""
    return {
        world.contests[post]: [RON if name == "RON" else world.choice(post, name) for name in names]
        for post, names in ballot.items()
    }


def cast_all(
    database: Any, world: Any, ballots: list[dict[str, list[str]]], *, key: bytes, now: datetime
) -> list[str]:
    """Each ballot cast by the next voter; returns the trackers."""
    trackers = []
    for member_id, ballot in zip(world.voters, ballots, strict=False):
        with database.session() as session:
            trackers.append(
                voting.cast_ballot(
                    session,
                    election_id=world.election_id,
                    member_id=member_id,
                    selections=choices(world, ballot),
                    key=key,
                    now=now,
                )
            )
    return trackers


def close(database: Any, world: Any, *, clock: Any, key: bytes, links: Any) -> None:
    """Move the clock past the close, close voting as a request would, then open the ballot box with two
    trustees' shares (which records the fingerprint)."""
    with database.session() as session:
        close_at = session.get(Election, world.election_id).voting_close_at
    clock.now = close_at + timedelta(minutes=1)
    with database.session() as session:
        voting.bring_up_to_date(session, election_id=world.election_id, now=clock(), key=key, links=links)
    with database.session() as session:
        voting.open_ballot_box(
            session,
            actor=None,
            election_id=world.election_id,
            shares=[trustees.GivenShare(text=t) for t in world.share_texts()],
            key=key,
            now=clock(),
        )


def count(database: Any, officer: Account, world: Any, *, clock: Any, key: bytes) -> None:
    with database.session() as session:
        results.run_count(
            session,
            actor=session.get(Account, officer.id),
            election_id=world.election_id,
            now=clock(),
            key=key,
        )


def publish(database: Any, officer: Account, world: Any, *, clock: Any, key: bytes) -> None:
    with database.session() as session:
        results.publish_results(
            session,
            actor=session.get(Account, officer.id),
            election_id=world.election_id,
            now=clock(),
            key=key,
        )


def stand_again(database: Any, world: Any, *, post: str, surname: str, also: str) -> None:
    """The candidate `surname` of `post` also stands (accepted) for the post `also`."""
    with database.session() as session:
        first = session.get(Nomination, world.choice(post, surname))
        now = datetime(2026, 1, 1, tzinfo=UTC)
        second = Nomination(
            election_id=world.election_id,
            contest_id=world.contests[also],
            member_id=first.member_id,
            nominator_id=first.member_id,
            proposer_id=first.proposer_id,
            seconder_id=first.seconder_id,
            statement="Standing for this post too.",
            status="accepted",
            live=True,
            created_at=now,
            consent_at=now,
            proposer_confirmed_at=now,
            seconder_confirmed_at=now,
        )
        session.add(second)
        session.flush()
        world.candidates[also][surname] = second.id


def closed_election(
    database: Any,
    officer: Account,
    kit: Any,
    *,
    clock: Any,
    key: bytes,
    links: Any,
    posts: list[Post],
    ballots: list[dict[str, list[str]]],
    officer_posts: tuple[str, ...] = (),
    also: tuple[tuple[str, str, str], ...] = (),
    **setup: Any,
) -> Any:
    """An election with these posts (those named in `officer_posts` marked as officer posts; each (post,
    surname, other post) in `also` standing for the other post too), one voter per ballot, voted and closed."""
    world = kit.build_world(database, officer, now=clock(), posts=posts, voters=len(ballots), **setup)
    if officer_posts:
        with database.session() as session:
            for title in officer_posts:
                session.get(Contest, world.contests[title]).officer = True
    for post, surname, other in also:
        stand_again(database, world, post=post, surname=surname, also=other)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    cast_all(database, world, ballots, key=key, now=clock())
    close(database, world, clock=clock, key=key, links=links)
    return world
