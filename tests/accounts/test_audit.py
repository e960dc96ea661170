"""The audit log's hash chain finds an edited, inserted or deleted entry."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import delete, update

from portal.accounts import audit
from portal.accounts.models import AuditEvent
from portal.cli import main


def _three_entries(db, admin, clock):
    for i in range(3):
        audit.record(
            db, actor=admin, action=f"test.{i}", subject="x", details={"n": i}, now=clock.advance(seconds=1)
        )
    db.commit()


def test_an_intact_chain_verifies(db, admin, clock):
    _three_entries(db, admin, clock)
    assert audit.verify(db) == []


def test_an_edited_entry_is_found(db, admin, clock):
    _three_entries(db, admin, clock)
    db.execute(update(AuditEvent).where(AuditEvent.action == "test.1").values(subject="changed"))
    problems = audit.verify(db)
    assert [p.problem for p in problems] == ["its contents were changed after it was written"]


def test_a_deleted_entry_is_found(db, admin, clock):
    _three_entries(db, admin, clock)
    db.execute(delete(AuditEvent).where(AuditEvent.action == "test.1"))
    problems = audit.verify(db)
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
    from support import login

    _three_entries(db, admin, clock)
    login(client, "admin@example.org")
    page = client.get("/audit?verify=1")
    assert "The chain is intact" in page.text
    assert "test.2" in page.text
    filtered = client.get("/audit?action=test.1", headers={"HX-Request": "true"})
    assert "test.1" in filtered.text and "test.2" not in filtered.text and "<html" not in filtered.text
