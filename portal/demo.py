"""`portal demo`: a realistic demo society loaded into an empty database, to try the portal with.

Everything goes through the domains' own service functions, in the order it would have happened: the portal
set up fourteen months ago and the roll imported; last year's Executive Committee election nominated, voted,
counted and published; a second roll import; a skills day (on today, with its door open), the National Meeting
and the ISIPT conference opened and booked, with payments, cancellations, waitlists and offers; this year's
election nominated and now in its voting period. Each step runs at its own moment on a `Timeline`, so the
services apply the rules of that moment (sale windows, capacity, lapsing offers, nomination and voting
periods), the audit log reads in order and invoices are numbered in the order they were issued. The people
come from a seeded `random.Random`, so every run makes the same society, placed relative to today.

The demo reads its people's e-mail as they would: the single-use links the services e-mail (activating an
account, confirming a nomination) are taken from the link builders and used. At the end every e-mail is
marked as written to the log, as the outbox sender does without an SMTP server, so starting the portal
afterwards sends nothing to the demo's example.org addresses.
"""

from __future__ import annotations

import csv
import dataclasses
import heapq
import io
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.routing import Router

from portal.accounts import service as accounts
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import build_routes
from portal.checkin import badging
from portal.checkin import scans as checkin
from portal.demo_people import DIETS, INTERNATIONAL, People, Person, statement
from portal.elections import photos, results, roll, trustees, voting
from portal.elections import service as elections
from portal.elections.ballots import BallotContest, ballot_contests
from portal.elections.links import Links as ElectionLinks
from portal.elections.models import Contest, Election, Nomination, NominationToken, RollEntry
from portal.elections.secrecy import Choice
from portal.errors import PortalError
from portal.events import bulk, catalogue, changes, payments, sales, waitlist
from portal.events.links import Links as EventLinks
from portal.events.links import app_links
from portal.events.models import Event, Registration, TicketType, Workshop
from portal.mail import service as mail
from portal.mail.models import OutboxEmail
from portal.members import importer, selfservice
from portal.members.models import Member
from portal.members.service import DEFAULT_CATEGORIES, DEFAULT_LEVELS
from portal.society import service as society_service
from portal.society.models import Society
from portal.web.tokens import new_token, token_digest

LONDON = ZoneInfo("Europe/London")
SEED = 2026
#: Every demo login has this password (printed by `portal demo`, and in the README).
DEMO_PASSWORD = "ipt-demo-password"  # noqa: S105 - a published demo password, for demo data only
SOCIETY = "IPT UK"
#: Test-net addresses (RFC 5737): the demo's members asked for their activation links from "home".
HOME_IP = "192.0.2.10"


class Code(StrEnum):
    NOT_EMPTY = "not_empty"


class DemoError(PortalError):
    """`code`: not_empty."""


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str
    password: str = DEMO_PASSWORD


ADMIN = DemoLogin("Administrator", "Helen Carter", "admin@example.org")
#: The other staff, with their roles.
STAFF: tuple[tuple[DemoLogin, tuple[str, ...]], ...] = (
    (DemoLogin("Office staff", "Sam Patel", "office@example.org"), ("office",)),
    (
        DemoLogin("Returning officer", "Margaret Doyle", "returning.officer@example.org"),
        ("returning_officer",),
    ),
    (DemoLogin("Scrutineer", "David Okoye", "scrutineer@example.org"), ("scrutineer",)),
    (DemoLogin("Scrutineer", "Grace Lin", "scrutineer2@example.org"), ("scrutineer",)),
    (DemoLogin("Door staff", "Tom Reid", "door@example.org"), ("door",)),
)
MEMBER = DemoLogin("Member", "Megan Hughes", "member@example.org")
LOGINS: tuple[DemoLogin, ...] = (ADMIN, *(login for login, _ in STAFF), MEMBER)


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


def is_empty(session: Session) -> bool:
    """Nothing set up yet: no society, accounts, members, events or elections."""
    return not any(
        session.scalar(select(model.id).limit(1)) is not None
        for model in (Society, Account, Member, Event, Election)
    )


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
    demo = _Demo(session, now=now, key=key, base_url=base_url, passwords=passwords, seed=seed)
    demo.plan()
    demo.timeline.run()
    demo.deliver_outbox()
    return demo.report()


# --- time ---------------------------------------------------------------------------------------------------


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def london_date(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def next_weekday(day: date, weekday: int) -> date:
    """The first `weekday` (Monday 0) on or after `day`, outside the Christmas and New Year break."""
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 4):
        day += timedelta(days=7)
    return day


class Timeline:
    """Steps that each run at their own moment, earliest first (ties in the order they were added). A step
    may add later steps; nothing is placed after `now`, the real present."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._steps: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._order = itertools.count()
        self._clock: datetime | None = None

    def at(self, when: datetime, step: Callable[[datetime], None]) -> None:
        if when > self.now:
            raise ValueError(f"a demo step cannot happen after now ({when.isoformat()})")
        if self._clock is not None and when < self._clock:
            raise ValueError("a step cannot add a step before itself")
        heapq.heappush(self._steps, (when, next(self._order), step))

    def run(self) -> None:
        while self._steps:
            when, _, step = heapq.heappop(self._steps)
            self._clock = when
            step(when)


def spread(
    rng: random.Random, start: datetime, end: datetime, count: int, *, skew: float = 1.0
) -> list[datetime]:
    """`count` moments between `start` and `end`, sorted; skew > 1 crowds them towards the start."""
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=span * rng.random() ** skew) for _ in range(count))


# --- the roll -----------------------------------------------------------------------------------------------


def anniversary(joined: date, after: date) -> date:
    """The first anniversary of joining after `after` (renewals fall due on it)."""
    year = max(after.year, joined.year + 1)
    while True:
        day = date(year, joined.month, min(joined.day, 28))
        if day > after:
            return day
        year += 1


@dataclass
class DemoMember:
    person: Person
    email: str
    category: str
    accreditation: str
    status: str
    joined_on: date
    renewal_on: date | None
    #: As the first roll import had them; `first_status` None: joined since.
    first_status: str | None
    first_category: str = ""
    first_accreditation: str = ""
    first_renewal: date | None = None
    number: str = ""
    id: int = 0
    account_id: int | None = None

    def good_standing(self, on: date) -> bool:
        return self.status == "active" and (self.renewal_on is None or self.renewal_on >= on)


CATEGORY_LABELS = dict(DEFAULT_CATEGORIES)
LEVEL_LABELS = dict(DEFAULT_LEVELS)
ROLL_HEADINGS = [
    "Membership No",
    "Forename",
    "Surname",
    "Email Address",
    "Category",
    "Accreditation",
    "Status",
    "Joined",
    "Renewal date",
]


def roll_csv(members: Sequence[DemoMember], *, first: bool) -> bytes:
    """The office's export, as the first import had it (`first`) or as it is now."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ROLL_HEADINGS)
    for m in members:
        if first and m.first_status is None:
            continue
        category = m.first_category if first else m.category
        level = m.first_accreditation if first else m.accreditation
        renewal = m.first_renewal if first else m.renewal_on
        writer.writerow(
            [
                m.number,
                m.person.first_name,
                m.person.last_name,
                m.email,
                CATEGORY_LABELS[category],
                LEVEL_LABELS[level],
                m.first_status if first else m.status,
                m.joined_on.isoformat(),
                renewal.isoformat() if renewal else "",
            ]
        )
    return out.getvalue().encode()


# --- events -------------------------------------------------------------------------------------------------


@dataclass
class Booker:
    """Someone who will try to book: who, when, what they want, and whether (and when) they pay."""

    person: Person
    email: str
    at: datetime
    ticket: str
    member: DemoMember | None = None
    #: Per time slot: the workshops in order of preference (the second is the fallback when the first is full).
    slots: list[tuple[str, ...]] = field(default_factory=list)
    #: Joins the waitlist rather than change their choice when something they want is full.
    stays_if_full: bool = False
    affiliation: str = ""
    pays_after: timedelta | None = None
    method: str = "bank_transfer"
    registration_id: int | None = None


