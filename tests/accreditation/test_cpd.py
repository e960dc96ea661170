"""A member's CPD log and the levels they hold: entries checked (hours more than 0 and at most 100, a known
kind, not in the future), the year's hours against the highest level held today, staff recording a level on
the member's page, the member's log page and its panel on My account. Both engines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from support import login, make_account, post

from portal.accreditation import cpd
from portal.errors import PortalError

TODAY = date(2026, 11, 25)


def _entry(**values):
    base = {
        "done_on": date(2026, 3, 4),
        "activity": "Grief workshop",
        "hours": Decimal("3.5"),
        "category": "course",
    }
    base.update(values)
    return cpd.CpdData(**base)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.5", Decimal("1.50")), ("100", Decimal("100.00")), ("0", None), ("100.01", None), ("-2", None),
     ("two", None), ("NaN", None), ("1.255", None)],
)  # fmt: skip
def test_hours_are_more_than_0_and_at_most_100(raw, expected):
    assert cpd.parse_hours(raw) == expected


def test_an_entry_of_an_unknown_kind_or_in_the_future_is_refused(db, clock, member):
    with pytest.raises(PortalError) as caught:
        cpd.add_entry(db, member_id=member.id, data=_entry(category="holiday"), today=TODAY, now=clock())
    assert caught.value.code == "bad_category"
    with pytest.raises(PortalError) as caught:
        cpd.add_entry(
            db, member_id=member.id, data=_entry(done_on=date(2026, 12, 1)), today=TODAY, now=clock()
        )
    assert caught.value.code == "bad_dates"


def test_the_years_hours_count_against_the_highest_level_held_today(db, clock, admin, member, levels):
    assert cpd.progress(db, member_id=member.id, today=TODAY).required is None
    cpd.record_holding(db, member_id=member.id, level_id=levels["ipt-practitioner"], from_on=date(2025, 1, 1),
                       until_on=date(2027, 12, 31), actor=admin, now=clock())  # fmt: skip
    cpd.record_holding(db, member_id=member.id, level_id=levels["supervisor"], from_on=date(2026, 6, 1),
                       until_on=date(2029, 5, 31), actor=admin, now=clock())  # fmt: skip
    # A trainer's accreditation that ended last year asks nothing now.
    cpd.record_holding(db, member_id=member.id, level_id=levels["trainer"], from_on=date(2022, 1, 1),
                       until_on=date(2025, 12, 31), actor=admin, now=clock())  # fmt: skip
    cpd.add_entry(db, member_id=member.id, data=_entry(), today=TODAY, now=clock())
    cpd.add_entry(db, member_id=member.id, data=_entry(hours=Decimal("12")), today=TODAY, now=clock())
    cpd.add_entry(db, member_id=member.id, data=_entry(done_on=date(2025, 12, 31)), today=TODAY, now=clock())
    found = cpd.progress(db, member_id=member.id, today=TODAY)
    assert (found.hours, found.required, found.level, found.met) == (Decimal("15.50"), 15, "Supervisor", True)
    earlier = cpd.progress(db, member_id=member.id, today=date(2026, 5, 1))
    assert earlier.required == 10 and earlier.level == "IPT practitioner"


def test_a_holding_that_ends_before_it_starts_is_refused(db, clock, admin, member, levels):
    with pytest.raises(PortalError) as caught:
        cpd.record_holding(db, member_id=member.id, level_id=levels["trainer"], from_on=date(2026, 2, 1),
                           until_on=date(2026, 1, 1), actor=admin, now=clock())  # fmt: skip
    assert caught.value.code == "bad_dates"


def test_the_member_adds_an_entry_and_my_account_shows_the_years_hours(client, member, levels):
    login(client, "megan@example.org")
    page = client.get("/me/cpd")
    assert page.status_code == 200 and "no hours are required" in page.text
    response = post(client, "/me/cpd", {"done_on": "2026-10-01", "activity": "Reading group", "hours": "2.5",
                                        "category": "reading", "reflection": "Useful."})  # fmt: skip
    assert response.status_code == 303
    log = client.get("/me/cpd")
    assert "Reading group" in log.text and "2.5 hours of CPD in 2026" in log.text
    assert "2.5 hours of CPD in 2026" in client.get("/me").text


def test_bad_entries_come_back_with_their_messages_beside_the_fields(client, member, levels):
    login(client, "megan@example.org")
    response = post(client, "/me/cpd", {"done_on": "soon", "activity": "", "hours": "101", "category": "x"})
    assert response.status_code == 422
    for field in ("done_on", "activity", "hours", "category"):
        assert f'id="f-{field}-error"' in response.text, field
    assert "at most 100" in response.text
    future = post(client, "/me/cpd", {"done_on": "2027-01-01", "activity": "Later", "hours": "1",
                                      "category": "other"})  # fmt: skip
    assert future.status_code == 422 and "cannot be in the future" in future.text


def test_the_officer_records_a_members_level_and_the_member_sees_the_requirement(
    client, database, passwords, member, levels
):
    make_account(database, passwords, email="acc@example.org", roles="accreditation", name="Avi Officer")
    login(client, "acc@example.org")
    url = f"/accreditation/members/{member.id}"
    bad = post(
        client,
        url,
        {"level_id": str(levels["supervisor"]), "from_on": "2026-02-01", "until_on": "2026-01-01"},
    )
    assert bad.status_code == 422 and 'id="f-until_on-error"' in bad.text
    good = post(
        client,
        url,
        {"level_id": str(levels["supervisor"]), "from_on": "2026-01-01", "until_on": "2028-12-31"},
    )
    assert good.status_code == 303
    assert "Supervisor" in client.get(url).text
    client.cookies.clear()
    login(client, "megan@example.org")
    assert "0 of 15 hours of CPD in 2026" in client.get("/me").text


def test_the_members_staff_page_shows_the_levels_held_to_the_accreditation_role(
    client, database, passwords, admin, member, levels
):
    login(client, "admin@example.org")
    page = client.get(f"/members/{member.id}")
    assert page.status_code == 200 and "No accreditation recorded" in page.text
    assert f'/accreditation/members/{member.id}"' in page.text


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_entry_takes_optional_evidence_checked_as_every_upload_and_the_officer_sees_it(
    client, database, passwords, member, levels
):
    login(client, "megan@example.org")
    form = {"done_on": "2026-10-01", "activity": "Workshop", "hours": "3", "category": "course"}
    wrong = post(
        client, "/me/cpd", form, files={"evidence": ("notes.docx", b"PK\x03\x04rest", "application/msword")}
    )
    assert wrong.status_code == 422 and 'id="f-evidence-error"' in wrong.text and "Word" in wrong.text
    done = post(client, "/me/cpd", form, files={"evidence": ("cert.pdf", PDF, "application/pdf")})
    assert done.status_code == 303
    with database.session() as s:
        (entry,) = cpd.entries_of(s, member_id=member.id)
        entry_id = entry.id
    log = client.get("/me/cpd")
    assert f"/me/cpd/{entry_id}/evidence" in log.text
    own = client.get(f"/me/cpd/{entry_id}/evidence")
    assert own.content == PDF and own.headers["content-disposition"].startswith("attachment")
    client.cookies.clear()
    make_account(database, passwords, email="acc@example.org", roles="accreditation", name="Avi Officer")
    login(client, "acc@example.org")
    page = client.get(f"/accreditation/members/{member.id}")
    url = f"/accreditation/members/{member.id}/cpd/{entry_id}/evidence"
    assert url in page.text and client.get(url).content == PDF
    assert client.get(f"/accreditation/members/{member.id + 1}/cpd/{entry_id}/evidence").status_code == 404
