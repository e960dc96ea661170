"""Data protection (issue 16, point 7), on both engines: the consent versions carried from the application
onto the member and renewed by re-consenting or renewing; resigning (the member, or staff with the day they
left); the automatic erasure of a former member's personal data the society's years after they left (only
then, leaving counts and an audit entry and no trace of them in any table, once however many workers run
it); and the data export, which holds their applications and payments."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from support import PASSWORD, as_sent, login, post

from portal import privacy
from portal.accounts.models import Account
from portal.accreditation.models import CpdEntry
from portal.audit import AuditEvent
from portal.events import catalogue
from portal.events.models import Answer, Invoice, Question, Registration, TicketType
from portal.mail.models import OutboxEmail
from portal.members.models import Member
from portal.membership import leaving, reports, service
from portal.membership.errors import MembershipError
from portal.membership.models import Application, ApplicationFile, ApplicationMessage, Renewal
from portal.membership.renewals import ManualRenewal, record_manual
from portal.society.models import MembershipSettings

from .conftest import PDF

#: What identifies the applicant, anywhere it might be kept (compared case-insensitively).
TRACES = ("zebedee", "quixotic", "unusual lane", "zq998877", "zanzibar", "oat milk")


def _versions(database: Any, *, conduct: str, privacy_version: str) -> None:
    with database.session() as s:
        row = s.get(MembershipSettings, 1)
        if row is None:
            s.add(
                MembershipSettings(
                    id=1, conduct_version=conduct, privacy_version=privacy_version, erase_after_years=6
                )
            )
        else:
            row.conduct_version, row.privacy_version = conduct, privacy_version


@pytest.fixture
def zebedee(database, clock, key, links, draft, admin) -> int:
    """An applicant who joined as a trainee (with a file of evidence and a word with the office), paid the
    first fee, renewed by cheque, logged some CPD, booked an event (saying they take oat milk) and holds a
    login: their data is in most of the rooms."""
    with database.session() as s:
        application = service.submit_application(
            s,
            category_code="trainee",
            draft=draft(
                first_name="Zebedee",
                last_name="Quixotic",
                email="zebedee.q@example.org",
                address="7 Unusual Lane, York",
                registration_number="ZQ998877",
                privacy_version="3",
                conduct_version="2",
            ),
            files=[service.Evidence("letter.pdf", "application/pdf", PDF)],
            ip="192.0.2.7",
            now=clock(),
            key=key,
            links=links,
        )
        assert application is not None
        s.add(
            ApplicationMessage(
                application_id=application.id,
                at=clock(),
                author="applicant",
                author_name="Zebedee Quixotic",
                body="My tutor was Professor Zanzibar.",
            )
        )
        service.approve(s, application_id=application.id, actor=admin, now=clock(), key=key, links=links)
        member = service.record_first_fee(
            s,
            application_id=application.id,
            received_on=clock().date(),
            actor=admin,
            now=clock(),
            key=key,
            links=links,
        )
        record_manual(
            s,
            member_id=member.id,
            data=ManualRenewal(
                paid_on=clock().date(), amount=3000, method="cheque", note="Cheque from Z. Quixotic"
            ),
            actor=admin,
            now=clock(),
        )
        s.add(
            CpdEntry(
                member_id=member.id,
                done_on=clock().date(),
                activity="Reading group with Zebedee's peers",
                hours=Decimal("2.5"),
                category="reading",
                reflection="I, Zebedee Quixotic, learnt a lot.",
                created_at=clock(),
            )
        )
        starts = clock() + timedelta(days=10)
        event = catalogue.create_event(
            s,
            data=catalogue.EventData(
                title="Autumn meeting",
                slug="autumn-meeting",
                kind="meeting",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                registration_opens_at=clock() - timedelta(days=1),
                registration_closes_at=starts,
            ),
            actor=None,
            now=clock(),
        )
        ticket = TicketType(event_id=event.id, name="Member")
        question = Question(event_id=event.id, label="Dietary needs")
        s.add_all([ticket, question])
        s.flush()
        registration = Registration(
            event_id=event.id,
            ticket_type_id=ticket.id,
            member_id=member.id,
            first_name="Zebedee",
            last_name="Quixotic",
            email="zebedee.q@example.org",
            status="confirmed",
            idempotency_key="k" * 64,
            manage_seed="s" * 32,
            manage_token_digest="d" * 64,
            created_at=clock(),
            updated_at=clock(),
        )
        s.add(registration)
        s.flush()
        s.add(Answer(registration_id=registration.id, question_id=question.id, value="Oat milk, please"))
        member_id = member.id
    return member_id


@pytest.fixture
def resigned(database, zebedee, clock, admin) -> int:
    """Zebedee resigns today (25 November 2026), recorded by the office."""
    with database.session() as s:
        leaving.resign(
            s, member_id=zebedee, left_on=clock().date(), actor=admin, by_member=False, now=clock()
        )
    return zebedee


def _member(database, member_id) -> Member:
    with database.session(write=False) as s:
        member = s.get(Member, member_id)
        s.expunge(member)
        return member


# --- consent ---------------------------------------------------------------------------------------------------


def test_approval_carries_the_versions_the_applicant_accepted_onto_the_member(database, zebedee):
    member = _member(database, zebedee)
    assert (member.conduct_version, member.privacy_version) == ("2", "3")
    with database.session(write=False) as s:
        declared = s.scalar(select(Application.declared_at).where(Application.member_id == zebedee))
    assert member.consented_at == declared


def test_the_staff_member_page_shows_the_versions_accepted(database, zebedee, office_client):
    page = office_client.get(f"/members/{zebedee}").text
    assert "Privacy notice accepted" in page and "Version 3" in page
    assert "Code of conduct accepted" in page and "Version 2" in page


def test_re_consenting_records_the_current_versions_in_the_history_and_the_audit_log(
    database, zebedee, clock
):
    _versions(database, conduct="2", privacy_version="4")
    with database.session() as s:
        assert leaving.needs_consent(s, s.get(Member, zebedee))
        clock.advance(days=3)
        leaving.accept_current(s, member_id=zebedee, now=clock(), source="consent")
        assert not leaving.needs_consent(s, s.get(Member, zebedee))
    member = _member(database, zebedee)
    assert (member.privacy_version, member.consented_at) == ("4", clock())
    with database.session(write=False) as s:
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "membership.consent"))
    assert entry is not None and json.loads(entry.details) == {"how": "consent", "privacy_version": "4"}


@pytest.fixture
def member_client(client, database, passwords, zebedee):
    """Zebedee's login, as if they had followed the activation link they were sent on paying the fee."""
    with database.session() as s:
        account = s.scalar(select(Account).where(Account.member_id == zebedee))
        assert account is not None and account.email == "zebedee.q@example.org"
        account.password_hash = passwords.hash(PASSWORD)
        account.is_active = True
    login(client, "zebedee.q@example.org")
    return client


