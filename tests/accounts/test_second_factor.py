"""TOTP second factor: turned on with a working code, asked for at login, recovery codes used once."""

from __future__ import annotations

import pyotp
import pytest
from support import PASSWORD, post

from portal.accounts import service
from portal.accounts.models import Account


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
