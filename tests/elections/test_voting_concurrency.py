"""One member, one vote, held by the database under real concurrency: threads with their own sessions,
released together by a barrier, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from portal.elections import trustees, voting
from portal.elections.errors import ElectionError
from portal.elections.models import RollEntry


def _run_together(count: int, work) -> Counter:
    barrier = threading.Barrier(count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = work(i)
        except ElectionError as exc:
            result = exc.code
        except Exception as exc:  # anything else is a failure the assertions below will show
            result = f"{type(exc).__name__}: {exc}"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _cast(database, world, member_id, key, now) -> str:
    chair = world.contests["Chair"]
    with database.session() as session:
        voting.cast_ballot(
            session,
            election_id=world.election_id,
            member_id=member_id,
            selections={chair: [world.choice("Chair", "Adams")]},
            key=key,
            now=now,
        )
    return "cast"


def _close_and_count(database, world, key, now) -> tuple[int, int, int]:
    with database.session() as session:
        voting.open_ballot_box(
            session,
            actor=None,
            election_id=world.election_id,
            shares=[trustees.GivenShare(text=t) for t in world.share_texts()],
            key=key,
            now=now + timedelta(days=8),
        )
    with database.session() as session:
        voted = session.scalar(
            select(func.count()).where(
                RollEntry.election_id == world.election_id, RollEntry.has_voted.is_(True)
            )
        )
        return (
            voting.ballots_cast(session, world.election_id),
            voting.pool_size(session, world.election_id),
            voted,
        )


def test_fifty_concurrent_casts_by_one_member_leave_one_ballot(database, officer, clock, links, key, kit):
    world = kit.build_world(database, officer, now=clock(), voters=1)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    member_id = world.voters[0]
    outcomes = _run_together(50, lambda _i: _cast(database, world, member_id, key, clock()))
    assert outcomes == Counter({"cast": 1, "already_voted": 49})
    assert _close_and_count(database, world, key, clock()) == (1, 0, 1)


def test_five_hundred_members_casting_at_once_leave_five_hundred_ballots(
    database, officer, clock, links, key, kit
):
    world = kit.build_world(database, officer, now=clock(), voters=500)
    kit.open_world(database, world, now=clock(), links=links, key=key)
    outcomes = _run_together(500, lambda i: _cast(database, world, world.voters[i], key, clock()))
    assert outcomes == Counter({"cast": 500})
    ballots, pool, voted = _close_and_count(database, world, key, clock())
    assert (ballots, pool) == (500, 0)
    assert voted == 500
