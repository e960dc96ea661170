"""Casting a ballot, and the pending pool that keeps every ballot sealed until the trustees open it.

Casting is one transaction: the roll entry is marked voted by a conditional update that must touch exactly
one row (so a second attempt, from any tab, link or worker, finds nothing to update and is refused), and the
ballot, sealed in the request to the election's public key, goes into the pending pool. Nothing in the
database can open it: the private key exists only as the trustees' shares.

The clock closes voting (`close_voting` sets `pool_closed`: no more casts). The ballot box is opened only at
the close with the trustees' shares (`open_ballot_box`): the whole pool is unsealed in memory, shuffled once,
written to `ballots` in ONE transaction that also rewrites every roll entry of the election (so on
PostgreSQL every ballot row and every roll row carry that one transaction's id, not the casts') and empties
the pool; the ballots' fingerprint is recorded and the audit chain's head is e-mailed to the scrutineers.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import is_postgres, keep, random_id, rowcount
from portal.elections import trustees
from portal.elections.ballots import BallotContest, ballot_contests, check_selections
from portal.elections.errors import Code, ElectionError
from portal.elections.links import Links
from portal.elections.models import Ballot, BallotLink, Election, PendingBallot, RollEntry
from portal.elections.results import seal_ballot_box
from portal.elections.roll import freeze_roll, roll_entry
from portal.elections.secrecy import (
    Choice,
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
from portal.elections.service import get_election, is_eligible, mail_context
from portal.errors import Kind
from portal.mail.service import enqueue
from portal.members.models import Member
from portal.web.tokens import token_digest

#: The election's own columns: what a cast reads afresh under its lock.
ELECTION_COLUMNS = [attr.key for attr in inspect(Election).column_attrs]

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
            Code.BAD_LINK,
            "This ballot link is not valid. Check that you copied all of it, or log in to vote.",
            kind=Kind.NOT_FOUND,
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
    # Kept: the cast that follows in the same request looks the member up again.
    member = keep(session, session.get(Member, member_id))
    if member is None or not is_eligible(election, member, now=now):
        return "not_eligible"
    return "can_vote"


# --- casting --------------------------------------------------------------------------------------------------


def _election_for_cast(session: Session, election_id: int) -> Election:
    """On PostgreSQL a share lock on the election row: casts run side by side, but the close (which takes
    the row exclusively to set `pool_closed`) waits for casts in flight, and casts after it see it closed.
    Its columns are read afresh under the lock (the request loaded it before: a close may have committed
    since); its contests, loaded already, are kept."""
    election = session.get(Election, election_id)
    if election is None:
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    session.refresh(
        election,
        attribute_names=ELECTION_COLUMNS,
        with_for_update={"read": True} if is_postgres(session) else None,
    )
    return election


def _choice_key(choice: Choice) -> tuple[int, int, str]:
    return (1, 0, str(choice)) if isinstance(choice, str) else (0, choice, "")


def _in_canonical_order(
    contests: list[BallotContest], clean: dict[int, list[Choice]]
) -> dict[int, list[Choice]]:
    """Plurality and approval choices sorted (the order a voter ticked them in, or the ballot's shuffled
    order, would narrow who cast the ballot); a ranking keeps its order, which is the vote."""
    kinds = {bc.id: bc.kind for bc in contests}
    return {
        contest_id: (list(choices) if kinds.get(contest_id) == "rank" else sorted(choices, key=_choice_key))
        for contest_id, choices in clean.items()
    }


def cast_ballot(
    session: Session,
    *,
    election_id: int,
    member_id: int,
    selections: Selections,
    key: bytes,
    now: datetime,
    contests: list[BallotContest] | None = None,
) -> str:
    """Cast one member's ballot; returns the tracker, formatted, to show once on screen.

    `contests`: the ballot as the request read it, if it did. The ballot cannot change while voting is open
    (`Election.locked`: no nomination is accepted, rejected or withdrawn once it opens), so the contests read
    before the lock are the ones under it, and are not read again.

    Raises ElectionError: not_open, closed, invalid_ballot, already_voted, not_on_roll, not_eligible.
    The caller commits; on any error it must roll back (the roll mark and the ballot go together or not at all).
    """
    election = _election_for_cast(session, election_id)
    state = election.state(now)
    if state == "closed" or election.pool_closed:
        raise ElectionError(Code.CLOSED, "Voting has closed.", kind=Kind.CONFLICT)
    if state != "voting" or election.roll_frozen_at is None:
        raise ElectionError(Code.NOT_OPEN, "Voting is not open yet.", kind=Kind.CONFLICT)
    if contests is None:
        contests = ballot_contests(session, election, key=key)
    contents = canonical(_in_canonical_order(contests, check_selections(contests, selections)))
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
    if rowcount(marked) != 1:
        if roll_entry(session, election_id=election.id, member_id=member_id) is None:
            raise ElectionError(
                Code.NOT_ON_ROLL, "You are not on the roll for this election.", kind=Kind.FORBIDDEN
            )
        raise ElectionError(
            Code.ALREADY_VOTED, "You have already voted in this election.", kind=Kind.CONFLICT
        )
    member = session.get(Member, member_id)
    if member is None or not is_eligible(election, member, now=now):
        raise ElectionError(
            Code.NOT_ELIGIBLE,
            "Your membership is not in good standing, so you cannot vote.",
            kind=Kind.FORBIDDEN,
        )
    salt = new_salt()
    tracker = tracker_for(salt, contents)
    if election.public_key is None:
        raise ElectionError(Code.NOT_OPEN, "Voting is not open yet.", kind=Kind.CONFLICT)
    sealed = seal(
        bytes.fromhex(election.public_key),
        election.id,
        SealedContent(tracker=tracker, salt=salt, contents=contents),
    )
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


def close_voting(session: Session, *, election_id: int, now: datetime) -> bool:
    """After the close time: mark the pool closed (waiting for casts in flight on PostgreSQL), so that no
    ballot can be added. The ballots stay sealed until the trustees open the box. Returns whether this
    call closed it."""
    election = get_election(session, election_id)
    if now < election.voting_close_at:
        return False
    closed = session.execute(
        update(Election)
        .where(Election.id == election_id, Election.pool_closed.is_(False))
        .values(pool_closed=True)
        .execution_options(synchronize_session=False)
    )
    session.refresh(election)
    return rowcount(closed) == 1


def needs_update(election: Election, now: datetime) -> bool:
    """Whether the clock has moved the election past a step nobody has taken yet (the freeze, once the
    trustees are ready; or closing voting)."""
    if election.roll_frozen_at is None:
        return (
            election.trustees_ready_at is not None
            and election.voting_open_at <= now < election.voting_close_at
        )
    return now >= election.voting_close_at and not election.pool_closed


def bring_up_to_date(session: Session, *, election_id: int, now: datetime, key: bytes, links: Links) -> None:
    """Freeze the roll once voting has opened (if every trustee has checked their share); close voting once
    its time has passed. Both are idempotent, so every request, the CLI and the periodic task may call this.
    Opening the ballot box is not the clock's: it needs the trustees."""
    election = get_election(session, election_id)
    if election.roll_frozen_at is None and election.voting_open_at <= now < election.voting_close_at:
        freeze_roll(session, election_id=election_id, now=now, key=key, links=links)
    elif now >= election.voting_close_at and not election.pool_closed:
        close_voting(session, election_id=election_id, now=now)


