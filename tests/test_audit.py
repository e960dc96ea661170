"""The audit log's hash chain finds an edited, inserted or deleted entry."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from support import SECRET, login

from portal import audit
from portal.audit import AuditEvent
from portal.cli import main


def _three_entries(db, admin, clock):
    for i in range(3):
        audit.record(
            db, actor=admin, action=f"test.{i}", subject="x", details={"n": i}, now=clock.advance(seconds=1)
        )
    db.commit()


def test_an_intact_chain_verifies(db, admin, clock):
    _three_entries(db, admin, clock)
    assert audit.verify(db, key=SECRET.encode()) == []


def test_an_edited_entry_is_found(db, admin, clock):
    _three_entries(db, admin, clock)
    db.execute(update(AuditEvent).where(AuditEvent.action == "test.1").values(subject="changed"))
    problems = audit.verify(db, key=SECRET.encode())
    assert [p.problem for p in problems] == ["its contents were changed after it was written"]


def test_a_deleted_entry_is_found(db, admin, clock):
    _three_entries(db, admin, clock)
    db.execute(delete(AuditEvent).where(AuditEvent.action == "test.1"))
    problems = audit.verify(db, key=SECRET.encode())
    assert len(problems) == 1 and "removed or inserted" in problems[0].problem


def test_portal_audit_verify_exits_1_on_a_broken_chain(db, admin, clock, db_url, settings):
    _three_entries(db, admin, clock)
    env = {"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": str(settings.secret_key)}
    ok = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "intact (4 entries)" in ok.output
    db.execute(update(AuditEvent).where(AuditEvent.action == "test.2").values(details="{}"))
    db.commit()
    broken = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert broken.exit_code == 1 and "changed" in broken.output


def test_the_admin_page_checks_the_chain(client, admin, db, clock):
    _three_entries(db, admin, clock)
    login(client, "admin@example.org")
    page = client.get("/audit?verify=1")
    assert "The chain is intact" in page.text
    assert "test.2" in page.text
    filtered = client.get("/audit?action=test.1", headers={"HX-Request": "true"})
    assert "test.1" in filtered.text and "test.2" not in filtered.text and "<html" not in filtered.text


def _plain_sha256(event: AuditEvent, prev_hash: str) -> str:
    """What an attacker with database access but without the secret key can compute: the old, unkeyed chain."""
    body = json.dumps(
        [
            prev_hash,
            event.at.isoformat(timespec="microseconds"),
            event.actor_id,
            event.actor,
            event.action,
            event.subject,
            event.details,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def test_an_edited_entry_whose_chain_is_recomputed_without_the_key_is_found(db, admin, clock, client):
    _three_entries(db, admin, clock)
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    # The attacker rewrites history from the edited entry on, recomputing every later link and hash.
    prev_hash = audit.GENESIS
    for event in events:
        if event.action == "test.1":
            event.subject = "someone else"
        event.prev_hash = prev_hash
        event.hash = _plain_sha256(event, prev_hash)
        prev_hash = event.hash
    db.commit()
    problems = audit.verify(db, key=SECRET.encode())
    assert {p.entry_id for p in problems} == {e.id for e in events}
    assert {p.problem for p in problems} == {"its contents were changed after it was written"}
    db.rollback()  # end the test's own (write) transaction before the app writes the login
    login(client, "admin@example.org")
    assert "The chain is intact" not in client.get("/audit?verify=1").text


def test_an_entry_is_keyed_by_a_key_of_its_own_derived_from_the_secret_key(db, admin, clock):
    _three_entries(db, admin, clock)
    assert audit.verify(db, key=b"another-secret-key-that-is-long-enough-012345") != []
    assert audit.chain_key(SECRET.encode()) != SECRET.encode()
    assert len(audit.chain_key(SECRET.encode())) == 32


def test_the_chain_head_is_the_latest_entry_hash(db, admin, clock):
    db.execute(delete(AuditEvent))
    db.commit()
    assert audit.chain_head(db) is None
    _three_entries(db, admin, clock)
    latest = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit.chain_head(db) == latest.hash and latest.action == "test.2"


def test_a_session_without_the_audit_key_cannot_append(db_url, admin, clock):
    from portal.db import Database

    unkeyed = Database(db_url)
    try:
        with unkeyed.session() as s, pytest.raises(RuntimeError, match="no audit key"):
            audit.record(s, actor=None, action="test.unkeyed", now=clock())
    finally:
        unkeyed.dispose()


def _as_legacy_chain(db, *, edit: str | None = None):
    """Rewrite the log as the portal wrote it before the chain was keyed (plain SHA-256), maybe edited after."""
    prev_hash = audit.GENESIS
    for event in db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
        event.prev_hash = prev_hash
        event.hash = _plain_sha256(event, prev_hash)
        prev_hash = event.hash
        if event.action == edit:
            event.subject = "edited later"
    db.commit()


def test_portal_audit_rekey_keys_an_intact_log_written_before_the_upgrade(db, admin, clock, db_url, settings):
    _three_entries(db, admin, clock)
    _as_legacy_chain(db)
    assert audit.verify(db, key=SECRET.encode()) != []
    db.rollback()
    env = {"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": str(settings.secret_key)}
    done = CliRunner().invoke(main, ["audit", "rekey"], env=env)
    assert done.exit_code == 0 and "Re-keyed 4 entries" in done.output
    assert audit.verify(db, key=SECRET.encode()) == []
    db.rollback()
    again = CliRunner().invoke(main, ["audit", "rekey"], env=env)
    assert again.exit_code == 0 and "already keyed" in again.output


def test_portal_audit_rekey_refuses_a_log_edited_before_the_upgrade(db, admin, clock, db_url, settings):
    _three_entries(db, admin, clock)
    _as_legacy_chain(db, edit="test.1")
    db.rollback()
    env = {"PORTAL_DATABASE_URL": db_url, "PORTAL_SECRET_KEY": str(settings.secret_key)}
    refused = CliRunner().invoke(main, ["audit", "rekey"], env=env)
    assert refused.exit_code == 1 and "does not hold under the old chain" in refused.output
    assert audit.verify(db, key=SECRET.encode()) != []


def test_the_audit_page_shows_money_as_money_and_codes_as_words(client, db, admin, clock):
    audit.record(
        db,
        actor=admin,
        action="events.payment",
        subject="registration 7",
        details={"amount": 24500, "amount_due": 0, "method": "bank_transfer", "officer": True, "seats": 2},
        now=clock.advance(seconds=1),
    )
    db.commit()
    login(client, "admin@example.org")
    page = client.get("/audit").text
    assert "amount: £245.00" in page and "amount due: £0.00" in page
    assert "24500" not in page
    assert "method: bank transfer" in page and "officer: yes" in page and "seats: 2" in page
