"""Helpers for tests: a movable clock, account factories, and posting forms with a CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from portal.accounts.guards import CSRF_COOKIE, csrf_for
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.db import Database

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"


@dataclass
class Clock:
    """A clock tests can move: the app and the services read the time from it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def make_account(
    database: Database,
    passwords: Passwords,
    *,
    email: str,
    roles: str = "",
    name: str = "Test Person",
    **extra: Any,
) -> Account:
    with database.session() as session:
        account = Account(
            email=email,
            name=name,
            roles=roles,
            password_hash=passwords.hash(PASSWORD),
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            **{"is_active": True, **extra},
        )
        session.add(account)
    return account


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient) -> str:
    """The CSRF token for this client's cookie (visiting the home page first if it has none)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    return csrf_for(SECRET.encode(), client.cookies[CSRF_COOKIE])


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form the way a browser on our own page would: with the CSRF token."""
    body = dict(data or {})
    body.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=body, **kwargs)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    return response


def all_routes(app: Any) -> list[tuple[str, str, set[str], Any]]:
    """Every (name, path, methods, endpoint) the app serves, through mounts; static files excluded."""
    from starlette.routing import Mount, Route

    found: list[tuple[str, str, set[str], Any]] = []

    def walk(routes: Any, prefix: str, name_prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                if route.name == "static":
                    continue
                walk(
                    route.routes,
                    prefix + route.path,
                    f"{name_prefix}{route.name}:" if route.name else name_prefix,
                )
            elif isinstance(route, Route):
                methods = set(route.methods or {"GET"}) - {"HEAD"}
                found.append((name_prefix + route.name, prefix + route.path, methods, route.endpoint))

    walk(app.routes, "", "")
    return found


def fill_path(path: str) -> str:
    """A concrete URL for a route path: numbers for int parameters, a dummy token otherwise."""
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x" * 20, path)