def test_my_membership_asks_for_consent_to_a_new_privacy_notice_and_the_button_records_it(
    database, member_client, zebedee
):
    _versions(database, conduct="2", privacy_version="5")
    page = member_client.get("/me").text
    assert "privacy notice (version 5) has changed" in page
    response = post(member_client, "/membership/consent")
    assert response.status_code == 303
    assert "has changed" not in member_client.get("/me").text
    assert _member(database, zebedee).privacy_version == "5"


def test_asking_to_renew_accepts_the_current_versions(database, member_client, zebedee, clock):
    _versions(database, conduct="7", privacy_version="8")
    with database.session() as s:  # renewing is offered within 60 days of the renewal date
        s.get(Member, zebedee).renewal_on = clock().date() + timedelta(days=20)
    assert "current code of conduct and privacy notice" in member_client.get("/membership/renew").text
    assert post(member_client, "/membership/renew").status_code == 303
    member = _member(database, zebedee)
    assert (member.conduct_version, member.privacy_version) == ("7", "8")


# --- resigning -------------------------------------------------------------------------------------------------


def test_a_member_resigns_from_my_membership(database, member_client, zebedee, clock):
    assert '/membership/resign">Resign your membership' in member_client.get("/me").text
    refused = post(member_client, "/membership/resign", {})
    assert refused.status_code == 422 and "Tick the box" in refused.text
    assert post(member_client, "/membership/resign", {"confirm": "yes"}).status_code == 303
    member = _member(database, zebedee)
    assert (member.status, member.left_on) == ("resigned", clock().date())
    with database.session(write=False) as s:
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "membership.resign"))
        sent = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "membership/resigned"))
        assert json.loads(entry.details) == {"by": "member", "left_on": "2026-11-25"}
        assert sent is not None and sent.to_addr == "zebedee.q@example.org"
        mail = as_sent(sent)
    assert "ended\non 25 November 2026" in mail.text and "6 years after you left" in mail.text
    assert "Resign your membership" not in member_client.get("/me").text


