"""Booking rules without HTTP: capacity, quotas, workshops and clashes, sale windows, member-only tickets,
the student declaration, answers, and the form key that makes a resubmitted form find its first booking."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from support import as_sent

from portal.events import catalogue, changes
from portal.events.errors import EventError
from portal.events.models import Event, Registration, TicketType, Workshop
from portal.mail.models import OutboxEmail
from portal.mail.service import Attachment


def test_a_booking_with_a_free_place_is_confirmed_and_takes_the_place(make_event, book, fresh):
    event = make_event(capacity=2)
    result = book(event)
    assert result.created and result.registration.status == "confirmed"
    assert fresh(Event, event.id).places_taken == 1
    assert fresh(TicketType, event.ticket_types[0].id).taken == 1


def test_the_booking_after_the_last_place_joins_the_waitlist(make_event, book, fresh):
    event = make_event(capacity=1)
    assert book(event, 1).registration.status == "confirmed"
    second = book(event, 2)
    assert second.registration.status == "waitlisted"
    assert fresh(Event, event.id).places_taken == 1


def test_a_full_event_without_a_waitlist_refuses_the_booking(make_event, book, database):
    event = make_event(capacity=1, waitlist_enabled=False)
    book(event, 1)
    with pytest.raises(EventError) as refused:
        book(event, 2)
    assert refused.value.code == "full"
    with database.session() as s:
        assert s.query(Registration).count() == 1


def test_a_ticket_quota_sends_the_next_booking_to_the_waitlist_while_the_event_has_room(
    make_event, book, fresh
):
    event = make_event(capacity=10, tickets=[catalogue.TicketData(name="Early bird", quota=1)])
    book(event, 1)
    assert book(event, 2).registration.status == "waitlisted"
    assert fresh(Event, event.id).places_taken == 1


def test_a_full_workshop_confirms_the_conference_place_and_waitlists_only_the_workshop(
    start, make_event, book, fresh
):
    workshop = catalogue.WorkshopData(
        "Case formulation", start + timedelta(hours=2), start + timedelta(hours=4), capacity=1
    )
    event = make_event(capacity=10, workshops=[workshop])
    workshop_id = event.workshops[0].id
    assert book(event, 1, workshop_ids=(workshop_id,)).registration.status == "confirmed"
    second = book(event, 2, workshop_ids=(workshop_id,)).registration
    assert second.status == "confirmed"
    assert book(event, 3).registration.status == "confirmed"
    assert fresh(Event, event.id).places_taken == 3
    assert fresh(Workshop, workshop_id).taken == 1
    assert [p.status for p in fresh(Registration, second.id).workshop_places] == ["waitlisted"]


def test_a_full_workshop_is_refused_where_the_event_keeps_no_waitlist(start, make_event, book, fresh):
    workshop = catalogue.WorkshopData(
        "Case formulation", start + timedelta(hours=2), start + timedelta(hours=4), capacity=1
    )
    event = make_event(capacity=10, waitlist_enabled=False, workshops=[workshop])
    workshop_id = event.workshops[0].id
    book(event, 1, workshop_ids=(workshop_id,))
    with pytest.raises(EventError) as refused:
        book(event, 2, workshop_ids=(workshop_id,))
    assert refused.value.code == "workshop_full"
    assert fresh(Event, event.id).places_taken == 1


def test_two_workshops_at_overlapping_times_are_refused(start, make_event, book):
    event = make_event(
        workshops=[
            catalogue.WorkshopData("Morning A", start + timedelta(hours=1), start + timedelta(hours=3)),
            catalogue.WorkshopData("Morning B", start + timedelta(hours=2), start + timedelta(hours=4)),
            catalogue.WorkshopData("Afternoon", start + timedelta(hours=5), start + timedelta(hours=7)),
        ]
    )
    a, b, afternoon = (w.id for w in event.workshops)
    with pytest.raises(EventError) as refused:
        book(event, workshop_ids=(a, b))
    assert refused.value.code == "workshop_clash"
    assert book(event, 2, workshop_ids=(a, afternoon)).registration.status == "confirmed"


def test_workshops_that_touch_end_to_start_do_not_clash(start, make_event, book):
    event = make_event(
        workshops=[
            catalogue.WorkshopData("First", start + timedelta(hours=1), start + timedelta(hours=2)),
            catalogue.WorkshopData("Second", start + timedelta(hours=2), start + timedelta(hours=3)),
        ]
    )
    ids = tuple(w.id for w in event.workshops)
    assert book(event, workshop_ids=ids).registration.status == "confirmed"


def test_a_workshop_of_another_event_cannot_be_chosen(start, make_event, book):
    other = make_event(workshops=[catalogue.WorkshopData("Elsewhere", start, start + timedelta(hours=1))])
    event = make_event()
    with pytest.raises(EventError) as refused:
        book(event, workshop_ids=(other.workshops[0].id,))
    assert refused.value.code == "bad_workshop"


def test_an_early_bird_ticket_cannot_be_booked_after_its_sale_ends(make_event, book, clock):
    early = catalogue.TicketData(name="Early bird", price=9000, sale_ends_at=clock() + timedelta(days=1))
    event = make_event(tickets=[early, catalogue.TicketData(name="Standard", price=12000)])
    clock.advance(days=2)
    with pytest.raises(EventError) as refused:
        book(event, ticket_type_id=event.ticket_types[0].id)
    assert refused.value.code == "not_on_sale"
    assert book(event, ticket_type_id=event.ticket_types[1].id).registration.amount_due == 12000


def test_a_ticket_cannot_be_booked_before_its_sale_starts(make_event, book, clock):
    later = catalogue.TicketData(name="Day ticket", sale_starts_at=clock() + timedelta(days=3))
    event = make_event(tickets=[later])
    with pytest.raises(EventError) as refused:
        book(event)
    assert refused.value.code == "not_on_sale"


def test_registration_is_refused_before_it_opens_and_after_it_closes(make_event, book, clock):
    event = make_event(registration_opens_at=clock() + timedelta(hours=1))
    with pytest.raises(EventError) as early:
        book(event)
    assert early.value.code == "not_open"
    closed = make_event(registration_closes_at=clock() - timedelta(minutes=1))
    with pytest.raises(EventError) as late:
        book(closed)
    assert late.value.code == "closed"


def test_a_draft_event_cannot_be_booked(make_event, book):
    event = make_event(status="draft")
    with pytest.raises(EventError) as refused:
        book(event)
    assert refused.value.code == "not_found"


def test_a_member_ticket_needs_an_active_member(make_event, make_member, book):
    event = make_event(tickets=[catalogue.TicketData(name="Member", price=5000, member_only=True)])
    with pytest.raises(EventError) as guest:
        book(event, 1)
    assert guest.value.code == "member_only_ticket"
    lapsed = make_member(status="lapsed")
    with pytest.raises(EventError) as not_current:
        book(event, 2, member=lapsed)
    assert not_current.value.code == "member_only_ticket"
    member = make_member()
    registration = book(event, 3, member=member).registration
    assert registration.status == "confirmed" and registration.member_id == member.id


def test_a_members_only_event_refuses_guests(make_event, book):
    event = make_event(members_only=True)
    with pytest.raises(EventError) as refused:
        book(event)
    assert refused.value.code == "members_only"


def test_a_student_ticket_needs_the_declaration(make_event, book, fresh):
    event = make_event(tickets=[catalogue.TicketData(name="Student", price=2500, student=True)])
    with pytest.raises(EventError) as refused:
        book(event, 1)
    assert refused.value.code == "student_declaration"
    result = book(event, 2, student_declared=True)
    assert fresh(Registration, result.registration.id).student_declared is True


def test_required_answers_and_allowed_options_are_checked(make_event, book):
    event = make_event(
        questions=[
            catalogue.QuestionData(
                "Dietary needs",
                kind="single_choice",
                required=True,
                options="None\nVegetarian\nVegan",
                purpose="dietary",
            ),
            catalogue.QuestionData("Pronouns", kind="short_text"),
        ]
    )
    diet, pronouns = (q.id for q in event.questions)
    with pytest.raises(EventError) as missing:
        book(event, 1)
    assert missing.value.code == "invalid_answers"
    assert set(missing.value.details["errors"]) == {f"q{diet}"}
    with pytest.raises(EventError) as made_up:
        book(event, 2, answers={diet: "Carnivore"})
    assert made_up.value.code == "invalid_answers"
    result = book(event, 3, answers={diet: "Vegan", pronouns: "she/her"})
    assert result.registration.status == "confirmed"


def test_a_multiple_choice_answer_is_stored_one_option_a_line(make_event, book, fresh):
    event = make_event(
        questions=[
            catalogue.QuestionData("Access", kind="multiple_choice", options="Step-free\nHearing loop\nBSL")
        ]
    )
    question = event.questions[0].id
    result = book(event, answers={question: ["Step-free", "BSL"]})
    stored = fresh(Registration, result.registration.id).answers[0]
    assert stored.values == ["Step-free", "BSL"]


def test_the_same_form_key_twice_gives_the_first_booking_not_a_second(make_event, book, database):
    event = make_event(capacity=5)
    first = book(event, 1, form_key="the-same-key")
    again = book(event, 1, form_key="the-same-key")
    assert first.created and not again.created
    assert again.registration.id == first.registration.id
    assert again.manage_token == first.manage_token
    with database.session() as s:
        assert s.query(Registration).count() == 1
        assert s.get(Event, event.id).places_taken == 1


def test_a_member_holds_one_place_per_event(make_event, make_member, book):
    event = make_event()
    member = make_member()
    book(event, 1, member=member)
    with pytest.raises(EventError) as refused:
        book(event, 2, member=member)
    assert refused.value.code == "already_booked"


def test_a_confirmed_booking_e_mails_a_confirmation_with_the_calendar_file(make_event, book, database, app):
    event = make_event()
    result = book(event, 7)
    with database.session() as s:
        email = s.query(OutboxEmail).one()
        assert email.to_addr == "guest7@example.org"
        assert email.kind == "events/confirmation"
        assert event.title in email.subject
        sent = as_sent(email, session=s, sources=app.state.hooks.attachments)
        assert result.manage_token in sent.text
        [ics] = [i for i, a in enumerate(email.attachments) if a.filename == "event.ics"]
        calendar = sent.attachments[ics].decode()
        assert "BEGIN:VEVENT" in calendar and "DTSTART:20270312T090000Z" in calendar


def test_the_manage_link_finds_the_booking_and_a_wrong_one_does_not(make_event, book, database, links):
    event = make_event()
    result = book(event)
    with database.session() as s:
        assert changes.find_by_token(s, token=result.manage_token, key=links.key).id == result.registration.id
        with pytest.raises(EventError) as wrong:
            # Change the last character (to one it is not: a token ending in "0" stays itself otherwise).
            other = "1" if result.manage_token.endswith("0") else "0"
            changes.find_by_token(s, token=result.manage_token[:-1] + other, key=links.key)
        assert wrong.value.code == "not_found"
        stored = s.get(Registration, result.registration.id)
        assert result.manage_token not in (
            stored.manage_token_digest,
            stored.idempotency_key,
            stored.manage_seed,
        )


def test_event_state_follows_the_clock_and_the_places(make_event, book, clock):
    event = make_event(capacity=1, registration_opens_at=clock() + timedelta(hours=1))
    assert catalogue.event_state(event, clock()) == "not_open"
    clock.advance(hours=2)
    assert catalogue.event_state(event, clock()) == "open"
    book(event)
    event.places_taken = 1
    assert catalogue.event_state(event, clock()) == "full_waitlist"
    assert catalogue.event_state(event, event.registration_closes_at) == "closed"


def test_confirmation_extras_add_their_context_and_attachments_to_the_e_mail(
    make_event, book, database, links
):
    def badge(session, registration):
        return {"notes": [f"Badge serial {registration.badge_serial}"]}, [
            Attachment("extra.txt", "text/plain", b"x")
        ]

    book(make_event(), with_links=dataclasses.replace(links, extras=(badge,)))
    with database.session() as s:
        email = s.query(OutboxEmail).one()
        assert "Badge serial 1" in email.text_body
        assert "extra.txt" in {a.filename for a in email.attachments}
