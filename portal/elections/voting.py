"""Casting a ballot, and the pending pool that keeps the order of casting out of the ballots table.

Casting is one transaction: the roll entry is marked voted by a conditional update that must touch exactly
one row (so a second attempt, from any tab, link or worker, finds nothing to update and is refused), and the
ballot, sealed, goes into the pending pool. The casting transaction never writes the ballots table, so
neither its row order nor a PostgreSQL transaction id can tie a ballot to the roll entry marked with it.

The pool is emptied into `ballots` in shuffled batches: after a cast, in a separate transaction, when it
holds at least `POOL_BATCH` ballots (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two workers never empty the
same rows; SQLite has one writer at a time), and always at the close, when `pool_closed` is set first so
that no ballot can slip in afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from portal.db import Database, is_postgres, random_id
from portal.elections.ballots import BallotContest, ballot_contests, check_selections
from portal.elections.errors import ElectionError
from portal.elections.links import Links
from portal.elections.models import Ballot, BallotLink, Election, PendingBallot, RollEntry
from portal.elections.results import seal_ballot_box
from portal.elections.roll import freeze_roll, roll_entry
from portal.elections.secrecy import (
    SealedContent,
    Selections,
    canonical,
    format_tracker,
    new_salt,
    parse_contents,
    seal,
    tracker_for,
    unseal,
)
from portal.elections.service import get_election, is_eligible
from portal.members.models import Member
from portal.web.tokens import token_digest

#: The pool is emptied once it holds this many ballots: each ballot hides among at least this many others.
POOL_BATCH = 25


def _shuffler(rng: random.Random | None) -> random.Random:
    return rng if rng is not None else random.SystemRandom()


# --- who is voting --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    election_id: int
    member_id: int
    #: Set when the ballot was opened with a personal link rather than a login.
    token: str | None = None


def voter_from_link(session: Session, *, token: str, key: bytes) -> Voter:
    """The member and election a personal ballot link belongs to (it opens nothing else)."""
    row = session.scalar(
        select(BallotLink).where(BallotLink.token_digest == token_digest(key, token, purpose="ballot"))
    )
    if row is None:
        raise ElectionError(
            "bad_link",
            "This ballot link is not valid. Check that you copied all of it, or log in to vote.",
            status_code=404,
        )
    return Voter(election_id=row.election_id, member_id=row.member_id, token=token)


def voter_status(session: Session, *, election: Election, member_id: int, now: datetime) -> str:
    """ "not_open", "closed", "not_on_roll", "not_eligible", "voted" or "can_vote"."""
    state = election.state(now)
    if state in ("draft", "nominations", "between") or election.roll_frozen_at is None:
        return "closed" if state == "closed" else "not_open"
    entry = roll_entry(session, election_id=election.id, member_id=member_id)
    if entry is not None and entry.has_voted:
        return "voted"
    if state == "closed" or election.pool_closed:
        return "closed"
    if entry is None:
        return "not_on_roll"
    member = session.get(Member, member_id)
    if member is None or not is_eligible(election, member, now=now):
        return "not_eligible"
    return "can_vote"


# --- casting --------------------------------------------------------------------------------------------------


def _election_for_cast(session: Session, election_id: int) -> Election:
    """On PostgreSQL a share lock on the election row: casts run side by side, but the close (which takes
    the row exclusively to set `pool_closed`) waits for casts in flight, and casts after it see it closed."""
    query = select(Election).where(Election.id == election_id)
    if is_postgres(session):
        query = query.with_for_update(read=True)
    election = session.scalar(query)
    if election is None:
        raise ElectionError("not_found", "There is no such election.", status_code=404)
    return election


def cast_ballot(
    session: Session, *, election_id: int, member_id: int, selections: Selections, key: bytes, now: datetime
) -> str:
    """Cast one member's ballot; returns the tracker, formatted, to show once on screen.

    Raises ElectionError: not_open, closed, invalid_ballot, already_voted, not_on_roll, not_eligible.
    The caller commits; on any error it must roll back (the roll mark and the ballot go together or not at all).
    """
    election = _election_for_cast(session, election_id)
    state = election.state(now)
    if state == "closed" or election.pool_closed:
        raise ElectionError("closed", "Voting has closed.", status_code=409)
    if state != "voting" or election.roll_frozen_at is None:
        raise ElectionError("not_open", "Voting is not open yet.", status_code=409)
    clean = check_selections(ballot_contests(session, election, key=key), selections)
    contents = canonical(clean)
    marked = session.execute(
        update(RollEntry)
        .where(
            RollEntry.election_id == election.id,
            RollEntry.member_id == member_id,
            RollEntry.has_voted.is_(False),
        )
        .values(has_voted=True)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:
        if roll_entry(session, election_id=election.id, member_id=member_id) is None:
            raise ElectionError("not_on_roll", "You are not on the roll for this election.", status_code=403)
        raise ElectionError("already_voted", "You have already voted in this election.", status_code=409)
    member = session.get(Member, member_id)
    if member is None or not is_eligible(election, member, now=now):
        raise ElectionError(
            "not_eligible", "Your membership is not in good standing, so you cannot vote.", status_code=403
        )
    salt = new_salt()
    tracker = tracker_for(salt, contents)
    sealed = seal(key, election.id, SealedContent(tracker=tracker, salt=salt, contents=contents))
    session.execute(insert(PendingBallot).values(id=random_id(), election_id=election.id, sealed=sealed))
    return format_tracker(tracker)


# --- the pool -------------------------------------------------------------------------------------------------


def pool_size(session: Session, election_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(PendingBallot).where(PendingBallot.election_id == election_id)
        )
        or 0
    )


def empty_pool(
    session: Session,
    *,
    election_id: int,
    key: bytes,
    rng: random.Random | None = None,
    minimum: int = POOL_BATCH,
) -> int:
    """Move the pool's ballots, unsealed and shuffled, into `ballots` when there are at least `minimum`;
    returns how many moved. The rows moved are deleted from the pool in the same transaction."""
    query = select(PendingBallot.id, PendingBallot.sealed).where(PendingBallot.election_id == election_id)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows or len(rows) < minimum:
        return 0
    ballots = []
    for _pool_id, sealed in rows:
        content = unseal(key, election_id, sealed)
        ballots.append(
            {
                "id": random_id(),
                "election_id": election_id,
                "tracker": content.tracker,
                "salt": content.salt,
                "contents": content.contents,
            }
        )
    _shuffler(rng).shuffle(ballots)
    session.execute(insert(Ballot), ballots)
    session.execute(
        delete(PendingBallot)
        .where(PendingBallot.id.in_([pool_id for pool_id, _ in rows]))
        .execution_options(synchronize_session=False)
    )
    return len(ballots)


def after_cast(database: Database, *, election_id: int, key: bytes, rng: random.Random | None = None) -> int:
    """Run after a cast has committed, in its own transaction: empty the pool if it is full enough."""
    with database.session(write=False) as session:
        if pool_size(session, election_id) < POOL_BATCH:
            return 0
    with database.session(write=True) as session:
        return empty_pool(session, election_id=election_id, key=key, rng=rng)


def close_pool(
    session: Session, *, election_id: int, key: bytes, now: datetime, rng: random.Random | None = None
) -> int:
    """At the close: mark the pool closed (waiting for casts in flight on PostgreSQL), then empty all of it;
    once it is empty, record the ballots' fingerprint (tamper evidence, once)."""
    election = get_election(session, election_id)
    if now < election.voting_close_at:
        return 0
    session.execute(
        update(Election)
        .where(Election.id == election_id, Election.pool_closed.is_(False))
        .values(pool_closed=True)
        .execution_options(synchronize_session=False)
    )
    moved = empty_pool(session, election_id=election_id, key=key, rng=rng, minimum=1)
    seal_ballot_box(session, election_id=election_id, now=now)
    session.refresh(election)
    return moved


