"""Claiming e-mails from the outbox, retries with backoff, giving up, staff retry: domain rules without SMTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.mail import service
from portal.mail.models import OutboxEmail


def _enqueue(database, clock, *, to="member@example.org") -> int:
    with database.session() as session:
        email = service.enqueue(
            session,
            to=to,
            template="accounts/email_changed",
            context={"society_name": "IPT UK", "name": "Mary", "new_email": "new@example.org"},
            now=clock(),
        )
        return email.id


def _claim(database, clock, worker="w1", limit=10) -> list[int]:
    with database.session() as session:
        return service.claim(session, worker=worker, now=clock(), limit=limit, message_domain="example.org")


def _get(database, email_id) -> OutboxEmail:
    with database.session(write=False) as session:
        return session.get(OutboxEmail, email_id)


def test_enqueue_writes_a_pending_row_rendered_from_the_templates(database, clock):
    email = _get(database, _enqueue(database, clock))
    assert email.status == "pending" and email.attempts == 0
    assert email.subject == "Your e-mail address with IPT UK has changed"
    assert "is now new@example.org" in email.text_body
    assert email.next_attempt_at == clock()


def test_enqueue_refuses_an_address_that_could_inject_headers(db, clock):
    with pytest.raises(ValueError):
        service.enqueue(
            db,
            to="a@example.org\nBcc: everyone@example.org",
            template="accounts/email_changed",
            context={"society_name": "IPT UK", "name": "M", "new_email": "n@example.org"},
            now=clock(),
        )


def test_an_email_enqueued_in_a_transaction_that_rolls_back_is_never_sent(database, clock):
    session = database.new_session()
    service.enqueue(
        session,
        to="a@example.org",
        template="accounts/email_changed",
        context={"society_name": "IPT UK", "name": "M", "new_email": "n@example.org"},
        now=clock(),
    )
    session.rollback()
    session.close()
    assert _claim(database, clock) == []


def test_a_claim_marks_the_email_sending_for_one_worker_and_counts_the_attempt(database, clock):
    email_id = _enqueue(database, clock)
    assert _claim(database, clock, worker="w1") == [email_id]
    email = _get(database, email_id)
    assert (email.status, email.claimed_by, email.attempts) == ("sending", "w1", 1)
    assert email.claimed_at == clock()
    assert email.message_id.endswith("@example.org>")


def test_a_claimed_email_is_not_claimed_again_by_another_worker(database, clock):
    _enqueue(database, clock)
    assert len(_claim(database, clock, worker="w1")) == 1
    assert _claim(database, clock, worker="w2") == []


def test_a_claim_takes_at_most_the_batch_size_oldest_first(database, clock):
    ids = [_enqueue(database, clock) for _ in range(5)]
    assert _claim(database, clock, limit=3) == ids[:3]
    assert _claim(database, clock, worker="w2", limit=3) == ids[3:]


def test_an_email_not_yet_due_is_not_claimed(database, clock):
    email_id = _enqueue(database, clock)
    with database.session() as session:
        session.get(OutboxEmail, email_id).next_attempt_at = clock() + timedelta(minutes=5)
    assert _claim(database, clock) == []
    clock.advance(minutes=5)
    assert _claim(database, clock) == [email_id]


def test_a_claim_younger_than_ten_minutes_is_left_to_its_worker(database, clock):
    email_id = _enqueue(database, clock)
    _claim(database, clock, worker="w1")
    clock.advance(minutes=9)
    assert _claim(database, clock, worker="w2") == []
    assert _get(database, email_id).claimed_by == "w1"


def test_an_abandoned_claim_is_taken_over_and_keeps_its_message_id(database, clock):
    email_id = _enqueue(database, clock)
    _claim(database, clock, worker="dead")
    first = _get(database, email_id).message_id
    clock.advance(minutes=11)
    assert _claim(database, clock, worker="w2") == [email_id]
    email = _get(database, email_id)
    assert (email.claimed_by, email.attempts, email.message_id) == ("w2", 2, first)


def test_the_worker_that_lost_its_claim_cannot_record_the_outcome(database, clock):
    email_id = _enqueue(database, clock)
    _claim(database, clock, worker="slow")
    clock.advance(minutes=11)
    _claim(database, clock, worker="w2")
    with database.session() as session:
        assert not service.mark_sent(session, email_id=email_id, worker="slow", now=clock())
        assert (
            service.mark_failed_attempt(session, email_id=email_id, worker="slow", now=clock(), error="x")
            is None
        )
        assert service.mark_sent(session, email_id=email_id, worker="w2", now=clock())
    assert _get(database, email_id).status == "sent"


def test_an_abandoned_claim_on_its_last_attempt_is_given_up(database, clock):
    email_id = _enqueue(database, clock)
    with database.session() as session:
        email = session.get(OutboxEmail, email_id)
        email.attempts = service.MAX_ATTEMPTS - 1
    _claim(database, clock, worker="dead")
    clock.advance(minutes=11)
    assert _claim(database, clock, worker="w2") == []
    email = _get(database, email_id)
    assert email.status == "failed" and "stopped" in email.last_error


def test_backoff_doubles_from_one_minute_and_never_exceeds_an_hour():
    assert [service.backoff(n) for n in range(1, 9)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)
    ]


def test_a_failed_attempt_goes_back_to_pending_after_the_backoff_with_its_error(database, clock):
    email_id = _enqueue(database, clock)
    for attempt, wait in ((1, 1), (2, 2), (3, 4)):
        assert _claim(database, clock) == [email_id]
        with database.session() as session:
            status = service.mark_failed_attempt(
                session, email_id=email_id, worker="w1", now=clock(), error=f"refused {attempt}"
            )
        assert status == "pending"
        email = _get(database, email_id)
        assert email.attempts == attempt and email.last_error == f"refused {attempt}"
        assert email.next_attempt_at == clock() + timedelta(minutes=wait)
        assert _claim(database, clock) == []
        clock.advance(minutes=wait)


def test_the_eighth_failed_attempt_fails_the_email_for_good(database, clock):
    email_id = _enqueue(database, clock)
    statuses = []
    for _ in range(service.MAX_ATTEMPTS):
        clock.advance(hours=1)
        assert _claim(database, clock) == [email_id]
        with database.session() as session:
            statuses.append(
                service.mark_failed_attempt(
                    session, email_id=email_id, worker="w1", now=clock(), error="down"
                )
            )
    assert statuses == ["pending"] * (service.MAX_ATTEMPTS - 1) + ["failed"]
    clock.advance(hours=2)
    assert _claim(database, clock) == []


def test_a_permanent_failure_fails_at_once(database, clock):
    email_id = _enqueue(database, clock)
    _claim(database, clock)
    with database.session() as session:
        status = service.mark_failed_attempt(
            session, email_id=email_id, worker="w1", now=clock(), error="550 no such mailbox", permanent=True
        )
    assert status == "failed"


def test_staff_retry_gives_a_failed_email_fresh_attempts_now_and_is_audited(database, clock, admin):
    email_id = _enqueue(database, clock)
    _claim(database, clock)
    with database.session() as session:
        service.mark_failed_attempt(
            session, email_id=email_id, worker="w1", now=clock(), error="x", permanent=True
        )
    clock.advance(minutes=3)
    with database.session() as session:
        service.retry(session, email_id=email_id, actor=admin, now=clock())
    email = _get(database, email_id)
    assert (email.status, email.attempts, email.next_attempt_at) == ("pending", 0, clock())
    assert _claim(database, clock) == [email_id]
    with database.session(write=False) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "mail.retry" in actions


def test_staff_can_retry_only_a_failed_email(db, database, clock, admin):
    email_id = _enqueue(database, clock)
    with pytest.raises(service.MailError) as caught:
        service.retry(db, email_id=email_id, actor=admin, now=clock())
    assert caught.value.code == "not_failed"


def test_counts_cover_every_status(database, clock):
    _enqueue(database, clock)
    _enqueue(database, clock)
    _claim(database, clock, limit=1)
    with database.session(write=False) as session:
        assert service.counts(session) == {"pending": 1, "sending": 1, "sent": 0, "logged": 0, "failed": 0}


def test_claims_handed_back_at_shutdown_are_pending_again_without_counting_an_attempt(database, clock):
    ids = [_enqueue(database, clock) for _ in range(2)]
    _claim(database, clock, worker="w1")
    with database.session() as session:
        service.release(session, email_ids=ids, worker="w1")
    emails = [_get(database, email_id) for email_id in ids]
    assert [(e.status, e.attempts) for e in emails] == [("pending", 0)] * 2
    assert _claim(database, clock, worker="w2") == ids


def test_claims_made_at_the_same_time_never_overlap(database, clock):
    ids = [_enqueue(database, clock) for _ in range(10)]
    first = database.new_session()
    mine = service.claim(first, worker="w1", now=clock(), limit=5, message_domain="example.org")
    # The first claim is not committed yet: on PostgreSQL the second sender skips its locked rows, on
    # SQLite it waits for the first transaction to end. Either way it never takes the same e-mails.
    theirs: list[int] = []
    second = threading.Thread(target=lambda: theirs.extend(_claim(database, clock, worker="w2", limit=10)))
    second.start()
    first.commit()
    first.close()
    second.join(timeout=30)
    assert sorted(mine + theirs) == ids
    assert not set(mine) & set(theirs)
