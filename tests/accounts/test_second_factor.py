"""TOTP second factor: turned on with a working code, asked for at login, recovery codes used once."""

from __future__ import annotations

import re
from dataclasses import replace

import pyotp
import pytest
from starlette.testclient import TestClient
from support import PASSWORD, make_account, post

from portal import ops
from portal.accounts import service
from portal.accounts.models import Account
from portal.app import create_app
from portal.settings import Settings


@pytest.fixture
def with_totp(db, admin, clock, key):
    secret = service.new_totp_secret()
    account = db.get(Account, admin.id)
    codes = service.enable_totp(
        db, account=account, secret=secret, code=pyotp.TOTP(secret).at(clock()), now=clock(), key=key
    )
    db.commit()
    return secret, codes


def test_a_wrong_code_does_not_turn_it_on(db, admin, clock, key):
    account = db.get(Account, admin.id)
    with pytest.raises(service.AccountError) as error:
        service.enable_totp(
            db, account=account, secret=service.new_totp_secret(), code="000000", now=clock(), key=key
        )
    assert error.value.code == "bad_code"
    assert not account.totp_enabled


def test_the_secret_is_stored_encrypted(db, with_totp):
    secret, _ = with_totp
    account = db.query(Account).one()
    assert secret not in account.totp_secret_enc


def test_login_needs_the_second_step_before_anything_is_granted(client, with_totp, clock):
    secret, _ = with_totp
    clock.advance(seconds=30)  # the code that turned it on is spent
    response = post(client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.headers["location"] == "/login/verify"
    assert client.get("/staff").status_code == 303
    assert post(client, "/login/verify", {"code": "123456"}).status_code == 422
    assert post(client, "/login/verify", {"code": pyotp.TOTP(secret).at(clock())}).status_code == 303
    assert client.get("/staff").status_code == 200


def test_a_recovery_code_works_once(db, admin, with_totp, clock, key):
    _, codes = with_totp
    account = db.get(Account, admin.id)
    assert service.check_second_factor(db, account=account, code=codes[0], now=clock(), key=key) == "recovery"
    with pytest.raises(service.AccountError):
        service.check_second_factor(db, account=account, code=codes[0], now=clock(), key=key)


def _password(client):
    response = post(client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.headers["location"] == "/login/verify"


def test_five_wrong_codes_end_the_pending_login(client, with_totp, clock):
    secret, _ = with_totp
    clock.advance(seconds=30)
    _password(client)
    for _ in range(4):
        assert post(client, "/login/verify", {"code": "000000"}).status_code == 422
    fifth = post(client, "/login/verify", {"code": "000000"})
    assert fifth.status_code == 303 and fifth.headers["location"] == "/login"
    assert "Log in again with your password" in client.get("/login").text
    # The right code no longer helps: the pending login is gone.
    assert post(client, "/login/verify", {"code": pyotp.TOTP(secret).at(clock())}).headers["location"] == (
        "/login"
    )
    assert client.get("/staff").status_code == 303


def test_wrong_codes_are_counted_per_account_across_pending_logins(client, with_totp, clock, database):
    secret, _ = with_totp
    clock.advance(seconds=30)
    for _ in range(2):
        _password(client)
        for _ in range(5):
            post(client, "/login/verify", {"code": "000000"})
    with database.session(write=False) as s:
        assert s.get(Account, 1).mfa_failures == 10
    _password(client)
    refused = post(client, "/login/verify", {"code": pyotp.TOTP(secret).at(clock())})
    assert refused.status_code == 429 and "Try again in 15 minutes" in refused.text
    clock.advance(minutes=15)
    assert post(client, "/login/verify", {"code": pyotp.TOTP(secret).at(clock())}).status_code == 303


def test_a_code_is_accepted_once(client, with_totp, clock):
    secret, _ = with_totp
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock())
    _password(client)
    assert post(client, "/login/verify", {"code": code}).status_code == 303
    post(client, "/logout")
    _password(client)
    replay = post(client, "/login/verify", {"code": code})
    assert replay.status_code == 422 and "already been used" in replay.text
    clock.advance(seconds=30)
    assert post(client, "/login/verify", {"code": pyotp.TOTP(secret).at(clock())}).status_code == 303


def test_the_code_that_turned_it_on_cannot_open_a_login(client, with_totp, clock):
    secret, _ = with_totp
    _password(client)
    assert "already been used" in post(client, "/login/verify", {"code": pyotp.TOTP(secret).at(clock())}).text


def test_a_recovery_code_opens_one_login_only(client, with_totp, clock):
    _, codes = with_totp
    _password(client)
    assert post(client, "/login/verify", {"code": codes[1]}).status_code == 303
    post(client, "/logout")
    _password(client)
    assert post(client, "/login/verify", {"code": codes[1]}).status_code == 422


@pytest.fixture
def strict_client(settings, clock, database):
    app = create_app(replace(settings, require_staff_2fa=True), clock=clock, database=database)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def test_with_staff_2fa_required_staff_must_set_it_up_before_anything_else(strict_client, admin, clock):
    response = post(strict_client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.headers["location"] == "/account/security"
    for path in ("/staff", "/", "/members/", "/me"):
        assert strict_client.get(path).headers["location"] == "/account/security"
    page = strict_client.get("/account/security")
    assert page.status_code == 200 and "requires two-step verification" in page.text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text).group(1)
    enabled = post(
        strict_client, "/account/security", {"secret": secret, "code": pyotp.TOTP(secret).at(clock())}
    )
    assert enabled.status_code == 200 and "recovery codes" in enabled.text
    assert strict_client.get("/staff").status_code == 200
    # And it cannot be turned off while the society requires it.
    clock.advance(seconds=30)
    post(strict_client, "/account/security/totp-off", {"code": pyotp.TOTP(secret).at(clock())})
    assert strict_client.get("/staff").status_code == 200


def test_with_staff_2fa_required_members_log_in_as_before(strict_client, admin, database, passwords):
    make_account(database, passwords, email="pat@example.org", name="Pat")
    response = post(strict_client, "/login", {"email": "pat@example.org", "password": PASSWORD})
    assert response.headers["location"] == "/"
    assert strict_client.get("/").status_code == 200


def test_staff_2fa_is_required_by_default_in_production_only():
    assert Settings.from_env({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "k" * 40}).staff_2fa_required
    assert not Settings.from_env({"PORTAL_ENV": "development"}).staff_2fa_required
    assert not Settings.from_env({"PORTAL_ENV": "test"}).staff_2fa_required
    assert Settings.from_env({"PORTAL_ENV": "test", "PORTAL_REQUIRE_STAFF_2FA": "on"}).staff_2fa_required
    off = Settings.from_env(
        {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "k" * 40, "PORTAL_REQUIRE_STAFF_2FA": "off"}
    )
    assert not off.staff_2fa_required
    assert any("PORTAL_REQUIRE_STAFF_2FA is off" in f.message for f in ops.check(off))
