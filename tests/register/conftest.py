"""The register's tests start from what `portal db upgrade` makes (the courses and the five levels), with a
factory for registrants: a member on the roll holding a level (recorded through the accreditation room's own
service), optionally with a login of their own."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from support import SmtpServer, csrf_token, make_account, smtp_server

from portal.accounts.models import Account
from portal.accreditation import cpd
from portal.accreditation import service as accreditation
from portal.mail.sender import Sender
from portal.members.models import Member
from portal.settings import Settings
from portal.training import service as training

STARTED = re.compile(r'name="started" value="([^"]+)"')
#: The test clock's UK day (support.Clock starts at 2026-11-25 09:00 UTC).
TODAY = date(2026, 11, 25)


@pytest.fixture
def levels(database: Any, admin: Any, clock: Any) -> dict[str, int]:
    with database.session() as s:
        training.ensure_courses(s, now=clock())
        accreditation.ensure_levels(s, now=clock())
        return {level.slug: level.id for level in accreditation.list_levels(s)}


@dataclasses.dataclass(frozen=True)
class Registrant:
    member_id: int
    number: str
    email: str
    name: str
    account_id: int | None


@pytest.fixture
def registrant(
    database: Any, passwords: Any, clock: Any, levels: dict[str, int]
) -> Callable[..., Registrant]:
    """Make a member holding a level (today, for a year, unless told), with a login when `login=True`."""
    made = [0]

    def make(
        first: str = "Megan",
        last: str = "Hughes",
        *,
        number: str | None = None,
        level: str = "ipt-practitioner",
        from_on: date | None = None,
        until_on: date | None = None,
        conditions: str = "",
        status: str = "active",
        renewal_on: date | None = None,
        login: bool = False,
        hold: bool = True,
    ) -> Registrant:
        made[0] += 1
        number = number or f"{3000 + made[0]}"
        email = f"{first.lower()}.{last.lower()}.{made[0]}@therapists.example"
        with database.session() as s:
            member = Member(
                membership_number=number,
                email=email,
                first_name=first,
                last_name=last,
                category="basic",
                status=status,
                renewal_on=renewal_on,
                created_at=clock(),
                updated_at=clock(),
            )
            s.add(member)
            s.flush()
            if hold:
                holding = cpd.record_holding(
                    s,
                    member_id=member.id,
                    level_id=levels[level],
                    from_on=from_on or TODAY - timedelta(days=30),
                    until_on=until_on or TODAY + timedelta(days=335),
                    actor=None,
                    now=clock(),
                )
                # The accreditation room grants conditions through its applications; a fixture sets them.
                holding.conditions = conditions
            member_id = member.id
        account_id = None
        if login:
            account = make_account(database, passwords, email=email, name=f"{first} {last}")
            with database.session() as s:
                s.get(Account, account.id).member_id = member_id
            account_id = account.id
        return Registrant(member_id, number, email, f"{first} {last}", account_id)

    return make


@pytest.fixture
def staff(database: Any, passwords: Any, admin: Any) -> Callable[[str], str]:
    """A staff login with one role; returns its e-mail address."""

    def make(role: str) -> str:
        email = f"{role}@staff.example"
        make_account(database, passwords, email=email, roles=role, name=f"{role.title()} Person")
        return email

    return make


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def sender(database: Any, settings: Settings, smtp: SmtpServer, clock: Any) -> Sender:
    return Sender(
        database, dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp.port}"), clock=clock
    )


@pytest.fixture
def write_to(client: Any, clock: Any) -> Callable[..., Any]:
    """Open a therapist's contact form, wait as a person would (5 s on the test clock), send it."""

    def send(number: str, *, wait: float = 5, headers: dict[str, str] | None = None, **fields: str) -> Any:
        page = client.get(f"/find-a-therapist/{number}/contact", headers=headers or {})
        assert page.status_code == 200, page.text
        started = STARTED.search(page.text)
        assert started
        clock.advance(seconds=wait)
        data = {
            "csrf_token": csrf_token(client),
            "started": started.group(1),
            "name": "Vic Visitor",
            "email": "vic@visitor.example",
            "message": "I am looking for IPT for low mood. Do you have space in January?",
            "website": "",
            **fields,
        }
        return client.post(f"/find-a-therapist/{number}/contact", data=data, headers=headers or {})

    return send
