"""Fixtures for joining: the option lists put back on PostgreSQL, an office login, the links e-mails carry, a
filled-in application, categories with fees and evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient
from stripe_standin import standin, stripe_server  # noqa: F401 - the Stripe stand-in's fixtures
from support import login, make_account

from portal.members.models import MemberCategory
from portal.members.service import seed_default_options
from portal.membership.links import Links
from portal.membership.service import Draft


@pytest.fixture(autouse=True)
def _option_lists(request: pytest.FixtureRequest) -> None:
    """The categories as the migration makes them (PostgreSQL's test database is emptied after each test), with
    fees: trainee £30 with a file of evidence, basic £45 reviewed by the office, honorary not applied for."""
    if "database" in request.fixturenames:
        database = request.getfixturevalue("database")
        with database.session() as session:
            seed_default_options(session)
            session.execute(
                update(MemberCategory)
                .where(MemberCategory.code == "trainee")
                .values(annual_fee=3000, evidence="A letter from your course.", evidence_upload=True)
            )
            session.execute(
                update(MemberCategory).where(MemberCategory.code == "basic").values(annual_fee=4500)
            )
            session.execute(
                update(MemberCategory)
                .where(MemberCategory.code == "honorary")
                .values(open_to_applicants=False)
            )
            # A free category staff need not look at, for the approval-as-sent path.
            if session.scalar(select(MemberCategory.id).where(MemberCategory.code == "student")) is None:
                session.add(
                    MemberCategory(
                        code="student", label="Student", position=9, annual_fee=0, needs_approval=False
                    )
                )


@pytest.fixture
def office(database: Any, passwords: Any, admin: Any) -> Any:
    return make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")


@pytest.fixture
def office_client(client: TestClient, office: Any) -> TestClient:
    login(client, "office@example.org")
    return client


@pytest.fixture
def links(app: Any) -> Links:
    return Links.for_app(app)


@pytest.fixture
def draft() -> Callable[..., Draft]:
    def make(**changes: str) -> Draft:
        values = {
            "first_name": "Nadia",
            "last_name": "Okafor",
            "email": "nadia@example.org",
            "address": "1 High Street\nLeeds LS1 1AA",
            "profession": "Mental health nurse",
            "registration_body": "NMC",
            "registration_number": "12A3456B",
            "training": "foundation",
            "conduct_version": "1",
            "privacy_version": "1",
            **changes,
        }
        return Draft(**values)

    return make


#: The smallest PDF the site's checks accept.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
