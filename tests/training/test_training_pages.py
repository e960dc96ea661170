"""Training over HTTP: the course pages with their upcoming dates (bookable as any event), the editors' forms
and their messages, the external CPD list, regional meetings by region, the archive of past events and a
finished event's page. Both engines."""

from __future__ import annotations

import re

from sqlalchemy import select
from support import login, make_account, post

from portal.events.models import Event
from portal.training.models import Course, ExternalCourse


def _course_form(**values):
    base = {"title": "Group IPT", "slug": "group-ipt", "summary": "", "about": "IPT in groups.", "audience": "",
            "prerequisites": "", "position": "", "status": "published"}  # fmt: skip
    base.update(values)
    return base


def _cpd_form(**values):
    base = {"title": "Grief and loss", "provider": "Example Institute", "url": "https://example.org/grief",
            "starts_on": "", "ends_on": "", "note": ""}  # fmt: skip
    base.update(values)
    return base


def test_the_training_index_lists_the_published_courses(client, courses):
    page = client.get("/training")
    assert page.status_code == 200
    for slug in courses:
        assert f'href="http://testserver/training/{slug}"' in page.text


def test_a_course_page_shows_only_its_upcoming_training_dates_each_leading_to_its_booking(
    client, courses, make_event
):
    practitioner = courses["ipt-practitioner"]
    soon = make_event(kind="training", course_id=practitioner, days=20, title="Practitioner, spring block")
    make_event(kind="training", course_id=practitioner, days=-30, title="Practitioner, last autumn")
    make_event(kind="training", course_id=practitioner, days=50, title="Practitioner, draft", status="draft")
    make_event(kind="training", course_id=courses["ipc"], days=15, title="IPC, two days")
    page = client.get("/training/ipt-practitioner")
    assert page.status_code == 200
    assert "Upcoming dates" in page.text
    assert (
        "Practitioner, spring block" in page.text
        and f'href="http://testserver/events/{soon.slug}"' in page.text
    )
    assert ">Book<" in page.text
    for absent in ("last autumn", "Practitioner, draft", "IPC, two days"):
        assert absent not in page.text
    assert client.get(f"/events/{soon.slug}").status_code == 200
    empty = client.get("/training/ipt-refresher")
    assert "No dates are booked in at the moment" in empty.text


def test_a_draft_course_is_for_editors_only(client, courses, database, passwords, admin, clock):
    with database.session() as s:
        s.get(Course, courses["ipt-for-bipolar"]).status = "draft"
    assert client.get("/training/ipt-for-bipolar").status_code == 404
    assert "/training/ipt-for-bipolar" not in client.get("/training").text
    make_account(database, passwords, email="editor@example.org", roles="editor")
    login(client, "editor@example.org")
    page = client.get("/training/ipt-for-bipolar")
    assert page.status_code == 200 and "This course is a draft" in page.text


def test_an_editor_adds_a_course_whose_markdown_is_sanitised(editor_client, courses, database):
    sent = post(
        editor_client,
        "/training/manage/courses/new",
        _course_form(prerequisites="**Accredited** in IPT.<script>alert(1)</script>"),
    )
    assert sent.status_code == 303
    page = editor_client.get("/training/group-ipt")
    assert "<strong>Accredited</strong> in IPT." in page.text and "<script>alert(1)" not in page.text
    with database.session(write=False) as s:
        made = s.scalar(select(Course).where(Course.slug == "group-ipt"))
        assert made.position == 6 and made.updated_by == "Eddie Editor"


def test_a_course_form_with_a_taken_address_says_so_beside_the_address(editor_client, courses):
    sent = post(editor_client, "/training/manage/courses/new", _course_form(slug="ipc"))
    assert sent.status_code == 422
    assert "Another course already has this address" in sent.text
    assert re.search(r'id="f-slug-error"', sent.text)
    empty = post(editor_client, "/training/manage/courses/new", _course_form(title="", about="", slug="x y"))
    assert empty.status_code == 422
    assert "Enter the course&#39;s title." in empty.text and "Enter what the course is." in empty.text


def test_the_external_cpd_form_refuses_a_bad_link_and_an_end_before_the_start(editor_client, admin):
    bad = post(editor_client, "/training/manage/cpd/new", _cpd_form(url="javascript:alert(1)"))
    assert bad.status_code == 422 and "starting with https://" in bad.text and 'id="f-url-error"' in bad.text
    backwards = post(
        editor_client, "/training/manage/cpd/new", _cpd_form(starts_on="2027-03-02", ends_on="2027-03-01")
    )
    assert backwards.status_code == 422 and "must end on or after the day it starts" in backwards.text
    assert 'id="f-ends_on-error"' in backwards.text


