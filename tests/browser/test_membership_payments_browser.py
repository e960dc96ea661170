"""Issue 16's "Done when", in a real browser against the live portal, the Stripe stand-in and aiosmtpd:

- a visitor applies; the office asks for more and, once answered, approves; the applicant pays the first fee by
  card on the stand-in's hosted page (its Pay button sends the signed webhook to the portal), activates her
  account from the e-mail, logs in, and votes in an election that opens afterwards;
- one member renews by card from My account; another by invoice, which the office marks paid by importing the
  bank statement; a third lapses once the clock passes the grace period.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from starlette.routing import Router
from stripe_standin import SECRET_KEY, WEBHOOK_SECRET, Running, StandIn
from support import AUDIT_KEY, PASSWORD, SECRET, SmtpServer, smtp_server

from bench import trustee_kit
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import build_routes
from portal.db import Database
from portal.elections import roll
from portal.elections.links import Links
from portal.elections.models import Contest, Election, Nomination
from portal.members.models import Member, MemberCategory
from portal.membership.models import MembershipPayment, Renewal
from tests.browser.conftest import LiveServer, start_server, stop_server

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def stand() -> Iterator[Running]:
    running = Running(StandIn())
    yield running
    running.stop()


@pytest.fixture
def portal(tmp_path, smtp, stand) -> Iterator[tuple[LiveServer, Database]]:
    """The portal taking card payments through the stand-in and e-mailing through aiosmtpd, set up, with Basic
    membership at £45 a year."""
    server = start_server(
        tmp_path,
        extra_env={
            "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "PORTAL_STRIPE_SECRET_KEY": SECRET_KEY,
            "PORTAL_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PORTAL_STRIPE_API_BASE": stand.url,
        },
    )
    database = Database(server.database_url, audit_key=AUDIT_KEY)
    try:
        created = server.cli(
            "admin", "create", "--email", "ada@example.org", "--name", "Ada Admin", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        with database.session() as s:
            s.execute(update(MemberCategory).where(MemberCategory.code == "basic").values(annual_fee=4500))
        stand.standin.webhook_url = f"{server.url}/payments/stripe/webhook"
        yield server, database
    finally:
        database.dispose()
        stop_server(server)


def _mail_to(smtp: SmtpServer, to: str, subject_part: str) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [m for m in smtp.messages if m["To"] == to and subject_part in m["Subject"]]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {to} with {subject_part!r}: {[m['Subject'] for m in smtp.messages]}")


def _link(message: Any, part: str) -> str:
    [link] = [link for link in SmtpServer.links(message) if part in link]
    return link


def _log_in(page: Any, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def _open_election(server: LiveServer, database: Database) -> int:
    """An election whose voting opens now (after the new member joined): two candidates for Chair, the
    trustees' shares made and checked, the roll frozen from the members in good standing at this moment."""
    now = datetime.now(UTC)
    with database.session() as s:
        people = []
        for first, last in (("Dan", "Dyer"), ("Bob", "Baker"), ("Cat", "Carter")):
            member = Member(
                membership_number=f"IPT-{first.upper()}",
                email=f"{first.lower()}@example.org",
                first_name=first,
                last_name=last,
                category="basic",
                status="active",
                created_at=now,
                updated_at=now,
            )
            s.add(member)
            people.append(member)
        election = Election(
            title="Executive Committee 2027",
            description="",
            nominations_open_at=now - timedelta(days=20),
            nominations_close_at=now - timedelta(days=10),
            withdrawal_deadline_at=now - timedelta(days=9),
            voting_open_at=now - timedelta(seconds=1),
            voting_close_at=now + timedelta(days=1),
            created_at=now - timedelta(days=30),
            pool_closed=False,
            manual_reminders=0,
            tracker_public=False,
            stv_rule="ers97",
            results_public=False,
        )
        s.add(election)
        s.flush()
        chair = Contest(
            election_id=election.id, title="Chair", seats=1, method="plurality", officer=True, position=1
        )
        s.add(chair)
        s.flush()
        for candidate in people[:2]:
            s.add(
                Nomination(
                    election_id=election.id,
                    contest_id=chair.id,
                    member_id=candidate.id,
                    nominator_id=candidate.id,
                    proposer_id=people[2].id,
                    seconder_id=people[2].id,
                    statement="I will serve.",
                    status="accepted",
                    live=True,
                    created_at=now,
                    consent_at=now,
                    proposer_confirmed_at=now,
                    seconder_confirmed_at=now,
                )
            )
        election_id = election.id
    trustee_kit.make_trustees(database, election_id, key=SECRET.encode(), now=now)
    with database.session() as s:
        links = Links(server.env["PORTAL_BASE_URL"], Router(routes=build_routes()).url_path_for)
        roll.freeze_roll(s, election_id=election_id, now=now, key=SECRET.encode(), links=links)
    return election_id


