"""Contact us in a real browser, with the e-mails delivered over SMTP to aiosmtpd: a visitor writes, is given a
reference and gets the acknowledgement; the office reads it, replies from the portal (the reply arrives), and
closes it. axe checks each page."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from support import PASSWORD, SmtpServer, smtp_server

from tests.browser.conftest import LiveServer, start_server, stop_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def contact_server(tmp_path, smtp) -> Iterator[LiveServer]:
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada Admin", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        yield server
    finally:
        stop_server(server)


def test_a_visitors_message_is_acknowledged_answered_and_closed(
    contact_server, smtp, page, browser, assert_accessible
):
    url = contact_server.url
    page.goto(url + "/contact")
    assert_accessible(page)
    page.get_by_role("button", name="Send message").click()
    page.get_by_text("There are 4 problems").wait_for()
    assert_accessible(page)
    page.get_by_label("What is your message about?").select_option(label="Membership")
    page.get_by_label("Your name").fill("Zoë Müller-Łukasz")
    page.get_by_label("Your e-mail address").fill("zoe@example.org")
    page.get_by_label("Your message", exact=True).fill("Can I join as an associate member?")
    time.sleep(3.2)  # a person takes longer than the form's minimum fill time; an automated sender does not
    page.get_by_role("button", name="Send message").click()
    page.get_by_role("heading", name="Your message is sent").wait_for()
    reference = page.locator(".reference").inner_text()
    assert reference.startswith("E-")
    assert_accessible(page)

    ack = _mail_to(smtp, "zoe@example.org", "We have your message")
    assert ack["Subject"] == f"We have your message ({reference})"

    office = browser.new_page()
    try:
        office.goto(url + "/login")
        office.get_by_label("E-mail address").fill("ada@example.org")
        office.get_by_label("Password").fill(PASSWORD)
        office.get_by_role("button", name="Log in").click()
        office.get_by_role("link", name="Enquiries").first.click()
        assert_accessible(office)
        office.get_by_role("link", name=reference).click()
        office.get_by_text("Can I join as an associate member?").wait_for()
        assert_accessible(office)
        office.get_by_label("Your reply").fill("Yes: associates join online.")
        office.get_by_role("button", name="Send reply").click()
        office.get_by_text("Your reply is on its way to the sender.").wait_for()
        office.get_by_label("Status", exact=True).select_option(label="Closed")
        office.get_by_role("button", name="Save").click()
        office.get_by_text("The enquiry is updated.").wait_for()
        assert "This enquiry is closed" in office.content()
    finally:
        office.close()

    reply = _mail_to(smtp, "zoe@example.org", "Re: ")
    assert reference in reply["Subject"]
    assert "Yes: associates join online." in reply.get_body(("plain",)).get_content()


def _mail_to(smtp: SmtpServer, to: str, subject_start: str):
    """The first e-mail to `to` whose subject starts so, waiting for the outbox sender to deliver it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in smtp.messages if m["To"] == to and m["Subject"].startswith(subject_start)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(
        f"no e-mail to {to} starting {subject_start!r}: {[m['Subject'] for m in smtp.messages]}"
    )
