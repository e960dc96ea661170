"""Fixtures for the election tests: members, a returning officer, and elections at any point of their
timetable (relative to the test clock), built through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from starlette.routing import Router
from support import make_account

from bench import trustee_kit
from portal.accounts.models import Account
from portal.app import build_routes
from portal.db import Database
from portal.elections import roll, service, trustees, voting
from portal.elections.links import Links
from portal.elections.models import Contest, Election, Nomination
from portal.members.models import Member


def add_member(
    session: Any,
    number: str,
    *,
    first: str = "Member",
    last: str | None = None,
    email: str | None = "",
    category: str = "basic",
    accreditation: str = "none",
    status: str = "active",
    renewal_on: Any = None,
) -> Member:
    """A member; the e-mail defaults to <number>@example.org (pass None for none)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    member = Member(
        membership_number=number,
        email=(f"{number.lower()}@example.org" if email == "" else email),
        first_name=first,
        last_name=last or f"Surname{number}",
        category=category,
        accreditation=accreditation,
        status=status,
        renewal_on=renewal_on,
        created_at=now,
        updated_at=now,
    )
    session.add(member)
    session.flush()
    return member


@pytest.fixture
def links() -> Links:
    return Links("http://testserver", Router(routes=build_routes()).url_path_for)


@pytest.fixture
def officer(database: Database, passwords: Any) -> Account:
    return make_account(
        database, passwords, email="ro@example.org", name="Rita Returning", roles="returning_officer"
    )


def timetable(now: datetime, phase: str) -> dict[str, datetime]:
    """A timetable that puts `now` in the given phase."""
    day = timedelta(days=1)
    starts = {
        "draft": now + 2 * day,
        "nominations": now - 2 * day,
        "between": now - 10 * day,
        "voting": now - 20 * day,
        "closed": now - 40 * day,
    }[phase]
    return {
        "nominations_open_at": starts,
        "nominations_close_at": starts + 5 * day,
        "withdrawal_deadline_at": starts + 6 * day,
        "voting_open_at": starts + 19 * day + timedelta(hours=23),
        "voting_close_at": starts + 19 * day + timedelta(hours=23) + 7 * day,
    }


def make_setup(now: datetime, phase: str = "draft", **extra: Any) -> service.ElectionSetup:
    return service.ElectionSetup(**{"title": "Executive Committee 2027", **timetable(now, phase), **extra})


@dataclass
class World:
    """An election with posts and accepted candidates, and the members who can vote in it."""

    election_id: int
    contests: dict[str, int]
    #: Post title → candidate surname → nomination id.
    candidates: dict[str, dict[str, int]]
    voters: list[int] = field(default_factory=list)
    #: The trustees' accounts (the returning officer first) and each one's share file, by account id.
    trustee_ids: list[int] = field(default_factory=list)
    shares: dict[int, str] = field(default_factory=dict)

    def share_texts(self, count: int = 2) -> list[str]:
        return [self.shares[account_id] for account_id in self.trustee_ids[:count]]

    def choice(self, post: str, surname: str) -> int:
        return self.candidates[post][surname]


SCRUTINEERS = (("sam.patel@example.org", "Sam Patel"), ("sue.okafor@example.org", "Sue Okafor"))


