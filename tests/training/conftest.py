"""Training's tests start from what `portal db upgrade` makes: the society's six courses (and a set-up portal,
so pages answer)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import login, make_account

from portal.events import catalogue
from portal.events.models import Event
from portal.training import service

_numbers = itertools.count(1)


@pytest.fixture
def courses(database: Any, admin: Any, clock: Any) -> dict[str, int]:
    """The six courses of a fresh install: slug -> id."""
    with database.session() as s:
        service.ensure_courses(s, now=clock())
        return {c.slug: c.id for c in service.list_courses(s, include_drafts=True)}


@pytest.fixture
def editor_client(client: Any, database: Any, passwords: Any, admin: Any) -> Any:
    make_account(database, passwords, email="editor@example.org", roles="editor", name="Eddie Editor")
    login(client, "editor@example.org")
    return client


@pytest.fixture
def make_event(database: Any, clock: Any, admin: Any) -> Callable[..., Event]:
    """A published event (committed), starting `days` from the test clock's now, with one free ticket."""

    def make(*, days: float = 30, hours: float = 7, **overrides: Any) -> Event:
        starts = clock() + timedelta(days=days)
        values: dict[str, Any] = {
            "title": "An event",
            "slug": f"event-{next(_numbers)}",
            "kind": "conference",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=hours),
            "registration_opens_at": min(clock(), starts) - timedelta(days=60),
            "registration_closes_at": starts - timedelta(hours=1),
            "status": "published",
            "capacity": 20,
        }
        values.update(overrides)
        with database.session() as s:
            event = catalogue.create_event(s, data=catalogue.EventData(**values), actor=None, now=clock())
            catalogue.save_ticket(
                s,
                event_id=event.id,
                data=catalogue.TicketData(name="Standard", price=0),
                actor=None,
                now=clock(),
                links=_no_links(),
            )
            s.flush()
            s.expunge(event)
        return event

    return make


def _no_links() -> Any:
    from support import SECRET

    from portal.events.links import Links

    return Links("http://testserver", lambda name, **p: f"/{name}", key=SECRET.encode())


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, hour, tzinfo=UTC)
