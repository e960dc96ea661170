"""The office's pages through the app: setting an event up, the overview with its gauges, chart and catering
summary, the bookings list with its filters and CSV export, payments, bank statements, unpaid bookings, and
e-mailing delegates."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import login, make_account, post

from portal.audit import AuditEvent
from portal.events import catalogue, payments
from portal.events.models import Event, Payment, Registration, TicketType
from portal.mail.models import OutboxEmail
from portal.society import service as society_service
from portal.society.models import Society


@pytest.fixture
def office(client, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(client, "office@example.org")
    return client


@pytest.fixture
def conference(make_event, start):
    return make_event(
        title="Annual Conference",
        capacity=5,
        tickets=[
            catalogue.TicketData(name="Standard", price=10000),
            catalogue.TicketData(name="Student", price=2000),
        ],
        workshops=[
            catalogue.WorkshopData("Formulation", start + timedelta(hours=2), start + timedelta(hours=4))
        ],
        questions=[
            catalogue.QuestionData(
                "Diet", kind="single_choice", options="None\nVegetarian\nVegan", purpose="dietary"
            ),
            catalogue.QuestionData("Access needs", kind="long_text", purpose="access"),
        ],
    )


def test_office_staff_create_an_event_then_add_a_ticket(office, database):
    created = post(
        office,
        "/events/manage/new",
        {
            "title": "National Meeting 2027",
            "slug": "national-meeting-2027",
            "kind": "meeting",
            "status": "published",
            "timezone": "Europe/London",
            "starts_at": "2027-06-05T10:00",
            "ends_at": "2027-06-05T16:00",
            "registration_opens_at": "2026-12-01T09:00",
            "registration_closes_at": "2027-06-01T17:00",
            "capacity": "120",
            "members_only": "on",
            "waitlist_enabled": "on",
            "offer_hours": "48",
            "payment_due_days": "14",
            "tax_label": "VAT",
            "tax_rate": "0",
        },
    )
    assert created.status_code == 303
    with database.session() as s:
        event = s.scalar(select(Event))
        assert (event.capacity, event.members_only, event.starts_at.hour) == (
            120,
            True,
            9,
        )  # 10:00 BST → 09:00 UTC
    added = post(
        office,
        f"/events/manage/{event.id}/setup/ticket/0",
        {"name": "Member place", "price": "0", "member_only": "on"},
    )
    assert added.status_code == 303
    with database.session() as s:
        ticket = s.scalar(select(TicketType))
        assert (ticket.name, ticket.price, ticket.member_only) == ("Member place", 0, True)
        assert (
            s.scalar(select(AuditEvent.action).where(AuditEvent.action == "events.create")) == "events.create"
        )


def test_an_event_form_with_mistakes_shows_each_message_beside_its_field(office):
    response = post(
        office,
        "/events/manage/new",
        {"title": "", "slug": "Bad Slug!", "kind": "conference", "status": "draft"},
    )
    assert response.status_code == 422
    assert "Enter a title." in response.text
    assert 'id="f-slug-error"' in response.text
    assert 'id="f-starts_at-error"' in response.text


def test_the_overview_shows_gauges_the_sign_ups_chart_and_the_catering_summary(
    office, conference, book, clock
):
    diet, access = (q.id for q in conference.questions)
    book(conference, 1, answers={diet: "Vegan", access: "Step-free access"})
    clock.advance(days=2)
    book(conference, 2, answers={diet: "Vegan"})
    login(office, "office@example.org")  # two days on, the morning's login has lapsed
    page = office.get(f"/events/manage/{conference.id}")
    assert page.status_code == 200
    assert "2 of 5 places taken" in page.text
    assert '<svg class="chart"' in page.text and "bookings rose to 2" in page.text
    # Three days (the second with no booking), so three points; the top of the axis is the total, 2.
    line = re.search(r'<polyline points="([^"]+)" class="chart-line series-1">', page.text)
    assert line is not None and line.group(1) == "44.0,102.0 317.0,102.0 590.0,12.0"
    assert re.search(r'<text x="38" y="16.0" text-anchor="end" class="tick">2</text>', page.text)
    # The event's gauge: 2 of 5 is a bar 40 of 100 long, not yet full.
    assert re.search(
        r'aria-label="2 of 5 places taken">\s*<rect width="100"[^>]*></rect>\s*<rect width="40" height="8" rx="4" '
        r'class="bar-fill">',
        page.text,
    )
    assert re.search(r"<td>Vegan</td><td class=\"num\">2</td>", page.text)
    assert "Step-free access" in page.text


def test_the_bookings_list_filters_by_ticket_status_workshop_and_answer(office, conference, book):
    diet = conference.questions[0].id
    book(
        conference,
        1,
        first_name="Vera",
        answers={diet: "Vegetarian"},
        workshop_ids=(conference.workshops[0].id,),
    )
    book(
        conference, 2, first_name="Zed", ticket_type_id=conference.ticket_types[1].id, answers={diet: "None"}
    )
    url = f"/events/manage/{conference.id}/bookings"
    everyone = office.get(url)
    assert "Vera" in everyone.text and "Zed" in everyone.text
    by_answer = office.get(url, params={"answer": f"{diet}:Vegetarian"})
    assert "Vera" in by_answer.text and "Zed" not in by_answer.text
    by_ticket = office.get(url, params={"ticket": conference.ticket_types[1].id})
    assert "Zed" in by_ticket.text and "Vera" not in by_ticket.text
    by_workshop = office.get(url, params={"workshop": conference.workshops[0].id})
    assert "Vera" in by_workshop.text and "Zed" not in by_workshop.text
    live = office.get(url, params={"q": "zed"}, headers={"HX-Request": "true"})
    assert "<html" not in live.text and "Zed" in live.text and "Vera" not in live.text
    assert "1 booking" in live.text


def test_the_bookings_list_shows_50_a_page_newest_first_and_sorts_by_a_heading(
    office, make_event, book, clock
):
    event = make_event(title="Big Day", capacity=100)
    for n in range(1, 54):
        clock.advance(minutes=1)
        book(event, n, first_name=f"Person{n:02d}", last_name=f"Z{54 - n:02d}")
    url = f"/events/manage/{event.id}/bookings"

    def names(page: str) -> list[str]:
        return re.findall(r">(Person\d\d) Z\d\d</a>", page)

    first = office.get(url).text
    assert "53 bookings</strong> match · page 1 of 2" in first
    assert names(first)[:2] == ["Person53", "Person52"] and len(names(first)) == 50
    assert 'aria-sort="descending"' in first and 'rel="next"' in first
    second = office.get(url, params={"page": 2}).text
    assert names(second) == ["Person03", "Person02", "Person01"]
    oldest = office.get(url, params={"sort": "booked", "dir": "asc"}).text
    assert names(oldest)[0] == "Person01"
    by_name = office.get(url, params={"sort": "name"}).text
    assert names(by_name)[:2] == ["Person53", "Person52"]  # last names Z01, Z02
    assert f'href="http://testserver{url}?sort=name&amp;dir=desc"' in by_name
    # A phone hides the table's headings, so the same sort links stand above the rows there.
    choices = by_name[by_name.index('<nav class="sort-choices phone-only"') :].split("</nav>")[0]
    links = re.findall(r'<a href="[^"]*/bookings\?[^"]*"[^>]*>([a-z ]+)', choices)
    assert links == ["booking number", "name", "status", "payment", "when booked"]
    assert 'aria-current="true">name' in choices
    filtered = office.get(url, params={"q": "person01", "sort": "name", "page": 5}).text
    assert names(filtered) == ["Person01"] and "1 booking</strong> matches." in filtered


def test_the_csv_export_cannot_run_formulas(office, conference, book):
    book(conference, 1, first_name='=HYPERLINK("http://evil")', last_name="+1", answers={})
    export = office.get(f"/events/manage/{conference.id}/bookings.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:3] == ["Booking", "Status", "First name"]
    assert rows[1][2] == '\'=HYPERLINK("http://evil")' and rows[1][3] == "'+1"


def test_staff_record_a_payment_from_the_booking_page(office, conference, book, database):
    registration = book(conference, 1).registration
    url = f"/events/manage/{conference.id}/bookings/{registration.id}"
    assert "Record a payment" in office.get(url).text
    bad = post(office, url, {"action": "payment", "amount": "ten", "method": "bank_transfer"})
    assert bad.status_code == 422 and 'id="f-amount-error"' in bad.text
    ok = post(
        office,
        url,
        {"action": "payment", "amount": "100.00", "method": "bank_transfer", "received_on": "2026-11-26"},
    )
    assert ok.status_code == 303
    with database.session() as s:
        assert s.get(Registration, registration.id).payment_status == "paid"


def test_staff_offer_a_waiting_person_a_place_by_hand(office, make_event, book, database):
    event = make_event(capacity=1)
    book(event, 1)
    waiting = book(event, 2).registration
    url = f"/events/manage/{event.id}/bookings/{waiting.id}"
    refused = post(office, url, {"action": "promote"})
    assert refused.status_code == 422 and "over capacity" in refused.text
    assert post(office, url, {"action": "promote", "over_capacity": "on"}).status_code == 303
    with database.session() as s:
        assert s.get(Registration, waiting.id).status == "offered"


def test_a_bank_statement_is_previewed_then_applied(office, conference, book, database):
    registration = book(conference, 1).registration
    text = f"Date,Description,Amount\n2026-11-26,BACS {registration.payment_reference},100.00\n2026-11-26,mystery,5.00\n"
    preview = post(
        office,
        "/events/manage/payments",
        {"action": "preview"},
        files={"file": ("statement.csv", text, "text/csv")},
    )
    assert preview.status_code == 200
    assert (
        "Pays the booking in full" in preview.text
        and "No booking or membership reference found" in preview.text
    )
    with database.session() as s:
        assert s.scalar(select(Payment)) is None
    statement = re.search(r'name="statement" value="([^"]*)"', preview.text).group(1)
    applied = post(
        office, "/events/manage/payments", {"action": "apply", "statement": statement.replace("&#10;", "\n")}
    )
    assert applied.status_code == 303
    with database.session() as s:
        assert s.get(Registration, registration.id).payment_status == "paid"


def test_a_statement_over_5_mb_is_refused_beside_the_field_not_cut_short(office, conference, database):
    lines = "".join(f"2026-11-26,line {n:09d} of a very long export,1.00\n" for n in range(120_000))
    text = "Date,Description,Amount\n" + lines
    assert len(text) > 5 * 1024 * 1024
    for sent in (
        {"data": {"action": "preview"}, "files": {"file": ("statement.csv", text, "text/csv")}},
        {"data": {"action": "apply", "statement": text}},
    ):
        refused = post(office, "/events/manage/payments", sent["data"], files=sent.get("files"))
        assert refused.status_code == 422
        assert "The statement is larger than 5 MB" in refused.text
    with database.session() as s:
        assert s.scalar(select(Payment)) is None


def test_a_statement_is_parsed_before_the_transaction_opens(office, conference, book, database, monkeypatch):
    import sqlite3

    from sqlalchemy import text as sql

    def no_write_open() -> bool:
        if database.is_sqlite:
            probe = sqlite3.connect(database.url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                probe.close()
        with database.engine.connect() as conn:
            busy = conn.execute(
                sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )
            ).scalar()
        return busy == 0

    registration = book(conference, 1).registration
    seen = []
    real = payments.parse_statement

    def watching(text):
        seen.append(no_write_open())
        return real(text)

    monkeypatch.setattr(payments, "parse_statement", watching)
    text = f"Date,Description,Amount\n2026-11-26,BACS {registration.payment_reference},100.00\n"
    preview = post(
        office, "/events/manage/payments", {"action": "preview"}, files={"file": ("s.csv", text, "text/csv")}
    )
    assert preview.status_code == 200 and "Pays the booking in full" in preview.text
    assert seen == [True]


def test_unpaid_bookings_past_due_are_listed_and_cancelled_with_e_mails(
    office, conference, book, clock, database
):
    registration = book(conference, 1).registration
    clock.advance(days=15)
    login(office, "office@example.org")
    page = office.get(f"/events/manage/{conference.id}/unpaid")
    assert registration.payment_reference in page.text
    done = post(office, f"/events/manage/{conference.id}/unpaid", {"registration": str(registration.id)})
    assert done.status_code == 303
    with database.session() as s:
        assert s.get(Registration, registration.id).status == "cancelled"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "events.cancel_unpaid")) is not None


def test_an_e_mail_to_all_delegates_goes_through_the_outbox_one_each_and_is_audited(
    office, conference, book, database
):
    book(conference, 1)
    book(conference, 2)
    sent = post(
        office,
        f"/events/manage/{conference.id}/email",
        {"audience": "confirmed", "subject": "Venue change", "body": "We have moved to the main hall."},
    )
    assert sent.status_code == 303
    with database.session() as s:
        emails = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "events/message")).all()
        assert sorted(e.to_addr for e in emails) == ["guest1@example.org", "guest2@example.org"]
        assert all(e.subject == "Venue change" and "main hall" in e.text_body for e in emails)
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "events.email_delegates")) is not None


def test_the_society_details_printed_on_invoices_can_be_edited(office, database):
    saved = post(
        office,
        "/society",
        {"name": "IPT UK", "address": "1 High Street", "charity_number": "1170000", "sort_code": "11-22-33"},
    )
    assert saved.status_code == 303
    with database.session() as s:
        assert s.get(Society, 1).charity_number == "1170000"
        assert "11-22-33" in society_service.payment_settings(s).as_text()
        assert society_service.payment_settings(s).provider == "card"  # not sent: kept as it was
    invoice_only = post(office, "/society", {"name": "IPT UK", "provider": "bank_transfer"})
    assert invoice_only.status_code == 303
    with database.session() as s:
        assert society_service.payment_settings(s).provider == "bank_transfer"
    assert post(office, "/society", {"name": "IPT UK", "provider": "cheque"}).status_code == 422


def test_a_member_account_cannot_reach_the_office_pages(client, database, passwords, admin):
    make_account(database, passwords, email="someone@example.org")
    login(client, "someone@example.org")
    assert client.get("/events/manage").status_code == 403


def test_editing_an_event_raises_capacity_and_offers_the_new_place(office, make_event, book, database):
    event = make_event(capacity=1)
    book(event, 1)
    waiting = book(event, 2).registration
    form = office.get(f"/events/manage/{event.id}/edit").text
    values = dict(
        re.findall(r'name="([a-z_]+)" type="(?:text|number|datetime-local|email)"\s*value="([^"]*)"', form)
    )
    values.update(
        kind="conference", status="published", capacity="2", waitlist_enabled="on", address="", description=""
    )
    assert post(office, f"/events/manage/{event.id}/edit", values).status_code == 303
    with database.session() as s:
        assert s.get(Registration, waiting.id).status == "offered"


def test_staff_see_a_workshops_waiting_list_with_positions(office, make_event, book, start):
    event = make_event(
        capacity=50,
        workshops=[
            catalogue.WorkshopData(
                "IPT-A", start + timedelta(hours=2), start + timedelta(hours=4), capacity=1
            )
        ],
    )
    workshop_id = event.workshops[0].id
    for n, name in enumerate(("Sian", "Tom", "Ugo")):
        book(event, n, first_name=name, workshop_ids=(workshop_id,))
    dashboard = office.get(f"/events/manage/{event.id}")
    assert f"/events/manage/{event.id}/workshops/{workshop_id}" in dashboard.text
    page = office.get(f"/events/manage/{event.id}/workshops/{workshop_id}")
    assert page.status_code == 200
    rows = re.findall(r'<td class="num">(\d+)</td><td><a [^>]+>([A-Za-z]+) Number', page.text)
    assert rows == [("1", "Tom"), ("2", "Ugo")]
    assert "Sian" in page.text.split('id="seats-heading"')[1]


def test_the_overview_of_an_event_nobody_has_booked_says_so_and_draws_empty_gauges(office, conference):
    page = office.get(f"/events/manage/{conference.id}")
    assert page.status_code == 200
    assert "No bookings yet." in page.text and '<svg class="chart"' not in page.text
    assert re.search(r'aria-label="0 of 5 places taken">\s*<rect[^>]*></rect>\s*<rect width="0" ', page.text)
