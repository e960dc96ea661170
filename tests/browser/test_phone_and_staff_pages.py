"""What people see on the demo at 1280 and 390 px (issue 14, points 5, 6 and 10): staff pages fit a phone
behind a Menu button (with and without JavaScript), My account puts "Things to do" first and the header's
name leads there, the results chart and the count grid work on a phone, the event page's "Book a place" is
near the top, the audit log fits a laptop and shows money as money, and the calendar's "All" chip clears the
others."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from browser_kit import LiveServer
from sqlalchemy import select
from support import AUDIT_KEY

from portal import demo
from portal.db import Database
from portal.elections.models import Election, RollEntry
from portal.events.models import Event
from portal.members.models import Member

pytestmark = pytest.mark.xdist_group("demo-browser")

OFFICE = next(login for login, roles in demo.STAFF if roles == ("office",))
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


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


def page_width(page: Any) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def main_nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Main")


def test_staff_pages_fit_a_phone_behind_a_menu_button(demo_server, page, assert_accessible):
    url = demo_server.url
    log_in(page, url, demo.ADMIN)
    for path in ("/events/manage", "/members/", "/checkin", "/audit", "/staff", "/account/security"):
        page.set_viewport_size(PHONE)
        page.goto(url + path)
        assert page_width(page) <= 390, f"{path} is {page_width(page)} px wide on a phone"
        menu = main_nav(page).locator("summary")
        assert menu.is_visible() and menu.inner_text().strip().endswith("Menu")
        check_in = main_nav(page).get_by_role("link", name="Check-in")
        assert not check_in.is_visible()  # folded away until asked for
    menu.click()
    assert check_in.is_visible()
    assert_accessible(page)
    check_in.click()
    page.wait_for_url(url + "/checkin")
    page.set_viewport_size(LAPTOP)
    assert not main_nav(page).locator("summary").is_visible()
    assert main_nav(page).get_by_role("link", name="Check-in").is_visible()
    assert page.js_errors == []


def test_without_javascript_the_navigation_is_open_and_still_fits(demo_server, browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        log_in(page, demo_server.url, OFFICE)
        page.goto(demo_server.url + "/events/manage")
        assert page_width(page) <= 390
        assert main_nav(page).get_by_role("link", name="Check-in").is_visible()
    finally:
        context.close()


def test_the_audit_log_fits_a_laptop_and_shows_money_as_money(demo_server, page, assert_accessible):
    log_in(page, demo_server.url, demo.ADMIN)
    page.goto(demo_server.url + "/audit?action=events.payment")
    assert page_width(page) <= 1280
    details = page.locator("td[data-label='Details']").first.inner_text()
    assert re.search(r"amount: £\d[\d,]*\.\d\d", details), details
    assert not re.search(r"amount: \d", page.content())
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert page_width(page) <= 390


def test_my_account_puts_things_to_do_first_and_the_change_of_address_last(
    demo_server, database, page, assert_accessible
):
    url = demo_server.url
    log_in(page, url, demo.MEMBER)
    page.locator(".account-menu").get_by_role("link", name=demo.MEMBER.name).click()
    page.wait_for_url(url + "/me")
    headings = [h.strip() for h in page.locator("main h2").all_inner_texts()]
    assert headings[0] == "Things to do"
    assert headings[-1] == "Change my e-mail address"
    assert headings.index("My registrations") < headings.index("My elections") < headings.index("My details")
    with database.session(write=False) as s:
        member = s.scalars(select(Member).where(Member.email == demo.MEMBER.email)).one()
        open_election = s.scalars(select(Election).order_by(Election.id.desc())).first()
        entry = s.scalars(
            select(RollEntry).where(
                RollEntry.election_id == open_election.id, RollEntry.member_id == member.id
            )
        ).first()
    todo = page.locator("section.things-to-do")
    if entry is not None and not entry.has_voted:
        assert f"Vote in the {open_election.title}" in todo.inner_text()
        assert "Voting closes" in todo.inner_text()
        todo.get_by_role("link", name=re.compile("Vote now")).click()
        page.wait_for_url(re.compile(rf"/elections/{open_election.id}/ballot"))
        page.go_back()
    else:  # an earlier journey in this process voted already
        assert "Vote in the" not in todo.inner_text()
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        assert page_width(page) <= viewport["width"]
        assert_accessible(page)


def test_the_results_chart_and_count_grid_work_on_a_phone(demo_server, database, page, assert_accessible):
    with database.session(write=False) as s:
        published = s.scalars(select(Election).order_by(Election.id)).first()
    page.set_viewport_size(PHONE)
    page.goto(f"{demo_server.url}/elections/{published.id}/results")
    assert page_width(page) <= 390
    chart = page.locator("svg.chart").last
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    labels = chart.locator("text.chart-label")
    values = chart.locator("text.chart-value")
    assert labels.count() >= 3 and values.count() == labels.count()
    for i in range(labels.count()):
        label, value = labels.nth(i).bounding_box(), values.nth(i).bounding_box()
        first_bar = chart.locator("g").nth(i).locator("rect").first.bounding_box()
        assert label["y"] + label["height"] <= first_bar["y"] + 1  # the name sits above its bars
        assert value["x"] + value["width"] <= box["x"] + box["width"] + 1  # the value is inside the chart
        assert label["x"] + label["width"] <= value["x"]  # and neither covers the other
    grid_wrap = page.locator(".stage-grid-wrap").last
    grid = grid_wrap.locator("table")
    stages = grid.locator("thead th").count() - 1
    assert stages >= 2  # one grid: every stage a column
    name = grid.locator("tbody th").first
    before = name.bounding_box()["x"]
    grid_wrap.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    assert grid_wrap.evaluate("e => e.scrollLeft") > 0
    assert abs(name.bounding_box()["x"] - before) < 1  # the names stay in view
    assert_accessible(page)
    page.set_viewport_size(LAPTOP)
    assert page_width(page) <= 1280
    assert_accessible(page)


def test_the_event_pages_book_a_place_is_near_the_top_on_a_phone(demo_server, database, page):
    with database.session(write=False) as s:
        conference = s.scalars(
            select(Event).where(Event.kind == "conference", Event.ends_at > datetime.now(UTC))
        ).one()
    page.set_viewport_size(PHONE)
    page.goto(f"{demo_server.url}/events/{conference.slug}")
    book = page.get_by_role("link", name="Book a place").bounding_box()
    about = page.get_by_role("heading", name="About this event").bounding_box()
    assert book["y"] < about["y"] and book["y"] < 844  # on the first screen, before the description
    page.set_viewport_size(LAPTOP)
    book = page.get_by_role("link", name="Book a place").bounding_box()
    about = page.get_by_role("heading", name="About this event").bounding_box()
    assert book["x"] > about["x"] + 400  # the right-hand column on a laptop


def test_the_calendars_all_chip_clears_the_chip_chosen_before(demo_server, page):
    page.goto(demo_server.url + "/events?kind=training")
    chips = page.get_by_role("navigation", name="Kinds of event")
    assert chips.get_by_role("link", name="Training").get_attribute("aria-current") == "true"
    chips.get_by_role("link", name="All").click()
    page.wait_for_url(demo_server.url + "/events")
    assert chips.get_by_role("link", name="All").get_attribute("aria-current") == "true"
    assert chips.locator("[aria-current]").count() == 1
