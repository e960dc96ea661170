"""Member rules other domains rely on, staff edits with history, and the configurable option lists."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.members import service
from portal.members.models import Member, MemberChange


def _member(**fields):
    values = {"status": "active", "renewal_on": date(2026, 12, 31), "erased_at": None, **fields}
    return Member(membership_number="1", first_name="A", last_name="B", category="basic", **values)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"renewal_on": None}, True),
        ({"renewal_on": date(2026, 11, 25)}, True),
        ({"renewal_on": date(2026, 11, 24)}, False),
        ({"status": "lapsed"}, False),
        ({"status": "resigned", "renewal_on": None}, False),
    ],
)
def test_good_standing_means_active_and_renewal_not_passed(fields, expected):
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert service.member_in_good_standing(_member(**fields), now=now) is expected


def test_members_are_found_by_email_whatever_its_case(db, add_member):
    member_id = add_member("1", "ann@example.org")
    assert service.find_member_by_email(db, "  ANN@Example.ORG ").id == member_id
    assert service.find_member_by_email(db, "nobody@example.org") is None
    assert service.find_member_by_email(db, "") is None


def test_a_staff_edit_is_kept_in_the_history_and_the_audit_log_names_fields_not_values(
    db, clock, add_member, office
):
    member_id = add_member("1", "ann@example.org", "Ann", "Smith")
    _, changes = service.update_member(
        db,
        member_id=member_id,
        values={"email": "Ann.Smith@Example.org", "last_name": "Smith", "accreditation": "supervisor"},
        actor=office,
        now=clock(),
    )
    db.commit()
    assert changes == {
        "email": ["ann@example.org", "ann.smith@example.org"],
        "accreditation": ["none", "supervisor"],
    }
    row = db.scalars(select(MemberChange).where(MemberChange.member_id == member_id)).one()
    assert (row.source, row.actor) == ("staff", "Olive Office <office@example.org>")
    assert json.loads(row.changes) == changes
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "member.update")).one()
    assert event.subject == "1"
    assert json.loads(event.details) == {"fields": ["accreditation", "email"]}
    assert "ann" not in event.details


def test_an_edit_that_changes_nothing_records_nothing(db, clock, add_member, office):
    member_id = add_member("1", "ann@example.org", "Ann", "Smith")
    _, changes = service.update_member(
        db, member_id=member_id, values={"first_name": "Ann"}, actor=office, now=clock()
    )
    assert changes == {}
    assert db.scalars(select(MemberChange)).all() == []


def test_an_edit_to_another_members_address_is_refused(db, clock, add_member, office):
    add_member("1", "ann@example.org")
    bob = add_member("2", "bob@example.org")
    with pytest.raises(service.MemberError) as refused:
        service.update_member(
            db, member_id=bob, values={"email": "ANN@example.org"}, actor=office, now=clock()
        )
    assert refused.value.code == "email_taken"


def test_an_edit_to_an_unknown_category_is_refused(db, clock, add_member, office):
    member_id = add_member("1", "ann@example.org")
    with pytest.raises(service.MemberError) as refused:
        service.update_member(db, member_id=member_id, values={"category": "gold"}, actor=office, now=clock())
    assert refused.value.code == "bad_value"


def test_the_migration_seeds_the_categories_and_levels(db):
    assert list(service.option_labels(db, "category")) == [
        "trainee",
        "basic",
        "member_plus",
        "organisation",
        "honorary",
    ]
    assert list(service.option_labels(db, "accreditation")) == [
        "none",
        "accredited_practitioner",
        "supervisor",
        "trainer",
    ]


def test_staff_add_rename_and_remove_a_category(db, clock, office):
    option = service.add_option(db, kind="category", label="  Overseas   member ", actor=office, now=clock())
    assert (option.code, option.label) == ("overseas_member", "Overseas member")
    service.rename_option(
        db, kind="category", option_id=option.id, label="International", actor=office, now=clock()
    )
    assert service.option_labels(db, "category")["overseas_member"] == "International"
    service.remove_option(db, kind="category", option_id=option.id, actor=office, now=clock())
    assert "overseas_member" not in service.option_labels(db, "category")
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["members.category_add", "members.category_rename", "members.category_remove"]


def test_a_category_someone_holds_cannot_be_removed(db, clock, add_member, office):
    add_member("1", "ann@example.org", category="honorary")
    option_id = db.scalar(select(service.MemberCategory.id).where(service.MemberCategory.code == "honorary"))
    with pytest.raises(service.MemberError) as refused:
        service.remove_option(db, kind="category", option_id=option_id, actor=office, now=clock())
    assert refused.value.code == "in_use"


def test_the_none_accreditation_level_cannot_be_removed(db, clock, office):
    option_id = db.scalar(
        select(service.AccreditationLevel.id).where(service.AccreditationLevel.code == "none")
    )
    with pytest.raises(service.MemberError) as refused:
        service.remove_option(db, kind="accreditation", option_id=option_id, actor=office, now=clock())
    assert refused.value.code == "protected"


def test_a_second_option_with_the_same_name_is_refused(db, clock, office):
    with pytest.raises(service.MemberError) as refused:
        service.add_option(db, kind="accreditation", label="Supervisor", actor=office, now=clock())
    assert refused.value.code == "option_exists"


def test_a_new_category_is_accepted_by_the_import(db, clock, office, make_roll):
    from portal.members import importer

    service.add_option(db, kind="category", label="Student", actor=office, now=clock())
    content = make_roll([["1", "s@example.org", "Sam", "Lee", "student", "active", "", ""]])
    plan = importer.plan_import(db, content=content)
    assert plan.ok and plan.new[0].values["category"] == "student"


def test_a_staff_change_of_email_leaves_the_members_login_alone(db, clock):
    from portal.accounts.models import Account
    from portal.members.models import Member
    from portal.members.service import update_member

    member = Member(
        membership_number="M-77",
        email="old@example.org",
        first_name="Olive",
        last_name="Old",
        category="basic",
        status="active",
        created_at=clock(),
        updated_at=clock(),
    )
    db.add(member)
    db.flush()
    staff = Account(email="office@example.org", name="Office", roles="office", created_at=clock())
    login = Account(
        email="old@example.org", name="Olive Old", roles="", created_at=clock(), member_id=member.id
    )
    db.add_all([staff, login])
    db.flush()
    update_member(db, member_id=member.id, values={"email": "new@example.org"}, actor=staff, now=clock())
    db.flush()
    # The roll changes; the login keeps its own address (it changes only by a link confirmed there).
    assert db.get(Member, member.id).email == "new@example.org"
    assert db.get(Account, login.id).email == "old@example.org"
