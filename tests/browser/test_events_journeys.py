"""Booking journeys in a real browser, with the e-mails delivered over SMTP to aiosmtpd: a guest books a
conference ticket with a workshop and answers; a guest who ticks a full workshop is confirmed for the
conference and waits for the workshop; a member takes a place at the National Meeting and gives it
back (through its confirmation page), and the next person waiting is offered it by e-mail and accepts; a
guest cancels a paid booking through the confirmation page, Back changing nothing, and sees the cancelled
booking page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.routing import Router
from support import AUDIT_KEY, PASSWORD, SECRET, SmtpServer, smtp_server

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import build_routes
from portal.db import Database
from portal.events import catalogue, sales
from portal.events.links import Links
from portal.members.models import Member
from tests.browser.conftest import LiveServer, start_server, stop_server

STARTS = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def portal(tmp_path, smtp) -> Iterator[LiveServer]:
    """The portal with its outbox sender delivering to aiosmtpd, set up by an administrator."""
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        yield server
    finally:
        stop_server(server)


def links_on(url: str, *, key: bytes) -> Links:
    """E-mail links on the live server's address, made from its routes as the server makes them."""
    return Links(url, Router(routes=build_routes()).url_path_for, key=key)


def seed_event(server: LiveServer, **overrides: Any) -> tuple[str, dict[str, int]]:
    """An event made with the service functions, straight in the live server's database."""
    database = Database(server.database_url, audit_key=AUDIT_KEY)
    links = links_on(server.url, key=b"unused: nothing is e-mailed while setting up")
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "title": "Annual Conference 2030",
        "slug": "conference-2030",
        "kind": "conference",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=8),
        "registration_opens_at": now - timedelta(days=1),
        "registration_closes_at": STARTS - timedelta(days=1),
        "venue": "Friends House",
        "address": "173 Euston Road, London",
        "capacity": 100,
        "status": "published",
        "contact_email": "events@example.org",
        "description": "Two days of **talks** and workshops.",
    }
    fields.update(overrides.pop("event", {}))
    ids: dict[str, int] = {}
    with database.session() as s:
        event = catalogue.create_event(s, data=catalogue.EventData(**fields), actor=None, now=now)
        ids["event"] = event.id
        for ticket in overrides.get("tickets", []):
            ids[ticket.name] = catalogue.save_ticket(
                s, event_id=event.id, data=ticket, actor=None, now=now, links=links
            ).id
        for workshop in overrides.get("workshops", []):
            saved = catalogue.save_workshop(
                s, event_id=event.id, data=workshop, actor=None, now=now, links=links
            )
            ids[workshop.title] = saved.id
        for question in overrides.get("questions", []):
            catalogue.save_question(s, event_id=event.id, data=question, actor=None, now=now)
    database.dispose()
    return fields["slug"], ids


def seed_member(server: LiveServer, number: str, first: str, email: str, *, login: bool) -> int:
    database = Database(server.database_url, audit_key=AUDIT_KEY)
    now = datetime.now(UTC)
    with database.session() as s:
        member = Member(
            membership_number=number,
            email=email,
            first_name=first,
            last_name="Member",
            category="full",
            status="active",
            created_at=now,
            updated_at=now,
        )
        s.add(member)
        s.flush()
        if login:
            s.add(
                Account(
                    email=email,
                    name=f"{first} Member",
                    password_hash=Passwords(fast=True).hash(PASSWORD),
                    roles="",
                    created_at=now,
                    member_id=member.id,
                    is_active=True,
                )
            )
        member_id = member.id
    database.dispose()
    return member_id


def everywhere(page: Any, assert_accessible: Any) -> None:
    """Accessible on a laptop and on a 390-px phone."""
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def attachment_names(message: Any) -> dict[str, str]:
    return {part.get_filename(): part.get_content_type() for part in message.iter_attachments()}