def test_a_visitor_joins_pays_by_card_activates_and_votes_in_an_election_opened_afterwards(
    portal, smtp, stand, page
):
    server, database = portal
    url = server.url
    page.goto(url + "/membership/options")
    page.get_by_role("link", name="Apply for Basic membership").click()
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Postal address").fill("1 High Street\nLeeds LS1 1AA")
    page.get_by_label("Profession", exact=True).fill("Mental health nurse")
    page.get_by_label("Professional registration").select_option("NMC")
    page.get_by_label("Registration number").fill("12A3456B")
    page.get_by_label("IPT training completed").select_option("foundation")
    page.get_by_label("I will keep to the society's code of conduct").check()
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_url(url + "/membership/apply/sent")

    office = page.context.browser.new_context(locale="en-GB")
    try:
        staff = office.new_page()
        _log_in(staff, url, "ada@example.org")
        staff.goto(url + "/membership/applications")
        staff.get_by_role("link", name=re.compile(r"APP-\d+")).first.click()
        staff.get_by_label("Ask the applicant for more").fill("Please send your NMC PIN's expiry date.")
        staff.get_by_role("button", name="Send the question").click()
        asked = _mail_to(smtp, "nadia@example.org", "the office asks for more")
        page.goto(_link(asked, "/membership/answer/"))
        page.get_by_label("Your answer").fill("It expires in March 2028.")
        page.get_by_role("button", name="Send my answer").click()
        page.wait_for_url(url + "/membership/answer/sent")
        staff.reload()
        staff.get_by_role("button", name="Approve").click()
        assert staff.get_by_text("Approved: the applicant is on the roll").is_visible()
    finally:
        office.close()

    # The approval e-mail asks for the first fee, with the private link to pay it by card.
    approved = _mail_to(smtp, "nadia@example.org", "is approved: your first fee")
    page.goto(_link(approved, "/membership/pay/"))
    page.get_by_role("button", name="Pay £45.00 by card").click()
    page.wait_for_url(f"{stand.url}/pay/*")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{url}/payments/card/return*")
    assert page.get_by_role("heading", level=1).inner_text() == "Payment received"
    assert [status for status, _event in stand.standin.delivered] == [200]

    welcome = _mail_to(smtp, "nadia@example.org", "activate your member account")
    page.goto(_link(welcome, "/password/"))
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Save password and log in").click()
    page.wait_for_url(url + "/me")
    mine = page.inner_text("main")
    assert "Active" in mine and "First year · £45.00 · paid" in mine and "by card" in mine
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(url + "/login")
    _log_in(page, url, "nadia@example.org")

    election_id = _open_election(server, database)
    page.goto(f"{url}/elections/{election_id}/ballot")
    page.get_by_label("Dan Dyer", exact=True).check()
    page.get_by_role("button", name="Check my choices").click()
    page.get_by_role("button", name="Cast my vote").click()
    page.get_by_role("heading", name="Your vote is cast").wait_for()
    with database.session(write=False) as s:
        [row] = s.scalars(select(MembershipPayment)).all()
        assert (row.purpose, row.method, row.source, row.amount) == ("first_fee", "card", "stripe", 4500)


def _member(s: Any, number: str, first: str, renewal_on: date, password_hash: str) -> None:
    now = datetime.now(UTC)
    member = Member(
        membership_number=number,
        email=f"{first.lower()}@example.org",
        first_name=first,
        last_name="Member",
        category="basic",
        status="active",
        joined_on=date(2020, 1, 1),
        renewal_on=renewal_on,
        created_at=now,
        updated_at=now,
    )
    s.add(member)
    s.flush()
    s.add(
        Account(
            email=member.email,
            name=f"{first} Member",
            roles="",
            password_hash=password_hash,
            created_at=now,
            member_id=member.id,
        )
    )


