"""A member's own account in a real browser, with the e-mails delivered over SMTP to aiosmtpd: activation,
My account, logging out, a password reset by e-mailed link, and logging in with the new password."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from support import AUDIT_KEY, PASSWORD, SmtpServer, smtp_server

from portal.db import Database
from portal.members.models import Member
from tests.browser.conftest import LiveServer, start_server, stop_server

NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_server(tmp_path, smtp) -> Iterator[LiveServer]:
    """The portal, its outbox sender delivering to aiosmtpd, set up, with Mary on the roll."""
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        database = Database(server.database_url, audit_key=AUDIT_KEY)
        now = datetime.now(UTC)
        with database.session() as session:
            session.add(
                Member(
                    membership_number="IPT-1001",
                    email="mary@example.org",
                    first_name="Mary",
                    last_name="Jones",
                    category="basic",
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
            )
        database.dispose()
        yield server
    finally:
        stop_server(server)


def _link(message, part: str) -> str:
    [link] = [link for link in SmtpServer.links(message) if part in link]
    return link


def test_a_member_activates_their_account_and_later_resets_the_password(
    mail_server, smtp, page, assert_accessible
):
    url = mail_server.url
    page.goto(url + "/login")
    assert_accessible(page)
    page.get_by_role("link", name="Activate your member account").click()
    assert_accessible(page)
    page.get_by_label("Your e-mail address").fill("Mary@Example.org")
    page.get_by_role("button", name="Send me a link").click()
    page.get_by_text("Check your e-mail").wait_for()
    assert_accessible(page)

    [activation] = smtp.wait_for(1, timeout=20)
    assert activation["To"] == "mary@example.org"
    assert activation["Subject"] == "Activate your IPT UK member account"
    page.goto(_link(activation, "/password/"))
    assert_accessible(page)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Save password and log in").click()
    page.wait_for_url(url + "/me")
    assert page.get_by_role("heading", name="My account").is_visible()
    assert "IPT-1001" in page.content() and "Mary Jones" in page.content()
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    assert_accessible(page)
    page.get_by_label("Your e-mail address").fill("mary@example.org")
    page.get_by_role("button", name="Send me a link").click()
    page.get_by_text("Check your e-mail").wait_for()

    reset = smtp.wait_for(2, timeout=20)[1]
    assert reset["Subject"] == "Choose a new password for IPT UK"
    page.goto(_link(reset, "/password/"))
    assert page.get_by_role("heading", name="Choose a new password").is_visible()
    assert_accessible(page)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password and log in").click()
    page.wait_for_url(url + "/")
    page.get_by_role("button", name="Log out", exact=True).click()

    page.get_by_label("E-mail address").fill("mary@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert "do not match an account" in page.content()
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    page.get_by_role("link", name="My account").first.click()
    page.wait_for_url(url + "/me")
    assert_accessible(page)
    assert len(smtp.messages) == 2
    # The one wrong password above is answered 422, which Chromium reports on the console.
    assert [error for error in page.js_errors if "422" not in error] == []