def test_a_guest_books_a_conference_ticket_with_a_workshop_and_gets_the_confirmation(
    portal, smtp, page, assert_accessible
):
    seed_event(
        portal,
        tickets=[
            catalogue.TicketData(name="Member", price=9000, member_only=True),
            catalogue.TicketData(name="Non-member", price=15000),
        ],
        workshops=[
            catalogue.WorkshopData(
                "Case formulation", STARTS + timedelta(hours=2), STARTS + timedelta(hours=4), capacity=20
            ),
            catalogue.WorkshopData(
                "Supervision", STARTS + timedelta(hours=3), STARTS + timedelta(hours=5), capacity=20
            ),
        ],
        questions=[
            catalogue.QuestionData(
                "Dietary needs",
                kind="single_choice",
                options="None\nVegetarian\nVegan",
                required=True,
                purpose="dietary",
            ),
            catalogue.QuestionData("Name on your badge: affiliation", kind="short_text", purpose="badge"),
        ],
    )
    url = portal.url
    page.goto(url + "/")
    page.get_by_role("link", name="See upcoming events").click()
    page.wait_for_url(url + "/events")
    assert "100 places left" in page.content()
    everywhere(page, assert_accessible)
    page.get_by_role("link", name="Annual Conference 2030").click()
    everywhere(page, assert_accessible)
    page.get_by_role("link", name="Book a place").click()
    everywhere(page, assert_accessible)

    page.get_by_role("radio", name=re.compile("Non-member")).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").wait_for()
    page.get_by_label("First name").fill("Gwen")
    page.get_by_label("Last name").fill("Guest")
    page.get_by_label("E-mail address").fill("gwen@example.org")
    page.get_by_label(re.compile("Case formulation")).check()
    page.get_by_label(re.compile("Supervision")).check()
    page.get_by_role("button", name="Continue").click()
    # Two workshops at the same time, and a required answer missing: each message beside its field.
    page.get_by_text("There are 2 problems").wait_for()
    assert "are at the same time" in page.content() and "Choose an answer: Dietary needs" in page.content()
    everywhere(page, assert_accessible)
    page.get_by_label(re.compile("Supervision")).uncheck()
    page.get_by_label("Vegetarian").check()
    page.get_by_label("Name on your badge: affiliation").fill("NHS Lothian")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Check your booking").wait_for()
    assert "NHS Lothian" in page.content() and "£150.00" in page.content()
    everywhere(page, assert_accessible)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(re.compile(r"/events/booking/"))
    assert "You are booked" in page.content()
    manage_url = page.url
    everywhere(page, assert_accessible)

    [message] = smtp.wait_for(1, timeout=30)
    assert message["To"] == "gwen@example.org"
    assert message["Subject"] == "Your place at Annual Conference 2030 is confirmed"
    names = attachment_names(message)
    assert names["event.ics"] == "text/calendar"
    assert names["invoice-INV-000001.pdf"] == "application/pdf"
    calendar = next(p for p in message.iter_attachments() if p.get_filename() == "event.ics").get_content()
    assert "SUMMARY:Annual Conference 2030" in calendar and "Case formulation" in calendar
    [link] = [link for link in SmtpServer.links(message) if "/events/booking/" in link]
    assert link == manage_url
    assert "Case formulation" in SmtpServer.text(message)

    page.goto(link)
    assert page.get_by_role("heading", name="Your booking").is_visible()
    assert "Case formulation" in page.content() and "Vegetarian" in page.content()
    everywhere(page, assert_accessible)
    assert page.js_errors == [] or all("422" in error for error in page.js_errors)


