"""Privacy: everything held about a member as JSON, and erasing a former member's personal data."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support import make_account, post

from portal.accounts import service as accounts
from portal.accounts.models import Account, LoginSession
from portal.audit import AuditEvent
from portal.members import service
from portal.members.models import Member, MemberChange


@pytest.fixture
def ann(database, passwords, clock, add_member, office):
    """A member with a history (a staff edit and a self-service change) and a login with a session."""
    member_id = add_member("1001", "ann@example.org", "Ann", "Smith", status="resigned")
    with database.session() as s:
        service.update_member(
            s,
            member_id=member_id,
            values={"accreditation": "trainer"},
            actor=s.get(Account, office.id),
            now=clock(),
        )
        service.change_member(
            s,
            member_id=member_id,
            values={"last_name": "Smythe"},
            actor="Ann Smythe <ann@example.org>",
            source="self-service",
            now=clock(),
        )
    account = make_account(
        database, passwords, email="ann@example.org", name="Ann Smythe", member_id=member_id
    )
    with database.session() as s:
        accounts.start_session(s, account=account, now=clock(), max_age=timedelta(hours=1), key=b"k" * 32)
    return member_id


def test_the_data_export_holds_the_member_their_history_and_their_login(db, clock, ann, office):
    data = service.export_member_data(db, member_id=ann, actor=office, now=clock())
    assert data["member"]["membership_number"] == "1001"
    assert data["member"]["last_name"] == "Smythe"
    assert [entry["source"] for entry in data["history"]] == ["staff", "self-service"]
    assert data["history"][1]["changes"] == {"last_name": ["Smith", "Smythe"]}
    assert data["account"]["email"] == "ann@example.org"
    assert data["account"]["roles"] == []
    dumped = json.dumps(data)
    assert "password" not in dumped and "totp_secret" not in dumped and "token" not in dumped
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "member.export")).one()
    assert event.subject == "1001"


def test_other_domains_can_add_sections_to_the_data_export(db, clock, ann, office, monkeypatch):
    monkeypatch.setattr(
        service, "EXPORTERS", [*service.EXPORTERS, lambda session, member: ("badges", ["B-1"])]
    )
    data = service.export_member_data(db, member_id=ann, actor=office, now=clock())
    assert data["badges"] == ["B-1"]
    assert "account" in data


def test_an_active_members_data_cannot_be_erased(db, clock, add_member, office):
    member_id = add_member("1", "ann@example.org")
    with pytest.raises(service.MemberError) as refused:
        service.erase_member(db, member_id=member_id, actor=office, now=clock())
    assert refused.value.code == "member_active"


def test_erasing_removes_personal_data_but_keeps_the_number_and_counts(db, clock, ann, office):
    service.erase_member(db, member_id=ann, actor=office, now=clock())
    db.commit()
    member = db.get(Member, ann)
    assert (member.full_name, member.email, member.joined_on, member.renewal_on) == (
        "Erased member",
        None,
        None,
        None,
    )
    assert (member.membership_number, member.status, member.category, member.accreditation) == (
        "1001",
        "resigned",
        "basic",
        "trainer",
    )
    assert member.erased_at == clock()
    history = db.scalars(
        select(MemberChange).where(MemberChange.member_id == ann).order_by(MemberChange.id)
    ).all()
    assert [json.loads(h.changes) for h in history[:2]] == [
        {"accreditation": [None, None]},
        {"last_name": [None, None]},
    ]
    assert history[1].actor == "Erased member"
    everything = json.dumps(service.export_member_data(db, member_id=ann, actor=office, now=clock()))
    assert (
        "ann@example.org" not in everything.lower()
        and "Smith" not in everything
        and "Smythe" not in everything
    )


def test_erasing_disables_the_login_and_replaces_its_address(db, clock, ann, office):
    service.erase_member(db, member_id=ann, actor=office, now=clock())
    db.commit()
    account = db.scalars(select(Account).where(Account.member_id == ann)).one()
    assert not account.is_active
    assert account.email.endswith(".invalid") and "ann" not in account.email
    assert account.password_hash is None
    assert db.scalars(select(LoginSession).where(LoginSession.account_id == account.id)).all() == []
    assert service.find_member_by_email(db, "ann@example.org") is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "member.erase")).one()
    assert event.subject == "1001" and "ann" not in event.details.lower()


def test_a_member_cannot_be_erased_twice_or_edited_once_erased(db, clock, ann, office):
    service.erase_member(db, member_id=ann, actor=office, now=clock())
    with pytest.raises(service.MemberError) as twice:
        service.erase_member(db, member_id=ann, actor=office, now=clock())
    assert twice.value.code == "member_erased"
    with pytest.raises(service.MemberError) as edited:
        service.update_member(db, member_id=ann, values={"first_name": "X"}, actor=office, now=clock())
    assert edited.value.code == "member_erased"


def test_staff_download_a_members_data_as_json_from_their_page(office_client, ann, database):
    response = post(office_client, f"/members/{ann}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == 'attachment; filename="member-1001.json"'
    assert response.json()["member"]["email"] == "ann@example.org"
    with database.session() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "member.export")).one()


def test_staff_erase_a_former_member_from_their_page_after_confirming(office_client, ann, database):
    unconfirmed = post(office_client, f"/members/{ann}/erase")
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.text
    response = post(office_client, f"/members/{ann}/erase", {"confirm": "yes"})
    assert response.status_code == 303
    page = office_client.get(f"/members/{ann}")
    assert "Erased member" in page.text and "ann@example.org" not in page.text
    with database.session() as s:
        assert s.get(Member, ann).erased_at is not None


def test_erasing_an_active_member_through_the_page_is_refused(office_client, add_member):
    member_id = add_member("7", "active@example.org")
    response = post(office_client, f"/members/{member_id}/erase", {"confirm": "yes"})
    assert response.status_code == 400
    assert "cannot be erased" in response.text


def test_an_erased_members_login_no_longer_works(client, ann, database, clock):
    with database.session() as s:
        service.erase_member(s, member_id=ann, actor=None, now=clock())
    response = post(
        client, "/login", {"email": "ann@example.org", "password": "correct horse battery staple"}
    )
    assert response.status_code == 422


def test_erasure_leaves_a_history_row_saying_when(db, clock, ann, office):
    later = datetime(2026, 12, 1, tzinfo=UTC)
    service.erase_member(db, member_id=ann, actor=office, now=later)
    last = db.scalars(
        select(MemberChange).where(MemberChange.member_id == ann).order_by(MemberChange.id.desc())
    ).first()
    assert json.loads(last.changes) == {"erased_at": [None, later.isoformat()]}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_no_log_line_or_page_shows_a_password_hash_or_token(office_client, ann, database):
    with database.session() as s:
        secrets = [d for (d,) in s.execute(select(LoginSession.token_digest))]
        secrets += [h for (h,) in s.execute(select(Account.password_hash)) if h]
    assert len(secrets) >= 4
    capture = _Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    portal_logger = logging.getLogger("portal")
    level = portal_logger.level
    portal_logger.setLevel(logging.DEBUG)
    try:
        pages = [
            office_client.get(f"/members/{ann}").text,
            post(office_client, f"/members/{ann}/export").text,
            office_client.get("/members/export.csv").text,
        ]
        post(office_client, f"/members/{ann}/erase", {"confirm": "yes"})
        pages.append(office_client.get(f"/members/{ann}").text)
    finally:
        root.removeHandler(capture)
        portal_logger.setLevel(level)
    for text in [*pages, *capture.lines]:
        assert "$argon2" not in text
        assert not any(secret in text for secret in secrets)
        assert office_client.cookies["portal_session"] not in text
