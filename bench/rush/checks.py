"""The guarantees, read back from the database after a rush and set against what the clients were told.

Each check returns the figures it counted and the problems it found (an empty list when every guarantee
holds). "Lost" is what a client was told had happened and the database does not hold; "unconfirmed" is what
the database holds and the client never heard of (it gave up before an answer came): both are 0 after a
run whose clients retried until answered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from portal.checkin.models import CheckInScan
from portal.db import Database
from portal.elections import trustees, voting
from portal.elections.models import Ballot, RollEntry
from portal.events.models import Event, Registration, TicketType
from portal.mail.models import OutboxEmail

from .world import BookingEvent, Door, Election


@dataclass
class Check:
    figures: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def bookings(database: Database, event: BookingEvent, *, attempts: int, told_booked: Iterable[str]) -> Check:
    """Places: confirmed ≤ capacity and = min(capacity, attempts); one registration per person (the form's
    key); the counters agree with the rows; every booking has its one e-mail (it is written in the booking's
    transaction, so a half-done booking would show here)."""
    check = Check()
    with database.session(write=False) as s:
        rows = s.execute(
            select(Registration.email, Registration.status).where(Registration.event_id == event.event_id)
        ).all()
        taken = s.scalar(select(Event.places_taken).where(Event.id == event.event_id))
        ticket_taken = s.scalar(select(TicketType.taken).where(TicketType.id == event.ticket_id))
        emails = [r.email for r in rows]
        mail = Counter(
            s.scalars(
                select(OutboxEmail.to_addr).where(
                    OutboxEmail.kind.in_(("events/confirmation", "events/waitlisted")),
                    OutboxEmail.to_addr.in_(emails or [""]),
                )
            )
        )
    statuses = Counter(r.status for r in rows)
    confirmed = statuses["confirmed"]
    told = set(told_booked)
    registered = set(emails)
    lost = len(told - registered)
    check.figures = {
        "attempts": attempts,
        "registrations": len(rows),
        "confirmed": confirmed,
        "waitlisted": statuses["waitlisted"],
        "lost": lost,
        "unconfirmed": len(registered - told),
    }
    check.expect(confirmed <= event.capacity, f"{confirmed} confirmed at {event.capacity} places")
    check.expect(
        confirmed == min(event.capacity, attempts),
        f"{confirmed} confirmed, expected min(capacity, attempts) = {min(event.capacity, attempts)}",
    )
    check.expect(len(emails) == len(registered), f"{len(emails) - len(registered)} people booked twice")
    check.expect(set(statuses) <= {"confirmed", "waitlisted"}, f"unexpected statuses {dict(statuses)}")
    check.expect(taken == confirmed, f"the event's counter says {taken} places taken, {confirmed} confirmed")
    check.expect(
        ticket_taken == confirmed, f"the ticket's counter says {ticket_taken}, {confirmed} confirmed"
    )
    check.expect(
        all(mail[e] == 1 for e in registered),
        f"{sum(1 for e in registered if mail[e] != 1)} bookings without exactly one e-mail",
    )
    check.expect(lost == 0, f"{lost} bookings the delegate was told of are missing")
    return check


def ballots(
    database: Database, election: Election, *, key: bytes, told_voted: Iterable[int], close_at: datetime
) -> Check:
    """Opens the ballot box as the close does (two trustees' shares), then: ballots = roll entries marked
    voted, the pool is empty, and every member told their vote was cast (a receipt, or "already voted" on a
    retry) is marked on the roll."""
    check = Check()
    with database.session() as s:
        voting.open_ballot_box(
            s,
            actor=None,
            election_id=election.election_id,
            shares=[trustees.GivenShare(text=t) for t in election.shares[:2]],
            key=key,
            now=close_at,
        )
    with database.session(write=False) as s:
        voted_members = set(
            s.scalars(
                select(RollEntry.member_id).where(
                    RollEntry.election_id == election.election_id, RollEntry.has_voted.is_(True)
                )
            )
        )
        cast = s.scalar(select(func.count()).where(Ballot.election_id == election.election_id)) or 0
        pending = voting.pool_size(s, election.election_id)
    told = set(told_voted)
    lost = len(told - voted_members)
    check.figures = {
        "voted": len(voted_members),
        "ballots": cast,
        "pending": pending,
        "lost": lost,
        "unconfirmed": len(voted_members - told),
    }
    check.expect(
        cast == len(voted_members), f"{cast} ballots for {len(voted_members)} roll entries marked voted"
    )
    check.expect(pending == 0, f"{pending} ballots left in the pool after the close")
    check.expect(lost == 0, f"{lost} votes the member was told of are missing")
    return check


def admissions(
    database: Database, door: Door, *, told_admitted: Iterable[int], answered_nonces: int
) -> Check:
    """Admissions = distinct badges admitted, one per registration; every `ok` a scanner showed is an
    admission in the database; every answered scan is recorded once (a retried nonce is one scan)."""
    check = Check()
    with database.session(write=False) as s:
        admitted = list(
            s.scalars(
                select(CheckInScan.registration_id).where(
                    CheckInScan.event_id == door.event_id,
                    CheckInScan.result == "ok",
                    CheckInScan.workshop_id.is_(None),
                    CheckInScan.undone_at.is_(None),
                )
            )
        )
        scans = s.scalar(select(func.count()).where(CheckInScan.event_id == door.event_id)) or 0
    told = set(told_admitted)
    distinct = set(admitted)
    lost = len(told - distinct)
    check.figures = {
        "scans": scans,
        "admitted": len(admitted),
        "lost": lost,
        "unconfirmed": len(distinct - told),
    }
    check.expect(len(admitted) == len(distinct), f"{len(admitted) - len(distinct)} people admitted twice")
    check.expect(distinct <= set(door.registration_ids), "an admission for a booking that is not on the list")
    check.expect(lost == 0, f"{lost} admissions shown green at the door are missing")
    check.expect(scans >= answered_nonces, f"{answered_nonces} scans answered but {scans} recorded")
    return check
