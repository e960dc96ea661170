"""Accreditation's tests start from what `portal db upgrade` makes: the society's six courses and the five
levels naming them (and a set-up portal, so pages answer)."""

from __future__ import annotations

from typing import Any

import pytest
from support import login, make_account

from portal.accreditation import service
from portal.accreditation.links import Links
from portal.training import service as training


@pytest.fixture
def levels(database: Any, admin: Any, clock: Any) -> dict[str, int]:
    """The five levels of a fresh install: slug -> id."""
    with database.session() as s:
        training.ensure_courses(s, now=clock())
        service.ensure_levels(s, now=clock())
        return {level.slug: level.id for level in service.list_levels(s)}


@pytest.fixture
def officer_client(client: Any, database: Any, passwords: Any, admin: Any) -> Any:
    make_account(
        database, passwords, email="accreditation@example.org", roles="accreditation", name="Avi Officer"
    )
    login(client, "accreditation@example.org")
    return client


@pytest.fixture
def member(database: Any, passwords: Any, clock: Any) -> Any:
    """A member on the roll with a login of their own (committed)."""
    from portal.accounts.models import Account
    from portal.members.models import Member

    with database.session() as s:
        found = Member(
            membership_number="2001",
            email="megan@example.org",
            first_name="Megan",
            last_name="Hughes",
            category="basic",
            status="active",
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(found)
        s.flush()
        member_id = found.id
    account = make_account(database, passwords, email="megan@example.org", name="Megan Hughes")
    with database.session() as s:
        s.get(Account, account.id).member_id = member_id
        return s.get(Member, member_id)


@pytest.fixture
def links(app: Any) -> Links:
    return Links.for_app(app)
