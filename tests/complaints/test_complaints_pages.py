"""The complaints pages: the public form (its checks, spam defences and uploads), the cases only the complaints
role reads, the steps of a case, the member's page, and the e-mails arriving through a real SMTP server."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from support import csrf_token, post, smtp_server

from portal.complaints import service
from portal.complaints.models import Complaint, ComplaintDocument, ComplaintEntry
from portal.mail.models import OutboxEmail
from portal.mail.sender import Sender
from portal.members.models import Member

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _count(database, model) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _send(client: TestClient, data: dict, files: dict | None = None):
    body = {**data, "csrf_token": csrf_token(client)}
    return client.post("/complaints", data=body, files=files)


# --- the public page and form ---------------------------------------------------------------------------------


def test_the_public_page_shows_the_procedure_and_the_form(client, admin):
    page = client.get("/complaints")
    assert page.status_code == 200
    assert "We acknowledge it" in page.text and "within 5 working days" in page.text
    assert 'name="started"' in page.text and 'name="website"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "Edit the procedure" not in page.text


def test_a_complaint_sent_gets_its_reference_and_an_acknowledgement(client, admin, database, fill):
    response = _send(client, fill())
    assert response.status_code == 303 and response.headers["location"] == "/complaints/thanks"
    thanks = client.get("/complaints/thanks")
    assert "Your complaint has been received. Its reference is C-2026-0001." in thanks.text
    with database.session(write=False) as session:
        complaint = session.scalars(select(Complaint)).one()
        assert (complaint.about, complaint.subject_name, complaint.complainant_phone) == (
            "member",
            "Dr Pat Example",
            "020 7946 0000",
        )
        emails = list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        assert [(e.kind, e.to_addr) for e in emails] == [
            ("complaints/received", "chris@example.org"),
            ("complaints/new_case", "admin@example.org"),  # while nobody has the complaints role
        ]
        assert "C-2026-0001" in emails[0].subject
        staff = emails[1]
        assert f"http://testserver/complaints/cases/{complaint.id}" in staff.text_body
        assert "cancelled" not in staff.text_body and "Chris" not in staff.text_body


def test_missing_and_bad_fields_each_get_their_message(client, admin, database, fill):
    response = _send(
        client,
        fill(
            about="",
            name="",
            email="not an address",
            what_happened="",
            happened_when="",
            outcome_sought="",
            phone="call me",
        ),
    )
    assert response.status_code == 422
    for message in (
        "Choose what the complaint is about.",
        "Enter your name.",
        "Enter an e-mail address like name@example.org.",
        "Enter what happened.",
        "Enter when it happened.",
        "Enter the outcome you are seeking.",
        "Enter a phone number in digits",
    ):
        assert message in response.text
    assert 'value="call me"' in response.text  # what was typed is kept
    named = _send(client, fill(about="course", subject_name=""))
    assert named.status_code == 422 and "Enter the name of the course." in named.text
    assert _count(database, Complaint) == 0


def test_a_complaint_about_the_society_needs_no_name(client, admin, database, fill):
    assert _send(client, fill(about="society", subject_name="")).status_code == 303
    assert _count(database, Complaint) == 1


def test_the_honeypot_field_filled_in_refuses_the_form(client, admin, database, fill):
    response = _send(client, fill(website="http://spam.example"))
    assert response.status_code == 422 and "Leave this empty" in response.text
    assert _count(database, Complaint) == 0 and _count(database, OutboxEmail) == 0


def test_a_form_sent_within_seconds_of_being_shown_is_refused(client, admin, database, fill, key, clock):
    response = _send(client, fill(started=service.form_stamp(key, clock() - timedelta(seconds=1))))
    assert response.status_code == 422 and "too quickly" in response.text
    assert _send(client, fill(started="12345.forged")).status_code == 422
    assert _count(database, Complaint) == 0


def test_the_page_gives_a_stamp_that_works_once_a_person_has_taken_their_time(client, admin, clock, fill):
    page = client.get("/complaints")
    stamp = re.search(r'name="started" value="([^"]+)"', page.text).group(1)
    clock.advance(seconds=90)
    assert _send(client, fill(started=stamp)).status_code == 303


def test_one_connection_may_send_three_complaints_an_hour(client, admin, database, fill, clock):
    for n in range(3):
        assert _send(client, fill(email=f"p{n}@example.org")).status_code == 303
    refused = _send(client, fill(email="p4@example.org"))
    assert refused.status_code == 429 and "Please wait an hour" in refused.text
    assert 'value="p4@example.org"' in refused.text
    assert _count(database, Complaint) == 3
    clock.advance(hours=1, minutes=1)
    assert _send(client, fill(email="p4@example.org")).status_code == 303


# --- documents ------------------------------------------------------------------------------------------------


def test_up_to_three_documents_are_kept_with_the_complaint(client, admin, database, fill):
    files = {
        "document_1": ("letter.pdf", PDF, "application/pdf"),
        "document_2": ("photo.png", PNG, "image/png"),
        "document_3": ("scan.jpg", JPEG, "image/jpeg"),
    }
    assert _send(client, fill(), files).status_code == 303
    with database.session(write=False) as session:
        kept = [(d.filename, d.content_type, d.content) for d in session.scalars(select(ComplaintDocument))]
    assert kept == [
        ("letter.pdf", "application/pdf", PDF),
        ("photo.png", "image/png", PNG),
        ("scan.jpg", "image/jpeg", JPEG),
    ]


def test_a_document_of_another_type_or_too_large_is_refused_beside_its_field(client, admin, database, fill):
    wrong = _send(client, fill(), {"document_1": ("notes.txt", b"just text", "application/pdf")})
    assert wrong.status_code == 422 and "Send a PDF, JPEG or PNG file." in wrong.text
    big = PDF + b"0" * (5 * 1024 * 1024)
    large = _send(client, fill(), {"document_2": ("big.pdf", big, "application/pdf")})
    assert large.status_code == 422 and "The file is larger than 5 MB." in large.text
    assert 'id="f-document_2-error"' in large.text
    assert _count(database, Complaint) == 0 and _count(database, ComplaintDocument) == 0


# --- who reads the cases --------------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", ["office", "door", "returning_officer", ""])
def test_only_the_complaints_role_and_administrators_read_cases(role_client, receive, roles):
    complaint = receive()
    client = role_client(roles)
    for url in ("/complaints/cases", f"/complaints/cases/{complaint.id}", "/complaints/procedure"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "cancelled six sessions" not in response.text


def test_a_visitor_is_sent_to_log_in(client, receive, admin):
    complaint = receive()
    response = client.get(f"/complaints/cases/{complaint.id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_the_complaints_role_lists_and_reads_cases_with_their_targets(handler, receive, clock):
    complaint = receive()
    listed = handler.get("/complaints/cases")
    assert listed.status_code == 200 and complaint.reference in listed.text
    assert "Acknowledge by Wed 2 Dec 2026" in listed.text
    assert "overdue" not in listed.text
    clock.advance(days=-10)
    late = receive(email="late@example.org")
    clock.advance(days=10)
    listed = handler.get("/complaints/cases").text
    row = listed[listed.index(late.reference) :]
    assert "Acknowledgement overdue" in row[: row.index("</tr>")]
    page = handler.get(f"/complaints/cases/{complaint.id}")
    assert "The therapist cancelled six sessions without notice." in page.text
    assert "chris@example.org" in page.text


def test_an_administrator_reads_cases_too(client, admin, receive):
    from support import login

    complaint = receive()
    login(client, "admin@example.org")
    assert client.get(f"/complaints/cases/{complaint.id}").status_code == 200


# --- the steps of a case --------------------------------------------------------------------------------------


def test_the_handler_moves_a_case_adds_notes_and_decisions(handler, receive, database):
    complaint = receive()
    url = f"/complaints/cases/{complaint.id}"
    moved = post(handler, f"{url}/stage", {"from": "received", "to": "acknowledged"})
    assert moved.status_code == 303
    page = handler.get(url).text
    assert "The case is now at “Acknowledged”." in page
    stale = post(handler, f"{url}/stage", {"from": "received", "to": "acknowledged"})
    assert stale.status_code == 409 and "moved this case" in stale.text
    post(handler, f"{url}/stage", {"from": "acknowledged", "to": "under_consideration"})
    early = post(handler, f"{url}/stage", {"from": "under_consideration", "to": "outcome"})
    assert early.status_code == 409 and "Record the decision before giving the outcome." in early.text
    empty = post(handler, f"{url}/entries", {"kind": "decision", "body": ""})
    assert empty.status_code == 422 and "Enter the note or decision." in empty.text
    assert post(handler, f"{url}/entries", {"kind": "decision", "body": "Upheld in part."}).status_code == 303
    assert (
        post(handler, f"{url}/entries", {"kind": "note", "body": "Phoned the practitioner."}).status_code
        == 303
    )
    assert post(handler, f"{url}/stage", {"from": "under_consideration", "to": "outcome"}).status_code == 303
    page = handler.get(url).text
    assert "Upheld in part." in page and "Phoned the practitioner." in page and "Outcome given" in page
    with database.session(write=False) as session:
        kinds = [e.kind for e in session.scalars(select(ComplaintEntry).order_by(ComplaintEntry.id))]
    assert kinds == ["stage", "stage", "stage", "decision", "note", "stage"]


def test_a_referral_without_a_body_is_refused_beside_its_field(handler, receive):
    complaint = receive()
    response = post(
        handler, f"/complaints/cases/{complaint.id}/stage", {"from": "received", "to": "referred"}
    )
    assert response.status_code == 422 and "Name the body the complaint is referred to." in response.text
    assert 'id="f-referred_to-error"' in response.text


def test_a_document_downloads_as_an_attachment_for_the_handler_only(
    handler, role_client, client, admin, database, fill
):
    assert _send(client, fill(), {"document_1": ("a letter.pdf", PDF, "application/pdf")}).status_code == 303
    with database.session(write=False) as session:
        document = session.scalars(select(ComplaintDocument)).one()
        complaint_id, document_id = document.complaint_id, document.id
    url = f"/complaints/cases/{complaint_id}/documents/{document_id}"
    response = handler.get(url)
    assert response.status_code == 200 and response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="a letter.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert handler.get(f"/complaints/cases/{complaint_id + 1}/documents/{document_id}").status_code == 404
    assert role_client("office").get(url).status_code == 403


def test_the_handler_edits_the_procedure_the_public_page_shows(handler, client, admin):
    page = handler.get("/complaints/procedure")
    assert page.status_code == 200
    bad = post(handler, "/complaints/procedure", {"text": "x", "acknowledge_days": "10", "outcome_days": "5"})
    assert bad.status_code == 422 and "cannot be due before" in bad.text
    saved = post(
        handler,
        "/complaints/procedure",
        {"text": "## Our own procedure\n\nWrite to us.", "acknowledge_days": "3", "outcome_days": "20"},
    )
    assert saved.status_code == 303
    public = client.get("/complaints").text
    assert "<h2>Our own procedure</h2>" in public and "within <strong>3 working days</strong>" in public


def test_the_members_page_shows_cases_about_them_only_to_the_complaints_role(
    role_client, receive, database, clock
):
    with database.session() as session:
        member = Member(
            membership_number="M-0042",
            email="pat@example.org",
            first_name="Pat",
            last_name="Example",
            category="basic",
            status="active",
            created_at=clock(),
            updated_at=clock(),
        )
        session.add(member)
        session.flush()
        member_id = member.id
    complaint = receive()
    both = role_client("office complaints")
    linked = post(both, f"/complaints/cases/{complaint.id}/member", {"membership_number": "M-0042"})
    assert linked.status_code == 303
    assert complaint.reference in both.get(f"/members/{member_id}").text
    office_page = role_client("office").get(f"/members/{member_id}").text
    assert "Pat Example" in office_page and complaint.reference not in office_page
    assert "Complaints" not in office_page


# --- the e-mails arrive ---------------------------------------------------------------------------------------


def test_the_acknowledgement_and_a_letter_arrive_by_smtp(
    client, handler, admin, database, settings, clock, fill
):
    assert _send(client, fill()).status_code == 303
    with database.session(write=False) as session:
        complaint_id = session.scalars(select(Complaint.id)).one()
    letter = {"letter_subject": "Your complaint", "letter_body": "We have started looking into it.\nRegards."}
    assert post(handler, f"/complaints/cases/{complaint_id}/letters", letter).status_code == 303
    with smtp_server() as smtp:
        sender = Sender(
            database, dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp.port}"), clock=clock
        )
        assert sender.run_once() == ["sent", "sent", "sent"]
        received, told, sent = smtp.wait_for(3)
    assert told["To"] == "complaints@example.org" and told["Subject"] == "New complaint C-2026-0001"
    assert received["To"] == "chris@example.org" and "C-2026-0001" in received["Subject"]
    assert "its reference is C-2026-0001" in smtp.text(received)
    assert sent["Subject"] == "Your complaint (your complaint C-2026-0001)"
    assert "We have started looking into it." in smtp.text(sent)
