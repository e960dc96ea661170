"""The roll's staff pages through the app: import (upload → preview → apply), the list (live search, sort,
filters, pages), CSV export, a member's page and the option lists."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from support import csrf_token, post

from portal.audit import AuditEvent
from portal.members import importer
from portal.members.models import Member, MemberCategory, MemberChange

ROW_NUMBERS = re.compile(r'<td data-label="Number">([^<]*)</td>')


def upload(client, content: bytes, filename: str = "roll.csv"):
    return client.post(
        "/members/import",
        data={"csrf_token": csrf_token(client)},
        files={"file": (filename, content, "text/csv")},
    )


def plan_digest(html: str) -> str:
    return re.search(r'name="plan" value="([0-9a-f]{64})"', html).group(1)


@pytest.fixture
def roll(database):
    """120 members: numbers 1000-1119, every third lapsed, every fifth honorary, every seventh a trainer."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.session() as session:
        session.add_all(
            Member(
                membership_number=str(1000 + i),
                email=f"person{i}@example.org",
                first_name=f"First{i:03d}",
                last_name=f"Last{119 - i:03d}",
                category="honorary" if i % 5 == 0 else "basic",
                accreditation="trainer" if i % 7 == 0 else "none",
                status="lapsed" if i % 3 == 0 else "active",
                renewal_on=date(2027, 1, 1 + i % 28),
                created_at=now,
                updated_at=now,
            )
            for i in range(120)
        )


def test_office_imports_the_roll_through_upload_preview_and_apply(
    office_client, make_roll, add_member, database
):
    add_member("999", "gone@example.org", "Gone", "Away")
    content = make_roll(
        [
            ["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "2020-02-01", "01/02/2027"],
            ["1002", "bob@example.org", "Bob", "Jones", "Trainee", "active", "", ""],
        ],
        delimiter=";",
        bom=True,
    )
    uploaded = upload(office_client, content)
    assert uploaded.status_code == 303
    preview_url = uploaded.headers["location"]
    assert preview_url.startswith("/members/import/")
    preview = office_client.get(preview_url)
    assert preview.status_code == 200
    assert "New members (2)" in preview.text
    assert "Active members not in the file (1)" in preview.text
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1

    applied = post(
        office_client, preview_url + "/apply", {"plan": plan_digest(preview.text), "lapse_missing": "yes"}
    )
    assert applied.status_code == 303
    assert applied.headers["location"] == "/members/"
    listing = office_client.get("/members/")
    assert "Imported roll.csv: 2 new, 0 changed, 0 unchanged, 1 marked lapsed." in listing.text
    with database.session() as s:
        statuses = {n: st for n, st in s.execute(select(Member.membership_number, Member.status))}
        assert statuses == {"999": "lapsed", "1001": "active", "1002": "active"}
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "members.import")).one()
        assert json.loads(event.details)["lapsed"] == 1
    assert office_client.get(preview_url).status_code == 404


def test_a_preview_of_a_bad_file_lists_its_problems_and_offers_no_apply(office_client, make_roll, database):
    content = make_roll(
        [
            ["", "x@example.org", "A", "B", "Basic", "active", "", ""],
            ["2", "bad", "C", "D", "Gold", "", "", ""],
        ]
    )
    preview = office_client.get(upload(office_client, content).headers["location"])
    codes = re.findall(r'data-code="([a-z_]+)"', preview.text)
    assert codes == ["missing_number", "bad_email", "unknown_category", "missing_status"]
    assert "Apply the import" not in preview.text
    assert "Nothing can be imported" in preview.text


def test_applying_a_file_with_bad_rows_is_refused_and_writes_nothing(office_client, make_roll, database):
    content = make_roll(
        [
            ["1", "x@example.org", "A", "B", "Basic", "active", "", ""],
            ["2", "bad", "C", "D", "Basic", "", "", ""],
        ]
    )
    preview_url = upload(office_client, content).headers["location"]
    response = post(office_client, preview_url + "/apply", {"plan": "0" * 64})
    assert response.status_code == 422
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0


