"""The roll import's messages read well: "this problem" or "these 2 problems", the e-mail address as it was
typed, "The status is empty.", and a file that is not a CSV (a PDF, an image, a workbook) told so."""

from __future__ import annotations

import re

import pytest
from support import csrf_token

from portal.members import importer

GOOD = ["1001", "ann@example.org", "Ann", "Smith", "Basic", "active", "", ""]


def preview(client, content: bytes, filename: str = "roll.csv") -> str:
    uploaded = client.post(
        "/members/import",
        data={"csrf_token": csrf_token(client)},
        files={"file": (filename, content, "text/csv")},
    )
    assert uploaded.status_code == 303, uploaded.text
    return client.get(uploaded.headers["location"]).text


def heading(html: str) -> str:
    return re.search(r'<h2 id="problems-heading">([^<]+)</h2>', html).group(1)


def test_one_problem_is_this_problem_and_two_are_these_2_problems(office_client, make_roll):
    one = preview(
        office_client,
        make_roll([GOOD, ["1002", "Bob.Baker@Example", "Bob", "Baker", "Basic", "active", "", ""]]),
    )
    assert heading(one) == "Nothing can be imported until this problem is fixed"
    assert "Correct it in the membership system" in one
    assert "“Bob.Baker@Example” is not an e-mail address." in one  # as typed, not lower-cased
    two = preview(
        office_client,
        make_roll(
            [
                GOOD,
                ["1002", "bob@example", "Bob", "Baker", "Basic", "active", "", ""],
                ["1003", "cat@example.org", "Cat", "Carter", "Basic", "", "", ""],
            ]
        ),
    )
    assert heading(two) == "Nothing can be imported until these 2 problems are fixed"
    assert "The status is empty." in two and "“” is not a status" not in two


def test_an_empty_status_and_a_duplicate_address_are_said_plainly(db, make_roll):
    plan = importer.plan_import(
        db,
        content=make_roll([GOOD, ["1002", "Ann@Example.org", "Ann", "Again", "Basic", "", "", ""]]),
    )
    assert [(p.code, p.message) for p in plan.problems] == [
        ("duplicate_email", "The e-mail address Ann@Example.org is also on line 2."),
        ("missing_status", "The status is empty."),
    ]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"%PDF-1.4\n1 0 obj\n", "This is a PDF, not a CSV file."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is a PNG image, not a CSV file."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "This is an old-style Excel or Word file, not a CSV file."),
        (
            b"PK\x03\x04 an xlsx workbook",
            "This is an Excel workbook (or another zipped document), not a CSV file.",
        ),
        (b"Number\x00,Email\x00\n", "This file is not text, so it is not a CSV file."),
    ],
)
def test_a_file_that_is_not_a_csv_is_told_so(office_client, content, said):
    shown = preview(office_client, content, "roll.csv")
    assert heading(shown) == "Nothing can be imported until this problem is fixed"
    assert said in shown.replace("&#34;", '"')


def test_an_address_of_a_member_missing_from_the_file_is_named_as_the_file_has_it(db, make_roll, add_member):
    add_member("0999", "zoe@example.org", "Zoë", "Müller")
    plan = importer.plan_import(
        db, content=make_roll([GOOD, ["1002", "Zoe@Example.ORG", "Zoe", "Muller", "Basic", "active", "", ""]])
    )
    assert [(p.code, p.message) for p in plan.problems] == [
        (
            "email_taken",
            "The e-mail address Zoe@Example.ORG belongs to member 0999, who is not in this file.",
        )
    ]
