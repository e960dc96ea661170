"""Renewals without HTTP: where a member stands by the clock at each boundary, the reminders sent once each
even by two runs at the same moment, renewing by invoice then paid, a renewal recorded by hand, a change of
category, a lapsed member off a roll frozen afterwards and without member prices."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.events import catalogue
from portal.events.models import Invoice
from portal.mail.models import OutboxEmail
from portal.members.models import Member, MemberCategory, MemberChange
from portal.members.standing import standing
from portal.membership import renewals
from portal.membership.errors import MembershipError
from portal.membership.models import Renewal, RenewalReminder

RENEWAL = date(2027, 5, 31)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _add(session: Any, number: str = "1001", **fields: Any) -> Member:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    values: dict[str, Any] = {
        "category": "basic",
        "status": "active",
        "joined_on": date(2026, 5, 31),
        "renewal_on": RENEWAL,
        "email": f"m{number}@example.org",
        **fields,
    }
    member = Member(
        membership_number=number,
        first_name="Mo",
        last_name="Member",
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(member)
    session.flush()
    return member


# --- standing, from the clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (RENEWAL - timedelta(days=1), "active"),
        (RENEWAL, "active"),
        (RENEWAL + timedelta(days=1), "grace"),
        (RENEWAL + timedelta(days=30), "grace"),
        (RENEWAL + timedelta(days=31), "lapsed"),
    ],
)
def test_standing_follows_the_clock_through_the_renewal_date_and_the_grace_period(day, expected):
    member = Member(status="active", renewal_on=RENEWAL, erased_at=None)
    assert standing(member, _at(day), grace_days=30) == expected


def test_standing_uses_the_uk_day():
    member = Member(status="active", renewal_on=RENEWAL, erased_at=None)
    # 23:30 UTC on 30 June 2027 is already 1 July in London: the 31st day after the renewal date.
    assert standing(member, datetime(2027, 6, 30, 22, 30, tzinfo=UTC), grace_days=30) == "grace"
    assert standing(member, datetime(2027, 6, 30, 23, 30, tzinfo=UTC), grace_days=30) == "lapsed"


def test_resigned_and_pending_members_keep_their_status_whatever_the_date():
    assert standing(Member(status="resigned", renewal_on=None, erased_at=None), _at(RENEWAL)) == "resigned"
    assert standing(Member(status="pending", renewal_on=RENEWAL, erased_at=None), _at(RENEWAL)) == "pending"


def test_the_grace_period_is_the_societys_setting(db):
    member = _add(db)
    assert renewals.member_standing(db, member, _at(RENEWAL + timedelta(days=10))) == "grace"
    from portal.society.service import membership_settings

    settings = membership_settings(db)
    settings.grace_days = 5
    db.add(settings)
    db.flush()
    assert renewals.member_standing(db, member, _at(RENEWAL + timedelta(days=10))) == "lapsed"


# --- reminders ------------------------------------------------------------------------------------------------


def _reminders(session: Any) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(OutboxEmail).where(OutboxEmail.kind == "membership/renewal_reminder").order_by(OutboxEmail.id)
    ).all()
    return [(r.to_addr, r.subject) for r in rows]


@pytest.mark.parametrize(
    ("days_before", "kind"), [(30, "days_30"), (7, "days_7"), (0, "on_the_day"), (29, "days_30")]
)
def test_each_reminder_is_due_on_its_day_and_a_little_late(days_before, kind):
    assert renewals.reminder_due(RENEWAL, RENEWAL - timedelta(days=days_before)) == kind


def test_no_reminder_is_due_between_them():
    assert renewals.reminder_due(RENEWAL, RENEWAL - timedelta(days=20)) is None
    assert renewals.reminder_due(RENEWAL, RENEWAL - timedelta(days=31)) is None
    assert renewals.reminder_due(RENEWAL, RENEWAL + timedelta(days=4)) is None


def test_the_three_reminders_go_once_each(database, links):
    with database.session() as s:
        _add(s)
    for days in (30, 30, 29, 7, 6, 0, 0):
        assert renewals.run_reminders(database, now=_at(RENEWAL - timedelta(days=days)), links=links) in (
            0,
            1,
        )
    with database.session() as s:
        sent = _reminders(s)
        kinds = s.scalars(select(RenewalReminder.kind).order_by(RenewalReminder.id)).all()
    assert kinds == ["days_30", "days_7", "on_the_day"]
    assert [subject for _to, subject in sent] == [
        "Your membership is due for renewal on 31 May 2027",
        "Your membership is due for renewal on 31 May 2027",
        "Your membership is due for renewal today",
    ]


def test_two_runs_at_the_same_moment_send_each_reminder_once(database, links):
    with database.session() as s:
        for i in range(5):
            _add(s, number=f"20{i}")
    now = _at(RENEWAL - timedelta(days=7))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            renewals.run_reminders(database, now=now, links=links)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with database.session() as s:
        assert len(_reminders(s)) == 5
        assert s.scalar(select(func.count()).select_from(RenewalReminder)) == 5


def test_lapsed_and_resigned_members_get_no_reminder(database, links):
    with database.session() as s:
        _add(s, number="L1", status="lapsed")
        _add(s, number="R1", status="resigned")
    assert renewals.run_reminders(database, now=_at(RENEWAL), links=links) == 0


# --- renewing -------------------------------------------------------------------------------------------------


def test_renewing_by_invoice_then_paid_moves_the_date_on_one_year(db, admin):
    member = _add(db)
    now = _at(RENEWAL - timedelta(days=7))
    renewal = renewals.request_renewal(db, member_id=member.id, now=now)
    invoice = db.get(Invoice, renewal.invoice_id)
    assert invoice is not None and invoice.total == 4500 and invoice.reference.startswith("REN")
    assert renewal.paid_on is None and member.renewal_on == RENEWAL
    # Pressing again gives the same renewal: never billed twice.
    assert renewals.request_renewal(db, member_id=member.id, now=now).id == renewal.id
    mail = db.scalar(select(OutboxEmail).where(OutboxEmail.kind == "membership/renewal_invoice"))
    assert mail is not None and mail.to_addr == member.email
    renewals.record_paid(db, renewal_id=renewal.id, paid_on=now.date(), actor=admin, now=now)
    db.refresh(member)
    assert member.renewal_on == date(2028, 5, 31)
    with pytest.raises(MembershipError) as refused:
        renewals.record_paid(db, renewal_id=renewal.id, paid_on=now.date(), actor=admin, now=now)
    assert refused.value.code == "nothing_owed"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "membership.renewal_paid")) is not None


def test_a_lapsed_member_who_renews_starts_a_new_year_from_the_day_paid(db, admin):
    member = _add(db)
    paid = RENEWAL + timedelta(days=60)
    renewal = renewals.request_renewal(db, member_id=member.id, now=_at(paid))
    renewals.record_paid(db, renewal_id=renewal.id, paid_on=paid, actor=admin, now=_at(paid))
    assert member.renewal_on == date(2028, 7, 30)
    assert standing(member, _at(paid)) == "active"


def test_a_renewal_recorded_by_hand_is_audited_with_its_date_amount_method_and_note(db, admin):
    member = _add(db)
    data = renewals.ManualRenewal(paid_on=RENEWAL, amount=4500, method="cheque", note="Cheque 000123")
    renewal = renewals.record_manual(db, member_id=member.id, data=data, actor=admin, now=_at(RENEWAL))
    assert (renewal.method, renewal.amount, renewal.note, renewal.paid_on) == (
        "cheque",
        4500,
        "Cheque 000123",
        RENEWAL,
    )
    assert member.renewal_on == date(2028, 5, 31)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "membership.renewal_paid"))
    assert event is not None and '"cheque"' in event.details
    change = db.scalar(select(MemberChange).where(MemberChange.source == "renewal"))
    assert change is not None and "2028-05-31" in change.changes


def test_a_renewal_by_hand_refuses_a_future_date_and_an_unknown_method(db, admin):
    member = _add(db)
    for data, field in (
        (renewals.ManualRenewal(paid_on=RENEWAL + timedelta(days=1), amount=1, method="cheque"), "paid_on"),
        (renewals.ManualRenewal(paid_on=RENEWAL, amount=1, method="gold"), "method"),
        (renewals.ManualRenewal(paid_on=RENEWAL, amount=-1, method="cheque"), "amount"),
    ):
        with pytest.raises(MembershipError) as refused:
            renewals.record_manual(db, member_id=member.id, data=data, actor=admin, now=_at(RENEWAL))
        assert refused.value.details["field"] == field


def test_a_category_change_is_kept_in_history_and_audited(db, admin):
    member = _add(db, category="trainee")
    renewals.change_category(db, member_id=member.id, category="basic", actor=admin, now=_at(RENEWAL))
    assert member.category == "basic"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "membership.category_changed"))
    assert event is not None
    with pytest.raises(MembershipError):
        renewals.change_category(db, member_id=member.id, category="nope", actor=admin, now=_at(RENEWAL))
    # The next renewal is at the new category's fee.
    renewal = renewals.request_renewal(db, member_id=member.id, now=_at(RENEWAL))
    assert renewal.amount == 4500 and renewal.category == "basic"


# --- what a lapsed member loses -------------------------------------------------------------------------------


def test_a_lapsed_member_gets_no_member_prices(db):
    member = _add(db)
    assert catalogue.active_member(db, member.id, now=_at(RENEWAL + timedelta(days=30))) is member
    assert catalogue.active_member(db, member.id, now=_at(RENEWAL + timedelta(days=31))) is None
    member.status = "lapsed"
    assert catalogue.active_member(db, member.id, now=_at(RENEWAL - timedelta(days=100))) is None


def test_a_free_category_renews_at_once(db):
    member = _add(db, category="student")
    renewal = renewals.request_renewal(db, member_id=member.id, now=_at(RENEWAL))
    assert renewal.paid_on == RENEWAL and renewal.invoice_id is None
    assert member.renewal_on == date(2028, 5, 31)
    assert db.scalar(select(func.count()).select_from(Renewal)) == 1
    assert db.scalar(select(MemberCategory.annual_fee).where(MemberCategory.code == "student")) == 0
