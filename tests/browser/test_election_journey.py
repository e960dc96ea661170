"""An Executive Committee election from set-up to publication, in a real browser, with every e-mail
delivered over SMTP to aiosmtpd: the returning officer sets it up; a member nominates another, whose
proposer, seconder and consent come by e-mailed link; the officer accepts, names herself and two scrutineers
as trustees (any 2 of 3) and makes the election key; each trustee downloads their share and checks it; voting
opens; one member votes logged in, another by the e-mailed ballot link; a second attempt is refused; after the
close a wrong share is named and opens nothing, two right ones open the ballot box; the officer counts, a
scrutineer reviews, the officer publishes and the voter finds her ballot by its tracker. Each page is checked
with axe at desktop width and at 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select
from support import AUDIT_KEY, PASSWORD, SmtpServer, smtp_server

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.db import Database
from portal.elections.models import Contest, Election, Nomination
from portal.members.models import Member
from tests.browser.conftest import LiveServer, start_server, stop_server

LONDON = ZoneInfo("Europe/London")
PEOPLE = {
    "ann": ("Ann", "Archer"),
    "bob": ("Bob", "Baker"),
    "cat": ("Cat", "Carter"),
    "dan": ("Dan", "Dyer"),
    "eve": ("Eve", "Evans"),
    "fay": ("Fay", "Fisher"),
    "gus": ("Gus", "Green"),
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def election_server(tmp_path, smtp) -> Iterator[LiveServer]:
    """The portal delivering to aiosmtpd, set up, with seven members, Ann's login and a returning officer."""
    server = start_server(tmp_path, extra_env={"PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        database = Database(server.database_url, audit_key=AUDIT_KEY)
        now = datetime.now(UTC)
        password_hash = Passwords(fast=True).hash(PASSWORD)
        with database.session() as session:
            for key, (first, last) in PEOPLE.items():
                session.add(
                    Member(
                        membership_number=f"IPT-{key.upper()}",
                        email=f"{key}@example.org",
                        first_name=first,
                        last_name=last,
                        category="basic",
                        status="active",
                        created_at=now,
                        updated_at=now,
                    )
                )
            session.flush()
            ann = session.scalar(select(Member).where(Member.email == "ann@example.org"))
            session.add(
                Account(
                    email="ann@example.org",
                    name="Ann Archer",
                    roles="",
                    password_hash=password_hash,
                    created_at=now,
                    member_id=ann.id,
                )
            )
            for email, name, roles in (
                ("rita@example.org", "Rita Returning", "returning_officer"),
                ("sam@example.org", "Sam Patel", "scrutineer"),
                ("sue@example.org", "Sue Scott", "scrutineer"),
            ):
                session.add(
                    Account(email=email, name=name, roles=roles, password_hash=password_hash, created_at=now)
                )
        database.dispose()
        yield server
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


def local(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def links_to(smtp: SmtpServer, address: str, part: str) -> list[str]:
    return [
        link
        for message in smtp.messages
        if message["To"] == address
        for link in SmtpServer.links(message)
        if part in link
    ]


def test_an_election_run_by_its_trustees_from_nominations_to_publication(
    election_server, smtp, page, browser, assert_accessible, tmp_path
):
    url = election_server.url
    now = datetime.now(UTC)

    # The returning officer sets the election up, with two posts.
    log_in(page, url, "rita@example.org")
    page.get_by_role("link", name="Run elections").first.click()
    check(page, assert_accessible)
    page.get_by_role("link", name="Set up a new election").click()
    check(page, assert_accessible)
    page.get_by_label("Title").fill("Executive Committee 2027")
    page.get_by_label("Nominations open").fill(local(now - timedelta(hours=1)))
    page.get_by_label("Nominations close").fill(local(now + timedelta(hours=2)))
    page.get_by_label("Candidates can withdraw until").fill(local(now + timedelta(hours=2)))
    page.get_by_label("Voting opens").fill(local(now + timedelta(hours=3)))
    page.get_by_label("Voting closes").fill(local(now + timedelta(days=2)))
    page.get_by_role("button", name="Set up the election").click()
    page.get_by_text("The election is set up").wait_for()
    check(page, assert_accessible)
    for title, method, seats in (
        ("Chair", "One vote (first past the post)", "1"),
        ("Committee member", "Ranked (single transferable vote)", "2"),
    ):
        page.get_by_role("link", name="Add a post").click()
        page.get_by_label("Name of the post").fill(title)
        page.get_by_label("Number of seats", exact=True).fill(seats)
        page.get_by_label(method).check()
        if title == "Chair":
            page.get_by_label('Put "Re-open nominations" (RON) on the ballot', exact=False).check()
            page.get_by_label("This is an officer post", exact=False).check()
            check(page, assert_accessible)
        page.get_by_role("button", name="Save the post").click()
        page.get_by_text(f"{title} is saved").wait_for()

    # Three candidates for the committee are already settled (their nominations are not this test's subject).
    database = Database(election_server.database_url, audit_key=AUDIT_KEY)
    with database.session() as session:
        election = session.scalars(select(Election)).one()
        committee = session.scalar(select(Contest).where(Contest.title == "Committee member"))
        members = {m.email.split("@")[0]: m for m in session.scalars(select(Member))}
        for key, (proposer, seconder) in {
            "eve": ("fay", "gus"),
            "fay": ("eve", "gus"),
            "gus": ("eve", "fay"),
        }.items():
            session.add(
                Nomination(
                    election_id=election.id,
                    contest_id=committee.id,
                    member_id=members[key].id,
                    nominator_id=members[key].id,
                    proposer_id=members[proposer].id,
                    seconder_id=members[seconder].id,
                    statement=f"{key.title()} for the committee.",
                    status="accepted",
                    live=True,
                    created_at=now,
                    consent_at=now,
                    proposer_confirmed_at=now,
                    seconder_confirmed_at=now,
                )
            )
        election_id = election.id

    # Ann nominates Dan for Chair, with Bob proposing and Cat seconding, and a photo.
    ann = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    log_in(ann, url, "ann@example.org")
    ann.get_by_role("link", name="Elections").first.click()
    check(ann, assert_accessible)
    ann.get_by_role("link", name="Executive Committee 2027").click()
    check(ann, assert_accessible)
    ann.get_by_role("link", name="Make a nomination").click()
    ann.get_by_label("Chair (1 seat)").wait_for()
    check(ann, assert_accessible)
    ann.get_by_label("Chair (1 seat)").check()
    ann.get_by_label("The candidate", exact=True).fill("IPT-DAN")
    ann.get_by_label("The proposer").fill("bob@example.org")
    ann.get_by_label("The seconder").fill("IPT-CAT")
    ann.get_by_label("The candidate's statement").fill(
        "Dan has chaired the training group for five years.\n\nHe will listen."
    )
    assert "12 of 300 words" in ann.locator("#f-statement-count").inner_text()
    photo = tmp_path / "dan.png"
    Image.new("RGB", (400, 400), (20, 110, 120)).save(photo)
    ann.get_by_label("A photo of the candidate").set_input_files(str(photo))
    ann.get_by_role("button", name="Send the nomination").click()
    ann.get_by_text("The nomination is recorded").wait_for()
    check(ann, assert_accessible)

    # Dan consents; Bob and Cat confirm, each through the link e-mailed to them.
    smtp.wait_for(3, timeout=30)
    for who, button in (
        ("dan", "Yes, I agree to stand"),
        ("bob", "Yes, I propose this nomination"),
        ("cat", "Yes, I second this nomination"),
    ):
        [link] = links_to(smtp, f"{who}@example.org", "/elections/nominations/")
        other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        other.goto(link)
        check(other, assert_accessible)
        other.get_by_role("button", name=button).click()
        other.get_by_text("your answer is recorded").wait_for()
        other.context.close()

    # The returning officer accepts the nomination, closes nominations and opens voting.
    page.goto(f"{url}/elections/manage/{election_id}")
    page.get_by_role("link", name="Dan Dyer").click()
    check(page, assert_accessible)
    page.get_by_label("Accept: the candidate goes on the list").check()
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("The nomination is accepted").wait_for()
    page.get_by_role("link", name="Change the election").click()
    closing = datetime.now(UTC) - timedelta(minutes=1)
    page.get_by_label("Nominations close").fill(local(closing))
    page.get_by_label("Candidates can withdraw until").fill(local(closing))
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("The election is saved").wait_for()

    # Voting cannot open before the trustees hold their shares. The officer names three, any two of whom open
    # the ballot box, and makes the election key.
    page.get_by_text(
        "Name the election's trustees and make the election key before voting can open"
    ).wait_for()
    assert page.get_by_role("button", name="Open voting now").count() == 0
    page.get_by_role("link", name="Trustees and the election key").click()
    check(page, assert_accessible)
    for name in ("Rita Returning", "Sam Patel", "Sue Scott"):
        page.get_by_label(name, exact=False).check()
    page.get_by_label("How many trustees must come to the close").fill("2")
    page.get_by_role("button", name="Name the trustees").click()
    page.get_by_role("heading", name="2 of 3 trustees open the ballot box").wait_for()
    page.get_by_role("button", name="Make the election key").click()
    page.get_by_text("The election key was made").wait_for()

    # Each trustee downloads their share (once) and shows they kept it.
    shares = {}
    trustee_pages = {"rita": page}
    for who in ("sam", "sue"):
        other = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True).new_page()
        log_in(other, url, f"{who}@example.org")
        trustee_pages[who] = other
    for who, trustee in trustee_pages.items():
        trustee.goto(f"{url}/elections/{election_id}/trustee")
        trustee.get_by_role("heading", name="Your trustee share").wait_for()
        check(trustee, assert_accessible)
        with trustee.expect_download() as download:
            trustee.get_by_role("button", name="Download my share").click()
        shares[who] = tmp_path / f"{who}.share"
        download.value.save_as(shares[who])
        trustee.goto(f"{url}/elections/{election_id}/trustee")
        assert trustee.get_by_role("button", name="Download my share").count() == 0
        trustee.get_by_label("Or its file").set_input_files(str(shares[who]))
        trustee.get_by_role("button", name="Check my share").click()
        trustee.get_by_text("your share is the one made for you").wait_for()
    for who in ("sam", "sue"):
        trustee_pages[who].context.close()
    page.goto(f"{url}/elections/manage/{election_id}/trustees")
    page.get_by_text("Every trustee has checked their share: voting can open.").wait_for()

    page.goto(f"{url}/elections/manage/{election_id}")
    page.get_by_role("button", name="Open voting now").click()
    page.get_by_text("Voting is open").first.wait_for()
    check(page, assert_accessible)
    page.goto(f"{url}/elections/{election_id}/candidates")
    assert "Dan has chaired the training group" in page.content()
    assert page.get_by_role("img", name="Photo of Dan Dyer").is_visible()
    check(page, assert_accessible)

    # Ann votes, logged in: a review step, then the receipt with her tracker code.
    ann.goto(f"{url}/elections/{election_id}")
    ann.get_by_role("link", name="Go to my ballot").click()
    check(ann, assert_accessible)
    ann.get_by_label("Dan Dyer", exact=True).check()
    # With JavaScript, the ranking is two lists with buttons (tests/browser/test_ballot_ranking.py walks them
    # by keyboard); the hidden numbered selects follow.
    ann.get_by_role("button", name="Add: Fay Fisher").click()
    ann.get_by_role("button", name="Add: Eve Evans").click()
    fay = ann.get_by_label("Fay Fisher", exact=True)
    eve = ann.get_by_label("Eve Evans", exact=True)
    assert (eve.input_value(), fay.input_value()) == ("2", "1")
    ann.get_by_role("button", name="Move up: Eve Evans").click()
    assert (eve.input_value(), fay.input_value()) == ("1", "2")
    ann.get_by_role("button", name="Move down: Eve Evans").click()
    assert (eve.input_value(), fay.input_value()) == ("2", "1")
    ann.get_by_role("button", name="Check my choices").click()
    ann.get_by_role("heading", name="Check your choices").wait_for()
    check(ann, assert_accessible)
    ann.get_by_role("button", name="Cast my vote").click()
    ann.get_by_role("heading", name="Your vote is cast").wait_for()
    check(ann, assert_accessible)
    tracker = ann.locator(".tracker strong").inner_text()
    assert len(tracker) == 11
    assert ann.locator("button[data-print]").is_visible()

    # A second attempt is refused.
    ann.goto(f"{url}/elections/{election_id}/ballot")
    ann.get_by_role("heading", name="You have already voted").wait_for()
    check(ann, assert_accessible)

    # Cat votes through the ballot link e-mailed to her, without logging in; the link then refuses.
    smtp.wait_for(3 + 1 + 7, timeout=30)
    [ballot_link] = links_to(smtp, "cat@example.org", "/elections/vote/")
    cat = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    cat.goto(ballot_link)
    assert_accessible(cat)
    cat.get_by_label("Re-open nominations (RON)", exact=True).check()
    cat.get_by_role("button", name="Check my choices").click()
    cat.get_by_role("button", name="Cast my vote").click()
    cat.get_by_role("heading", name="Your vote is cast").wait_for()
    assert_accessible(cat)
    cat.goto(ballot_link)
    cat.get_by_role("heading", name="You have already voted").wait_for()

    # Voting closes. Before the trustees come, nothing can be counted and no tracker is shown.
    with database.session() as session:
        session.get(Election, election_id).voting_close_at = datetime.now(UTC) - timedelta(seconds=1)
    database.dispose()
    page.goto(f"{url}/elections/manage/{election_id}")
    page.get_by_role("link", name="Give the trustees' shares to open the ballot box").click()
    page.get_by_role("heading", name="Open the ballot box").wait_for()
    check(page, assert_accessible)
    assert "2 sealed ballots" in page.content()

    # A wrong share (Sue's, given as Sam's) is named, and the box stays closed.
    page.locator("fieldset", has_text="Returning officer Rita Returning's share").get_by_label(
        "Share file"
    ).set_input_files(str(shares["rita"]))
    page.locator("fieldset", has_text="Scrutineer Sam Patel's share").get_by_label(
        "Share file"
    ).set_input_files(str(shares["sue"]))
    page.get_by_role("button", name="Open the ballot box").click()
    page.get_by_text(
        "The share given as Scrutineer Sam Patel's does not match the one made for them"
    ).first.wait_for()
    check(page, assert_accessible)
    assert "The ballot box was opened" not in page.content()

    # The officer and Sam, together at this computer, give their own shares: the ballot box opens.
    page.locator("fieldset", has_text="Returning officer Rita Returning's share").get_by_label(
        "Share file"
    ).set_input_files(str(shares["rita"]))
    page.locator("fieldset", has_text="Scrutineer Sam Patel's share").get_by_label(
        "Share file"
    ).set_input_files(str(shares["sam"]))
    page.get_by_role("button", name="Open the ballot box").click()
    page.get_by_text("The ballot box is open: 2 ballots.").wait_for()

    # The officer finds Ann's ballot by its tracker, then counts.
    page.goto(f"{url}/elections/{election_id}/trackers")
    check(page, assert_accessible)
    page.get_by_label("Your tracker code").fill(tracker)
    page.get_by_role("button", name="Find my ballot").click()
    found = page.get_by_role("status")
    found.wait_for()
    assert f"Found: ballot {tracker}" in found.inner_text()
    assert "Dan Dyer" in found.inner_text() and "Fay Fisher → Eve Evans" in found.inner_text()
    assert "2 ballots" in page.content()
    page.goto(f"{url}/elections/{election_id}/results")
    page.get_by_role("button", name="Count the votes").click()
    page.get_by_text("The votes are counted").wait_for()
    check(page, assert_accessible)

    # A scrutineer reviews; only the officer publishes.
    sam = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB").new_page()
    log_in(sam, url, "sam@example.org")
    sam.goto(f"{url}/elections/{election_id}/results")
    sam.get_by_role("heading", name="Review before publication").wait_for()
    assert_accessible(sam)
    assert sam.get_by_role("button", name="Publish the results").count() == 0
    sam.context.close()
    page.get_by_role("button", name="Publish the results").click()
    page.get_by_text("Tick the box to confirm").first.wait_for()
    page.get_by_label("The scrutineers and I have checked the count").check()
    page.get_by_role("button", name="Publish the results").click()
    page.get_by_text("The results are published to members").wait_for()

    # Ann reads the results and finds her ballot by its tracker (a POST: the tracker never sits in a URL).
    ann.goto(f"{url}/elections/{election_id}")
    ann.get_by_role("link", name="See the results").click()
    ann.get_by_role("heading", name="Results", exact=True).wait_for()
    check(ann, assert_accessible)
    ann.get_by_role("link", name="Find your ballot by its tracker code").click()
    ann.get_by_label("Your tracker code").fill(tracker)
    ann.get_by_role("button", name="Find my ballot").click()
    found = ann.get_by_role("status")
    found.wait_for()
    assert f"Found: ballot {tracker}" in found.inner_text()
    assert tracker.replace("-", "") not in ann.url and tracker not in ann.url
