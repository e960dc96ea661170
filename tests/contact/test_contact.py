"""Contact us reaches a person: the message is stored with a reference, the topic's inbox is told, the sender is
acknowledged; what only automated senders do is refused with a reason; the office works the enquiry and replies
through the outbox. Both engines."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from support import csrf_token, post

from portal.audit import AuditEvent
from portal.contact import service
from portal.contact.models import Enquiry, EnquiryEntry
from portal.mail.models import OutboxEmail


def _enquiries(database) -> list[Enquiry]:
    with database.session() as s:
        return list(s.scalars(select(Enquiry).order_by(Enquiry.id)))


def _outbox(database) -> list[OutboxEmail]:
    with database.session() as s:
        return list(s.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_a_message_gets_a_reference_reaches_the_inbox_and_is_acknowledged(
    send_message, client, database, sender, smtp, clock
):
    response = send_message()
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/contact/sent"
    [enquiry] = _enquiries(database)
    assert enquiry.reference == f"E-2026-{enquiry.id:05d}"
    assert (enquiry.topic, enquiry.name, enquiry.email, enquiry.status) == (
        "membership",
        "Sam Sender",
        "sam@example.org",
        "new",
    )
    assert "testclient" not in enquiry.client_digest and len(enquiry.client_digest) == 64
    page = client.get(response.headers["location"])
    assert enquiry.reference in page.text and "Your message is sent" in page.text
    # A made-up reference in the address is not echoed back as if it were ours.
    forged = client.get("/contact/sent?ref=E-2026-99999&sig=" + parse_qs(target.query)["sig"][0])
    assert "E-2026-99999" not in forged.text
    sender.run_once()
    messages = {m["To"]: m for m in smtp.wait_for(2)}
    inbox = messages["office@ipt.example"]
    assert inbox["Subject"] == f"New enquiry {enquiry.reference}: Membership"
    body = inbox.get_body(("plain",)).get_content()
    assert "How do I join as an associate member?" in body
    assert f"http://testserver/contact/enquiries/{enquiry.id}" in body
    ack = messages["sam@example.org"]
    assert ack["Subject"] == f"We have your message ({enquiry.reference})"
    ack_body = ack.get_body(("plain",)).get_content()
    assert "Dear Sam Sender" in ack_body and enquiry.reference in ack_body
    # The acknowledgement never repeats what was written: the form cannot relay a stranger's text.
    assert "associate member" not in ack_body


def test_a_topic_with_its_own_inbox_goes_there(send_message, client, database, office_login):
    office_login()
    assert post(client, "/contact/enquiries/inboxes", {"elections": "ro@ipt.example"}).status_code == 303
    client.cookies.clear()
    send_message(topic="elections")
    send_message(topic="website")
    sent_to = [(e.to_addr, e.kind) for e in _outbox(database) if e.kind == "contact/new_enquiry"]
    assert sent_to == [
        ("ro@ipt.example", "contact/new_enquiry"),
        ("office@ipt.example", "contact/new_enquiry"),
    ]


def test_the_form_says_what_is_wrong_beside_each_field_and_keeps_what_was_typed(send_message, database):
    response = send_message(topic="", name="", email="not an address", message="x" * 5001)
    assert response.status_code == 422
    text = response.text
    assert "There are 4 problems" in text
    assert "Choose what your message is about." in text
    assert "Enter your name." in text
    assert "Enter an e-mail address like name@example.org." in text
    assert "Your message must be at most 5000 characters." in text
    assert "not an address" in text
    assert _enquiries(database) == []


def test_a_filled_honeypot_is_refused_with_the_reason(send_message, database):
    response = send_message(website="http://spam.example")
    assert response.status_code == 422
    assert "Your message was not sent" in response.text
    assert "leave this empty" in response.text
    assert "How do I join as an associate member?" in response.text  # kept for the person to send again
    assert _enquiries(database) == [] and _outbox(database) == []


def test_a_message_sent_within_seconds_of_the_form_opening_is_refused(send_message, database):
    response = send_message(wait=1)
    assert response.status_code == 422
    assert "within seconds of the form opening" in response.text
    assert _enquiries(database) == []


def test_a_forged_or_stale_opening_time_is_refused_and_the_form_renewed(
    send_message, client, clock, database
):
    forged = send_message(started=f"{int(clock().timestamp()) - 3600}.0000")
    assert forged.status_code == 422 and "too long ago to be checked" in forged.text
    stale = send_message(wait=timedelta(days=1, seconds=5).total_seconds())
    assert stale.status_code == 422 and "too long ago to be checked" in stale.text
    assert _enquiries(database) == []


def test_one_network_may_send_five_an_hour_and_the_sixth_is_told_when_to_try_again(
    send_message, database, clock
):
    for n in range(5):
        assert send_message(email=f"p{n}@example.org").status_code == 303
    refused = send_message(email="p5@example.org")
    assert refused.status_code == 429
    assert "5 messages have been sent from your network in the last hour" in refused.text
    assert len(_enquiries(database)) == 5
    clock.advance(hours=1)
    assert send_message(email="p5@example.org").status_code == 303


def test_a_stranger_cannot_flood_an_inbox_nor_silence_its_owner(send_message, client, database, clock):
    """Acknowledgements to one address stop after three a day, yet every message still reaches the office:
    sending in someone else's name neither floods their inbox nor stops them from writing."""
    for n in range(4):
        assert send_message(email="victim@example.org", name=f"Stranger {n}").status_code == 303
        clock.advance(hours=1)  # past the per-network limit
    acks = [e for e in _outbox(database) if e.kind == "contact/acknowledgement"]
    assert len(acks) == 3
    assert [e.acknowledged for e in _enquiries(database)] == [True, True, True, False]
    assert len([e for e in _outbox(database) if e.kind == "contact/new_enquiry"]) == 4


