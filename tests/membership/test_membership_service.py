"""The rules of joining, without HTTP: the first year and its fee, applying (and what someone already on the
roll is told, by e-mail only), the office's questions and the applicant's answers, approval with the next
membership number and the first fee's invoice, rejection, and the first fee paid."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select
from support import as_sent

from portal.accounts.models import Account
from portal.audit import AuditEvent
from portal.events import invoices
from portal.events.models import Invoice
from portal.mail.models import OutboxEmail
from portal.members.models import Member
from portal.membership import periods, service
from portal.membership.errors import MembershipError
from portal.membership.models import Application
from portal.society.models import MembershipSettings

from .conftest import PDF


def _settings(**changes: object) -> MembershipSettings:
    values: dict[str, object] = {
        "year_kind": "fixed",
        "year_start_month": 4,
        "year_start_day": 1,
        "first_fee": "full",
        "conduct_version": "1",
        "privacy_version": "1",
        **changes,
    }
    return MembershipSettings(id=1, **values)


# --- the first year ---------------------------------------------------------------------------------------------


def test_a_rolling_year_renews_a_year_after_joining_at_the_full_fee():
    first = periods.first_year(_settings(year_kind="rolling"), annual_fee=4500, joined_on=date(2026, 11, 25))
    assert (first.renewal_on, first.fee) == (date(2027, 11, 25), 4500)


def test_a_rolling_year_from_29_february_renews_on_28_february():
    first = periods.first_year(_settings(year_kind="rolling"), annual_fee=100, joined_on=date(2028, 2, 29))
    assert first.renewal_on == date(2029, 2, 28)


def test_a_fixed_year_with_a_full_first_fee_renews_at_the_next_start():
    first = periods.first_year(_settings(), annual_fee=4500, joined_on=date(2026, 11, 25))
    assert (first.renewal_on, first.fee) == (date(2027, 4, 1), 4500)


def test_a_fixed_year_pro_rata_charges_the_share_for_the_days_left():
    first = periods.first_year(_settings(first_fee="pro_rata"), annual_fee=36500, joined_on=date(2026, 10, 1))
    # 182 of the 365 days from 1 April 2026 to 1 April 2027 are left.
    assert (first.renewal_on, first.fee) == (date(2027, 4, 1), 18200)


def test_joining_on_the_first_day_of_a_fixed_year_pays_the_whole_year():
    first = periods.first_year(_settings(first_fee="pro_rata"), annual_fee=4500, joined_on=date(2026, 4, 1))
    assert (first.renewal_on, first.fee) == (date(2027, 4, 1), 4500)


# --- applying -----------------------------------------------------------------------------------------------


def _emails(db, kind: str) -> list[OutboxEmail]:
    return list(db.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)))


def _apply(db, clock, key, links, draft, *, category: str = "basic", files=(), **changes):
    return service.submit_application(
        db,
        category_code=category,
        draft=draft(**changes),
        files=list(files),
        ip="192.0.2.1",
        now=clock(),
        key=key,
        links=links,
    )


def test_an_application_is_stored_with_the_versions_accepted_audited_and_acknowledged(
    db, clock, key, links, draft
):
    application = _apply(db, clock, key, links, draft)
    assert application is not None and application.status == "new"
    assert (application.conduct_version, application.privacy_version) == ("1", "1")
    [email] = _emails(db, "membership/received")
    assert email.to_addr == "nadia@example.org" and application.reference in email.subject
    actions = db.scalars(select(AuditEvent.action)).all()
    assert "membership.apply" in actions


def test_an_address_on_the_roll_makes_no_application_and_is_told_by_email_how_to_log_in(
    db, clock, key, links, draft
):
    db.add(
        Member(
            membership_number="77",
            email="nadia@example.org",
            first_name="Nadia",
            last_name="Okafor",
            category="basic",
            status="active",
            created_at=clock(),
            updated_at=clock(),
        )
    )
    db.flush()
    assert _apply(db, clock, key, links, draft, email="Nadia@Example.org") is None
    assert db.scalar(select(func.count()).select_from(Application)) == 0
    [email] = _emails(db, "membership/already_member")
    assert email.to_addr == "nadia@example.org" and "http://testserver/login" in email.text_body
    assert _emails(db, "membership/received") == []


def test_a_second_application_while_one_is_open_is_not_made_and_the_address_is_told(
    db, clock, key, links, draft
):
    first = _apply(db, clock, key, links, draft)
    assert _apply(db, clock, key, links, draft) is None
    [email] = _emails(db, "membership/in_progress")
    assert first is not None and first.reference in email.text_body
    assert db.scalar(select(func.count()).select_from(Application)) == 1


def test_a_category_that_is_not_open_cannot_be_applied_for(db, clock, key, links, draft):
    with pytest.raises(MembershipError) as refused:
        _apply(db, clock, key, links, draft, category="honorary")
    assert refused.value.code == "category_not_open"


def test_a_category_asking_for_evidence_refuses_an_application_without_a_file(db, clock, key, links, draft):
    with pytest.raises(MembershipError) as refused:
        _apply(db, clock, key, links, draft, category="trainee")
    assert refused.value.details["field"] == "evidence_1"
    stored = _apply(
        db,
        clock,
        key,
        links,
        draft,
        category="trainee",
        files=[service.Evidence("letter.pdf", "application/pdf", PDF)],
    )
    assert stored is not None and [f.filename for f in stored.files] == ["letter.pdf"]


# --- the office asks, the applicant answers -----------------------------------------------------------------


def _link(email: OutboxEmail) -> str:
    [link] = re.findall(r"http://testserver/membership/answer/\S+", as_sent(email).text)
    return link.rsplit("/", 1)[1]


def test_asking_for_more_waits_for_the_applicant_who_answers_once_through_the_private_link(
    db, clock, key, links, draft, admin
):
    application = _apply(db, clock, key, links, draft)
    assert application is not None
    service.ask_for_more(
        db,
        application_id=application.id,
        question="Your NMC PIN, please.",
        actor=admin,
        now=clock(),
        key=key,
        links=links,
    )
    assert application.status == "waiting"
    [email] = _emails(db, "membership/more_needed")
    assert "Your NMC PIN, please." in email.text_body
    token = _link(email)
    assert token not in email.text_body  # sealed: the outbox's plain columns hold a placeholder
    service.answer(db, token=token, body="It is 12A3456B.", files=[], now=clock(), key=key)
    assert application.status == "new" and application.answer_digest is None
    assert [m.author for m in application.messages] == ["office", "applicant"]
    assert len(_emails(db, "membership/answer_received")) == 1
    with pytest.raises(MembershipError) as gone:
        service.answer(db, token=token, body="Again", files=[], now=clock(), key=key)
    assert gone.value.code == "answer_link_gone"


def test_a_new_question_makes_the_last_link_stop_working(db, clock, key, links, draft, admin):
    application = _apply(db, clock, key, links, draft)
    assert application is not None
    for question in ("First?", "Second?"):
        service.ask_for_more(
            db,
            application_id=application.id,
            question=question,
            actor=admin,
            now=clock(),
            key=key,
            links=links,
        )
    first, second = (_link(e) for e in _emails(db, "membership/more_needed"))
    with pytest.raises(MembershipError):
        service.application_for_token(db, token=first, key=key)
    assert service.application_for_token(db, token=second, key=key).id == application.id


# --- deciding -----------------------------------------------------------------------------------------------


def test_approving_a_paid_category_puts_them_on_the_roll_awaiting_the_fee_with_an_invoice_in_the_one_series(
    db, clock, key, links, draft, admin, app
):
    before = invoices.next_number(db)  # a booking's invoice, say: the membership fee's comes next
    application = _apply(db, clock, key, links, draft)
    assert application is not None
    service.approve(db, application_id=application.id, actor=admin, now=clock(), key=key, links=links)
    member = db.get(Member, application.member_id)
    assert member is not None and member.status == "pending" and member.category == "basic"
    assert member.renewal_on == date(2027, 11, 25)
    invoice = db.get(Invoice, application.invoice_id)
    assert invoice is not None and invoice.number == before + 1 and invoice.registration_id is None
    assert invoice.total == 4500 and invoice.reference == application.fee_reference
    [email] = _emails(db, "membership/approved_fee")
    assert [a.source for a in email.attachments] == [
        "invoice"
    ] and application.fee_reference in email.text_body
    assert db.scalar(select(Account).where(Account.member_id == member.id)) is None  # not yet


def test_the_first_fee_paid_makes_the_member_active_and_sends_the_activation_link_once(
    db, clock, key, links, draft, admin
):
    application = _apply(db, clock, key, links, draft)
    assert application is not None
    service.approve(db, application_id=application.id, actor=admin, now=clock(), key=key, links=links)
    member = service.record_first_fee(
        db,
        application_id=application.id,
        received_on=date(2026, 11, 26),
        actor=admin,
        now=clock(),
        key=key,
        links=links,
    )
    assert member.status == "active"
    [email] = _emails(db, "membership/paid_welcome")
    assert email.secret and "http://testserver/password/" in as_sent(email).text
    with pytest.raises(MembershipError) as again:
        service.record_first_fee(
            db,
            application_id=application.id,
            received_on=date(2026, 11, 26),
            actor=admin,
            now=clock(),
            key=key,
            links=links,
        )
    assert again.value.code == "nothing_owed"


def test_a_free_category_staff_need_not_look_at_is_approved_and_active_as_sent(db, clock, key, links, draft):
    application = _apply(db, clock, key, links, draft, category="student")
    assert application is not None and application.status == "approved"
    member = db.get(Member, application.member_id)
    assert member is not None and member.status == "active" and application.invoice_id is None
    assert len(_emails(db, "membership/welcome")) == 1


def test_rejecting_needs_a_reason_which_the_applicant_is_sent_and_a_decided_application_stays_decided(
    db, clock, key, links, draft, admin
):
    application = _apply(db, clock, key, links, draft)
    assert application is not None
    with pytest.raises(MembershipError) as blank:
        service.reject(db, application_id=application.id, reason="  ", actor=admin, now=clock())
    assert blank.value.details["field"] == "reason"
    service.reject(db, application_id=application.id, reason="Not eligible yet.", actor=admin, now=clock())
    [email] = _emails(db, "membership/rejected")
    assert "Not eligible yet." in email.text_body
    with pytest.raises(MembershipError) as decided:
        service.approve(db, application_id=application.id, actor=admin, now=clock(), key=key, links=links)
    assert decided.value.code == "wrong_application_status"
    assert db.scalar(select(func.count()).select_from(Member)) == 0


def test_membership_numbers_follow_the_highest_on_the_roll_and_pass_over_a_number_taken(db, clock):
    for number in ("1041", "1043", "M-7"):
        db.add(
            Member(
                membership_number=number,
                email=f"{number}@example.org",
                first_name="A",
                last_name="B",
                category="basic",
                created_at=clock(),
                updated_at=clock(),
            )
        )
    db.flush()
    assert service.next_membership_number(db) == "1044"
    db.add(
        Member(
            membership_number="1045",
            email="later@example.org",
            first_name="A",
            last_name="B",
            category="basic",
            created_at=clock(),
            updated_at=clock(),
        )
    )
    db.flush()
    assert service.next_membership_number(db) == "1046"


def test_a_new_member_whose_address_already_has_a_staff_login_is_told_their_membership_is_active(
    db, clock, key, links, draft, admin
):
    application = _apply(db, clock, key, links, draft, category="student", email="admin@example.org")
    assert application is not None and application.status == "approved"
    assert _emails(db, "membership/welcome") == []
    [email] = _emails(db, "membership/joined_existing_login")
    assert email.to_addr == "admin@example.org"
    assert db.scalar(select(Account.member_id).where(Account.email == "admin@example.org")) is None
