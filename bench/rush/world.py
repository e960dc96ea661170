"""What the rushes need in the database before the doors open, written through the service functions (and,
where a domain's own test kit does the same, straight into its tables): a set-up portal, an event whose
registration has just opened, an election in its voting window with personal ballot links, a conference
starting within the hour with confirmed bookings and a scanner device, and e-mails in the outbox.

Used by `bench/bench_rush.py` and by `tests/concurrency/test_multiworker.py`; every function takes a session
and the current time and flushes, the caller commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from starlette.routing import Router

from bench import checkin_kit
from portal.accounts import service as accounts
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import build_routes
from portal.checkin import badges
from portal.checkin import devices as scanner_devices
from portal.elections import roll, trustees
from portal.elections import service as elections
from portal.elections.links import Links as ElectionLinks
from portal.elections.models import Nomination
from portal.events import catalogue
from portal.events.links import Links as EventLinks
from portal.events.models import Registration
from portal.mail.models import OutboxEmail
from portal.mail.service import enqueue
from portal.members.models import Member

ADMIN_EMAIL = "rush-admin@example.org"
OFFICER_EMAIL = "rush-officer@example.org"


def set_up(session: Session, *, now: datetime) -> Account:
    """First-run set-up (the society and an administrator), and a returning officer; returns the officer."""
    accounts.setup_first_admin(
        session,
        society_name="IPT UK",
        name="Rush Admin",
        email=ADMIN_EMAIL,
        password="rush hour password 123",  # noqa: S106 - a scratch database
        passwords=Passwords(fast=True),
        now=now,
    )
    officer, _ = accounts.create_staff(
        session,
        actor=None,  # as the operator on the command line: an administrator may not add a returning officer
        name="Rita Returning",
        email=OFFICER_EMAIL,
        roles=["returning_officer"],
        now=now,
        key=b"unused: the set-password link is not sent",
    )
    return officer


def admin_account(session: Session) -> Account:
    account = session.scalar(select(Account).where(Account.email == ADMIN_EMAIL))
    assert account is not None, "set_up() first"
    return account


def officer_account(session: Session) -> Account:
    account = session.scalar(select(Account).where(Account.email == OFFICER_EMAIL))
    assert account is not None, "set_up() first"
    return account


# --- registration opens ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingEvent:
    event_id: int
    slug: str
    ticket_id: int
    capacity: int


def booking_event(
    session: Session,
    *,
    capacity: int,
    now: datetime,
    key: bytes,
    base_url: str,
    title: str = "National Meeting",
) -> BookingEvent:
    """A published event with `capacity` places and a waitlist, one free ticket, registration open from now."""
    starts = now + timedelta(days=30)
    slug = f"rush-{secrets.token_hex(4)}"
    data = catalogue.EventData(
        title=title,
        slug=slug,
        kind="meeting",
        starts_at=starts,
        ends_at=starts + timedelta(hours=7),
        registration_opens_at=now - timedelta(minutes=1),
        registration_closes_at=starts - timedelta(days=1),
        capacity=capacity,
        status="published",
        venue="Friends House",
        address="173 Euston Road, London",
        contact_email="events@example.org",
    )
    actor = admin_account(session)
    event = catalogue.create_event(session, data=data, actor=actor, now=now)
    ticket = catalogue.save_ticket(
        session,
        event_id=event.id,
        data=catalogue.TicketData(name="Member place"),
        actor=actor,
        now=now,
        links=EventLinks(base_url, Router(routes=build_routes()).url_path_for, key=key),
    )
    return BookingEvent(event_id=event.id, slug=slug, ticket_id=ticket.id, capacity=capacity)


# --- the last hour of voting ---------------------------------------------------------------------------------------


@dataclass
class Election:
    election_id: int
    contest_id: int
    #: The candidates' nomination ids: the values of the ballot's radio buttons (field `c<contest_id>`).
    choices: list[int]
    #: One personal ballot link token per voter, in the order of `member_ids`.
    tokens: list[str] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    voting_close_at: datetime | None = None
    #: The trustees' share files (2 of 3 open the ballot box at the close).
    shares: list[str] = field(default_factory=list)

    @property
    def field(self) -> str:
        return f"c{self.contest_id}"


def _member(number: str, *, first: str, last: str, now: datetime) -> Member:
    return Member(
        membership_number=number,
        email=f"{number.lower()}@example.org",
        first_name=first,
        last_name=last,
        category="full",
        accreditation="none",
        status="active",
        created_at=now,
        updated_at=now,
    )


def election(
    session: Session,
    *,
    voters: int,
    now: datetime,
    key: bytes,
    base_url: str,
    send_links: bool = True,
    title: str = "Executive Committee 2027",
) -> Election:
    """An election in its voting window (until a week from now) with one post (Chair, three candidates),
    `voters` members on its frozen roll, and a personal ballot link for each.

    Freezing the roll e-mails every voter a link (through the outbox); with `send_links=False` those e-mails
    are marked as sent already (the rush is the last hour of voting: they went out days ago), so the
    outbox sender does not deliver a thousand e-mails during the measurement. The tokens returned are fresh
    links issued after the freeze (a member's earlier links keep working too)."""
    officer = officer_account(session)
    day = timedelta(days=1)
    setup = elections.ElectionSetup(
        title=title,
        nominations_open_at=now - 20 * day,
        nominations_close_at=now - 10 * day,
        withdrawal_deadline_at=now - 9 * day,
        voting_open_at=now - timedelta(minutes=1),
        voting_close_at=now + 7 * day,
        statuses=("active",),
    )
    made = elections.create_election(session, actor=officer, setup=setup, now=now)
    # Posts are added while the election is still being set up (before voting opened).
    contest = elections.add_contest(
        session,
        actor=officer,
        election_id=made.id,
        setup=elections.ContestSetup(title="Chair"),
        now=now - 15 * day,
    )
    tag = secrets.token_hex(3).upper()
    choices = []
    for n, surname in enumerate(("Adams", "Brown", "Clarke")):
        candidate = _member(f"C{tag}{n}", first="Cand", last=surname, now=now)
        proposer = _member(f"P{tag}{n}", first="Prop", last=surname, now=now)
        seconder = _member(f"S{tag}{n}", first="Sec", last=surname, now=now)
        session.add_all([candidate, proposer, seconder])
        session.flush()
        nomination = Nomination(
            election_id=made.id,
            contest_id=contest.id,
            member_id=candidate.id,
            nominator_id=candidate.id,
            proposer_id=proposer.id,
            seconder_id=seconder.id,
            statement=f"I am {surname}. Vote for me.",
            status="accepted",
            live=True,
            created_at=now - 12 * day,
            consent_at=now - 12 * day,
            proposer_confirmed_at=now - 12 * day,
            seconder_confirmed_at=now - 12 * day,
        )
        session.add(nomination)
        session.flush()
        choices.append(nomination.id)
    session.execute(
        insert(Member),
        [
            {
                "membership_number": f"V{tag}{i:05d}",
                "email": f"v{tag.lower()}{i:05d}@example.org",
                "first_name": "Voter",
                "last_name": f"Number{i:05d}",
                "category": "full",
                "accreditation": "none",
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(voters)
        ],
    )
    links = ElectionLinks(base_url, Router(routes=build_routes()).url_path_for)
    shares = _trustees(session, election_id=made.id, tag=tag, key=key, now=now)
    roll.freeze_roll(session, election_id=made.id, now=now, key=key, links=links)
    if not send_links:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.kind == "elections/ballot_link", OutboxEmail.status == "pending")
            .values(status="sent", sent_at=now)
        )
    member_ids = list(
        session.scalars(
            select(Member.id).where(Member.membership_number.like(f"V{tag}%")).order_by(Member.id)
        )
    )
    tokens = [
        roll.issue_ballot_link(session, election_id=made.id, member_id=m, now=now, key=key)
        for m in member_ids
    ]
    session.flush()
    return Election(
        election_id=made.id,
        contest_id=contest.id,
        choices=choices,
        tokens=tokens,
        member_ids=member_ids,
        voting_close_at=made.voting_close_at,
        shares=shares,
    )


