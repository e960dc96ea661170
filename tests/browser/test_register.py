"""The public register and Find a Therapist in a real browser, with e-mail delivered over SMTP to aiosmtpd: a
member holding a level with conditions is on the register with them; they publish a practice profile from My
account; a visitor finds it by region and therapy and writes to them, and the message arrives, while no page
shows the therapist's address; the complaints handler suspends them after a case, which the register shows and
the directory hides. axe checks each page at laptop and phone width; screenshots of the register, an entry and
the directory are written at 1280 and 390 pixels."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from support import PASSWORD, SECRET, SmtpServer, smtp_server

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.accreditation import cpd
from portal.accreditation import service as accreditation
from portal.audit import chain_key
from portal.complaints.models import Complaint
from portal.db import Database
from portal.members.models import Member
from tests.browser.conftest import LiveServer, start_server, stop_server

EMAIL = "megan.hughes@therapist.example"
CONDITIONS = "Works with adolescents only under the supervision of an IPT-A supervisor."
SHOTS = Path(os.environ.get("PORTAL_SCREENSHOTS", "/tmp/register-screenshots"))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def register_server(tmp_path, smtp) -> Iterator[LiveServer]:
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada Admin", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        _people(server)
        yield server
    finally:
        stop_server(server)


def _people(server: LiveServer) -> None:
    """The registrant (a level held with conditions, recorded through the accreditation room's service), a
    complaints handler and the case about the registrant."""
    now = datetime.now(UTC)
    today = now.date()
    passwords = Passwords(fast=True)
    database = Database(server.database_url, null_pool=True, audit_key=chain_key(SECRET.encode()))
    try:
        with database.session(write=True) as s:
            member = Member(
                membership_number="2001", email=EMAIL, first_name="Megan", last_name="Hughes", category="basic",
                status="active", created_at=now, updated_at=now,
            )  # fmt: skip
            s.add(member)
            s.flush()
            level = next(lv for lv in accreditation.list_levels(s) if lv.slug == "ipt-practitioner")
            holding = cpd.record_holding(
                s, member_id=member.id, level_id=level.id, from_on=today - timedelta(days=100),
                until_on=today + timedelta(days=900), actor=None, now=now,
            )  # fmt: skip
            holding.conditions = CONDITIONS
            for email, name, roles, member_id in (
                (EMAIL, "Megan Hughes", "", member.id),
                ("cara@example.org", "Cara Complaints", "complaints", None),
            ):
                s.add(
                    Account(
                        email=email, name=name, roles=roles, password_hash=passwords.hash(PASSWORD),
                        created_at=now, is_active=True, member_id=member_id,
                    )
                )  # fmt: skip
            s.add(
                Complaint(
                    reference="C-2026-0031", year=2026, number=31, about="member", subject_name="Megan Hughes",
                    member_id=member.id, complainant_name="Cal Complainant", complainant_email="cal@example.org",
                    what_happened="Sessions ended without notice.", happened_when="In May", outcome_sought="An apology",
                    stage="under_consideration", received_at=now, acknowledge_by=date.today(), outcome_by=date.today(),
                    updated_at=now,
                )
            )  # fmt: skip
    finally:
        database.dispose()


def _log_in(page, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def _at_both_widths(page, assert_accessible, name: str) -> None:
    """axe at laptop and phone width, and a screenshot at each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        assert_accessible(page)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _no_address(page) -> None:
    assert EMAIL not in page.content() and "therapist.example" not in page.content()


def test_a_registrant_with_conditions_publishes_a_profile_is_written_to_and_is_suspended_after_a_complaint(
    register_server, smtp, browser, page, assert_accessible
):
    url = register_server.url
    # The public register shows the registrant with the conditions of their level.
    page.goto(url + "/register")
    page.get_by_label("Name or registration number").fill("hughes")
    page.get_by_role("button", name="Search the register").click()
    page.get_by_role("link", name="Megan Hughes").wait_for()
    _at_both_widths(page, assert_accessible, "register")
    page.get_by_role("link", name="Megan Hughes").click()
    page.get_by_role("heading", name="Megan Hughes").wait_for()
    assert "Registered with conditions" in page.content()
    assert CONDITIONS in page.content()
    _no_address(page)
    _at_both_widths(page, assert_accessible, "entry")

    # The registrant publishes a practice profile from My account.
    member = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    try:
        _log_in(member, url, EMAIL)
        member.goto(url + "/me")
        member.get_by_role("link", name="Your practice profile").click()
        assert_accessible(member)
        member.get_by_label("Publish my profile in Find a Therapist").check()
        member.get_by_label("Practice name").fill("Northern Quarter <b>Therapy</b>")
        member.get_by_label("Towns").fill("Manchester, Salford")
        member.get_by_label("Region").select_option(label="North West")
        member.get_by_label("First half of the postcode").fill("M1 1AE")
        member.get_by_label("Sessions").select_option(label="In person and online")
        member.get_by_label("IPT", exact=True).check()
        member.get_by_label("Adults", exact=True).check()
        member.get_by_label("Website").fill("javascript:alert(1)")
        member.get_by_role("button", name="Save the profile").click()
        member.get_by_text("There are 2 problems").wait_for()
        assert_accessible(member)
        member.get_by_label("First half of the postcode").fill("M1")
        member.get_by_label("Website").fill("https://northern-quarter.example")
        member.get_by_role("button", name="Save the profile").click()
        member.get_by_text("Your practice profile is saved.").wait_for()
    finally:
        member.context.close()

    # A visitor finds the profile by region and therapy and writes to the therapist.
    # The menu's Find a Therapist entry (its address under About IPT) leads to the directory.
    page.goto(url + "/about-ipt/find-a-therapist")
    page.wait_for_url(url + "/find-a-therapist")
    page.get_by_label("Region").select_option(label="North West")
    page.get_by_label("Therapy").select_option(label="IPT")
    page.get_by_role("button", name="Find therapists").click()
    page.get_by_role("link", name="Megan Hughes").wait_for()
    assert "Northern Quarter &lt;b&gt;Therapy&lt;/b&gt;" in page.content()
    _no_address(page)
    _at_both_widths(page, assert_accessible, "directory")
    page.get_by_role("link", name="Megan Hughes").click()
    page.get_by_role("link", name="Write to Megan").wait_for()
    _no_address(page)
    assert_accessible(page)
    page.get_by_role("link", name="Write to Megan").click()
    page.get_by_label("Your name").fill("Vic Visitor")
    page.get_by_label("Your e-mail address").fill("vic@visitor.example")
    page.get_by_label("Your message", exact=True).fill("Do you have space for a new client in January?")
    _no_address(page)
    assert_accessible(page)
    time.sleep(3.2)  # a person takes longer than the form's minimum fill time
    page.get_by_role("button", name="Send message").click()
    page.get_by_role("heading", name="Your message is sent").wait_for()
    _no_address(page)
    relayed = next(m for m in smtp.wait_for(1, timeout=20) if m["To"] == EMAIL)
    assert "Do you have space for a new client in January?" in relayed.get_body(("plain",)).get_content()
    assert "vic@visitor.example" in relayed.get_body(("plain",)).get_content()

    # After the complaint case, the handler suspends the registrant: the register says so, the profile goes.
    handler = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    try:
        _log_in(handler, url, "cara@example.org")
        handler.get_by_role("link", name="Register").first.click()
        handler.get_by_role("link", name="Accreditations ending in the next 90 days").click()
        handler.get_by_role("heading", name="Accreditations ending in the next 90 days").wait_for()
        assert_accessible(handler)
        handler.go_back()
        assert_accessible(handler)
        handler.get_by_label("Membership number").fill("2001")
        handler.get_by_role("button", name="Find").click()
        handler.get_by_role("heading", name="Register status of Megan Hughes").wait_for()
        assert_accessible(handler)
        handler.get_by_label("Status").select_option(label="Suspended")
        handler.get_by_label("Public wording").fill("Suspended while a complaint is considered.")
        handler.get_by_label("Complaint case").fill("C-2026-0031")
        handler.get_by_role("button", name="Save the status").click()
        handler.get_by_text("The register status of Megan Hughes is saved.").wait_for()
        handler.get_by_role("link", name="the public entry").click()
        handler.get_by_role("link", name="C-2026-0031").wait_for()  # the case, for the complaints role
    finally:
        handler.context.close()
    page.goto(url + "/register/2001")
    assert "Suspended while a complaint is considered." in page.content()
    assert "C-2026-0031" not in page.content()
    page.goto(url + "/find-a-therapist?region=north-west&modality=ipt")
    page.get_by_text("No therapist matches all of these choices.").wait_for()
    assert not page.js_errors, page.js_errors
    assert page.goto(url + "/find-a-therapist/2001").status == 404
