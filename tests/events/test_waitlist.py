"""The waitlist: order of arrival, offers when a place frees up, deadlines, lapsed offers passing on, staff
promotion, and the delegate's own cancellation with its cut-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support import held_connections, login

from portal.accounts.models import Account
from portal.events import catalogue, changes, waitlist
from portal.events.errors import EventError
from portal.events.models import Event, Registration
from portal.mail.models import OutboxEmail


def emails(database, kind):
    with database.session() as s:
        return [
            (e.to_addr, e.text_body)
            for e in s.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id))
        ]


def cancel(database, clock, links, registration):
    with database.session() as s:
        return changes.cancel_by_delegate(
            s, registration=s.get(Registration, registration.id), now=clock(), links=links
        )


def test_people_wait_in_the_order_they_booked(make_event, book, database):
    event = make_event(capacity=1)
    book(event, 0)
    waiting = [book(event, n).registration for n in (1, 2, 3)]
    with database.session() as s:
        assert [waitlist.position(s, s.get(Registration, r.id)) for r in waiting] == [1, 2, 3]


def test_a_cancelled_place_is_offered_to_the_first_person_waiting(
    make_event, book, database, clock, links, status_of
):
    event = make_event(capacity=1)
    first = book(event, 0).registration
    second = book(event, 1).registration
    third = book(event, 2).registration
    cancel(database, clock, links, first)
    assert status_of(first) == "cancelled"
    assert status_of(second) == "offered"
    assert status_of(third) == "waitlisted"
    with database.session() as s:
        assert s.get(Event, event.id).places_taken == 1
        offered = s.get(Registration, second.id)
        assert offered.offer_expires_at == clock() + timedelta(hours=48)
    [(to, body)] = emails(database, "events/offer")
    assert to == "guest1@example.org"
    assert "accept" in body.lower()


def test_leaving_the_waitlist_moves_the_others_up(make_event, book, database, clock, links):
    event = make_event(capacity=1)
    book(event, 0)
    leaving = book(event, 1).registration
    staying = book(event, 2).registration
    cancel(database, clock, links, leaving)
    with database.session() as s:
        assert waitlist.position(s, s.get(Registration, staying.id)) == 1
        assert s.get(Event, event.id).places_taken == 1


def test_an_accepted_offer_becomes_a_confirmed_booking(make_event, book, database, clock, links, status_of):
    event = make_event(capacity=1)
    first = book(event, 0).registration
    second = book(event, 1).registration
    cancel(database, clock, links, first)
    clock.advance(hours=3)
    with database.session() as s:
        changes.accept_offer(s, registration=s.get(Registration, second.id), now=clock(), links=links)
    assert status_of(second) == "confirmed"
    assert [to for to, _ in emails(database, "events/confirmation")] == [
        "guest0@example.org",
        "guest1@example.org",
    ]


def test_an_offer_not_taken_in_time_passes_to_the_next_person(
    make_event, book, database, clock, links, status_of
):
    event = make_event(capacity=1, offer_hours=24)
    first = book(event, 0).registration
    second = book(event, 1).registration
    third = book(event, 2).registration
    cancel(database, clock, links, first)
    clock.advance(hours=24, seconds=1)
    with database.session() as s:
        lapsed = waitlist.expire_offers(s, now=clock(), links=links)
    assert [r.id for r in lapsed] == [second.id]
    assert status_of(second) == "cancelled"
    assert status_of(third) == "offered"
    assert [to for to, _ in emails(database, "events/offer_lapsed")] == ["guest1@example.org"]
    with database.session() as s:
        assert s.get(Event, event.id).places_taken == 1


def test_accepting_after_the_deadline_is_refused_and_the_place_moves_on(
    make_event, book, database, clock, links, status_of
):
    event = make_event(capacity=1)
    first = book(event, 0).registration
    late = book(event, 1).registration
    next_in_line = book(event, 2).registration
    cancel(database, clock, links, first)
    clock.advance(hours=49)
    with database.session() as s, pytest.raises(EventError) as refused:
        changes.accept_offer(s, registration=s.get(Registration, late.id), now=clock(), links=links)
    assert refused.value.code == "offer_expired"
    assert status_of(late) == "cancelled"
    assert status_of(next_in_line) == "offered"


def test_an_offer_is_lapsed_from_the_clock_before_anything_writes_it_back(
    make_event, book, database, clock, links
):
    event = make_event(capacity=1)
    first = book(event, 0).registration
    second = book(event, 1).registration
    cancel(database, clock, links, first)
    with database.session() as s:
        offered = s.get(Registration, second.id)
        assert waitlist.offer_is_live(offered, clock())
        assert not waitlist.offer_is_live(offered, clock() + timedelta(hours=48))


def test_a_new_booking_writes_back_lapsed_offers_before_taking_a_place(
    make_event, book, clock, links, database, status_of
):
    event = make_event(capacity=1)
    first = book(event, 0).registration
    lapsing = book(event, 1).registration
    cancel(database, clock, links, first)
    clock.advance(hours=50)
    newcomer = book(event, 2).registration
    assert status_of(lapsing) == "cancelled"
    # Nobody else was waiting, so the freed place went to the newcomer.
    assert status_of(newcomer) == "confirmed"


def test_raising_the_capacity_offers_the_new_places_in_order(
    make_event, book, database, clock, links, status_of
):
    event = make_event(capacity=1)
    book(event, 0)
    waiting = [book(event, n).registration for n in (1, 2, 3)]
    with database.session() as s:
        current = s.get(Event, event.id)
        data = catalogue.EventData(
            **{k: getattr(current, k) for k in catalogue.EventData.__dataclass_fields__} | {"capacity": 3}
        )
        catalogue.update_event(s, event_id=event.id, data=data, actor=None, now=clock(), links=links)
    assert [status_of(r) for r in waiting] == ["offered", "offered", "waitlisted"]


def test_staff_can_offer_a_place_to_anyone_waiting_even_over_capacity(
    make_event, book, database, clock, links, admin, status_of
):
    event = make_event(capacity=1)
    book(event, 0)
    book(event, 1)
    chosen = book(event, 2).registration
    with database.session() as s:
        actor = s.get(Account, admin.id)
        with pytest.raises(waitlist.WaitlistError) as full:
            waitlist.promote(
                s, registration_id=chosen.id, actor=actor, over_capacity=False, now=clock(), links=links
            )
        assert full.value.code == "no_place"
    with database.session() as s:
        actor = s.get(Account, admin.id)
        waitlist.promote(
            s, registration_id=chosen.id, actor=actor, over_capacity=True, now=clock(), links=links
        )
    assert status_of(chosen) == "offered"
    with database.session() as s:
        assert s.get(Event, event.id).places_taken == 2


def test_a_delegate_cannot_cancel_after_the_cut_off(make_event, book, database, clock, links, status_of):
    event = make_event(cancellation_cutoff=clock() + timedelta(days=1))
    registration = book(event).registration
    clock.advance(days=1)
    with database.session() as s, pytest.raises(EventError) as refused:
        changes.cancel_by_delegate(
            s, registration=s.get(Registration, registration.id), now=clock(), links=links
        )
    assert refused.value.code == "past_cutoff"
    assert status_of(registration) == "confirmed"


def test_a_delegate_can_cancel_before_the_cut_off_and_is_e_mailed(
    make_event, book, database, clock, links, status_of
):
    event = make_event(cancellation_cutoff=clock() + timedelta(days=1))
    registration = book(event).registration
    cancel(database, clock, links, registration)
    assert status_of(registration) == "cancelled"
    assert [to for to, _ in emails(database, "events/cancelled")] == ["guest0@example.org"]
    with database.session() as s:
        assert s.get(Event, event.id).places_taken == 0


def test_cancelling_twice_is_refused(make_event, book, database, clock, links):
    event = make_event()
    registration = book(event).registration
    cancel(database, clock, links, registration)
    with pytest.raises(EventError) as again:
        cancel(database, clock, links, registration)
    assert again.value.code == "already_cancelled"


def test_a_national_meeting_gives_each_member_one_place_and_a_given_back_place_goes_to_the_next(
    make_event, make_member, book, database, clock, links, status_of
):
    meeting = make_event(kind="meeting", members_only=True, capacity=1, title="National Meeting 2027")
    ann, bob = make_member(first_name="Ann"), make_member(first_name="Bob")
    ann_place = book(meeting, 1, member=ann).registration
    with pytest.raises(EventError) as twice:
        book(meeting, 2, member=ann)
    assert twice.value.code == "already_booked"
    bob_place = book(meeting, 3, member=bob).registration
    assert status_of(bob_place) == "waitlisted"
    cancel(database, clock, links, ann_place)
    assert status_of(bob_place) == "offered"
    # Having given it back, Ann may sign up again: she joins the waitlist behind nobody, as the place is Bob's.
    assert book(meeting, 4, member=ann).registration.status == "waitlisted"


def test_the_offer_sweep_passes_every_lapsed_offer_on(make_event, book, database, clock, links, status_of):
    one, two = make_event(capacity=1), make_event(capacity=1)
    for event in (one, two):
        first = book(event, 0).registration
        book(event, 1)
        cancel(database, clock, links, first)
    clock.advance(days=3)
    with database.session() as s:
        assert len(waitlist.expire_offers(s, now=clock(), links=links)) == 2
    with database.session() as s:
        assert s.scalar(select(Registration).where(Registration.status == "offered")) is None


@pytest.mark.parametrize("page", ["event", "booking", "dashboard", "mine"])
def test_a_page_view_writes_back_lapsed_offers_first_with_one_connection_at_a_time(
    make_event, book, database, clock, links, status_of, client, page
):
    event = make_event(capacity=1, offer_hours=24)
    first = book(event, 0).registration
    lapsing = book(event, 1)
    third = book(event, 2).registration
    cancel(database, clock, links, first)
    clock.advance(hours=24, seconds=1)
    if page in ("dashboard", "mine"):
        login(client, "admin@example.org")
    url = {
        "event": f"/events/{event.slug}",
        "booking": f"/events/booking/{lapsing.manage_token}",
        "dashboard": f"/events/manage/{event.id}",
        "mine": "/events/mine",
    }[page]
    with held_connections(database) as pool:
        shown = client.get(url)
    assert shown.status_code == 200
    # The sweep is the page's catch-up, in a transaction of its own before the page's: never beside it.
    assert pool.peak == 1
    assert status_of(lapsing.registration) == "cancelled"
    assert status_of(third) == "offered"
    assert [to for to, _ in emails(database, "events/offer_lapsed")] == ["guest1@example.org"]