@dataclass
class DemoEvent:
    event: Event
    tickets: dict[str, int]
    workshops: dict[str, int]
    questions: dict[str, int]


CONFERENCE_WORKSHOPS = (
    # (day, start, end, title, capacity)
    (0, (14, 0), (15, 30), "IPT for adolescents (IPT-A)", 30),
    (0, (14, 0), (15, 30), "Interpersonal counselling (IPC) in primary care", 40),
    (1, (9, 30), (11, 0), "Group IPT", 24),
    (1, (9, 30), (11, 0), "Supervision in IPT: skills and dilemmas", 20),
    (1, (13, 30), (15, 0), "IPT for perinatal depression", 60),
)
CONFERENCE_SLOTS = (
    ("IPT for adolescents (IPT-A)", "Interpersonal counselling (IPC) in primary care"),
    ("Supervision in IPT: skills and dilemmas", "Group IPT"),
    ("IPT for perinatal depression",),
)


# --- elections ----------------------------------------------------------------------------------------------


@dataclass
class Candidacy:
    contest: str
    candidate: DemoMember
    proposer: DemoMember
    seconder: DemoMember
    self_nominated: bool
    #: accept, withdraw (after acceptance), decline (the seconder says no), reject (by the returning officer).
    fate: str = "accept"
    photo: bool = False
    popularity: float = 1.0
    nomination_id: int = 0


@dataclass
class DemoElection:
    title: str
    setup: elections.ElectionSetup
    created_at: datetime
    contests: list[elections.ContestSetup]
    candidacies: list[Candidacy]
    turnout: float
    #: Must vote (the demo member votes in last year's election, not yet in this year's).
    voters_included: list[DemoMember] = field(default_factory=list)
    voters_excluded: list[DemoMember] = field(default_factory=list)
    election_id: int = 0
    ballot: list[BallotContest] = field(default_factory=list)


PORTRAIT_COLOURS = ((11, 92, 107), (120, 60, 110), (40, 90, 60), (150, 80, 30), (60, 70, 130), (110, 50, 50))


