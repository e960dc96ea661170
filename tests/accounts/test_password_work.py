"""argon2 runs before the request's transaction opens: while a password is hashed or verified, no database
connection is checked out (so no transaction is open, on the request's session or any other) and SQLite's
writer (the process's turn and its lock) is free. The login throttle is still decided, and failures still
counted, in the login's own transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from support import PASSWORD, make_account, post

from portal.accounts import service as accounts
from portal.accounts.access import SESSION_COOKIE
from portal.accounts.models import Account, LoginAttempt
from portal.accounts.service import PAIR_LIMIT
from portal.db import Database

NEW_PASSWORD = "a brand new password, long enough"


@dataclass
class Watched:
    """The app's argon2 hasher, noting at each hash or verify what the database was doing meanwhile."""

    inner: Any
    database: Database
    calls: list[tuple[str, int, bool, bool]] = field(default_factory=list)

    def _note(self, what: str) -> None:
        db = self.database
        self.calls.append((what, db.engine.pool.checkedout(), db.writer_busy(), db.turn_taken()))

    def hash(self, password: str) -> str:
        self._note("hash")
        return str(self.inner.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self._note("verify")
        return bool(self.inner.verify(stored, password))

    def check_needs_rehash(self, stored: str) -> bool:
        return bool(self.inner.check_needs_rehash(stored))

    def kinds(self) -> list[str]:
        return [what for what, *_ in self.calls]

    def all_outside(self) -> bool:
        """Every call ran with no connection checked out and the writer free."""
        return bool(self.calls) and all(
            out == 0 and not busy and not turn for _, out, busy, turn in self.calls
        )


@pytest.fixture
def watched(app, database):
    passwords = app.state.passwords
    watch = Watched(passwords.hasher, database)
    passwords.hasher = watch
    return watch


def _failures(database, email: str) -> int:
    with database.session(write=False) as s:
        return len(s.scalars(select(LoginAttempt).where(LoginAttempt.email == email)).all())


def test_a_login_verifies_its_password_with_no_transaction_open(client, admin, watched):
    response = post(client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 303 and SESSION_COOKIE in response.cookies
    assert watched.kinds() == ["verify"] and watched.all_outside(), watched.calls


def test_a_failed_login_is_verified_outside_and_still_counted(client, admin, database, watched):
    for email in ("admin@example.org", "nobody@example.org"):
        response = post(client, "/login", {"email": email, "password": "not the password"})
        assert response.status_code == 422 and "do not match" in response.text
        assert _failures(database, email) == 1
    # The unknown address costs the same argon2 work as the known one (the dummy hash), outside too.
    assert watched.kinds() == ["verify", "verify"] and watched.all_outside(), watched.calls


def test_a_throttled_client_is_refused_without_spending_argon2(client, admin, database, watched):
    for _ in range(PAIR_LIMIT):
        post(client, "/login", {"email": "admin@example.org", "password": "wrong"})
    assert _failures(database, "admin@example.org") == PAIR_LIMIT
    watched.calls.clear()
    response = post(client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 429 and "Try again in 1 minute" in response.text
    assert watched.calls == []
    assert _failures(database, "admin@example.org") == PAIR_LIMIT


def test_an_old_hash_is_upgraded_at_login_with_the_new_hash_made_outside(
    client, admin, database, passwords, watched
):
    make_account(database, passwords, email="old@example.org", roles="office")
    older = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with database.session() as s:
        s.scalar(select(Account).where(Account.email == "old@example.org")).password_hash = older
    response = post(client, "/login", {"email": "old@example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert watched.kinds() == ["verify", "hash"] and watched.all_outside(), watched.calls
    with database.session(write=False) as s:
        stored = s.scalar(select(Account.password_hash).where(Account.email == "old@example.org"))
    assert stored != older and not passwords.needs_rehash(stored) and passwords.verify(stored, PASSWORD)


def test_a_password_changed_between_the_look_and_the_login_is_refused_and_not_counted(
    database, passwords, clock
):
    make_account(database, passwords, email="pat@example.org")
    with database.session(write=False) as s:
        look = accounts.login_look(s, email="pat@example.org", ip="1.2.3.4", now=clock())
    checked = accounts.check_password(look, PASSWORD, passwords)
    assert checked is not None and checked.ok
    with database.session() as s:
        s.scalar(select(Account).where(Account.email == "pat@example.org")).password_hash = passwords.hash(
            NEW_PASSWORD
        )
    with database.session() as s, pytest.raises(accounts.AccountError) as refused:
        accounts.authenticate(
            s,
            email="pat@example.org",
            password=PASSWORD,
            ip="1.2.3.4",
            now=clock(),
            passwords=passwords,
            checked=checked,
        )
    assert refused.value.code == "invalid_login"
    assert _failures(database, "pat@example.org") == 0


def test_a_set_password_link_hashes_the_new_password_outside(client, admin, database, clock, key, watched):
    with database.session() as s:
        _, token = accounts.create_staff(
            s, actor=None, name="Sam Staff", email="sam@example.org", roles=["office"], now=clock(), key=key
        )
    response = post(
        client,
        f"/password/{token}",
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303 and SESSION_COOKIE in response.cookies
    assert watched.kinds() == ["hash"] and watched.all_outside(), watched.calls
    with database.session(write=False) as s:
        stored = s.scalar(select(Account.password_hash).where(Account.email == "sam@example.org"))
    assert stored and app_passwords_verify(client, stored, NEW_PASSWORD)
    # The link is used up: a second go is refused, and spends no argon2 on the dead link.
    watched.calls.clear()
    again = post(client, f"/password/{token}", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert again.status_code == 410 and watched.calls == []


def test_first_run_setup_hashes_the_administrators_password_outside(
    client, database, clock, settings, watched
):
    with database.session() as s:
        code = accounts.issue_setup_code(s, now=clock(), key=settings.key_bytes())
    form = {
        "setup_code": code,
        "society_name": "IPT UK",
        "name": "Ada",
        "email": "ada@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    response = post(client, "/setup", form)
    assert response.status_code == 303
    assert watched.kinds() == ["hash"] and watched.all_outside(), watched.calls


def app_passwords_verify(client, stored: str, password: str) -> bool:
    return bool(client.app.state.passwords.verify(stored, password))