def test_members_renew_by_card_and_by_invoice_paid_from_the_statement_and_one_lapses(
    portal, stand, page, browser, tmp_path
):
    server, database = portal
    url = server.url
    today = datetime.now(LONDON).date()
    password_hash = Passwords(fast=True).hash(PASSWORD)
    with database.session() as s:
        _member(s, "2001", "Megan", today + timedelta(days=15), password_hash)
        _member(s, "2002", "Tom", today + timedelta(days=10), password_hash)
        # The last day of the 30-day grace period.
        _member(s, "2003", "Lia", today - timedelta(days=30), password_hash)

    # Megan renews by card: Renew on My account, then "Renew and pay by card" — two clicks, then Stripe's page.
    _log_in(page, url, "megan@example.org")
    page.goto(url + "/me")
    page.get_by_role("link", name="Renew", exact=True).click()
    page.get_by_role("button", name="Renew and pay by card").click()
    page.wait_for_url(f"{stand.url}/pay/*")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{url}/payments/card/return*")
    assert page.get_by_role("heading", level=1).inner_text() == "Payment received"
    page.get_by_role("link", name="Back to your membership").click()
    renewed = today + timedelta(days=15)
    assert date(renewed.year + 1, renewed.month, renewed.day).strftime("%-d %B %Y") in page.inner_text("main")

    # Tom renews by invoice; the office imports the bank statement with his reference on it.
    context = browser.new_context(locale="en-GB")
    try:
        tom = context.new_page()
        _log_in(tom, url, "tom@example.org")
        tom.goto(url + "/membership/renew")
        tom.get_by_role("button", name="Renew and pay by bank transfer").click()
        reference = re.search(r"REN\d{7}", tom.inner_text("main"))
        assert reference is not None
        office = browser.new_context(locale="en-GB")
        try:
            staff = office.new_page()
            _log_in(staff, url, "ada@example.org")
            staff.goto(url + "/events/manage/payments")
            statement = tmp_path / "statement.csv"
            statement.write_text(
                f"Date,Description,Amount\n{today.strftime('%d/%m/%Y')},T MEMBER {reference.group(0)},45.00\n"
            )
            staff.get_by_label("Bank statement (CSV)").set_input_files(str(statement))
            staff.get_by_role("button", name="Preview").click()
            assert "Tom Member (membership renewal" in staff.inner_text("main")
            staff.get_by_role("button", name="Record 1 payment").click()
            assert staff.get_by_text("1 payment recorded from the statement.").is_visible()
        finally:
            office.close()
        tom.goto(url + "/me")
        assert "Renewal · £45.00 · paid" in tom.inner_text("main") and "by bank transfer" in tom.inner_text(
            "main"
        )
    finally:
        context.close()

    # Lia is in her grace period today; once the clock passes it (a day later: her renewal date a day earlier
    # is the same moment seen from the portal's wall clock), she has lapsed and may renew.
    context = browser.new_context(locale="en-GB")
    try:
        lia = context.new_page()
        _log_in(lia, url, "lia@example.org")
        lia.goto(url + "/me")
        assert "lapses on" in lia.inner_text("main")
        with database.session() as s:
            s.execute(
                update(Member)
                .where(Member.membership_number == "2003")
                .values(renewal_on=today - timedelta(days=31))
            )
        lia.reload()
        panel = lia.inner_text("main")
        assert "Lapsed" in panel and "lapses on" not in panel
        assert lia.get_by_role("link", name="Renew", exact=True).is_visible()
    finally:
        context.close()

    with database.session(write=False) as s:
        rows = s.execute(
            select(Member.membership_number, MembershipPayment.method, MembershipPayment.source)
            .join(Member, Member.id == MembershipPayment.member_id)
            .order_by(MembershipPayment.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("2001", "card", "stripe"),
            ("2002", "bank_transfer", "bank_statement"),
        ]
        assert s.scalar(select(Renewal.paid_on).join(Member).where(Member.membership_number == "2002"))
