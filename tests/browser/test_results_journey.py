"""The results of an election in a real browser: a member votes and keeps her tracker; voting closes; the
trustees open the ballot box; the returning officer counts; a scrutineer reviews the count and downloads a ranked post's ballots in BLT; the
returning officer publishes; the member reads the results and finds her ballot by its tracker. The results
page is checked with axe at desktop width and at 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_kit import LiveServer, start_server, stop_server
from starlette.routing import Router
from support import AUDIT_KEY, PASSWORD, SECRET

from bench import trustee_kit
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import build_routes
from portal.db import Database
from portal.elections import roll, voting
from portal.elections.links import Links
from portal.elections.models import RON, Contest, Election, Nomination
from portal.members.models import Member

PEOPLE = [
    "Ann Archer",
    "Bob Baker",
    "Cat Carter",
    "Dan Dyer",
    "Eve Evans",
    "Fay Fisher",
    "Gus Green",
    "Hal Hill",
]


def key_of(name: str) -> str:
    return name.split()[0].lower()


@pytest.fixture
def results_server(tmp_path) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    """The portal with eight members, an election in its voting window (Dan and Bob for Chair; Eve, Fay and
    Gus for two committee seats, with RON), Ann's login, a returning officer and a scrutineer."""
    server = start_server(tmp_path)
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        database = Database(server.database_url, audit_key=AUDIT_KEY)
        now = datetime.now(UTC)
        password_hash = Passwords(fast=True).hash(PASSWORD)
        with database.session() as session:
            members = {}
            for name in PEOPLE:
                first, last = name.split()
                members[key_of(name)] = Member(
                    membership_number=f"IPT-{first.upper()}",
                    email=f"{first.lower()}@example.org",
                    first_name=first,
                    last_name=last,
                    category="basic",
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
            session.add_all(members.values())
            session.flush()
            session.add_all(
                [
                    Account(
                        email="ann@example.org",
                        name="Ann Archer",
                        roles="",
                        password_hash=password_hash,
                        created_at=now,
                        member_id=members["ann"].id,
                    ),
                    Account(
                        email="rita@example.org",
                        name="Rita Returning",
                        roles="returning_officer",
                        password_hash=password_hash,
                        created_at=now,
                    ),
                    Account(
                        email="sam@example.org",
                        name="Sam Scrutineer",
                        roles="scrutineer",
                        password_hash=password_hash,
                        created_at=now,
                    ),
                ]
            )
            election = Election(
                title="Executive Committee 2027",
                description="",
                nominations_open_at=now - timedelta(days=20),
                nominations_close_at=now - timedelta(days=10),
                withdrawal_deadline_at=now - timedelta(days=9),
                voting_open_at=now - timedelta(hours=1),
                voting_close_at=now + timedelta(days=1),
                created_at=now - timedelta(days=30),
                pool_closed=False,
                manual_reminders=0,
                tracker_public=False,
                stv_rule="ers97",
                results_public=False,
            )
            session.add(election)
            session.flush()
            chair = Contest(
                election_id=election.id, title="Chair", seats=1, method="plurality", officer=True, position=1
            )
            committee = Contest(
                election_id=election.id, title="Committee member", seats=2, method="stv", ron=True, position=2
            )
            session.add_all([chair, committee])
            session.flush()
            nominations: dict[str, int] = {}
            for contest, who in (
                (chair, "dan"),
                (chair, "bob"),
                (committee, "eve"),
                (committee, "fay"),
                (committee, "gus"),
            ):
                nomination = Nomination(
                    election_id=election.id,
                    contest_id=contest.id,
                    member_id=members[who].id,
                    nominator_id=members[who].id,
                    proposer_id=members["hal"].id,
                    seconder_id=members["cat"].id,
                    statement=f"{who.title()} will serve.",
                    status="accepted",
                    live=True,
                    created_at=now,
                    consent_at=now,
                    proposer_confirmed_at=now,
                    seconder_confirmed_at=now,
                )
                session.add(nomination)
                session.flush()
                nominations[who] = nomination.id
            world = {
                "election": election.id,
                "chair": chair.id,
                "committee": committee.id,
                "members": {k: m.id for k, m in members.items()},
                "nominations": nominations,
            }
        # Its trustees hold their checked shares (their own journey is test_election_journey's), so the roll
        # freezes and voting opens.
        world["shares"] = trustee_kit.make_trustees(database, world["election"], key=SECRET.encode(), now=now)
        with database.session() as session:
            links = Links(server.env["PORTAL_BASE_URL"], Router(routes=build_routes()).url_path_for)
            roll.freeze_roll(
                session, election_id=world["election"], now=now, key=SECRET.encode(), links=links
            )
        database.dispose()
        yield server, world
    finally:
        stop_server(server)


def check(page: Any, assert_accessible: Any) -> None:
    """axe at desktop width and on a phone (390 px)."""
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page: Any, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def test_close_count_review_publish_and_a_member_finds_her_ballot(
    results_server, page, browser, assert_accessible, tmp_path
):
    server, world = results_server
    url = server.url
    election_id = world["election"]

    # Ann votes, logged in, and keeps her tracker code.
    log_in(page, url, "ann@example.org")
    page.goto(f"{url}/elections/{election_id}/ballot")
    page.get_by_label("Dan Dyer", exact=True).check()
    page.get_by_role("button", name="Add: Eve Evans").click()
    page.get_by_role("button", name="Add: Gus Green").click()
    page.get_by_role("button", name="Check my choices").click()
    page.get_by_role("button", name="Cast my vote").click()
    page.get_by_role("heading", name="Your vote is cast").wait_for()
    tracker = page.locator(".tracker strong").inner_text()

    # Five more members vote; then voting closes.
    n, m = world["nominations"], world["members"]
    chair, committee = world["chair"], world["committee"]
    database = Database(server.database_url, audit_key=AUDIT_KEY)
    others = {
        "bob": {chair: [n["bob"]], committee: [n["fay"], n["eve"]]},
        "cat": {chair: [n["dan"]], committee: [n["eve"], n["fay"]]},
        "eve": {chair: [n["dan"]], committee: [n["eve"], n["gus"]]},
        "fay": {chair: [n["bob"]], committee: [RON, n["fay"]]},
        "hal": {chair: [n["dan"]], committee: [n["gus"], n["eve"]]},
    }
    now = datetime.now(UTC)
    for who, selections in others.items():
        with database.session() as session:
            voting.cast_ballot(
                session,
                election_id=election_id,
                member_id=m[who],
                selections=selections,
                key=SECRET.encode(),
                now=now,
            )
    with database.session() as session:
        session.get(Election, election_id).voting_close_at = datetime.now(UTC) - timedelta(seconds=1)
    # Two trustees open the ballot box (in the browser in test_election_journey).
    trustee_kit.open_box(database, election_id, world["shares"], key=SECRET.encode(), now=datetime.now(UTC))

    # The returning officer finds the sealed ballot box and counts.
    rita = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    log_in(rita, url, "rita@example.org")
    rita.get_by_role("link", name="Run elections").first.click()
    rita.get_by_role("link", name="Executive Committee 2027").click()
    rita.get_by_role("link", name="The count and results").click()
    rita.get_by_text("Waiting for the count").first.wait_for()
    assert "6 ballots" in rita.content()
    check(rita, assert_accessible)
    rita.get_by_role("button", name="Count the votes").click()
    rita.get_by_text("The votes are counted").wait_for()
    check(rita, assert_accessible)
    winners = rita.locator(f"#post-{chair} ol.winners li strong").all_inner_texts()
    assert winners == ["Dan Dyer"]
    assert rita.get_by_role("img", name="How the votes moved: Committee member").is_visible()

    # A scrutineer reviews the count and downloads the committee ballots in BLT.
    sam = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-GB", accept_downloads=True
    ).new_page()
    log_in(sam, url, "sam@example.org")
    sam.goto(f"{url}/elections/{election_id}/results")
    sam.get_by_role("heading", name="Review before publication").wait_for()
    assert_accessible(sam)
    with sam.expect_download() as download:
        sam.get_by_role("link", name="Download the ballots for Committee member (BLT file)").click()
    saved = tmp_path / "committee.blt"
    download.value.save_as(saved)
    blt = saved.read_text()
    assert blt.startswith("4 2\n") and '"Committee member (Executive Committee 2027)"' in blt
    assert sam.get_by_role("button", name="Publish the results").count() == 0

    # Before publication Ann cannot see the results.
    page.goto(f"{url}/elections/{election_id}/results")
    assert "Dan Dyer" not in page.content() and "The results will be published here" in page.content()
    page.js_errors.clear()  # the browser logs the 403 of that page as a console error

    # The returning officer publishes, after confirming the count has been checked.
    rita.get_by_role("button", name="Publish the results").click()
    rita.get_by_text("Tick the box to confirm").first.wait_for()
    rita.get_by_label("The scrutineers and I have checked the count").check()
    rita.get_by_role("button", name="Publish the results").click()
    rita.get_by_text("The results are published to members").wait_for()

    # Ann reads the results and finds her ballot by its tracker.
    page.goto(f"{url}/elections/{election_id}")
    page.get_by_role("link", name="See the results").click()
    page.get_by_role("heading", name="Results", exact=True).wait_for()
    check(page, assert_accessible)
    assert page.locator(f"#post-{chair} ol.winners li strong").all_inner_texts() == ["Dan Dyer"]
    committee_winners = page.locator(f"#post-{committee} ol.winners li strong").all_inner_texts()
    assert len(committee_winners) == 2 and "Eve Evans" in committee_winners
    assert page.get_by_text("Turnout").first.is_visible()
    page.get_by_role("link", name="Find your ballot by its tracker code").click()
    page.get_by_label("Your tracker code").fill(tracker)
    page.get_by_role("button", name="Find my ballot").click()
    found = page.get_by_role("status")
    found.wait_for()
    assert f"Found: ballot {tracker}" in found.inner_text()
    assert "Dan Dyer" in found.inner_text() and "Eve Evans → Gus Green" in found.inner_text()
    database.dispose()
    assert not page.js_errors
