"""Event pages through the app: the calendar and its feed, an event's page, the booking journey without
JavaScript and with htmx, the private booking page, and "My registrations"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import SECRET, login, post

from portal.events import catalogue
from portal.events.links import manage_token
from portal.events.models import Registration, RegistrationWorkshop
from portal.mail.models import OutboxEmail


@pytest.fixture
def conference(make_event, admin, start):
    return make_event(
        title="Annual Conference",
        capacity=3,
        tickets=[
            catalogue.TicketData(name="Non-member", price=15000),
            catalogue.TicketData(name="Member", price=9000, member_only=True),
        ],
        workshops=[
            catalogue.WorkshopData("Formulation", start + timedelta(hours=2), start + timedelta(hours=4))
        ],
        questions=[
            catalogue.QuestionData(
                "Dietary needs",
                kind="single_choice",
                options="None\nVegetarian",
                required=True,
                purpose="dietary",
            )
        ],
    )


def form_key(html: str) -> str:
    return re.search(r'name="form_key" value="([^"]+)"', html).group(1)


def disabled(html: str, ticket_id: int) -> bool:
    return re.search(rf'name="ticket" value="{ticket_id}"\s+disabled', html) is not None


def test_the_calendar_lists_published_upcoming_events_only(client, make_event, admin):
    make_event(title="Spring Conference")
    make_event(title="Secret Draft", status="draft")
    make_event(title="Regional Day", kind="regional")
    page = client.get("/events")
    assert page.status_code == 200
    assert (
        "Spring Conference" in page.text and "Regional Day" in page.text and "Secret Draft" not in page.text
    )
    filtered = client.get("/events?kind=regional")
    assert "Regional Day" in filtered.text and "Spring Conference" not in filtered.text


def test_the_calendar_feed_is_icalendar(client, make_event, admin):
    make_event(title="Spring Conference")
    feed = client.get("/events.ics")
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Spring Conference" in feed.text and feed.text.startswith("BEGIN:VCALENDAR\r\n")


def test_an_event_page_says_how_many_places_are_left_then_that_the_waitlist_is_open(
    client, make_event, book, admin
):
    event = make_event(capacity=2)
    assert "2 places left" in client.get(f"/events/{event.slug}").text
    book(event, 1)
    assert "1 place left" in client.get(f"/events/{event.slug}").text
    book(event, 2)
    assert "waitlist open" in client.get(f"/events/{event.slug}").text


def test_an_event_page_says_when_booking_is_closed(client, make_event, admin, clock):
    event = make_event(registration_closes_at=clock() - timedelta(hours=1))
    assert "Booking is closed" in client.get(f"/events/{event.slug}").text


def test_a_draft_event_page_is_not_found(client, make_event, admin):
    assert client.get(f"/events/{make_event(status='draft').slug}").status_code == 404


def test_a_guest_books_through_every_step_without_javascript(client, conference, database):
    url = f"/events/{conference.slug}/book"
    start = client.get(url)
    assert start.status_code == 200 and "Choose a ticket" in start.text
    assert disabled(start.text, conference.ticket_types[1].id)  # the member ticket
    key = form_key(start.text)
    ticket = conference.ticket_types[0].id
    details = post(client, url, {"form_key": key, "ticket": ticket, "action": "details"})
    assert "Your details" in details.text
    incomplete = post(client, url, {"form_key": key, "ticket": ticket, "action": "review", "email": "nope"})
    assert incomplete.status_code == 422
    assert "Enter your first name." in incomplete.text
    assert "Enter an e-mail address like name@example.org." in incomplete.text
    assert "Choose an answer: Dietary needs" in incomplete.text
    question = conference.questions[0].id
    filled = {
        "form_key": key,
        "ticket": ticket,
        "first_name": "Gwen",
        "last_name": "Guest",
        "email": "gwen@example.org",
        "workshops": str(conference.workshops[0].id),
        f"q{question}": "Vegetarian",
    }
    review = post(client, url, {**filled, "action": "review"})
    assert review.status_code == 200 and "Check your booking" in review.text and "Vegetarian" in review.text
    confirmed = post(client, url, {**filled, "action": "confirm"})
    assert confirmed.status_code == 303
    booking_page = client.get(confirmed.headers["location"])
    assert "You are booked" in booking_page.text and "Gwen Guest" in booking_page.text
    assert "Formulation" in booking_page.text
    # The back button and a second click on Confirm find the same booking.
    again = post(client, url, {**filled, "action": "confirm"})
    assert again.headers["location"] == confirmed.headers["location"]
    assert "already made this booking" in client.get(again.headers["location"]).text
    with database.session() as s:
        assert s.query(Registration).count() == 1
        assert s.scalar(select(OutboxEmail.kind)) == "events/confirmation"


def test_htmx_gets_only_the_step(client, conference):
    url = f"/events/{conference.slug}/book"
    key = form_key(client.get(url).text)
    response = post(
        client,
        url,
        {"form_key": key, "ticket": conference.ticket_types[0].id, "action": "details"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="booking-step"')
    assert "<html" not in response.text and response.headers["vary"] == "HX-Request"


def test_an_htmx_confirmation_navigates_to_the_booking(client, conference):
    url = f"/events/{conference.slug}/book"
    key = form_key(client.get(url).text)
    data = {
        "form_key": key,
        "ticket": conference.ticket_types[0].id,
        "first_name": "Hal",
        "last_name": "Htmx",
        "email": "hal@example.org",
        f"q{conference.questions[0].id}": "None",
        "action": "confirm",
    }
    response = post(client, url, data, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/events/booking/")


def test_a_student_ticket_without_the_declaration_is_sent_back_with_the_message_beside_it(
    client, make_event, admin
):
    event = make_event(tickets=[catalogue.TicketData(name="Student", price=2000, student=True)])
    url = f"/events/{event.slug}/book"
    key = form_key(client.get(url).text)
    data = {"form_key": key, "ticket": event.ticket_types[0].id, "first_name": "S", "last_name": "T"}
    response = post(client, url, {**data, "email": "s@example.org", "action": "review"})
    assert response.status_code == 422
    assert 'id="f-student-error"' in response.text


def test_a_logged_in_member_sees_member_tickets_and_their_details_filled_in(
    client, conference, make_member, member_account
):
    member = make_member(first_name="Mina", last_name="Member")
    member_account(member)
    login(client, member.email)
    url = f"/events/{conference.slug}/book"
    start = client.get(url)
    assert not disabled(start.text, conference.ticket_types[1].id)
    details = post(
        client,
        url,
        {"form_key": form_key(start.text), "ticket": conference.ticket_types[1].id, "action": "details"},
    )
    assert 'value="Mina"' in details.text and f'value="{member.email}"' in details.text


def test_a_member_signs_up_for_the_national_meeting_in_two_clicks_and_gives_the_place_back_after_confirming(
    client, make_event, make_member, member_account, admin, database
):
    meeting = make_event(kind="meeting", members_only=True, capacity=50, title="National Meeting")
    member = make_member()
    member_account(member)
    login(client, member.email)
    page = client.get(f"/events/{meeting.slug}")
    assert "Sign up" in page.text
    ticket = re.search(r'name="ticket" value="(\d+)"', page.text).group(1)
    review = post(client, f"/events/{meeting.slug}/book", {"ticket": ticket, "action": "quick"})
    assert review.status_code == 200 and "Check your booking" in review.text
    confirm = re.search(r'name="form_key" value="([^"]+)"', review.text).group(1)
    done = post(
        client,
        f"/events/{meeting.slug}/book",
        {
            "form_key": confirm,
            "ticket": ticket,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "action": "confirm",
        },
    )
    assert done.status_code == 303
    mine = client.get("/events/mine")
    assert "National Meeting" in mine.text and "Confirmed" in mine.text
    link = re.search(r'href="(?:http://testserver)?(/events/booking/[^"]+/cancel)\?next=mine"', mine.text)
    assert "Give back my National Meeting place" in mine.text
    confirm = client.get(link.group(1) + "?next=mine")
    assert confirm.status_code == 200 and "nobody is waiting for it; you cannot get it back" in confirm.text
    with database.session() as s:
        assert s.scalar(select(Registration.status)) == "confirmed"
    assert post(client, link.group(1), {"next": "mine"}).headers["location"] == "/events/mine"
    with database.session() as s:
        assert s.scalar(select(Registration.status)) == "cancelled"


def test_the_booking_page_changes_details_and_cancels(client, conference, book, database):
    result = book(conference, 1, answers={conference.questions[0].id: "None"})
    url = f"/events/booking/{result.manage_token}"
    page = client.get(url)
    assert page.status_code == 200 and "Give back my place" in page.text
    saved = post(
        client,
        url,
        {
            "first_name": "Changed",
            "last_name": "Name",
            "email": "changed@example.org",
            f"q{conference.questions[0].id}": "Vegetarian",
        },
    )
    assert saved.status_code == 303
    assert "Changed Name" in client.get(url).text
    assert post(client, url + "/cancel").status_code == 303
    assert "This booking was cancelled" in client.get(url).text


def test_a_booking_page_with_a_wrong_token_is_not_found(client, admin):
    assert client.get("/events/booking/" + "x" * 40).status_code == 404


def test_the_invoice_downloads_as_a_pdf(client, conference, book):
    result = book(conference, 1, answers={conference.questions[0].id: "None"})
    pdf = client.get(f"/events/booking/{result.manage_token}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_an_offer_is_accepted_from_the_booking_page(client, make_event, book, database, clock, links):
    event = make_event(capacity=1)
    first = book(event, 1)
    second = book(event, 2)
    assert "number <strong>1</strong> in line" in client.get(f"/events/booking/{second.manage_token}").text
    post(client, f"/events/booking/{first.manage_token}/cancel")
    page = client.get(f"/events/booking/{second.manage_token}")
    assert "Accept the place" in page.text
    assert post(client, f"/events/booking/{second.manage_token}/accept").status_code == 303
    with database.session() as s:
        assert s.get(Registration, second.registration.id).status == "confirmed"


def test_an_event_page_writes_back_a_lapsed_offer_when_viewed(client, make_event, book, clock, database):
    event = make_event(capacity=1)
    first = book(event, 1)
    second = book(event, 2)
    third = book(event, 3)
    post(client, f"/events/booking/{first.manage_token}/cancel")
    clock.advance(hours=49)
    client.get(f"/events/{event.slug}")
    with database.session() as s:
        assert s.get(Registration, second.registration.id).status == "cancelled"
        assert s.get(Registration, third.registration.id).status == "offered"


def test_my_registrations_needs_a_login(client, admin):
    assert client.get("/events/mine").headers["location"].startswith("/login")


def test_the_home_page_links_to_the_events_for_visitors(client, admin):
    assert 'href="http://testserver/events">See upcoming events' in client.get("/").text


def test_my_account_offers_the_national_meeting_in_one_click_and_lists_my_bookings(
    client, make_event, make_member, member_account, book
):
    meeting = make_event(kind="meeting", members_only=True, title="National Meeting")
    conference = make_event(title="Annual Conference")
    member = make_member()
    member_account(member)
    book(conference, 1, member=member)
    login(client, member.email)
    account = client.get("/me")
    assert account.status_code == 200
    assert "My registrations" in account.text and "Annual Conference" in account.text
    sign_up = re.search(r'action="(?:http://testserver)?/events/([^/"]+)/book"', account.text)
    assert sign_up.group(1) == meeting.slug
    review = post(
        client, f"/events/{meeting.slug}/book", {"ticket": meeting.ticket_types[0].id, "action": "quick"}
    )
    assert "Check your booking" in review.text


def test_things_to_do_asks_to_accept_an_offered_place_before_it_lapses_then_to_pay_what_is_owed(
    client, make_event, make_member, member_account, book, database
):
    paid = make_event(
        title="Annual Conference", tickets=[catalogue.TicketData(name="Non-member", price=24500)]
    )
    small = make_event(title="Skills Day", capacity=1)
    member = make_member()
    member_account(member)
    owed = book(paid, 1, member=member)
    first = book(small, 2)
    book(small, 3, member=member)
    post(client, f"/events/booking/{first.manage_token}/cancel")  # the member is offered the place
    login(client, member.email)
    page = client.get("/me").text
    todo = page[page.index("Things to do") : page.index("My registrations")]
    accept = todo.index("Accept your place at Skills Day")
    pay = todo.index("Pay for Annual Conference")
    assert accept < pay  # the offer lapses in 2 days, the invoice is due in 14
    assert re.search(r"The offer ends \d+ \w+ \d{4}, \d\d:\d\d", todo)
    with database.session(write=False) as s:
        reference = s.get(Registration, owed.registration.id).invoice.reference
    assert "£245.00 due by" in todo and f"reference {reference}" in todo
    form = re.search(r'<form method="post" action="([^"]+)"', todo).group(1)
    assert form.endswith("/accept") and 'name="csrf_token"' in todo
    assert post(client, form).status_code == 303
    after = client.get("/me").text
    assert "Accept your place" not in after and "Pay for Annual Conference" in after


def test_things_to_do_says_when_nothing_is_waiting(client, make_event, make_member, member_account, book):
    member = make_member()
    member_account(member)
    book(make_event(title="Free Day"), 1, member=member)
    login(client, member.email)
    page = client.get("/me").text
    assert "Nothing needs doing now" in page
    assert (
        page.index("Things to do") < page.index("My registrations") < page.index("Change my e-mail address")
    )


@pytest.fixture
def full_workshop(make_event, book, admin, start):
    """A conference with places to spare and a workshop whose 2 seats are taken, 1 person already waiting."""
    event = make_event(
        title="ISIPT Conference",
        capacity=105,
        workshops=[
            catalogue.WorkshopData(
                "IPT-A", start + timedelta(hours=2), start + timedelta(hours=4), capacity=2
            ),
            catalogue.WorkshopData("Group IPT", start + timedelta(hours=5), start + timedelta(hours=6)),
        ],
    )
    for n in (1, 2, 3):
        book(event, n, workshop_ids=(event.workshops[0].id,))
    return event


def test_the_review_says_the_conference_place_is_confirmed_and_the_full_workshop_is_a_waiting_list(
    client, full_workshop
):
    url = f"/events/{full_workshop.slug}/book"
    key = form_key(client.get(url).text)
    filled = {
        "form_key": key,
        "ticket": full_workshop.ticket_types[0].id,
        "first_name": "Wyn",
        "last_name": "Waiting",
        "email": "wyn@example.org",
        "workshops": [str(w.id) for w in full_workshop.workshops],
    }
    details = post(client, url, {**filled, "action": "details"})
    assert "IPT-A, " in details.text and "(full: you would join its waiting list" in details.text
    review = post(client, url, {**filled, "action": "review"})
    assert review.status_code == 200
    assert "Conference place: confirmed." in review.text
    assert "Workshop “IPT-A”: waiting list, number 2." in review.text
    assert "Workshop “Group IPT”: confirmed." in review.text
    assert "The event is full" not in review.text and ">Confirm booking<" in review.text
    confirmed = post(client, url, {**filled, "action": "confirm"})
    page = client.get(confirmed.headers["location"])
    assert (
        "your conference place is confirmed, and you are on the waiting list for &#39;IPT-A&#39;" in page.text
    )
    assert "Conference place: confirmed." in page.text
    assert "Workshop “IPT-A”: waiting list, number 2." in page.text


def test_a_guest_changes_workshops_on_the_booking_page_and_the_freed_seat_is_offered(
    client, full_workshop, database, fresh
):
    ipt_a, group = (w.id for w in full_workshop.workshops)
    with database.session() as s:
        holder = s.scalars(select(Registration).order_by(Registration.id)).first()
        token = manage_token(SECRET.encode(), holder.manage_seed)
    url = f"/events/booking/{token}"
    assert "Change your workshops" in client.get(url).text
    changed = post(client, f"{url}/workshops", {"action": "change", "workshops": [str(group)]})
    assert changed.status_code == 303
    page = client.get(url)
    assert "Workshop “Group IPT”: confirmed." in page.text and "“IPT-A”" not in page.text
    with database.session() as s:
        waiting = s.scalars(select(Registration).order_by(Registration.id)).all()[2]
        offered = s.get(RegistrationWorkshop, (waiting.id, ipt_a))
        assert offered.status == "offered"
        other = manage_token(SECRET.encode(), waiting.manage_seed)
    offer_page = client.get(f"/events/booking/{other}")
    assert "A seat in the workshop “IPT-A” is yours if you accept it by" in offer_page.text
    accepted = post(
        client, f"/events/booking/{other}/workshops", {"action": "accept", "workshop": str(ipt_a)}
    )
    assert accepted.status_code == 303
    assert "Workshop “IPT-A”: confirmed." in client.get(f"/events/booking/{other}").text


def test_a_workshop_change_naming_an_unknown_workshop_is_refused_with_a_message(
    client, full_workshop, database
):
    with database.session() as s:
        holder = s.scalars(select(Registration).order_by(Registration.id)).first()
        token = manage_token(SECRET.encode(), holder.manage_seed)
    refused = post(
        client, f"/events/booking/{token}/workshops", {"action": "change", "workshops": ["999999"]}
    )
    assert refused.status_code == 422 and "Choose workshops from the list." in refused.text
