"""Fixtures for the membership roll: the option lists put back on PostgreSQL, an office login, members made
directly, roll files built like the office's exports, and the browser fixtures of tests/browser (re-exported
so the roll's browser journey can live beside the roll's other tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from support import login, make_account

from portal.members.models import Member
from portal.members.service import seed_default_options

HEADINGS = [
    "Membership No",
    "Email Address",
    "Forename",
    "Surname",
    "Category",
    "Status",
    "Joined",
    "Renewal date",
]


@pytest.fixture(autouse=True)
def _option_lists(request: pytest.FixtureRequest) -> None:
    """The PostgreSQL test database is emptied after every test, the migration's seeded categories and levels
    with it: put them back for tests that use a database (SQLite tests get a fresh migrated copy anyway)."""
    if "database" in request.fixturenames:
        database = request.getfixturevalue("database")
        with database.session() as session:
            seed_default_options(session)


@pytest.fixture
def office(database: Any, passwords: Any, admin: Any) -> Any:
    return make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")


@pytest.fixture
def office_client(client: TestClient, office: Any) -> TestClient:
    login(client, "office@example.org")
    return client


@pytest.fixture
def add_member(database: Any) -> Callable[..., int]:
    """Put a member on the roll directly; returns its id."""

    def add(number: str, email: str, first: str = "Pat", last: str = "Example", **fields: Any) -> int:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        values: dict[str, Any] = {
            "category": "basic",
            "accreditation": "none",
            "status": "active",
            "joined_on": date(2020, 1, 1),
            "renewal_on": date(2027, 1, 1),
            **fields,
        }
        with database.session() as session:
            member = Member(
                membership_number=number,
                email=email,
                first_name=first,
                last_name=last,
                created_at=now,
                updated_at=now,
                **values,
            )
            session.add(member)
            session.flush()
            return member.id

    return add


def roll_csv(
    rows: Sequence[Sequence[str]],
    *,
    headings: Sequence[str] = HEADINGS,
    delimiter: str = ",",
    bom: bool = False,
    newline: str = "\r\n",
) -> bytes:
    """A roll file as a spreadsheet saves it: cells with the delimiter, a quote or a newline are quoted."""

    def cell(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delimiter.join(cell(v) for v in row) for row in [list(headings), *rows]]
    return (("\ufeff" if bom else "") + newline.join(lines) + newline).encode()


@pytest.fixture
def make_roll() -> Callable[..., bytes]:
    return roll_csv


@pytest.fixture
def members_of(database: Any) -> Callable[[], dict[str, Member]]:
    """The roll as it is now, by membership number."""

    def read() -> dict[str, Member]:
        with database.session(write=False) as session:
            return {m.membership_number: m for m in session.scalars(select(Member))}

    return read