def _trustees(session: Session, *, election_id: int, tag: str, key: bytes, now: datetime) -> list[str]:
    """A returning officer and two scrutineers named trustees (2 of 3), the key made, each share downloaded
    and checked (so the roll may freeze); returns the share files."""
    ids = []
    for n, role in enumerate(("returning_officer", "scrutineer", "scrutineer")):
        account = Account(
            email=f"trustee{n}-{tag.lower()}@example.org", name=f"Trustee {n}", roles=role, created_at=now
        )
        session.add(account)
        session.flush()
        ids.append(account.id)
    actor = session.get(Account, ids[0])
    assert actor is not None
    trustees.name_trustees(
        session, actor=actor, election_id=election_id, account_ids=ids, threshold=2, now=now
    )
    trustees.make_key(session, actor=actor, election_id=election_id, key=key, now=now)
    shares = []
    for account_id in ids:
        _, text = trustees.download_share(
            session, account_id=account_id, election_id=election_id, key=key, now=now
        )
        trustees.check_share(session, account_id=account_id, election_id=election_id, text=text, now=now)
        shares.append(text)
    return shares


# --- the 9:00 door -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Door:
    event_id: int
    #: One signed badge code per confirmed booking, in booking order.
    codes: list[str]
    registration_ids: list[int]
    #: The scanner device's bearer token.
    token: str


def door(session: Session, *, people: int, now: datetime, key: bytes) -> Door:
    """A conference starting in an hour (its doors are open) with `people` confirmed bookings, their badge
    codes, and a scanner device."""
    made = checkin_kit.make_event(session, now=now, title="IPT UK Annual Conference")
    checkin_kit.add_many(session, key=key, event=made.event, ticket=made.tickets[0], count=people, now=now)
    _, token = scanner_devices.create_device(
        session, actor=admin_account(session), event_id=made.event.id, name="Main entrance", key=key, now=now
    )
    rows = session.execute(
        select(Registration.id, Registration.badge_serial)
        .where(Registration.event_id == made.event.id)
        .order_by(Registration.id)
    ).all()
    codes = [
        badges.issue(key, registration_id=r.id, event_id=made.event.id, serial=r.badge_serial) for r in rows
    ]
    return Door(event_id=made.event.id, codes=codes, registration_ids=[r.id for r in rows], token=token)


# --- the outbox ----------------------------------------------------------------------------------------------------


def outbox(session: Session, *, count: int, now: datetime, prefix: str) -> list[str]:
    """`count` e-mails to `<prefix>-<n>@example.org`, enqueued in the caller's transaction; returns the
    recipients."""
    recipients = [f"{prefix}-{n:04d}@example.org" for n in range(count)]
    for n, to in enumerate(recipients):
        enqueue(
            session,
            to=to,
            template="events/message",
            context={
                "subject": f"Joining instructions ({n})",
                "registration": {"first_name": f"Delegate {n}"},
                "body": "The doors open at 9:00. Bring your badge.",
                "event": {"title": "IPT UK Annual Conference"},
                "when": "25 November 2026",
                "manage_url": "http://127.0.0.1/events/booking/example",
            },
            now=now,
        )
    return recipients
