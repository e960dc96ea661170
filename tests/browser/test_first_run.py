"""A newcomer's first minutes in a real browser: setup, staff, login with a second factor."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from browser_kit import LiveServer, start_server, stop_server
from support import PASSWORD, SmtpServer, smtp_server


@pytest.fixture
def mailing_server(tmp_path) -> Iterator[tuple[LiveServer, SmtpServer]]:
    """A fresh portal that delivers its e-mail to aiosmtpd (set-password links go only by e-mail)."""
    with smtp_server() as smtp:
        server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
        try:
            yield server, smtp
        finally:
            stop_server(server)


def test_first_run_setup_then_admin_adds_staff_who_sets_a_password(
    mailing_server, page, assert_accessible, browser
):
    live_server, smtp = mailing_server
    page.goto(live_server.url + "/")
    assert page.url.endswith("/setup")
    assert page.get_by_role("link", name="Log in").count() == 0
    assert_accessible(page)
    page.get_by_label("Setup code").fill(live_server.setup_code())
    page.get_by_label("Society name").fill("IPT UK")
    page.get_by_label("Your name").fill("Ada Admin")
    page.get_by_label("Your e-mail address").fill("ada@example.org")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_role("button", name="Set up the portal").click()
    page.wait_for_url(live_server.url + "/")
    assert "first administrator" in page.content()
    assert_accessible(page)

    page.get_by_role("link", name="Staff accounts").first.click()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Owen Office")
    page.get_by_label("E-mail address").fill("owen@example.org")
    page.get_by_label("Office staff").check()
    page.get_by_role("button", name="Add and e-mail a set-password link").click()
    assert "e-mailed a single-use link" in page.content()
    assert_accessible(page)
    [message] = smtp.wait_for(1)
    assert message["To"] == "owen@example.org"
    [link] = [u for u in SmtpServer.links(message) if "/password/" in u]

    other = browser.new_context().new_page()
    other.goto(link)
    assert_accessible(other)
    other.get_by_label("New password").fill(PASSWORD)
    other.get_by_label("Type it again").fill(PASSWORD)
    other.get_by_role("button", name="Save password and log in").click()
    other.wait_for_url(live_server.url + "/")
    assert "Owen Office" in other.content()
    # The link is single-use.
    other.goto(link)
    assert "expired or has already been used" in other.content()
    assert not page.js_errors


def test_staff_turns_on_two_step_verification_and_needs_it_at_login(live_server, page, assert_accessible):
    result = live_server.cli(
        "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
    )
    assert result.returncode == 0, result.stderr
    page.goto(live_server.url + "/login")
    assert_accessible(page)
    page.get_by_label("E-mail address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/account/security")
    assert_accessible(page)
    secret = page.locator("input[name=secret]").input_value()
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    codes = page.locator(".codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="Log out", exact=True).click()

    page.get_by_label("E-mail address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert re.search(r"/login/verify", page.url)
    assert_accessible(page)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    assert "not right" in page.content()
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server.url + "/")
    assert "Staff accounts" in page.content()
