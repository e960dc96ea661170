"""Fixtures for complaints: a filled-in form, a complaint received, and clients logged in by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from support import login, make_account

from portal.complaints import service
from portal.complaints.models import Complaint


def form_values(**overrides: str) -> dict[str, str]:
    values = {
        "about": "member",
        "subject_name": "Dr Pat Example",
        "name": "Chris Complainant",
        "email": "chris@example.org",
        "phone": "020 7946 0000",
        "what_happened": "The therapist cancelled six sessions without notice.",
        "happened_when": "March 2026",
        "outcome_sought": "An apology and a refund.",
    }
    values.update(overrides)
    return values


@pytest.fixture
def fill(key: bytes, clock: Any) -> Callable[..., dict[str, str]]:
    """The public form as a person sends it: shown a minute ago (so the fill-time check passes)."""

    def make(**overrides: str) -> dict[str, str]:
        return {
            **form_values(),
            "started": service.form_stamp(key, clock() - timedelta(minutes=1)),
            "website": "",
            **overrides,
        }

    return make


@pytest.fixture
def receive(database: Any, clock: Any) -> Callable[..., Complaint]:
    """A complaint received through the service (committed), from a client of its own."""
    count = iter(range(1000))

    def make(**overrides: str) -> Complaint:
        with database.session() as session:
            complaint = service.submit(
                session, values=form_values(**overrides), client=f"client-{next(count)}", now=clock()
            )
            session.expunge(complaint)
        return complaint

    return make


@pytest.fixture
def role_client(app: Any, admin: Any, database: Any, passwords: Any) -> Iterator[Callable[[str], TestClient]]:
    """A client logged in with the given roles (one account per set of roles)."""
    clients: list[TestClient] = []

    def make(roles: str) -> TestClient:
        email = f"{roles.replace(' ', '-') or 'nobody'}@example.org"
        make_account(database, passwords, email=email, roles=roles, name=f"{roles or 'No'} Person")
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        login(client, email)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def handler(role_client: Callable[[str], TestClient]) -> TestClient:
    return role_client("complaints")