def test_applying_after_the_roll_changed_returns_to_a_fresh_preview(office_client, make_roll, add_member):
    content = make_roll([["1", "x@example.org", "A", "B", "Basic", "active", "", ""]])
    preview_url = upload(office_client, content).headers["location"]
    digest = plan_digest(office_client.get(preview_url).text)
    add_member("2", "y@example.org")
    response = post(office_client, preview_url + "/apply", {"plan": digest, "lapse_missing": "yes"})
    assert response.status_code == 303 and response.headers["location"] == preview_url
    assert "changed since this preview" in office_client.get(preview_url).text


def test_an_upload_without_a_file_or_too_large_is_refused_beside_the_field(office_client):
    missing = post(office_client, "/members/import")
    assert missing.status_code == 422 and "Choose the CSV file" in missing.text
    huge = upload(office_client, b"x" * (importer.MAX_BYTES + 1))
    assert huge.status_code == 422 and "larger than 5 MB" in huge.text


def test_live_search_answers_htmx_with_only_the_rows(office_client, roll):
    response = office_client.get("/members/?q=first005", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["vary"]
    assert ROW_NUMBERS.findall(response.text) == ["1005"]
    assert "1 member" in response.text


def test_the_list_page_has_a_live_search_box(office_client, roll):
    page = office_client.get("/members/")
    assert 'hx-trigger="input changed delay:250ms"' in page.text
    assert 'id="member-rows"' in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [("q=1042", ["1042"]), ("q=PERSON7%40", ["1007"]), ("q=first010+last109", ["1010"]), ("q=%25", [])],
)
def test_search_matches_number_email_and_every_word_of_the_name(office_client, roll, query, expected):
    assert ROW_NUMBERS.findall(office_client.get(f"/members/?{query}").text) == expected


def test_the_list_sorts_by_name_by_default_and_by_number_on_request(office_client, roll):
    by_name = ROW_NUMBERS.findall(office_client.get("/members/").text)
    assert by_name[:3] == ["1119", "1118", "1117"]
    by_number_desc = ROW_NUMBERS.findall(office_client.get("/members/?sort=number&dir=desc").text)
    assert by_number_desc[:3] == ["1119", "1118", "1117"]
    by_number = ROW_NUMBERS.findall(office_client.get("/members/?sort=number").text)
    assert by_number[:3] == ["1000", "1001", "1002"]
    by_renewal = office_client.get("/members/?sort=renewal")
    assert ROW_NUMBERS.findall(by_renewal.text)[0] in {"1000", "1028", "1056", "1084", "1112"}
    assert 'aria-sort="ascending"' in by_renewal.text


def test_the_list_filters_by_status_category_and_accreditation(office_client, roll):
    lapsed = ROW_NUMBERS.findall(office_client.get("/members/?status=lapsed&sort=number").text)
    assert lapsed[:3] == ["1000", "1003", "1006"] and len(lapsed) == 40
    honorary_trainers = ROW_NUMBERS.findall(
        office_client.get("/members/?category=honorary&accreditation=trainer&sort=number").text
    )
    assert honorary_trainers == ["1000", "1035", "1070", "1105"]


def test_the_list_shows_fifty_members_a_page(office_client, roll):
    first = office_client.get("/members/?sort=number")
    assert len(ROW_NUMBERS.findall(first.text)) == 50
    assert "page 1 of 3" in first.text
    last = office_client.get("/members/?sort=number&page=3")
    assert ROW_NUMBERS.findall(last.text)[0] == "1100" and len(ROW_NUMBERS.findall(last.text)) == 20
    beyond = office_client.get("/members/?sort=number&page=99")
    assert ROW_NUMBERS.findall(beyond.text) == ROW_NUMBERS.findall(last.text)


def test_csv_export_of_the_current_filter_has_a_safe_filename_and_is_audited(office_client, roll, database):
    response = office_client.get("/members/export.csv?status=lapsed&category=honorary")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="members-2026-11-25-lapsed-honorary.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Membership number", "Email", "First name", "Last name"]
    assert sorted(r[0] for r in rows[1:]) == ["1000", "1015", "1030", "1045", "1060", "1075", "1090", "1105"]
    with database.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "members.export_csv")).one()
        assert json.loads(event.details)["rows"] == 8


