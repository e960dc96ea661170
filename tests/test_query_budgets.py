"""Query budgets: how many statements each hot request sends to the database, on each engine, held.

A request over its budget has grown a look-up (a repeated society or settings read, a relationship loaded and
not used, a loop of queries); one under it should lower its budget here. The numbers are deterministic: the
test clock stands still, the data is made the same way each time, and each request is measured after the same
steps before it (the per-app caches, the login's activity stamp, filled or due the same way every run).
A failure prints the statements, numbered. `tests/support.StatementCounter` counts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from elections.conftest import build_world, open_world
from events.conftest import event_data
from sqlalchemy import func, select
from starlette.routing import Router
from support import PASSWORD, SECRET, StatementCounter, csrf_token, login, make_account, post

from bench import checkin_kit
from portal.accreditation.models import CpdEntry
from portal.app import build_routes
from portal.checkin import badges
from portal.elections.links import Links as ElectionLinks
from portal.events import catalogue
from portal.events.links import Links as EventLinks
from portal.events.models import Registration
from portal.members.models import Member
from portal.society import service as society_service

#: Statements per request: (SQLite, PostgreSQL). SQLite's count includes each write transaction's
#: `BEGIN IMMEDIATE` (and every engine's count its savepoints); PostgreSQL begins implicitly.
BUDGETS: dict[str, tuple[int, int]] = {
    # Every page the site's chrome is on also reads the menu's freshness (one aggregate over the pages: the tree
    # itself is re-read only when it changed, by any worker) with the society's row for the footer beside it:
    # 1 statement.
    # Anonymous home, one statement a block: the introduction (the site's home page), the next three events with
    # places, the election under way, the latest news, the society's standing;
    # then the chrome's freshness (SQLite: and its BEGIN).
    "home": (7, 6),
    # The login's session row, then the same.
    "home, logged in": (8, 7),
    # The catch-up's look for lapsed offers (one statement, the slug as a subquery), then the event, its
    # tickets, the waitlist count and its workshops.
    "event page": (8, 6),
    "booking: start": (5, 4),
    "booking: details": (6, 5),
    # The event's tickets, questions and workshops once each; the address's live booking.
    "booking: review": (7, 6),
    # The lapsed-offer look, the event's columns afresh, the live booking (the form key's own booking is looked
    # for only when this one cannot be made); the registration with its answer and workshop (a savepoint), the
    # counters (no savepoint: a ticket that is full gives the event's place back), the workshop seat (its row
    # then set in the session, not reloaded); the invoice (its number, the society and the bank details, each
    # read once); the delegate's workshops once for the e-mail and its calendar; the e-mail, its 3 attachments
    # (one statement), its seal.
    "booking: confirm": (27, 26),
    # Before the write transaction, in a read one of its own (SQLite: and its BEGIN), the throttle's counts with
    # the stored hash, so argon2 runs with no transaction open; then in the write transaction the throttle
    # again (decided there), the account, the attempts cleared, the login.
    "login": (8, 6),
    "door scan": (4, 3),
    # A member's booking admitted: the same, and the one upsert of their CPD entry for the event (the hours
    # come with the door's cached place). A booking with no member pays nothing for it.
    "door scan, a member": (5, 4),
    "ballot review": (8, 7),
    # The member read once (kept for the cast), the ballot's contests and candidates once (they cannot change
    # while voting is open), the election afresh under its lock, the roll mark, the ballot; the receipt page with
    # the chrome.
    "ballot cast": (13, 12),
    # The course (by its address), its upcoming dates in one query (the events room's panel), the chrome.
    "course page": (4, 3),
    # The staff roll filtered by standing (SQLite: its BEGIN): the login, the membership settings (the grace
    # period), the count and the page (one query each, the standing computed in SQL), the category and level
    # labels, the chrome.
    "members list": (8, 7),
    # The courses (for the levels' required training) and the levels, each one query whatever their number;
    # the chrome.
    "accreditation standards": (4, 3),
    # The grace period (membership settings), the count and the page of registrants (the standing and the level
    # held today in SQL), their levels held today in one statement; the chrome (SQLite: and its BEGIN).
    "register search": (6, 5),
    # The grace period, the ids shown (the filters and the register in SQL, shuffled here), the page's
    # profiles with their members in one statement; the chrome (SQLite: and its BEGIN).
    "find a therapist": (5, 4),
}


def within_budget(database: Any, engine_name: str, name: str, call: Callable[[], Any]) -> Any:
    """Run one request, counting its statements, and hold it to its budget (exactly: a request that needs
    fewer should have its budget lowered)."""
    with StatementCounter(database.engine) as counter:
        response = call()
    allowed = BUDGETS[name][0 if engine_name == "sqlite" else 1]
    assert counter.count <= allowed, (
        f"{name}: {counter.count} statements, budget {allowed}:\n{counter.report()}"
    )
    assert counter.count == allowed, (
        f"{name}: {counter.count} statements, under its budget of {allowed}: lower it\n{counter.report()}"
    )
    return response


def _form_key(html: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', html)
    assert found, "no form key on the page"
    return found.group(1)


@pytest.fixture
def conference(database: Any, clock: Any, admin: Any) -> Any:
    """A conference with two tickets, a workshop and a required question (as the event pages' tests have)."""
    links = EventLinks("http://testserver", Router(routes=build_routes()).url_path_for, key=SECRET.encode())
    data = event_data(title="Annual Conference", capacity=50)
    with database.session() as s:
        event = catalogue.create_event(s, data=data, actor=None, now=clock())
        for ticket in (
            catalogue.TicketData(name="Non-member", price=15000),
            catalogue.TicketData(name="Member", price=9000, member_only=True),
        ):
            catalogue.save_ticket(s, event_id=event.id, data=ticket, actor=None, now=clock(), links=links)
        catalogue.save_workshop(
            s,
            event_id=event.id,
            data=catalogue.WorkshopData(
                "Formulation", data.starts_at + timedelta(hours=2), data.starts_at + timedelta(hours=4)
            ),
            actor=None,
            now=clock(),
            links=links,
        )
        catalogue.save_question(
            s,
            event_id=event.id,
            data=catalogue.QuestionData(
                "Dietary needs",
                kind="single_choice",
                options="None\nVegetarian",
                required=True,
                purpose="dietary",
            ),
            actor=None,
            now=clock(),
        )
        s.flush()
        s.refresh(event)
        return {
            "slug": event.slug,
            "ticket": event.ticket_types[0].id,
            "workshop": event.workshops[0].id,
            "question": event.questions[0].id,
        }


def test_the_home_page(client, database, engine_name, admin):
    client.get("/")
    response = within_budget(database, engine_name, "home", lambda: client.get("/"))
    assert response.status_code == 200
    login(client, "admin@example.org")
    client.get("/")
    response = within_budget(database, engine_name, "home, logged in", lambda: client.get("/"))
    assert response.status_code == 200 and "Staff accounts" in response.text


def test_the_public_event_page(client, database, engine_name, conference):
    url = f"/events/{conference['slug']}"
    client.get(url)
    response = within_budget(database, engine_name, "event page", lambda: client.get(url))
    assert response.status_code == 200 and "Annual Conference" in response.text


def _bank_details(database: Any, clock: Any) -> None:
    """The office has filled in the society's details and bank account (a paid conference needs them)."""
    with database.session() as s:
        society_service.save_details(
            s,
            values={
                "name": "IPT UK",
                "address": "1 Example Street",
                "charity_number": "123456",
                "contact_email": "office@example.org",
                "account_name": "IPT UK",
                "sort_code": "12-34-56",
                "account_number": "12345678",
                "iban": "",
                "bic": "",
                "notes": "",
            },
            actor=None,
            now=clock(),
        )


def test_each_booking_step_and_the_confirm(client, database, engine_name, conference, clock):
    """A paid ticket with a workshop and an answer: the invoice, its PDF, the calendar, the badge. Measured on
    the second booking of the day (the first made the invoice numbers' row)."""
    _bank_details(database, clock)
    url = f"/events/{conference['slug']}/book"

    def journey(email: str, measure: Callable[[str, Callable[[], Any]], Any]) -> Any:
        start = measure("booking: start", lambda: client.get(url))
        key = _form_key(start.text)
        filled = {
            "form_key": key,
            "ticket": conference["ticket"],
            "first_name": "Gwen",
            "last_name": "Guest",
            "email": email,
            "workshops": str(conference["workshop"]),
            f"q{conference['question']}": "Vegetarian",
        }
        details = measure(
            "booking: details",
            lambda: post(client, url, {"form_key": key, "ticket": conference["ticket"], "action": "details"}),
        )
        assert "Your details" in details.text
        review = measure("booking: review", lambda: post(client, url, {**filled, "action": "review"}))
        assert "Check your booking" in review.text
        return measure("booking: confirm", lambda: post(client, url, {**filled, "action": "confirm"}))

    csrf_token(client)
    assert journey("first@example.org", lambda _name, call: call()).status_code == 303
    confirmed = journey(
        "gwen@example.org", lambda name, call: within_budget(database, engine_name, name, call)
    )
    assert confirmed.status_code == 303


def test_login(client, database, engine_name, admin):
    csrf_token(client)
    response = within_budget(
        database,
        engine_name,
        "login",
        lambda: post(client, "/login", {"email": "admin@example.org", "password": PASSWORD}),
    )
    assert response.status_code == 303


def test_the_door_scan(client, database, engine_name, admin, passwords, key, clock):
    now = clock()
    with database.session() as s:
        made = checkin_kit.make_event(s, now=now, title="Annual Conference")
        people = [
            checkin_kit.add_registration(
                s,
                key=key,
                event=made.event,
                ticket=made.tickets[0],
                first_name=f"P{n}",
                last_name="Q",
                now=now,
            )
            for n in range(3)
        ]
        event_id = made.event.id
    codes = [
        badges.issue(key, registration_id=r.id, event_id=r.event_id, serial=r.badge_serial) for r in people
    ]
    make_account(database, passwords, email="door@example.org", roles="door", name="Dora Door")
    login(client, "door@example.org")
    headers = {"X-CSRF-Token": csrf_token(client)}

    def scan(code: str, nonce: str) -> Any:
        body = {"code": code, "door": "Front door", "nonce": nonce, "event": event_id}
        return client.post("/api/checkin", json=body, headers=headers)

    assert scan(codes[0], "warm").json()["status"] == "ok"
    response = within_budget(database, engine_name, "door scan", lambda: scan(codes[1], "n1"))
    assert response.status_code == 200 and response.json()["status"] == "ok"
    with database.session() as s:
        member = Member(membership_number="5001", email="p2@example.org", first_name="P2", last_name="Q",
                        category="basic", status="active", created_at=now, updated_at=now)  # fmt: skip
        s.add(member)
        s.flush()
        s.get(Registration, people[2].id).member_id = member.id
        member_id = member.id
    response = within_budget(database, engine_name, "door scan, a member", lambda: scan(codes[2], "n2"))
    assert response.status_code == 200 and response.json()["status"] == "ok"
    with database.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(CpdEntry).where(CpdEntry.member_id == member_id)) == 1
        )


