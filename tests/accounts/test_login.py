"""Logging in and out: argon2, sessions rotated at login, throttling, and first-run setup."""

from __future__ import annotations

from support import PASSWORD, login, make_account, post

from portal.accounts.guards import SESSION_COOKIE
from portal.accounts.models import LoginAttempt, LoginSession


def test_empty_portal_sends_every_page_to_setup(client):
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/setup"
    assert client.get("/staff").headers["location"] == "/setup"


def test_setup_creates_first_admin_and_then_is_gone(client, database):
    response = post(
        client,
        "/setup",
        {
            "society_name": "IPT UK",
            "name": "Ada",
            "email": "Ada@Example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert SESSION_COOKIE in client.cookies
    home = client.get("/")
    assert home.status_code == 200 and "Ada" in home.text
    assert client.get("/setup").status_code == 404


def test_setup_shows_each_bad_field_beside_it(client):
    response = post(
        client,
        "/setup",
        {"society_name": "", "name": "Ada", "email": "nope", "password": "short", "password_confirm": "x"},
    )
    assert response.status_code == 422
    assert "Enter the society" in response.text
    assert "Enter an e-mail address like name@example.org." in response.text
    assert "at least 10 characters" in response.text


def test_login_issues_a_new_session_token_each_time(client, admin):
    login(client, "admin@example.org")
    first = client.cookies[SESSION_COOKIE]
    post(client, "/logout")
    login(client, "admin@example.org")
    assert client.cookies[SESSION_COOKIE] != first
    assert client.get("/staff").status_code == 200


def test_a_planted_session_cookie_grants_nothing(client, admin):
    client.get("/login")
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
    assert client.get("/staff").status_code == 303


def test_login_is_case_insensitive_on_email(client, admin):
    login(client, "ADMIN@example.ORG")
    assert client.get("/staff").status_code == 200


def test_wrong_password_is_refused_and_recorded(client, admin, database):
    response = post(client, "/login", {"email": "admin@example.org", "password": "wrong password"})
    assert response.status_code == 422
    assert "do not match an account" in response.text
    with database.session() as s:
        assert s.query(LoginAttempt).count() == 1


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, admin):
    known = post(client, "/login", {"email": "admin@example.org", "password": "wrong password"})
    unknown = post(client, "/login", {"email": "nobody@example.org", "password": "wrong password"})
    assert known.status_code == unknown.status_code == 422
    assert "do not match an account" in unknown.text


def test_five_failures_throttle_the_account_with_a_wait(client, admin, clock):
    for _ in range(5):
        post(client, "/login", {"email": "admin@example.org", "password": "wrong password"})
    response = post(client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.text
    clock.advance(minutes=16)
    assert post(client, "/login", {"email": "admin@example.org", "password": PASSWORD}).status_code == 303


def test_failures_from_one_address_throttle_other_accounts_too(client, admin):
    for i in range(5):
        post(client, "/login", {"email": f"guess{i}@example.org", "password": "wrong password"})
    response = post(client, "/login", {"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 429


def test_logout_ends_the_session(client, admin, database):
    login(client, "admin@example.org")
    assert post(client, "/logout").status_code == 303
    assert client.get("/staff").status_code == 303
    with database.session() as s:
        assert s.query(LoginSession).count() == 0


def test_log_out_everywhere_ends_every_session(app, admin, database):
    from starlette.testclient import TestClient

    with TestClient(app, follow_redirects=False) as a, TestClient(app, follow_redirects=False) as b:
        login(a, "admin@example.org")
        login(b, "admin@example.org")
        assert post(a, "/logout/everywhere").status_code == 303
        assert b.get("/staff").status_code == 303
    with database.session() as s:
        assert s.query(LoginSession).count() == 0


def test_idle_session_expires(client, admin, clock):
    login(client, "admin@example.org")
    clock.advance(minutes=121)
    assert client.get("/staff").headers["location"].startswith("/login")


def test_absolute_expiry_ends_even_an_active_session(client, admin, clock):
    login(client, "admin@example.org")
    for _ in range(25):
        clock.advance(minutes=59)
        client.get("/")
    assert client.get("/staff").status_code == 303


def test_login_follows_a_local_next_but_not_another_site(client, admin):
    response = post(client, "/login?next=/audit", {"email": "admin@example.org", "password": PASSWORD})
    assert response.headers["location"] == "/audit"
    post(client, "/logout")
    response = post(
        client, "/login?next=//evil.example/x", {"email": "admin@example.org", "password": PASSWORD}
    )
    assert response.headers["location"] == "/"


def test_disabled_account_cannot_log_in(client, admin, database, passwords):
    make_account(database, passwords, email="gone@example.org", roles="office", is_active=False)
    response = post(client, "/login", {"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 422
    assert "disabled" in response.text


def test_password_hash_is_upgraded_when_parameters_change(client, admin, database):
    from argon2 import PasswordHasher

    from portal.accounts.models import Account

    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    with database.session() as s:
        s.query(Account).filter_by(email="admin@example.org").one().password_hash = weak
    login(client, "admin@example.org")
    with database.session() as s:
        stored = s.query(Account).filter_by(email="admin@example.org").one().password_hash
    assert stored != weak and stored.startswith("$argon2id$")