def awaiting_shares(election: Election, now: datetime) -> bool:
    """Voting has closed and the ballot box waits for the trustees' shares."""
    return now >= election.voting_close_at and election.ballots_hash is None


def open_ballot_box(
    session: Session,
    *,
    actor: Account | None,
    election_id: int,
    shares: Sequence[trustees.GivenShare],
    key: bytes,
    now: datetime,
) -> int:
    """The close, with k trustees' shares: rebuild the election key in memory, open every sealed ballot,
    shuffle them once, write them to `ballots`, rewrite every roll entry and empty the pool, all in the
    caller's one transaction; record the keyed fingerprint and e-mail the audit chain's head to the
    scrutineers. Returns how many ballots were opened.

    Raises ElectionError: not_closed, opened, and those of `trustees.rebuild_key` (nothing changes)."""
    election = get_election(session, election_id, lock=True)
    if now < election.voting_close_at:
        raise ElectionError(
            Code.NOT_CLOSED,
            "Voting has not closed yet: the ballot box opens after the close.",
            kind=Kind.CONFLICT,
        )
    if election.ballots_hash is not None:
        raise ElectionError(Code.OPENED, "The ballot box has already been opened.", kind=Kind.CONFLICT)
    private = trustees.rebuild_key(session, election=election, given=shares)
    close_voting(session, election_id=election.id, now=now)
    rows = session.execute(
        select(PendingBallot.id, PendingBallot.sealed).where(PendingBallot.election_id == election.id)
    ).all()
    ballots = []
    for _pool_id, sealed in rows:
        content = unseal(bytes(private), election.id, sealed)
        ballots.append(
            {
                "id": random_id(),
                "election_id": election.id,
                "tracker": content.tracker,
                "salt": content.salt,
                "contents": content.contents,
            }
        )
    for i in range(len(private)):
        private[i] = 0
    del private
    secrets.SystemRandom().shuffle(ballots)
    if ballots:
        session.execute(insert(Ballot), ballots)
    # Every roll row gets a new version written by this transaction: none keeps its cast's xmin.
    session.execute(
        update(RollEntry)
        .where(RollEntry.election_id == election.id)
        .values(has_voted=RollEntry.has_voted)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(PendingBallot)
        .where(PendingBallot.election_id == election.id)
        .execution_options(synchronize_session=False)
    )
    seal_ballot_box(session, election_id=election.id, now=now, key=key, actor=actor)
    _send_chain_head(session, election=election, now=now)
    session.refresh(election)
    return len(ballots)


def _send_chain_head(session: Session, *, election: Election, now: datetime) -> None:
    """Each scrutineer gets the audit chain's head as it stands at the close: a later rewrite of the log
    cannot match what they were sent."""
    head = audit.chain_head(session)
    for account in session.scalars(select(Account).where(Account.is_active.is_(True)).order_by(Account.id)):
        if "scrutineer" in account.role_set:
            enqueue(
                session,
                to=account.email,
                template="elections/chain_head",
                context=mail_context(
                    session, election, account=account, head=head, ballots=election.ballots_total
                ),
                now=now,
            )


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
