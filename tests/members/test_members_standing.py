"""A member's standing computed from the clock, in Python (`standing`) and in SQL (`standing_sql`, what the
staff list filters, sorts and exports by): the two agree at every boundary, and the list and its CSV show
and find members lapsed by the clock although their stored status still says active."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.members.models import Member
from portal.members.standing import london_day, standing, standing_sql
from portal.society.models import MembershipSettings

ROW_NUMBERS = re.compile(r'<td data-label="Number">([^<]*)</td>')

#: 23:30 UTC on 30 June is already 1 July in London (BST): the UK day decides, not the UTC one.
LATE_EVENING = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)


def _boundary_members(today: date, grace_days: int) -> list[Member]:
    """Every renewal date around both cut-offs, for each stored status, and an erased member."""
    offsets = sorted({1, 0, -1, -grace_days + 1, -grace_days, -grace_days - 1, -grace_days - 2})
    renewal_dates: list[date | None] = [None, *(today + timedelta(days=offset) for offset in offsets)]
    created = datetime(2026, 1, 1, tzinfo=UTC)
    members = []
    for status in ("active", "pending", "lapsed", "resigned"):
        for erased in (False, True):
            for renewal_on in renewal_dates:
                members.append(
                    Member(
                        membership_number=f"{status}-{int(erased)}-{renewal_on}",
                        first_name="A",
                        last_name="B",
                        category="basic",
                        status=status,
                        renewal_on=renewal_on,
                        erased_at=created if erased else None,
                        created_at=created,
                        updated_at=created,
                    )
                )
    return members


@pytest.mark.parametrize("grace_days", [0, 1, 30])
@pytest.mark.parametrize("now", [LATE_EVENING, datetime(2026, 11, 25, 9, tzinfo=UTC)])
def test_python_and_sql_standing_agree_at_every_boundary(db, grace_days, now):
    members = _boundary_members(london_day(now), grace_days)
    db.add_all(members)
    db.flush()
    in_sql = dict(db.execute(select(Member.id, standing_sql(now, grace_days=grace_days))).all())
    in_python = {m.id: standing(m, now, grace_days=grace_days) for m in members}
    assert in_sql == in_python
    # With no grace period nobody is in grace: the day after the renewal date is already lapsed.
    expected = {"active", "lapsed", "pending", "resigned"} | ({"grace"} if grace_days else set())
    assert set(in_python.values()) == expected


def test_the_uk_day_moves_a_member_into_grace_before_midnight_utc(db):
    member = Member(
        membership_number="1",
        first_name="A",
        last_name="B",
        category="basic",
        status="active",
        renewal_on=date(2026, 6, 30),
        created_at=LATE_EVENING,
        updated_at=LATE_EVENING,
    )
    db.add(member)
    db.flush()
    assert standing(member, LATE_EVENING) == "grace"
    assert db.scalar(select(standing_sql(LATE_EVENING)).where(Member.id == member.id)) == "grace"


@pytest.fixture
def lapsing(add_member, database):
    """On the test clock's day (25 November 2026), with a 10-day grace period: one member paid up, one in
    grace (renewal date 10 days ago), one lapsed by the clock (11 days ago), one marked lapsed by hand. All
    but the last still have the stored status "active"."""
    with database.session() as s:
        s.add(
            MembershipSettings(
                id=1,
                year_kind="rolling",
                year_start_month=4,
                year_start_day=1,
                first_fee="full",
                conduct_version="1",
                privacy_version="1",
                grace_days=10,
            )
        )
    return {
        "paid": add_member("100", "paid@example.org", renewal_on=date(2026, 11, 25)),
        "grace": add_member("101", "grace@example.org", renewal_on=date(2026, 11, 15)),
        "clock": add_member("102", "clock@example.org", renewal_on=date(2026, 11, 14)),
        "hand": add_member("103", "hand@example.org", status="lapsed", renewal_on=date(2027, 1, 1)),
    }


def test_the_staff_list_filtered_by_lapsed_finds_members_lapsed_by_the_clock(office_client, lapsing):
    page = office_client.get("/members/?status=lapsed&sort=number")
    assert ROW_NUMBERS.findall(page.text) == ["102", "103"]
    assert "Lapsed (renewal due since 14 November 2026)" in page.text
    in_grace = office_client.get("/members/?status=grace")
    assert ROW_NUMBERS.findall(in_grace.text) == ["101"]
    assert "In grace until 25 November 2026" in in_grace.text
    assert ROW_NUMBERS.findall(office_client.get("/members/?status=active").text) == ["100"]


def test_the_staff_list_sorts_by_standing(office_client, lapsing):
    numbers = ROW_NUMBERS.findall(office_client.get("/members/?sort=status").text)
    assert numbers.index("100") < numbers.index("101") < numbers.index("102")


def test_the_member_page_shows_the_standing_from_the_clock(office_client, lapsing):
    assert "In grace until 25 November 2026" in office_client.get(f"/members/{lapsing['grace']}").text
    lapsed = office_client.get(f"/members/{lapsing['clock']}").text
    assert "Lapsed (renewal due since 14 November 2026)" in lapsed


def test_the_csv_export_shows_the_computed_standing(office_client, lapsing):
    response = office_client.get("/members/export.csv?status=lapsed")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["Membership number"], r["Status"], r["Standing"]) for r in rows] == [
        ("102", "active", "Lapsed"),
        ("103", "lapsed", "Lapsed"),
    ]
    everyone = office_client.get("/members/export.csv?sort=number").content.decode("utf-8-sig")
    standings = {r["Membership number"]: r["Standing"] for r in csv.DictReader(io.StringIO(everyone))}
    assert standings == {"100": "Active", "101": "Renewal due", "102": "Lapsed", "103": "Lapsed"}
