"""Check-in pages through the app: the scanner page without JavaScript, attendance, reissue and ribbons, CPD
hours, and a delegate's own badge (theirs only)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from support import csrf_token, login, make_account, post

from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.checkin import attendance, badges, scans
from portal.checkin.models import BadgeRibbon, WorkshopCpd
from portal.events.links import manage_token
from portal.events.models import Registration


def test_the_scanner_page_carries_what_its_script_needs(door_client, conference, key):
    page = door_client.get(f"/door/{conference.event.id}")
    assert page.status_code == 200
    assert f'data-key="{badges.public_key_b64(key, conference.event.id)}"' in page.text
    assert 'data-api="/api/checkin"' in page.text
    assert "/static/js/scanner.js" in page.text
    assert "<script>" not in page.text  # no inline script: the CSP allows none
    assert "Ready to scan" in page.text
    assert re.search(r'id="count-expected"[^>]*>3<', page.text)


def test_the_scanner_page_hands_its_script_the_answers_said_once(door_client, conference):
    """The colours and words of the door's answers are `scans.ANSWERS`: the page carries them as a JSON data
    block (not executable, so the CSP allows it), and scanner.js keeps no table of its own."""
    page = door_client.get(f"/door/{conference.event.id}")
    block = re.search(r'<script type="application/json" id="answer-looks">(.*?)</script>', page.text, re.S)
    assert block is not None
    assert json.loads(block.group(1)) == scans.looks_json()
    assert json.loads(block.group(1))["cancelled"] == {"colour": "bad", "message": "Booking cancelled"}
    script = (Path(__file__).parents[2] / "static" / "js" / "scanner.js").read_text()
    assert 'getElementById("answer-looks")' in script or '$("answer-looks")' in script
    for look in scans.ANSWERS.values():
        assert f'"{look.message}"' not in script  # no copy of the words as a string of its own


def test_the_scanner_form_admits_without_javascript(door_client, conference):
    page = post(
        door_client,
        f"/door/{conference.event.id}",
        {"code": conference.code("bob"), "nonce": "f1", "door": "Hall"},
    )
    assert page.status_code == 200
    assert "Admitted" in page.text and "Bob Baker" in page.text
    again = post(
        door_client,
        f"/door/{conference.event.id}",
        {"code": conference.code("bob"), "nonce": "f2", "door": "Hall"},
    )
    assert "Already checked in" in again.text and "(Hall)" in again.text
    assert f'class="answer {scans.ANSWERS["already_checked_in"].colour}"' in again.text


def test_an_empty_code_is_sent_back_with_a_message(door_client, conference):
    page = post(door_client, f"/door/{conference.event.id}", {"code": "", "nonce": "f1"})
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text


def test_search_by_name_then_admit_without_javascript(door_client, conference):
    found = door_client.get(f"/door/{conference.event.id}", params={"q": "archer", "door": "Desk"})
    assert "Alice Archer" in found.text and "1 found" in found.text
    page = post(
        door_client,
        f"/door/{conference.event.id}",
        {"registration": str(conference.people["alice"].id), "nonce": "s1", "door": "Desk"},
    )
    assert "Admitted" in page.text and "Alice Archer" in page.text


def test_someone_already_admitted_is_found_without_an_admit_button(door_client, conference):
    post(
        door_client,
        f"/door/{conference.event.id}",
        {"registration": str(conference.people["alice"].id), "nonce": "s1", "door": "Desk"},
    )
    found = door_client.get(f"/door/{conference.event.id}", params={"q": "ar", "door": "Desk"}).text
    assert "Alice Archer" in found and "Already in" in found
    assert 'aria-label="Admit Alice Archer"' not in found
    bob = door_client.get(f"/door/{conference.event.id}", params={"q": "baker", "door": "Desk"}).text
    assert 'aria-label="Admit Bob Baker"' in bob and "Already in" not in bob


def test_the_scanner_page_can_be_a_session_door(door_client, conference):
    page = door_client.get(f"/door/{conference.event.id}", params={"workshop": conference.workshop.id})
    assert "Grief and role transitions" in page.text
    assert f'data-workshop="{conference.workshop.id}"' in page.text
    assert door_client.get(f"/door/{conference.event.id}", params={"workshop": 99999}).status_code == 404


def test_live_attendance_counts_and_charts_arrivals(door_client, conference, clock):
    for i, who in enumerate(["alice", "bob"]):
        post(door_client, f"/door/{conference.event.id}", {"code": conference.code(who), "nonce": f"a{i}"})
        clock.advance(minutes=12)
    page = door_client.get(f"/checkin/{conference.event.id}/attendance")
    assert page.status_code == 200
    assert re.search(r'id="admitted-total">2<', page.text)
    assert "<svg" in page.text and page.text.count("<rect") >= 2
    assert 'hx-trigger="every 5s"' in page.text
    fragment = door_client.get(f"/checkin/{conference.event.id}/attendance", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="attendance"' in fragment.text
    assert fragment.headers["vary"] == "HX-Request"


def test_arrivals_are_counted_per_ten_minutes_with_the_gaps_kept():
    t = datetime(2026, 11, 25, 9, 3, tzinfo=UTC)
    buckets = attendance.arrivals_per_bucket([t, t + timedelta(minutes=2), t + timedelta(minutes=31)])
    assert [(b.strftime("%H:%M"), n) for b, n in buckets] == [
        ("09:00", 2),
        ("09:10", 0),
        ("09:20", 0),
        ("09:30", 1),
    ]
    svg = str(attendance.arrivals_svg(buckets))
    assert svg.count("<rect") == 4 and "3 arrivals" in svg


def test_the_conflicts_page_says_when_there_are_none(door_client, conference):
    assert "No conflicts" in door_client.get(f"/checkin/{conference.event.id}/conflicts").text


def test_the_office_reissues_a_badge_from_the_badges_page(office_client, conference, database):
    bob = conference.people["bob"]
    response = post(office_client, f"/checkin/registrations/{bob.id}/reissue")
    assert response.status_code == 303
    with database.session(write=False) as s:
        assert s.get(Registration, bob.id).badge_serial == 2
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "badge.reissue")).one()
    page = office_client.get(response.headers["location"])
    assert "A new badge was issued to Bob Baker" in page.text


def test_only_a_confirmed_booking_has_a_badge_to_reissue(office_client, conference):
    response = post(office_client, f"/checkin/registrations/{conference.people['carol'].id}/reissue")
    assert response.status_code == 409


def test_the_office_sets_a_ribbon(office_client, conference, database):
    alice = conference.people["alice"]
    assert (
        post(office_client, f"/checkin/registrations/{alice.id}/ribbon", {"ribbon": "committee"}).status_code
        == 303
    )
    with database.session(write=False) as s:
        assert s.get(BadgeRibbon, alice.id).ribbon == "committee"
    assert (
        post(office_client, f"/checkin/registrations/{alice.id}/ribbon", {"ribbon": "king"}).status_code
        == 422
    )


def test_the_office_sets_cpd_hours_in_quarter_hours(office_client, conference, database):
    url = f"/checkin/{conference.event.id}/cpd"
    name = f"hours-{conference.workshop.id}"
    assert "Grief and role transitions" in office_client.get(url).text
    bad = post(office_client, url, {name: "1.3"})
    assert bad.status_code == 422 and "error-summary" in bad.text
    assert post(office_client, url, {name: "1.75"}).status_code == 303
    with database.session(write=False) as s:
        assert s.get(WorkshopCpd, conference.workshop.id).cpd_hours == 1.75
    assert post(office_client, url, {name: ""}).status_code == 303
    with database.session(write=False) as s:
        assert s.get(WorkshopCpd, conference.workshop.id) is None


def _own(database, conference, who, email):
    with database.session() as s:
        account_id = s.scalar(select(Account.id).where(Account.email == email))
        s.execute(
            update(Registration)
            .where(Registration.id == conference.people[who].id)
            .values(account_id=account_id)
        )


def test_a_delegate_sees_their_badge_and_nobody_elses(client, conference, database, passwords, key):
    make_account(database, passwords, email="alice@example.org")
    _own(database, conference, "alice", "alice@example.org")
    login(client, "alice@example.org")
    alice, bob = conference.people["alice"], conference.people["bob"]
    page = client.get("/my/badges")
    assert "Annual Conference" in page.text and f"/my/badges/{alice.id}/qr.svg" in page.text
    assert client.get(f"/my/badges/{alice.id}/qr.png").headers["content-type"] == "image/png"
    assert client.get(f"/my/badges/{bob.id}/qr.png").status_code == 404
    assert client.get(f"/my/badges/{bob.id}/qr.svg").status_code == 404


def test_the_manage_link_shows_the_badge_and_then_the_certificate(
    client, conference, key, database, passwords, clock
):
    alice = conference.people["alice"]
    token = manage_token(key, alice.manage_seed)
    page = client.get(f"/badge/{token}")
    assert page.status_code == 200 and "Alice Archer" in page.text
    assert "CPD certificate" not in page.text
    assert client.get(f"/badge/{token}/certificate.pdf").status_code == 404
    door = client.__class__(client.app, base_url="http://testserver", follow_redirects=False)
    make_account(database, passwords, email="room@example.org", roles="door")
    login(door, "room@example.org")
    clock.advance(minutes=45)  # the session's door opens half an hour before it starts
    answer = door.post(
        "/api/checkin",
        json={
            "code": conference.code("alice"),
            "door": "Room 2",
            "nonce": "w1",
            "event": conference.event.id,
            "workshop": conference.workshop.id,
        },
        headers={"X-CSRF-Token": csrf_token(door)},
    ).json()
    assert answer["status"] == "ok"
    door.close()
    page = client.get(f"/badge/{token}")
    assert "Download your CPD certificate" in page.text
    certificate = client.get(f"/badge/{token}/certificate.pdf")
    assert certificate.headers["content-type"] == "application/pdf"
    assert client.get("/badge/not-a-real-token/qr.png").status_code == 404


def test_a_cancelled_booking_has_no_badge_image(client, conference, key, admin):
    carol = conference.people["carol"]
    assert client.get(f"/badge/{manage_token(key, carol.manage_seed)}/qr.png").status_code == 404


def test_the_check_in_index_lists_events_for_door_staff(door_client, conference):
    page = door_client.get("/checkin")
    assert "Annual Conference" in page.text and f"/door/{conference.event.id}" in page.text
    assert "Scanner devices" not in page.text  # an office link


def test_the_check_in_index_shows_todays_events_first_then_coming_then_past(
    door_client, conference, database, clock
):
    from bench import checkin_kit

    with database.session() as s:
        checkin_kit.make_event(s, now=clock(), title="Autumn Day", starts_at=clock() - timedelta(days=40))
    page = door_client.get("/checkin").text
    today, coming, past = (
        page.index(h) for h in ('id="events-today"', 'id="events-coming"', 'id="events-past"')
    )
    assert today < page.index("Annual Conference") < coming < page.index("Spring Training") < past
    assert past < page.index("Autumn Day")


def test_my_account_shows_a_members_badges(client, conference, database, passwords, clock):
    from portal.members.models import Member

    with database.session() as s:
        member = Member(
            membership_number="M-1001",
            email="bob@example.org",
            first_name="Bob",
            last_name="Baker",
            category="basic",
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(member)
        s.flush()
        member_id = member.id
        s.execute(
            update(Registration)
            .where(Registration.id == conference.people["bob"].id)
            .values(member_id=member_id)
        )
    make_account(database, passwords, email="bob@example.org", member_id=member_id)
    login(client, "bob@example.org")
    page = client.get("/me")
    assert page.status_code == 200
    assert "My badges" in page.text
    assert f"/my/badges/{conference.people['bob'].id}/qr.svg" in page.text
    assert client.get(f"/my/badges/{conference.people['bob'].id}/qr.png").status_code == 200