def test_staff_record_a_resignation_with_the_day_they_left_and_not_one_in_the_future(
    database, zebedee, office_client, clock
):
    with database.session() as s:
        s.get(Member, zebedee).joined_on = date(2020, 1, 1)
    future = post(office_client, f"/membership/members/{zebedee}/resign", {"left_on": "2026-12-01"})
    assert future.status_code == 422 and "cannot be in the future" in future.text
    assert _member(database, zebedee).status == "active"
    done = post(office_client, f"/membership/members/{zebedee}/resign", {"left_on": "2026-10-31"})
    assert done.status_code == 303
    member = _member(database, zebedee)
    assert (member.status, member.left_on) == ("resigned", date(2026, 10, 31))
    again = post(office_client, f"/membership/members/{zebedee}/resign", {"left_on": "2026-10-31"})
    assert again.status_code == 422 and "already resigned" in again.text


def test_a_resigned_member_cannot_renew(database, resigned, clock):
    from portal.membership.renewals import request_renewal

    with database.session() as s, pytest.raises(MembershipError):
        request_renewal(s, member_id=resigned, now=clock())


# --- erasure after N years -------------------------------------------------------------------------------------


def test_a_resigned_member_is_erased_only_once_the_years_have_passed(database, resigned, clock, app):
    clock.advance(days=365 * 6)  # 23 November 2032: six years on is the 25th
    assert privacy.run_once(app) == 0
    assert _member(database, resigned).erased_at is None
    clock.advance(days=1)  # the 24th
    assert privacy.run_once(app) == 0
    clock.advance(days=1)  # 25 November 2032
    assert privacy.run_once(app) == 1
    member = _member(database, resigned)
    assert member.erased_at == clock() and member.email is None and member.last_name == "Erased member"
    assert privacy.run_once(app) == 0  # once


def test_a_lapsed_member_is_erased_the_years_after_their_grace_period_ended(database, clock, app):
    with database.session() as s:
        for number, renewal_on, status in (
            ("1", date(2020, 10, 24), "active"),
            ("2", date(2020, 10, 26), "lapsed"),
            ("3", date(2020, 1, 1), "pending"),
        ):
            s.add(
                Member(
                    membership_number=number,
                    email=f"{number}@example.org",
                    first_name="Lapsed",
                    last_name=number,
                    category="basic",
                    status=status,
                    renewal_on=renewal_on,
                    created_at=clock(),
                    updated_at=clock(),
                )
            )
    # Number 1 lapsed on 24 November 2020, six years and a day ago; number 2 (lapsed by hand) on the 26th; 3
    # never paid its first fee, so never was a member to leave.
    assert privacy.run_once(app) == 1
    with database.session(write=False) as s:
        erased = dict(s.execute(select(Member.membership_number, Member.erased_at.is_not(None))).all())
    assert erased == {"1": True, "2": False, "3": False}
    clock.advance(days=1)
    assert privacy.run_once(app) == 1
    clock.advance(days=365 * 20)
    assert privacy.run_once(app) == 0
    with database.session(write=False) as s:
        assert s.scalar(select(Member.erased_at).where(Member.membership_number == "3")) is None


def test_the_society_sets_the_years_and_the_office_edits_them_with_the_other_settings(
    database, resigned, clock, app, office_client
):
    bad = post(office_client, "/membership/settings", {**_settings_form(), "erase_after_years": "0"})
    assert bad.status_code == 422 and "at least 1" in bad.text
    assert (
        post(
            office_client, "/membership/settings", {**_settings_form(), "erase_after_years": "2"}
        ).status_code
        == 303
    )
    assert 'value="2"' in office_client.get("/membership/settings").text
    clock.advance(days=365 * 2 + 1)
    assert privacy.run_once(app) == 1


def _settings_form() -> dict[str, str]:
    return {
        "year_kind": "rolling",
        "year_start_month": "4",
        "year_start_day": "1",
        "first_fee": "full",
        "conduct_version": "2",
        "privacy_version": "3",
        "grace_days": "30",
    }


def _counts(database, clock) -> dict[str, Any]:
    with database.session(write=False) as s:
        tables = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Member, Application, Renewal, Invoice, Registration, CpdEntry)
        }
        tables["invoice_totals"] = sorted(s.scalars(select(Invoice.total)))
        tables["invoice_numbers"] = sorted(s.scalars(select(Invoice.number)))
        tables["cpd_hours"] = [str(h) for h in s.scalars(select(CpdEntry.hours))]
        tables["by_category"] = reports.by_category(s, now=clock()).total
        tables["income"] = [
            (i.code, i.total) for i in reports.income(s, since=date(2026, 1, 1), until=date(2026, 12, 31))
        ]
    return tables


