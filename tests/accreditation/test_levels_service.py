"""The levels of accreditation without HTTP: the five a fresh install places (naming the training room's
courses), saves audited and checked, a course removed leaving its level. Both engines."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select

from portal.accreditation import service
from portal.accreditation.models import Level
from portal.audit import AuditEvent
from portal.errors import PortalError
from portal.training import service as training
from portal.training.models import Course


def _data(**values):
    base = {"name": "Group IPT practitioner", "slug": "group-ipt", "supervised_cases": 3, "supervision_hours": 12,
            "sign_off_required": True, "cpd_hours": 10, "duration_months": 36, "description": "Groups."}  # fmt: skip
    base.update(values)
    return service.LevelData(**base)


def test_a_fresh_install_places_the_five_levels_once_each_naming_its_course(db, clock):
    training.ensure_courses(db, now=clock())
    assert service.ensure_levels(db, now=clock()) == 5
    assert service.ensure_levels(db, now=clock()) == 0
    found = service.standards(db)
    assert [s.level.name for s in found] == [
        "IPT practitioner",
        "IPT-A practitioner",
        "IPC practitioner",
        "Supervisor",
        "Trainer",
    ]
    courses = {s.level.slug: s.course.slug if s.course else None for s in found}
    assert courses == {
        "ipt-practitioner": "ipt-practitioner",
        "ipt-a-practitioner": "ipt-a-practitioner",
        "ipc-practitioner": "ipc",
        "supervisor": "ipt-supervisor",
        "trainer": None,
    }
    assert all(s.level.duration_months == 36 for s in found)


def test_saving_a_level_keeps_its_id_and_audits_what_changed(db, clock, admin):
    level = service.save_level(db, level_id=None, data=_data(), actor=admin, now=clock())
    again = service.save_level(db, level_id=level.id, data=_data(cpd_hours=12), actor=admin, now=clock())
    assert again.id == level.id and again.cpd_hours == 12
    last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.action == "accreditation.level_update" and json.loads(last.details)["changed"] == [
        "cpd_hours"
    ]


def test_a_taken_short_name_is_refused(db, clock, admin):
    service.save_level(db, level_id=None, data=_data(), actor=admin, now=clock())
    with pytest.raises(PortalError) as caught:
        service.save_level(db, level_id=None, data=_data(name="Another"), actor=admin, now=clock())
    assert caught.value.code == "slug_taken"


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"slug": "Not a slug"}, "bad_slug", "slug"),
        ({"supervised_cases": -1}, "bad_number", "supervised_cases"),
        ({"duration_months": 0}, "bad_number", "duration_months"),
        ({"cpd_hours": 10_001}, "bad_number", "cpd_hours"),
        ({"course_id": 999}, "bad_course", "course_id"),
    ],
)
def test_a_bad_standard_is_refused_naming_its_field(db, clock, admin, values, code, field):
    with pytest.raises(PortalError) as caught:
        service.save_level(db, level_id=None, data=_data(**values), actor=admin, now=clock())
    assert caught.value.code == code and caught.value.details["field"] == field


def test_a_course_removed_leaves_its_level_with_no_required_training(db, clock):
    training.ensure_courses(db, now=clock())
    service.ensure_levels(db, now=clock())
    course = training.course_by_slug(db, "ipc", include_drafts=True)
    db.execute(delete(Course).where(Course.id == course.id))
    db.expire_all()
    level = db.scalar(select(Level).where(Level.slug == "ipc-practitioner"))
    assert level is not None and level.course_id is None
