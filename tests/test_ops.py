"""Operations: metrics behind a token, the production check, and backups that round-trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from click.testing import CliRunner
from sqlalchemy import text
from starlette.testclient import TestClient
from support import SECRET

from portal import audit, ops
from portal.accounts.models import Account
from portal.app import create_app
from portal.audit import AuditEvent
from portal.cli import main
from portal.members.models import Member
from portal.settings import Secret, Settings


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token_and_report_requests_and_the_outbox(settings, clock, database, admin):
    app = create_app(replace(settings, metrics_token=Secret("m" * 32)), clock=clock, database=database)
    with TestClient(app) as client:
        client.get("/login")
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        body = client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"}).text
    assert 'portal_requests_total{method="GET",route="/login",status="200"' in body
    assert "portal_request_seconds_bucket" in body
    assert "# TYPE portal_outbox_emails gauge" in body
    assert "# TYPE portal_ballots_cast gauge" in body
    assert "# TYPE portal_checkins_last_minute gauge" in body


def test_check_fails_a_development_setup_and_passes_a_production_one(database):
    dev = ops.check(Settings(database_url="sqlite:///x.db"), workers=2)
    failures = " ".join(f.message for f in dev if f.level == "fail")
    for needle in ("PORTAL_ENV", "PORTAL_SECRET_KEY", "https", "PORTAL_SMTP_URL", "SQLite with 2 workers"):
        assert needle in failures
    prod = Settings(
        database_url=database.url,
        env="production",
        secret_key=Secret("s" * 40),
        base_url="https://portal.iptuk.org",
        smtp_url="smtp://mail.iptuk.org:587",
        mail_from="IPT UK <portal@iptuk.org>",
    )
    findings = ops.check(prod, workers=1, database=database)
    assert [f for f in findings if f.level == "fail"] == []


def test_portal_check_exits_1_when_something_must_be_fixed(db_url):
    result = CliRunner().invoke(main, ["check"], env={"PORTAL_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "FAIL  PORTAL_SMTP_URL is not set" in result.output
    assert "The database schema is up to date." in result.output


def test_backup_and_restore_round_trip_a_populated_database(db, admin, clock, db_url, tmp_path, settings):
    db.add(
        Member(
            membership_number="M001",
            email="m@example.org",
            first_name="Mo",
            last_name="Member",
            category="member",
            accreditation="none",
            status="active",
            joined_on=date(2020, 1, 1),
            created_at=clock(),
            updated_at=clock(),
        )
    )
    audit.record(db, actor=admin, action="test.backup", now=clock())
    db.commit()
    env = {"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": str(settings.secret_key)}
    file = tmp_path / "backup.dump"
    result = CliRunner().invoke(main, ["backup", str(file)], env=env)
    assert result.exit_code == 0, result.output
    # Lose data after the backup...
    db.query(Member).delete()
    db.query(AuditEvent).delete()
    db.commit()
    result = CliRunner().invoke(main, ["restore", str(file), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    db.close()
    # ...and get it back, with the audit chain intact.
    assert db.query(Member).one().email == "m@example.org"
    assert db.query(Account).count() == 1
    assert db.query(AuditEvent).count() == 2
    assert audit.verify(db, key=SECRET.encode()) == []


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, db_url):
    if not db_url.startswith("sqlite"):
        return
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(main, ["restore", str(bogus), "--yes"], env={"PORTAL_DATABASE_URL": db_url})
    assert result.exit_code != 0


def test_check_says_whether_every_workers_pool_fits_in_postgresqls_max_connections(database, engine_name):
    """A pool holds PORTAL_THREADS + 5 connections per worker; `portal check` compares workers times that with
    max_connections (less the superusers' reserve) when it can ask PostgreSQL."""
    from portal.db import connections_for

    if engine_name != "postgresql":
        assert not any(
            "max_connections" in f.message
            for f in ops.check(Settings(database_url=database.url), database=database)
        )
        return
    with database.engine.connect() as conn:
        most = int(conn.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    room = most - reserved
    base = Settings(database_url=database.url, threads=16)
    fits = [f for f in ops.check(base, workers=1, database=database) if "max_connections" in f.message]
    assert [f.level for f in fits] == ["ok"] and f"= {connections_for(16)}," in fits[0].message
    workers = room // connections_for(16) + 1
    too_many = [
        f for f in ops.check(base, workers=workers, database=database) if "max_connections" in f.message
    ]
    assert [f.level for f in too_many] == ["warn"]
    assert (
        f"{workers} worker(s) of 21 connections (PORTAL_THREADS=16 + 5) = {workers * 21}"
        in too_many[0].message
    )
    assert "Lower PORTAL_THREADS" in too_many[0].message
    fewer = replace(base, threads=max(1, room // workers - 5))
    assert all(
        f.level == "ok"
        for f in ops.check(fewer, workers=workers, database=database)
        if "max_connections" in f.message
    )
