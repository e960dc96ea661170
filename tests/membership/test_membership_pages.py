"""The pages of joining, through the app: Membership Options drawn from the categories, the application form
(messages beside the fields, nothing written by a form with a problem, the htmx fragment), an address on the
roll answered like any other, the office's queue and decisions, the category terms editor and the year."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from support import as_sent, post

from portal.mail.models import OutboxEmail
from portal.members.models import Member, MemberCategory
from portal.membership.models import Application
from portal.society.models import MembershipSettings

from .conftest import PDF

FORM = {
    "first_name": "Nadia",
    "last_name": "Okafor",
    "email": "nadia@example.org",
    "address": "1 High Street, Leeds",
    "profession": "Mental health nurse",
    "registration_body": "NMC",
    "registration_number": "12A3456B",
    "training": "foundation",
    "conduct": "on",
    "privacy": "on",
}


def _count(database, model) -> int:
    with database.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _apply(client, data=None, *, category="basic", **kwargs):
    return post(client, f"/membership/apply/{category}", {**FORM, **(data or {})}, **kwargs)


def test_membership_options_shows_each_category_with_its_fee_and_how_to_apply(client, admin):
    page = client.get("/membership/options")
    assert page.status_code == 200
    assert "£45.00 a year" in page.text and "£30.00 a year" in page.text
    assert 'href="http://testserver/membership/apply/basic"' in page.text
    assert "/membership/apply/honorary" not in page.text and "not applied for" in page.text


def test_the_menu_leads_to_the_generated_pages(client, admin, database, clock):
    from portal.site.seed import seed_site

    with database.session() as s:
        seed_site(s, now=clock())
    home = client.get("/")
    assert 'href="/membership/options"' in home.text and 'href="/membership/apply"' in home.text


def test_choosing_no_category_is_a_message_beside_the_choice(client, admin):
    page = client.get("/membership/apply?category=")
    assert page.status_code == 422
    assert 'id="f-category-error"' in page.text and 'href="#f-category"' in page.text
    chosen = client.get("/membership/apply?category=basic", follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/membership/apply/basic"


def test_an_empty_application_shows_each_message_beside_its_field_and_writes_nothing(client, admin, database):
    page = post(client, "/membership/apply/basic", {})
    assert page.status_code == 422
    for field in ("first_name", "last_name", "email", "address", "profession", "registration_body", "training",
                  "conduct", "privacy"):  # fmt: skip
        assert f'id="f-{field}-error"' in page.text, field
        assert f'href="#f-{field}"' in page.text, field
    assert _count(database, Application) == 0 and _count(database, OutboxEmail) == 0


def test_a_registration_body_without_a_number_is_asked_for_the_number(client, admin):
    page = _apply(client, {"registration_number": ""})
    assert page.status_code == 422
    assert "Enter your registration number with that body." in page.text
    # What was chosen is kept, so only the number needs typing.
    assert (
        '<option value="NMC" selected>' in page.text and '<option value="foundation" selected>' in page.text
    )


def test_htmx_gets_the_form_alone_with_its_messages(client, admin):
    page = _apply(client, {"email": "not an address"}, headers={"HX-Request": "true"})
    assert page.status_code == 422
    assert page.text.lstrip().startswith('<div id="application-form">') and "<html" not in page.text
    assert "Enter an e-mail address like name@example.org." in page.text


def test_an_application_is_received_and_acknowledged(client, admin, database):
    sent = _apply(client, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/membership/apply/sent"
    with database.session(write=False) as s:
        application = s.scalars(select(Application)).one()
        assert (application.email, application.registration_body) == ("nadia@example.org", "NMC")
        assert s.scalar(select(OutboxEmail.kind).where(OutboxEmail.to_addr == "nadia@example.org")) == (
            "membership/received"
        )


def test_an_address_on_the_roll_gets_the_same_page_and_an_email_saying_how_to_log_in(
    client, admin, database, clock
):
    with database.session() as s:
        s.add(
            Member(
                membership_number="5",
                email="nadia@example.org",
                first_name="N",
                last_name="O",
                category="basic",
                created_at=clock(),
                updated_at=clock(),
            )
        )
    sent = _apply(client, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/membership/apply/sent"
    assert _count(database, Application) == 0
    with database.session(write=False) as s:
        assert s.scalar(select(OutboxEmail.kind)) == "membership/already_member"


def test_a_category_asking_for_evidence_wants_a_file_of_a_kind_it_takes(client, admin, database):
    missing = _apply(client, category="trainee")
    assert missing.status_code == 422 and 'id="f-evidence_1-error"' in missing.text
    gif = _apply(client, category="trainee", files={"evidence_1": ("x.gif", b"GIF89a....", "image/gif")})
    assert gif.status_code == 422 and "The file is a GIF" in gif.text
    assert _count(database, Application) == 0
    sent = _apply(
        client,
        category="trainee",
        files={"evidence_1": ("letter.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303


def _ask_link(database) -> str:
    with database.session(write=False) as s:
        email = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "membership/more_needed")).one()
        [link] = re.findall(r"http://testserver(/membership/answer/\S+)", as_sent(email).text)
    return link


def test_the_office_asks_the_applicant_answers_and_the_office_approves(client, office_client, database):
    _apply(client)
    with database.session(write=False) as s:
        application_id = s.scalars(select(Application.id)).one()
    queue = office_client.get("/membership/applications")
    assert queue.status_code == 200 and "Nadia Okafor" in queue.text
    blank = post(office_client, f"/membership/applications/{application_id}/ask", {"question": ""})
    assert blank.status_code == 422 and 'id="f-question-error"' in blank.text
    post(office_client, f"/membership/applications/{application_id}/ask", {"question": "Your PIN?"})
    link = _ask_link(database)
    office_client.cookies.clear()
    answer_page = client.get(link)
    assert answer_page.status_code == 200 and "Your PIN?" in answer_page.text
    empty = post(client, link, {"answer": ""})
    assert empty.status_code == 422 and 'id="f-answer-error"' in empty.text
    done = post(client, link, {"answer": "12A3456B"}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get(link).status_code == 410
    from support import login

    login(office_client, "office@example.org")
    approved = post(
        office_client, f"/membership/applications/{application_id}/approve", follow_redirects=False
    )
    assert approved.status_code == 303
    page = office_client.get(f"/membership/applications/{application_id}")
    assert "Mark the first fee paid" in page.text and "12A3456B" in page.text
    bad_date = post(
        office_client, f"/membership/applications/{application_id}/fee-paid", {"received_on": "soon"}
    )
    assert bad_date.status_code == 422 and 'id="f-received_on-error"' in bad_date.text
    paid = post(
        office_client, f"/membership/applications/{application_id}/fee-paid", {"received_on": "2026-11-25"}
    )
    assert paid.status_code == 303
    with database.session(write=False) as s:
        member = s.scalars(select(Member)).one()
        assert member.status == "active"
        kinds = set(s.scalars(select(OutboxEmail.kind)))
    assert {"membership/received", "membership/more_needed", "membership/answer_received",
            "membership/approved_fee", "membership/paid_welcome"} <= kinds  # fmt: skip


def test_rejecting_without_a_reason_is_a_message_beside_the_reason(client, office_client, database):
    _apply(client)
    with database.session(write=False) as s:
        application_id = s.scalars(select(Application.id)).one()
    page = post(office_client, f"/membership/applications/{application_id}/reject", {"reason": ""})
    assert page.status_code == 422 and 'id="f-reason-error"' in page.text
    with database.session(write=False) as s:
        assert s.get(Application, application_id).status == "new"


def test_the_category_terms_refuse_a_negative_or_unreadable_fee_beside_the_field(office_client, database):
    with database.session(write=False) as s:
        basic = s.scalar(select(MemberCategory).where(MemberCategory.code == "basic"))
        assert basic is not None
    url = f"/members/lists/category/{basic.id}/terms"
    assert office_client.get(url).status_code == 200
    for typed, message in (
        ("-5", "The annual fee cannot be less than £0."),
        ("forty", "Enter the annual fee in pounds and whole pence"),
        ("45.505", "Enter the annual fee in pounds and whole pence"),
        ("", "Enter the annual fee."),
    ):
        page = post(office_client, url, {"annual_fee": typed, "needs_approval": "on"})
        assert page.status_code == 422 and 'id="f-annual_fee-error"' in page.text, typed
        assert message in page.text, typed
    upload = post(office_client, url, {"annual_fee": "10", "evidence_upload": "on", "evidence": ""})
    assert upload.status_code == 422 and 'id="f-evidence-error"' in upload.text
    saved = post(
        office_client,
        url,
        {"annual_fee": "£1,050.50", "eligibility": "Anyone.", "needs_approval": "on", "can_vote": "on"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with database.session(write=False) as s:
        basic = s.get(MemberCategory, basic.id)
        assert (basic.annual_fee, basic.eligibility, basic.open_to_applicants) == (105050, "Anyone.", False)


def test_the_membership_year_refuses_a_day_not_every_year_has(office_client, database):
    page = post(
        office_client,
        "/membership/settings",
        {
            "year_kind": "fixed",
            "year_start_month": "2",
            "year_start_day": "29",
            "first_fee": "pro_rata",
            "conduct_version": "2",
            "privacy_version": "1",
        },
    )
    assert page.status_code == 422 and 'id="f-year_start_day-error"' in page.text
    saved = post(
        office_client,
        "/membership/settings",
        {
            "year_kind": "fixed",
            "year_start_month": "4",
            "year_start_day": "1",
            "first_fee": "pro_rata",
            "conduct_version": "2",
            "privacy_version": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with database.session(write=False) as s:
        year = s.get(MembershipSettings, 1)
        assert year is not None and (year.year_kind, year.first_fee, year.conduct_version) == (
            "fixed",
            "pro_rata",
            "2",
        )
    assert "The membership year runs from 1 April." in office_client.get("/membership/options").text
