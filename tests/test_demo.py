"""`portal demo` loads a realistic society into an empty database through the services, refuses a second
run, and prints the logins. The demo is loaded once per engine (it takes a while) into a database of its
own, and each test reads one promise from it.

The demo is loaded at a fixed present (`portal demo --now`), and the tests judge it at that moment, never by
the wall clock. PORTAL_TEST_DEMO_NOW names another moment, to show the promises hold at any hour and date:
`PORTAL_TEST_DEMO_NOW=2027-12-19T23:40:00+00:00 pytest tests/test_demo.py`."""

from __future__ import annotations

import os
import re
import shutil
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import AUDIT_KEY, SECRET

from portal import audit, demo, migrate
from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.audit import AuditEvent
from portal.checkin import scans as checkin
from portal.checkin.models import CheckInScan
from portal.cli import main
from portal.db import Database
from portal.elections import results, trustees, voting
from portal.elections.models import (
    Ballot,
    Contest,
    ContestCount,
    Election,
    Nomination,
    PendingBallot,
    RollEntry,
)
from portal.events import catalogue
from portal.events.models import Event, Invoice, Question, Registration, TicketType, Workshop
from portal.mail.models import OutboxEmail
from portal.members.models import Member
from portal.society.models import Society

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "").strip()
#: The demo's present: a Wednesday afternoon in March, unless PORTAL_TEST_DEMO_NOW names another moment.
NOW = datetime.fromisoformat(
    os.environ.get("PORTAL_TEST_DEMO_NOW", "").strip() or "2026-03-18T14:30:00+00:00"
)
ENGINES = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]

pytestmark = pytest.mark.xdist_group("demo")


@dataclass
class Loaded:
    database: Database
    output: str
    exit_code: int
    env: dict[str, str]

    def session(self) -> Session:
        return self.database.new_session(write=False)


def run_demo(env: dict[str, str]) -> Any:
    return CliRunner().invoke(main, ["demo", "--now", NOW.isoformat()], env=env)