def test_csv_export_neutralises_spreadsheet_formulas(office_client, add_member):
    add_member("1", "ann@example.org", '=HYPERLINK("http://evil")', "@SUM(A1)")
    rows = list(csv.reader(io.StringIO(office_client.get("/members/export.csv").content.decode("utf-8-sig"))))
    assert rows[1][2:4] == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)"]


def test_an_export_imports_back_with_nothing_to_change(office_client, roll, database):
    exported = office_client.get("/members/export.csv").content
    with database.session() as s:
        plan = importer.plan_import(s, content=exported)
    assert plan.ok and plan.unchanged == 120 and not plan.new and not plan.changed and not plan.missing


def test_a_staff_edit_through_the_members_page_shows_in_its_history(office_client, add_member, database):
    member_id = add_member("1", "ann@example.org", "Ann", "Smith")
    form = {
        "first_name": "Ann",
        "last_name": "Smythe",
        "email": "ann@example.org",
        "category": "basic",
        "accreditation": "supervisor",
        "status": "active",
        "joined_on": "2020-01-01",
        "renewal_on": "2028-01-01",
    }
    response = post(office_client, f"/members/{member_id}", form)
    assert response.status_code == 303
    page = office_client.get(f"/members/{member_id}")
    assert "Saved 3 changes." in page.text
    assert "Staff edit" in page.text and "Smythe" in page.text
    with database.session() as s:
        changes = json.loads(s.scalars(select(MemberChange.changes)).one())
    assert changes == {
        "last_name": ["Smith", "Smythe"],
        "accreditation": ["none", "supervisor"],
        "renewal_on": ["2027-01-01", "2028-01-01"],
    }


def test_a_bad_edit_comes_back_with_messages_beside_the_fields(office_client, add_member):
    member_id = add_member("1", "ann@example.org", "Ann", "Smith")
    add_member("2", "bob@example.org", "Bob", "Jones")
    form = {"first_name": "", "last_name": "Smith", "email": "bob@example.org", "category": "basic",
            "accreditation": "none", "status": "active", "joined_on": "31/12/2020", "renewal_on": ""}  # fmt: skip
    response = post(office_client, f"/members/{member_id}", form)
    assert response.status_code == 422
    assert "Enter the first name." in response.text
    assert "as a date (YYYY-MM-DD)" in response.text
    form.update(first_name="Ann", joined_on="2020-12-31")
    taken = post(office_client, f"/members/{member_id}", form)
    assert taken.status_code == 422 and "already has this e-mail address" in taken.text


def test_staff_manage_categories_and_accreditation_levels(office_client, add_member, database):
    page = office_client.get("/members/lists")
    assert page.status_code == 200 and "Member plus" in page.text and "Accredited practitioner" in page.text
    assert post(office_client, "/members/lists", {"kind": "category", "label": "Student"}).status_code == 303
    with database.session() as s:
        student = s.scalars(select(MemberCategory).where(MemberCategory.code == "student")).one()
    renamed = post(office_client, f"/members/lists/category/{student.id}", {"label": "Student member"})
    assert renamed.status_code == 303
    assert 'value="Student member"' in office_client.get("/members/lists").text
    removed = post(office_client, f"/members/lists/category/{student.id}", {"action": "remove"})
    assert removed.status_code == 303
    assert 'value="Student member"' not in office_client.get("/members/lists").text


def test_a_category_in_use_cannot_be_removed_through_the_page(office_client, add_member, database):
    add_member("1", "ann@example.org", category="honorary")
    with database.session() as s:
        honorary = s.scalars(select(MemberCategory).where(MemberCategory.code == "honorary")).one()
    response = post(office_client, f"/members/lists/category/{honorary.id}", {"action": "remove"})
    assert response.status_code == 422 and "still hold" in response.text


def test_the_office_sees_members_in_the_navigation(office_client):
    assert '<a href="/members/"' in office_client.get("/").text
