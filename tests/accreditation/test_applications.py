"""Applying for accreditation: the supervisor's private link (right, wrong, expired, reused), the reviewer's
decisions (approve with conditions makes the holding with the wording; ask for more and the member's answer;
refuse), another member's application out of reach, re-accreditation's window and its reminders sent once.
Both engines."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from support import AUDIT_KEY, as_sent, login, make_account, post, stored_anywhere

from portal.accreditation import applications as apps
from portal.accreditation import cpd, reaccreditation
from portal.accreditation.models import Holding, LevelApplication, Reminder
from portal.audit import AuditEvent
from portal.db import Database
from portal.errors import PortalError
from portal.mail.models import OutboxEmail
from portal.members.models import Member

TODAY = date(2026, 11, 25)
LINK = re.compile(r"http://testserver/accreditation/supervise/(\S+)")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _data(**changes):
    values = {
        "training_done": True,
        "training_registration_id": None,
        "training_note": "Leeds, 2024",
        "supervised_cases": 4,
        "supervision_hours": 30,
        "supervisor_name": "Sam Supervisor",
        "supervisor_email": "sam@example.org",
    }
    values.update(changes)
    return apps.ApplicationData(**values)


def _apply(database, member, levels, clock, key, links, level="ipt-practitioner", today=TODAY, **changes):
    with database.session() as s:
        found = apps.apply(s, member_id=member.id, level_id=levels[level], data=_data(**changes), files=[],
                           today=today, now=clock(), key=key, links=links)  # fmt: skip
        return found.id


def _token(database, to="sam@example.org") -> str:
    with database.session() as s:
        email = s.scalars(
            select(OutboxEmail).where(
                OutboxEmail.kind == "accreditation/supervisor_request", OutboxEmail.to_addr == to
            )
        ).all()[-1]
        return LINK.search(as_sent(email).text).group(1)


def _application(database, application_id) -> LevelApplication:
    with database.session() as s:
        found = s.get(LevelApplication, application_id)
        s.expunge(found)
        return found


def _other_member(database, passwords, clock):
    from portal.accounts.models import Account

    with database.session() as s:
        other = Member(membership_number="2002", email="owen@example.org", first_name="Owen", last_name="Other",
                       category="basic", status="active", created_at=clock(), updated_at=clock())  # fmt: skip
        s.add(other)
        s.flush()
        other_id = other.id
    account = make_account(database, passwords, email="owen@example.org", name="Owen Other")
    with database.session() as s:
        s.get(Account, account.id).member_id = other_id
    return other_id


# --- the supervisor's link -------------------------------------------------------------------------------------


def test_the_supervisor_confirms_by_the_emailed_link_which_then_works_no_more(
    database, member, levels, clock, key, links
):
    application_id = _apply(database, member, levels, clock, key, links)
    token = _token(database)
    # The link is stored nowhere readable: the application keeps its keyed digest, the outbox a sealed copy.
    assert stored_anywhere(database, f"http://testserver/accreditation/supervise/{token}") == []
    with database.session() as s:
        assert apps.for_supervisor(s, token=token, key=key, now=clock()).id == application_id
        apps.supervisor_answer(s, token=token, confirm=True, comment="", key=key, now=clock())
    found = _application(database, application_id)
    assert (found.status, found.supervisor_answer) == ("new", "confirmed")
    with database.session() as s, pytest.raises(PortalError) as caught:
        apps.supervisor_answer(s, token=token, confirm=False, comment="changed my mind", key=key, now=clock())
    assert caught.value.code == "link_used"
    assert _application(database, application_id).supervisor_answer == "confirmed"


def test_a_wrong_or_expired_supervisor_link_is_refused(database, member, levels, clock, key, links):
    _apply(database, member, levels, clock, key, links)
    token = _token(database)
    with database.session() as s, pytest.raises(PortalError) as caught:
        apps.for_supervisor(s, token=token[:-2] + "xx", key=key, now=clock())
    assert caught.value.code == "bad_link"
    later = clock() + timedelta(days=apps.SUPERVISOR_LINK_DAYS, seconds=1)
    with database.session() as s, pytest.raises(PortalError) as caught:
        apps.supervisor_answer(s, token=token, confirm=True, comment="", key=key, now=later)
    assert caught.value.code == "link_expired"


def test_the_supervisor_sees_what_they_confirm_and_declines_with_a_comment_over_http(
    client, database, member, levels, clock, key, links
):
    application_id = _apply(database, member, levels, clock, key, links)
    url = f"/accreditation/supervise/{_token(database)}"
    page = client.get(url)
    assert page.status_code == 200
    assert (
        "Megan Hughes" in page.text and "IPT practitioner" in page.text and ">30 (the standard" in page.text
    )
    bare = post(client, url, {"answer": "decline", "comment": ""})
    assert bare.status_code == 422 and 'id="f-comment-error"' in bare.text
    assert _application(database, application_id).supervisor_answer == ""
    done = post(client, url, {"answer": "decline", "comment": "I supervised only two cases."})
    assert done.status_code == 200 and "declined" in done.text
    assert client.get(url).status_code == 410
    assert client.get("/accreditation/supervise/not-a-real-token").status_code == 404
    found = _application(database, application_id)
    assert (found.status, found.supervisor_answer, found.supervisor_comment) == (
        "new", "declined", "I supervised only two cases.")  # fmt: skip


# --- the reviewer ----------------------------------------------------------------------------------------------


def _confirmed(database, member, levels, clock, key, links, **changes):
    application_id = _apply(database, member, levels, clock, key, links, **changes)
    with database.session() as s:
        apps.supervisor_answer(s, token=_token(database), confirm=True, comment="", key=key, now=clock())
    return application_id


def test_approving_with_conditions_makes_the_holding_with_the_public_wording(
    database, admin, member, levels, clock, key, links
):
    application_id = _confirmed(database, member, levels, clock, key, links)
    with database.session() as s:
        holding = apps.approve(s, application_id=application_id, from_on=TODAY, until_on=None,
                               conditions="Practises under monthly supervision until June 2027.", actor=admin,
                               now=clock(), links=links)  # fmt: skip
        holding_id = holding.id
    with database.session() as s:
        held = s.get(Holding, holding_id)
        assert (held.member_id, held.level_id) == (member.id, levels["ipt-practitioner"])
        assert held.conditions == "Practises under monthly supervision until June 2027."
        # Until defaults from the level's duration (36 months), less a day.
        assert (held.from_on, held.until_on) == (TODAY, date(2029, 11, 24))
        found = s.get(LevelApplication, application_id)
        assert (found.status, found.holding_id) == ("approved", holding_id)
        email = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "accreditation/approved")).one()
        assert email.to_addr == "megan@example.org"
        assert "monthly supervision" in as_sent(email).text
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.subject == found.reference)).all()
        assert "accreditation.approve_with_conditions" in actions and "accreditation.apply" in actions


def test_a_level_needing_sign_off_is_not_approved_once_the_supervisor_declined(
    database, admin, member, levels, clock, key, links
):
    application_id = _apply(database, member, levels, clock, key, links)
    with database.session() as s:
        apps.supervisor_answer(s, token=_token(database), confirm=False, comment="No.", key=key, now=clock())
    with database.session() as s, pytest.raises(PortalError) as caught:
        apps.approve(s, application_id=application_id, from_on=TODAY, until_on=None, conditions="", actor=admin,
                     now=clock(), links=links)  # fmt: skip
    assert caught.value.code == "not_signed_off"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Holding)) == 0


def test_ask_for_more_then_the_member_answers_and_it_is_back_for_review(
    database, admin, member, levels, clock, key, links
):
    application_id = _confirmed(database, member, levels, clock, key, links)
    with database.session() as s:
        apps.ask(s, application_id=application_id, question="Send your case summaries.", actor=admin, now=clock(),
                 links=links)  # fmt: skip
    with database.session() as s:
        email = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "accreditation/more_needed")).one()
        assert "Send your case summaries." in as_sent(email).text
        assert f"/me/accreditation/applications/{application_id}" in as_sent(email).text
    from portal.site.files import Evidence

    with database.session() as s:
        apps.member_answer(s, member_id=member.id, application_id=application_id, body="Attached.",
                           files=[Evidence("cases.pdf", "application/pdf", PDF)], now=clock())  # fmt: skip
    found = _application(database, application_id)
    assert found.status == "new"
    with database.session() as s:
        assert [f.filename for f in s.get(LevelApplication, application_id).files] == ["cases.pdf"]
        with pytest.raises(PortalError) as caught:
            apps.member_answer(s, member_id=member.id, application_id=application_id, body="Again", files=[],
                               now=clock())  # fmt: skip
        assert caught.value.code == "wrong_state"


def test_refusing_gives_the_member_the_reasons(database, admin, member, levels, clock, key, links):
    application_id = _apply(database, member, levels, clock, key, links)
    with database.session() as s, pytest.raises(PortalError) as caught:
        apps.refuse(s, application_id=application_id, reasons=" ", actor=admin, now=clock(), links=links)
    assert caught.value.code == "bad_value"
    with database.session() as s:
        apps.refuse(s, application_id=application_id, reasons="Too few supervised cases.", actor=admin, now=clock(),
                    links=links)  # fmt: skip
    with database.session() as s:
        email = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "accreditation/refused")).one()
        assert "Too few supervised cases." in as_sent(email).text
    assert _application(database, application_id).status == "refused"
    # The supervisor's link is dead with the application.
    with database.session() as s, pytest.raises(PortalError):
        apps.for_supervisor(s, token=_token(database), key=key, now=clock())


def test_one_open_application_per_level_and_the_supervisor_must_be_someone_else(
    database, member, levels, clock, key, links
):
    _apply(database, member, levels, clock, key, links)
    with pytest.raises(PortalError) as caught:
        _apply(database, member, levels, clock, key, links)
    assert caught.value.code == "already_applied"
    with pytest.raises(PortalError) as caught:
        _apply(
            database,
            member,
            levels,
            clock,
            key,
            links,
            level="supervisor",
            supervisor_email="MEGAN@example.org",
        )
    assert caught.value.details["field"] == "supervisor_email"


# --- over HTTP: the form, the queue, and who may do what --------------------------------------------------------


def test_the_member_applies_from_my_account_with_the_training_filled_in_from_their_booking(
    client, database, member, levels, clock, key
):
    from bench import checkin_kit
    from portal.events.models import Event

    with database.session() as s:
        made = checkin_kit.make_event(
            s, now=clock() - timedelta(days=200), title="IPT practitioner training, Leeds"
        )
        event = s.get(Event, made.event.id)
        from portal.training.models import Course

        event.course_id = s.scalar(select(Course.id).where(Course.slug == "ipt-practitioner"))
        event.kind = "training"
        booking = checkin_kit.add_registration(s, key=key, event=made.event, ticket=made.tickets[0], first_name="Megan",
                                               last_name="Hughes", now=clock(), member_id=member.id)  # fmt: skip
        booking_id, event_id = booking.id, made.event.id
        # Checked in there: check-in wrote the event's CPD entry.
        s.add(cpd.CpdEntry(member_id=member.id, event_id=event_id, done_on=date(2026, 5, 1), activity="x",
                           hours=6, category="course", created_at=clock()))  # fmt: skip
    login(client, "megan@example.org")
    assert "Your accreditation" in client.get("/me").text
    url = f"/me/accreditation/apply/{levels['ipt-practitioner']}"
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="booking-{booking_id}" checked' in page.text and "checked in" in page.text
    bad = post(client, url, {"training": f"booking-{booking_id}", "supervised_cases": "four",
                             "supervision_hours": "", "supervisor_name": "", "supervisor_email": "nope"})  # fmt: skip
    assert bad.status_code == 422
    for field in ("supervised_cases", "supervision_hours", "supervisor_name", "supervisor_email"):
        assert f'id="f-{field}-error"' in bad.text, field
    with database.session() as s:  # nothing half-written
        assert s.scalar(select(func.count()).select_from(LevelApplication)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    form = {"training": f"booking-{booking_id}", "supervised_cases": "5", "supervision_hours": "32",
            "supervisor_name": "Sam Supervisor", "supervisor_email": "sam@example.org"}  # fmt: skip
    done = post(client, url, form, files={"evidence_1": ("cert.pdf", PDF, "application/pdf")})
    assert done.status_code == 303
    mine = client.get(done.headers["location"])
    assert mine.status_code == 200 and "Waiting for the supervisor" in mine.text and "cert.pdf" in mine.text
    with database.session() as s:
        found = s.scalars(select(LevelApplication)).one()
        assert (found.training_registration_id, found.supervised_cases, len(found.files)) == (
            booking_id,
            5,
            1,
        )
    file_url = f"/me/accreditation/applications/{found.id}/files/{found.files[0].id}"
    assert client.get(file_url).content == PDF


def test_another_member_can_neither_see_nor_answer_nor_download_someones_application(
    client, database, passwords, member, levels, clock, key, links, admin
):
    application_id = _confirmed(database, member, levels, clock, key, links)
    from portal.site.files import Evidence

    with database.session() as s:
        held = s.get(LevelApplication, application_id)
        held.files.append(
            apps.LevelApplicationFile(
                filename="c.pdf", content_type="application/pdf", content=PDF, uploaded_at=clock()
            )
        )
        apps.ask(s, application_id=application_id, question="More?", actor=admin, now=clock(), links=links)
        file_id = s.get(LevelApplication, application_id).files[0].id
        entry = cpd.add_entry(s, member_id=member.id, data=cpd.CpdData(date(2026, 3, 1), "Course", Decimal("2"),
                              "course", "", Evidence("e.pdf", "application/pdf", PDF)), today=TODAY, now=clock())  # fmt: skip
        entry_id = entry.id
    _other_member(database, passwords, clock)
    login(client, "owen@example.org")
    base = f"/me/accreditation/applications/{application_id}"
    assert client.get(base).status_code == 404
    assert post(client, base, {"answer": "I am Megan"}).status_code == 404
    assert client.get(f"{base}/files/{file_id}").status_code == 404
    assert client.get(f"/me/cpd/{entry_id}/evidence").status_code == 404
    assert "Megan" not in client.get("/me/accreditation").text
    assert _application(database, application_id).status == "more"
    # Nor can a member reach the reviewer's pages or act there.
    assert client.get(f"/accreditation/applications/{application_id}").status_code == 403
    for action in ("approve", "ask", "refuse"):
        response = post(client, f"/accreditation/applications/{application_id}/{action}",
                        {"from_on": "2026-11-25", "question": "x", "reasons": "x"})  # fmt: skip
        assert response.status_code == 403, action
    assert _application(database, application_id).status == "more"


def test_reviewer_actions_are_refused_to_other_staff_roles(
    client, database, passwords, member, levels, clock, key, links
):
    application_id = _confirmed(database, member, levels, clock, key, links)
    make_account(database, passwords, email="office@example.org", roles="office", name="Olive Office")
    login(client, "office@example.org")
    response = post(
        client, f"/accreditation/applications/{application_id}/approve", {"from_on": "2026-11-25"}
    )
    assert response.status_code == 403
    assert _application(database, application_id).status == "new"


def test_the_reviewer_approves_with_conditions_over_http(
    officer_client, database, member, levels, clock, key, links
):
    application_id = _confirmed(database, member, levels, clock, key, links)
    queue = officer_client.get("/accreditation/applications")
    assert queue.status_code == 200 and "Megan Hughes" in queue.text
    page = officer_client.get(f"/accreditation/applications/{application_id}")
    assert page.status_code == 200 and 'value="2029-11-24"' in page.text  # until from the level's duration
    url = f"/accreditation/applications/{application_id}/approve"
    missing = post(officer_client, url, {"from_on": "2026-11-25", "with_conditions": "on", "conditions": ""})
    assert missing.status_code == 422 and 'id="f-conditions-error"' in missing.text
    backwards = post(officer_client, url, {"from_on": "2026-11-25", "until_on": "2026-01-01"})
    assert backwards.status_code == 422 and 'id="f-until_on-error"' in backwards.text
    done = post(officer_client, url, {"from_on": "2026-11-25", "until_on": "", "with_conditions": "on",
                                      "conditions": "Works with adults only."})  # fmt: skip
    assert done.status_code == 303
    with database.session() as s:
        (held,) = s.scalars(select(Holding)).all()
        assert held.conditions == "Works with adults only." and held.recorded_by == "Avi Officer"
    again = post(officer_client, f"/accreditation/applications/{application_id}/refuse", {"reasons": "x"})
    assert again.status_code == 422 and "Someone has acted" in again.text


# --- re-accreditation ----------------------------------------------------------------------------------------------


def _hold(database, member, levels, clock, admin, until_on, level="ipt-practitioner"):
    with database.session() as s:
        return cpd.record_holding(s, member_id=member.id, level_id=levels[level], from_on=until_on - timedelta(days=1000),
                                  until_on=until_on, actor=admin, now=clock()).id  # fmt: skip


def test_reaccreditation_opens_90_days_before_the_level_ends(
    database, admin, member, levels, clock, key, links
):
    _hold(database, member, levels, clock, admin, TODAY + timedelta(days=91))
    with pytest.raises(PortalError) as caught:
        _apply(database, member, levels, clock, key, links)
    assert caught.value.code == "not_yet_open"
    with database.session() as s:
        standing = next(
            x
            for x in apps.standings(s, member_id=member.id, today=TODAY)
            if x.level.slug == "ipt-practitioner"
        )
        assert standing.held and not standing.renewable and not standing.may_apply
        assert standing.opens_on == TODAY + timedelta(days=1)
        later = next(
            x
            for x in apps.standings(s, member_id=member.id, today=TODAY + timedelta(days=1))
            if x.level.slug == "ipt-practitioner"
        )
        assert later.renewable and later.may_apply


def test_a_renewal_runs_on_from_the_day_after_the_old_level_ends(
    officer_client, database, admin, member, levels, clock, key, links
):
    until = TODAY + timedelta(days=60)
    holding_id = _hold(database, member, levels, clock, admin, until)
    application_id = _confirmed(database, member, levels, clock, key, links)
    assert _application(database, application_id).renews_id == holding_id
    page = officer_client.get(f"/accreditation/applications/{application_id}")
    assert (
        f'value="{(until + timedelta(days=1)).isoformat()}"' in page.text and "re-accreditation" in page.text
    )


def test_expiry_is_computed_from_the_clock(database, admin, member, levels, clock):
    _hold(database, member, levels, clock, admin, TODAY)
    with database.session() as s:
        on_the_day = [x for x in apps.standings(s, member_id=member.id, today=TODAY) if x.holding]
        after = [
            x for x in apps.standings(s, member_id=member.id, today=TODAY + timedelta(days=1)) if x.holding
        ]
    assert on_the_day[0].held and not after[0].held and after[0].may_apply


def _at(day: date):
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def test_reminders_go_90_30_and_7_days_before_each_once_and_not_after_a_renewal_is_under_way(
    database, admin, member, levels, clock, key, links
):
    until = date(2027, 6, 30)
    _hold(database, member, levels, clock, admin, until)
    _hold(database, member, levels, clock, admin, date(2028, 6, 30), level="supervisor")
    sent = []
    for days in (91, 90, 89, 30, 30, 7, 6):
        sent.append(
            reaccreditation.run_reminders(database, now=_at(until - timedelta(days=days)), links=links)
        )
    assert sent == [0, 1, 0, 1, 0, 1, 0]
    with database.session() as s:
        emails = s.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.kind == "accreditation/reaccreditation_reminder")
            .order_by(OutboxEmail.id)
        ).all()
        texts = [as_sent(e).text for e in emails]
    assert all("30 June 2027" in t and "/me/accreditation" in t for t in texts) and len(texts) == 3
    # A renewal application under way: the reminders stop.
    other_until = date(2028, 6, 30)
    _apply(
        database,
        member,
        levels,
        clock,
        key,
        links,
        level="supervisor",
        today=other_until - timedelta(days=90),
    )
    assert (
        reaccreditation.run_reminders(database, now=_at(other_until - timedelta(days=90)), links=links) == 0
    )


def test_two_workers_at_the_same_moment_send_each_reminder_once(
    database, db_url, admin, member, levels, clock, links
):
    until = date(2027, 6, 30)
    _hold(database, member, levels, clock, admin, until)
    _hold(database, member, levels, clock, admin, until, level="trainer")
    now = _at(until - timedelta(days=30))
    second = Database(db_url, audit_key=AUDIT_KEY)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    counts: list[int] = []

    def run(worker: Database) -> None:
        try:
            barrier.wait()
            counts.append(reaccreditation.run_reminders(worker, now=now, links=links))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in (database, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    second.dispose()
    assert errors == [] and sum(counts) == 2
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Reminder)) == 2
        kinds = s.scalars(
            select(OutboxEmail.kind).where(OutboxEmail.kind == "accreditation/reaccreditation_reminder")
        )
        assert len(kinds.all()) == 2


def test_the_form_says_when_reaccreditation_opens_and_a_post_before_then_writes_nothing(
    client, database, admin, member, levels, clock
):
    _hold(database, member, levels, clock, admin, TODAY + timedelta(days=200))
    login(client, "megan@example.org")
    url = f"/me/accreditation/apply/{levels['ipt-practitioner']}"
    page = client.get(url)
    assert "Re-accreditation for this level opens on" in page.text and "Send the application" not in page.text
    form = {"training": "elsewhere", "training_note": "Leeds", "supervised_cases": "5", "supervision_hours": "32",
            "supervisor_name": "Sam", "supervisor_email": "sam@example.org"}  # fmt: skip
    refused = post(client, url, form)
    assert refused.status_code == 409 and "re-accreditation opens on" in refused.text
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(LevelApplication)) == 0


def test_my_account_says_when_reaccreditation_is_open(client, database, admin, member, levels, clock):
    _hold(database, member, levels, clock, admin, TODAY + timedelta(days=60))
    login(client, "megan@example.org")
    page = client.get("/me")
    assert "Apply for re-accreditation: IPT practitioner" in page.text
    assert f"/me/accreditation/apply/{levels['ipt-practitioner']}" in page.text
    assert "re-accreditation is open" in page.text


def test_the_member_answers_the_reviewer_on_their_applications_page(
    client, database, admin, member, levels, clock, key, links
):
    application_id = _confirmed(database, member, levels, clock, key, links)
    with database.session() as s:
        apps.ask(
            s, application_id=application_id, question="Send your log.", actor=admin, now=clock(), links=links
        )
    login(client, "megan@example.org")
    url = f"/me/accreditation/applications/{application_id}"
    page = client.get(url)
    assert "Send your log." in page.text and "Answer the reviewer" in page.text
    empty = post(client, url, {"answer": ""})
    assert empty.status_code == 422 and 'id="f-answer-error"' in empty.text
    bad_file = post(
        client, url, {"answer": "Here"}, files={"evidence_1": ("x.gif", b"GIF89a....", "image/gif")}
    )
    assert bad_file.status_code == 422 and 'id="f-evidence_1-error"' in bad_file.text
    assert _application(database, application_id).status == "more"
    done = post(
        client, url, {"answer": "Here it is."}, files={"evidence_1": ("log.pdf", PDF, "application/pdf")}
    )
    assert done.status_code == 303
    again = post(client, url, {"answer": "And again"})
    assert again.status_code == 303 and "not waiting for an answer" in client.get(url).text
    with database.session() as s:
        found = s.get(LevelApplication, application_id)
        assert found.status == "new" and [f.filename for f in found.files] == ["log.pdf"]
        assert [m.author for m in found.messages] == ["reviewer", "member"]


def test_the_reviewer_sends_the_supervisor_a_new_link_and_the_old_one_stops_working(
    officer_client, database, member, levels, clock, key, links
):
    application_id = _apply(database, member, levels, clock, key, links)
    old = _token(database)
    done = post(officer_client, f"/accreditation/applications/{application_id}/resend")
    assert done.status_code == 303
    new = _token(database)
    assert new != old
    with database.session() as s:
        with pytest.raises(PortalError) as caught:
            apps.for_supervisor(s, token=old, key=key, now=clock())
        assert caught.value.code == "bad_link"
        assert apps.for_supervisor(s, token=new, key=key, now=clock()).id == application_id
        assert "accreditation.supervisor_link_resent" in s.scalars(select(AuditEvent.action)).all()
    with database.session() as s:
        apps.supervisor_answer(s, token=new, confirm=True, comment="", key=key, now=clock())
    late = post(officer_client, f"/accreditation/applications/{application_id}/resend")
    assert late.status_code == 422 and "no longer waiting for the supervisor" in late.text


def test_a_level_naming_no_course_asks_no_training_and_the_trainer_applies(client, database, member, levels):
    login(client, "megan@example.org")
    url = f"/me/accreditation/apply/{levels['trainer']}"
    page = client.get(url)
    assert "names no particular course" in page.text and 'name="training"' not in page.text
    form = {"supervised_cases": "0", "supervision_hours": "0", "supervisor_name": "Sam Supervisor",
            "supervisor_email": "sam@example.org"}  # fmt: skip
    assert post(client, url, form).status_code == 303
    with database.session() as s:
        found = s.scalars(select(LevelApplication)).one()
        assert (found.training_done, found.training_registration_id) == (False, None)


def test_erasing_a_former_member_blanks_their_applications_and_cpd_evidence(
    database, admin, member, levels, clock, key, links
):
    from portal import privacy
    from portal.accreditation.models import LevelApplicationFile, LevelApplicationMessage
    from portal.site.files import Evidence

    application_id = _apply(database, member, levels, clock, key, links, statement="My own words")
    with database.session() as s:
        apps.refuse(s, application_id=application_id, reasons="Too few cases.", actor=admin, now=clock(),
                    links=links)  # fmt: skip
        s.add(
            apps.LevelApplicationFile(
                application_id=application_id,
                filename="c.pdf",
                content_type="application/pdf",
                content=PDF,
                uploaded_at=clock(),
            )
        )
        cpd.add_entry(s, member_id=member.id, data=cpd.CpdData(date(2026, 3, 1), "Course", Decimal("2"), "course",
                      "Notes", Evidence("e.pdf", "application/pdf", PDF)), today=TODAY, now=clock())  # fmt: skip
    with database.session() as s:
        privacy.erase_accreditation(s, s.get(Member, member.id), clock())
    with database.session() as s:
        found = s.get(LevelApplication, application_id)
        assert (found.statement, found.training_note, found.supervisor_name, found.supervisor_email) == (
            "",
        ) * 4
        assert (found.status, found.level_id) == ("refused", levels["ipt-practitioner"])
        assert s.scalars(select(LevelApplicationFile)).all() == []
        assert s.scalars(select(LevelApplicationMessage)).all() == []
        (entry,) = s.scalars(select(cpd.CpdEntry)).all()
        assert (entry.evidence_name, entry.evidence, entry.hours) == ("", None, Decimal("2.00"))


def test_the_members_data_export_holds_their_accreditation(
    client, database, admin, member, levels, clock, key, links
):
    _apply(database, member, levels, clock, key, links, statement="My own words")
    login(client, "admin@example.org")
    data = post(client, f"/members/{member.id}/export").json()
    [application] = data["accreditation"]["applications"]
    assert (
        application["statement"] == "My own words" and application["supervisor"]["email"] == "sam@example.org"
    )
    assert data["accreditation"]["levels_held"] == [] and data["accreditation"]["cpd"] == []
