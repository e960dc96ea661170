"""Booking e-mails carry the delegate's booking-management link (and the confirmation's calendar file carries
it too): stored nowhere readable, hidden from office staff, delivered working, scrubbed once sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from support import check_sealed_link_mail, login, make_account, stored_anywhere

from portal.accounts.models import Account
from portal.events import bulk, changes
from portal.events.models import Registration
from portal.mail.models import OutboxAttachment
from portal.mail.sealing import ATTACHMENT_PLACEHOLDER


@pytest.fixture
def office(app, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    with TestClient(app, follow_redirects=False) as other:
        login(other, "office@example.org")
        yield other


def test_a_confirmation_and_its_calendar_file_keep_the_manage_link_sealed(
    make_event, book, client, office, database, settings, clock
):
    result = book(make_event(), 7)
    with database.session(write=False) as s:
        ics = s.scalar(select(OutboxAttachment).where(OutboxAttachment.filename == "event.ics"))
        # Drawn only to be sent (it carries the link): the row keeps the note and what to draw it from.
        assert ics.content == ATTACHMENT_PLACEHOLDER
        assert (ics.source, ics.source_id) == ("calendar", result.registration.id)
    path = check_sealed_link_mail(
        database, settings, clock, office, kind="events/confirmation", to="guest7@example.org"
    )
    assert result.manage_token in path
    assert client.get(path).status_code == 200


def test_the_waitlist_and_offer_emails_keep_the_manage_link_sealed(
    make_event, book, client, office, database, settings, clock, links
):
    event = make_event(capacity=1)
    first = book(event, 0).registration
    book(event, 1)
    waiting = check_sealed_link_mail(
        database, settings, clock, office, kind="events/waitlisted", to="guest1@example.org"
    )
    with database.session() as s:
        changes.cancel_by_delegate(s, registration=s.get(Registration, first.id), now=clock(), links=links)
    offer = check_sealed_link_mail(
        database, settings, clock, office, kind="events/offer", to="guest1@example.org"
    )
    assert offer == waiting and client.get(offer).status_code == 200


def test_a_message_from_the_office_keeps_each_delegates_manage_link_sealed(
    make_event, book, client, office, database, settings, clock, links
):
    event = make_event()
    book(event, 3)
    with database.session() as s:
        actor = s.scalar(select(Account).where(Account.email == "admin@example.org"))
        bulk.email_delegates(
            s,
            event_id=event.id,
            audience="all",
            subject="Venue change",
            body="We meet in the main hall.",
            actor=actor,
            now=clock(),
            links=links,
        )
    path = check_sealed_link_mail(
        database, settings, clock, office, kind="events/message", to="guest3@example.org"
    )
    assert client.get(path).status_code == 200
    assert stored_anywhere(database, "http://testserver" + path) == []
