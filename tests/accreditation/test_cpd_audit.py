"""The random CPD audit without HTTP: drawn from everyone accredited on the day, reproducible from its stored
seed and pool, each registrant e-mailed, outcomes recorded. Both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.accreditation import audits, cpd
from portal.errors import PortalError
from portal.mail.models import OutboxEmail
from portal.members.models import Member

TODAY = date(2026, 11, 25)


@pytest.fixture
def registrants(db, clock, admin, levels):
    """Twelve accredited members (and two who are not: one lapsed, one whose accreditation ended)."""
    ids = []
    for number in range(14):
        member = Member(membership_number=f"{3000 + number}", email=f"r{number}@example.org", first_name="R",
                        last_name=f"Person {number}", category="basic",
                        status="lapsed" if number == 12 else "active", created_at=clock(), updated_at=clock())  # fmt: skip
        db.add(member)
        db.flush()
        until = date(2026, 1, 1) if number == 13 else date(2028, 1, 1)
        cpd.record_holding(db, member_id=member.id, level_id=levels["ipt-practitioner"], from_on=date(2025, 1, 1),
                           until_on=until, actor=admin, now=clock())  # fmt: skip
        ids.append(member.id)
    db.commit()
    return ids


def test_the_pool_is_everyone_accredited_and_active_today_in_membership_number_order(db, registrants):
    assert audits.registrants(db, today=TODAY) == registrants[:12]


def test_an_audit_is_reproducible_from_its_stored_seed(db, clock, admin, registrants, links):
    found = audits.draw(
        db, size=5, deadline=date(2027, 1, 31), today=TODAY, actor=admin, now=clock(), links=links
    )
    drawn = [row.member_id for row, _ in audits.drawn(db, audit_id=found.id)]
    assert len(drawn) == 5 and set(drawn) <= set(registrants[:12])
    db.expire_all()
    stored = audits.get_audit(db, found.id)
    assert audits.redraw(stored) == drawn
    # The same seed over the same pool gives the same draw; another seed (almost surely) another.
    again = audits.draw(db, size=5, deadline=date(2027, 1, 31), today=TODAY, actor=admin, now=clock(), links=links,
                        seed=stored.seed)  # fmt: skip
    assert [row.member_id for row, _ in audits.drawn(db, audit_id=again.id)] == drawn


def test_each_registrant_drawn_is_asked_by_email_for_their_log_by_the_deadline(
    db, clock, admin, registrants, links
):
    audits.draw(
        db, size=3, deadline=date(2027, 1, 31), today=TODAY, actor=admin, now=clock(), links=links, seed=7
    )
    emails = db.scalars(select(OutboxEmail).where(OutboxEmail.kind == "accreditation/cpd_audit")).all()
    assert len(emails) == 3
    from portal.mail import rendering

    for email in emails:
        rendered = rendering.render(email.kind, rendering.thaw(email.context))
        assert "31 January 2027" in rendered.subject
        assert "http://testserver/me/cpd" in rendered.text


def test_an_audit_larger_than_the_pool_draws_everyone(db, clock, admin, registrants, links):
    found = audits.draw(
        db, size=50, deadline=date(2027, 1, 31), today=TODAY, actor=admin, now=clock(), links=links
    )
    assert sorted(row.member_id for row, _ in audits.drawn(db, audit_id=found.id)) == registrants[:12]


def test_outcomes_are_recorded_and_a_bad_one_refused(db, clock, admin, registrants, links):
    found = audits.draw(
        db, size=2, deadline=date(2027, 1, 31), today=TODAY, actor=admin, now=clock(), links=links
    )
    (first, _), _ = audits.drawn(db, audit_id=found.id)
    row = audits.record_outcome(db, audit_id=found.id, member_id=first.member_id, outcome="extension",
                                actor=admin, now=clock())  # fmt: skip
    assert row.outcome == "extension"
    with pytest.raises(PortalError) as caught:
        audits.record_outcome(db, audit_id=found.id, member_id=first.member_id, outcome="pending", actor=admin,
                              now=clock())  # fmt: skip
    assert caught.value.code == "bad_outcome"


def test_a_deadline_not_after_today_or_an_empty_pool_is_refused(db, clock, admin, levels, links):
    with pytest.raises(PortalError) as caught:
        audits.draw(db, size=2, deadline=TODAY, today=TODAY, actor=admin, now=clock(), links=links)
    assert caught.value.code == "bad_dates"
    with pytest.raises(PortalError) as caught:
        audits.draw(db, size=2, deadline=date(2027, 1, 1), today=TODAY, actor=admin, now=clock(), links=links)
    assert caught.value.code == "no_registrants"


def test_the_officer_draws_an_audit_and_records_an_outcome_over_http(
    client, database, passwords, registrants, clock
):
    from support import login, make_account, post

    make_account(database, passwords, email="acc@example.org", roles="accreditation", name="Avi Officer")
    login(client, "acc@example.org")
    page = client.get("/accreditation/audits")
    assert page.status_code == 200 and "12 registrants accredited today" in page.text
    bad = post(client, "/accreditation/audits", {"size": "none", "deadline": "2026-11-01"})
    assert bad.status_code == 422 and 'id="f-size-error"' in bad.text
    past = post(client, "/accreditation/audits", {"size": "3", "deadline": "2026-11-01"})
    assert past.status_code == 422 and 'id="f-deadline-error"' in past.text
    drawn = post(client, "/accreditation/audits", {"size": "3", "deadline": "2027-01-31"})
    assert drawn.status_code == 303
    audit_page = client.get(drawn.headers["location"])
    assert audit_page.status_code == 200 and audit_page.text.count('name="member_id"') == 3
    with database.session() as s:
        (audit,) = s.scalars(select(audits.CpdAudit)).all()
        first = audits.drawn(s, audit_id=audit.id)[0][0].member_id
        assert "seed <code>" + str(audit.seed) in audit_page.text
    done = post(client, drawn.headers["location"], {"member_id": str(first), "outcome": "met"})
    assert done.status_code == 303
    assert ">Met</td>" in client.get(drawn.headers["location"]).text
