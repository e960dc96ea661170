"""Accreditation in a real browser: a member applies for a level from My account (a document uploaded), the
supervisor they named gets the private link by e-mail (a real SMTP server) and confirms, and a reviewer with
the accreditation role approves with conditions; the member is told, with the conditions. axe checks each page
at both widths; the public register then shows the entry with the conditions.
Set PORTAL_SCREENSHOT_DIR to keep the screenshots of the application form and the review page (1280 and 390 px)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from support import AUDIT_KEY, PASSWORD, SmtpServer, make_account, smtp_server

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.accreditation.models import Holding
from portal.db import Database
from portal.members.models import Member
from tests.browser.conftest import LiveServer, start_server, stop_server

WIDTHS = (1280, 390)
CONDITIONS = "Practises with adults only, under monthly supervision, until 30 June 2027."


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def _mail_to(smtp: SmtpServer, to: str, subject_start: str):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in smtp.messages if m["To"] == to and m["Subject"].strip().startswith(subject_start)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(
        f"no e-mail to {to} starting {subject_start!r}: {[m['Subject'] for m in smtp.messages]}"
    )


@pytest.fixture
def portal(tmp_path, smtp) -> Iterator[LiveServer]:
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        database = Database(server.database_url, audit_key=AUDIT_KEY)
        passwords = Passwords(fast=True)
        make_account(database, passwords, email="avi@example.org", name="Avi Reviewer", roles="accreditation")
        account = make_account(database, passwords, email="megan@example.org", name="Megan Hughes")
        now = datetime.now(UTC)
        with database.session() as s:
            member = Member(membership_number="2001", email="megan@example.org", first_name="Megan",
                            last_name="Hughes", category="basic", status="active", created_at=now, updated_at=now)  # fmt: skip
            s.add(member)
            s.flush()
            s.get(Account, account.id).member_id = member.id
        database.dispose()
        yield server
    finally:
        stop_server(server)


def _each_width(page, assert_accessible, name: str, shots: Path | None) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page)
        if shots is not None:
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _log_in(page, url: str, email: str, then: str) -> None:
    page.goto(f"{url}/login?next={then}")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + then)


def test_a_member_applies_the_supervisor_confirms_and_the_reviewer_approves_with_conditions(
    portal, smtp, page, browser, assert_accessible
):
    shots = Path(os.environ["PORTAL_SCREENSHOT_DIR"]) if os.environ.get("PORTAL_SCREENSHOT_DIR") else None
    url = portal.url
    _log_in(page, url, "megan@example.org", "/me")
    page.get_by_role("link", name="Your accreditation").click()
    page.wait_for_url(url + "/me/accreditation")
    assert_accessible(page)
    page.get_by_role("link", name="Apply for IPT practitioner", exact=True).click()
    page.get_by_role("heading", name="Apply for IPT practitioner accreditation").wait_for()

    # Sent with the supervisor missing: the messages show beside the fields, and nothing is sent.
    page.get_by_label("I completed it elsewhere").check()
    page.get_by_label("Where and when you completed the training").fill(
        "IPT UK practitioner course, Leeds, 2024"
    )
    page.get_by_label("Supervised cases").fill("5")
    page.get_by_label("Supervision hours").fill("32")
    page.get_by_role("button", name="Send the application").click()
    page.get_by_text("Enter your supervisor's name.").first.wait_for()
    _each_width(page, assert_accessible, "accreditation-apply", shots)

    page.get_by_label("Supervisor's full name").fill("Sam Supervisor")
    page.get_by_label("Supervisor's e-mail address").fill("sam@example.org")
    page.get_by_label("File 1").set_input_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    page.get_by_role("button", name="Send the application").click()
    page.get_by_role("heading", name=re.compile(r"Your application ACC-\d{5}")).wait_for()
    reference = re.search(r"ACC-\d{5}", page.get_by_role("heading", level=1).inner_text()).group(0)
    assert page.get_by_text("Waiting for the supervisor").first.is_visible()
    assert page.get_by_role("link", name="certificate.pdf").is_visible()
    assert_accessible(page)

    # The supervisor opens the private link from the e-mail, in a browser of their own.
    request = _mail_to(smtp, "sam@example.org", "Please confirm: Megan Hughes")
    link = re.search(
        r"http://\S+/accreditation/supervise/\S+", request.get_body(("plain",)).get_content()
    ).group(0)
    supervisor = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    supervisor.goto(link)
    supervisor.get_by_role(
        "heading", name="Confirm Megan Hughes's application for IPT practitioner"
    ).wait_for()
    assert supervisor.get_by_text("IPT UK practitioner course, Leeds, 2024").is_visible()
    assert_accessible(supervisor)
    supervisor.get_by_label("I confirm that what the application says is true").check()
    supervisor.get_by_role("button", name="Send my answer").click()
    supervisor.get_by_role("heading", name="Thank you").wait_for()
    supervisor.goto(link)
    assert "used" in supervisor.content()
    supervisor.context.close()

    # The reviewer approves with conditions.
    page.get_by_role("button", name="Log out").click()
    _log_in(page, url, "avi@example.org", "/accreditation/applications")
    assert_accessible(page)
    page.get_by_role("link", name=reference).click()
    page.get_by_role("heading", name=f"Application {reference}: Megan Hughes").wait_for()
    assert page.get_by_text("Sam Supervisor <sam@example.org>: confirmed").is_visible()
    _each_width(page, assert_accessible, "accreditation-review", shots)
    page.get_by_label("Approve with conditions").check()
    page.get_by_label("Conditions, in the words the public register shows").fill(CONDITIONS)
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("The application is approved with conditions").wait_for()
    assert page.get_by_text(CONDITIONS).first.is_visible()
    assert_accessible(page)

    approved = _mail_to(smtp, "megan@example.org", "Your accreditation as IPT practitioner is approved")
    assert CONDITIONS in approved.get_body(("plain",)).get_content()
    database = Database(portal.database_url, audit_key=AUDIT_KEY)
    try:
        with database.session(write=False) as s:
            (held,) = s.scalars(select(Holding)).all()
            assert held.conditions == CONDITIONS
    finally:
        database.dispose()
    # The first attempt is answered 422, which Chromium reports on the console.
    assert [error for error in page.js_errors if "422" not in error] == []

    # The public register shows the new registrant with the conditions, to anyone.
    page.get_by_role("button", name="Log out").click()
    page.goto(url + "/register?q=hughes")
    page.get_by_role("link", name="Megan Hughes").click()
    page.get_by_role("heading", name="Megan Hughes").wait_for()
    assert "Registered with conditions" in page.content() and CONDITIONS in page.content()
    assert_accessible(page)
