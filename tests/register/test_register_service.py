"""The register's rules without HTTP: who is on it (from the clock), searching it, the statuses staff set after
a complaint case (audited), the regulator's CSV and the accreditations ending soon."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.complaints.models import Complaint
from portal.errors import Invalid, NotFound
from portal.members.models import Member
from portal.register import service
from tests.register.conftest import TODAY


def _case(database, clock, reference="C-2026-0007"):
    with database.session() as s:
        found = Complaint(
            reference=reference, year=2026, number=7, about="member", subject_name="Megan Hughes",
            complainant_name="Cal Complainant", complainant_email="cal@example.org", what_happened="x",
            happened_when="May", outcome_sought="y", stage="outcome", received_at=clock(),
            acknowledge_by=TODAY, outcome_by=TODAY, updated_at=clock(),
        )  # fmt: skip
        s.add(found)
        s.flush()
        return found.id


def _numbers(database, clock, **search):
    with database.session(write=False) as s:
        return [e.number for e in service.search(s, service.Search(**search), now=clock()).entries]


def test_a_member_holding_a_level_today_is_on_the_register_with_the_level_and_its_dates(
    database, clock, registrant
):
    r = registrant(conditions="Supervised monthly by an IPT supervisor.")
    with database.session(write=False) as s:
        found = service.entry(s, number=r.number, now=clock())
    assert found.name == "Megan Hughes" and found.on_register
    assert [(h.level, h.from_on, h.until_on) for h in found.held] == [
        ("IPT practitioner", TODAY - timedelta(days=30), TODAY + timedelta(days=335))
    ]
    assert found.shown_status == "conditions"
    assert found.conditions == ["IPT practitioner: Supervised monthly by an IPT supervisor."]


def test_the_day_after_the_level_ends_the_person_is_off_the_register(database, clock, registrant):
    r = registrant(until_on=TODAY)
    assert _numbers(database, clock) == [r.number]
    clock.advance(days=1)
    assert _numbers(database, clock) == []
    with database.session(write=False) as s, pytest.raises(NotFound):
        service.entry(s, number=r.number, now=clock())


def test_a_lapsed_or_resigned_member_leaves_the_register_at_once(database, clock, registrant):
    in_grace = registrant("Gail", "Grace", renewal_on=TODAY - timedelta(days=5))
    lapsed = registrant("Lara", "Lapsed", renewal_on=TODAY - timedelta(days=45))
    registrant("Rory", "Resigned", status="resigned")
    registrant("Nina", "Noholding", hold=False)
    assert _numbers(database, clock) == [in_grace.number]
    assert lapsed.number not in _numbers(database, clock, q=lapsed.number)


def test_a_level_not_yet_begun_does_not_put_anyone_on_the_register(database, clock, registrant):
    registrant(from_on=TODAY + timedelta(days=1), until_on=TODAY + timedelta(days=400))
    assert _numbers(database, clock) == []


def test_search_finds_by_any_part_of_the_name_or_exactly_by_the_registration_number(
    database, clock, registrant
):
    megan = registrant("Megan", "Hughes", number="2001")
    owen = registrant("Owen", "Price", number="20011")
    assert _numbers(database, clock, q="hug") == [megan.number]
    assert _numbers(database, clock, q="MEGAN HUGHES") == [megan.number]
    assert _numbers(database, clock, q="2001") == [megan.number]
    assert _numbers(database, clock, q="20011") == [owen.number]
    assert _numbers(database, clock, q="100%") == []
    assert _numbers(database, clock, q="_") == []


def test_search_by_town_and_region_reads_the_published_profile(database, clock, registrant):
    from portal.register import directory

    megan = registrant("Megan", "Hughes")
    owen = registrant("Owen", "Price")
    with database.session() as s:
        directory.save_profile(
            s, member_id=megan.member_id, actor=None, now=clock(), photo=None, remove_photo=False,
            data=directory.ProfileData(published=True, towns=("Manchester", "Salford"), region="north-west"),
        )  # fmt: skip
        directory.save_profile(
            s, member_id=owen.member_id, actor=None, now=clock(), photo=None, remove_photo=False,
            data=directory.ProfileData(published=False, towns=("Manchester",), region="north-west"),
        )  # fmt: skip
    assert _numbers(database, clock, town="salford") == [megan.number]
    assert _numbers(database, clock, town="Manch") == [megan.number]
    assert _numbers(database, clock, region="north-west") == [megan.number]
    assert _numbers(database, clock, region="london") == []


def test_the_register_is_paged_by_name(database, clock, registrant):
    for n in range(service.PAGE_SIZE + 2):
        registrant("Pat", f"Person{n:02d}")
    with database.session(write=False) as s:
        second = service.search(s, service.Search(page=2), now=clock())
    assert second.total == service.PAGE_SIZE + 2 and second.pages == 2
    assert [e.name for e in second.entries] == ["Pat Person25", "Pat Person26"]


def test_staff_set_a_status_with_its_public_wording_and_the_case_audited(database, clock, registrant, admin):
    r = registrant()
    case_id = _case(database, clock)
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="suspended", wording="Suspended pending a hearing.",
            complaint_id=case_id, actor=admin, now=clock(),
        )  # fmt: skip
    with database.session(write=False) as s:
        found = service.entry(s, number=r.number, now=clock())
        logged = s.scalars(select(AuditEvent).where(AuditEvent.action == "register.status_set")).all()
    assert found.status_label == "Suspended" and found.wording == "Suspended pending a hearing."
    assert found.complaint_reference == "C-2026-0007"
    assert len(logged) == 1 and '"suspended"' in logged[0].details and logged[0].actor_id == admin.id


def test_a_status_other_than_registered_needs_its_public_wording(database, clock, registrant, admin):
    r = registrant()
    with database.session() as s:
        with pytest.raises(Invalid) as caught:
            service.set_status(
                s, member_id=r.member_id, status="conditions", wording=" ", complaint_id=None, actor=admin,
                now=clock(),
            )  # fmt: skip
        assert caught.value.code == "no_wording"
        with pytest.raises(Invalid) as caught:
            service.set_status(
                s, member_id=r.member_id, status="struck-off", wording="x", complaint_id=None, actor=admin,
                now=clock(),
            )  # fmt: skip
        assert caught.value.code == "bad_status"


def test_conditions_set_by_staff_show_beside_the_levels_own(database, clock, registrant, admin):
    r = registrant(conditions="No work with adolescents.")
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="conditions", wording="Monthly supervision reports.",
            complaint_id=None, actor=admin, now=clock(),
        )  # fmt: skip
    with database.session(write=False) as s:
        found = service.entry(s, number=r.number, now=clock())
    assert found.conditions == ["IPT practitioner: No work with adolescents.", "Monthly supervision reports."]


def test_a_removal_stays_as_a_notice_after_the_person_leaves_the_register(database, clock, registrant, admin):
    r = registrant(until_on=TODAY + timedelta(days=2))
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="removed", wording="Removed after a finding of misconduct.",
            complaint_id=None, actor=admin, now=clock(),
        )  # fmt: skip
    clock.advance(days=10)
    with database.session(write=False) as s:
        found = service.entry(s, number=r.number, now=clock())
        notices = service.removals(s)
    assert not found.on_register and found.status == "removed"
    assert [(m.membership_number, st.wording) for m, st in notices] == [
        (r.number, "Removed after a finding of misconduct.")
    ]


def test_the_last_updated_date_follows_the_latest_change(database, clock, registrant, admin):
    r = registrant()
    with database.session(write=False) as s:
        assert service.entry(s, number=r.number, now=clock()).last_updated == TODAY
    clock.advance(days=3)
    with database.session() as s:
        service.set_status(
            s, member_id=r.member_id, status="registered", wording="", complaint_id=None, actor=admin,
            now=clock(),
        )  # fmt: skip
    with database.session(write=False) as s:
        assert service.entry(s, number=r.number, now=clock()).last_updated == TODAY + timedelta(days=3)


def test_the_regulator_s_csv_holds_everyone_on_the_register_and_the_removals_safely(
    database, clock, registrant, admin
):
    registrant('=HYPERLINK("x")', "Formula", number="4001")
    gone = registrant("Rhys", "Removed", number="4002")
    registrant("Lara", "Lapsed", number="4003", renewal_on=TODAY - timedelta(days=60))
    with database.session() as s:
        service.set_status(
            s, member_id=gone.member_id, status="removed", wording="Removed.", complaint_id=None, actor=admin,
            now=clock(),
        )  # fmt: skip
        body, count = service.export_csv(s, actor=admin, now=clock())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "Registration number" and count == 2
    assert [r[0] for r in rows[1:]] == ["4001", "4002"]
    assert rows[1][1].startswith("'=")
    assert rows[2][2] == "Removed from the register"
    with database.session(write=False) as s:
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "register.export_csv"))


def test_the_accreditations_ending_in_90_days_leave_out_the_re_accredited(
    database, clock, registrant, levels
):
    from portal.accreditation import cpd

    soon = registrant("Sam", "Soon", until_on=TODAY + timedelta(days=20))
    renewed = registrant("Rae", "Renewed", until_on=TODAY + timedelta(days=30))
    registrant("Lee", "Later", until_on=TODAY + timedelta(days=200))
    with database.session() as s:
        cpd.record_holding(
            s, member_id=renewed.member_id, level_id=levels["ipt-practitioner"],
            from_on=TODAY + timedelta(days=31), until_on=TODAY + timedelta(days=1000), actor=None, now=clock(),
        )  # fmt: skip
        found = service.expiring(s, now=clock())
    assert [(e.member.membership_number, e.days) for e in found] == [(soon.number, 20)]


def test_on_register_uses_the_uk_day(database, registrant):
    r = registrant(until_on=TODAY)
    # 23:30 UTC on 25 November is still the 25th in London (GMT); 00:30 UTC on the 26th is not.
    with database.session(write=False) as s:
        assert service.is_on_register(
            s, member_id=r.member_id, now=datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
        )
        assert not service.is_on_register(
            s, member_id=r.member_id, now=datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
        )
    with database.session(write=False) as s:
        assert s.get(Member, r.member_id) is not None
