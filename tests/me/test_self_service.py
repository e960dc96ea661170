"""Member self-service through the app: activation, password reset, My account, change of e-mail address."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import Markup
from sqlalchemy import select
from support import PASSWORD, as_sent, login, make_account, post

from portal.accounts.models import Account, AccountToken
from portal.errors import Kind
from portal.mail import service as mail
from portal.members.models import Member, MemberChange
from portal.members.selfservice_routes import render_section
from portal.web.hooks import ToDo

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "a different long passphrase"


def _account(database, email) -> Account | None:
    with database.session(write=False) as session:
        return session.scalar(select(Account).where(Account.email == email))


def _activate(client, link, outbox, email="mary@example.org", password=PASSWORD):
    """Ask for an activation link and follow it to choose a password; returns the response of that POST."""
    assert post(client, "/activate", {"email": email}).status_code == 303
    path = link(outbox()[-1])
    return post(client, path, {"password": password, "password_confirm": password})


# --- activation ---------------------------------------------------------------------------------------------


def test_activation_creates_a_login_linked_to_the_member_and_emails_the_roll_address(
    client, admin, database, add_member, outbox
):
    member = add_member("mary@example.org")
    response = post(client, "/activate", {"email": "  Mary@Example.ORG "})
    assert response.status_code == 303
    account = _account(database, "mary@example.org")
    assert account.member_id == member.id and account.password_hash is None and account.roles == ""
    [email] = outbox()
    assert email.to_addr == "mary@example.org" and email.kind == "accounts/activate" and email.secret
    assert "membership number 1001" in email.text_body and "24 hours" in email.text_body


def test_the_activation_token_is_stored_only_as_its_digest_and_lasts_24_hours(
    client, admin, database, add_member, outbox, link, clock
):
    add_member()
    post(client, "/activate", {"email": "mary@example.org"})
    token = link(outbox()[0]).split("/password/")[1].split("?")[0]
    with database.session(write=False) as session:
        [row] = session.scalars(select(AccountToken).where(AccountToken.purpose == "activate"))
    assert token not in row.token_digest and len(row.token_digest) == 64
    assert row.expires_at == clock() + timedelta(hours=24)


def test_the_activation_page_answers_the_same_for_any_address_and_emails_only_active_members(
    client, admin, add_member, outbox
):
    add_member("mary@example.org")
    add_member("lapsed@example.org", status="lapsed", number="1002")
    answers = []
    for address in ("mary@example.org", "nobody@example.org", "lapsed@example.org", "admin@example.org"):
        response = post(client, "/activate", {"email": address})
        answers.append((response.status_code, response.headers["location"]))
        answers.append(client.get(response.headers["location"]).text)
    assert answers[0::2] == [(303, "/activate?sent=1")] * 4
    assert len(set(answers[1::2])) == 1
    assert "Check your e-mail" in answers[1]
    assert [e.to_addr for e in outbox()] == ["mary@example.org"]


def test_following_the_activation_link_sets_the_password_and_lands_on_my_account(
    client, admin, add_member, outbox, link
):
    add_member()
    response = _activate(client, link, outbox)
    assert response.status_code == 303 and response.headers["location"] == "/me"
    page = client.get("/me")
    assert page.status_code == 200
    assert "Mary Jones" in page.text and "1001" in page.text and "mary@example.org" in page.text
    post(client, "/logout")
    login(client, "mary@example.org")


def test_an_activation_link_works_once(client, admin, add_member, outbox, link):
    add_member()
    _activate(client, link, outbox)
    assert client.get(link(outbox()[0])).status_code == 410


def test_an_activation_link_expires_after_24_hours(client, admin, add_member, outbox, link, clock):
    add_member()
    post(client, "/activate", {"email": "mary@example.org"})
    clock.advance(hours=24, seconds=1)
    assert client.get(link(outbox()[0])).status_code == 410


def test_asking_again_before_activating_sends_a_new_link_and_the_old_one_stops_working(
    client, admin, add_member, outbox, link, database
):
    add_member()
    post(client, "/activate", {"email": "mary@example.org"})
    post(client, "/activate", {"email": "mary@example.org"})
    first, second = outbox()
    assert client.get(link(first)).status_code == 410
    assert client.get(link(second)).status_code == 200
    with database.session(write=False) as session:
        assert len(session.scalars(select(Account).where(Account.member_id.is_not(None))).all()) == 1


def test_a_member_who_already_has_a_password_is_told_so_without_a_link(
    client, admin, add_member, outbox, link
):
    add_member()
    _activate(client, link, outbox)
    post(client, "/logout")
    post(client, "/activate", {"email": "mary@example.org"})
    email = outbox()[-1]
    assert email.kind == "accounts/already_active" and not email.secret
    assert "/password/" not in email.text_body and "/forgot-password" in email.text_body


def test_activation_never_links_a_member_to_a_login_that_already_exists(
    client, admin, add_member, database, passwords, outbox
):
    make_account(database, passwords, email="owen@example.org", roles="office", name="Owen")
    make_account(database, passwords, email="pat@example.org", name="Pat")
    add_member("owen@example.org", first_name="Owen")
    add_member("pat@example.org", first_name="Pat", number="1002")
    sent = len(outbox())
    for address in ("owen@example.org", "pat@example.org", "nobody@example.org"):
        response = post(client, "/activate", {"email": address})
        assert response.status_code == 303 and response.headers["location"] == "/activate?sent=1"
    assert _account(database, "owen@example.org").member_id is None
    assert _account(database, "pat@example.org").member_id is None
    assert len(outbox()) == sent


# --- password reset -----------------------------------------------------------------------------------------


def test_the_login_page_links_to_password_reset_and_activation(client, admin):
    page = client.get("/login").text
    assert '/forgot-password">Forgot your password?</a>' in page
    assert '/activate">Activate your member account</a>' in page


@pytest.mark.parametrize("email", ["admin@example.org", "mary@example.org"])
def test_any_account_can_reset_its_password_by_an_emailed_link(
    email, client, admin, add_member, outbox, link, clock
):
    add_member()
    if email == "mary@example.org":
        _activate(client, link, outbox)
        post(client, "/logout")
    assert post(client, "/forgot-password", {"email": email.upper()}).status_code == 303
    reset = outbox()[-1]
    assert reset.kind == "accounts/reset_password" and reset.to_addr == email and reset.secret
    response = post(client, link(reset), {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 303
    post(client, "/logout")
    assert post(client, "/login", {"email": email, "password": PASSWORD}).status_code == 422
    login(client, email, NEW_PASSWORD)


def test_the_reset_page_answers_the_same_for_unknown_addresses_and_sends_nothing(client, admin, outbox):
    known = post(client, "/forgot-password", {"email": "admin@example.org"})
    unknown = post(client, "/forgot-password", {"email": "stranger@example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert [e.to_addr for e in outbox()] == ["admin@example.org"]


def test_a_reset_link_expires_after_one_hour(client, admin, outbox, link, clock):
    post(client, "/forgot-password", {"email": "admin@example.org"})
    clock.advance(hours=1, seconds=1)
    assert client.get(link(outbox()[0])).status_code == 410


def test_a_disabled_account_gets_no_reset_link(client, admin, database, passwords, outbox):
    make_account(database, passwords, email="gone@example.org", roles="door", is_active=False)
    post(client, "/forgot-password", {"email": "gone@example.org"})
    assert outbox() == []


def test_a_bad_address_is_shown_beside_the_field(client, admin):
    response = post(client, "/forgot-password", {"email": "not an address"})
    assert response.status_code == 422
    assert "Enter an e-mail address like name@example.org." in response.text


# --- throttle -----------------------------------------------------------------------------------------------


def test_more_than_five_requests_an_hour_for_one_address_are_refused(client, admin, outbox, clock):
    for _ in range(mail.REQUESTS_PER_ADDRESS):
        assert post(client, "/forgot-password", {"email": "admin@example.org"}).status_code == 303
    refused = post(client, "/forgot-password", {"email": "admin@example.org"})
    assert refused.status_code == 429 and "too many requests" in refused.text.lower()
    also_activation = post(client, "/activate", {"email": "admin@example.org"})
    assert also_activation.status_code == 429
    assert len(outbox()) == mail.REQUESTS_PER_ADDRESS
    clock.advance(hours=1, seconds=1)
    assert post(client, "/forgot-password", {"email": "admin@example.org"}).status_code == 303


def test_the_throttle_refuses_unknown_addresses_alike(client, admin):
    for _ in range(mail.REQUESTS_PER_ADDRESS):
        post(client, "/forgot-password", {"email": "nobody@example.org"})
    assert post(client, "/forgot-password", {"email": "nobody@example.org"}).status_code == 429


def test_one_client_asking_for_many_addresses_is_refused_after_its_limit(client, admin):
    for n in range(mail.REQUESTS_PER_CLIENT):
        assert post(client, "/activate", {"email": f"guess{n}@example.org"}).status_code == 303
    assert post(client, "/activate", {"email": "one-more@example.org"}).status_code == 429


def test_the_throttle_counts_in_the_database_for_every_worker(db, clock):
    for _ in range(mail.REQUESTS_PER_ADDRESS):
        mail.throttle(db, purpose="reset_password", email="a@example.org", ip="10.0.0.1", now=clock())
    with pytest.raises(mail.MailError) as caught:
        mail.throttle(db, purpose="reset_password", email="a@example.org", ip="10.0.0.2", now=clock())
    assert caught.value.code == "throttled" and caught.value.kind == Kind.THROTTLED


# --- My account ---------------------------------------------------------------------------------------------


@pytest.fixture
def member_client(client, admin, add_member, outbox, link):
    """A client logged in as Mary, an activated member."""
    add_member()
    _activate(client, link, outbox)
    return client


@pytest.fixture
def sections(app):
    """Give this app these My account sections (and no others): `sections(first, second, ...)`."""

    def use(*found):
        app.state.hooks = dataclasses.replace(app.state.hooks, my_account=found)

    use()
    return use


def test_my_account_shows_the_roll_details_and_nothing_more_without_sections(member_client, sections):
    page = member_client.get("/me").text
    assert "My details" in page and "Basic" in page and "Active" in page
    assert page.count('<section class="panel"') == 2
    assert 'name="first_name"' not in page  # read-only, except the e-mail address
    assert 'name="new_email"' in page


def test_my_account_shows_each_registered_section_in_order(member_client, sections):
    def registrations(ctx):
        items = [{"text": "<Conference 2027>", "url": "/"}]
        return "My registrations", render_section(ctx, "me/_list.html", {"items": items})

    def nothing(ctx):
        return None

    def elections(ctx):
        assert ctx.principal.member_id is not None
        return "My elections", Markup("<p>Executive Committee 2027</p>")

    sections(registrations, nothing, elections)
    page = member_client.get("/me").text
    assert page.index("My registrations") < page.index("My elections")
    assert '<a href="/">&lt;Conference 2027&gt;</a>' in page
    assert "<p>Executive Committee 2027</p>" in page
    assert page.count('<section class="panel"') == 4


def test_my_account_puts_things_to_do_first_and_the_change_of_address_last(member_client, app, sections):
    def registrations(ctx):
        return "My registrations", Markup("<p>Conference 2027</p>")

    late = ToDo(
        "Pay for Conference", "£245.00 due by 1 March 2027", "/pay", "How to pay", due=NOW + timedelta(days=9)
    )
    soon = ToDo("Accept your place", "The offer ends soon", "/accept", "Accept the place", post=True, due=NOW)
    sections(registrations)
    app.state.hooks = dataclasses.replace(
        app.state.hooks, things_to_do=(lambda ctx: [late], lambda ctx: [soon])
    )
    page = member_client.get("/me").text
    order = [
        page.index(s)
        for s in (
            "Things to do",
            "Accept your place",
            "Pay for Conference",
            "My registrations",
            "My details",
            "Change my e-mail address",
        )
    ]
    assert order == sorted(order)
    assert (
        '<form method="post" action="/accept"' in page
        and '<a class="button small" href="/pay">How to pay' in page
    )
    app.state.hooks = dataclasses.replace(app.state.hooks, things_to_do=(lambda ctx: [],))
    assert "Nothing needs doing now" in member_client.get("/me").text


def test_the_name_in_the_header_leads_a_member_to_my_account_and_staff_to_their_security(
    member_client, client, admin
):
    assert re.search(r'<a href="http://testserver/me" class="who">Mary', member_client.get("/").text)
    member_client.cookies.clear()
    login(client, "admin@example.org")
    assert '<a href="http://testserver/account/security" class="who">' in client.get("/").text


def test_staff_without_a_membership_have_no_my_account(client, admin):
    login(client, "admin@example.org")
    assert client.get("/me").status_code == 403


# --- change of e-mail address -------------------------------------------------------------------------------


def test_changing_the_address_sends_a_link_to_the_new_one_and_changes_nothing_yet(
    member_client, outbox, database
):
    response = post(member_client, "/me/email", {"new_email": "Mary.New@Example.org"})
    assert response.status_code == 303
    email = outbox()[-1]
    assert email.to_addr == "mary.new@example.org" and email.kind == "accounts/change_email" and email.secret
    assert _account(database, "mary@example.org") is not None
    assert "We have sent a link to mary.new@example.org" in member_client.get("/me").text


def test_confirming_changes_the_login_and_the_roll_together_and_keeps_the_history(
    member_client, outbox, link, database
):
    post(member_client, "/me/email", {"new_email": "mary.new@example.org"})
    path = link(outbox()[-1])
    assert member_client.get(path).status_code == 200
    assert _account(database, "mary.new@example.org") is None  # opening the link changes nothing
    response = post(member_client, path)
    assert response.status_code == 303 and response.headers["location"] == "/me"
    account = _account(database, "mary.new@example.org")
    with database.session(write=False) as session:
        member = session.get(Member, account.member_id)
        [change] = session.scalars(select(MemberChange))
    assert member.email == "mary.new@example.org"
    assert change.source == "self-service" and change.member_id == member.id
    assert json.loads(change.changes) == {"email": ["mary@example.org", "mary.new@example.org"]}
    notice = outbox()[-1]
    assert notice.to_addr == "mary@example.org" and notice.kind == "accounts/email_changed"
    post(member_client, "/logout")
    login(member_client, "mary.new@example.org")


def test_a_change_link_works_once(member_client, outbox, link):
    post(member_client, "/me/email", {"new_email": "mary.new@example.org"})
    path = link(outbox()[-1])
    post(member_client, path)
    assert post(member_client, path).status_code == 410


def test_an_address_in_use_gets_the_same_answer_and_its_owner_is_told(
    member_client, add_member, admin, outbox, database
):
    add_member("taken@example.org", number="1002")
    answers = []
    for address in ("free@example.org", "taken@example.org", "admin@example.org"):
        sent = len(outbox())
        response = post(member_client, "/me/email", {"new_email": address})
        answers.append((response.status_code, response.headers["location"]))
        page = member_client.get("/me").text
        assert f"We have sent a link to {address}" in page and "already used" not in page
        [email] = outbox()[sent:]
        assert email.to_addr == address
        expected = (
            "accounts/change_email" if address == "free@example.org" else "accounts/email_change_refused"
        )
        assert email.kind == expected
        if address != "free@example.org":
            assert "/me/email/" not in email.text_body and "nothing has changed" in email.text_body
    assert len(set(answers)) == 1
    assert _account(database, "mary@example.org") is not None


def test_an_address_taken_before_the_link_is_followed_is_refused_then(
    member_client, outbox, link, add_member, database
):
    post(member_client, "/me/email", {"new_email": "mary.new@example.org"})
    path = link(outbox()[-1])
    add_member("mary.new@example.org", number="1003")
    response = post(member_client, path)
    assert response.status_code == 409 and "already used by someone else" in response.text
    assert _account(database, "mary@example.org") is not None


def test_the_same_address_is_refused(member_client):
    response = post(member_client, "/me/email", {"new_email": "mary@example.org"})
    assert response.status_code == 400 and "already your e-mail address" in response.text


def test_changing_the_address_ends_links_sent_to_the_old_one(member_client, outbox, link):
    post(member_client, "/forgot-password", {"email": "mary@example.org"})
    reset = outbox()[-1]
    post(member_client, "/me/email", {"new_email": "mary.new@example.org"})
    post(member_client, link(outbox()[-1]))
    assert member_client.get(link(reset)).status_code == 410


# --- privacy ------------------------------------------------------------------------------------------------


def test_no_email_or_log_line_carries_a_password_or_a_token_beyond_its_own_link(
    client, admin, add_member, outbox, link, portal_log, database, settings, clock
):
    from portal.mail.sender import Sender

    add_member()
    _activate(client, link, outbox, password=PASSWORD)
    post(client, "/forgot-password", {"email": "mary@example.org"})
    post(client, link(outbox()[-1]), {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    post(client, "/me/email", {"new_email": "mary.new@example.org"})
    post(client, link(outbox()[-1]))
    # What each recipient gets, read before the sender scrubs the sealed links.
    tokens = [re.fullmatch(r"/(?:password|me/email)/([^?]+)(\?.*)?", link(e)).group(1) for e in outbox()[:3]]
    sent = [as_sent(e) for e in outbox()]
    Sender(database, settings, clock=clock).drain()

    emails = outbox()
    assert [e.kind for e in emails] == [
        "accounts/activate",
        "accounts/reset_password",
        "accounts/change_email",
        "accounts/email_changed",
    ]
    assert all(len(token) >= 32 for token in tokens)
    logs = portal_log.text()
    assert "e-mail 1 (accounts/activate) to mary@example.org" in logs
    for token in tokens:
        assert token not in logs
        assert [
            token in (s.text + (s.html or "") + e.subject) for s, e in zip(sent, emails, strict=True)
        ].count(True) == 1
        assert not any(token in e.text_body + (e.html_body or "") for e in emails)
    for password in (PASSWORD, NEW_PASSWORD):
        assert password not in logs
        assert not any(password in (s.text + (s.html or "")) for s in sent)
    assert "/me/email/" not in sent[3].text and "/password/" not in sent[3].text


def test_a_change_confirmed_from_another_device_sends_the_member_to_log_in(member_client, outbox, link, app):
    from starlette.testclient import TestClient

    post(member_client, "/me/email", {"new_email": "mary.new@example.org"})
    path = link(outbox()[-1])
    with TestClient(app, follow_redirects=False) as phone:
        assert "mary.new@example.org" in phone.get(path).text
        response = post(phone, path)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert "Your e-mail address is now mary.new@example.org" in phone.get("/login").text
