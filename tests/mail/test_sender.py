"""The outbox sender against a real SMTP server (aiosmtpd): the message it builds, retries across an outage,
the log mode without a server, several senders on one outbox, the app's lifespan and the CLI."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from support import AUDIT_KEY, SECRET, smtp_server

from portal.app import create_app
from portal.db import Database
from portal.mail import service
from portal.mail.models import OutboxEmail
from portal.mail.sender import Sender, SmtpConfig

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _enqueue(database, clock, *, to="mary@example.org", n=0, attachments=(), secret=False) -> int:
    link = f"http://testserver/me/email/token-{n}"
    with database.session() as session:
        return service.enqueue(
            session,
            to=to,
            template="accounts/change_email",
            context={
                "society_name": "IPT UK",
                "name": f"Mary {n}",
                "new_email": to,
                **({} if secret else {"link": link}),
            },
            now=clock(),
            attachments=attachments,
            secrets={"link": link} if secret else None,
            key=SECRET.encode(),
        ).id


def _get(database, email_id) -> OutboxEmail:
    with database.session(write=False) as session:
        return session.get(OutboxEmail, email_id)


def test_an_email_is_delivered_with_its_headers_and_both_parts(database, clock, smtp, make_sender):
    email_id = _enqueue(database, clock)
    assert make_sender().run_once() == ["sent"]
    [message] = smtp.wait_for(1)
    email = _get(database, email_id)
    assert message["From"] == "IPT UK <noreply@localhost>"
    assert message["To"] == "mary@example.org"
    assert message["Subject"] == "Confirm your new e-mail address for IPT UK"
    assert message["Message-ID"] == email.message_id
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert "http://testserver/me/email/token-0" in message.get_body(("plain",)).get_content()
    assert 'href="http://testserver/me/email/token-0"' in message.get_body(("html",)).get_content()
    assert smtp.envelopes == [("noreply@localhost", ["mary@example.org"])]
    assert (email.status, email.sent_at, email.last_error) == ("sent", clock(), None)


def test_attachments_make_a_mixed_message_and_inline_images_carry_their_content_id(
    database, clock, smtp, make_sender
):
    _enqueue(
        database,
        clock,
        attachments=[
            service.Attachment("badge.pdf", "application/pdf", b"%PDF-1.4 test"),
            service.Attachment("logo.png", "image/png", PNG, content_id="logo@ipt"),
        ],
    )
    make_sender().run_once()
    [message] = smtp.wait_for(1)
    assert message.get_content_type() == "multipart/mixed"
    [pdf] = list(message.iter_attachments())
    assert (pdf.get_filename(), pdf.get_content()) == ("badge.pdf", b"%PDF-1.4 test")
    related = message.get_body(("related",))
    [image] = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo@ipt>"
    assert image.get_content() == PNG


def test_smtp_login_uses_the_url_decoded_user_and_password(database, clock, settings):
    with smtp_server(auth=("office@ipt.example", "p@ss:word/1")) as server:
        url = f"smtp://office%40ipt.example:p%40ss%3Aword%2F1@127.0.0.1:{server.port}"
        sender = Sender(database, dataclasses.replace(settings, smtp_url=url), clock=clock)
        _enqueue(database, clock)
        assert sender.run_once() == ["sent"]
        server.wait_for(1)
        assert server.logins == [("office@ipt.example", "p@ss:word/1")]


def test_the_smtp_url_chooses_tls_and_default_ports():
    assert SmtpConfig.from_url("smtps://mail.example.org") == SmtpConfig("mail.example.org", 465, True)
    plain = SmtpConfig.from_url("smtp://u:p@mail.example.org:587")
    assert (plain.port, plain.implicit_tls, plain.username, plain.password) == (587, False, "u", "p")
    assert SmtpConfig.from_url("smtp://127.0.0.1:2525").local
    assert not plain.local


def test_an_email_sent_while_the_server_is_down_is_delivered_once_when_it_is_back(
    database, clock, smtp, make_sender
):
    sender = make_sender()
    smtp.stop()
    email_id = _enqueue(database, clock)
    assert sender.run_once() == ["pending"]
    email = _get(database, email_id)
    assert email.attempts == 1 and "Connection" in email.last_error
    assert email.next_attempt_at == clock() + service.backoff(1)

    smtp.start()
    assert sender.run_once() == []  # not due yet
    clock.advance(minutes=1)
    assert sender.run_once() == ["sent"]
    smtp.wait_for(1)
    clock.advance(hours=2)
    assert sender.run_once() == []
    assert len(smtp.messages) == 1
    assert _get(database, email_id).status == "sent"


def test_a_recipient_the_server_refuses_for_good_fails_at_once(database, clock, settings):
    with smtp_server(refuse={"nobody@example.org"}) as server:
        sender = Sender(
            database, dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server.port}"), clock=clock
        )
        email_id = _enqueue(database, clock, to="nobody@example.org")
        assert sender.run_once() == ["failed"]
    email = _get(database, email_id)
    assert "550" in email.last_error and "No such mailbox" in email.last_error


def test_after_eight_failed_attempts_the_email_is_failed_and_staff_retry_delivers_it(
    database, clock, smtp, make_sender, admin
):
    sender = make_sender()
    smtp.stop()
    email_id = _enqueue(database, clock)
    outcomes = []
    for _ in range(service.MAX_ATTEMPTS):
        outcomes += sender.run_once()
        clock.advance(hours=1)
    assert outcomes == ["pending"] * 7 + ["failed"]
    assert sender.run_once() == []
    smtp.start()
    with database.session() as session:
        service.retry(session, email_id=email_id, actor=admin, now=clock())
    assert sender.run_once() == ["sent"]
    smtp.wait_for(1)


def test_the_error_kept_for_staff_never_holds_the_body(database, clock, settings):
    with smtp_server(refuse={"nobody@example.org"}) as server:
        sender = Sender(
            database, dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{server.port}"), clock=clock
        )
        email_id = _enqueue(database, clock, to="nobody@example.org")
        sender.run_once()
    assert "token-0" not in _get(database, email_id).last_error


def test_without_an_smtp_url_emails_are_logged_in_one_line_without_body_or_link(
    database, clock, settings, portal_log
):
    email_id = _enqueue(database, clock, secret=True)
    sender = Sender(database, settings, clock=clock)
    assert sender.run_once() == ["logged"]
    email = _get(database, email_id)
    assert (email.status, email.sent_at) == ("logged", clock())
    [line] = [line for line in portal_log.lines() if f"e-mail {email_id} " in line]
    assert "accounts/change_email" in line and "mary@example.org" in line
    everything = "\n".join(portal_log.lines())
    assert "token-0" not in everything and "Dear" not in everything


def test_two_senders_on_one_outbox_never_send_an_email_twice(database, db_url, clock, smtp, smtp_settings):
    total = 200
    with database.session() as session:
        for n in range(total):
            service.enqueue(
                session,
                to=f"member{n}@example.org",
                template="accounts/email_changed",
                context={"society_name": "IPT UK", "name": f"M{n}", "new_email": f"member{n}@example.org"},
                now=clock(),
            )
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        # Each sender has its own engine, as if in another process.
        own = Database(db_url, audit_key=AUDIT_KEY)
        try:
            sender = Sender(own, smtp_settings, clock=clock, worker=name, batch_size=10)
            start.wait()
            while batch := sender.run_once():
                outcomes.update(batch)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work, args=(f"sender-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    messages = smtp.wait_for(total, timeout=30)
    recipients = Counter(m["To"] for m in messages)
    assert len(messages) == total
    assert set(recipients.values()) == {1}
    assert len({m["Message-ID"] for m in messages}) == total
    assert outcomes == {"sent": total}
    with database.session(write=False) as session:
        assert service.counts(session)["sent"] == total


def test_the_app_runs_the_sender_while_it_runs_and_stops_it_cleanly(database, clock, smtp, smtp_settings):
    app = create_app(dataclasses.replace(smtp_settings, run_mail_worker=True), clock=clock, database=database)
    email_id = _enqueue(database, clock)
    with TestClient(app):
        smtp.wait_for(1)
    assert _get(database, email_id).status == "sent"
    assert len(smtp.messages) == 1


@pytest.fixture
def cli_env(db_url, smtp, monkeypatch):
    """The command's environment; the root log handler it installs is removed afterwards."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    for name, value in {
        "PORTAL_DATABASE_URL": db_url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_ENV": "test",
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
    }.items():
        monkeypatch.setenv(name, value)
    yield
    for handler in set(root.handlers) - set(handlers):
        root.removeHandler(handler)


def test_the_send_pending_command_drains_the_outbox_once(database, clock, smtp, cli_env):
    from portal.cli import main

    clock.now = datetime(2026, 1, 1, tzinfo=UTC)  # before the real time the command reads
    for n in range(3):
        _enqueue(database, clock, n=n)
    result = CliRunner().invoke(main, ["mail", "send-pending"])
    assert result.exit_code == 0, result.output
    assert "3 sent" in result.output
    assert len(smtp.wait_for(3)) == 3
    again = CliRunner().invoke(main, ["mail", "send-pending"])
    assert "nothing was due" in again.output
