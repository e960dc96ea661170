"""`portal demo`: a realistic demo society loaded into an empty database, to try the portal with.

Everything goes through the domains' own service functions, in the order it would have happened: the portal
set up fourteen months ago and the roll imported; last year's Executive Committee election nominated, voted,
counted and published; a second roll import; a skills day (on today, with its door open), the National Meeting
and the ISIPT conference opened and booked, with payments, cancellations, waitlists and offers; this year's
election nominated and now in its voting period. Each step runs at its own moment on a `Timeline`, so the
services apply the rules of that moment (sale windows, capacity, lapsing offers, nomination and voting
periods), the audit log reads in order and invoices are numbered in the order they were issued. The people
come from a seeded `random.Random`, so every run makes the same society, placed relative to its present:
`now`, the wall clock unless `portal demo --now` says otherwise (the tests fix it).

The demo reads its people's e-mail as they would: the single-use links the services e-mail (activating an
account, confirming a nomination) are taken from the link builders and used. At the end every e-mail is
marked as written to the log, as the outbox sender does without an SMTP server, so starting the portal
afterwards sends nothing to the demo's example.org addresses.

The parts: `timeline` (the clock and UK time), `people` (names, words and the roll's members), `base` (what
the steps share), `society` (logins, staff, settings, the roll, members' accounts), `events` (events and
bookings), `checkin` (the skills day and its door), `elections`, `complaints` (cases at each stage), `site` (the website's pages), `training`
(the courses, their dates, regional meetings, the CPD list and the 2024 conference for the archive),
`accreditation` (the levels and their standards)
and `report` (the outbox and what the command prints). Each part's steps are a class; `Demo` is all of them, and `load_demo` runs it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.demo.accreditation import AccreditationSteps
from portal.demo.checkin import CheckinSteps
from portal.demo.complaints import ComplaintSteps
from portal.demo.elections import ElectionSteps
from portal.demo.membership import MembershipSteps
from portal.demo.register import RegisterSteps
from portal.demo.report import DemoReport, deliver_outbox, report
from portal.demo.site import SiteSteps
from portal.demo.society import ADMIN, DEMO_PASSWORD, LOGINS, MEMBER, SOCIETY, STAFF, DemoLogin, SocietySteps
from portal.demo.team import TeamSteps
from portal.demo.training import TrainingSteps
from portal.elections.models import Election
from portal.errors import PortalError
from portal.events.models import Event
from portal.members.models import Member
from portal.society.models import Society

__all__ = [
    "ADMIN",
    "DEMO_PASSWORD",
    "LOGINS",
    "MEMBER",
    "SEED",
    "SOCIETY",
    "STAFF",
    "DemoError",
    "DemoLogin",
    "DemoReport",
    "is_empty",
    "load_demo",
]

SEED = 2026


class Code(StrEnum):
    NOT_EMPTY = "not_empty"


class DemoError(PortalError):
    """`code`: not_empty."""


def is_empty(session: Session) -> bool:
    """Nothing set up yet: no society, accounts, members, events or elections."""
    return not any(
        session.scalar(select(model.id).limit(1)) is not None
        for model in (Society, Account, Member, Event, Election)
    )


class Demo(
    SocietySteps,
    CheckinSteps,
    ElectionSteps,
    TeamSteps,
    ComplaintSteps,
    SiteSteps,
    MembershipSteps,
    TrainingSteps,
    AccreditationSteps,
    RegisterSteps,
):
    """The demo's plan (who, what and when, drawn from the seeded generator) and its steps, each a call to
    the services at its own moment on the timeline."""

    def plan(self) -> None:
        self.plan_society()
        self.plan_past_election()
        self.plan_skills_day()
        self.plan_national_meeting()
        self.plan_conference()
        self.plan_current_election()
        self.plan_team()
        self.plan_complaints()
        self.plan_site()
        self.plan_membership()
        self.plan_training()
        self.plan_accreditation()
        self.plan_register()
        assert all(b.at < self.now for group in self.bookers.values() for b in group)


def load_demo(
    session: Session, *, now: datetime, key: bytes, base_url: str, passwords: Passwords, seed: int = SEED
) -> DemoReport:
    """Load the demo society in the caller's transaction (all of it, or nothing). Refused unless the
    database is empty: the demo never mixes with real data."""
    if not is_empty(session):
        raise DemoError(
            Code.NOT_EMPTY,
            "This portal is already set up (it has a society, accounts, members, events or elections): the demo "
            "loads only into an empty database. Point PORTAL_DATABASE_URL at a new one, e.g. "
            "PORTAL_DATABASE_URL=sqlite:///var/demo.db make demo",
        )
    demo = Demo(session, now=now, key=key, base_url=base_url, passwords=passwords, seed=seed)
    demo.plan()
    demo.timeline.run()
    deliver_outbox(session, now=now)
    return report(
        session,
        now=now,
        events=[e.event for e in demo.events.values()],
        election_ids=[e.election_id for e in demo.elections.values()],
        shares=demo.shares["current"],
    )