def portrait(initials: str, colour: tuple[int, int, int]) -> bytes:
    """A plain portrait card (initials on a colour) standing in for a candidate's photo."""
    image = Image.new("RGB", (400, 400), colour)
    draw = ImageDraw.Draw(image)
    draw.text((200, 200), initials, fill=(255, 255, 255), font=ImageFont.load_default(size=170), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- the demo -----------------------------------------------------------------------------------------------


class _Demo:
    """The demo's plan (who, what and when, drawn from the seeded generator) and its steps, each a call to
    the services at its own moment on the timeline."""

    def __init__(
        self, session: Session, *, now: datetime, key: bytes, base_url: str, passwords: Passwords, seed: int
    ) -> None:
        self.s = session
        self.now = now
        self.today = london_date(now)
        self.key = key
        self.base_url = base_url.rstrip("/")
        self.rng = random.Random(seed)
        self.people = People(self.rng)
        self.passwords = passwords
        self.timeline = Timeline(now)
        self.router = Router(routes=build_routes())
        # The badge QR code goes into every confirmation e-mail, as in the running app.
        self.event_links: EventLinks = dataclasses.replace(
            app_links(self.router, base_url, key), extras=(badging.confirmation_extra(key),)
        )
        self.election_links = ElectionLinks(base_url, self._path_for)
        self.selfservice_links = selfservice.Links(
            activate=self._activation_link,
            reset_password=lambda token: self._url("accounts:set_password", token=token),
            confirm_email=lambda token: self._url("me:confirm_email", token=token),
            login=self._url("accounts:login"),
            forgot_password=self._url("me:forgot_password"),
        )
        #: Fourteen months ago: the portal is set up and the roll imported.
        self.origin = london(self.today - timedelta(days=420), 10)
        #: Tokens from the links the services just e-mailed (what the recipients would click).
        self.inbox: list[str] = []
        self.staff: dict[str, Account] = {}
        #: Each election's trustees' share files, (file name, text), in trustee order.
        self.shares: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        self.members: list[DemoMember] = []
        self.demo_member: DemoMember | None = None
        self.events: dict[str, DemoEvent] = {}
        self.bookers: dict[str, list[Booker]] = {}
        self.elections: dict[str, DemoElection] = {}

    # --- reading the e-mailed links ---

    def _path_for(self, name: str, **params: Any) -> Any:
        if name == "elections:nomination_link":
            self.inbox.append(params["token"])
        return self.router.url_path_for(name, **params)

    def _url(self, name: str, **params: Any) -> str:
        return self.base_url + str(self.router.url_path_for(name, **params))

    def _activation_link(self, token: str) -> str:
        self.inbox.append(token)
        return (
            f"{self._url('accounts:set_password', token=token)}?next={self.router.url_path_for('me:account')}"
        )

    def _take_inbox(self) -> list[str]:
        tokens, self.inbox = self.inbox, []
        return tokens

    def at(self, when: datetime, step: Callable[..., None], *args: Any) -> None:
        self.timeline.at(when, partial(step, *args) if args else step)

    # --- the plan ---

    def plan(self) -> None:
        now = self.now
        self.plan_members()
        self.at(self.origin, self.set_up)
        self.at(self.origin + timedelta(minutes=20), self.invoice_details)
        for n, (login, roles) in enumerate(STAFF):
            self.at(self.origin + timedelta(hours=1, minutes=10 * n), self.add_staff, login, roles)
        self.at(self.origin + timedelta(days=2), self.import_roll, True)
        self.at(london(self.today - timedelta(days=60), 11), self.import_roll, False)
        self.plan_activations()
        self.plan_past_election()
        self.plan_skills_day()
        self.plan_national_meeting()
        self.plan_conference()
        self.plan_current_election()
        assert all(b.at < now for group in self.bookers.values() for b in group)

    def plan_members(self) -> None:
        rng, today = self.rng, self.today
        first_import = london_date(self.origin) + timedelta(days=2)
        demo = DemoMember(
            person=Person("Megan", "Hughes", "she"),
            email=MEMBER.email,
            category="member_plus",
            accreditation="accredited_practitioner",
            status="active",
            joined_on=date(2016, 3, 14),
            renewal_on=anniversary(date(2016, 3, 14), today),
            first_status="active",
            first_category="member_plus",
            first_accreditation="accredited_practitioner",
            first_renewal=anniversary(date(2016, 3, 14), today - timedelta(days=350)),
        )
        self.people.reserve(demo.person, demo.email)
        self.demo_member = demo
        members = [demo]
        earliest = date(2005, 1, 10).toordinal()
        for _ in range(279):
            person = self.people.person()
            category = rng.choices(
                ["trainee", "basic", "member_plus", "organisation", "honorary"], weights=[12, 40, 36, 6, 4]
            )[0]
            joined = date.fromordinal(rng.randint(earliest, (first_import - timedelta(days=30)).toordinal()))
            if category == "honorary":
                level = rng.choice(["trainer", "supervisor"])
            elif category == "trainee":
                level = "none"
            else:
                level = rng.choices(
                    ["none", "accredited_practitioner", "supervisor", "trainer"], weights=[40, 35, 15, 10]
                )[0]
            member = DemoMember(
                person=person,
                email=self.people.email(person),
                category=category,
                accreditation=level,
                status="active",
                joined_on=joined,
                renewal_on=None,
                first_status="active",
                first_category=category,
                first_accreditation=level,
            )
            if category != "honorary":
                member.first_renewal = anniversary(joined, today - timedelta(days=350))
                lapses = member.first_renewal < today - timedelta(days=70)
                roll = rng.random()
                if lapses and roll < 0.13:
                    member.status, member.renewal_on = "lapsed", member.first_renewal
                elif lapses and roll < 0.19:
                    member.status, member.renewal_on = "resigned", member.first_renewal
                else:
                    due = anniversary(joined, today - timedelta(days=50))
                    overdue = due <= today - timedelta(days=5) and rng.random() < 0.35
                    member.renewal_on = due if overdue else anniversary(joined, today)
            # Qualified since the first import: a trainee then, with no accreditation.
            recent = joined > first_import - timedelta(days=3 * 365)
            if category in ("basic", "member_plus") and recent and rng.random() < 0.5:
                member.first_category, member.first_accreditation = "trainee", "none"
            members.append(member)
        for _ in range(20):
            person = self.people.person()
            joined = today - timedelta(days=rng.randint(65, 150))
            members.append(
                DemoMember(
                    person=person,
                    email=self.people.email(person),
                    category=rng.choices(["trainee", "basic"], weights=[60, 40])[0],
                    accreditation="none",
                    status="active",
                    joined_on=joined,
                    renewal_on=anniversary(joined, joined),
                    first_status=None,
                )
            )
        members.sort(key=lambda m: (m.joined_on, m.person.last_name, m.person.first_name))
        for number, member in enumerate(members, start=1001):
            member.number = str(number)
        self.members = members

    def in_standing(self) -> list[DemoMember]:
        """Active members in good standing today (and so through every step of the demo's last year)."""
        return [
            m
            for m in self.members
            if m.good_standing(self.today + timedelta(days=1)) and m.first_status is not None
        ]

    # --- steps: the society and its staff ---

    def set_up(self, t: datetime) -> None:
        self.staff["admin"] = accounts.setup_first_admin(
            self.s,
            society_name=SOCIETY,
            name=ADMIN.name,
            email=ADMIN.email,
            password=ADMIN.password,
            passwords=self.passwords,
            now=t,
        )

    def invoice_details(self, t: datetime) -> None:
        society_service.save_details(
            self.s,
            values={
                "name": SOCIETY,
                "address": "IPT UK\n12 Example Row\nManchester\nM1 1AA",
                "charity_number": "1190000 (demo)",
                "contact_email": "office@example.org",
                "account_name": "IPT UK",
                "sort_code": "00-00-00",
                "account_number": "12345678",
                "iban": "GB33BUKB20201555555555",
                "bic": "BUKBGB22",
                "notes": "Demo bank details: please do not send money.",
            },
            actor=self.staff["admin"],
            now=t,
        )

    def add_staff(self, login: DemoLogin, roles: tuple[str, ...], t: datetime) -> None:
        # The demo seeds as the operator would on the command line (actor None): an administrator may not add
        # an account with the returning officer's or a scrutineer's role.
        guarded = any(r in accounts.GUARDED_ROLES for r in roles)
        account, token = accounts.create_staff(
            self.s,
            actor=None if guarded else self.staff["admin"],
            name=login.name,
            email=login.email,
            roles=list(roles),
            now=t,
            key=self.key,
        )
        self.staff.setdefault(roles[0], account)
        self.staff[login.email] = account
        self.at(t + timedelta(hours=5), self.choose_password, token, login.password)

    def choose_password(self, token: str, password: str, t: datetime) -> None:
        accounts.set_password_with_token(
            self.s, token=token, password=password, passwords=self.passwords, now=t, key=self.key
        )

    def import_roll(self, first: bool, t: datetime) -> None:
        content = roll_csv(self.members, first=first)
        filename = f"membership-export-{london_date(t).isoformat()}.csv"
        plan = importer.plan_import(self.s, content=content, filename=filename)
        if not plan.ok:
            raise RuntimeError(f"the demo roll does not import: {[p.message for p in plan.problems][:3]}")
        importer.apply_import(
            self.s,
            content=content,
            filename=filename,
            actor=self.staff["office"],
            lapse_missing=False,
            now=t,
            expected_digest=plan.digest,
        )
        ids = dict(self.s.execute(select(Member.membership_number, Member.id)).all())
        for member in self.members:
            member.id = ids.get(member.number, 0)

    # --- steps: members' own accounts ---

    def plan_activations(self) -> None:
        assert self.demo_member is not None
        others = self.rng.sample([m for m in self.in_standing() if m is not self.demo_member], 11)
        self.at(self.origin + timedelta(days=31, hours=9), self.activate, self.demo_member, MEMBER.password)
        for member, when in zip(
            others,
            spread(self.rng, self.origin + timedelta(days=3), self.now - timedelta(days=20), 11),
            strict=True,
        ):
            self.at(when, self.activate, member, new_token(12))

    def activate(self, member: DemoMember, password: str, t: datetime) -> None:
        """The member asks for an activation link, and follows it a few minutes later."""
        selfservice.request_activation(
            self.s, email=member.email, ip=HOME_IP, now=t, key=self.key, links=self.selfservice_links
        )
        [token] = self._take_inbox()
        self.at(t + timedelta(minutes=6), self.set_password, member, token, password)

    def set_password(self, member: DemoMember, token: str, password: str, t: datetime) -> None:
        account = accounts.set_password_with_token(
            self.s, token=token, password=password, passwords=self.passwords, now=t, key=self.key
        )
        member.account_id = account.id

    # --- events ---

    def create_event(self, name: str, data: catalogue.EventData, t: datetime) -> None:
        event = catalogue.create_event(self.s, data=data, actor=self.staff["office"], now=t)
        self.events[name] = DemoEvent(event, {}, {}, {})

    def add_ticket(self, name: str, data: catalogue.TicketData, t: datetime) -> None:
        demo_event = self.events[name]
        ticket = catalogue.save_ticket(
            self.s,
            event_id=demo_event.event.id,
            data=data,
            actor=self.staff["office"],
            now=t,
            links=self.event_links,
        )
        demo_event.tickets[data.name] = ticket.id

    def add_workshop(self, name: str, data: catalogue.WorkshopData, t: datetime) -> None:
        demo_event = self.events[name]
        workshop = catalogue.save_workshop(
            self.s,
            event_id=demo_event.event.id,
            data=data,
            actor=self.staff["office"],
            now=t,
            links=self.event_links,
        )
        demo_event.workshops[data.title] = workshop.id

    def add_question(self, name: str, purpose: str, data: catalogue.QuestionData, t: datetime) -> None:
        demo_event = self.events[name]
        question = catalogue.save_question(
            self.s, event_id=demo_event.event.id, data=data, actor=self.staff["office"], now=t
        )
        demo_event.questions[purpose] = question.id

    def set_up_event(
        self,
        name: str,
        t: datetime,
        data: catalogue.EventData,
        tickets: Sequence[catalogue.TicketData],
        questions: Sequence[tuple[str, catalogue.QuestionData]],
        workshops: Sequence[catalogue.WorkshopData] = (),
    ) -> None:
        self.at(t, self.create_event, name, data)
        step = itertools.count(1)
        for ticket in tickets:
            self.at(t + timedelta(minutes=5 * next(step)), self.add_ticket, name, ticket)
        for workshop in workshops:
            self.at(t + timedelta(minutes=5 * next(step)), self.add_workshop, name, workshop)
        for purpose, question in questions:
            self.at(t + timedelta(minutes=5 * next(step)), self.add_question, name, purpose, question)

    def answers(self, name: str, booker: Booker) -> dict[int, str]:
        questions = self.events[name].questions
        values = {
            "dietary": self.people.diet(),
            "access": self.people.access(),
            "badge": booker.affiliation,
            "pronouns": self.people.pronouns(booker.person),
        }
        return {questions[k]: v for k, v in values.items() if k in questions and v}

    def book(self, name: str, booker: Booker, t: datetime) -> None:
        demo_event = self.events[name]
        ticket_id = demo_event.tickets[booker.ticket]
        ticket = self.s.execute(
            select(TicketType.quota, TicketType.taken).where(TicketType.id == ticket_id)
        ).one()
        if ticket.quota is not None and ticket.taken >= ticket.quota and not booker.stays_if_full:
            return  # sold out: they do not book after all
        chosen = []
        for preferences in booker.slots:
            free = [w for w in preferences if self.workshop_free(demo_event.workshops[w])]
            if booker.stays_if_full or preferences[0] in free:
                chosen.append(preferences[0])
            elif free:
                chosen.append(free[0])
        booking = sales.Booking(
            ticket_type_id=ticket_id,
            first_name=booker.person.first_name,
            last_name=booker.person.last_name,
            email=booker.email,
            workshop_ids=tuple(demo_event.workshops[w] for w in chosen),
            answers=self.answers(name, booker),
            student_declared=booker.ticket == "Student",
        )
        result = sales.book(
            self.s,
            event_id=demo_event.event.id,
            booking=booking,
            form_key=new_token(),
            member_id=booker.member.id if booker.member else None,
            account_id=booker.member.account_id if booker.member else None,
            now=t,
            links=self.event_links,
        )
        booker.registration_id = result.registration.id
        self.after_confirmation(booker, result.registration, t)

    def workshop_free(self, workshop_id: int) -> bool:
        row = self.s.execute(
            select(Workshop.capacity, Workshop.taken).where(Workshop.id == workshop_id)
        ).one()
        return row.capacity is None or row.taken < row.capacity

    def after_confirmation(self, booker: Booker, registration: Registration, t: datetime) -> None:
        """A confirmed booking with money owed is paid later, by those who pay (and not after now)."""
        if registration.status != "confirmed" or registration.amount_due <= 0 or booker.pays_after is None:
            return
        paid_at = t + booker.pays_after
        if paid_at < self.now - timedelta(hours=1):
            self.at(paid_at, self.pay, booker)

    def registration(self, booker: Booker) -> Registration | None:
        if booker.registration_id is None:
            return None
        registration = self.s.get(Registration, booker.registration_id)
        assert registration is not None
        self.s.refresh(registration)
        return registration

    def pay(self, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        if (
            registration is None
            or registration.status != "confirmed"
            or registration.payment_status != "unpaid"
        ):
            return
        payments.record_payment(
            self.s,
            registration_id=registration.id,
            amount=registration.amount_due - registration.amount_paid,
            method=booker.method,
            received_on=london_date(t),
            actor=self.staff["office"],
            now=t,
        )

    def cancel(self, name: str, booker: Booker, t: datetime) -> None:
        """The delegate gives their place back (or leaves the waitlist); a paid place is refunded."""
        registration = self.registration(booker)
        if registration is None or registration.status == "cancelled":
            return
        was_paid = registration.amount_paid > 0
        changes.cancel_by_delegate(self.s, registration=registration, now=t, links=self.event_links)
        if was_paid and t + timedelta(days=2) < self.now:
            self.at(t + timedelta(days=2), self.refund, booker)
        self.follow_offers(name, t)

    def refund(self, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        assert registration is not None
        payments.record_payment(
            self.s,
            registration_id=registration.id,
            amount=registration.amount_paid,
            method="bank_transfer",
            received_on=london_date(t),
            kind="refund",
            note="Cancelled before the cut-off: refunded in full.",
            actor=self.staff["office"],
            now=t,
        )

    def follow_offers(self, name: str, t: datetime) -> None:
        """People just offered a place: most take it up within a day or so (if that is already past)."""
        offered = self.s.scalars(
            select(Registration.id).where(
                Registration.event_id == self.events[name].event.id,
                Registration.status == "offered",
                Registration.offered_at == t,
            )
        ).all()
        by_id = {b.registration_id: b for b in self.bookers[name]}
        for registration_id in offered:
            booker = by_id[registration_id]
            accept_at = t + timedelta(hours=self.rng.uniform(3, 40))
            recent = t > self.now - timedelta(hours=48)
            if accept_at < self.now - timedelta(hours=1) and self.rng.random() < (0.25 if recent else 0.75):
                self.at(accept_at, self.accept, name, booker)

    def accept(self, name: str, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        if registration is None or not waitlist.offer_is_live(registration, t):
            return
        changes.accept_offer(self.s, registration=registration, now=t, links=self.event_links)
        self.after_confirmation(booker, registration, t)

    def cancel_holder(self, name: str, t: datetime) -> None:
        """Someone holding a student place, which others wait for, gives it back: the next student waiting
        is offered it."""
        demo_event = self.events[name]
        ids = set(
            self.s.scalars(
                select(Registration.id).where(
                    Registration.event_id == demo_event.event.id,
                    Registration.status == "confirmed",
                    Registration.ticket_type_id == demo_event.tickets["Student"],
                )
            )
        )
        holders = [b for b in self.bookers[name] if b.registration_id in ids]
        if holders:
            self.cancel(name, self.rng.choice(holders), t)

    def chase_unpaid(self, name: str, t: datetime) -> None:
        """The office cancels some of the bookings unpaid past their invoice's due date."""
        event_id = self.events[name].event.id
        overdue = bulk.overdue_unpaid(self.s, event_id=event_id, now=t)
        if overdue:
            chosen = [r.id for r in overdue[: max(1, len(overdue) // 2)]]
            bulk.cancel_unpaid(
                self.s,
                event_id=event_id,
                registration_ids=chosen,
                actor=self.staff["office"],
                now=t,
                links=self.event_links,
            )
            self.follow_offers(name, t)

    def waive_one(self, name: str, t: datetime) -> None:
        """A bursary: the office waives one unpaid student place."""
        by_id = {b.registration_id: b for b in self.bookers[name] if b.ticket == "Student"}
        unpaid = self.s.scalars(
            select(Registration.id)
            .where(
                Registration.id.in_([i for i in by_id if i is not None]),
                Registration.status == "confirmed",
                Registration.payment_status == "unpaid",
            )
            .order_by(Registration.id)
        ).first()
        if unpaid is not None:
            payments.waive_payment(self.s, registration_id=unpaid, actor=self.staff["office"], now=t)

    def member_booker(self, member: DemoMember, at: datetime, ticket: str, **extra: Any) -> Booker:
        return Booker(person=member.person, email=member.email, at=at, ticket=ticket, member=member, **extra)

    def guest_booker(self, at: datetime, ticket: str, **extra: Any) -> Booker:
        person = self.people.person()
        return Booker(person=person, email=self.people.email(person), at=at, ticket=ticket, **extra)

    def payer(self, *, chance: float, mean_days: float) -> dict[str, Any]:
        if self.rng.random() >= chance:
            return {"pays_after": None}
        delay = timedelta(hours=2) + timedelta(days=self.rng.expovariate(1 / mean_days))
        method = self.rng.choices(["bank_transfer", "card", "cheque"], weights=[80, 15, 5])[0]
        return {"pays_after": delay, "method": method}

    def plan_conference(self) -> None:
        rng, now = self.rng, self.now
        name = "conference"
        first_day = next_weekday(self.today + timedelta(days=66), 3)  # a Thursday, about ten weeks away
        starts, ends = london(first_day, 9), london(first_day + timedelta(days=1), 17)
        opens = london(self.today - timedelta(days=75), 9)
        early_bird_ends = london(self.today + timedelta(days=10), 0)
        self.set_up_event(
            name,
            london(self.today - timedelta(days=100), 11),
            catalogue.EventData(
                title=f"ISIPT Conference {first_day.year}: Interpersonal Psychotherapy across the lifespan",
                slug=f"isipt-{first_day.year}",
                kind="conference",
                starts_at=starts,
                ends_at=ends,
                registration_opens_at=opens,
                registration_closes_at=starts - timedelta(days=7),
                venue="Edinburgh International Conference Centre",
                address="The Exchange, 150 Morrison Street, Edinburgh EH3 8EE",
                description=(
                    "The International Society for Interpersonal Psychotherapy meets in Edinburgh, hosted by "
                    f"{SOCIETY}: two days of **keynotes, papers and workshops** on IPT for adolescents, adults "
                    "and older people, in the NHS and beyond.\n\nChoose up to three workshops when you book; "
                    "lunch and refreshments are included."
                ),
                capacity=220,
                contact_email="conference@example.org",
                status="published",
                tax_label="VAT",
                tax_rate_bp=0,
                cancellation_cutoff=starts - timedelta(days=21),
                cancellation_policy=(
                    "Cancel up to three weeks before the conference for a full refund. After that we cannot "
                    "refund, but you may pass your place to a colleague: write to conference@example.org."
                ),
                payment_due_days=14,
            ),
            tickets=[
                catalogue.TicketData(
                    "Member early-bird",
                    price=24500,
                    member_only=True,
                    sale_ends_at=early_bird_ends,
                    description=f"For members of {SOCIETY} booking before the early-bird date.",
                ),
                catalogue.TicketData(
                    "Member", price=29500, member_only=True, sale_starts_at=early_bird_ends, position=1
                ),
                catalogue.TicketData("Non-member", price=39500, position=2),
                catalogue.TicketData(
                    "Student",
                    price=12000,
                    student=True,
                    quota=20,
                    position=3,
                    description="Full-time students: you will be asked to confirm that you are a student.",
                ),
                catalogue.TicketData("Speaker", price=0, hidden=True, position=4),
            ],
            workshops=[
                catalogue.WorkshopData(
                    title,
                    london(first_day + timedelta(days=day), *start),
                    london(first_day + timedelta(days=day), *end),
                    capacity=capacity,
                )
                for day, start, end, title, capacity in CONFERENCE_WORKSHOPS
            ],
            questions=[
                (
                    "dietary",
                    catalogue.QuestionData(
                        "Dietary requirements",
                        kind="single_choice",
                        options="\n".join(DIETS),
                        required=True,
                        purpose="dietary",
                        position=1,
                    ),
                ),
                (
                    "access",
                    catalogue.QuestionData(
                        "Access needs",
                        kind="long_text",
                        hint="Anything that would make the conference easier for you to attend.",
                        purpose="access",
                        position=2,
                    ),
                ),
                (
                    "badge",
                    catalogue.QuestionData(
                        "Organisation or affiliation for your badge", purpose="badge", position=3
                    ),
                ),
                (
                    "pronouns",
                    catalogue.QuestionData(
                        "Pronouns for your badge", hint="Optional, for example she/her.", position=4
                    ),
                ),
            ],
        )
        assert self.demo_member is not None
        members = [m for m in self.in_standing() if m is not self.demo_member]
        speakers = rng.sample([m for m in members if m.accreditation in ("trainer", "supervisor")], 2)
        attending = rng.sample([m for m in members if m not in speakers], 88)
        start, end = opens + timedelta(minutes=30), now - timedelta(hours=3)
        bookers: list[Booker] = []
        for member, when in zip(speakers, spread(rng, opens, opens + timedelta(days=5), 2), strict=True):
            bookers.append(self.member_booker(member, when, "Speaker", affiliation=self.people.affiliation()))
        for first, last, affiliation in rng.sample(INTERNATIONAL, 2):
            bookers.append(
                Booker(
                    person=Person(first, last, "they"),
                    email=self.people.email(Person(first, last, "they")),
                    at=opens + timedelta(days=rng.uniform(0, 5)),
                    ticket="Speaker",
                    affiliation=affiliation,
                )
            )
        for member, when in zip(attending, spread(rng, start, end, len(attending), skew=1.6), strict=True):
            bookers.append(
                self.member_booker(
                    member,
                    when,
                    "Member early-bird",
                    affiliation=self.people.affiliation(),
                    **self.payer(chance=0.9, mean_days=6),
                )
            )
        guests = [
            (first, last, affiliation)
            for first, last, affiliation in INTERNATIONAL
            if all(b.person.last_name != last for b in bookers)
        ]
        for (first, last, affiliation), when in zip(
            guests, spread(rng, start, end, len(guests)), strict=True
        ):
            person = Person(first, last, "they")
            bookers.append(
                Booker(
                    person=person,
                    email=self.people.email(person),
                    at=when,
                    ticket="Non-member",
                    affiliation=affiliation,
                    **self.payer(chance=0.92, mean_days=3),
                )
            )
        for when in spread(rng, start, end, 20, skew=1.3):
            bookers.append(
                self.guest_booker(
                    when,
                    "Non-member",
                    affiliation=self.people.affiliation(),
                    **self.payer(chance=0.85, mean_days=8),
                )
            )
        # More students than student places: the quota is what puts conference bookings on the waitlist (a
        # full workshop waitlists only that workshop).
        for when in spread(rng, start, end, 36, skew=1.2):
            bookers.append(
                self.guest_booker(
                    when,
                    "Student",
                    affiliation=rng.choice(
                        ("University of Exeter", "King's College London", "University of Glasgow")
                    ),
                    stays_if_full=rng.random() < 0.7,
                    **self.payer(chance=0.85, mean_days=10),
                )
            )
        for booker in bookers:
            if booker.ticket != "Speaker" or booker.member is not None:
                booker.slots = self.workshop_choices()
            if booker.ticket != "Student":
                booker.stays_if_full = rng.random() < 0.2
        bookers.sort(key=lambda b: b.at)
        self.bookers[name] = bookers
        for booker in bookers:
            self.at(booker.at, self.book, name, booker)
        # Second thoughts: some give their place back (or leave the waitlist) a while after booking.
        for booker in rng.sample([b for b in bookers if b.ticket != "Speaker"], 9):
            when = booker.at + timedelta(days=rng.uniform(2, 25))
            if when < now - timedelta(days=3):
                self.at(when, self.cancel, name, booker)
        self.at(now - timedelta(days=12), self.waive_one, name)
        self.at(now - timedelta(days=4, hours=2), self.chase_unpaid, name)
        # Recent cancellations of places others are waiting for: the offers are still open now.
        for hours in (40, 26, 14):
            self.at(now - timedelta(hours=hours), self.cancel_holder, name)

    def workshop_choices(self) -> list[tuple[str, ...]]:
        chosen: list[tuple[str, ...]] = []
        for preferences, chance in zip(CONFERENCE_SLOTS, (0.75, 0.75, 0.4), strict=True):
            if self.rng.random() < chance:
                order = list(preferences)
                if len(order) == 2 and self.rng.random() < 0.45:
                    order.reverse()
                chosen.append(tuple(order))
        return chosen

    def plan_national_meeting(self) -> None:
        rng, now = self.rng, self.now
        name = "meeting"
        day = next_weekday(self.today + timedelta(days=24), 5)  # a Saturday, three or four weeks away
        starts = london(day, 10)
        opens = london(self.today - timedelta(days=40), 9)
        self.set_up_event(
            name,
            london(self.today - timedelta(days=50), 14),
            catalogue.EventData(
                title=f"{SOCIETY} National Meeting {day.year}",
                slug=f"national-meeting-{day.year}",
                kind="meeting",
                starts_at=starts,
                ends_at=london(day, 16, 30),
                registration_opens_at=opens,
                registration_closes_at=starts - timedelta(days=2),
                venue="Friends House",
                address="173 Euston Road, London NW1 2BJ",
                description=(
                    "The society's yearly gathering for members: the annual report, the new Executive "
                    "Committee, and an afternoon of case discussion groups. Free for members; lunch is "
                    "provided.\n\nPlaces are limited: if you cannot come, please give your place back so "
                    "someone on the waitlist can have it."
                ),
                capacity=80,
                members_only=True,
                contact_email="office@example.org",
                status="published",
                offer_hours=48,
            ),
            tickets=[catalogue.TicketData("Member place", price=0, member_only=True)],
            questions=[
                (
                    "dietary",
                    catalogue.QuestionData(
                        "Dietary requirements (lunch is provided)",
                        kind="single_choice",
                        options="\n".join(DIETS),
                        purpose="dietary",
                    ),
                )
            ],
        )
        assert self.demo_member is not None
        members = rng.sample([m for m in self.in_standing() if m is not self.demo_member], 86)
        times = spread(rng, opens + timedelta(minutes=20), now - timedelta(days=12), 80, skew=1.8)
        # The first 80 fill the meeting (the demo member among the early ones); the 81st takes the place one
        # of them gives back; the last six wait.
        first = list(members[:79])
        first.insert(12, self.demo_member)
        later = [now - timedelta(days=10), *spread(rng, now - timedelta(days=9), now - timedelta(days=4), 6)]
        bookers = [
            self.member_booker(m, t, "Member place")
            for m, t in zip(first + members[79:], times + later, strict=True)
        ]
        self.bookers[name] = bookers
        for booker in bookers:
            self.at(booker.at, self.book, name, booker)
        # One gives a place back before anyone waits; later three do while people wait (the first offer is
        # taken up; the last two are still open).
        keepers = [b for b in bookers[:80] if b.member is not self.demo_member]
        leaving = rng.sample(keepers, 4)
        self.at(now - timedelta(days=11), self.cancel, name, leaving[0])
        self.at(now - timedelta(hours=60), self.cancel_first_offer_taken, name, leaving[1])
        self.at(now - timedelta(hours=30), self.cancel_and_leave_offer, name, leaving[2])
        self.at(now - timedelta(hours=18), self.cancel_and_leave_offer, name, leaving[3])

    def cancel_first_offer_taken(self, name: str, booker: Booker, t: datetime) -> None:
        self.cancel_and_leave_offer(name, booker, t)
        for registration_id in self.s.scalars(
            select(Registration.id).where(
                Registration.event_id == self.events[name].event.id,
                Registration.status == "offered",
                Registration.offered_at == t,
            )
        ):
            offered = next(b for b in self.bookers[name] if b.registration_id == registration_id)
            self.at(t + timedelta(hours=10), self.accept, name, offered)

    def cancel_and_leave_offer(self, name: str, booker: Booker, t: datetime) -> None:
        registration = self.registration(booker)
        assert registration is not None and registration.status == "confirmed"
        changes.cancel_by_delegate(self.s, registration=registration, now=t, links=self.event_links)

    def plan_skills_day(self) -> None:
        """A training day on today, its door open: check-in has something to admit."""
        rng, now = self.rng, self.now
        name = "skills_day"
        local_now = now.astimezone(LONDON)
        starts = london(self.today, 9, 30)
        if not starts - timedelta(hours=2) <= now <= starts + timedelta(hours=8):
            starts = (
                (local_now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
            )
        self.skills_starts = starts
        opens = london(self.today - timedelta(days=45), 9)
        self.set_up_event(
            name,
            london(self.today - timedelta(days=60), 15),
            catalogue.EventData(
                title="IPT skills day: grief and role transitions",
                slug=f"skills-day-{self.today.isoformat()}",
                kind="training",
                starts_at=starts,
                ends_at=starts + timedelta(hours=7),
                registration_opens_at=opens,
                registration_closes_at=starts - timedelta(days=1),
                venue="Friends Meeting House",
                address="6 Mount Street, Manchester M2 5NS",
                description=(
                    "A practical day on the two problem areas most often met in practice, with role-plays "
                    "and supervision in small groups. Six hours of CPD."
                ),
                capacity=40,
                contact_email="training@example.org",
                status="published",
                payment_due_days=7,
            ),
            tickets=[
                catalogue.TicketData("Member", price=4500, member_only=True),
                catalogue.TicketData("Non-member", price=7500, position=1),
            ],
            questions=[
                (
                    "dietary",
                    catalogue.QuestionData(
                        "Dietary requirements",
                        kind="single_choice",
                        options="\n".join(DIETS),
                        required=True,
                        purpose="dietary",
                    ),
                ),
                ("badge", catalogue.QuestionData("Organisation for your badge", purpose="badge", position=1)),
            ],
        )
        assert self.demo_member is not None
        members = rng.sample([m for m in self.in_standing() if m is not self.demo_member], 22)
        times = spread(rng, opens + timedelta(hours=1), now - timedelta(days=2), 34, skew=1.3)
        bookers = [
            self.member_booker(
                m, t, "Member", affiliation=self.people.affiliation(), **self.payer(chance=0.94, mean_days=2)
            )
            for m, t in zip(members, times[:22], strict=True)
        ]
        bookers += [
            self.guest_booker(
                t, "Non-member", affiliation=self.people.affiliation(), **self.payer(chance=0.94, mean_days=2)
            )
            for t in times[22:]
        ]
        bookers.sort(key=lambda b: b.at)
        self.bookers[name] = bookers
        for booker in bookers:
            self.at(booker.at, self.book, name, booker)
        for booker in rng.sample(bookers[:20], 2):
            when = booker.at + timedelta(days=rng.uniform(3, 10))
            if when < now - timedelta(days=1):
                self.at(when, self.cancel, name, booker)
        # The door: from 45 minutes before the start (or as soon as the door opened) until a moment ago.
        window_opens = starts - timedelta(hours=3)
        first = max(starts - timedelta(minutes=45), window_opens)
        if first >= now - timedelta(minutes=3):
            first = window_opens
        if first < now - timedelta(minutes=3):
            self.at(first, self.plan_door, name, first)

    def plan_door(self, name: str, first: datetime, t: datetime) -> None:
        """Door staff scan arriving delegates' badges: most of those with a place, one twice, and one who
        has not paid (sent to the desk)."""
        event_id = self.events[name].event.id
        rows = self.s.execute(
            select(Registration.id, Registration.payment_status)
            .where(Registration.event_id == event_id, Registration.status == "confirmed")
            .order_by(Registration.id)
        ).all()
        paid = [r.id for r in rows if r.payment_status in ("paid", "waived")]
        unpaid = [r.id for r in rows if r.payment_status == "unpaid"]
        arriving = self.rng.sample(paid, len(paid) * 2 // 5)
        if not arriving:
            return
        times = spread(self.rng, first, self.now - timedelta(minutes=2), len(arriving) + 2)
        for registration_id, when in zip(arriving, times, strict=False):
            self.at(when, self.scan, event_id, registration_id)
        self.at(times[-2], self.scan, event_id, arriving[0])
        if unpaid:
            self.at(times[-1], self.scan, event_id, unpaid[0])

    def scan(self, event_id: int, registration_id: int, t: datetime) -> None:
        registration = self.s.get(Registration, registration_id)
        assert registration is not None
        checkin.check_in(
            self.s,
            key=self.key,
            place=checkin.place_for(self.s, event_id=event_id),
            scanner=checkin.Scanner(door="Main entrance", account_id=self.staff["door"].id),
            scan=checkin.Scan(nonce=new_token(16), code=badging.code_for(self.key, registration)),
            now=t,
        )

    # --- elections ---

    def candidacy(
        self, contest: str, candidate: DemoMember, pool: Sequence[DemoMember], **extra: Any
    ) -> Candidacy:
        proposer, seconder = self.rng.sample([m for m in pool if m is not candidate], 2)
        return Candidacy(
            contest,
            candidate,
            proposer,
            seconder,
            self_nominated=self.rng.random() < 0.7,
            popularity=self.rng.uniform(0.5, 1.5),
            photo=self.rng.random() < 0.6,
            **extra,
        )

    def plan_past_election(self) -> None:
        today = self.today
        close = london(today - timedelta(days=364), 17)
        pool = self.in_standing()
        assert self.demo_member is not None
        stand = self.rng.sample(
            [m for m in pool if m.accreditation != "none" and m is not self.demo_member], 8
        )
        candidacies = [
            self.candidacy("Chair", stand[0], pool),
            self.candidacy("Chair", stand[1], pool),
            self.candidacy("Treasurer", stand[2], pool),
            *(self.candidacy("Ordinary committee member", m, pool) for m in stand[3:]),
        ]
        self.elections["past"] = DemoElection(
            title=f"Executive Committee election {close.year}",
            created_at=london(today - timedelta(days=405), 10),
            setup=elections.ElectionSetup(
                title=f"Executive Committee election {close.year}",
                description=(
                    "Elections to the Executive Committee: the Chair, the Treasurer and three ordinary "
                    "members, each for two years. Ranked posts are counted by STV (ERS97 rules)."
                ),
                nominations_open_at=london(today - timedelta(days=400), 9),
                nominations_close_at=london(today - timedelta(days=386), 17),
                withdrawal_deadline_at=london(today - timedelta(days=384), 17),
                voting_open_at=london(today - timedelta(days=378), 9),
                voting_close_at=close,
                stv_rule="ers97",
                results_public=True,
            ),
            contests=[
                elections.ContestSetup("Chair", seats=1, method="stv", officer=True, position=1),
                elections.ContestSetup("Treasurer", seats=1, method="stv", officer=True, position=2),
                elections.ContestSetup("Ordinary committee member", seats=3, method="stv", position=3),
            ],
            candidacies=candidacies,
            turnout=0.46,
            voters_included=[self.demo_member],
        )
        self.plan_election("past")

    def plan_current_election(self) -> None:
        today = self.today
        pool = [
            m for m in self.in_standing() if m.renewal_on is None or m.renewal_on > today + timedelta(days=1)
        ]
        assert self.demo_member is not None
        stand = self.rng.sample(
            [m for m in pool if m.accreditation != "none" and m is not self.demo_member], 14
        )
        candidacies = [
            self.candidacy("Chair", stand[0], pool),
            self.candidacy("Chair", stand[1], pool),
            self.candidacy("Secretary", stand[2], pool),
            self.candidacy("Secretary", stand[3], pool),
            self.candidacy("Treasurer", stand[4], pool),
            # The runner-up for Chair stands for the committee too (the count withdraws a winner from later posts).
            self.candidacy("Ordinary committee member", stand[1], pool),
            *(self.candidacy("Ordinary committee member", m, pool) for m in stand[5:11]),
            self.candidacy("Ordinary committee member", stand[11], pool, fate="withdraw"),
            self.candidacy("Ordinary committee member", stand[12], pool, fate="decline"),
            self.candidacy("Secretary", stand[13], pool, fate="reject"),
        ]
        close = london(today + timedelta(days=8), 17)
        self.elections["current"] = DemoElection(
            title=f"Executive Committee election {close.year}",
            created_at=london(today - timedelta(days=45), 10),
            setup=elections.ElectionSetup(
                title=f"Executive Committee election {close.year}",
                description=(
                    "Elections to the Executive Committee: the Chair, the Secretary, the Treasurer and four "
                    "ordinary members, each for two years. Every post is ranked and counted by STV (ERS97 "
                    "rules): number the candidates in the order you prefer them, as many or as few as you "
                    "like."
                ),
                nominations_open_at=london(today - timedelta(days=35), 9),
                nominations_close_at=london(today - timedelta(days=14), 17),
                withdrawal_deadline_at=london(today - timedelta(days=12), 17),
                voting_open_at=min(london(today - timedelta(days=6), 9), self.now - timedelta(days=5)),
                voting_close_at=close,
                ballot_order="shuffled",
                reminder_days=(3, 1),
                stv_rule="ers97",
                results_public=True,
            ),
            contests=[
                elections.ContestSetup("Chair", seats=1, method="stv", ron=True, officer=True, position=1),
                elections.ContestSetup("Secretary", seats=1, method="stv", officer=True, position=2),
                elections.ContestSetup(
                    "Treasurer", seats=1, method="stv", ron=True, officer=True, position=3
                ),
                elections.ContestSetup("Ordinary committee member", seats=4, method="stv", position=4),
            ],
            candidacies=candidacies,
            turnout=0.40,
            voters_excluded=[self.demo_member],
        )
        self.plan_election("current")

    def plan_election(self, name: str) -> None:
        rng = self.rng
        election = self.elections[name]
        setup = election.setup
        self.at(election.created_at, self.create_election, name)
        opens, closes = setup.nominations_open_at, setup.nominations_close_at
        for candidacy, when in zip(
            election.candidacies,
            spread(rng, opens + timedelta(hours=3), closes - timedelta(days=4), len(election.candidacies)),
            strict=True,
        ):
            self.at(when, self.nominate, name, candidacy)
        decided = closes + timedelta(hours=rng.uniform(14, 22))
        self.at(decided, self.decide, name)
        for candidacy in election.candidacies:
            if candidacy.fate == "withdraw":
                self.at(decided + timedelta(hours=6), self.withdraw, name, candidacy)
        self.at(setup.voting_open_at, self.open_voting, name)
        if setup.voting_close_at < self.now:
            self.at(setup.voting_close_at + timedelta(minutes=3), self.close_and_count, name)

    def create_election(self, name: str, t: datetime) -> None:
        election = self.elections[name]
        officer = self.staff["returning_officer"]
        created = elections.create_election(self.s, actor=officer, setup=election.setup, now=t)
        election.election_id = created.id
        for n, contest in enumerate(election.contests):
            self.at(t + timedelta(minutes=n + 1), self.add_contest, name, contest)
        self.at(t + timedelta(days=1), self.make_trustees, name)

    def make_trustees(self, name: str, t: datetime) -> None:
        """The returning officer names the trustees (herself and both scrutineers, any 2 of 3) and makes the
        election key; each trustee downloads their share (kept for the command to write under var/) and
        checks it."""
        election_id = self.elections[name].election_id
        officer = self.staff["returning_officer"]
        people = [officer, self.staff["scrutineer@example.org"], self.staff["scrutineer2@example.org"]]
        trustees.name_trustees(
            self.s,
            actor=officer,
            election_id=election_id,
            account_ids=[p.id for p in people],
            threshold=2,
            now=t,
        )
        trustees.make_key(self.s, actor=officer, election_id=election_id, key=self.key, now=t)
        for n, person in enumerate(people):
            self.at(t + timedelta(hours=2 + n), self.take_share, name, person)

    def take_share(self, name: str, person: Account, t: datetime) -> None:
        election_id = self.elections[name].election_id
        _, text = trustees.download_share(
            self.s, account_id=person.id, election_id=election_id, key=self.key, now=t
        )
        trustees.check_share(self.s, account_id=person.id, election_id=election_id, text=text, now=t)
        who = person.email.split("@")[0]
        self.shares[name].append((f"election-{election_id}-{who}.share", text))

    def add_contest(self, name: str, contest: elections.ContestSetup, t: datetime) -> None:
        elections.add_contest(
            self.s,
            actor=self.staff["returning_officer"],
            election_id=self.elections[name].election_id,
            setup=contest,
            now=t,
        )

    def nominate(self, name: str, candidacy: Candidacy, t: datetime) -> None:
        """The nomination, then the proposer, seconder and (when someone else nominated) the candidate
        answer the links e-mailed to them, within a couple of days."""
        election = self.elections[name]
        contest_id = self.s.scalar(
            select(Contest.id).where(
                Contest.election_id == election.election_id, Contest.title == candidacy.contest
            )
        )
        assert contest_id is not None
        person = candidacy.candidate.person
        photo = None
        if candidacy.photo:
            photo = photos.clean_photo(
                portrait(person.first_name[0] + person.last_name[0], self.rng.choice(PORTRAIT_COLOURS))
            )
        nominator = candidacy.candidate if candidacy.self_nominated else candidacy.proposer
        nomination = elections.nominate(
            self.s,
            election_id=election.election_id,
            nominator_id=nominator.id,
            form=elections.NominationForm(
                contest_id=contest_id,
                nominee_id=candidacy.candidate.id,
                proposer_id=candidacy.proposer.id,
                seconder_id=candidacy.seconder.id,
                statement=statement(self.rng),
                photo=photo,
            ),
            now=t,
            key=self.key,
            links=self.election_links,
        )
        candidacy.nomination_id = nomination.id
        roles = {
            row.token_digest: row.role
            for row in self.s.scalars(
                select(NominationToken).where(NominationToken.nomination_id == nomination.id)
            )
        }
        deadline = election.setup.nominations_close_at - timedelta(hours=1)
        for token in self._take_inbox():
            role = roles[token_digest(self.key, token, purpose="nomination")]
            confirm = not (candidacy.fate == "decline" and role == "seconder")
            when = min(t + timedelta(hours=self.rng.uniform(1, 60)), deadline)
            self.at(when, self.answer, token, confirm)

    def answer(self, token: str, confirm: bool, t: datetime) -> None:
        _, nomination = elections.nomination_token(self.s, token=token, key=self.key)
        if nomination.status == "pending":  # not already ended by someone else declining
            elections.answer_nomination(self.s, token=token, confirm=confirm, now=t, key=self.key)

    def decide(self, name: str, t: datetime) -> None:
        """The returning officer goes through the nominations, one every four minutes."""
        for n, candidacy in enumerate(self.elections[name].candidacies):
            self.at(t + timedelta(minutes=4 * n), self.decide_one, name, candidacy)

    def decide_one(self, name: str, candidacy: Candidacy, t: datetime) -> None:
        nomination = self.s.get(Nomination, candidacy.nomination_id)
        assert nomination is not None
        if nomination.status != "submitted":
            return
        reject = candidacy.fate == "reject"
        elections.decide_nomination(
            self.s,
            actor=self.staff["returning_officer"],
            election_id=self.elections[name].election_id,
            nomination_id=nomination.id,
            accept=not reject,
            reason="The seconder's membership had lapsed when they seconded." if reject else "",
            now=t,
        )

    def withdraw(self, name: str, candidacy: Candidacy, t: datetime) -> None:
        elections.withdraw_nomination(
            self.s,
            election_id=self.elections[name].election_id,
            nomination_id=candidacy.nomination_id,
            member_id=candidacy.candidate.id,
            now=t,
        )

    def open_voting(self, name: str, t: datetime) -> None:
        """Voting opens: the roll freezes (every member on it is e-mailed a ballot link) and members vote
        through the voting period, most of them early."""
        election = self.elections[name]
        roll.freeze_roll(
            self.s, election_id=election.election_id, now=t, key=self.key, links=self.election_links
        )
        stored = elections.get_election(self.s, election.election_id)
        election.ballot = ballot_contests(self.s, stored, key=self.key)
        on_roll = set(self.s.scalars(select(RollEntry.member_id).where(RollEntry.election_id == stored.id)))
        excluded = {m.id for m in election.voters_excluded}
        # Only those still in good standing at the end vote (an overdue renewal would refuse the ballot).
        able = [
            m
            for m in self.members
            if m.id in on_roll
            and m.id not in excluded
            and (m.renewal_on is None or m.renewal_on > min(self.today, london_date(stored.voting_close_at)))
        ]
        chosen = self.rng.sample(able, round(len(on_roll) * election.turnout) - len(election.voters_included))
        voters = [*election.voters_included, *(m for m in chosen if m not in election.voters_included)]
        self.rng.shuffle(voters)
        end = min(stored.voting_close_at, self.now) - timedelta(minutes=10)
        for member, when in zip(
            voters, spread(self.rng, t + timedelta(minutes=5), end, len(voters), skew=1.7), strict=True
        ):
            self.at(when, self.cast, name, member)

    def preferences(self, name: str, contest: BallotContest) -> list[Choice]:
        """A ranking drawn by popularity (re-open nominations rarely first); some rank only a few."""
        if self.rng.random() < 0.03:
            return []
        weights = {c.nomination_id: c.popularity for c in self.elections[name].candidacies}
        options = list(contest.options)
        length = len(options) if self.rng.random() < 0.4 else self.rng.randint(1, len(options))
        ranked: list[Choice] = []
        while options and len(ranked) < length:
            pick = self.rng.choices(
                options, weights=[0.12 if o.key == "RON" else weights[int(o.key)] for o in options]
            )[0]
            options.remove(pick)
            ranked.append(pick.choice)
        return ranked

    def cast(self, name: str, member: DemoMember, t: datetime) -> None:
        election = self.elections[name]
        voting.cast_ballot(
            self.s,
            election_id=election.election_id,
            member_id=member.id,
            selections={c.id: self.preferences(name, c) for c in election.ballot},
            key=self.key,
            now=t,
        )

    def close_and_count(self, name: str, t: datetime) -> None:
        """The close: voting closes, then the returning officer and a scrutineer give their shares and the
        ballot box is opened (the ballots' fingerprint recorded); the count the next morning, publication
        the day after."""
        election_id = self.elections[name].election_id
        voting.close_voting(self.s, election_id=election_id, now=t)
        voting.open_ballot_box(
            self.s,
            actor=self.staff["returning_officer"],
            election_id=election_id,
            shares=[trustees.GivenShare(text=text) for _, text in self.shares[name][:2]],
            key=self.key,
            now=t + timedelta(minutes=20),
        )
        self.at(t + timedelta(hours=16), self.count, election_id)
        self.at(t + timedelta(days=2), self.publish, election_id)

    def count(self, election_id: int, t: datetime) -> None:
        results.run_count(
            self.s, actor=self.staff["returning_officer"], election_id=election_id, now=t, key=self.key
        )

    def publish(self, election_id: int, t: datetime) -> None:
        results.publish_results(
            self.s, actor=self.staff["returning_officer"], election_id=election_id, now=t, key=self.key
        )

    # --- the end ---

    def deliver_outbox(self) -> None:
        """Everything e-mailed so far went to the log (no SMTP server in the demo's past): mark it so, a
        moment after it was written, through the sender's own claim and record."""
        worker = "portal demo"
        claimed = mail.claim(
            self.s, worker=worker, now=self.now, limit=1_000_000, message_domain="example.org"
        )
        written = (
            dict(
                self.s.execute(
                    select(OutboxEmail.id, OutboxEmail.created_at).where(OutboxEmail.id.in_(claimed))
                ).all()
            )
            if claimed
            else {}
        )
        for email_id in claimed:
            mail.mark_sent(
                self.s,
                email_id=email_id,
                worker=worker,
                now=written[email_id] + timedelta(seconds=20),
                logged=True,
            )

    def report(self) -> DemoReport:
        bookings: dict[str, dict[str, int]] = {}
        listed: list[tuple[str, str]] = []
        for demo_event in sorted(self.events.values(), key=lambda e: e.event.starts_at):
            event = demo_event.event
            counts = Counter(
                dict(
                    self.s.execute(
                        select(Registration.status, func.count())
                        .where(Registration.event_id == event.id)
                        .group_by(Registration.status)
                    ).all()
                )
            )
            bookings[event.slug] = dict(counts)
            state = catalogue.STATE_LABELS[catalogue.event_state(event, self.now)]
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            listed.append((event.title, f"/events/{event.slug}: {state.lower()}; {summary}"))
        stages = []
        for election in self.elections.values():
            stored = elections.get_election(self.s, election.election_id)
            turnout = results.turnout(self.s, stored)
            stage = (
                "results published"
                if stored.published_at
                else f"voting open until {stored.voting_close_at.astimezone(LONDON):%-d %B %H:%M}"
            )
            stages.append(
                (
                    stored.title,
                    f"{stage}; {turnout.voted} of {turnout.roll} on the roll have voted "
                    f"(/elections/{stored.id})",
                )
            )
        members = self.s.scalar(select(func.count()).select_from(Member)) or 0
        return DemoReport(
            logins=LOGINS,
            members=members,
            bookings=bookings,
            elections=stages,
            events=listed,
            shares=list(self.shares["current"]),
        )
