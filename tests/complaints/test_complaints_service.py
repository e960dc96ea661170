"""The rules of complaints, without HTTP: working days, references, target dates, stages, the spam checks."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.complaints import service
from portal.complaints.errors import Code, ComplaintError
from portal.complaints.models import Complaint, ComplaintEntry
from portal.complaints.workdays import add_working_days, is_working_day, working_days_between
from portal.mail.models import OutboxEmail
from portal.members.models import Member

from .conftest import form_values

# --- working days ---------------------------------------------------------------------------------------------


def test_weekends_and_england_and_wales_bank_holidays_are_not_working_days():
    assert is_working_day(date(2026, 11, 25))
    assert not is_working_day(date(2026, 11, 28))  # a Saturday
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day's substitute
    assert not is_working_day(date(2027, 3, 26))  # Good Friday
    assert not is_working_day(date(2028, 1, 3))  # New Year's Day's substitute


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 25), 5, date(2026, 12, 2)),  # a plain week
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday: the next working day is Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # received on a Saturday
        (date(2026, 4, 1), 5, date(2026, 4, 10)),  # over Easter (Good Friday and Easter Monday)
        (date(2026, 12, 18), 5, date(2026, 12, 29)),  # over Christmas (25th and the 28th)
        (date(2026, 11, 25), 28, date(2027, 1, 7)),  # across Christmas and New Year
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
    ],
)
def test_working_days_are_counted_from_the_day_after(start, days, expected):
    assert add_working_days(start, days) == expected
    assert working_days_between(start, expected) == days


# --- receiving a complaint ------------------------------------------------------------------------------------


def test_a_complaint_gets_a_reference_target_dates_a_record_an_audit_entry_and_an_acknowledgement(db, clock):
    complaint = service.submit(db, values=form_values(), client="c1", now=clock())
    assert complaint.reference == "C-2026-0001"
    assert complaint.stage == "received"
    assert complaint.acknowledge_by == date(2026, 12, 2)
    assert complaint.outcome_by == date(2027, 1, 7)
    assert [e.kind for e in complaint.entries] == ["stage"]
    second = service.submit(db, values=form_values(email="other@example.org"), client="c2", now=clock())
    assert second.reference == "C-2026-0002"
    email = db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).first()
    assert email.to_addr == "chris@example.org" and email.kind == "complaints/received"
    assert "C-2026-0001" in email.subject and "C-2026-0001" in email.text_body
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "complaints.received")))
    assert len(events) == 2
    for event in events:  # ids and the reference only: never what the complaint says or who sent it
        assert (
            "cancelled" not in event.details
            and "Chris" not in event.details
            and "chris@" not in event.details
        )


def test_the_reference_year_follows_the_uk_date_and_numbering_starts_again_each_year(db):
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert service.submit(db, values=form_values(), client="a", now=late).reference == "C-2026-0001"
    new_year = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    assert service.submit(db, values=form_values(), client="b", now=new_year).reference == "C-2027-0001"


def test_the_procedures_days_set_the_targets(db, clock):
    service.save_procedure(
        db, text="Our procedure.", acknowledge_days=2, outcome_days=10, actor=None, now=clock()
    )
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    assert complaint.acknowledge_by == date(2026, 11, 27)
    assert complaint.outcome_by == date(2026, 12, 9)
    assert service.procedure(db).text == "Our procedure."


@pytest.mark.parametrize(("ack", "outcome"), [(0, 28), (5, 121), (10, 5)])
def test_the_procedures_days_must_make_sense(db, clock, ack, outcome):
    with pytest.raises(ComplaintError) as caught:
        service.save_procedure(
            db, text="x", acknowledge_days=ack, outcome_days=outcome, actor=None, now=clock()
        )
    assert caught.value.code == Code.BAD_DAYS


def test_until_edited_the_procedure_is_the_default_text(db):
    found = service.procedure(db)
    assert (
        found.text == service.DEFAULT_PROCEDURE and found.acknowledge_days == 5 and found.outcome_days == 28
    )


def test_references_are_unique_when_many_complaints_arrive_at_once(database, clock):
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            barrier.wait()
            with database.session() as session:
                service.submit(
                    session, values=form_values(email=f"p{n}@example.org"), client=f"c{n}", now=clock()
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with database.session(write=False) as session:
        references = sorted(session.scalars(select(Complaint.reference)))
    assert references == [f"C-2026-{n:04d}" for n in range(1, 7)]


# --- spam checks ----------------------------------------------------------------------------------------------


def test_a_client_may_send_three_complaints_an_hour(db, clock):
    for n in range(service.PER_CLIENT_PER_HOUR):
        service.submit(db, values=form_values(email=f"p{n}@example.org"), client="same", now=clock())
    with pytest.raises(ComplaintError) as caught:
        service.submit(db, values=form_values(email="p9@example.org"), client="same", now=clock())
    assert caught.value.code == Code.THROTTLED
    later = clock() + timedelta(hours=1, minutes=1)
    service.submit(db, values=form_values(email="p9@example.org"), client="same", now=later)


def test_the_client_is_counted_by_a_keyed_digest(key):
    digest = service.client_digest(key, "203.0.113.9")
    assert "203.0.113.9" not in digest and len(digest) == 64
    assert digest != service.client_digest(b"another key" * 4, "203.0.113.9")


def test_the_form_stamp_refuses_a_robots_speed_a_forgery_and_an_old_form(key, clock):
    now = clock()
    service.check_stamp(key, service.form_stamp(key, now - timedelta(seconds=30)), now)
    for stamp, code in (
        (service.form_stamp(key, now - timedelta(seconds=2)), Code.TOO_SOON),
        (service.form_stamp(b"k" * 32, now - timedelta(minutes=1)), Code.FORM_EXPIRED),
        ("", Code.FORM_EXPIRED),
        (service.form_stamp(key, now - timedelta(hours=13)), Code.FORM_EXPIRED),
    ):
        with pytest.raises(ComplaintError) as caught:
            service.check_stamp(key, stamp, now)
        assert caught.value.code == code


# --- the stages -----------------------------------------------------------------------------------------------


def _move(db, complaint, to, clock, **kwargs):
    return service.move_stage(
        db,
        complaint_id=complaint.id,
        from_stage=complaint.stage,
        to_stage=to,
        actor=None,
        now=clock(),
        **kwargs,
    )


def test_a_case_moves_through_the_procedures_stages_in_order(db, clock):
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    with pytest.raises(ComplaintError) as skipped:
        _move(db, complaint, "outcome", clock)
    assert skipped.value.code == Code.BAD_STAGE
    _move(db, complaint, "acknowledged", clock)
    assert complaint.acknowledged_at == clock()
    _move(db, complaint, "under_consideration", clock)
    with pytest.raises(ComplaintError) as undecided:
        _move(db, complaint, "outcome", clock)
    assert undecided.value.code == Code.NO_DECISION
    service.add_entry(db, complaint_id=complaint.id, kind="decision", body="Upheld.", actor=None, now=clock())
    _move(db, complaint, "outcome", clock)
    _move(db, complaint, "closed", clock)
    assert complaint.stage == "closed" and complaint.closed_at == clock()
    with pytest.raises(ComplaintError) as closed:
        service.add_entry(db, complaint_id=complaint.id, kind="note", body="More.", actor=None, now=clock())
    assert closed.value.code == Code.CLOSED
    stages = [
        e.subject
        for e in db.scalars(
            select(ComplaintEntry).where(ComplaintEntry.kind == "stage").order_by(ComplaintEntry.id)
        )
    ]
    assert stages == ["received", "acknowledged", "under_consideration", "outcome", "closed"]
    moves = list(db.scalars(select(AuditEvent.details).where(AuditEvent.action == "complaints.stage")))
    assert len(moves) == 4 and all("Upheld" not in d for d in moves)


def test_a_referral_names_the_body_it_goes_to(db, clock):
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    with pytest.raises(ComplaintError) as caught:
        _move(db, complaint, "referred", clock)
    assert caught.value.code == Code.NO_REFERRAL
    _move(db, complaint, "referred", clock, referred_to="The HCPC")
    assert complaint.stage == "referred" and complaint.referred_to == "The HCPC"
    _move(db, complaint, "closed", clock)


def test_a_move_from_a_stage_the_case_has_left_is_refused(db, clock):
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    _move(db, complaint, "acknowledged", clock)
    with pytest.raises(ComplaintError) as caught:
        service.move_stage(
            db,
            complaint_id=complaint.id,
            from_stage="received",
            to_stage="acknowledged",
            actor=None,
            now=clock(),
        )
    assert caught.value.code == Code.STAGE_CHANGED


def test_overdue_shows_a_late_acknowledgement_and_a_late_outcome(db, clock):
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    assert service.overdue(complaint, date(2026, 12, 2)) == []
    assert service.overdue(complaint, date(2026, 12, 3)) == ["acknowledgement"]
    assert service.overdue(complaint, date(2027, 1, 8)) == ["acknowledgement", "outcome"]
    _move(db, complaint, "acknowledged", clock)
    assert service.overdue(complaint, date(2027, 1, 8)) == ["outcome"]


def test_a_letter_goes_through_the_outbox_and_onto_the_record(db, clock):
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    entry = service.send_letter(
        db,
        complaint_id=complaint.id,
        subject="Our acknowledgement",
        body="We are looking into it.",
        actor=None,
        now=clock(),
    )
    email = db.get(OutboxEmail, entry.email_id)
    assert email.to_addr == "chris@example.org"
    assert email.subject == "Our acknowledgement (your complaint C-2026-0001)"
    assert "We are looking into it." in email.text_body
    letters = list(db.scalars(select(AuditEvent.details).where(AuditEvent.action == "complaints.letter")))
    assert len(letters) == 1 and "looking" not in letters[0]


def test_a_case_is_linked_to_a_member_by_membership_number(db, clock):
    member = Member(
        membership_number="M-0042",
        email="pat@example.org",
        first_name="Pat",
        last_name="Example",
        category="basic",
        status="active",
        created_at=clock(),
        updated_at=clock(),
    )
    db.add(member)
    db.flush()
    complaint = service.submit(db, values=form_values(), client="c", now=clock())
    with pytest.raises(ComplaintError) as caught:
        service.link_member(
            db, complaint_id=complaint.id, membership_number="M-9999", actor=None, now=clock()
        )
    assert caught.value.code == Code.NO_MEMBER
    service.link_member(db, complaint_id=complaint.id, membership_number="M-0042", actor=None, now=clock())
    assert [c.id for c in service.cases_for_member(db, member.id)] == [complaint.id]
    assert db.scalar(select(func.count()).where(AuditEvent.action == "complaints.member")) == 1


def test_the_complaints_handlers_are_told_of_a_new_case_without_its_text(db, clock, database, passwords):
    from support import make_account

    make_account(database, passwords, email="cora@example.org", roles="complaints")
    make_account(database, passwords, email="gone@example.org", roles="complaints", is_active=False)
    make_account(database, passwords, email="ada@example.org", roles="admin")
    complaint = service.submit(
        db, values=form_values(), client="c", now=clock(), case_link=lambda i: f"http://portal/cases/{i}"
    )
    told = list(db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "complaints/new_case")))
    assert [e.to_addr for e in told] == ["cora@example.org"]
    assert f"http://portal/cases/{complaint.id}" in told[0].text_body
    assert "C-2026-0001" in told[0].subject
    assert "cancelled" not in told[0].text_body and "Chris" not in told[0].text_body


def test_closed_cases_are_purged_after_their_retention_and_open_ones_kept(db, clock):
    closed = service.submit(db, values=form_values(), client="a", now=clock())
    kept_open = service.submit(db, values=form_values(email="b@example.org"), client="b", now=clock())
    for stage in ("referred", "closed"):
        service.move_stage(
            db,
            complaint_id=closed.id,
            from_stage=closed.stage,
            to_stage=stage,
            referred_to="The HCPC",
            actor=None,
            now=clock(),
        )
    keep = timedelta(days=2190)
    assert service.purge(db, now=clock() + keep, keep_closed=keep) == {"complaints": 0}
    assert service.purge(db, now=clock() + keep + timedelta(days=1), keep_closed=keep) == {"complaints": 1}
    assert [c.id for c in service.cases(db)] == [kept_open.id]
    assert db.scalar(select(func.count()).select_from(ComplaintEntry)) == 1
