"""Renewing through the app: My membership on My account, renewing in two clicks, the receipts and the
certificate (read back with pdftotext), and the office's page (a renewal recorded by hand, an invoice marked
paid, a change of category, messages beside the fields)."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support import login, make_account, post

from portal.audit import AuditEvent
from portal.members.models import Member
from portal.membership.models import Renewal


def _text(pdf: bytes, tmp_path: Any) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def member_id(database, clock) -> int:
    with database.session() as s:
        member = Member(
            membership_number="1042",
            email="megan@example.org",
            first_name="Megan",
            last_name="Hughes",
            category="basic",
            status="active",
            joined_on=date(2024, 12, 10),
            renewal_on=clock().date() + timedelta(days=15),
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(member)
        s.flush()
        return member.id


@pytest.fixture
def member_client(client, admin, database, passwords, member_id):
    make_account(database, passwords, email="megan@example.org", member_id=member_id)
    login(client, "megan@example.org")
    return client


def test_my_membership_shows_status_category_number_renewal_date_and_a_renew_button(member_client, clock):
    page = member_client.get("/me").text
    assert "My membership" in page
    assert "1042" in page and "Basic" in page
    renewal = (clock().date() + timedelta(days=15)).strftime("%-d %B %Y")
    assert renewal in page
    assert 'href="/membership/renew"' in page and ">Renew<" in page
    assert "Membership certificate (PDF)" in page


def test_renewing_takes_two_clicks_and_shows_the_invoice_to_pay(member_client, database):
    page = member_client.get("/membership/renew")  # click one: Renew on My account
    assert page.status_code == 200 and "£45.00" in page.text
    done = post(member_client, "/membership/renew")  # click two
    assert done.status_code == 303
    page = member_client.get("/membership/renew").text
    assert "REN" in page and "Pay your renewal" in page
    with database.session(write=False) as s:
        renewal = s.scalar(select(Renewal))
        assert renewal is not None and renewal.paid_on is None and renewal.invoice_id is not None
        invoice_id = renewal.invoice_id
    mine = member_client.get("/me").text
    assert "Owed" in mine and "£45.00" in mine and ">Pay<" in mine
    pdf = member_client.get(f"/membership/invoices/{invoice_id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_another_members_invoice_is_not_found(member_client, database, clock):
    from portal.membership import renewals

    with database.session() as s:
        other = Member(
            membership_number="2000",
            email="other@example.org",
            first_name="O",
            last_name="Ther",
            category="basic",
            status="active",
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(other)
        s.flush()
        invoice_id = renewals.request_renewal(s, member_id=other.id, now=clock()).invoice_id
    assert member_client.get(f"/membership/invoices/{invoice_id}.pdf").status_code == 404


def test_the_certificate_names_the_member_number_category_and_date(member_client, clock, tmp_path):
    response = member_client.get("/membership/certificate.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = _text(response.content, tmp_path)
    assert "Certificate of membership" in text
    assert "Megan Hughes" in text
    assert "Membership number 1042" in text
    assert "in the category Basic" in text
    assert f"Valid until {(clock().date() + timedelta(days=15)).strftime('%-d %B %Y')}" in text


def test_a_lapsed_member_keeps_their_login_sees_lapsed_and_can_renew_but_gets_no_certificate(
    member_client, database, member_id, clock
):
    with database.session() as s:
        s.get(Member, member_id).renewal_on = clock().date() - timedelta(days=40)
    page = member_client.get("/me")
    assert page.status_code == 200 and "Lapsed" in page.text and ">Renew<" in page.text
    assert member_client.get("/membership/certificate.pdf").status_code == 409
    assert post(member_client, "/membership/renew").status_code == 303


@pytest.fixture
def office_on(client, admin, database, passwords):
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(client, "office@example.org")
    return client


def test_the_office_records_a_cheque_and_the_renewal_date_moves_on(office_on, database, member_id, clock):
    url = f"/membership/members/{member_id}/renewals"
    assert office_on.get(url).status_code == 200
    paid = clock().date().isoformat()
    done = post(
        office_on, url + "/record", {"paid_on": paid, "amount": "45", "method": "cheque", "note": "No 12"}
    )
    assert done.status_code == 303
    with database.session(write=False) as s:
        member = s.get(Member, member_id)
        assert member.renewal_on == clock().date() + timedelta(days=15) + timedelta(days=365)
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "membership.renewal_paid")) is not None
    assert "No 12" in office_on.get(url).text


def test_a_renewal_by_hand_with_problems_shows_each_beside_its_field(office_on, database, member_id):
    url = f"/membership/members/{member_id}/renewals/record"
    response = post(office_on, url, {"paid_on": "", "amount": "lots", "method": "gold"})
    assert response.status_code == 422
    assert 'id="f-paid_on-error"' in response.text
    assert 'id="f-amount-error"' in response.text
    assert 'id="f-method-error"' in response.text
    with database.session(write=False) as s:
        assert s.scalar(select(Renewal)) is None


def test_the_office_marks_a_renewal_invoice_paid(office_on, database, member_id, clock):
    from portal.membership import renewals

    with database.session() as s:
        renewal_id = renewals.request_renewal(s, member_id=member_id, now=clock()).id
    url = f"/membership/members/{member_id}/renewals/{renewal_id}/paid"
    assert post(office_on, url, {"invoice_paid_on": clock().date().isoformat()}).status_code == 303
    with database.session(write=False) as s:
        assert s.get(Renewal, renewal_id).paid_on == clock().date()
    # Again: refused beside the field.
    again = post(office_on, url, {"invoice_paid_on": clock().date().isoformat()})
    assert again.status_code == 422 and "already been paid" in again.text


def test_the_office_changes_a_members_category(office_on, database, member_id):
    url = f"/membership/members/{member_id}/category"
    assert post(office_on, url, {"category": "trainee"}).status_code == 303
    with database.session(write=False) as s:
        assert s.get(Member, member_id).category == "trainee"
    assert post(office_on, url, {"category": "nope"}).status_code == 422


def test_the_members_staff_page_links_to_their_renewals(office_on, member_id):
    page = office_on.get(f"/members/{member_id}").text
    assert f"/membership/members/{member_id}/renewals" in page


def test_the_grace_period_is_set_with_the_membership_year_and_refused_beside_its_field(office_on, database):
    from portal.society.models import MembershipSettings

    form = {
        "year_kind": "rolling",
        "year_start_month": "4",
        "year_start_day": "1",
        "first_fee": "full",
        "conduct_version": "1",
        "privacy_version": "1",
    }
    refused = post(office_on, "/membership/settings", {**form, "grace_days": "400"})
    assert refused.status_code == 422 and 'id="f-grace_days-error"' in refused.text
    assert post(office_on, "/membership/settings", {**form, "grace_days": "14"}).status_code == 303
    with database.session(write=False) as s:
        assert s.get(MembershipSettings, 1).grace_days == 14
