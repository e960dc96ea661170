"""The membership ledger: the office's hand entries (a first fee by cheque, a renewal recorded by hand) and a
bank statement's lines quoting a first fee's `MEM…` or a renewal's `REN…` reference each write one row with
what was paid, how, for which invoice and by whom, in the transaction that applies it; importing the statement
again records nothing twice; a line for less than the fee is left for the office; My membership's receipts
read the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from support import login, make_account, post

from portal.mail import rendering
from portal.mail.models import OutboxEmail
from portal.members.models import Member
from portal.membership import ledger, renewals, service
from portal.membership.models import Application, MembershipPayment, Renewal


@pytest.fixture
def approved(database, clock, key, links, draft, admin) -> Application:
    """Nadia's application for Basic (£45), approved: her first fee is owed on a `MEM…` reference."""
    with database.session() as s:
        application = service.submit_application(
            s,
            category_code="basic",
            draft=draft(),
            files=[],
            ip="192.0.2.1",
            now=clock(),
            key=key,
            links=links,
        )
        assert application is not None
        service.approve(s, application_id=application.id, actor=admin, now=clock(), key=key, links=links)
        s.refresh(application)
        return application


@pytest.fixture
def renewing(database, clock) -> Renewal:
    """Megan, a member whose renewal (£45) has been asked for: owed on a `REN…` reference."""
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
        return renewals.request_renewal(s, member_id=member.id, now=clock())


def _rows(database) -> list[MembershipPayment]:
    with database.session(write=False) as s:
        rows = list(s.scalars(select(MembershipPayment).order_by(MembershipPayment.id)))
        s.expunge_all()
        return rows


def _statement(*rows: tuple[str, str, str]) -> str:
    return "Date,Description,Amount\n" + "\n".join(",".join(row) for row in rows) + "\n"


def test_the_office_marks_a_first_fee_paid_by_cheque_and_the_ledger_has_it(
    office_client, approved, database, office
):
    page = office_client.get(f"/membership/applications/{approved.id}").text
    assert "How it was paid" in page
    done = post(
        office_client,
        f"/membership/applications/{approved.id}/fee-paid",
        {"received_on": "2026-11-20", "method": "cheque"},
    )
    assert done.status_code == 303
    [row] = _rows(database)
    assert (row.purpose, row.kind, row.amount, row.currency, row.method, row.source) == (
        "first_fee",
        "payment",
        4500,
        "GBP",
        "cheque",
        "staff",
    )
    assert row.invoice_id == approved.invoice_id and row.application_id == approved.id
    assert row.received_on == date(2026, 11, 20) and row.reference == approved.fee_reference
    assert row.recorded_by_id == office.id and "Olive Office" in row.recorded_by
    assert row.member_id == approved.member_id and row.category == "basic" and row.provider_ref is None


def test_a_method_not_offered_by_hand_is_refused_beside_the_field(office_client, approved, database):
    refused = post(
        office_client,
        f"/membership/applications/{approved.id}/fee-paid",
        {"received_on": "2026-11-20", "method": "card"},
    )
    assert refused.status_code == 422 and "Choose how it was paid" in refused.text
    assert _rows(database) == []


def test_a_renewal_recorded_by_hand_is_in_the_ledger(database, renewing, admin, clock):
    with database.session() as s:
        renewals.record_manual(
            s,
            member_id=renewing.member_id,
            data=renewals.ManualRenewal(
                paid_on=clock().date(), amount=4500, method="cash", note="At the AGM"
            ),
            actor=admin,
            now=clock(),
        )
    [row] = _rows(database)
    assert (row.purpose, row.method, row.amount, row.renewal_id) == ("renewal", "cash", 4500, renewing.id)
    assert row.invoice_id == renewing.invoice_id


