"""Bad input the office and delegates give, and what they are told: an event dated in the past is saved only
once confirmed; the error summary follows the order of the fields; written answers show their limit and a
longer one is refused with its length; a bank statement that is not a CSV, or whose headings are not known,
says so and names the headings it needs; a reference no booking has is named as not known."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from support import login, make_account, post

from portal.events import catalogue, payments
from portal.events.models import Event

EVENT = {
    "title": "National Meeting 2027",
    "slug": "national-meeting-2027",
    "kind": "meeting",
    "status": "published",
    "timezone": "Europe/London",
    "starts_at": "2027-06-05T10:00",
    "ends_at": "2027-06-05T16:00",
    "registration_opens_at": "2026-12-01T09:00",
    "registration_closes_at": "2027-06-01T17:00",
    "offer_hours": "48",
    "payment_due_days": "14",
    "tax_label": "VAT",
    "tax_rate": "0",
}


@pytest.fixture
def office(client, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(client, "office@example.org")
    return client


def events(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Event))


def summary_links(html: str) -> list[str]:
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    return re.findall(r'<a href="#f-([^"]+)">', box)


def test_an_event_dated_in_the_past_is_saved_only_once_confirmed(office, database, clock):
    past = {**EVENT, "starts_at": "2020-06-05T10:00", "ends_at": "2020-06-05T16:00"}
    asked = post(office, "/events/manage/new", past)
    assert asked.status_code == 422 and events(database) == 0
    assert "The start, 5 June 2020, 10:00, is in the past." in asked.text
    assert 'name="past_ok"' in asked.text and summary_links(asked.text) == ["past_ok"]
    saved = post(office, "/events/manage/new", {**past, "past_ok": "on"})
    assert saved.status_code == 303 and events(database) == 1
    with database.session() as s:
        event_id = s.scalar(select(Event.id))
    # Editing it later without moving its start does not ask again; a future event never asks.
    assert post(office, f"/events/manage/{event_id}/edit", {**past, "title": "Renamed"}).status_code == 303
    assert 'name="past_ok"' not in office.get("/events/manage/new").text
    assert post(office, "/events/manage/new", {**EVENT, "slug": "later"}).status_code == 303


def test_the_error_summary_follows_the_order_of_the_fields(office):
    mistakes = {
        **EVENT,
        "slug": "Bad Slug!",
        "venue": "v" * 201,
        "ends_at": "2027-06-05T09:00",  # before it starts: found after every field is read
        "offer_hours": "soon",
        "tax_rate": "120",
    }
    response = post(office, "/events/manage/new", mistakes)
    assert response.status_code == 422
    assert summary_links(response.text) == ["slug", "venue", "ends_at", "offer_hours", "tax_rate"]
    page_order = [n for n in re.findall(r'id="f-([a-z_]+)-error"', response.text)]
    assert page_order == ["slug", "venue", "ends_at", "offer_hours", "tax_rate"]


def test_a_written_answer_shows_its_limit_and_a_longer_one_is_refused(client, make_event):
    event = make_event(
        questions=[
            catalogue.QuestionData("Access needs", kind="long_text", purpose="access"),
            catalogue.QuestionData("Pronouns", kind="short_text"),
        ]
    )
    url = f"/events/{event.slug}/book"
    start = client.get(url)
    key = re.search(r'name="form_key" value="([^"]+)"', start.text).group(1)
    details = post(client, url, {"form_key": key, "ticket": event.ticket_types[0].id, "action": "details"})
    access, pronouns = (q.id for q in event.questions)
    assert "Up to 2,000 characters." in details.text and "Up to 200 characters." in details.text
    assert re.search(
        rf'<textarea id="f-q{access}"[^>]*maxlength="2000"[^>]*aria-describedby="f-q{access}-limit"',
        details.text,
    )
    too_long = post(
        client,
        url,
        {
            "form_key": key,
            "ticket": event.ticket_types[0].id,
            "action": "review",
            "first_name": "Gwen",
            "last_name": "Guest",
            "email": "gwen@example.org",
            f"q{access}": "x" * 6000,
            f"q{pronouns}": "she/her",
        },
    )
    assert too_long.status_code == 422
    assert "Access needs: keep this to 2,000 characters (it has 6,000)." in too_long.text


def upload(office, name: str, content: bytes, media: str = "text/csv"):
    return post(
        office, "/events/manage/payments", {"action": "preview"}, files={"file": (name, content, media)}
    )


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This is a PDF, not a CSV file."),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "This is an Excel workbook (or another zipped document), not a CSV file.",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "This is a PNG image, not a CSV file."),
    ],
)
def test_a_statement_that_is_not_a_csv_is_told_so(office, admin, content, said):
    refused = upload(office, "statement.csv", content, "application/octet-stream")
    assert refused.status_code == 422 and said in refused.text and 'id="f-file-error"' in refused.text


def test_a_statement_with_unknown_headings_names_them_and_the_headings_it_needs(office, admin):
    shown = upload(office, "statement.csv", b"When,What,How much\n2026-11-26,BACS,10.00\n")
    assert shown.status_code == 422 and 'id="f-file-error"' in shown.text  # beside the file field
    assert "Record 0 payments" not in shown.text
    text = shown.text.replace("&#34;", '"').replace("&#39;", "'")
    assert "it names “When”, “What”, “How much”" in text
    assert "no column for a date (Date, Transaction date, Posting date or Value date)" in text
    assert "no column for a description or reference (Reference, Description," in text
    assert (
        "no column for an amount (Amount or Value, or money in: Paid in, Credit, Money in or Credit amount)"
        in text
    )


def test_only_the_missing_columns_are_named():
    _, problems = payments.parse_statement("Date,Memo,Debit\n2026-11-26,x,1\n")
    assert "no column for an amount" in problems[0] and "a date (" not in problems[0]
    assert "a description or reference (" not in problems[0]


def test_a_reference_no_booking_has_is_named_as_not_known(office, admin):
    unknown = payments.reference_for(999)
    shown = upload(
        office, "statement.csv", f"Date,Description,Amount\n2026-11-26,BACS {unknown},10.00\n".encode()
    )
    assert shown.status_code == 200 and f"Reference {unknown} not known: no booking has it" in shown.text