def test_erasure_keeps_the_counts_and_figures_and_writes_an_audit_entry_without_personal_data(
    database, resigned, clock, app
):
    before = _counts(database, clock)
    assert before["income"] == [("trainee", 6000)]
    clock.advance(days=365 * 6 + 2)
    assert privacy.run_once(app) == 1
    assert _counts(database, clock) == before
    with database.session(write=False) as s:
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "member.erase_due"))
        number = s.get(Member, resigned).membership_number
        assert s.scalar(select(func.count()).select_from(ApplicationFile)) == 0
        assert s.scalar(select(func.count()).select_from(ApplicationMessage)) == 0
        assert s.scalar(select(func.count()).select_from(Answer)) == 0
    assert entry is not None and entry.subject == number and entry.actor_id is None
    assert json.loads(entry.details) == {"after_years": 6}


def _traces(database) -> list[str]:
    """Every (table, column) of the whole database holding a trace of the applicant."""
    found = []
    engine = database.engine
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            if table == "alembic_version":
                continue
            result = conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("utf-8", "ignore")
                    if isinstance(value, str) and any(t in value.lower() for t in TRACES):
                        found.append(f"{table}.{column}")
    return sorted(set(found))


def test_after_erasure_no_table_holds_the_former_members_name_address_or_details(
    database, resigned, clock, app
):
    assert "members.email" in _traces(database)  # the check finds them while they are there
    clock.advance(days=365 * 6 + 2)
    privacy.run_once(app)
    assert _traces(database) == []


def test_two_workers_erasing_at_once_erase_once_and_audit_once(database, resigned, clock):
    clock.advance(days=365 * 6 + 2)
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            results.append(privacy.erase_due(database, now=clock()) == 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [False, True]
    with database.session(write=False) as s:
        audits = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "member.erase_due")
        )
    assert audits == 1


def test_two_sessions_claiming_the_same_member_claim_it_once(database, resigned, clock):
    """The claim itself, interleaved by hand: the second erases nothing once the first has committed."""
    clock.advance(days=365 * 6 + 2)
    with database.session() as first:
        assert privacy.erase_if_due(first, member_id=resigned, now=clock())
    with database.session() as second:
        assert not privacy.erase_if_due(second, member_id=resigned, now=clock())


def test_staff_erasing_by_hand_also_erases_the_other_rooms(database, resigned, office_client):
    assert post(office_client, f"/members/{resigned}/erase", {"confirm": "yes"}).status_code == 303
    assert _traces(database) == []


# --- the data export -------------------------------------------------------------------------------------------


def test_the_data_export_holds_the_applications_and_payments(database, zebedee, office_client):
    response = post(office_client, f"/members/{zebedee}/export")
    assert response.status_code == 200
    data = response.json()
    [application] = data["applications"]
    assert application["first_name"] == "Zebedee" and application["address"] == "7 Unusual Lane, York"
    assert application["registration_number"] == "ZQ998877" and application["privacy_version"] == "3"
    assert [f["filename"] for f in application["files"]] == ["letter.pdf"]
    assert [m["body"] for m in application["messages"]] == ["My tutor was Professor Zanzibar."]
    payments = data["payments"]
    [first] = payments["first_fees"]
    assert first["amount"] == 3000 and first["paid_on"] == "2026-11-25"
    assert (
        first["invoice"]["number"] == "INV-000001" and first["invoice"]["buyer"]["name"] == "Zebedee Quixotic"
    )
    [renewal] = payments["renewals"]
    assert (renewal["amount"], renewal["method"], renewal["note"]) == (
        3000,
        "cheque",
        "Cheque from Z. Quixotic",
    )
    [booking] = payments["bookings"]
    assert booking["payment_status"] == "unpaid"
    assert (data["member"]["privacy_version"], data["member"]["conduct_version"]) == ("3", "2")


def test_staff_setting_the_status_to_resigned_keeps_the_day_they_left(
    database, zebedee, office_client, clock
):
    from portal.members import service as members

    with database.session() as s:
        _member_row, changes = members.change_member(
            s, member_id=zebedee, values={"status": "resigned"}, actor="Olive", source="staff", now=clock()
        )
    assert changes["left_on"] == [None, "2026-11-25"]
    assert _member(database, zebedee).left_on == date(2026, 11, 25)
