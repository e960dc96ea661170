"""The end of the demo: its e-mails marked as written to the log, and the report `portal demo` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.demo.society import LOGINS, SOCIETY, DemoLogin
from portal.demo.timeline import LONDON
from portal.elections import results
from portal.elections import service as elections
from portal.events import catalogue
from portal.events.models import Event, Registration
from portal.mail import service as mail
from portal.mail.models import OutboxEmail
from portal.members.models import Member


@dataclass(frozen=True)
class DemoReport:
    """What was loaded, for the command to print and the tests to check."""

    logins: tuple[DemoLogin, ...]
    members: int
    bookings: dict[str, dict[str, int]]
    elections: list[tuple[str, str]]
    events: list[tuple[str, str]]
    #: The open election's trustees' shares: (file name, text), written by the command under var/.
    shares: list[tuple[str, str]] = field(default_factory=list)
    shares_dir: str = ""

    def lines(self) -> list[str]:
        rows = [(f"{login.role} ({login.name})", login.email, login.password) for login in self.logins]
        who_width = max(len(who) for who, _, _ in rows) + 2
        email_width = max(len(email) for _, email, _ in rows) + 2
        lines = [
            f"The demo society is loaded: {SOCIETY}, {self.members} members, "
            f"{sum(sum(c.values()) for c in self.bookings.values())} bookings, "
            f"{len(self.elections)} elections.",
            "",
            "Events:",
            *(f"  {title} ({path})" for title, path in self.events),
            "Elections:",
            *(f"  {title}: {stage}" for title, stage in self.elections),
            "",
            "Start the portal (make run) and log in with one of these (e-mail address, password):",
        ]
        lines += [f"  {who:<{who_width}}{email:<{email_width}}{password}" for who, email, password in rows]
        if self.shares_dir:
            lines += [
                "",
                f"The open election's trustees' shares (any 2 of 3 open its ballot box at the close) are in "
                f"{self.shares_dir}/:",
                *(f"  {name}" for name, _ in self.shares),
            ]
        return lines


def deliver_outbox(session: Session, *, now: datetime) -> None:
    """Everything e-mailed so far went to the log (no SMTP server in the demo's past): mark it so, a
    moment after it was written, through the sender's own claim and record."""
    worker = "portal demo"
    claimed = mail.claim(session, worker=worker, now=now, limit=1_000_000, message_domain="example.org")
    written = (
        dict(
            session.execute(
                select(OutboxEmail.id, OutboxEmail.created_at).where(OutboxEmail.id.in_(claimed))
            ).all()
        )
        if claimed
        else {}
    )
    for email_id in claimed:
        mail.mark_sent(
            session,
            email_id=email_id,
            worker=worker,
            now=written[email_id] + timedelta(seconds=20),
            logged=True,
        )


def report(
    session: Session,
    *,
    now: datetime,
    events: Iterable[Event],
    election_ids: Iterable[int],
    shares: list[tuple[str, str]],
) -> DemoReport:
    """What the demo loaded: its events by state and bookings, its elections by stage and turnout, and the
    open election's trustees' shares."""
    bookings: dict[str, dict[str, int]] = {}
    listed: list[tuple[str, str]] = []
    for event in sorted(events, key=lambda e: e.starts_at):
        counts = Counter(
            dict(
                session.execute(
                    select(Registration.status, func.count())
                    .where(Registration.event_id == event.id)
                    .group_by(Registration.status)
                ).all()
            )
        )
        bookings[event.slug] = dict(counts)
        state = catalogue.STATE_LABELS[catalogue.event_state(event, now)]
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        listed.append((event.title, f"/events/{event.slug}: {state.lower()}; {summary}"))
    stages = []
    for election_id in election_ids:
        stored = elections.get_election(session, election_id)
        turnout = results.turnout(session, stored)
        stage = (
            "results published"
            if stored.published_at
            else f"voting open until {stored.voting_close_at.astimezone(LONDON):%-d %B %H:%M}"
        )
        stages.append(
            (
                stored.title,
                f"{stage}; {turnout.voted} of {turnout.roll} on the roll have voted (/elections/{stored.id})",
            )
        )
    members = session.scalar(select(func.count()).select_from(Member)) or 0
    return DemoReport(
        logins=LOGINS,
        members=members,
        bookings=bookings,
        elections=stages,
        events=listed,
        shares=list(shares),
    )
