"""The roll import without HTTP: reading the office's files, the difference it shows, and applying it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.members import importer
from portal.members.models import Member, MemberChange

EXISTING = "9000"

DIRTY = (
    "\ufeffMembership No;Email Address;Forename;Surname;Category;Accreditation;Status;Joined;Renewal date;;\r\n"
    "1001; Ann@Example.org ;Ann;Smith;Basic;None;active;01/02/2020;01/02/2027;;\r\n"
    ";nonumber@example.org;No;Number;Basic;;active;;;;\r\n"
    "1003;not-an-email;Bad;Email;Basic;;active;;;;\r\n"
    "1001;ann2@example.org;Dup;Number;Basic;;active;;;;\r\n"
    "1005;ANN@example.org;Dup;Email;Basic;;active;;;;\r\n"
    "1006;taken@example.org;Taken;Email;Basic;;active;;;;\r\n"
    "1007;cat@example.org;Unknown;Category;Platinum;;active;;;;\r\n"
    "1008;date@example.org;Bad;Date;Basic;;active;31/02/2020;;;\r\n"
    "1009;status@example.org;Unknown;Status;Basic;;suspended;;;;\r\n"
    "1010;level@example.org;Unknown;Level;Basic;Grand master;active;;;;\r\n"
    "1011;noname@example.org;;Nameless;Basic;;active;;;;\r\n"
    '"1012";"quoted@example.org";"Mary; Jane";"O\'Brien";"Member plus";;"Active";2021-03-04;;;\r\n'
    "1013;nocat@example.org;No;Category;;;active;;;;\r\n"
    "1014;two@;Two;Problems;Basic;;active;2020-13-01;;;\r\n"
    ";;;;;;;;;;\r\n"
    "\r\n"
).encode()


@pytest.fixture
def taken(add_member):
    return add_member(EXISTING, "taken@example.org", "Tess", "Taken")


def test_a_dirty_file_imports_nothing_and_reports_each_problem_with_its_line(db, clock, taken):
    plan = importer.plan_import(db, content=DIRTY, filename="dirty.csv")
    assert not plan.ok
    assert [(p.line, p.code) for p in plan.problems] == [
        (3, "missing_number"),
        (4, "bad_email"),
        (5, "duplicate_number"),
        (6, "duplicate_email"),
        (7, "email_taken"),
        (8, "unknown_category"),
        (9, "bad_date"),
        (10, "unknown_status"),
        (11, "unknown_accreditation"),
        (12, "missing_name"),
        (14, "missing_category"),
        (15, "bad_email"),
        (15, "bad_date"),
    ]
    with pytest.raises(importer.RollImportError) as refused:
        importer.apply_import(
            db, content=DIRTY, filename="dirty.csv", actor=None, lapse_missing=True, now=clock()
        )
    assert refused.value.code == "bad_rows"
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Member)) == 1
    assert db.scalar(select(func.count()).select_from(MemberChange)) == 0


def test_the_good_rows_of_a_dirty_file_are_read_despite_excel_quirks(db, taken):
    plan = importer.plan_import(db, content=DIRTY, filename="dirty.csv")
    good = {n.values["membership_number"]: n.values for n in plan.new}
    assert good["1001"]["email"] == "ann@example.org"
    assert good["1001"]["joined_on"] == date(2020, 2, 1)
    assert good["1012"]["first_name"] == "Mary; Jane"
    assert good["1012"]["category"] == "member_plus"
    assert good["1012"]["status"] == "active"
    assert good["1012"]["renewal_on"] is None


def test_a_member_with_a_bad_row_is_not_reported_missing(db, add_member, make_roll):
    add_member("1001", "ann@example.org")
    content = make_roll([["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "not a date", ""]])
    plan = importer.plan_import(db, content=content)
    assert [p.code for p in plan.problems] == ["bad_date"]
    assert plan.missing == []


def _clean_roll(make_roll):
    return make_roll(
        [
            ["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "2020-02-01", "01/02/2027"],
            ["1002", "bob@example.org", "Bob", "Jones", "trainee", "Active", "15/06/2021", "2027-06-15"],
            ["1003", "cy@example.org", "Cy", "Young", "Honorary", "active", "", ""],
            ["1004", "di@example.org", "Di", "Prince", "member_plus", "active", "2019-01-01", "2027-01-01"],
        ]
    )


def test_a_clean_file_adds_every_member_with_its_history_and_an_audit_entry(db, clock, make_roll, members_of):
    content = _clean_roll(make_roll)
    plan, result = importer.apply_import(
        db, content=content, filename="roll.csv", actor=None, lapse_missing=False, now=clock()
    )
    db.commit()
    assert (result.added, result.changed, result.unchanged, result.lapsed) == (4, 0, 0, 0)
    roll = members_of()
    assert set(roll) == {"1001", "1002", "1003", "1004"}
    bob = roll["1002"]
    assert (bob.email, bob.first_name, bob.last_name, bob.category, bob.accreditation, bob.status) == (
        "bob@example.org",
        "Bob",
        "Jones",
        "trainee",
        "none",
        "active",
    )
    assert (bob.joined_on, bob.renewal_on) == (date(2021, 6, 15), date(2027, 6, 15))
    created = json.loads(db.scalar(select(MemberChange.changes).where(MemberChange.member_id == bob.id)))
    assert created["email"] == [None, "bob@example.org"]
    assert created["renewal_on"] == [None, "2027-06-15"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "members.import")).one()
    details = json.loads(event.details)
    assert (details["added"], details["rows"], details["sha256"]) == (4, 4, plan.sha256)


def test_a_second_file_shows_new_changed_unchanged_and_missing_and_applying_writes_exactly_that(
    db, clock, make_roll, members_of
):
    importer.apply_import(
        db, content=_clean_roll(make_roll), filename="roll.csv", actor=None, lapse_missing=False, now=clock()
    )
    db.commit()
    before = members_of()
    later = clock.advance(days=30)
    second = make_roll(
        [
            ["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "2020-02-01", "01/02/2027"],
            ["1002", "robert@example.org", "Bob", "Jones", "Basic", "active", "15/06/2021", "2027-06-15"],
            ["1003", "cy@example.org", "Cy", "Young", "Honorary", "active", "", "31/12/2027"],
            ["1005", "eve@example.org", "Eve", "Adams", "Trainee", "active", "2026-11-01", "2027-11-01"],
        ]
    )
    plan = importer.plan_import(db, content=second, filename="second.csv")
    assert plan.ok
    assert [n.values["membership_number"] for n in plan.new] == ["1005"]
    assert {c.number: c.changes for c in plan.changed} == {
        "1002": {"email": ["bob@example.org", "robert@example.org"], "category": ["trainee", "basic"]},
        "1003": {"renewal_on": [None, "2027-12-31"]},
    }
    assert plan.unchanged == 1
    assert [m.number for m in plan.missing] == ["1004"]

    _, result = importer.apply_import(
        db, content=second, filename="second.csv", actor=None, lapse_missing=True, now=later
    )
    db.commit()
    assert (result.added, result.changed, result.unchanged, result.lapsed, result.history_rows) == (
        1,
        2,
        1,
        1,
        4,
    )
    after = members_of()
    assert (after["1002"].email, after["1002"].category) == ("robert@example.org", "basic")
    assert after["1003"].renewal_on == date(2027, 12, 31)
    assert after["1004"].status == "lapsed"
    assert after["1005"].first_name == "Eve"
    assert after["1001"].updated_at == before["1001"].updated_at
    touched = db.scalars(select(MemberChange.member_id).where(MemberChange.at == later)).all()
    assert sorted(touched) == sorted(after[n].id for n in ("1002", "1003", "1004", "1005"))
    lapse = db.scalar(
        select(MemberChange.changes).where(
            MemberChange.member_id == after["1004"].id, MemberChange.at == later
        )
    )
    assert json.loads(lapse) == {"status": ["active", "lapsed"]}


def test_reapplying_the_same_file_changes_nothing(db, clock, make_roll, members_of):
    content = _clean_roll(make_roll)
    importer.apply_import(
        db, content=content, filename="roll.csv", actor=None, lapse_missing=True, now=clock()
    )
    db.commit()
    history = db.scalar(select(func.count()).select_from(MemberChange))
    snapshot = {n: (m.updated_at, m.email, m.status) for n, m in members_of().items()}
    clock.advance(hours=1)
    _, result = importer.apply_import(
        db, content=content, filename="roll.csv", actor=None, lapse_missing=True, now=clock()
    )
    db.commit()
    assert (result.added, result.changed, result.lapsed, result.history_rows) == (0, 0, 0, 0)
    assert result.unchanged == 4
    assert db.scalar(select(func.count()).select_from(MemberChange)) == history
    assert {n: (m.updated_at, m.email, m.status) for n, m in members_of().items()} == snapshot


def test_missing_members_stay_active_unless_lapsing_is_asked_for(
    db, clock, add_member, make_roll, members_of
):
    add_member("1004", "di@example.org", "Di", "Prince")
    content = make_roll([["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "", ""]])
    _, result = importer.apply_import(
        db, content=content, filename="r.csv", actor=None, lapse_missing=False, now=clock()
    )
    db.commit()
    assert result.lapsed == 0
    assert members_of()["1004"].status == "active"


def test_addresses_may_move_between_members_in_one_file(db, clock, add_member, make_roll, members_of):
    add_member("1001", "one@example.org", "Ann", "Smith")
    add_member("1002", "two@example.org", "Bob", "Jones")
    swapped = make_roll(
        [
            ["1001", "two@example.org", "Ann", "Smith", "Basic", "active", "2020-01-01", "2027-01-01"],
            ["1002", "one@example.org", "Bob", "Jones", "Basic", "active", "2020-01-01", "2027-01-01"],
        ]
    )
    plan, result = importer.apply_import(
        db, content=swapped, filename="s.csv", actor=None, lapse_missing=False, now=clock()
    )
    db.commit()
    assert plan.ok and result.changed == 2
    roll = members_of()
    assert (roll["1001"].email, roll["1002"].email) == ("two@example.org", "one@example.org")


def test_columns_the_file_lacks_are_left_as_they_are(db, clock, add_member, make_roll, members_of):
    add_member("1001", "ann@example.org", "Ann", "Smith", accreditation="supervisor", status="lapsed")
    content = make_roll(
        [["1001", "ann@example.org", "Ann", "Smith", "basic"]],
        headings=["Member Number", "E-mail", "First Name", "Last Name", "Membership Type"],
    )
    plan = importer.plan_import(db, content=content)
    assert plan.ok and plan.unchanged == 1 and plan.changed == []
    assert set(plan.columns) == {"membership_number", "email", "first_name", "last_name", "category"}


def test_tab_delimited_files_with_synonyms_quotes_and_trailing_columns_are_read(db, make_roll):
    content = make_roll(
        [
            ["  77 ", "X@Example.ORG ", "Anne-Marie", "Line\nBreak", "TRAINEE", "Lapsed", " 3/4/2024", "", "", ""],
        ],
        headings=["Membership #", "E-Mail Address", "Forenames", "Family name", "Grade", "Member Status",
                  "Date joined", "Expiry", "Notes", ""],
        delimiter="\t",
        bom=True,
    )  # fmt: skip
    plan = importer.plan_import(db, content=content)
    assert plan.ok, plan.problems
    values = plan.new[0].values
    assert values["membership_number"] == "77"
    assert values["email"] == "x@example.org"
    assert values["last_name"] == "Line\nBreak"
    assert (values["category"], values["status"], values["joined_on"]) == (
        "trainee",
        "lapsed",
        date(2024, 4, 3),
    )
    assert plan.ignored_columns == ["Notes"]


def test_a_file_without_a_required_column_is_refused_as_a_whole(db, make_roll):
    content = make_roll([["1", "a@example.org", "Ann"]], headings=["Number", "Email", "First name"])
    plan = importer.plan_import(db, content=content)
    assert [(p.line, p.code) for p in plan.problems] == [(1, "missing_column")]


def test_a_column_given_twice_is_refused(db, make_roll):
    content = make_roll(
        [["1", "a@example.org", "b@example.org", "Ann", "Smith", "basic"]],
        headings=["Number", "Email", "E-mail address", "First name", "Surname", "Category"],
    )
    assert [p.code for p in importer.plan_import(db, content=content).problems] == ["duplicate_column"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"PK\x03\x04 an xlsx workbook", "not_csv"),
        ("Number,Email\n1,caf\u00e9@example.org\n".encode("latin-1"), "not_utf8"),
        (b"\r\n\r\n", "empty_file"),
    ],
)
def test_files_that_are_not_utf8_csv_are_refused_with_a_clear_code(db, content, code):
    assert [p.code for p in importer.plan_import(db, content=content).problems] == [code]


def test_utf16_text_saved_by_excel_is_read(db, make_roll):
    content = make_roll([["5", "zoe@example.org", "Zoë", "Ærø", "Basic", "active", "", ""]], delimiter="\t")
    plan = importer.plan_import(db, content=content.decode().encode("utf-16"))
    assert plan.ok and plan.new[0].values["first_name"] == "Zoë"


def test_rows_for_erased_members_are_skipped_not_refilled(db, clock, add_member, make_roll, members_of):
    member_id = add_member("1001", "ann@example.org", "Ann", "Smith", status="resigned")
    from portal.members import service

    service.erase_member(db, member_id=member_id, actor=None, now=clock())
    db.commit()
    content = make_roll([["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "", ""]])
    plan, result = importer.apply_import(
        db, content=content, filename="r.csv", actor=None, lapse_missing=False, now=clock()
    )
    db.commit()
    assert plan.erased == [(2, "1001")]
    assert result.skipped_erased == 1
    assert members_of()["1001"].email is None


def test_applying_a_preview_refuses_when_the_roll_changed_since(db, clock, add_member, make_roll):
    content = make_roll([["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "", ""]])
    digest = importer.plan_import(db, content=content).digest
    db.commit()
    add_member("1001", "other@example.org", "Ann", "Smith")
    with pytest.raises(importer.RollImportError) as refused:
        importer.apply_import(
            db,
            content=content,
            filename="r.csv",
            actor=None,
            lapse_missing=False,
            now=clock(),
            expected_digest=digest,
        )
    assert refused.value.code == "stale_preview"


def test_an_upload_is_kept_by_its_sha256_until_applied(db, clock, make_roll, office):
    content = make_roll([["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "", ""]])
    upload = importer.store_upload(
        db, content=content, filename="../../x/roll.csv", account_id=None, now=clock()
    )
    again = importer.store_upload(db, content=content, filename="roll.csv", account_id=None, now=clock())
    assert upload.id == again.id and upload.filename == "roll.csv"
    sha256 = upload.sha256
    plan = importer.plan_import(db, content=content)
    importer.apply_upload(
        db, sha256=sha256, actor=office, lapse_missing=False, expected_digest=plan.digest, now=clock()
    )
    with pytest.raises(importer.RollImportError) as gone:
        importer.load_upload(db, sha256=sha256, now=clock())
    assert gone.value.code == "upload_not_found"


def test_uploads_expire_after_a_day(db, clock, make_roll):
    upload = importer.store_upload(db, content=make_roll([]), filename="r.csv", account_id=None, now=clock())
    with pytest.raises(importer.RollImportError) as expired:
        importer.load_upload(db, sha256=upload.sha256, now=clock.advance(days=1, seconds=1))
    assert expired.value.code == "upload_not_found"