@pytest.fixture(scope="module", params=ENGINES)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """A migrated, empty database of this module's own (other tests truncate theirs), with the demo in it."""
    admin = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        name = f"portal_demo_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
        admin = sa.create_engine(
            POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
        migrate.upgrade(url)
    shares = tmp_path_factory.mktemp("shares")
    env = {
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_ENV": "test",
        "PORTAL_DEMO_SHARES_DIR": str(shares),
    }
    result = run_demo(env)
    database = Database(url, audit_key=AUDIT_KEY)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    problem = "".join(traceback.format_exception(result.exception)) if crashed else ""
    yield Loaded(database, result.output + problem, result.exit_code, env)
    database.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def statuses(session: Session, slug: str) -> Counter[str]:
    """Bookings of an event by status, with confirmed split by payment."""
    rows = session.execute(
        select(Registration.status, Registration.payment_status, Registration.amount_due)
        .join(Event, Event.id == Registration.event_id)
        .where(Event.slug == slug)
    ).all()
    found: Counter[str] = Counter()
    for status, payment, due in rows:
        found[f"confirmed {payment}" if status == "confirmed" and due > 0 else status] += 1
    return found


def event_of(session: Session, kind: str) -> Event:
    """The demo's one current event of a kind that has bookings (the skills day, the National Meeting, the
    conference); the courses' dates, the regional meetings and the 2024 conference are the training part's."""
    return session.scalars(
        select(Event).where(
            Event.kind == kind,
            Event.course_id.is_(None),
            Event.region == "",
            Event.ends_at > NOW - timedelta(days=2),
        )
    ).one()


def test_the_demo_loads_and_prints_every_login_with_its_password(loaded: Loaded) -> None:
    assert loaded.exit_code == 0, loaded.output
    for login in demo.LOGINS:
        assert re.search(rf"{re.escape(login.email)}\s+{re.escape(login.password)}", loaded.output), login


def test_every_demo_login_opens_with_its_password_and_has_its_role(loaded: Loaded) -> None:
    passwords = Passwords()
    roles = {"Administrator": "admin", "Member": ""}
    roles.update({login.role: role for login, (role,) in demo.STAFF})
    with loaded.session() as s:
        for login in demo.LOGINS:
            account = s.scalars(select(Account).where(Account.email == login.email)).one()
            assert passwords.verify(account.password_hash, login.password), login.email
            assert account.roles == roles[login.role]
        member = s.scalars(select(Account).where(Account.email == demo.MEMBER.email)).one()
        assert s.get(Member, member.member_id).full_name == demo.MEMBER.name


def test_the_society_has_the_address_and_charity_number_its_invoices_print(loaded: Loaded) -> None:
    with loaded.session() as s:
        society = s.get(Society, 1)
        assert society.name == "IPT UK" and society.charity_number and "\n" in society.address
        invoice = s.scalars(select(Invoice).order_by(Invoice.number)).first()
        assert society.charity_number in invoice.seller and "Manchester" in invoice.seller


def test_about_300_members_span_every_category_accreditation_level_and_status(loaded: Loaded) -> None:
    with loaded.session() as s:
        members = s.scalars(select(Member)).all()
    assert 280 <= len(members) <= 320
    assert {m.category for m in members} == {"trainee", "basic", "member_plus", "organisation", "honorary"}
    assert {m.accreditation for m in members} == {"none", "accredited_practitioner", "supervisor", "trainer"}
    counted = Counter(m.status for m in members)
    assert counted["active"] > 0.75 * len(members) and counted["lapsed"] > 5 and counted["resigned"] > 2
    assert all(m.email and m.email.endswith("@example.org") for m in members)
    assert len({(m.first_name, m.last_name) for m in members}) == len(members)


def test_some_members_have_activated_accounts(loaded: Loaded) -> None:
    with loaded.session() as s:
        linked = s.scalars(select(Account).where(Account.member_id.is_not(None))).all()
    assert 5 <= len(linked) <= 30 and all(a.password_hash for a in linked)


def test_the_conference_is_open_with_about_150_bookings_in_every_state(loaded: Loaded) -> None:
    with loaded.session() as s:
        conference = event_of(s, "conference")
        found = statuses(s, conference.slug)
        assert catalogue.event_state(conference, NOW) == "open"
    assert 130 <= sum(found.values()) <= 170, found
    assert found["confirmed paid"] >= 60 and found["confirmed unpaid"] >= 5, found
    assert found["offered"] >= 1 and found["waitlisted"] >= 3 and found["cancelled"] >= 5, found


def test_the_conference_sells_member_non_member_student_and_hidden_speaker_tickets(loaded: Loaded) -> None:
    with loaded.session() as s:
        conference = event_of(s, "conference")
        tickets = {
            t.name: t for t in s.scalars(select(TicketType).where(TicketType.event_id == conference.id))
        }
        workshops = s.scalars(select(Workshop).where(Workshop.event_id == conference.id)).all()
        purposes = set(s.scalars(select(Question.purpose).where(Question.event_id == conference.id)))
    assert tickets["Member early-bird"].member_only and tickets["Member early-bird"].sale_ends_at
    assert tickets["Student"].student and tickets["Speaker"].hidden and tickets["Speaker"].price == 0
    assert {"Member", "Non-member"} <= set(tickets)
    assert len(workshops) >= 4 and all(w.capacity for w in workshops)
    assert any(w.taken >= w.capacity for w in workshops), "a workshop is full (its waitlist is real)"
    assert {"dietary", "access", "badge", "general"} <= purposes


def test_every_booking_with_money_owed_has_an_invoice_numbered_without_gaps(loaded: Loaded) -> None:
    with loaded.session() as s:
        owing = s.scalars(
            select(Registration.id).where(Registration.amount_due > 0, Registration.confirmed_at.is_not(None))
        ).all()
        numbers = sorted(s.scalars(select(Invoice.number)))
        invoiced = set(s.scalars(select(Invoice.registration_id)))
    assert set(owing) == invoiced
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_national_meeting_is_full_for_members_with_offers_out_and_a_waitlist(loaded: Loaded) -> None:
    with loaded.session() as s:
        meeting = event_of(s, "meeting")
        found = statuses(s, meeting.slug)
        assert meeting.members_only and meeting.capacity == meeting.places_taken
        assert all(
            t.price == 0 for t in s.scalars(select(TicketType).where(TicketType.event_id == meeting.id))
        )
        assert catalogue.event_state(meeting, NOW) == "full_waitlist"
    assert found["confirmed"] == meeting.capacity - 2 and found["offered"] == 2, found
    assert found["waitlisted"] >= 1 and found["cancelled"] >= 1, found


def test_the_open_election_has_every_post_contested_and_about_40_percent_turnout(loaded: Loaded) -> None:
    with loaded.session() as s:
        election = s.scalars(select(Election).where(Election.published_at.is_(None))).one()
        assert election.state(NOW) == "voting" and election.roll_frozen_at is not None
        posts = {
            c.title: (
                c.seats,
                c.method,
                s.scalar(
                    select(func.count()).where(Nomination.contest_id == c.id, Nomination.status == "accepted")
                ),
            )
            for c in s.scalars(select(Contest).where(Contest.election_id == election.id))
        }
        roll = s.scalar(select(func.count()).where(RollEntry.election_id == election.id))
        voted = s.scalar(
            select(func.count()).where(RollEntry.election_id == election.id, RollEntry.has_voted)
        )
    assert posts["Ordinary committee member"][:2] == (4, "stv")
    assert {"Chair", "Secretary", "Treasurer"} <= set(posts)
    assert all(method == "stv" and accepted >= 1 for _, method, accepted in posts.values())
    assert roll == election.roll_size and 0.35 <= voted / roll <= 0.45


def test_the_open_elections_ballots_are_sealed_and_two_demo_share_files_open_them(loaded: Loaded) -> None:
    shares_dir = Path(loaded.env["PORTAL_DEMO_SHARES_DIR"])
    files = sorted(shares_dir.glob("*.share"))
    assert len(files) == 3 and "var/demo-shares" not in loaded.output
    assert str(shares_dir) in loaded.output
    session = loaded.database.new_session(write=True)
    try:
        election = session.scalars(select(Election).where(Election.published_at.is_(None))).one()
        assert election.trustees_ready_at is not None and election.trustee_threshold == 2
        voted = session.scalar(
            select(func.count()).where(RollEntry.election_id == election.id, RollEntry.has_voted)
        )
        pending = session.scalar(select(func.count()).where(PendingBallot.election_id == election.id))
        assert pending == voted
        assert session.scalar(select(func.count()).where(Ballot.election_id == election.id)) == 0
        given = [trustees.GivenShare(text=f.read_text()) for f in files[1:]]
        voting.open_ballot_box(
            session,
            actor=None,
            election_id=election.id,
            shares=given,
            key=SECRET.encode(),
            now=election.voting_close_at + timedelta(minutes=1),
        )
        ballots = session.scalar(select(func.count()).where(Ballot.election_id == election.id))
        assert ballots == voted
    finally:
        session.rollback()
        session.close()


def test_last_years_election_has_published_stv_results_from_untampered_ballots(loaded: Loaded) -> None:
    with loaded.session() as s:
        election = s.scalars(select(Election).where(Election.published_at.is_not(None))).one()
        counted = s.scalars(select(ContestCount).where(ContestCount.election_id == election.id)).all()
        contests = s.scalars(select(Contest).where(Contest.election_id == election.id)).all()
        report = results.verify_ballots(s, election_id=election.id, key=SECRET.encode())
        turnout = results.turnout(s, election)
        posts = results.post_results(s, election.id)
    assert election.tracker_public and election.results_public
    assert len(counted) == len(contests) and not report.problems
    assert turnout.ballots == turnout.voted and 0.35 <= turnout.voted / turnout.roll <= 0.55
    assert any(post.ranked for post in posts) and all(post.winners for post in posts)


def test_the_demo_member_holds_a_meeting_place_has_not_booked_the_conference_and_can_vote(
    loaded: Loaded,
) -> None:
    with loaded.session() as s:
        member = s.scalars(select(Member).where(Member.email == demo.MEMBER.email)).one()
        booked = dict(
            s.execute(
                select(Event.kind, Registration.status)
                .join(Event, Event.id == Registration.event_id)
                .where(Registration.member_id == member.id)
            ).all()
        )
        election = s.scalars(select(Election).where(Election.published_at.is_(None))).one()
        status = voting.voter_status(s, election=election, member_id=member.id, now=NOW)
    assert booked == {"meeting": "confirmed"}
    assert status == "can_vote"


def test_the_skills_day_door_is_open_with_some_delegates_already_in(loaded: Loaded) -> None:
    with loaded.session() as s:
        day = event_of(s, "training")
        place = checkin.place_for(s, event_id=day.id)
        admitted = s.scalar(
            select(func.count()).where(CheckInScan.event_id == day.id, CheckInScan.admission_key.is_not(None))
        )
        confirmed = s.scalar(
            select(func.count()).where(Registration.event_id == day.id, Registration.status == "confirmed")
        )
        results_seen = set(s.scalars(select(CheckInScan.result).where(CheckInScan.event_id == day.id)))
    assert place.is_open(NOW)
    assert 0 < admitted < confirmed
    assert {"ok", "already_checked_in"} <= results_seen


def test_every_page_of_the_website_has_its_text_and_the_menu_leads_to_the_portal(loaded: Loaded) -> None:
    from portal.members.models import MemberCategory
    from portal.site import seed
    from portal.site.models import Page, PageRevision

    with loaded.session() as s:
        pages = {p.path: p for p in s.scalars(select(Page))}
        assert set(pages) == {path for path, _ in seed.walk()}
        for path, page in pages.items():
            if page.link:
                continue
            assert page.is_published and "waiting for its text" not in page.body, path
            assert len(page.body) > 120 and page.summary, path
        assert "What is Interpersonal Psychotherapy?" in pages[""].body
        meeting = s.scalars(select(Event).where(Event.kind == "meeting")).one()
        assert pages["training-events/ipt-uk-national-meeting"].link == f"/events/{meeting.slug}"
        assert pages["training-events/events-calendar"].link == "events:calendar"
        assert pages["accreditation-membership/accreditation-standards"].link == "accreditation:standards"
        assert pages["about-ipt/find-a-therapist"].link == "register:directory"
        about = pages["about-ipt/meet-the-team/about-ipt-uk"]
        assert about.revision == 3 and "more than 300 members" in about.body
        assert pages["accreditation-membership/membership-options"].link == "membership:options"
        fees = dict(s.execute(select(MemberCategory.code, MemberCategory.annual_fee)).all())
        assert fees["basic"] == 4500 and fees["honorary"] == 0
        authors = set(s.scalars(select(PageRevision.author).where(PageRevision.number > 1)))
        assert authors == {"Priya Shah"}


def test_the_demo_has_its_courses_with_dates_regional_meetings_cpd_courses_and_an_archive(
    loaded: Loaded,
) -> None:
    from portal.training import service as training

    with loaded.session() as s:
        courses = training.list_courses(s)
        assert len(courses) == 6 and all(c.summary and c.prerequisites and c.audience for c in courses)
        assert not any("waiting for its text" in c.about for c in courses)
        for course in courses:
            assert catalogue.course_dates(s, course_id=course.id, now=NOW), course.slug
        past = s.scalars(select(Event).where(Event.course_id.is_not(None), Event.ends_at < NOW)).all()
        assert len(past) == 1
        regions = [label for label, _ in catalogue.upcoming_regional(s, now=NOW)]
        assert len(regions) >= 4 and "Other regional events" not in regions
        current = training.current_external(s, today=NOW.date())
        assert 0 < len(current) < len(training.external_courses(s))
        assert (2024, 1) in catalogue.archive_years(s, now=NOW)
        (isipt,) = catalogue.archive_year(s, year=2024, now=NOW)
        assert isipt.title == "ISIPT Conference 2024" and "Opening keynote" in isipt.description


def test_the_demo_has_its_levels_of_accreditation_with_their_standards_written(loaded: Loaded) -> None:
    from portal.accreditation import service as accreditation

    with loaded.session() as s:
        found = accreditation.standards(s)
        assert [x.level.slug for x in found][:2] == ["ipt-practitioner", "ipt-a-practitioner"]
        assert len(found) == 5 and not any("waiting for its text" in x.level.description for x in found)
        assert {x.level.updated_by for x in found} == {"Ruth Adebayo"}
        assert found[0].course is not None and found[0].level.supervised_cases == 8
        from portal.accreditation import cpd

        member = s.scalars(select(Member).where(Member.email == demo.MEMBER.email)).one()
        progress = cpd.progress(s, member_id=member.id, today=NOW.date())
        assert progress.level == "IPT practitioner" and progress.required == 12 and progress.hours > 0


def test_the_demo_has_a_register_with_conditions_a_suspension_a_removal_and_published_profiles(
    loaded: Loaded,
) -> None:
    from portal.register import directory
    from portal.register import service as register

    with loaded.session() as s:
        found = register.search(s, register.Search(), now=NOW)
        shown = {e.shown_status for e in found.entries}
        assert found.total >= 8 and {"registered", "conditions", "suspended", "removed"} <= shown
        assert len(register.removals(s)) == 1 and register.expiring(s, now=NOW)
        listing = directory.directory(s, directory.Filters(), now=NOW, key=b"k" * 32)
        # Nine published profiles, less the suspended and the removed practitioners'.
        assert listing.total == 7
        statuses = {e.member_id: e.status for e in found.entries}
        assert all(statuses[m.id] not in ("suspended", "removed") for _p, m in listing.profiles)
        suspended = next(e for e in found.entries if e.status == "suspended")
        assert suspended.complaint_id is not None


def test_the_demo_happened_before_its_present_and_reaches_up_to_it(loaded: Loaded) -> None:
    with loaded.session() as s:
        last_audit = s.scalar(select(func.max(AuditEvent.at)))
        last_email = s.scalar(select(func.max(OutboxEmail.created_at)))
        last_scan = s.scalar(select(func.max(CheckInScan.at)))
        day = event_of(s, "training")
    assert last_audit <= NOW and last_email <= NOW
    assert NOW - timedelta(hours=4) < last_scan < NOW
    # The skills day is under way at the demo's present, whatever the hour.
    assert NOW - timedelta(hours=8) <= day.starts_at <= NOW + timedelta(hours=2) and day.ends_at > NOW


def test_demo_now_reads_uk_time_unless_it_has_an_offset_and_refuses_anything_else() -> None:
    from portal.cli import _moment

    assert _moment(None, None, "2026-07-01T10:00") == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # type: ignore[arg-type]
    assert _moment(None, None, "2026-01-05T10:00+01:00") == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # type: ignore[arg-type]
    refused = CliRunner().invoke(main, ["demo", "--now", "next tuesday"], env={"PORTAL_ENV": "test"})
    assert refused.exit_code == 2 and "ISO 8601" in refused.output


def test_the_audit_log_is_intact_and_reads_in_time_order(loaded: Loaded) -> None:
    with loaded.session() as s:
        assert audit.verify(s, key=SECRET.encode()) == []
        times = s.scalars(select(AuditEvent.at).order_by(AuditEvent.id)).all()
        rows = s.execute(select(AuditEvent.at, AuditEvent.action).order_by(AuditEvent.id)).all()
    assert len(times) > 100 and times == sorted(times), "\n".join(f"{a} {b}" for a, b in rows[195:206])


def test_nothing_from_the_demo_is_left_to_send(loaded: Loaded) -> None:
    with loaded.session() as s:
        found = dict(s.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
    assert set(found) == {"logged"} and found["logged"] > 500


def test_a_second_run_is_refused_and_changes_nothing(loaded: Loaded) -> None:
    with loaded.session() as s:
        before = s.scalar(select(func.count()).select_from(Registration))
    again = run_demo(loaded.env)
    assert again.exit_code == 1
    assert "already set up" in again.output
    with loaded.session() as s:
        assert s.scalar(select(func.count()).select_from(Registration)) == before


def test_a_database_holding_only_members_is_not_empty_enough(db: Session, clock: Any) -> None:
    db.add(
        Member(
            membership_number="1",
            email="one@example.org",
            first_name="One",
            last_name="Member",
            category="basic",
            created_at=clock(),
            updated_at=clock(),
        )
    )
    db.flush()
    with pytest.raises(demo.DemoError) as refused:
        demo.load_demo(
            db, now=clock(), key=SECRET.encode(), base_url="http://testserver", passwords=Passwords(fast=True)
        )
    assert refused.value.code == "not_empty"


def test_the_demo_people_module_makes_unique_example_addresses() -> None:
    import random

    from portal.demo.people import People

    people = People(random.Random(1))
    addresses = [people.email(people.person()) for _ in range(400)]
    assert len(set(addresses)) == 400
    assert all(re.fullmatch(r"[a-z0-9.]+@example\.org", a) for a in addresses)


def test_the_readme_shows_the_demo_logins() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Try it with demo data", 1)[1].split("\n## ", 1)[0]
    assert "make demo" in section and "make run" in section
    for login in demo.LOGINS:
        assert login.email in section
    assert demo.DEMO_PASSWORD in section


def test_the_demo_has_complaints_at_each_stage_one_overdue_and_one_on_a_members_page(loaded: Loaded) -> None:
    from portal.complaints import service as complaints
    from portal.complaints.models import Complaint

    with loaded.session() as s:
        cases = list(s.scalars(select(Complaint).order_by(Complaint.received_at)))
        assert [c.stage for c in cases] == [
            "closed",
            "referred",
            "under_consideration",
            "received",
            "received",
        ]
        assert cases[1].referred_to == "The HCPC"
        assert any(e.kind == "decision" for e in cases[0].entries)
        assert sum(e.kind == "letter" for c in cases for e in c.entries) == 3
        [linked] = [c for c in cases if c.member_id is not None]
        assert s.get(Member, linked.member_id) is not None
        assert complaints.overdue(cases[3], complaints.today(NOW)) == ["acknowledgement"]
        assert complaints.overdue(cases[4], complaints.today(NOW)) == []
