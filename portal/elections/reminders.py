"""Reminders to members who have not voted, each with a fresh ballot link, and the periodic housekeeping
that also freezes rolls and closes pools when no request has done so.

A reminder row per (election, member, round) with a unique constraint: a round reaches each member once,
even when the CLI and two app workers run it at the same moment. Older links stay valid (the roll decides
whether a member can still cast), so a fresh link never strands a member holding an earlier e-mail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import Database
from portal.elections.errors import Code, ElectionError
from portal.elections.links import Links
from portal.elections.models import Election, Reminder, RollEntry
from portal.elections.roll import send_ballot_link
from portal.elections.service import get_election, is_eligible
from portal.elections.voting import bring_up_to_date, needs_update
from portal.errors import Kind
from portal.members.models import Member

log = logging.getLogger("portal.elections")


def due_round(election: Election, now: datetime) -> str | None:
    """The latest scheduled round due at `now` ("3d", "1d" …), or None. A round whose time fell before voting
    opened, or before the roll was frozen and the ballot links went out, is skipped (the opening e-mail did its job), and only the latest due round is sent, so a task
    that was not running for a while sends one reminder, not several at once."""
    if election.roll_frozen_at is None or not election.voting_open_at <= now < election.voting_close_at:
        return None
    opened = max(election.voting_open_at, election.roll_frozen_at)
    due = None
    for days in election.reminder_day_list:  # largest first
        at = election.voting_close_at - timedelta(days=days)
        if opened <= at <= now:
            due = f"{days}d"
    return due


def _send_round(
    session: Session, *, election: Election, round_name: str, now: datetime, key: bytes, links: Links
) -> int:
    rows = session.execute(
        select(Member)
        .join(RollEntry, RollEntry.member_id == Member.id)
        .where(RollEntry.election_id == election.id, RollEntry.has_voted.is_(False))
        .order_by(Member.membership_number)
    ).scalars()
    sent = 0
    for member in rows.all():
        if not member.email or not is_eligible(election, member, now=now):
            continue
        try:
            with session.begin_nested():
                session.add(
                    Reminder(election_id=election.id, member_id=member.id, round=round_name, sent_at=now)
                )
                session.flush()
        except IntegrityError:
            continue  # this round already reached this member
        send_ballot_link(
            session,
            election=election,
            member=member,
            now=now,
            key=key,
            links=links,
            template="elections/reminder",
        )
        sent += 1
    return sent


def send_due_reminders(
    session: Session, *, now: datetime, key: bytes, links: Links, election_id: int | None = None
) -> int:
    """Send every due scheduled reminder (of one election, or of all in voting); returns how many were sent."""
    query = select(Election).where(
        Election.roll_frozen_at.is_not(None), Election.voting_open_at <= now, Election.voting_close_at > now
    )
    if election_id is not None:
        query = query.where(Election.id == election_id)
    sent = 0
    for election in session.scalars(query).all():
        round_name = due_round(election, now)
        if round_name:
            sent += _send_round(
                session, election=election, round_name=round_name, now=now, key=key, links=links
            )
    return sent


def remind_now(
    session: Session, *, actor: Account, election_id: int, now: datetime, key: bytes, links: Links
) -> int:
    """The returning officer's "remind now": a new manual round to everyone who has not voted."""
    election = get_election(session, election_id, lock=True)
    if election.state(now) != "voting" or election.roll_frozen_at is None:
        raise ElectionError(
            Code.NOT_OPEN, "Reminders can be sent only while voting is open.", kind=Kind.CONFLICT
        )
    session.execute(
        update(Election)
        .where(Election.id == election.id)
        .values(manual_reminders=Election.manual_reminders + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(election)
    round_name = f"manual-{election.manual_reminders}"
    sent = _send_round(session, election=election, round_name=round_name, now=now, key=key, links=links)
    audit.record(
        session,
        actor=actor,
        action="election.remind",
        subject=f"election {election.id}: {election.title}",
        details={"round": round_name, "sent": sent},
        now=now,
    )
    return sent


def run_due(database: Database, *, now: datetime, key: bytes, links: Links) -> dict[str, int]:
    """Everything the clock has made due, each election in its own transactions: freeze rolls (once the
    trustees are ready), close voting, send scheduled reminders. Called by `portal election remind` and the periodic task."""
    with database.session(write=False) as session:
        elections = session.scalars(select(Election).order_by(Election.id)).all()
        due = [e.id for e in elections if needs_update(e, now)]
        voting = [e.id for e in elections if e.voting_open_at <= now < e.voting_close_at]
    for election_id in due:
        with database.session(write=True) as session:
            bring_up_to_date(session, election_id=election_id, now=now, key=key, links=links)
    reminded = 0
    for election_id in voting:
        with database.session(write=True) as session:
            reminded += send_due_reminders(session, now=now, key=key, links=links, election_id=election_id)
    return {"updated": len(due), "reminders": reminded}
