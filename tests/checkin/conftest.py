"""Fixtures for the check-in tests: an event happening now, with bookings in every state a door meets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from support import login, make_account

from bench import checkin_kit
from portal.checkin import badges
from portal.checkin.scans import Place, Scanner, place_for
from portal.events.models import Event, Registration, TicketType, Workshop


@dataclass
class Conference:
    event: Event
    other_event: Event
    full: TicketType
    speaker: TicketType
    workshop: Workshop
    people: dict[str, Registration]
    key: bytes

    def code(self, name: str, *, serial: int | None = None) -> str:
        r = self.people[name]
        return badges.issue(
            self.key,
            registration_id=r.id,
            event_id=r.event_id,
            serial=r.badge_serial if serial is None else serial,
        )


@pytest.fixture
def conference(database: Any, key: bytes, clock: Any, admin: Any) -> Conference:
    """Starts in an hour (check-in is open), with a workshop at its start; and a second event next month.

    alice, bob: confirmed and paid (alice booked the workshop); carol: cancelled; dan: confirmed, unpaid;
    erin: waitlisted; olga: a booking for the other event."""
    now = clock()
    with database.session() as s:
        made = checkin_kit.make_event(
            s, now=now, title="Annual Conference", workshops=[("Grief and role transitions", 0, 1.5)]
        )
        other = checkin_kit.make_event(
            s, now=now, title="Spring Training", starts_at=now + timedelta(days=30)
        )
        full, speaker = made.tickets
        ws = made.workshops[0]
        add = checkin_kit.add_registration
        people = {
            "alice": add(
                s,
                key=key,
                event=made.event,
                ticket=full,
                first_name="Alice",
                last_name="Archer",
                now=now,
                workshops=[ws],
            ),
            "bob": add(
                s, key=key, event=made.event, ticket=speaker, first_name="Bob", last_name="Baker", now=now
            ),
            "carol": add(
                s,
                key=key,
                event=made.event,
                ticket=full,
                first_name="Carol",
                last_name="Cole",
                now=now,
                status="cancelled",
            ),
            "dan": add(
                s,
                key=key,
                event=made.event,
                ticket=full,
                first_name="Dan",
                last_name="Dunn",
                now=now,
                payment_status="unpaid",
                amount_due=25000,
            ),
            "erin": add(
                s,
                key=key,
                event=made.event,
                ticket=full,
                first_name="Erin",
                last_name="Eve",
                now=now,
                status="waitlisted",
            ),
            "olga": add(
                s,
                key=key,
                event=other.event,
                ticket=other.tickets[0],
                first_name="Olga",
                last_name="Other",
                now=now,
            ),
        }
        for r in people.values():
            s.expunge(r)
        conference = Conference(made.event, other.event, full, speaker, ws, people, key)
        for item in (made.event, other.event, full, speaker, ws):
            s.expunge(item)
    return conference


@pytest.fixture
def place(database: Any, conference: Conference) -> Place:
    with database.session(write=False) as s:
        return place_for(s, event_id=conference.event.id)


@pytest.fixture
def room(database: Any, conference: Conference) -> Place:
    with database.session(write=False) as s:
        return place_for(s, event_id=conference.event.id, workshop_id=conference.workshop.id)


@pytest.fixture
def front_door() -> Scanner:
    return Scanner(door="Front door")


@pytest.fixture
def door_client(client: Any, database: Any, passwords: Any, admin: Any) -> Any:
    """The test client logged in as a member of staff with the door role."""
    make_account(database, passwords, email="door@example.org", roles="door", name="Dora Door")
    login(client, "door@example.org")
    return client


@pytest.fixture
def office_client(client: Any, database: Any, passwords: Any, admin: Any) -> Any:
    make_account(database, passwords, email="office@example.org", roles="office", name="Owen Office")
    login(client, "office@example.org")
    return client
