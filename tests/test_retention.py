"""Data that expires does: each table that keeps personal data past its use is emptied of what has passed its
retention period, and keeps what has not; the app's periodic job and `portal purge` run it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from portal import ops
from portal.accounts.models import AccountToken, LoginAttempt, LoginSession, SetupCode
from portal.accounts.uploads import UploadAttempt
from portal.app import _purge_once, periodic_jobs
from portal.cli import main
from portal.complaints.models import Complaint
from portal.contact.models import Enquiry
from portal.mail.models import MailRequest, OutboxAttachment, OutboxEmail
from portal.members.models import Member
from portal.register.models import RelayedMessage

DAY = timedelta(days=1)


def _count(database, model) -> int:
    with database.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _email(now, *, status: str, age: timedelta) -> OutboxEmail:
    at = now - age
    email = OutboxEmail(
        created_at=at,
        kind="test",
        to_addr="someone@example.org",
        subject="Hello",
        text_body="Dear someone",
        status=status,
        attempts=1,
        next_attempt_at=at,
        sent_at=at if status in ("sent", "logged") else None,
    )
    email.attachments = [OutboxAttachment(filename="a.txt", content_type="text/plain", content=b"a")]
    return email


@pytest.fixture
def old_and_new(database, admin, clock):
    """Two rows in each table: one just past its retention (defaults: 30 days for login attempts, 7 days
    after the end for the rest, 365 days for sent e-mails) and one just within it."""
    now = clock()
    with database.session() as s:
        for age in (31 * DAY, 29 * DAY):
            s.add(LoginAttempt(email="who@example.org", ip="192.0.2.1", at=now - age))
        for n, ended in enumerate((8 * DAY, 6 * DAY)):
            s.add(
                LoginSession(
                    token_digest=f"session-{n}",
                    account_id=admin.id,
                    created_at=now - ended - DAY,
                    last_seen_at=now - ended,
                    expires_at=now - ended,
                )
            )
            s.add(
                AccountToken(
                    account_id=admin.id,
                    purpose="reset",
                    token_digest=f"token-{n}",
                    created_at=now - 30 * DAY,
                    expires_at=now + DAY,  # still valid, but used: used_at is what ended it
                    used_at=now - ended,
                )
            )
            s.add(
                SetupCode(
                    code_digest=f"code-{n}",
                    created_at=now - ended - DAY,
                    expires_at=now - ended,
                    used_at=None,
                )
            )
            s.add(MailRequest(purpose="reset", email="who@example.org", ip="192.0.2.1", at=now - ended))
            s.add(UploadAttempt(account_id=admin.id, kind="photo", at=now - ended))
        s.add(_email(now, status="sent", age=366 * DAY))
        s.add(_email(now, status="failed", age=366 * DAY))
        s.add(_email(now, status="sent", age=364 * DAY))
        s.add(_email(now, status="pending", age=400 * DAY))  # never sent: kept, whatever its age
        for closed in (731 * DAY, 729 * DAY, None):  # an open enquiry is kept, whatever its age
            s.add(_enquiry(now, closed_ago=closed))
        for n, closed in enumerate((2191 * DAY, 2189 * DAY, None)):  # an open case is kept, whatever its age
            s.add(_complaint(now, n, closed_ago=closed))
        # Find a Therapist's counts of relayed messages: kept two days (the limits read one).
        therapist = Member(membership_number="T-1", email="t@example.org", first_name="T", last_name="Herapist",
                           category="basic", status="active", created_at=now, updated_at=now)  # fmt: skip
        s.add(therapist)
        s.flush()
        for age in (3 * DAY, 1 * DAY):
            s.add(RelayedMessage(member_id=therapist.id, client_digest="0" * 64, created_at=now - age))
    return now


def _complaint(now: datetime, n: int, *, closed_ago: timedelta | None) -> Complaint:
    received = now - 2500 * DAY
    return Complaint(
        reference=f"C-2020-{n + 1:04d}",
        year=2020,
        number=n + 1,
        about="society",
        complainant_name="Chris",
        complainant_email="chris@example.org",
        what_happened="Something happened.",
        happened_when="Long ago",
        outcome_sought="An apology.",
        stage="closed" if closed_ago else "received",
        received_at=received,
        acknowledge_by=received.date(),
        outcome_by=received.date(),
        closed_at=now - closed_ago if closed_ago else None,
        updated_at=received,
    )


def _enquiry(now: datetime, *, closed_ago: timedelta | None) -> Enquiry:
    return Enquiry(
        topic="other",
        name="Sam",
        email="sam@example.org",
        message="Hello",
        client_digest="0" * 64,
        reference=f"E-test-{closed_ago.days if closed_ago else 0}",
        status="closed" if closed_ago else "new",
        created_at=now - 800 * DAY,
        updated_at=now - 800 * DAY,
        closed_at=now - closed_ago if closed_ago else None,
    )


def test_purge_removes_each_table_past_its_retention_and_keeps_the_rest(database, settings, old_and_new):
    removed = ops.purge(database, settings, now=old_and_new)
    assert removed == {
        "login_attempts": 1,
        "login_sessions": 1,
        "account_tokens": 1,
        "setup_codes": 1,
        "upload_attempts": 1,
        "mail_requests": 1,
        "outbox_emails": 2,
        "outbox_attachments": 2,
        "enquiries": 1,
        "complaints": 1,
        "register_messages": 1,
    }
    assert _count(database, Enquiry) == 2
    assert _count(database, Complaint) == 2
    for model in (LoginAttempt, LoginSession, AccountToken, SetupCode, UploadAttempt, MailRequest):
        assert _count(database, model) == 1, model.__tablename__
    with database.session(write=False) as s:
        kept = s.execute(select(OutboxEmail.status, OutboxEmail.created_at)).all()
    assert sorted(status for status, _ in kept) == ["pending", "sent"]
    assert _count(database, OutboxAttachment) == 2
    assert ops.purge(database, settings, now=old_and_new) == dict.fromkeys(removed, 0)


def test_login_attempts_are_kept_for_the_throttles_day_however_short_the_setting(database, settings, clock):
    now = clock()
    with database.session() as s:
        s.add(LoginAttempt(email="who@example.org", ip="192.0.2.1", at=now - timedelta(hours=20)))
    short = type(settings)(**{**settings.__dict__, "keep_login_attempts_days": 1, "keep_expired_days": 1})
    assert ops.purge(database, short, now=now + timedelta(hours=3))["login_attempts"] == 0
    assert ops.purge(database, short, now=now + timedelta(hours=5))["login_attempts"] == 1


def test_the_apps_periodic_jobs_include_the_purge_and_it_removes_what_has_expired(app, old_and_new):
    names = [job.name for job in periodic_jobs(app)]
    assert names == ["elections", "events", "renewals", "reaccreditation", "cards", "erasure", "purge"]
    purge_job = next(job for job in periodic_jobs(app) if job.name == "purge")
    assert purge_job.interval == 3600
    assert _purge_once(app)["login_attempts"] == 1


def test_portal_purge_prints_what_it_removed_per_table(database, db_url):
    """The command reads the real clock, so its rows are placed relative to it."""
    now = datetime.now(UTC)
    with database.session() as s:
        for age in (40 * DAY, DAY):
            s.add(LoginAttempt(email="who@example.org", ip="192.0.2.1", at=now - age))
    env = {
        "PORTAL_DATABASE_URL": db_url,
        "PORTAL_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    result = CliRunner().invoke(main, ["purge"], env=env)
    assert result.exit_code == 0, result.output
    assert "login_attempts: 1 removed" in result.output and "outbox_emails: 0 removed" in result.output
    assert _count(database, LoginAttempt) == 1


def test_a_retention_setting_must_be_a_whole_number_of_days(settings):
    from portal.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="PORTAL_KEEP_EXPIRED_DAYS must be at least 1"):
        Settings.from_env({"PORTAL_KEEP_EXPIRED_DAYS": "0"})
    assert Settings.from_env({"PORTAL_KEEP_SENT_EMAILS_DAYS": "90"}).keep_sent_emails_days == 90
