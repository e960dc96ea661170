"""Joining in a real browser, with the e-mails delivered over SMTP to aiosmtpd: a visitor chooses a category and
applies (first with a problem, shown beside the field), the office asks for more, the applicant answers through
the private link in the e-mail, and the office approves; the new member gets the activation link. axe checks
each page; the form and the queue are photographed at 1280 and 390 wide when PORTAL_TEST_SCREENSHOTS is set."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import PASSWORD, SmtpServer, smtp_server

from tests.browser.conftest import LiveServer, start_server, stop_server

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def joining_server(tmp_path, smtp) -> Iterator[LiveServer]:
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada Admin", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        yield server
    finally:
        stop_server(server)


def _shoot(page, name: str) -> None:
    target = os.environ.get("PORTAL_TEST_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(Path(target) / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


def _mail_to(smtp: SmtpServer, to: str, subject_part: str):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in smtp.messages if m["To"] == to and subject_part in m["Subject"]]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {to} with {subject_part!r}: {[m['Subject'] for m in smtp.messages]}")


def test_a_visitor_applies_the_office_asks_for_more_the_applicant_answers_and_is_approved(
    joining_server, smtp, page, assert_accessible
):
    url = joining_server.url
    page.goto(url + "/membership/options")
    assert_accessible(page)
    page.get_by_role("link", name="Apply for Basic membership").click()
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Postal address").fill("1 High Street\nLeeds LS1 1AA")
    page.get_by_label("Profession", exact=True).fill("Mental health nurse")
    page.get_by_label("Professional registration").select_option("NMC")
    page.get_by_label("IPT training completed").select_option("foundation")
    page.get_by_label("I will keep to the society's code of conduct").check()
    page.get_by_role("button", name="Send my application").click()
    # htmx swaps the form in place: the missing number and declaration are shown beside their fields.
    registration_error = page.locator("#f-registration_number-error")
    registration_error.wait_for()
    assert "registration number" in registration_error.inner_text()
    assert page.locator("#f-privacy-error").is_visible()
    assert_accessible(page)
    _shoot(page, "membership-application-form")
    page.get_by_label("Registration number").fill("12A3456B")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_url(url + "/membership/apply/sent")
    _mail_to(smtp, "nadia@example.org", "Your application to")

    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(url + "/membership/applications")
    assert_accessible(page)
    _shoot(page, "membership-queue")
    page.get_by_role("link", name=re.compile(r"APP-\d+")).first.click()
    page.get_by_label("Ask the applicant for more").fill("Please send your NMC PIN's expiry date.")
    page.get_by_role("button", name="Send the question").click()
    assert page.get_by_text("Waiting for the applicant").first.is_visible()
    asked = _mail_to(smtp, "nadia@example.org", "the office asks for more")
    [link] = re.findall(r"http://127\.0\.0\.1:\d+/membership/answer/\S+", SmtpServer.text(asked))

    applicant = page.context.browser.new_context(viewport={"width": 390, "height": 900}, locale="en-GB")
    try:
        answering = applicant.new_page()
        answering.goto(link)
        assert "expiry date" in answering.inner_text("main")
        answering.get_by_label("Your answer").fill("It expires in March 2028.")
        answering.get_by_role("button", name="Send my answer").click()
        answering.wait_for_url(url + "/membership/answer/sent")
    finally:
        applicant.close()

    page.reload()
    assert "It expires in March 2028." in page.inner_text("main")
    assert_accessible(page)
    _shoot(page, "membership-application")
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_text("Approved: the applicant is on the roll").is_visible()
    welcome = _mail_to(smtp, "nadia@example.org", "activate your member account")
    assert "/password/" in SmtpServer.text(welcome)
    # The browser reports the form with problems (status 422) as a failed load; nothing else went wrong.
    assert all("status of 422" in error for error in page.js_errors)
