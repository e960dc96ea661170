"""The demo society (`portal demo`) in a real browser, with the printed logins: the demo member books the
conference, gives back their National Meeting place (the next in line is offered it), and votes in the open
election and sees the tracker; door staff admit a delegate of today's skills day found by name. Every page
visited is checked with axe, on a laptop and at 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_kit import LiveServer
from sqlalchemy import func, select
from support import AUDIT_KEY

from portal import demo
from portal.checkin.models import CheckInScan
from portal.db import Database
from portal.elections.models import Election, RollEntry
from portal.events.models import Event, Registration, Workshop
from portal.members.models import Member

pytestmark = pytest.mark.xdist_group("demo-browser")


@pytest.fixture
def database(demo_server: LiveServer) -> Iterator[Database]:
    database = Database(demo_server.database_url, audit_key=AUDIT_KEY)
    yield database
    database.dispose()


def log_in(page: Any, url: str, login: demo.DemoLogin) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def check(page: Any, assert_accessible: Any) -> None:
    """Accessible on a laptop and on a 390-px phone."""
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def event_of(database: Database, kind: str) -> Event:
    """The demo's one current event of a kind with bookings (not a course's date, a regional meeting or the
    2024 conference in the archive)."""
    with database.session(write=False) as s:
        return s.scalars(
            select(Event).where(
                Event.kind == kind,
                Event.course_id.is_(None),
                Event.region == "",
                Event.ends_at > datetime.now(UTC) - timedelta(days=2),
            )
        ).one()


def test_the_demo_member_books_the_conference_with_the_members_early_bird_ticket(
    demo_server, database, page, assert_accessible
):
    conference = event_of(database, "conference")
    with database.session(write=False) as s:
        workshop = s.scalars(
            select(Workshop)
            .where(Workshop.event_id == conference.id, Workshop.taken < Workshop.capacity)
            .order_by(Workshop.starts_at)
        ).first()
    url = demo_server.url
    log_in(page, url, demo.MEMBER)
    page.goto(url + "/events")
    check(page, assert_accessible)
    page.get_by_role("link", name=conference.title).click()
    check(page, assert_accessible)
    page.get_by_role("link", name="Book a place").click()
    check(page, assert_accessible)
    page.get_by_role("radio", name=re.compile("Member early-bird")).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").wait_for()
    assert page.get_by_label("First name").input_value() == "Megan"
    page.get_by_label(re.compile(re.escape(workshop.title))).check()
    page.get_by_label("Vegetarian").check()
    page.get_by_label("Organisation or affiliation for your badge").fill("NHS Lothian")
    check(page, assert_accessible)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Check your booking").wait_for()
    assert "£245.00" in page.content() and workshop.title in page.content()
    check(page, assert_accessible)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(re.compile(r"/events/booking/"))
    assert "You are booked" in page.content()
    check(page, assert_accessible)


def test_the_demo_member_gives_back_their_meeting_place_and_the_next_in_line_is_offered_it(
    demo_server, database, page, assert_accessible
):
    meeting = event_of(database, "meeting")

    def count(status: str) -> int:
        with database.session(write=False) as s:
            return s.scalar(
                select(func.count()).where(Registration.event_id == meeting.id, Registration.status == status)
            )

    offered, waiting = count("offered"), count("waitlisted")
    url = demo_server.url
    log_in(page, url, demo.MEMBER)
    page.goto(url + "/events/mine")
    check(page, assert_accessible)
    page.get_by_role(
        "link", name=re.compile(rf"Give back my National Meeting place\W+{re.escape(meeting.title)}")
    ).click()
    page.get_by_role("button", name="Yes, give back my place").click()
    page.wait_for_url(url + "/events/mine")
    assert "Your place is given back" in page.content()
    check(page, assert_accessible)
    assert (count("offered"), count("waitlisted")) == (offered + 1, waiting - 1)


def test_the_demo_member_votes_in_the_open_election_and_sees_the_tracker(
    demo_server, database, page, assert_accessible
):
    with database.session(write=False) as s:
        election = s.scalars(select(Election).where(Election.published_at.is_(None))).one()
        member_id = s.scalar(select(Member.id).where(Member.email == demo.MEMBER.email))
    url = demo_server.url
    log_in(page, url, demo.MEMBER)
    page.goto(url + "/elections")
    check(page, assert_accessible)
    page.get_by_role("link", name=election.title).first.click()
    check(page, assert_accessible)
    page.get_by_role("link", name="Go to my ballot").click()
    check(page, assert_accessible)
    posts = page.locator("fieldset.contest")
    assert posts.count() >= 3
    for n in range(posts.count()):
        posts.nth(n).get_by_role("button", name=re.compile("^Add: ")).first.click()
    page.get_by_role("button", name="Check my choices").click()
    page.get_by_role("heading", name="Check your choices").wait_for()
    check(page, assert_accessible)
    page.get_by_role("button", name="Cast my vote").click()
    page.get_by_role("heading", name="Your vote is cast").wait_for()
    assert re.fullmatch(r"[A-Z2-7]{5}-[A-Z2-7]{5}", page.locator("#tracker strong").inner_text())
    check(page, assert_accessible)
    with database.session(write=False) as s:
        entry = s.scalars(
            select(RollEntry).where(RollEntry.election_id == election.id, RollEntry.member_id == member_id)
        ).one()
    assert entry.has_voted


def test_door_staff_admit_a_skills_day_delegate_found_by_name(demo_server, database, page, assert_accessible):
    day = event_of(database, "training")
    with database.session(write=False) as s:
        people = s.execute(
            select(Registration.id, Registration.first_name, Registration.last_name, Registration.status)
            .where(Registration.event_id == day.id)
            .order_by(Registration.id)
        ).all()
        admitted = set(s.scalars(select(CheckInScan.registration_id).where(CheckInScan.result == "ok")))
        paid = set(
            s.scalars(
                select(Registration.id).where(
                    Registration.event_id == day.id, Registration.payment_status == "paid"
                )
            )
        )
    surnames = [p.last_name for p in people]
    arriving = next(
        p
        for p in people
        if p.status == "confirmed"
        and p.id in paid
        and p.id not in admitted
        and surnames.count(p.last_name) == 1
    )
    url = demo_server.url
    log_in(page, url, next(login for login in demo.LOGINS if login.role == "Door staff"))
    page.goto(url + "/checkin")
    check(page, assert_accessible)
    page.get_by_role("row").filter(has_text=day.title).get_by_role("link", name="Scanner").click()
    page.wait_for_selector("#scanner[data-ready=yes]")
    check(page, assert_accessible)
    before = int(page.locator("#count-admitted").inner_text())
    page.get_by_role("searchbox", name="Name to search for").fill(arriving.last_name)
    page.get_by_role("button", name=f"Admit {arriving.first_name} {arriving.last_name}").click()
    box = page.locator("#answer[data-status=ok]")
    box.wait_for()
    assert f"{arriving.first_name} {arriving.last_name}" in box.inner_text()
    page.wait_for_function(f"document.getElementById('count-admitted').textContent === '{before + 1}'")
    check(page, assert_accessible)
    assert not page.js_errors
