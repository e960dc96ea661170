"""The training room's rules without HTTP: the courses a fresh install places, saves that keep a course's id and
refuse a taken or bad address, the external CPD list's links and dates, and what is current by the clock; and
the events room's side: a course's upcoming dates, regional meetings by region, the archive by year. Both
engines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.errors import PortalError
from portal.events import catalogue
from portal.events.errors import EventError
from portal.training import service
from portal.training.models import Course


def test_a_fresh_install_places_the_six_courses_once_and_published(db, clock):
    assert service.ensure_courses(db, now=clock()) == 6
    assert service.ensure_courses(db, now=clock()) == 0
    titles = [c.title for c in service.list_courses(db)]
    assert titles == [
        "IPT Practitioner Training",
        "IPT-A Practitioner Training",
        "IPT Supervisor Training",
        "IPT Refresher Training",
        "IPC Training",
        "IPT for Bipolar",
    ]
    assert all("waiting for its text" in c.about for c in service.list_courses(db))


def test_list_courses_leaves_drafts_out_unless_asked(db, clock, admin):
    service.ensure_courses(db, now=clock())
    data = service.CourseData(title="Group IPT", slug="group-ipt", about="Groups.", status="draft")
    draft = service.save_course(db, course_id=None, data=data, actor=admin, now=clock())
    assert draft.id not in {c.id for c in service.list_courses(db)}
    assert service.list_courses(db, include_drafts=True)[-1].id == draft.id
    with pytest.raises(PortalError) as refused:
        service.course_by_slug(db, "group-ipt", include_drafts=False)
    assert refused.value.code == "not_found"


def test_a_course_keeps_its_id_when_its_address_changes_and_the_change_is_audited(db, clock, admin):
    service.ensure_courses(db, now=clock())
    course = service.course_by_slug(db, "ipc", include_drafts=False)
    data = service.CourseData(
        title="IPC Training", slug="interpersonal-counselling", about="IPC.", status="published"
    )
    saved = service.save_course(db, course_id=course.id, data=data, actor=admin, now=clock())
    assert saved.id == course.id and saved.slug == "interpersonal-counselling"
    assert saved.updated_by == admin.name
    entry = db.scalars(select(AuditEvent).where(AuditEvent.action == "training.course_update")).one()
    assert "slug" in entry.details and "about" in entry.details


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("ipt-practitioner", "slug_taken"),
        ("manage", "bad_slug"),
        ("Bad Slug", "bad_slug"),
        ("a--b", "bad_slug"),
    ],
)
def test_a_course_address_must_be_free_well_formed_and_not_the_rooms_own(db, clock, admin, slug, code):
    service.ensure_courses(db, now=clock())
    data = service.CourseData(title="New", slug=slug, about="Text.", status="published")
    with pytest.raises(PortalError) as refused:
        service.save_course(db, course_id=None, data=data, actor=admin, now=clock())
    assert refused.value.code == code and refused.value.details["field"] == "slug"
    assert db.scalar(select(Course).where(Course.title == "New")) is None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://files.example.org/course",
        "www.example.org/course",
        "https://",
        "https://exa mple.org/",
        'https://example.org/"onmouseover',
        "/training/ipc",
    ],
)
def test_an_external_course_link_must_be_a_full_http_or_https_address(url):
    with pytest.raises(PortalError) as refused:
        service.check_url(url)
    assert refused.value.code == "bad_link"


def test_http_and_https_links_are_taken():
    service.check_url("https://www.example.org/course?id=4#dates")
    service.check_url("http://example.org")


def test_an_external_course_may_not_end_before_it_starts(db, clock, admin):
    data = service.ExternalData(
        "Grief work", "Example Institute", "https://example.org", date(2027, 3, 2), date(2027, 3, 1)
    )
    with pytest.raises(PortalError) as refused:
        service.save_external(db, item_id=None, data=data, actor=admin, now=clock())
    assert refused.value.code == "bad_dates" and refused.value.details["field"] == "ends_on"


def test_past_external_courses_drop_off_the_current_list_after_their_last_day(db, clock, admin):
    today = date(2026, 11, 25)

    def add(title, starts=None, ends=None):
        data = service.ExternalData(title, "Provider", "https://example.org", starts, ends)
        service.save_external(db, item_id=None, data=data, actor=admin, now=clock())

    add("Ended yesterday", today - timedelta(days=3), today - timedelta(days=1))
    add("Started before, ends today", today - timedelta(days=3), today)
    add("One day, yesterday", today - timedelta(days=1))
    add("One day, next week", today + timedelta(days=7))
    add("Any time")
    add("Until spring", None, date(2027, 4, 1))
    current = [c.title for c in service.current_external(db, today=today)]
    assert current == ["Started before, ends today", "One day, next week", "Until spring", "Any time"]
    assert len(service.external_courses(db)) == 6
    assert [c.title for c in service.current_external(db, today=today + timedelta(days=8))] == [
        "Until spring",
        "Any time",
    ]


# --- the events room's side ------------------------------------------------------------------------------------


def test_a_course_lists_only_its_upcoming_published_training_dates(courses, make_event, db, clock):
    practitioner, refresher = courses["ipt-practitioner"], courses["ipt-refresher"]
    later = make_event(kind="training", course_id=practitioner, days=60, title="Later")
    sooner = make_event(kind="training", course_id=practitioner, days=20, title="Sooner")
    make_event(kind="training", course_id=practitioner, days=-20, title="Past")
    make_event(kind="training", course_id=practitioner, days=40, status="draft", title="Draft")
    make_event(kind="training", course_id=refresher, days=10, title="Another course")
    make_event(kind="training", days=10, title="No course")
    dates = catalogue.course_dates(db, course_id=practitioner, now=clock())
    assert [e.id for e in dates] == [sooner.id, later.id]


def test_only_a_training_event_has_a_course_and_only_a_regional_one_a_region(courses, make_event):
    with pytest.raises(EventError) as refused:
        make_event(kind="conference", course_id=courses["ipc"])
    assert refused.value.code == "bad_course"
    with pytest.raises(EventError) as refused:
        make_event(kind="training", course_id=99_999)
    assert refused.value.code == "bad_course"
    with pytest.raises(EventError) as refused:
        make_event(kind="meeting", region="london")
    assert refused.value.code == "bad_region"
    with pytest.raises(EventError) as refused:
        make_event(kind="regional", region="atlantis")
    assert refused.value.code == "bad_region"


def test_regional_meetings_are_grouped_by_region_in_the_lists_order(make_event, db, clock):
    make_event(kind="regional", region="london", title="London spring", days=40)
    make_event(kind="regional", region="scotland", title="Glasgow", days=50)
    make_event(kind="regional", region="london", title="London winter", days=10)
    make_event(kind="regional", region="north-west", title="Manchester, last month", days=-30)
    make_event(kind="regional", title="Somewhere", days=5)
    groups = catalogue.upcoming_regional(db, now=clock())
    assert [(label, [e.title for e in events]) for label, events in groups] == [
        ("Scotland", ["Glasgow"]),
        ("London", ["London winter", "London spring"]),
        ("Other regional events", ["Somewhere"]),
    ]


def test_the_archive_files_finished_events_by_their_local_year(make_event, db, clock):
    from datetime import UTC, datetime

    new_year = datetime(2025, 12, 31, 23, 30, tzinfo=UTC) - clock()
    make_event(title="Hogmanay talk", days=new_year.total_seconds() / 86400, hours=1)
    make_event(title="Conference 2024", days=-800)
    make_event(title="Draft 2024", days=-790, status="draft")
    make_event(title="Archived 2024", days=-780, status="archived")
    make_event(title="Upcoming", days=10)
    assert catalogue.archive_years(db, now=clock()) == [(2025, 1), (2024, 2)]
    assert [e.title for e in catalogue.archive_year(db, year=2024, now=clock())] == [
        "Conference 2024",
        "Archived 2024",
    ]
    assert catalogue.archive_year(db, year=2023, now=clock()) == []
