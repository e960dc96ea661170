"""CPD from check-in: a member admitted at one of the portal's events gets exactly one entry in their log for
it, in the scan's transaction; its sessions add their CPD hours once each (the certificate's hours); an undo or
a change of a session's hours counts it again; a booking with no member writes nothing. Both engines."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select
from support import AUDIT_KEY

from bench import checkin_kit
from portal.accreditation.models import CpdEntry
from portal.checkin import badging, scans
from portal.checkin.scans import Scan, Scanner, check_in, place_for
from portal.db import Database
from portal.events.models import Registration
from portal.members.models import Member


@pytest.fixture
def alice_member(database, conference, clock):
    """Alice's booking is a member's (she booked logged in)."""
    with database.session() as s:
        member = Member(membership_number="4001", email="alice@example.org", first_name="Alice", last_name="Archer",
                        category="basic", status="active", created_at=clock(), updated_at=clock())  # fmt: skip
        s.add(member)
        s.flush()
        s.get(Registration, conference.people["alice"].id).member_id = member.id
        return member.id


def _scan(database, key, place, code, nonce, clock, scanner=None):
    with database.session() as s:
        return check_in(s, key=key, place=place, scanner=scanner or Scanner(door="Front door"),
                        scan=Scan(nonce=nonce, code=code), now=clock())  # fmt: skip


def _entries(database, member_id):
    with database.session() as s:
        return [(e.event_id, e.activity, e.hours, e.category) for e in s.scalars(select(CpdEntry).where(
            CpdEntry.member_id == member_id))]  # fmt: skip


def test_checking_in_a_member_writes_exactly_one_cpd_entry_and_sessions_add_their_hours_once(
    database, key, conference, place, room, alice_member, clock
):
    code = conference.code("alice")
    assert _scan(database, key, place, code, "n1", clock).status == "ok"
    # The event has sessions: its door makes the entry, the sessions bring the hours.
    assert _entries(database, alice_member) == [
        (conference.event.id, "Annual Conference", Decimal("0.00"), "conference")
    ]
    assert _scan(database, key, place, code, "n2", clock).status == "already_checked_in"
    clock.advance(minutes=40)  # the session's door opens half an hour before it starts
    assert _scan(database, key, room, code, "n3", clock).status == "ok"
    assert _scan(database, key, room, code, "n4", clock).status == "already_checked_in"
    assert _scan(database, key, room, code, "n3", clock).status == "ok"  # the same request again: a replay
    assert _entries(database, alice_member) == [
        (conference.event.id, "Annual Conference", Decimal("1.50"), "conference")
    ]


def test_a_booking_with_no_member_writes_no_cpd_entry(database, key, conference, place, clock):
    assert _scan(database, key, place, conference.code("bob"), "n1", clock).status == "ok"
    with database.session() as s:
        assert s.scalars(select(CpdEntry)).all() == []


def test_an_event_with_no_sessions_is_worth_its_length(database, key, clock, admin):
    now = clock()
    with database.session() as s:
        made = checkin_kit.make_event(s, now=now, title="National Meeting", hours=3.5)
        member = Member(membership_number="4002", email="m@example.org", first_name="M", last_name="N",
                        category="basic", status="active", created_at=now, updated_at=now)  # fmt: skip
        s.add(member)
        s.flush()
        booking = checkin_kit.add_registration(s, key=key, event=made.event, ticket=made.tickets[0], first_name="M",
                                               last_name="N", now=now, member_id=member.id)  # fmt: skip
        place = place_for(s, event_id=made.event.id)
        member_id, booking_id, event_id, serial = member.id, booking.id, made.event.id, booking.badge_serial
    from portal.checkin import badges

    code = badges.issue(key, registration_id=booking_id, event_id=event_id, serial=serial)
    assert _scan(database, key, place, code, "n1", clock).status == "ok"
    assert _entries(database, member_id) == [(event_id, "National Meeting", Decimal("3.50"), "conference")]


def test_undoing_a_session_admission_takes_its_hours_back(
    database, key, conference, place, room, alice_member, clock, admin
):
    code = conference.code("alice")
    clock.advance(minutes=40)
    door = Scanner(door="Room 1", account_id=admin.id)
    _scan(database, key, place, code, "n1", clock, scanner=door)
    _scan(database, key, room, code, "n2", clock, scanner=door)
    with database.session() as s:
        scans.undo(s, nonce="n2", scanner=door, event_id=None, actor=admin, device="", now=clock())
    assert _entries(database, alice_member)[0][2] == Decimal("0.00")
    with database.session() as s:
        scans.undo(s, nonce="n1", scanner=door, event_id=None, actor=admin, device="", now=clock())
    assert _entries(database, alice_member) == []


def test_staff_changing_a_sessions_cpd_hours_counts_the_entries_again(
    database, key, conference, place, room, alice_member, clock, admin
):
    code = conference.code("alice")
    clock.advance(minutes=40)
    _scan(database, key, place, code, "n1", clock)
    _scan(database, key, room, code, "n2", clock)
    with database.session() as s:
        badging.set_cpd_hours(s, actor=admin, event_id=conference.event.id, hours={conference.workshop.id: 3.0},
                              now=clock())  # fmt: skip
    assert _entries(database, alice_member)[0][2] == Decimal("3.00")


def test_two_doors_admitting_the_same_member_at_once_write_one_entry(
    database, db_url, key, conference, place, alice_member, clock
):
    code = conference.code("alice")
    second = Database(db_url, audit_key=AUDIT_KEY)
    barrier = threading.Barrier(2)
    answers: list[str] = []
    errors: list[BaseException] = []

    def run(worker: Database, nonce: str) -> None:
        try:
            barrier.wait()
            with worker.session() as s:
                answers.append(check_in(s, key=key, place=place, scanner=Scanner(door=nonce),
                                        scan=Scan(nonce=nonce, code=code), now=clock()).status)  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w, n)) for w, n in ((database, "a"), (second, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    second.dispose()
    assert errors == [] and sorted(answers) == ["already_checked_in", "ok"]
    assert len(_entries(database, alice_member)) == 1


def test_the_members_log_shows_the_entry_from_check_in(
    client, database, passwords, key, conference, place, alice_member, clock
):
    from support import login, make_account

    from portal.accounts.models import Account

    account = make_account(database, passwords, email="alice@example.org", name="Alice Archer")
    with database.session() as s:
        s.get(Account, account.id).member_id = alice_member
    _scan(database, key, place, conference.code("alice"), "n1", clock)
    login(client, "alice@example.org")
    page = client.get("/me/cpd")
    assert "Annual Conference" in page.text and "From check-in" in page.text