def test_ballot_review_and_cast(client, database, engine_name, admin, passwords, clock, key):
    officer = make_account(
        database, passwords, email="ro@example.org", name="Rita Returning", roles="returning_officer"
    )
    world = build_world(
        database,
        officer,
        now=clock(),
        voters=3,
        key=key,
        posts=[
            ("Chair", 1, "plurality", False, ["Adams", "Brown"]),
            ("Committee", 2, "approval", False, ["Clark", "Davis", "Evans"]),
            ("Secretary", 1, "stv", True, ["Ford", "Green"]),
        ],
    )
    links = ElectionLinks("http://testserver", Router(routes=build_routes()).url_path_for)
    open_world(database, world, now=clock(), links=links, key=key)
    with database.session() as s:
        member = s.get(Member, world.voters[0])
        email, name, member_id = member.email, member.full_name, member.id
    make_account(database, passwords, email=email, name=name, member_id=member_id)
    login(client, email)
    base = f"/elections/{world.election_id}"
    sec = world.contests["Secretary"]
    choices = {
        f"c{world.contests['Chair']}": str(world.choice("Chair", "Brown")),
        f"c{world.contests['Committee']}": [
            str(world.choice("Committee", "Clark")),
            str(world.choice("Committee", "Evans")),
        ],
        f"c{sec}-{world.choice('Secretary', 'Green')}": "1",
        f"c{sec}-RON": "2",
    }
    assert client.get(f"{base}/ballot").status_code == 200
    review = within_budget(
        database, engine_name, "ballot review", lambda: post(client, f"{base}/ballot/review", choices)
    )
    assert review.status_code == 200
    cast = within_budget(
        database, engine_name, "ballot cast", lambda: post(client, f"{base}/ballot/cast", choices)
    )
    assert cast.status_code == 200