def test_a_statement_pays_a_first_fee_and_a_renewal_once_even_imported_twice(
    office_client, approved, renewing, database
):
    text = _statement(
        ("20/11/2026", f"N OKAFOR {approved.fee_reference}", "45.00"),
        ("21/11/2026", f"HUGHES M {renewing.reference[:3]} {renewing.reference[3:]}", "45.00"),
        ("21/11/2026", "REN0000990 nobody", "45.00"),
    )
    preview = post(office_client, "/events/manage/payments", {"statement": text, "action": "preview"})
    assert preview.status_code == 200
    assert "Nadia Okafor (first membership fee" in preview.text
    assert "Megan Hughes (membership renewal" in preview.text
    assert "Record 2 payments" in preview.text
    assert _rows(database) == []
    done = post(office_client, "/events/manage/payments", {"statement": text, "action": "apply"})
    assert done.status_code == 303
    rows = _rows(database)
    assert [(r.purpose, r.method, r.source, r.amount) for r in rows] == [
        ("first_fee", "bank_transfer", "bank_statement", 4500),
        ("renewal", "bank_transfer", "bank_statement", 4500),
    ]
    assert all(r.provider_ref and r.provider_ref.startswith("csv:") for r in rows)
    assert rows[0].received_on == date(2026, 11, 20)
    with database.session(write=False) as s:
        assert s.get(Member, approved.member_id).status == "active"
        assert s.get(Renewal, renewing.id).paid_on == date(2026, 11, 21)
    again = post(office_client, "/events/manage/payments", {"statement": text, "action": "preview"})
    assert again.text.count("Already imported") == 2 and "Record 0 payments" in again.text
    post(office_client, "/events/manage/payments", {"statement": text, "action": "apply"})
    assert len(_rows(database)) == 2


def test_a_line_for_less_than_the_fee_is_left_for_the_office(office_client, approved, database):
    text = _statement(("20/11/2026", f"{approved.fee_reference}", "20.00"))
    preview = post(office_client, "/events/manage/payments", {"statement": text, "action": "preview"})
    assert "Less than the fee" in preview.text
    post(office_client, "/events/manage/payments", {"statement": text, "action": "apply"})
    assert _rows(database) == []


def test_my_membership_lists_the_receipts_from_the_ledger(
    client, database, renewing, admin, clock, passwords
):
    with database.session() as s:
        renewals.record_paid(s, renewal_id=renewing.id, paid_on=date(2026, 11, 21), actor=admin, now=clock())
    make_account(database, passwords, email="megan@example.org", member_id=renewing.member_id)
    login(client, "megan@example.org")
    page = client.get("/me").text
    assert "Renewal · £45.00 · paid 21 Nov 2026 by bank transfer" in page
    with database.session(write=False) as s:
        invoice_id = s.get(Renewal, renewing.id).invoice_id
    assert f"/membership/invoices/{invoice_id}.pdf" in page


def test_the_office_marks_a_renewal_invoice_paid_by_cheque(office_client, database, renewing):
    url = f"/membership/members/{renewing.member_id}/renewals/{renewing.id}/paid"
    page = office_client.get(f"/membership/members/{renewing.member_id}/renewals").text
    assert 'name="invoice_method"' in page
    done = post(office_client, url, {"invoice_paid_on": "2026-11-22", "invoice_method": "cheque"})
    assert done.status_code == 303
    [row] = _rows(database)
    assert (row.purpose, row.method, row.source, row.renewal_id) == (
        "renewal",
        "cheque",
        "staff",
        renewing.id,
    )
    page = office_client.get(f"/membership/members/{renewing.member_id}/renewals").text
    assert "Payments" in page and "Cheque" in page and "Olive Office" in page


def test_the_member_is_told_the_renewal_has_arrived(database, renewing, admin, clock):
    with database.session() as s:
        renewals.record_paid(
            s,
            renewal_id=renewing.id,
            paid_on=clock().date(),
            actor=admin,
            now=clock(),
            paid=ledger.Paid(method="cheque", source="staff"),
        )
    with database.session(write=False) as s:
        [email] = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "membership/renewal_paid")).all()
        renewal_to = s.get(Renewal, renewing.id).renewal_to
    rendered = rendering.render(email.kind, rendering.thaw(email.context))
    assert email.to_addr == "megan@example.org"
    assert renewal_to.strftime("%-d %B %Y") in rendered.subject
    assert "£45.00 (cheque) has arrived" in " ".join(rendered.text.split())
