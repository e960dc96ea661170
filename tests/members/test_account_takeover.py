"""Nobody gets into another person's account through the roll: the attack a security review replayed."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient
from support import PASSWORD, login, post

from portal.accounts.models import Account
from portal.mail.models import OutboxEmail


def _outbox(database) -> list[OutboxEmail]:
    with database.session(write=False) as session:
        return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def _edit_email(client, member_id: int, email: str):
    form = {"first_name": "Pat", "last_name": "Example", "email": email, "category": "basic",
            "accreditation": "none", "status": "active", "joined_on": "", "renewal_on": ""}  # fmt: skip
    return post(client, f"/members/{member_id}", form)


def test_office_cannot_take_over_admin_via_roll_email(app, office_client, add_member, database, admin):
    member_id = add_member("7", "pat@example.org")
    # 1. Office puts the administrator's address on a member's roll entry.
    assert _edit_email(office_client, member_id, "admin@example.org").status_code == 303
    # 2. Anyone asks to activate that address: the same neutral answer as for any address, nothing linked.
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as anonymous:
        sent = len(_outbox(database))
        for address in ("admin@example.org", "nobody@example.org"):
            response = post(anonymous, "/activate", {"email": address})
            assert response.status_code == 303 and response.headers["location"] == "/activate?sent=1"
        assert _outbox(database)[sent:] == []
    # 3. Office moves the member's address to one office reads: the administrator's login does not follow.
    assert _edit_email(office_client, member_id, "olive.private@example.org").status_code == 303
    with database.session(write=False) as session:
        ada = session.get(Account, admin.id)
        assert ada.email == "admin@example.org" and ada.member_id is None
        assert session.scalar(select(Account).where(Account.email == "olive.private@example.org")) is None
    # 4. A password reset for office's address hands over nothing.
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as anonymous:
        sent = len(_outbox(database))
        assert post(anonymous, "/forgot-password", {"email": "olive.private@example.org"}).status_code == 303
        assert all("/password/" not in e.text_body for e in _outbox(database)[sent:])
        refused = post(anonymous, "/login", {"email": "olive.private@example.org", "password": PASSWORD})
        assert refused.status_code == 422
    # 5. The administrator keeps her account.
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as ada_client:
        login(ada_client, "admin@example.org")
        assert ada_client.get("/staff").status_code == 200


def test_a_member_with_a_login_keeps_its_address_when_staff_edit_the_roll(
    app, office_client, add_member, database
):
    member_id = add_member("8", "mia@example.org")
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as anonymous:
        post(anonymous, "/activate", {"email": "mia@example.org"})
    assert _edit_email(office_client, member_id, "olive.private@example.org").status_code == 303
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as anonymous:
        sent = len(_outbox(database))
        # Activation of the roll's new address sends nothing: the login's own address is still mia's.
        post(anonymous, "/activate", {"email": "olive.private@example.org"})
        post(anonymous, "/forgot-password", {"email": "olive.private@example.org"})
        assert _outbox(database)[sent:] == []
    with database.session(write=False) as session:
        account = session.scalar(select(Account).where(Account.member_id == member_id))
        assert account.email == "mia@example.org"


def test_erasing_a_member_linked_to_a_staff_login_only_unlinks_it(db, clock, admin):
    from portal.members.models import Member
    from portal.members.service import erase_member

    member = Member(membership_number="9", email="x@example.org", first_name="X", last_name="Y",
                    category="basic", status="lapsed", created_at=clock(), updated_at=clock())  # fmt: skip
    db.add(member)
    db.flush()
    ada = db.get(Account, admin.id)
    ada.member_id = member.id
    db.flush()
    erase_member(db, member_id=member.id, actor=ada, now=clock())
    db.flush()
    ada = db.get(Account, admin.id)
    assert ada.is_active and ada.email == "admin@example.org" and ada.password_hash and ada.member_id is None
