"""Staff accounts: added by an administrator with a single-use link, roles set, disabled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from support import PASSWORD, as_sent, login, post

from portal.accounts import service
from portal.accounts.models import Account, LoginSession
from portal.audit import AuditEvent
from portal.mail.models import OutboxEmail


def _add_staff(client, **fields):
    data = {"name": "Owen Office", "email": "owen@example.org", "roles": ["office"], **fields}
    return post(client, "/staff", data)


def test_admin_adds_staff_who_are_emailed_a_set_password_link_never_shown_on_screen(client, admin, database):
    login(client, "admin@example.org")
    response = _add_staff(client)
    assert response.status_code == 200
    assert "/password/" not in response.text and "e-mailed a single-use link" in response.text
    with database.session() as s:
        owen = s.query(Account).filter_by(email="owen@example.org").one()
        assert owen.roles == "office" and owen.password_hash is None and owen.created_by_id == admin.id
        assert s.query(AuditEvent).filter_by(action="staff.create").count() == 1
        invite = s.query(OutboxEmail).filter_by(kind="accounts/staff_invite").one()
        assert invite.to_addr == "owen@example.org" and invite.secret
        link = re.search(r"(http://testserver/password/\S+)", as_sent(invite).text).group(1)
    post(client, "/logout")
    path = link.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    assert post(client, path, {"password": PASSWORD, "password_confirm": PASSWORD}).status_code == 303
    # Single use: the link is spent.
    post(client, "/logout")
    spent = client.get(path)
    assert spent.status_code == 410
    assert "already been used" in spent.text


def test_staff_form_reports_a_taken_email_beside_the_field(client, admin):
    login(client, "admin@example.org")
    response = _add_staff(client, email="admin@example.org")
    assert response.status_code == 422
    assert "already exists" in response.text


def test_staff_form_needs_a_role(client, admin):
    login(client, "admin@example.org")
    response = _add_staff(client, roles=[])
    assert response.status_code == 422
    assert "Choose at least one role" in response.text


def test_disabling_staff_ends_their_sessions(db, admin, clock, key):
    owen, _ = service.create_staff(
        db, actor=admin, name="Owen", email="owen@example.org", roles=["office"], now=clock(), key=key
    )
    service.start_session(db, account=owen, now=clock(), max_age=timedelta(hours=1), key=key)
    service.update_staff(db, actor=admin, account_id=owen.id, roles=["office"], active=False, now=clock())
    db.commit()
    assert db.query(LoginSession).filter_by(account_id=owen.id).count() == 0


def test_the_last_active_admin_cannot_be_removed(db, admin, clock):
    with pytest.raises(service.AccountError) as error:
        service.update_staff(db, actor=admin, account_id=admin.id, roles=["office"], active=True, now=clock())
    assert error.value.code == "last_admin"


def test_unknown_roles_are_refused(db, admin, clock, key):
    with pytest.raises(service.AccountError) as error:
        service.create_staff(
            db, actor=admin, name="X", email="x@example.org", roles=["overlord"], now=clock(), key=key
        )
    assert error.value.code == "bad_role"


def test_a_new_link_replaces_the_old_one(db, admin, clock, key):
    owen, first = service.create_staff(
        db, actor=admin, name="Owen", email="owen@example.org", roles=["door"], now=clock(), key=key
    )
    service.issue_token(
        db, account=owen, purpose="set_password", valid=service.SET_PASSWORD_VALID, now=clock(), key=key
    )
    with pytest.raises(service.AccountError) as error:
        service.peek_token(db, token=first, purposes=("set_password",), now=clock(), key=key)
    assert error.value.code == "bad_token"


def test_links_expire(db, admin, clock, key):
    _owen, token = service.create_staff(
        db, actor=admin, name="Owen", email="owen@example.org", roles=["door"], now=clock(), key=key
    )
    later = clock.advance(days=8)
    with pytest.raises(service.AccountError):
        service.peek_token(db, token=token, purposes=("set_password",), now=later, key=key)


def test_tokens_are_stored_only_as_digests(db, admin, clock, key):
    from portal.accounts.models import AccountToken

    _, token = service.create_staff(
        db, actor=admin, name="Owen", email="owen@example.org", roles=["door"], now=clock(), key=key
    )
    stored = db.query(AccountToken).one()
    assert token not in stored.token_digest and len(stored.token_digest) == 64


def _edit_roles(client, account_id, roles):
    return post(client, f"/staff/{account_id}", {"roles": roles, "active": "on"})


def test_an_admin_cannot_give_themselves_the_returning_officer_or_scrutineer_role(client, admin, database):
    login(client, "admin@example.org")
    for role in ("returning_officer", "scrutineer"):
        response = _edit_roles(client, admin.id, ["admin", role])
        assert response.status_code == 422 and "another administrator" in response.text
    with database.session(write=False) as s:
        assert s.get(Account, admin.id).roles == "admin"
        assert s.query(AuditEvent).filter_by(action="staff.role_granted").count() == 0


def test_an_admin_cannot_create_an_account_with_a_guarded_role(client, admin, database):
    login(client, "admin@example.org")
    response = _add_staff(client, email="my.other.address@example.org", roles=["returning_officer"])
    assert response.status_code == 422 and "another administrator must give it" in response.text
    with database.session(write=False) as s:
        assert s.query(Account).filter_by(email="my.other.address@example.org").count() == 0


def test_a_guarded_role_needs_an_administrator_other_than_the_one_who_added_the_account(
    client, admin, database, passwords, app
):
    from starlette.testclient import TestClient
    from support import make_account

    login(client, "admin@example.org")
    assert _add_staff(client, email="rita@example.org", roles=["office"]).status_code == 200
    with database.session(write=False) as s:
        rita = s.query(Account).filter_by(email="rita@example.org").one()
    assert _edit_roles(client, rita.id, ["office", "returning_officer"]).status_code == 422
    make_account(database, passwords, email="bea@example.org", roles="admin", name="Bea Admin")
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as bea:
        login(bea, "bea@example.org")
        assert _edit_roles(bea, rita.id, ["office", "returning_officer"]).status_code == 303
    with database.session(write=False) as s:
        assert s.get(Account, rita.id).roles == "office returning_officer"
        [event] = s.query(AuditEvent).filter_by(action="staff.role_granted").all()
        assert event.actor.startswith("Bea Admin") and '"returning_officer"' in event.details
        told = s.query(OutboxEmail).filter_by(kind="accounts/role_granted").one()
        assert told.to_addr == "rita@example.org" and "Returning officer" in told.text_body


def test_a_new_set_password_link_goes_only_to_the_accounts_own_address(client, admin, database, passwords):
    from support import make_account

    ro = make_account(database, passwords, email="ro@example.org", roles="returning_officer", name="Rita")
    login(client, "admin@example.org")
    response = post(client, f"/staff/{ro.id}", {"action": "reset_link"})
    assert response.status_code == 200
    assert "/password/" not in response.text and "e-mailed to ro@example.org" in response.text
    with database.session(write=False) as s:
        [mail] = s.query(OutboxEmail).filter_by(kind="accounts/staff_invite").all()
        assert mail.to_addr == "ro@example.org" and mail.secret and "/password/" in as_sent(mail).text