def scrutineer(session: Any, email: str, name: str) -> Account:
    """A scrutineer's account (made once per database)."""
    found = session.scalar(select(Account).where(Account.email == email))
    if found is None:
        found = Account(
            email=email, name=name, roles="scrutineer", created_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        session.add(found)
        session.flush()
    return found


def make_trustees(
    database: Database, world: World, officer: Account, *, now: datetime, key: bytes, check: bool = True
) -> None:
    """The returning officer and two scrutineers named trustees (2 of 3), the key made, and each share
    downloaded (into `world.shares`) and, unless `check` is False, checked."""
    with database.session() as session:
        ids = [officer.id] + [scrutineer(session, email, name).id for email, name in SCRUTINEERS]
    world.trustee_ids = ids
    shares = trustee_kit.hand_out(database, world.election_id, ids, key=key, now=now, check=check)
    world.shares.update(zip(ids, shares, strict=True))


def build_world(
    database: Database,
    officer: Account,
    *,
    now: datetime,
    posts: list[tuple[str, int, str, bool, list[str]]] | None = None,
    voters: int = 3,
    key: bytes | None = None,
    **setup: Any,
) -> World:
    """An election whose nominations are settled (candidates accepted directly), with `voters` members,
    and (given the secret `key`) its trustees named, its key made and every share downloaded and checked.
    Its timetable starts as "between"; move the clock or use `open_world` to vote."""
    posts = posts or [("Chair", 1, "plurality", False, ["Adams", "Brown"])]
    with database.session() as session:
        election = Election(created_at=now, pool_closed=False, manual_reminders=0, tracker_public=False)
        service._apply(election, make_setup(now, "between", **setup))
        session.add(election)
        session.flush()
        world = World(election_id=election.id, contests={}, candidates={})
        number = 0
        for position, (title, seats, method, ron, names) in enumerate(posts):
            contest = Contest(
                election_id=election.id,
                title=title,
                seats=seats,
                method=method,
                ron=ron,
                officer=False,
                position=position,
            )
            session.add(contest)
            session.flush()
            world.contests[title] = contest.id
            world.candidates[title] = {}
            for surname in names:
                number += 1
                candidate = add_member(session, f"C{contest.id:02d}{number:03d}", first="Cand", last=surname)
                sponsor_a = add_member(session, f"P{contest.id:02d}{number:03d}", first="Prop")
                sponsor_b = add_member(session, f"S{contest.id:02d}{number:03d}", first="Sec")
                nomination = Nomination(
                    election_id=election.id,
                    contest_id=contest.id,
                    member_id=candidate.id,
                    nominator_id=candidate.id,
                    proposer_id=sponsor_a.id,
                    seconder_id=sponsor_b.id,
                    statement=f"I am {surname}. Vote for me.",
                    status="accepted",
                    live=True,
                    created_at=now,
                    consent_at=now,
                    proposer_confirmed_at=now,
                    seconder_confirmed_at=now,
                )
                session.add(nomination)
                session.flush()
                world.candidates[title][surname] = nomination.id
        for i in range(voters):
            world.voters.append(add_member(session, f"V{i:05d}", first="Voter", last=f"Number{i:05d}").id)
    if key is not None:
        make_trustees(database, world, officer, now=now, key=key)
    return world


def open_world(database: Database, world: World, *, now: datetime, links: Links, key: bytes) -> None:
    """Open voting at `now` (the clock moved into the voting window) and freeze the roll (making the
    trustees first if `build_world` was not given the key)."""
    if not world.shares:
        with database.session() as session:
            officer = session.scalar(
                select(Account).where(Account.roles.contains("returning_officer")).order_by(Account.id)
            )
        make_trustees(database, world, officer, now=now, key=key)
    with database.session() as session:
        election = session.get(Election, world.election_id)
        election.voting_open_at = now - timedelta(minutes=1)
        election.voting_close_at = now + timedelta(days=7)
        session.flush()
        assert roll.freeze_roll(session, election_id=world.election_id, now=now, key=key, links=links)


def close_world(
    database: Database, world: World, *, now: datetime, key: bytes, shares: list[str] | None = None
) -> int:
    """At `now` (after the close): the returning officer and the first scrutineer give their shares, and
    the ballot box is opened. Returns how many ballots were opened."""
    with database.session() as session:
        return voting.open_ballot_box(
            session,
            actor=None,
            election_id=world.election_id,
            shares=[trustees.GivenShare(text=t) for t in (shares or world.share_texts())],
            key=key,
            now=now,
        )


class Kit:
    """The helpers above, as a fixture (test modules cannot import this conftest by name). Its
    `build_world` makes the trustees and key with the test's secret key unless given `trustees=False`."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def build_world(
        self, database: Database, officer: Account, *, trustees: bool = True, **kwargs: Any
    ) -> World:
        if trustees:
            kwargs.setdefault("key", self.key)
        return build_world(database, officer, **kwargs)

    World = World
    add_member = staticmethod(add_member)
    open_world = staticmethod(open_world)
    close_world = staticmethod(close_world)
    make_trustees = staticmethod(make_trustees)
    make_setup = staticmethod(make_setup)
    timetable = staticmethod(timetable)


@pytest.fixture
def kit(key: bytes) -> Kit:
    return Kit(key)
