"""Workshop places apart from the conference place: a full workshop waitlists the workshop only, with its own
line, positions and offers; freed seats go to the next in that workshop's line; delegates change workshops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support import as_sent

from portal.events import catalogue, changes, sales, tasks, waitlist, workshops
from portal.events.models import Event, Registration, RegistrationWorkshop, Workshop
from portal.mail.models import OutboxEmail


@pytest.fixture
def conference(make_event, start):
    """102 conference places; IPT-A has 2 seats, Group IPT plenty, both at different times."""
    return make_event(
        capacity=102,
        workshops=[
            catalogue.WorkshopData(
                "IPT-A", start + timedelta(hours=2), start + timedelta(hours=4), capacity=2
            ),
            catalogue.WorkshopData(
                "Group IPT", start + timedelta(hours=5), start + timedelta(hours=7), capacity=50
            ),
        ],
    )


def ids(event):
    return {w.title: w.id for w in event.workshops}


def entry(database, registration, workshop_id):
    with database.session() as s:
        found = s.get(RegistrationWorkshop, (registration.id, workshop_id))
        return None if found is None else (found.status, workshops.position(s, found))


def emails(database, kind):
    with database.session() as s:
        return [
            (e.to_addr, as_sent(e).text)
            for e in s.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind))
        ]


def change(database, clock, links, registration, workshop_ids):
    with database.session() as s:
        return workshops.change(
            s,
            registration=s.get(Registration, registration.id),
            workshop_ids=workshop_ids,
            now=clock(),
            links=links,
        )


def fill_ipt_a(conference, book):
    ipt_a = ids(conference)["IPT-A"]
    return [book(conference, n, workshop_ids=(ipt_a,)).registration for n in (1, 2)]


def test_a_full_workshop_leaves_the_conference_place_confirmed_and_waitlists_that_workshop(
    conference, book, database, fresh
):
    fill_ipt_a(conference, book)
    ipt_a, group = ids(conference)["IPT-A"], ids(conference)["Group IPT"]
    late = book(conference, 3, workshop_ids=(ipt_a, group)).registration
    assert late.status == "confirmed"
    assert entry(database, late, ipt_a) == ("waitlisted", 1)
    assert entry(database, late, group) == ("confirmed", None)
    assert fresh(Event, conference.id).places_taken == 3
    assert fresh(Workshop, ipt_a).taken == 2
    [(_, body)] = [e for e in emails(database, "events/confirmation") if e[0] == "guest3@example.org"]
    assert "Conference place: confirmed." in body
    assert 'Workshop "IPT-A": waiting list, number 1.' in body
    assert 'Workshop "Group IPT": confirmed.' in body


def test_each_workshop_keeps_its_own_line_in_order_of_arrival(conference, book, database):
    fill_ipt_a(conference, book)
    ipt_a = ids(conference)["IPT-A"]
    waiting = [book(conference, n, workshop_ids=(ipt_a,)).registration for n in (3, 4, 5, 6)]
    assert [entry(database, r, ipt_a) for r in waiting] == [("waitlisted", n) for n in (1, 2, 3, 4)]
    with database.session() as s:
        assert [number for _, number in workshops.line(s, ipt_a)] == [1, 2, 3, 4]
        assert waitlist.waiting_count(s, conference.id) == 0


def test_the_review_predicts_the_conference_place_and_each_workshop(conference, book, database, clock):
    fill_ipt_a(conference, book)
    book(conference, 3, workshop_ids=(ids(conference)["IPT-A"],))
    with database.session() as s:
        checked = sales.check_booking(
            s,
            event=s.get(Event, conference.id),
            booking=sales.Booking(
                ticket_type_id=conference.ticket_types[0].id,
                first_name="Rhys",
                last_name="Review",
                email="rhys@example.org",
                workshop_ids=tuple(ids(conference).values()),
            ),
            member_id=None,
            now=clock(),
        )
    assert checked.outcome == "confirmed"
    assert [(w.workshop.title, w.outcome, w.position) for w in checked.workshop_outcomes] == [
        ("IPT-A", "waitlisted", 2),
        ("Group IPT", "confirmed", None),
    ]


def test_a_cancelled_booking_offers_its_workshop_seat_to_the_next_in_that_workshops_line(
    conference, book, database, clock, links, fresh
):
    holder, _ = fill_ipt_a(conference, book)
    ipt_a = ids(conference)["IPT-A"]
    first, second = (book(conference, n, workshop_ids=(ipt_a,)).registration for n in (3, 4))
    with database.session() as s:
        changes.cancel_by_delegate(s, registration=s.get(Registration, holder.id), now=clock(), links=links)
    assert entry(database, holder, ipt_a) == ("cancelled", None)
    assert entry(database, first, ipt_a) == ("offered", None)
    assert entry(database, second, ipt_a) == ("waitlisted", 1)
    assert fresh(Workshop, ipt_a).taken == 2
    with database.session() as s:
        offered = s.get(RegistrationWorkshop, (first.id, ipt_a))
        assert offered.offer_expires_at == clock() + timedelta(hours=48)
    [(to, body)] = emails(database, "events/workshop_offer")
    assert to == "guest3@example.org" and "IPT-A" in body and "/events/booking/" in body


def test_accepting_a_workshop_offer_confirms_the_seat(conference, book, database, clock, links):
    holder, _ = fill_ipt_a(conference, book)
    ipt_a = ids(conference)["IPT-A"]
    first = book(conference, 3, workshop_ids=(ipt_a,)).registration
    change(database, clock, links, holder, [])
    clock.advance(hours=3)
    with database.session() as s:
        workshops.accept_offer(
            s, registration=s.get(Registration, first.id), workshop_id=ipt_a, now=clock(), links=links
        )
    assert entry(database, first, ipt_a) == ("confirmed", None)


def test_a_lapsed_workshop_offer_passes_to_the_next_with_the_periodic_sweep(
    app, conference, book, database, clock, links, status_of
):
    holder, _ = fill_ipt_a(conference, book)
    ipt_a = ids(conference)["IPT-A"]
    first, second = (book(conference, n, workshop_ids=(ipt_a,)).registration for n in (3, 4))
    change(database, clock, links, holder, [])
    clock.advance(hours=49)
    with database.session() as s:
        with pytest.raises(workshops.WorkshopError) as late:
            workshops.accept_offer(
                s, registration=s.get(Registration, first.id), workshop_id=ipt_a, now=clock(), links=links
            )
        assert late.value.code == "offer_expired"
        s.rollback()
    assert tasks.run_once(app) == 1
    assert entry(database, first, ipt_a) == ("cancelled", None)
    assert entry(database, second, ipt_a) == ("offered", None)
    assert status_of(first) == "confirmed"  # the conference place is not touched
    assert [to for to, _ in emails(database, "events/workshop_offer_lapsed")] == ["guest3@example.org"]


def test_a_delegate_drops_one_workshop_and_adds_another_in_one_change(
    conference, book, database, clock, links, fresh
):
    holder, _ = fill_ipt_a(conference, book)
    ipt_a, group = ids(conference)["IPT-A"], ids(conference)["Group IPT"]
    waiting = book(conference, 3, workshop_ids=(ipt_a,)).registration
    done = change(database, clock, links, holder, [group])
    assert [w.title for w in done.dropped] == ["IPT-A"] and [w.title for w in done.confirmed] == ["Group IPT"]
    assert entry(database, holder, ipt_a) is None
    assert entry(database, holder, group) == ("confirmed", None)
    assert entry(database, waiting, ipt_a) == ("offered", None)
    assert fresh(Workshop, ipt_a).taken == 2 and fresh(Workshop, group).taken == 1
    # Adding the full workshop back joins the end of its line; nothing else changes.
    done = change(database, clock, links, holder, [group, ipt_a])
    assert [w.title for w in done.waitlisted] == ["IPT-A"]
    assert entry(database, holder, ipt_a) == ("waitlisted", 1)
    assert entry(database, holder, group) == ("confirmed", None)


def test_a_change_that_clashes_is_refused_and_changes_nothing(
    conference, book, database, clock, links, start
):
    ipt_a = ids(conference)["IPT-A"]
    holder = book(conference, 1, workshop_ids=(ipt_a,)).registration
    with database.session() as s:
        clash = catalogue.save_workshop(
            s,
            event_id=conference.id,
            data=catalogue.WorkshopData("Clash", start + timedelta(hours=3), start + timedelta(hours=4)),
            actor=None,
            now=clock(),
            links=links,
        )
    with pytest.raises(workshops.WorkshopError) as refused:
        change(database, clock, links, holder, [ipt_a, clash.id])
    assert refused.value.code == "workshop_clash"
    assert entry(database, holder, ipt_a) == ("confirmed", None)


def test_a_workshop_of_another_event_cannot_be_added(
    conference, make_event, book, database, clock, links, start
):
    other = make_event(workshops=[catalogue.WorkshopData("Elsewhere", start, start + timedelta(hours=1))])
    holder = book(conference, 1).registration
    with pytest.raises(workshops.WorkshopError) as refused:
        change(database, clock, links, holder, [other.workshops[0].id])
    assert refused.value.code == "bad_workshop"


def test_a_booking_waiting_for_a_conference_place_gets_its_workshops_when_offered_one(
    make_event, book, database, clock, links, start
):
    event = make_event(
        capacity=1,
        workshops=[catalogue.WorkshopData("IPT-A", start, start + timedelta(hours=1), capacity=1)],
    )
    ipt_a = event.workshops[0].id
    first = book(event, 1, workshop_ids=(ipt_a,)).registration
    second = book(event, 2, workshop_ids=(ipt_a,)).registration
    assert second.status == "waitlisted"
    assert entry(database, second, ipt_a) == ("pending", None)
    with database.session() as s:
        changes.cancel_by_delegate(s, registration=s.get(Registration, first.id), now=clock(), links=links)
    with database.session() as s:
        assert s.get(Registration, second.id).status == "offered"
    assert entry(database, second, ipt_a) == ("confirmed", None)


def test_raising_a_workshops_capacity_offers_the_new_seats_to_its_line(
    conference, book, database, clock, links
):
    fill_ipt_a(conference, book)
    ipt_a = ids(conference)["IPT-A"]
    waiting = book(conference, 3, workshop_ids=(ipt_a,)).registration
    with database.session() as s:
        workshop = s.get(Workshop, ipt_a)
        data = catalogue.WorkshopData(workshop.title, workshop.starts_at, workshop.ends_at, capacity=3)
        catalogue.save_workshop(
            s, event_id=conference.id, data=data, actor=None, now=clock(), links=links, workshop_id=ipt_a
        )
    assert entry(database, waiting, ipt_a) == ("offered", None)