def test_the_external_cpd_list_shows_current_courses_and_staff_remove_one(editor_client, database):
    post(editor_client, "/training/manage/cpd/new", _cpd_form(title="Next spring", starts_on="2027-04-01"))
    post(editor_client, "/training/manage/cpd/new", _cpd_form(title="Last summer", starts_on="2026-07-01"))
    post(editor_client, "/training/manage/cpd/new", _cpd_form(title="Self-paced"))
    page = editor_client.get("/training/external-cpd-courses")
    assert "Next spring" in page.text and "Self-paced" in page.text and "Last summer" not in page.text
    assert 'href="https://example.org/grief"' in page.text
    staff = editor_client.get("/training/manage")
    assert "Last summer" in staff.text and "Past: not shown" in staff.text
    with database.session(write=False) as s:
        item = s.scalar(select(ExternalCourse).where(ExternalCourse.title == "Self-paced"))
    url = f"/training/manage/cpd/{item.id}/remove"
    assert "Yes, remove it" in editor_client.get(url).text
    assert post(editor_client, url, {}).status_code == 303
    assert "Self-paced</a>" not in editor_client.get("/training/external-cpd-courses").text


def test_the_office_sets_an_events_course_and_region_on_its_form_with_messages_for_a_wrong_kind(
    client, courses, make_event, database, passwords
):
    make_account(database, passwords, email="office@example.org", roles="office")
    login(client, "office@example.org")
    event = make_event(kind="training", title="IPC block")
    form = client.get(f"/events/manage/{event.id}/edit")
    assert "IPC Training" in form.text and "North West" in form.text
    values = {
        "title": "IPC block", "slug": event.slug, "kind": "training", "status": "published", "venue": "",
        "address": "", "timezone": "Europe/London", "starts_at": "2026-12-25T09:00",
        "ends_at": "2026-12-25T16:00", "registration_opens_at": "2026-10-01T09:00",
        "registration_closes_at": "2026-12-24T09:00", "description": "", "capacity": "20",
        "offer_hours": "48", "payment_due_days": "14", "tax_label": "VAT", "tax_rate": "0",
        "course_id": str(courses["ipc"]), "region": "",
    }  # fmt: skip
    assert post(client, f"/events/manage/{event.id}/edit", values).status_code == 303
    with database.session(write=False) as s:
        assert s.get(Event, event.id).course_id == courses["ipc"]
    wrong = post(
        client, f"/events/manage/{event.id}/edit", {**values, "kind": "conference", "region": "london"}
    )
    assert wrong.status_code == 422
    assert "Only a training event is a date of a course" in wrong.text
    assert "Only a regional event has a region" in wrong.text
    missing = post(client, f"/events/manage/{event.id}/edit", {**values, "kind": "regional", "course_id": ""})
    assert missing.status_code == 422 and "Choose the region this regional event is for." in missing.text


def test_regional_meetings_are_listed_under_their_regions(client, make_event):
    make_event(kind="regional", region="scotland", title="Glasgow peer group", days=12)
    make_event(kind="regional", region="london", title="London evening", days=5)
    make_event(kind="regional", region="london", title="London, last spring", days=-200)
    page = client.get("/events/regional")
    assert page.status_code == 200
    text = page.text[page.text.index('<section aria-labelledby="region-1"') :]
    assert text.index(">Scotland<") < text.index("Glasgow peer group") < text.index(">London<")
    assert text.index(">London<") < text.index("London evening")
    assert "last spring" not in text


def test_a_past_event_stays_findable_from_the_archive_and_its_page_shows_its_programme(client, make_event):
    past = make_event(
        title="ISIPT Conference 2024",
        days=-800,
        hours=30,
        description="## Day one\n\n- Keynote: IPT in low-resource settings",
    )
    archive = client.get("/events/archive")
    assert archive.status_code == 200 and 'href="http://testserver/events/archive/2024"' in archive.text
    year = client.get("/events/archive/2024")
    assert year.status_code == 200 and f'href="http://testserver/events/{past.slug}"' in year.text
    page = client.get(f"/events/{past.slug}")
    assert page.status_code == 200
    assert "This event has finished" in page.text and "Keynote: IPT in low-resource settings" in page.text
    assert "Book a place" not in page.text and "/book" not in page.text
    assert client.get("/events/archive/2019").status_code == 404
    slashed = client.get("/events/archive/")
    assert slashed.status_code == 301 and slashed.headers["location"] == "/events/archive"