def test_a_course_page_with_its_dates(client, database, engine_name, admin, clock):
    from portal.training import service as training

    with database.session() as s:
        training.ensure_courses(s, now=clock())
        course = training.course_by_slug(s, "ipt-practitioner", include_drafts=False)
        for number in range(3):
            starts = clock() + timedelta(days=30 + 60 * number)
            data = event_data(
                title=f"Practitioner block {number}",
                kind="training",
                course_id=course.id,
                starts_at=starts,
                ends_at=starts + timedelta(days=1),
                registration_opens_at=clock() - timedelta(days=1),
                registration_closes_at=starts - timedelta(days=7),
            )
            catalogue.create_event(s, data=data, actor=None, now=clock())
    client.get("/training/ipt-practitioner")
    response = within_budget(
        database, engine_name, "course page", lambda: client.get("/training/ipt-practitioner")
    )
    assert response.status_code == 200 and "Practitioner block 2" in response.text


def test_the_members_list_filtered_by_standing(client, database, engine_name, admin, clock):
    with database.session() as s:
        s.add_all(
            Member(
                membership_number=str(1000 + i),
                email=f"person{i}@example.org",
                first_name=f"First{i}",
                last_name=f"Last{i}",
                category="basic",
                status="active",
                renewal_on=clock().date() - timedelta(days=i),
                created_at=clock(),
                updated_at=clock(),
            )
            for i in range(80)
        )
    login(client, "admin@example.org")
    client.get("/members/?status=lapsed")
    response = within_budget(
        database, engine_name, "members list", lambda: client.get("/members/?status=lapsed")
    )
    assert response.status_code == 200 and "Lapsed (renewal due since" in response.text