def needs_update(election: Election, now: datetime) -> bool:
    """Whether the clock has moved the election past a step nobody has taken yet (freeze, or final empty and
    the ballots' fingerprint)."""
    if election.roll_frozen_at is None:
        return election.voting_open_at <= now < election.voting_close_at
    return now >= election.voting_close_at and (not election.pool_closed or election.ballots_hash is None)


def bring_up_to_date(
    session: Session,
    *,
    election_id: int,
    now: datetime,
    key: bytes,
    links: Links,
    rng: random.Random | None = None,
) -> None:
    """Freeze the roll once voting has opened; close and empty the pool once voting has closed. Both are
    idempotent, so every request, the CLI and the periodic task may call this."""
    election = get_election(session, election_id)
    if election.roll_frozen_at is None and election.voting_open_at <= now < election.voting_close_at:
        freeze_roll(session, election_id=election_id, now=now, key=key, links=links)
    elif now >= election.voting_close_at and (
        not election.pool_closed or election.ballots_hash is None or pool_size(session, election_id)
    ):
        close_pool(session, election_id=election_id, key=key, now=now, rng=rng)


# --- the ballot trackers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackedBallot:
    tracker: str
    salt: str
    contents: str
    #: For each contest on the ballot: the names chosen, in order.
    choices: list[tuple[BallotContest, list[str]]]


def tracked_ballots(
    session: Session, *, election: Election, key: bytes, tracker: str | None = None
) -> list[TrackedBallot]:
    """Every ballot (or those with one tracker), by tracker, with its choices named, so each voter can find
    theirs and anyone can recount."""
    contests = ballot_contests(session, election, key=key)
    query = select(Ballot).where(Ballot.election_id == election.id)
    if tracker:
        query = query.where(Ballot.tracker == tracker)
    result = []
    for ballot in session.scalars(query.order_by(Ballot.tracker, Ballot.id)):
        chosen = parse_contents(ballot.contents)
        result.append(
            TrackedBallot(
                tracker=format_tracker(ballot.tracker),
                salt=ballot.salt,
                contents=ballot.contents,
                choices=[(bc, [bc.label_of(c) for c in chosen.get(bc.id, [])]) for bc in contests],
            )
        )
    return result


def ballots_cast(session: Session, election_id: int) -> int:
    return (
        session.scalar(select(func.count()).select_from(Ballot).where(Ballot.election_id == election_id)) or 0
    )
