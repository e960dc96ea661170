"""The staff outbox pages: list with counts and filter, one e-mail, attachments, retry."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient
from support import SECRET, login, make_account, post

from portal.app import create_app
from portal.mail import service
from portal.mail.models import OutboxEmail
from portal.mail.sealing import PLACEHOLDER

LINK = "http://testserver/me/email/secret-token-0123456789abcdef"


def _enqueue(database, clock, *, to="mary@example.org", secret=True, attachments=(), html=True) -> int:
    with database.session() as session:
        return service.enqueue(
            session,
            to=to,
            template="accounts/change_email" if html else "accounts/email_changed",
            context={"society_name": "IPT UK", "name": "Mary <script>alert(1)</script>", "new_email": to},
            now=clock(),
            secrets={"link": LINK} if secret else None,
            key=SECRET.encode(),
            attachments=attachments,
        ).id


def _set(database, email_id, **values) -> None:
    with database.session() as session:
        email = session.get(OutboxEmail, email_id)
        for name, value in values.items():
            setattr(email, name, value)


@pytest.fixture
def office(client, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(client, "office@example.org")
    return client


def test_the_outbox_lists_emails_newest_first_with_counts_by_status(office, database, clock):
    first = _enqueue(database, clock, to="first@example.org")
    second = _enqueue(database, clock, to="second@example.org")
    _set(database, first, status="failed", last_error="550 no")
    page = office.get("/outbox")
    assert page.status_code == 200
    assert page.text.index("second@example.org") < page.text.index("first@example.org")
    assert f'/outbox/{second}"' in page.text
    assert 'class="value">2</span><span class="label">All' in page.text
    assert 'class="value">1</span><span class="label">Failed' in page.text


def test_the_outbox_filters_by_status(office, database, clock):
    failed = _enqueue(database, clock, to="failed@example.org")
    _enqueue(database, clock, to="waiting@example.org")
    _set(database, failed, status="failed")
    page = office.get("/outbox?status=failed").text
    assert "failed@example.org" in page and "waiting@example.org" not in page
    partial = office.get("/outbox?status=failed", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith("<table") and "failed@example.org" in partial.text


def test_an_email_shows_its_headers_text_and_sandboxed_html(office, database, clock):
    email_id = _enqueue(database, clock)
    page = office.get(f"/outbox/{email_id}").text
    assert "mary@example.org" in page and "Confirm your new e-mail address for IPT UK" in page
    assert "IPT UK &lt;noreply@localhost&gt;" in page
    assert "Dear Mary &lt;script&gt;" in page
    assert "<iframe" in page and " sandbox " in page
    assert "<script>alert(1)</script>" not in page
    assert "&amp;lt;script&amp;gt;" in page  # the HTML part, escaped once by the e-mail and once for srcdoc


@pytest.mark.parametrize("status", ["pending", "sending", "sent", "logged", "failed"])
def test_an_email_with_a_personal_link_shows_its_body_with_a_placeholder_in_every_state(
    office, database, clock, status
):
    email_id = _enqueue(database, clock)
    _set(database, email_id, status=status)
    page = office.get(f"/outbox/{email_id}").text
    assert "mary@example.org" in page and "Dear Mary" in page
    assert "secret-token" not in page and PLACEHOLDER in page
    assert "personal link for its recipient alone" in page


def test_attachments_download_and_are_never_shown_inline(office, database, clock):
    email_id = _enqueue(
        database, clock, attachments=[service.Attachment("badge.pdf", "application/pdf", b"%PDF-1.4 x")]
    )
    with database.session(write=False) as session:
        [attachment] = session.get(OutboxEmail, email_id).attachments
    page = office.get(f"/outbox/{email_id}").text
    assert f"/outbox/{email_id}/attachments/{attachment.id}" in page
    response = office.get(f"/outbox/{email_id}/attachments/{attachment.id}")
    assert response.content == b"%PDF-1.4 x"
    assert response.headers["content-disposition"] == 'attachment; filename="badge.pdf"'
    assert office.get(f"/outbox/{email_id}/attachments/{attachment.id + 1}").status_code == 404


def test_staff_retry_a_failed_email_with_the_button(office, database, clock):
    email_id = _enqueue(database, clock, secret=False)
    _set(database, email_id, status="failed", attempts=8, last_error="SMTPServerDisconnected: gone")
    page = office.get(f"/outbox/{email_id}").text
    assert "SMTPServerDisconnected: gone" in page and "Retry this e-mail" in page
    response = post(office, f"/outbox/{email_id}/retry")
    assert response.status_code == 303 and response.headers["location"] == f"/outbox/{email_id}"
    after = office.get(f"/outbox/{email_id}").text
    assert "will be sent again now" in after and "Retry this e-mail" not in after
    with database.session(write=False) as session:
        email = session.get(OutboxEmail, email_id)
    assert (email.status, email.attempts) == ("pending", 0)


def test_retrying_an_email_that_has_not_failed_is_refused(office, database, clock):
    email_id = _enqueue(database, clock)
    assert post(office, f"/outbox/{email_id}/retry").status_code == 409


def test_the_outbox_says_when_emails_only_go_to_the_log(office, app, database, clock, settings, admin):
    assert "written to the log" in office.get("/outbox").text
    smtp_app = create_app(dataclasses.replace(settings, smtp_url="smtp://127.0.0.1:25"), database=database)
    with TestClient(smtp_app, follow_redirects=False) as other:
        login(other, "office@example.org")
        assert "written to the log" not in other.get("/outbox").text


def test_the_outbox_is_in_the_navigation_for_office_staff_only(office, client, database, passwords):
    assert "Outbox" in office.get("/").text
    post(office, "/logout")
    make_account(database, passwords, email="door@example.org", roles="door")
    login(office, "door@example.org")
    assert "Outbox" not in office.get("/").text