def test_the_public_accreditation_standards_page(client, database, engine_name, admin, clock):
    from portal.accreditation import service as accreditation
    from portal.training import service as training

    with database.session() as s:
        training.ensure_courses(s, now=clock())
        accreditation.ensure_levels(s, now=clock())
    client.get("/accreditation/standards")
    response = within_budget(
        database, engine_name, "accreditation standards", lambda: client.get("/accreditation/standards")
    )
    assert response.status_code == 200 and "IPC practitioner" in response.text


def _registrants(database: Any, clock: Any, count: int) -> None:
    """`count` members on the register, each with a published practice profile in the North West."""
    from datetime import date

    from portal.accreditation import cpd
    from portal.accreditation import service as accreditation
    from portal.register import directory
    from portal.training import service as training

    with database.session() as s:
        training.ensure_courses(s, now=clock())
        accreditation.ensure_levels(s, now=clock())
        level = accreditation.list_levels(s)[0].id
        for n in range(count):
            member = Member(
                membership_number=f"R{n:04d}", email=f"r{n}@example.org", first_name="Reg", last_name=f"Istrant{n:03d}",
                category="basic", status="active", created_at=clock(), updated_at=clock(),
            )  # fmt: skip
            s.add(member)
            s.flush()
            cpd.record_holding(
                s, member_id=member.id, level_id=level, from_on=date(2026, 1, 1), until_on=date(2028, 1, 1),
                actor=None, now=clock(),
            )  # fmt: skip
            directory.save_profile(
                s, member_id=member.id, photo=None, remove_photo=False, actor=None, now=clock(),
                data=directory.ProfileData(published=True, towns=("Manchester",), region="north-west",
                                           modalities=("ipt",)),
            )  # fmt: skip


def test_a_register_search(client, database, engine_name, admin, clock):
    _registrants(database, clock, 40)
    client.get("/register")
    response = within_budget(
        database, engine_name, "register search", lambda: client.get("/register", params={"q": "reg istrant"})
    )
    assert response.status_code == 200 and "40 practitioners found" in response.text
    assert "Reg Istrant000" in response.text and "Reg Istrant039" not in response.text  # a page of 25


def test_find_a_therapist_by_region_and_modality(client, database, engine_name, admin, clock):
    _registrants(database, clock, 40)
    client.get("/find-a-therapist")
    response = within_budget(
        database,
        engine_name,
        "find a therapist",
        lambda: client.get("/find-a-therapist", params={"region": "north-west", "modality": "ipt"}),
    )
    assert response.status_code == 200 and "40 therapists" in response.text
