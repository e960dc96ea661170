"""No single-use link at rest in plain text: the account e-mails that carry one (activation, password reset,
change of address, staff invitation) are sealed in the outbox, hidden from office staff, delivered with the
link, and scrubbed once sent; the sealing itself; the log; and the attack by office staff in log-only mode."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from support import (
    PASSWORD,
    SECRET,
    check_sealed_link_mail,
    login,
    make_account,
    post,
    secret_forms,
    smtp_server,
    stored_anywhere,
)

from portal.accounts.models import Account
from portal.mail import sealing, service
from portal.mail.models import OutboxEmail
from portal.mail.sealing import PLACEHOLDER
from portal.mail.sender import Sender
from portal.members.models import Member

NEW_PASSWORD = "another horse battery staple"


def _member(database, email="mary@example.org", number="1001") -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.session() as session:
        session.add(
            Member(
                membership_number=number,
                email=email,
                first_name="Mary",
                last_name="Jones",
                category="basic",
                status="active",
                created_at=now,
                updated_at=now,
            )
        )


@pytest.fixture
def office(app, database, passwords, admin):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    with TestClient(app, follow_redirects=False) as other:
        login(other, "office@example.org")
        yield other


def _set_password(client, path: str, password: str = PASSWORD) -> None:
    response = post(client, path, {"password": password, "password_confirm": password})
    assert response.status_code == 303, response.text


# --- every account e-mail with a single-use link --------------------------------------------------------------


def test_an_activation_link_is_stored_nowhere_readable_and_works_as_delivered(
    client, office, database, settings, clock
):
    _member(database)
    assert post(client, "/activate", {"email": "mary@example.org"}).status_code == 303
    path = check_sealed_link_mail(
        database, settings, clock, office, kind="accounts/activate", to="mary@example.org"
    )
    _set_password(client, path)


def test_a_password_reset_link_is_stored_nowhere_readable_and_works_as_delivered(
    client, office, database, settings, clock, admin
):
    assert post(client, "/forgot-password", {"email": "admin@example.org"}).status_code == 303
    path = check_sealed_link_mail(
        database, settings, clock, office, kind="accounts/reset_password", to="admin@example.org"
    )
    _set_password(client, path, NEW_PASSWORD)
    login(client, "admin@example.org", NEW_PASSWORD)


def test_a_staff_invitation_link_is_stored_nowhere_readable_and_works_as_delivered(
    client, office, database, settings, clock, admin
):
    login(client, "admin@example.org")
    data = {"name": "Owen Office", "email": "owen@example.org", "roles": ["office"]}
    assert post(client, "/staff", data).status_code == 200
    path = check_sealed_link_mail(
        database, settings, clock, office, kind="accounts/staff_invite", to="owen@example.org"
    )
    post(client, "/logout")
    _set_password(client, path)


def test_a_change_of_address_link_is_stored_nowhere_readable_and_works_as_delivered(
    client, office, database, settings, clock
):
    _member(database)
    post(client, "/activate", {"email": "mary@example.org"})
    activation = check_sealed_link_mail(
        database, settings, clock, office, kind="accounts/activate", to="mary@example.org"
    )
    _set_password(client, activation)
    login(client, "mary@example.org")
    assert post(client, "/me/email", {"new_email": "mary.new@example.org"}).status_code in (200, 303)
    path = check_sealed_link_mail(
        database, settings, clock, office, kind="accounts/change_email", to="mary.new@example.org"
    )
    assert post(client, path).status_code == 303
    with database.session(write=False) as session:
        assert session.scalar(select(Account.email).where(Account.member_id.is_not(None))) == (
            "mary.new@example.org"
        )


# --- the sealing --------------------------------------------------------------------------------------------


def _sealed(database, clock, *, to="mary@example.org", link="http://testserver/password/" + "t0k3n" * 8):
    with database.session() as session:
        return service.enqueue(
            session,
            to=to,
            template="accounts/reset_password",
            context={"society_name": "IPT UK", "name": "Mary", "forgot_url": "http://testserver/forgot"},
            now=clock(),
            secrets={"link": link},
            key=SECRET.encode(),
        ).id


def _get(database, email_id) -> OutboxEmail:
    with database.session(write=False) as session:
        return session.get(OutboxEmail, email_id)


def test_a_sealed_part_opens_only_with_the_secret_key_on_its_own_email(database, clock):
    mine, other = _sealed(database, clock), _sealed(database, clock, to="attacker@example.org")
    email = _get(database, mine)
    # The sealed part holds the link itself (the body is rendered from the stored context at send time).
    opened = sealing.unseal(SECRET.encode(), email_id=mine, kind=email.kind, sealed=email.sealed)
    assert "t0k3n" in opened.secrets["link"]
    with pytest.raises(sealing.SealError):
        sealing.unseal(b"another-key-" * 4, email_id=mine, kind=email.kind, sealed=email.sealed)
    with pytest.raises(sealing.SealError):
        sealing.unseal(SECRET.encode(), email_id=other, kind=email.kind, sealed=email.sealed)
    with pytest.raises(sealing.SealError):
        sealing.unseal(SECRET.encode(), email_id=mine, kind="events/message", sealed=email.sealed)


def test_a_sealed_part_copied_onto_an_email_to_the_attacker_is_not_sent(database, clock, smtp, make_sender):
    victim = _sealed(database, clock)
    attacker = _sealed(
        database, clock, to="attacker@example.org", link="http://testserver/password/" + "x" * 40
    )
    with database.session() as session:
        session.get(OutboxEmail, attacker).sealed = session.get(OutboxEmail, victim).sealed
    sender = make_sender()
    assert sorted(sender.drain().elements()) == ["failed", "sent"]
    delivered = smtp.wait_for(1)
    assert [m["To"] for m in delivered] == ["mary@example.org"]
    failed = _get(database, attacker)
    assert failed.status == "failed" and "ask for a new link" in failed.last_error and failed.sealed is None


def test_an_email_that_prints_a_secret_outside_its_slot_is_refused(db, clock):
    link = "http://testserver/password/" + "s3cr3t" * 6
    with pytest.raises(ValueError, match="stored readable"):
        service.enqueue(
            db,
            to="mary@example.org",
            template="accounts/reset_password",
            context={"society_name": "IPT UK", "name": link.rpartition("/")[2], "forgot_url": "x"},
            now=clock(),
            secrets={"link": link},
            key=SECRET.encode(),
        )
    with pytest.raises(ValueError, match="secret key"):
        service.enqueue(
            db,
            to="mary@example.org",
            template="accounts/reset_password",
            context={"society_name": "IPT UK", "name": "Mary", "forgot_url": "x"},
            now=clock(),
            secrets={"link": link},
        )


def test_a_failed_email_with_a_personal_link_is_scrubbed_and_cannot_be_retried(
    office, database, clock, settings, admin
):
    email_id = _sealed(database, clock)
    with smtp_server(refuse={"mary@example.org"}) as server:
        sending = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server.port}")
        assert Sender(database, sending, clock=clock).run_once() == ["failed"]
    email = _get(database, email_id)
    assert email.status == "failed" and email.sealed is None
    page = office.get(f"/outbox/{email_id}").text
    assert "Retry this e-mail" not in page and "Ask the person to request a new link" in page
    assert post(office, f"/outbox/{email_id}/retry").status_code == 409
    assert _get(database, email_id).status == "failed"


# --- the log ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["test", "production"])
def test_in_log_only_mode_outside_development_the_log_holds_no_link(database, clock, settings, caplog, env):
    link = "http://testserver/password/" + "l0gg3d" * 6
    email_id = _sealed(database, clock, link=link)
    caplog.set_level(logging.DEBUG, logger="portal")
    sender = Sender(database, dataclasses.replace(settings, env=env), clock=clock)
    assert sender.run_once() == ["logged"]
    assert f"e-mail {email_id} (accounts/reset_password)" in caplog.text
    assert not any(form in caplog.text for form in secret_forms(link))
    assert _get(database, email_id).sealed is None and stored_anywhere(database, link) == []


def test_in_development_the_log_shows_the_link_so_a_developer_can_follow_it(
    database, clock, settings, caplog
):
    link = "http://testserver/password/" + "d3v" * 12
    email_id = _sealed(database, clock, link=link)
    caplog.set_level(logging.INFO, logger="portal")
    sender = Sender(database, dataclasses.replace(settings, env="development"), clock=clock)
    assert sender.run_once() == ["logged"]
    assert link in caplog.text and "development" in caplog.text
    assert _get(database, email_id).sealed is None and stored_anywhere(database, link) == []


# --- the attack -----------------------------------------------------------------------------------------------


def test_office_staff_in_log_only_mode_find_no_usable_ballot_or_officer_reset_link(
    app, client, office, database, passwords, settings, clock
):
    """The e-mails in question: a member's ballot link and the returning officer's password reset, both gone
    to the log (no SMTP server). Office staff read the outbox list and each e-mail's page, its HTML and its
    attachments, and try every link found there."""
    from portal.elections.links import Links
    from portal.elections.models import Election
    from portal.elections.roll import send_ballot_link

    make_account(database, passwords, email="ro@example.org", roles="returning_officer", name="Rita Officer")
    _member(database, email="voter@example.org", number="2002")
    with database.session() as session:
        election = Election(
            title="EC election 2026",
            created_at=clock(),
            nominations_open_at=clock(),
            nominations_close_at=clock(),
            withdrawal_deadline_at=clock(),
            voting_open_at=clock(),
            voting_close_at=clock().replace(year=2027),
            pool_closed=False,
            manual_reminders=0,
            tracker_public=False,
        )
        session.add(election)
        session.flush()
        member = session.scalar(select(Member).where(Member.email == "voter@example.org"))
        send_ballot_link(
            session,
            election=election,
            member=member,
            now=clock(),
            key=SECRET.encode(),
            links=Links("http://testserver", app.url_path_for),
            template="elections/ballot_link",
        )
    assert post(client, "/forgot-password", {"email": "ro@example.org"}).status_code == 303
    with database.session(write=False) as session:
        emails = {e.kind: e for e in session.scalars(select(OutboxEmail))}
        real = {kind: service.opened(e, key=SECRET.encode()).text for kind, e in emails.items()}
    ballot = re.search(r"http://testserver(/elections/vote/\S+)", real["elections/ballot_link"]).group(1)
    reset = re.search(r"http://testserver(/password/\S+)", real["accounts/reset_password"]).group(1)
    Sender(database, settings, clock=clock).drain()  # log-only: settings has no PORTAL_SMTP_URL

    seen = office.get("/outbox").text
    for email in emails.values():
        page = office.get(f"/outbox/{email.id}").text
        assert PLACEHOLDER in page
        seen += page
        for found in re.findall(r"/outbox/\d+/attachments/\d+", page):
            seen += office.get(found).text
    for path in (ballot, reset):
        assert not any(form in seen for form in secret_forms(path))
    tried = set(re.findall(r"http://testserver(/(?:elections/vote|password)/[^\s\"'<&]+)", seen))
    tried |= {"/elections/vote/" + PLACEHOLDER, "/password/" + PLACEHOLDER}
    for path in tried:
        assert office.get(path).status_code in (404, 410), path
    # The real links were not spent by any of this: the officer can still reset, the member still vote.
    assert client.get(reset).status_code == 200
    assert client.get(ballot).status_code == 200