def test_the_office_assigns_notes_replies_and_closes(
    send_message, client, database, office_login, office, clock
):
    send_message()
    [enquiry] = _enquiries(database)
    office_login()
    listing = client.get("/contact/enquiries")
    assert enquiry.reference in listing.text and "Sam Sender" in listing.text
    page = f"/contact/enquiries/{enquiry.id}"
    assert (
        post(client, f"{page}/update", {"status": "in_hand", "assignee": str(office.id)}).status_code == 303
    )
    assert post(client, f"{page}/note", {"note": "Check the associate rules."}).status_code == 303
    assert (
        post(client, f"{page}/reply", {"reply": "Associates join online: see Membership."}).status_code == 303
    )
    shown = client.get(page).text
    assert "Check the associate rules." in shown and "Reply e-mailed" in shown and "Owen Office" in shown
    reply = [e for e in _outbox(database) if e.kind == "contact/reply"]
    assert [(e.to_addr, e.subject) for e in reply] == [
        ("sam@example.org", f"Re: your message to IPT UK ({enquiry.reference})")
    ]
    assert "Associates join online" in reply[0].text_body
    assert "Check the associate rules." not in reply[0].text_body
    with database.session() as s:
        found = s.get(Enquiry, enquiry.id)
        assert (found.status, found.assignee_id) == ("answered", office.id)
        actions = list(
            s.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("contact.%")).order_by(AuditEvent.id)
            )
        )
        assert actions == ["contact.update", "contact.note", "contact.reply"]
        assert s.scalar(select(func.count()).select_from(EnquiryEntry)) == 2
    assert post(client, f"{page}/update", {"status": "closed", "assignee": ""}).status_code == 303
    refused = post(client, f"{page}/reply", {"reply": "One more thing"})
    assert refused.status_code == 422 and "This enquiry is closed" in refused.text
    assert len([e for e in _outbox(database) if e.kind == "contact/reply"]) == 1


def test_an_empty_reply_or_a_stranger_as_assignee_is_refused_beside_the_field(
    send_message, client, database, office_login
):
    send_message()
    [enquiry] = _enquiries(database)
    office_login()
    page = f"/contact/enquiries/{enquiry.id}"
    empty = post(client, f"{page}/reply", {"reply": "  "})
    assert empty.status_code == 422 and "Enter your reply." in empty.text
    nobody = post(client, f"{page}/update", {"status": "in_hand", "assignee": "999"})
    assert nobody.status_code == 422 and "Choose a member of staff from the list." in nobody.text
    with database.session() as s:
        assert s.get(Enquiry, enquiry.id).status == "new"


def test_a_member_or_a_visitor_cannot_read_the_enquiries(send_message, client, database):
    send_message()
    [enquiry] = _enquiries(database)
    for path in ("/contact/enquiries", f"/contact/enquiries/{enquiry.id}"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = client.post(
        f"/contact/enquiries/{enquiry.id}/reply", data={"csrf_token": csrf_token(client), "reply": "hi"}
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_closed_enquiries_are_purged_after_their_retention_and_open_ones_kept(send_message, database, clock):
    send_message()
    send_message(email="other@example.org")
    first, second = _enquiries(database)
    with database.session() as s:
        s.get(Enquiry, first.id).status = "closed"
        s.get(Enquiry, first.id).closed_at = clock()
    with database.session() as s:
        assert service.purge(s, now=clock() + timedelta(days=729), keep_closed=timedelta(days=730)) == {
            "enquiries": 0
        }
        assert service.purge(s, now=clock() + timedelta(days=731), keep_closed=timedelta(days=730)) == {
            "enquiries": 1
        }
    assert [e.id for e in _enquiries(database)] == [second.id]