def test_a_member_gives_back_a_national_meeting_place_and_the_next_person_accepts_the_offer(
    portal, smtp, page, browser, assert_accessible
):
    _slug, ids = seed_event(
        portal,
        event={
            "title": "National Meeting 2030",
            "slug": "national-meeting-2030",
            "kind": "meeting",
            "members_only": True,
            "capacity": 1,
        },
        tickets=[catalogue.TicketData(name="Member place", price=0, member_only=True)],
    )
    seed_member(portal, "IPT-1", "Mary", "mary@example.org", login=True)
    ben = seed_member(portal, "IPT-2", "Ben", "ben@example.org", login=False)
    url = portal.url

    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill("mary@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    page.goto(url + "/me")
    everywhere(page, assert_accessible)
    # Two clicks: "Sign up" in My account, then confirm.
    page.get_by_role("button", name=re.compile("^Sign up")).click()
    page.get_by_role("heading", name="Check your booking").wait_for()
    everywhere(page, assert_accessible)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(re.compile(r"/events/booking/"))
    assert "You are booked" in page.content()
    [confirmation] = smtp.wait_for(1, timeout=30)
    assert confirmation["To"] == "mary@example.org"

    # Ben joins the waitlist behind Mary.
    database = Database(portal.database_url, audit_key=AUDIT_KEY)
    # The server's own key: the booking's private link is derived with it.
    links = links_on(url, key=SECRET.encode())
    with database.session() as s:
        waiting = sales.book(
            s,
            event_id=ids["event"],
            booking=sales.Booking(
                ticket_type_id=ids["Member place"],
                first_name="Ben",
                last_name="Member",
                email="ben@example.org",
            ),
            form_key="ben-signs-up",
            member_id=ben,
            account_id=None,
            now=datetime.now(UTC),
            links=links,
        )
        assert waiting.registration.status == "waitlisted"
    database.dispose()

    # Giving the place back goes through a confirmation page, from My registrations and back there.
    page.goto(url + "/events/mine")
    everywhere(page, assert_accessible)
    page.get_by_role("link", name=re.compile("Give back my National Meeting place")).click()
    page.get_by_role("heading", name="Give back your place").wait_for()
    assert "goes to the next of the 1 person waiting; you cannot get it back" in page.content()
    page.get_by_role("button", name="Yes, give back my place").click()
    page.wait_for_url(url + "/events/mine")
    assert "Your place is given back" in page.content()
    everywhere(page, assert_accessible)

    offers = [
        m
        for m in smtp.wait_for(4, timeout=30)
        if m["To"] == "ben@example.org" and "yours if you want" in m["Subject"]
    ]
    assert len(offers) == 1
    [offer_link] = [link for link in SmtpServer.links(offers[0]) if "/events/booking/" in link]

    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    other.goto(offer_link)
    assert "A place is yours if you accept it by" in other.content()
    everywhere(other, assert_accessible)
    other.get_by_role("button", name="Accept the place").click()
    other.get_by_text("The place is yours").wait_for()
    everywhere(other, assert_accessible)
    confirmations = [
        m
        for m in smtp.wait_for(5, timeout=30)
        if m["To"] == "ben@example.org" and "is confirmed" in m["Subject"]
    ]
    assert len(confirmations) == 1
    assert "event.ics" in attachment_names(confirmations[0])


def test_a_guest_who_ticks_a_full_workshop_is_confirmed_for_the_conference_and_waits_for_the_workshop(
    portal, smtp, page, assert_accessible
):
    _slug, ids = seed_event(
        portal,
        event={"title": "ISIPT Conference 2030", "slug": "isipt-2030", "capacity": 103},
        tickets=[catalogue.TicketData(name="Delegate", price=0)],
        workshops=[
            catalogue.WorkshopData(
                "IPT-A", STARTS + timedelta(hours=2), STARTS + timedelta(hours=4), capacity=1
            )
        ],
    )
    database = Database(portal.database_url)
    links = links_on(portal.url, key=SECRET.encode())
    with database.session() as s:
        sales.book(
            s,
            event_id=ids["event"],
            booking=sales.Booking(
                ticket_type_id=ids["Delegate"],
                first_name="Sian",
                last_name="Seated",
                email="sian@example.org",
                workshop_ids=(ids["IPT-A"],),
            ),
            form_key="sian-books-first",
            member_id=None,
            account_id=None,
            now=datetime.now(UTC),
            links=links,
        )
    database.dispose()
    url = portal.url
    page.goto(url + "/events/isipt-2030/book")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").wait_for()
    page.get_by_label("First name").fill("Gwen")
    page.get_by_label("Last name").fill("Guest")
    page.get_by_label("E-mail address").fill("gwen@example.org")
    workshop = page.get_by_label(re.compile("IPT-A"))
    assert "full: you would join its waiting list" in workshop.locator("xpath=..").inner_text()
    workshop.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Check your booking").wait_for()
    review = page.locator("#booking-step").inner_text()
    assert "Conference place: confirmed." in review
    assert "Workshop “IPT-A”: waiting list, number 1." in review
    assert "The event is full" not in review
    everywhere(page, assert_accessible)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(re.compile(r"/events/booking/"))
    confirmation = page.locator("main").inner_text()
    assert "your conference place is confirmed, and you are on the waiting list for 'IPT-A'" in confirmation
    assert "Conference place: confirmed." in confirmation
    assert "Workshop “IPT-A”: waiting list, number 1." in confirmation
    assert "Change your workshops" in confirmation
    everywhere(page, assert_accessible)

    messages = [m for m in smtp.wait_for(2, timeout=30) if m["To"] == "gwen@example.org"]
    assert [m["Subject"] for m in messages] == ["Your place at ISIPT Conference 2030 is confirmed"]
    text = SmtpServer.text(messages[0])
    assert "Conference place: confirmed." in text and 'Workshop "IPT-A": waiting list, number 1.' in text


def test_a_guest_cancels_through_the_confirmation_page_and_sees_the_cancelled_booking(
    portal, page, assert_accessible, tmp_path
):
    _slug, ids = seed_event(portal, tickets=[catalogue.TicketData(name="Standard", price=4500)])
    database = Database(portal.database_url)
    links = links_on(portal.url, key=SECRET.encode())
    with database.session() as s:
        result = sales.book(
            s,
            event_id=ids["event"],
            booking=sales.Booking(
                ticket_type_id=ids["Standard"], first_name="Cara", last_name="Guest", email="cara@example.org"
            ),
            form_key="cara-books",
            member_id=None,
            account_id=None,
            now=datetime.now(UTC),
            links=links,
        )
        token = result.manage_token
    database.dispose()
    url = portal.url
    booking_url = f"{url}/events/booking/{token}"
    page.goto(booking_url)
    assert "How to pay" in page.content() and "Your badge" in page.content()
    page.screenshot(path=str(tmp_path / "booking-confirmed-1280.png"), full_page=True)
    page.get_by_role("link", name="Give back my place").click()
    page.get_by_role("heading", name="Give back your place").wait_for()
    assert "No payment was taken: invoice INV-" in page.content()
    everywhere(page, assert_accessible)
    page.screenshot(path=str(tmp_path / "confirm-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "confirm-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    # Back changes nothing.
    page.get_by_role("link", name="No, keep my place").click()
    page.wait_for_url(booking_url)
    assert "How to pay" in page.content()
    page.get_by_role("link", name="Give back my place").click()
    page.get_by_role("button", name="Yes, give back my place").click()
    page.wait_for_url(booking_url)
    content = page.content()
    assert "Your place is given back" in content and "This booking was cancelled on" in content
    assert ", by you." in content
    for gone in ("How to pay", "Add the event to my calendar", "Your badge", "Give back my place"):
        assert gone not in content
    everywhere(page, assert_accessible)
    page.screenshot(path=str(tmp_path / "cancelled-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "cancelled-390.png"), full_page=True)
