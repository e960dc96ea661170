"""The rules of a scan, tested without HTTP: each answer, the scan log, nonces, undo, sessions, offline scans."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.checkin import badging, rosters, scans
from portal.checkin.errors import CheckInError
from portal.checkin.models import CheckInScan
from portal.checkin.scans import Scan, Scanner, check_in
from portal.events.models import Registration


def scan(db, key, place, scanner, *, code=None, registration=None, nonce, now, **extra):
    answer = check_in(
        db,
        key=key,
        place=place,
        scanner=scanner,
        scan=Scan(nonce=nonce, code=code, registration_id=registration, **extra),
        now=now,
    )
    db.commit()
    return answer


def test_a_confirmed_paid_badge_is_admitted_with_name_and_ticket(
    db, key, conference, place, front_door, clock
):
    answer = scan(db, key, place, front_door, code=conference.code("bob"), nonce="n1", now=clock())
    assert answer.status == "ok"
    assert (answer.name, answer.ticket) == ("Bob Baker", "Speaker")
    assert answer.registration == conference.people["bob"].id


def test_a_second_scan_says_already_checked_in_with_the_first_time_and_door(
    db, key, conference, place, front_door, clock
):
    first_time = clock()
    scan(db, key, place, front_door, code=conference.code("bob"), nonce="n1", now=first_time)
    later = clock.advance(minutes=3)
    answer = scan(
        db, key, place, Scanner(door="Side door"), code=conference.code("bob"), nonce="n2", now=later
    )
    assert answer.status == "already_checked_in"
    assert answer.first == {"at": first_time.isoformat(), "door": "Front door"}
    assert answer.name == "Bob Baker"


@pytest.mark.parametrize(
    ("person", "status"),
    [("carol", "cancelled"), ("dan", "unpaid"), ("erin", "waitlisted")],
)
def test_bookings_that_may_not_enter_get_their_status(
    db, key, conference, place, front_door, clock, person, status
):
    answer = scan(db, key, place, front_door, code=conference.code(person), nonce="n1", now=clock())
    assert answer.status == status
    assert answer.name


def test_an_old_badge_after_a_reissue_is_revoked(db, key, conference, place, front_door, clock, admin):
    old = conference.code("bob")
    badging.reissue(db, actor=admin, registration_id=conference.people["bob"].id, now=clock())
    db.commit()
    assert scan(db, key, place, front_door, code=old, nonce="n1", now=clock()).status == "revoked"
    new = conference.code("bob", serial=2)
    assert scan(db, key, place, front_door, code=new, nonce="n2", now=clock()).status == "ok"


def test_reissuing_a_badge_is_audited(db, conference, clock, admin):
    badging.reissue(db, actor=admin, registration_id=conference.people["bob"].id, now=clock())
    db.commit()
    entry = db.scalars(select(AuditEvent).where(AuditEvent.action == "badge.reissue")).one()
    assert entry.subject == f"registration {conference.people['bob'].id}"
    assert '"serial":2' in entry.details


def test_a_badge_for_another_event_says_wrong_event(db, key, conference, place, front_door, clock):
    assert (
        scan(db, key, place, front_door, code=conference.code("olga"), nonce="n1", now=clock()).status
        == "wrong_event"
    )


def test_a_forged_or_edited_code_is_invalid(db, key, conference, place, front_door, clock):
    code = conference.code("bob")
    body = code[3:]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[0] ^= 0x01
    edited = "B1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")
    assert scan(db, key, place, front_door, code=edited, nonce="n1", now=clock()).status == "invalid"
    assert scan(db, key, place, front_door, code="not a badge", nonce="n2", now=clock()).status == "invalid"


def test_a_genuine_code_for_a_booking_that_does_not_exist_is_unknown(
    db, key, conference, place, front_door, clock
):
    from portal.checkin import badges

    code = badges.issue(key, registration_id=999999, event_id=conference.event.id, serial=1)
    assert scan(db, key, place, front_door, code=code, nonce="n1", now=clock()).status == "unknown"


def test_scans_outside_the_check_in_window_are_not_open(db, key, conference, place, front_door, clock):
    too_early = conference.event.starts_at - scans.EVENT_OPENS_BEFORE - timedelta(minutes=1)
    assert (
        scan(db, key, place, front_door, code=conference.code("bob"), nonce="n1", now=too_early).status
        == "not_open"
    )
    too_late = conference.event.ends_at + scans.EVENT_CLOSES_AFTER + timedelta(minutes=1)
    assert (
        scan(db, key, place, front_door, code=conference.code("bob"), nonce="n2", now=too_late).status
        == "not_open"
    )


def test_every_scan_is_recorded_whatever_its_result(db, key, conference, place, front_door, clock):
    for i, who in enumerate(["bob", "bob", "carol", "olga"]):
        scan(db, key, place, front_door, code=conference.code(who), nonce=f"n{i}", now=clock())
    scan(db, key, place, front_door, code="junk", nonce="n9", now=clock())
    rows = db.execute(select(CheckInScan.result, CheckInScan.registration_id).order_by(CheckInScan.id)).all()
    assert [r.result for r in rows] == ["ok", "already_checked_in", "cancelled", "wrong_event", "invalid"]
    assert rows[2].registration_id == conference.people["carol"].id
    assert rows[4].registration_id is None


def test_a_repeated_nonce_changes_nothing_and_gets_the_original_answer(
    db, key, conference, place, front_door, clock
):
    first = scan(db, key, place, front_door, code=conference.code("bob"), nonce="same", now=clock())
    again = scan(
        db, key, place, front_door, code=conference.code("bob"), nonce="same", now=clock.advance(seconds=5)
    )
    assert first.status == again.status == "ok"
    assert again.to_json() == first.to_json()
    assert db.scalar(select(func.count()).select_from(CheckInScan)) == 1


def test_a_repeated_nonce_of_a_refused_scan_is_not_recorded_twice(
    db, key, conference, place, front_door, clock
):
    scan(db, key, place, front_door, code=conference.code("carol"), nonce="same", now=clock())
    again = scan(db, key, place, front_door, code=conference.code("carol"), nonce="same", now=clock())
    assert again.status == "cancelled"
    assert db.scalar(select(func.count()).select_from(CheckInScan)) == 1


def test_someone_without_a_badge_is_admitted_by_registration(db, key, conference, place, front_door, clock):
    answer = scan(
        db, key, place, front_door, registration=conference.people["alice"].id, nonce="n1", now=clock()
    )
    assert answer.status == "ok"
    assert scan(
        db, key, place, front_door, code=conference.code("alice"), nonce="n2", now=clock()
    ).status == ("already_checked_in")


def test_the_admitting_scanner_may_undo_an_admission_within_15_minutes(
    db, key, conference, place, front_door, clock, admin
):
    scan(
        db,
        key,
        place,
        mine := Scanner(door="Front door", account_id=admin.id),
        code=conference.code("bob"),
        nonce="n1",
        now=clock(),
    )
    undone = scans.undo(
        db,
        nonce="n1",
        scanner=mine,
        event_id=None,
        actor=admin,
        device="",
        now=clock.advance(minutes=14),
    )
    db.commit()
    assert undone.status == "undone"
    assert (
        scan(db, key, place, front_door, code=conference.code("bob"), nonce="n2", now=clock()).status == "ok"
    )
    assert db.scalar(select(func.count()).where(AuditEvent.action == "checkin.undo")) == 1


def test_an_admission_cannot_be_undone_after_15_minutes(db, key, conference, place, front_door, clock, admin):
    scan(
        db,
        key,
        place,
        mine := Scanner(door="Front door", account_id=admin.id),
        code=conference.code("bob"),
        nonce="n1",
        now=clock(),
    )
    with pytest.raises(CheckInError) as caught:
        scans.undo(
            db,
            nonce="n1",
            scanner=mine,
            event_id=None,
            actor=admin,
            device="",
            now=clock.advance(minutes=16),
        )
    assert caught.value.code == "too_late"


def test_another_scanner_naming_the_same_door_cannot_undo_an_admission(
    db, key, conference, place, clock, admin
):
    staff_a = Scanner(door="Front door", account_id=admin.id)
    scan(db, key, place, staff_a, code=conference.code("bob"), nonce="n1", now=clock())
    for other in (
        Scanner(door="Front door", account_id=admin.id + 1000),
        Scanner(door="Front door", device_id=1),
        Scanner(door="Front door"),
    ):
        with pytest.raises(CheckInError) as caught:
            scans.undo(db, nonce="n1", scanner=other, event_id=None, actor=admin, device="", now=clock())
        assert caught.value.code == "other_scanner"
    assert (
        scans.undo(
            db,
            nonce="n1",
            scanner=Scanner(door="Side door", account_id=admin.id),
            event_id=None,
            actor=admin,
            device="",
            now=clock(),
        ).status
        == "undone"
    )


def test_an_admission_is_undone_once(db, key, conference, place, front_door, clock, admin):
    scan(
        db,
        key,
        place,
        mine := Scanner(door="Front door", account_id=admin.id),
        code=conference.code("bob"),
        nonce="n1",
        now=clock(),
    )
    scans.undo(db, nonce="n1", scanner=mine, event_id=None, actor=admin, device="", now=clock())
    db.commit()
    with pytest.raises(CheckInError) as caught:
        scans.undo(db, nonce="n1", scanner=mine, event_id=None, actor=admin, device="", now=clock())
    assert caught.value.code == "not_admitted"


def test_a_session_door_admits_those_booked_on_it_once(db, key, conference, room, clock):
    door = Scanner(door="Room 2")
    now = conference.workshop.starts_at - timedelta(minutes=5)
    assert scan(db, key, room, door, code=conference.code("alice"), nonce="n1", now=now).status == "ok"
    assert (
        scan(db, key, room, door, code=conference.code("alice"), nonce="n2", now=now).status
        == "already_checked_in"
    )
    assert scan(db, key, room, door, code=conference.code("bob"), nonce="n3", now=now).status == "not_booked"


def test_a_session_admission_is_separate_from_the_event_admission(
    db, key, conference, place, room, front_door, clock
):
    now = conference.workshop.starts_at
    assert scan(db, key, place, front_door, code=conference.code("alice"), nonce="n1", now=now).status == "ok"
    assert (
        scan(db, key, room, Scanner(door="Room 2"), code=conference.code("alice"), nonce="n2", now=now).status
        == "ok"
    )


def test_attended_sessions_make_a_cpd_certificate(db, key, conference, room, clock):
    now = conference.workshop.starts_at
    scan(db, key, room, Scanner(door="Room 2"), code=conference.code("alice"), nonce="n1", now=now)
    alice = db.get(Registration, conference.people["alice"].id)
    sessions = badging.attended_sessions(db, registration=alice)
    assert [(w.title, hours) for w, hours in sessions] == [("Grief and role transitions", 1.5)]
    assert badging.certificate_pdf(db, registration=alice, now=now).startswith(b"%PDF")


def test_cpd_hours_set_by_staff_replace_the_session_length(db, key, conference, room, clock, admin):
    badging.set_cpd_hours(
        db, actor=admin, event_id=conference.event.id, hours={conference.workshop.id: 2.0}, now=clock()
    )
    scan(
        db,
        key,
        room,
        Scanner(door="Room 2"),
        code=conference.code("alice"),
        nonce="n1",
        now=conference.workshop.starts_at,
    )
    alice = db.get(Registration, conference.people["alice"].id)
    assert [hours for _, hours in badging.attended_sessions(db, registration=alice)] == [2.0]


def test_no_certificate_without_an_attended_session(db, conference, clock):
    bob = db.get(Registration, conference.people["bob"].id)
    with pytest.raises(CheckInError) as caught:
        badging.certificate_pdf(db, registration=bob, now=clock())
    assert caught.value.code == "no_sessions"


def test_an_offline_scan_is_judged_at_the_time_it_happened(db, key, conference, place, front_door, clock):
    at = clock()
    answer = scan(
        db,
        key,
        place,
        front_door,
        code=conference.code("bob"),
        nonce="off1",
        now=clock.advance(minutes=20),
        scanned_at=at,
        client_result="ok",
    )
    assert answer.status == "ok"
    row = db.scalars(select(CheckInScan)).one()
    assert (row.at, row.offline, row.conflict) == (at, True, False)


def test_a_badge_let_in_at_two_doors_while_offline_is_a_conflict_not_a_lost_scan(
    db, key, conference, place, clock
):
    at = clock()
    first = scan(
        db,
        key,
        place,
        Scanner(door="North"),
        code=conference.code("bob"),
        nonce="a",
        now=clock.advance(minutes=10),
        scanned_at=at,
        client_result="ok",
    )
    second = scan(
        db,
        key,
        place,
        Scanner(door="South"),
        code=conference.code("bob"),
        nonce="b",
        now=clock.advance(minutes=1),
        scanned_at=at + timedelta(seconds=30),
        client_result="ok",
    )
    assert first.status == "ok" and not first.conflict
    assert second.status == "already_checked_in" and second.conflict
    found = rosters.conflicts(db, event_id=conference.event.id)
    assert [(c.door, c.first_door) for c in found] == [("South", "North")]
    assert db.scalar(select(func.count()).select_from(CheckInScan)) == 2


def test_the_attendee_list_has_what_an_offline_scanner_needs(db, key, conference, place, front_door, clock):
    scan(db, key, place, front_door, code=conference.code("bob"), nonce="n1", now=clock())
    listing = rosters.attendee_list(db, place=place)
    people = {p["name"]: p for p in listing["attendees"]}
    assert people["Bob Baker"]["admitted_door"] == "Front door"
    assert people["Carol Cole"]["status"] == "cancelled"
    assert people["Dan Dunn"]["status"] == "unpaid"
    assert people["Erin Eve"]["status"] == "waitlisted"
    assert people["Alice Archer"]["serial"] == 1
    assert "Olga Other" not in people
    assert (listing["admitted"], listing["expected"]) == (1, 3)


def test_search_finds_bookings_by_part_of_a_name(db, conference, place):
    assert [p["name"] for p in rosters.search(db, place=place, query="ARCH")] == ["Alice Archer"]
    assert rosters.search(db, place=place, query="%") == []
    assert rosters.search(db, place=place, query="x") == []
