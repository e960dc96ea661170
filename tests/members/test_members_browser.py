"""The office's roll journey in a real browser: upload the export, check the preview, apply it, find a member
with the live search — accessible on a laptop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from support import AUDIT_KEY, PASSWORD, make_account

from portal.accounts.passwords import Passwords
from portal.db import Database

pytestmark = pytest.mark.browser


@pytest.fixture
def office_login(live_server):
    created = live_server.cli(
        "admin", "create", "--email", "ada@example.org", "--name", "Ada Admin", "--password", PASSWORD
    )
    assert created.returncode == 0, created.stderr
    database = Database(live_server.database_url, audit_key=AUDIT_KEY)
    make_account(
        database, Passwords(fast=True), email="olive@example.org", roles="office", name="Olive Office"
    )
    database.dispose()
    return "olive@example.org"


def test_office_imports_the_roll_and_finds_a_member_with_live_search(
    live_server, page, assert_accessible, office_login, tmp_path, make_roll
):
    roll = tmp_path / "roll-export.csv"
    roll.write_bytes(
        make_roll(
            [
                [
                    "1001",
                    "ann.smith@example.org",
                    "Ann",
                    "Smith",
                    "Basic",
                    "active",
                    "01/02/2020",
                    "01/02/2027",
                ],
                ["1002", "chidi@example.org", "Chidi", "Okafor", "Member plus", "active", "2021-03-04", ""],
                ["1003", "dee@example.org", "Dee", "Walsh", "Trainee", "lapsed", "", ""],
            ],
            delimiter=";",
            bom=True,
        )
    )
    page.goto(live_server.url + "/login")
    page.get_by_label("E-mail address").fill(office_login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Members").first.click()
    page.wait_for_url(live_server.url + "/members/")
    assert_accessible(page)

    page.get_by_role("link", name="Import the roll").first.click()
    assert_accessible(page)
    page.get_by_label("Roll file (CSV)").set_input_files(str(roll))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="New members (3)")).to_be_visible()
    expect(page.get_by_role("cell", name="Chidi Okafor")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Apply the import").click()
    page.wait_for_url(live_server.url + "/members/")
    expect(page.get_by_text("Imported roll-export.csv: 3 new, 0 changed, 0 unchanged")).to_be_visible()
    rows = page.locator("#member-rows tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Search", exact=True).press_sequentially("okaf", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Okafor, Chidi")
    expect(page.get_by_role("status").filter(has_text="1 member")).to_be_visible()
    assert "q=okaf" in page.url
    assert_accessible(page)

    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Chidi Okafor")).to_be_visible()
    expect(page.get_by_text("Roll import")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page)
    page.get_by_role("link", name="← Members").click()
    page.get_by_role("link", name="Categories and accreditation levels").click()
    expect(page.get_by_label("Name for Member plus")).to_have_value("Member plus")
    assert_accessible(page)
    assert not page.js_errors
